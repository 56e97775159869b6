"""Figures over ``cases`` for a period: the aggregation the store runs, built by pure functions.

The router's reports, ``pakn report`` and the web intake's public scoreboard read the same
figures from the same pipeline, so a number on the scoreboard is the number in the report.
Everything is counted in the store: one ``$match`` on an index, then one ``$facet`` whose
groups add up the facts the router stored on each case when it wrote it
(``pakn.report_facts``: resolved when, handling time in working days, on time, returned,
reopened, the latest rating…), so the store does no per-case arithmetic and no case is
loaded into Python. Median and p90 of the handling days are computed in the store too, from
the days each group pushed.
"""

from __future__ import annotations

import calendar as gregorian
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pakn.report_facts import FACTS_VERSION, FLAGS, NONE, REPORT
from pakn.schema import Status
from pakn.scope import Scope
from pakn.store import Document, Store
from pakn.worktime import VIETNAM_TZ

Expression = Any
Pipeline = list[dict[str, Any]]

#: The longest period a report covers: ten years is an archive question, not a report.
MAX_PERIOD_DAYS = 3700
#: The Department's view: every agency.
EVERYONE = Scope()


# --- the period -------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """From the first to the last day inclusive, as days in the province (Asia/Ho_Chi_Minh)."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("the period ends before it starts")
        if self.days > MAX_PERIOD_DAYS:
            raise ValueError(f"a report covers at most {MAX_PERIOD_DAYS} days")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def bounds(self) -> tuple[datetime, datetime]:
        """[first midnight, midnight after the last day) in the province, as UTC."""
        return local_midnight(self.start), local_midnight(self.end + timedelta(days=1))

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls(date(year, month, 1), date(year, month, gregorian.monthrange(year, month)[1]))

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        first = 3 * (quarter - 1) + 1
        return cls(cls.month(year, first).start, cls.month(year, first + 2).end)

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31))

    @classmethod
    def week_of(cls, day: date) -> Period:
        monday = day - timedelta(days=day.weekday())
        return cls(monday, monday + timedelta(days=6))

    @classmethod
    def last_twelve_months(cls, today: date) -> Period:
        """The year up to and including ``today`` (the public scoreboard's window)."""
        try:
            start = today.replace(year=today.year - 1) + timedelta(days=1)
        except ValueError:  # 29 February
            start = date(today.year - 1, 3, 1)
        return cls(start, today)


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=VIETNAM_TZ).astimezone(UTC)


def local_date(moment: datetime) -> date:
    return moment.astimezone(VIETNAM_TZ).date()


def trend_buckets(period: Period) -> tuple[str, list[date]]:
    """The trend's step and the first day of each step: days up to about six weeks, weeks
    (from Monday) up to about half a year, months beyond. The first step starts on the
    period's first day, whatever weekday or date it is."""
    if period.days <= 45:
        return "day", [period.start + timedelta(days=i) for i in range(period.days)]
    starts = [period.start]
    if period.days <= 200:
        day = period.start + timedelta(days=7 - period.start.weekday())
        while day <= period.end:
            starts.append(day)
            day += timedelta(days=7)
        return "week", starts
    year, month = period.start.year, period.start.month
    while True:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        first = date(year, month, 1)
        if first > period.end:
            return "month", starts
        starts.append(first)


# --- what each figure counts ----------------------------------------------------------------

#: Every counted figure, as the stored fact that counts it (``pakn.report_facts``, 0 or 1 on
#: each case; ``received`` is every case). The report adds them up and a case list is the
#: cases with the fact set, so a list always adds up to its number.
FIGURES: dict[str, str | None] = {"received": None, **{name: name for name in FLAGS}}
#: The columns of a breakdown by agency or field.
ROW_FIGURES = (
    "received",
    "resolved",
    "on_time",
    "late",
    "open",
    "overdue",
    "escalated",
    "returned",
    "reopened",
    "published",
)
#: What a case list can be drawn for: a figure, within one breakdown's key (the key as
#: stored in the facts, ``none`` for a case without one).
DIMENSIONS: dict[str, str] = {
    "channel": "channel",
    "field": "field",
    "agency": "agency",
    "commune": "commune",
}


def _fact(name: str) -> str:
    return f"{REPORT}.{name}"


def percentile(sorted_values: Sequence[float], p: float) -> float | None:
    """The ``p`` quantile by linear interpolation between the closest ranks; None if empty."""
    if not sorted_values:
        return None
    rank = (len(sorted_values) - 1) * p
    low = int(rank)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


def percentile_expression(values: Expression, p: float) -> Expression:
    """The ``p`` quantile of a sorted array by linear interpolation between the closest ranks
    (as :func:`percentile`); null for an empty array."""
    at = {"$arrayElemAt": ["$$sorted", {"$toInt": "$$low"}]}
    above = {"$arrayElemAt": ["$$sorted", {"$toInt": "$$high"}]}
    return {
        "$let": {
            "vars": {"sorted": values, "n": {"$size": values}},
            "in": {
                "$cond": [
                    {"$eq": ["$$n", 0]},
                    None,
                    {
                        "$let": {
                            "vars": {"rank": {"$multiply": [{"$subtract": ["$$n", 1]}, p]}},
                            "in": {
                                "$let": {
                                    "vars": {
                                        "low": {"$floor": "$$rank"},
                                        "high": {"$ceil": "$$rank"},
                                    },
                                    "in": {
                                        "$add": [
                                            at,
                                            {
                                                "$multiply": [
                                                    {"$subtract": [above, at]},
                                                    {"$subtract": ["$$rank", "$$low"]},
                                                ]
                                            },
                                        ]
                                    },
                                }
                            },
                        }
                    },
                ]
            },
        }
    }


def _quantiles(days: Expression) -> Expression:
    """Count, median and 90th percentile of the handling days pushed by a $group (the
    unresolved cases pushed null, dropped here)."""
    return {
        "$let": {
            "vars": {
                "sorted": {
                    "$sortArray": {
                        "input": {
                            "$filter": {"input": days, "as": "d", "cond": {"$ne": ["$$d", None]}}
                        },
                        "sortBy": 1,
                    }
                }
            },
            "in": {
                "n": {"$size": "$$sorted"},
                "median": percentile_expression("$$sorted", 0.5),
                "p90": percentile_expression("$$sorted", 0.9),
            },
        }
    }


def _sums(names: Sequence[str]) -> dict[str, Expression]:
    return {
        name: {"$sum": 1} if FIGURES[name] is None else {"$sum": f"${_fact(name)}"}
        for name in names
    }


def base_filter(
    period: Period, *, scope: Scope = EVERYONE, published_only: bool = False
) -> dict[str, Any]:
    """The cases received in the period that the reader may see (served by an index)."""
    start, end = period.bounds()
    query: dict[str, Any] = {"received_at": {"$gte": start, "$lt": end}}
    if scope.agency is not None:
        # Scope.query() as stored in the facts: one range of the index report_agencies
        # (the embedded store answers an $or on lead and co-agencies by reading every case).
        query[_fact("agencies")] = scope.agency
    if published_only:
        query["status"] = Status.PUBLISHED.value
    return query


def _count_by(fact: str) -> dict[str, Any]:
    return {"$group": {"_id": f"${_fact(fact)}", "received": {"$sum": 1}}}


#: After a $group that pushed the handling days: their count, median and p90, in the store
#: (a province's year is a million numbers, more than one document may hold).
_HANDLING: Pipeline = [{"$addFields": {"handling": _quantiles("$days")}}, {"$project": {"days": 0}}]


def report_pipeline(
    period: Period, *, scope: Scope = EVERYONE, published_only: bool = False
) -> Pipeline:
    """One pass: every figure of the report, every breakdown, the trend, the ratings and the
    handling days, as one document of facets; each facet only groups stored facts."""
    days = {"$push": f"${_fact('days')}"}
    return [
        {"$match": base_filter(period, scope=scope, published_only=published_only)},
        {
            "$facet": {
                "totals": [
                    {
                        "$group": {
                            "_id": None,
                            **_sums(list(FIGURES)),
                            "rating_sum": {"$sum": f"${_fact('rating')}"},
                            "days": days,
                        }
                    },
                    *_HANDLING,
                ],
                "by_field": [
                    {"$group": {"_id": f"${_fact('field')}", **_sums(ROW_FIGURES), "days": days}},
                    *_HANDLING,
                ],
                "by_agency": [
                    {"$group": {"_id": f"${_fact('agency')}", **_sums(ROW_FIGURES), "days": days}},
                    *_HANDLING,
                ],
                "by_channel": [_count_by("channel")],
                "by_commune": [_count_by("commune")],
                "trend": [
                    {
                        "$group": {
                            "_id": f"${_fact('day')}",
                            **_sums(("received", "resolved", "on_time")),
                        }
                    }
                ],
                "ratings": [{"$group": {"_id": f"${_fact('rating')}", "n": {"$sum": 1}}}],
                # Cases stored without current facts (written before them, not yet
                # backfilled) are counted as received only: the page says how many.
                "versions": [{"$group": {"_id": f"${_fact('v')}", "n": {"$sum": 1}}}],
            }
        },
    ]


def case_list_pipeline(
    period: Period,
    figure: str,
    *,
    scope: Scope = EVERYONE,
    dimension: str | None = None,
    key: str | None = None,
    limit: int | None = None,
) -> Pipeline:
    """The cases behind one number: ``figure`` (a FIGURES name) within ``dimension`` = ``key``
    when given, oldest first, without personal data (only what the exports show)."""
    if figure not in FIGURES:
        raise ValueError(f"unknown figure {figure!r}")
    query = base_filter(period, scope=scope)
    flag = FIGURES[figure]
    if flag is not None:
        query[_fact(flag)] = 1
    if dimension is not None:
        if dimension not in DIMENSIONS:
            raise ValueError(f"unknown breakdown {dimension!r}")
        query[_fact(DIMENSIONS[dimension])] = key or NONE
    pipeline: Pipeline = [
        {"$match": query},
        {"$sort": {"received_at": 1, "tracking_code": 1}},
        {
            "$project": {
                "_id": 0,
                **{name: 1 for name in CASE_LIST_FIELDS if not name.startswith("rep_")},
                **{name: f"${_fact(fact)}" for name, fact in _LISTED_FACTS.items()},
            }
        },
    ]
    if limit is not None:
        pipeline.append({"$limit": limit})
    return pipeline


#: What a case list shows: no name, phone, e-mail, address, content or answer (personal data
#: law 91/2025: an export is a copy that leaves the system).
CASE_LIST_FIELDS = (
    "tracking_code",
    "received_at",
    "channel",
    "field",
    "category",
    "lead_agency",
    "location.commune",
    "status",
    "due_at",
    "overdue",
    "rep_resolved_at",
    "rep_days",
    "rep_on_time",
    "rep_rating",
)
#: The case list's columns that are facts, and the fact each shows.
_LISTED_FACTS = {
    "rep_resolved_at": "resolved_at",
    "rep_days": "days",
    "rep_on_time": "on_time",
    "rep_rating": "rating",
}


# --- the figures, as read back ---------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Handling(_Model):
    """Handling time of the resolved cases, in working days."""

    resolved: int = 0
    median: float | None = None
    p90: float | None = None


class Row(_Model):
    """One line of a breakdown (an agency, a field)."""

    key: str
    received: int = 0
    resolved: int = 0
    on_time: int = 0
    late: int = 0
    open: int = 0
    overdue: int = 0
    escalated: int = 0
    returned: int = 0
    reopened: int = 0
    published: int = 0
    handling: Handling = Field(default_factory=Handling)

    @property
    def on_time_rate(self) -> float | None:
        return rate(self.on_time, self.resolved)


class TrendPoint(_Model):
    start: date
    received: int = 0
    resolved: int = 0
    on_time: int = 0


class Ratings(_Model):
    count: int = 0
    average: float | None = None
    solved: int = 0
    by_stars: dict[int, int] = Field(default_factory=dict)


class Report(_Model):
    """Every figure of one period, for everyone or one agency."""

    period: Period
    agency: str | None = None
    published_only: bool = False
    totals: dict[str, int]
    by_channel: dict[str, int]
    by_field: list[Row]
    by_agency: list[Row]
    by_commune: dict[str, int]
    trend_step: str
    trend: list[TrendPoint]
    ratings: Ratings
    handling: Handling
    #: Cases of the period stored without current report facts (counted as received only,
    #: until the router's backfill writes them).
    without_facts: int = 0
    #: When the figures were counted, if earlier than asked (a kept report, REPORT_CACHE).
    counted_at: datetime | None = None

    @property
    def on_time_rate(self) -> float | None:
        return rate(self.totals["on_time"], self.totals["resolved"])

    @property
    def published_share(self) -> float | None:
        return rate(self.totals["published"], self.totals["resolved"])

    def as_json(self) -> dict[str, Any]:
        """``pakn report --format json`` (DESIGN.md §3: its keys first, then the rest)."""
        totals = self.totals
        return {
            "from": self.period.start.isoformat(),
            "to": self.period.end.isoformat(),
            "received": totals["received"],
            "by_channel": dict(self.by_channel),
            "by_field": {row.key: row.received for row in self.by_field},
            "by_agency": [
                {
                    "agency": row.key,
                    "received": row.received,
                    "resolved": row.resolved,
                    "on_time": row.on_time,
                    "late": row.late,
                    "open": row.open,
                    "overdue": row.overdue,
                    "escalated": row.escalated,
                    "returned": row.returned,
                    "reopened": row.reopened,
                    "published": row.published,
                    "on_time_rate": row.on_time_rate,
                    "median_days": row.handling.median,
                    "p90_days": row.handling.p90,
                }
                for row in self.by_agency
            ],
            "on_time_rate": self.on_time_rate,
            "agency": self.agency,
            **{name: totals[name] for name in FIGURES if name not in ("received", "rated")},
            "published_share": self.published_share,
            "handling_days": {"median": self.handling.median, "p90": self.handling.p90},
            "ratings": {
                "count": self.ratings.count,
                "average": self.ratings.average,
                "solved": self.ratings.solved,
                "by_stars": {str(k): v for k, v in sorted(self.ratings.by_stars.items())},
            },
            "by_commune": dict(self.by_commune),
            "without_facts": self.without_facts,
            # Set when the figures are a kept report's, counted then (not now).
            "counted_at": None if self.counted_at is None else self.counted_at.isoformat(),
            "trend": {
                "step": self.trend_step,
                "points": [
                    {
                        "start": p.start.isoformat(),
                        "received": p.received,
                        "resolved": p.resolved,
                        "on_time": p.on_time,
                    }
                    for p in self.trend
                ],
            },
        }


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _rows(groups: Sequence[Document]) -> list[Row]:
    rows = []
    for group in groups:
        rows.append(
            Row(
                key=group["_id"],
                **{name: group[name] for name in ROW_FIGURES},
                handling=_handling_of(group.get("handling")),
            )
        )
    return sorted(rows, key=lambda row: (-row.received, row.key))


def _handling_of(doc: Mapping[str, Any] | None) -> Handling:
    if not doc or not doc["n"]:
        return Handling()
    return Handling(resolved=doc["n"], median=doc["median"], p90=doc["p90"])


def _under_none(groups: Sequence[Document]) -> list[Document]:
    """Cases stored without facts have no key: counted under ``none`` (with no handling
    time, so the ``none`` group's handling stays that of the cases with facts)."""
    keyed = [dict(g) for g in groups if g["_id"] is not None]
    for loose in (g for g in groups if g["_id"] is None):
        into = next((g for g in keyed if g["_id"] == NONE), None)
        if into is None:
            keyed.append(dict(loose) | {"_id": NONE})
            continue
        for name, value in loose.items():
            if name in FIGURES:
                into[name] = into.get(name, 0) + value
    return keyed


def _counts(groups: Sequence[Document]) -> dict[str, int]:
    ordered = sorted(_under_none(groups), key=lambda g: (-g["received"], g["_id"]))
    return {g["_id"]: g["received"] for g in ordered}


def read_report(
    facets: Mapping[str, Any],
    period: Period,
    *,
    scope: Scope = EVERYONE,
    published_only: bool = False,
) -> Report:
    """The Report from the pipeline's one document (pure)."""
    totals_doc = facets["totals"][0] if facets["totals"] else {}
    totals = {name: int(totals_doc.get(name, 0)) for name in FIGURES}
    step, starts = trend_buckets(period)
    by_step: dict[date, dict[str, int]] = {day: {} for day in starts}
    for doc in facets["trend"]:
        if not isinstance(doc["_id"], str):
            continue
        # The step a day falls in: the last step starting on or before it.
        first = starts[bisect_right(starts, date.fromisoformat(doc["_id"])) - 1]
        for name in ("received", "resolved", "on_time"):
            by_step[first][name] = by_step[first].get(name, 0) + int(doc[name])
    trend = [TrendPoint(start=day, **counts) for day, counts in by_step.items()]
    stars = {int(doc["_id"]): doc["n"] for doc in facets["ratings"] if doc["_id"] is not None}
    current = sum(doc["n"] for doc in facets["versions"] if doc["_id"] == FACTS_VERSION)
    ratings = Ratings(
        count=totals["rated"],
        average=(totals_doc.get("rating_sum", 0) / totals["rated"]) if totals["rated"] else None,
        solved=totals["solved"],
        by_stars=stars,
    )
    return Report(
        period=period,
        agency=scope.agency,
        published_only=published_only,
        totals=totals,
        by_channel=_counts(facets["by_channel"]),
        by_field=_rows(_under_none(facets["by_field"])),
        by_agency=_rows([group for group in facets["by_agency"] if group["_id"] is not None]),
        by_commune=_counts(facets["by_commune"]),
        trend_step=step,
        trend=trend,
        ratings=ratings,
        handling=_handling_of(totals_doc.get("handling")),
        without_facts=totals["received"] - current,
    )


# --- running them ------------------------------------------------------------------------


async def _facets(
    store: Store, period: Period, *, scope: Scope, published_only: bool
) -> dict[str, Any]:
    pipeline = report_pipeline(period, scope=scope, published_only=published_only)
    cursor = await store.cases.aggregate(pipeline, allowDiskUse=True)
    (facets,) = await cursor.to_list()
    return dict(facets)


async def build_report(
    store: Store, period: Period, *, scope: Scope = EVERYONE, published_only: bool = False
) -> Report:
    """Every figure of ``period`` in one aggregation over ``cases``."""
    facets = await _facets(store, period, scope=scope, published_only=published_only)
    return read_report(facets, period, scope=scope, published_only=published_only)


# --- reports kept for a while ------------------------------------------------------------------

#: Where the Department's reports over long periods are kept (one document each: the
#: pipeline's facets and when they were counted).
REPORT_CACHE = "report_cache"
#: Periods longer than this, for every agency, are kept: on the embedded store such a report
#: reads every case of the period (a province's year: a million) and takes minutes, while
#: an agency's report or a month's reads few enough to be counted when asked.
KEPT_AFTER_DAYS = 45


def kept(period: Period, scope: Scope) -> bool:
    """Whether this report is served from REPORT_CACHE (pure)."""
    return scope.agency is None and period.days > KEPT_AFTER_DAYS


def _cache_key(period: Period, published_only: bool) -> str:
    audience = "published" if published_only else "all"
    return f"{period.start.isoformat()}/{period.end.isoformat()}/{audience}"


async def count_and_keep(
    store: Store, period: Period, *, now: datetime, published_only: bool = False
) -> Report:
    """Count the Department's report for ``period`` now and keep it (the router's refresher)."""
    facets = await _facets(store, period, scope=EVERYONE, published_only=published_only)
    key = _cache_key(period, published_only)
    await store.db[REPORT_CACHE].replace_one(
        {"_id": key},
        {"_id": key, "v": FACTS_VERSION, "counted_at": now, "facets": facets},
        upsert=True,
    )
    return read_report(facets, period, published_only=published_only)


async def report_for(
    store: Store,
    period: Period,
    *,
    now: datetime,
    max_age: timedelta,
    scope: Scope = EVERYONE,
    published_only: bool = False,
) -> Report:
    """The report people asked for: counted now, or for a long Department-wide period
    (``kept``) the one counted at most ``max_age`` ago, kept fresh by the router; with
    ``counted_at`` when it was not counted now."""
    if not kept(period, scope):
        return await build_report(store, period, scope=scope, published_only=published_only)
    doc = await store.db[REPORT_CACHE].find_one({"_id": _cache_key(period, published_only)})
    if doc is not None and doc.get("v") == FACTS_VERSION and now - doc["counted_at"] <= max_age:
        report = read_report(doc["facets"], period, published_only=published_only)
        return report.model_copy(update={"counted_at": doc["counted_at"]})
    return await count_and_keep(store, period, now=now, published_only=published_only)


async def case_list(
    store: Store,
    period: Period,
    figure: str,
    *,
    scope: Scope = EVERYONE,
    dimension: str | None = None,
    key: str | None = None,
) -> list[Document]:
    """The cases behind one number, as flat rows of CASE_LIST_FIELDS."""
    pipeline = case_list_pipeline(period, figure, scope=scope, dimension=dimension, key=key)
    cursor = await store.cases.aggregate(pipeline, allowDiskUse=True)
    rows = []
    async for doc in cursor:
        commune = (doc.get("location") or {}).get("commune")
        flat = {name: doc.get(name) for name in CASE_LIST_FIELDS if "." not in name}
        flat["location.commune"] = commune
        flat["rep_on_time"] = None if flat["rep_on_time"] is None else bool(flat["rep_on_time"])
        rows.append(flat)
    return rows
