"""Figures over ``cases`` for a period: the aggregation the store runs, built by pure functions.

The router's reports, ``pakn report`` and the web intake's public scoreboard read the same
figures from the same pipeline, so a number on the scoreboard is the number in the report.
Everything is counted in the store (one ``$match`` on an index, then ``$facet``); handling
time in working days too: the working-time calendar is handed to the pipeline as a table of
cumulative office time per day (:class:`WorkingClock`), so no case is loaded into Python.

What the figures read from a case (DESIGN.md §4): ``received_at``, ``status``, ``channel``,
``field``, ``lead_agency``, ``location.commune``, ``due_at``, ``overdue``, ``escalation``,
``sla.paused``, ``history`` (the actions ``resolved``, ``returned``, ``reopened``: the event
names of §6, as the agency workspace records them), ``result.published_at`` and the
citizen's ``citizen_feedback`` (entries with ``rating`` 1–5 or none, and ``solved``; the
latest given counts).
"""

from __future__ import annotations

import calendar as gregorian
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pakn.schema import OPEN_STATUSES, Status, status_values
from pakn.scope import Scope
from pakn.store import Document, Store
from pakn.worktime import VIETNAM_TZ, WorkCalendar

Expression = Any
Pipeline = list[dict[str, Any]]

#: The longest period a report covers: ten years is an archive question, not a report.
MAX_PERIOD_DAYS = 3700
#: Statuses in which an agency's answer is done (approved; perhaps published since).
RESOLVED_STATUSES = (Status.RESOLVED.value, Status.PUBLISHED.value)
#: Statuses in which the case still waits for someone (intake, an operator, an agency).
OPEN = status_values(OPEN_STATUSES)
#: Key for cases without a field, agency, commune or channel in the breakdowns (as the
#: routing key says ``none`` for a case without an agency).
NONE = "none"
_DAY_MS = 86_400_000
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


# --- working time inside the store -------------------------------------------------------


@dataclass(frozen=True)
class WorkingClock:
    """The working-time calendar as data a pipeline can index: for each day from ``origin``,
    the office time before that day's midnight and whether it is a working day.

    ``W(t)`` = office time from the origin's midnight to ``t``; the working time between two
    moments is ``W(b) - W(a)``, exactly what :meth:`WorkCalendar.working_time_between` counts.
    """

    origin: date
    offset_ms: int
    cumulative_ms: tuple[int, ...]
    working: tuple[int, ...]
    periods_ms: tuple[tuple[int, int], ...]
    day_ms: int

    @classmethod
    def build(cls, calendar: WorkCalendar, first: date, last: date) -> WorkingClock:
        hours = calendar.hours
        offsets = {
            hours.tz.utcoffset(datetime.combine(first + timedelta(days=i), time(12)))
            for i in range((last - first).days + 1)
        }
        if len(offsets) != 1:
            raise ValueError("the province's UTC offset changes inside the period")
        (offset,) = offsets
        assert offset is not None
        periods = tuple((_ms_of_day(start), _ms_of_day(end)) for start, end in hours.periods)
        day_ms = sum(end - start for start, end in periods)
        cumulative, working, total = [], [], 0
        day = first
        while day <= last:
            cumulative.append(total)
            is_working = calendar.is_working_day(day)
            working.append(int(is_working))
            total += day_ms if is_working else 0
            day += timedelta(days=1)
        return cls(
            origin=first,
            offset_ms=int(offset.total_seconds() * 1000),
            cumulative_ms=tuple(cumulative),
            working=tuple(working),
            periods_ms=periods,
            day_ms=day_ms,
        )

    @property
    def _origin_epoch_ms(self) -> int:
        return int(datetime.combine(self.origin, time(0), tzinfo=UTC).timestamp() * 1000)

    def elapsed(self, moment: Expression) -> Expression:
        """Aggregation expression: office milliseconds from the origin's midnight to ``moment``
        (a date expression); moments outside the table count as its first or last instant.

        The tables go in as ``$literal``: a plain array would be parsed as an expression,
        element by element, for every case (the embedded store then takes 4× as long)."""
        days = len(self.cumulative_ms)
        since_origin = {
            "$subtract": [{"$add": [{"$toLong": moment}, self.offset_ms]}, self._origin_epoch_ms]
        }
        clamped = {"$min": [{"$max": [since_origin, 0]}, days * _DAY_MS - 1]}
        within_day: Expression = {
            "$add": [
                {"$min": [{"$max": [{"$subtract": ["$$tod", start]}, 0]}, end - start]}
                for start, end in self.periods_ms
            ]
        }
        return {
            "$let": {
                "vars": {"x": clamped},
                "in": {
                    "$let": {
                        "vars": {
                            "i": {"$toInt": {"$floor": {"$divide": ["$$x", _DAY_MS]}}},
                            "tod": {"$mod": ["$$x", _DAY_MS]},
                        },
                        "in": {
                            "$add": [
                                {"$arrayElemAt": [{"$literal": list(self.cumulative_ms)}, "$$i"]},
                                {
                                    "$multiply": [
                                        {"$arrayElemAt": [{"$literal": list(self.working)}, "$$i"]},
                                        within_day,
                                    ]
                                },
                            ]
                        },
                    }
                },
            }
        }

    def between(self, a: Expression, b: Expression) -> Expression:
        return {"$subtract": [self.elapsed(b), self.elapsed(a)]}


def _ms_of_day(value: time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * 1000


# --- what each figure counts ----------------------------------------------------------------


def _is_null(value: Expression) -> Expression:
    return {"$eq": [{"$ifNull": [value, None]}, None]}


def _has_action(action: str) -> Expression:
    return {
        "$anyElementTrue": [
            {
                "$map": {
                    "input": {"$ifNull": ["$history", []]},
                    "as": "entry",
                    "in": {"$eq": ["$$entry.action", action]},
                }
            }
        ]
    }


def _last_action_at(action: str) -> Expression:
    return {
        "$max": {
            "$map": {
                "input": {
                    "$filter": {
                        "input": {"$ifNull": ["$history", []]},
                        "as": "entry",
                        "cond": {"$eq": ["$$entry.action", action]},
                    }
                },
                "as": "entry",
                "in": "$$entry.at",
            }
        }
    }


def _latest_feedback(key: str) -> Expression:
    """The latest value of ``key`` the citizen gave (``citizen_feedback`` entries in order; a
    "not solved" may come without stars, so the latest rating is the latest one given)."""
    given = {
        "$filter": {
            "input": {"$ifNull": ["$citizen_feedback", []]},
            "as": "said",
            "cond": {"$ne": [{"$ifNull": [f"$$said.{key}", None]}, None]},
        }
    }
    return {
        "$let": {
            "vars": {"latest": {"$arrayElemAt": [given, -1]}},
            "in": {"$ifNull": [f"$$latest.{key}", None]},
        }
    }


RESOLVED_AT = "rep_resolved_at"
HANDLING_DAYS = "rep_days"
ON_TIME = "rep_on_time"
RATING = "rep_rating"
SOLVED = "rep_solved"


def derived_stages(clock: WorkingClock) -> Pipeline:
    """What the figures need beyond the stored case: when it was resolved, its handling time
    in working days (the needs_info pauses left out, as for its deadline), whether it was on
    time, and the citizen's latest rating."""
    resolved_at = {
        "$ifNull": [
            _last_action_at(Status.RESOLVED.value),
            {"$ifNull": ["$result.published_at", "$updated_at"]},
        ]
    }
    paused = {
        "$reduce": {
            "input": {"$ifNull": ["$sla.paused", []]},
            "initialValue": 0,
            "in": {
                "$add": [
                    "$$value",
                    clock.between("$$this.from", {"$ifNull": ["$$this.to", f"${RESOLVED_AT}"]}),
                ]
            },
        }
    }
    resolved = {"$ne": [f"${RESOLVED_AT}", None]}
    return [
        {
            "$addFields": {
                RESOLVED_AT: {
                    "$cond": [{"$in": ["$status", list(RESOLVED_STATUSES)]}, resolved_at, None]
                },
                RATING: _latest_feedback("rating"),
                SOLVED: _latest_feedback("solved"),
            }
        },
        {
            "$addFields": {
                HANDLING_DAYS: {
                    "$cond": [
                        resolved,
                        {
                            "$divide": [
                                {
                                    "$max": [
                                        0,
                                        {
                                            "$subtract": [
                                                clock.between("$received_at", f"${RESOLVED_AT}"),
                                                paused,
                                            ]
                                        },
                                    ]
                                },
                                clock.day_ms,
                            ]
                        },
                        None,
                    ]
                },
                ON_TIME: {
                    "$and": [
                        resolved,
                        {
                            "$or": [
                                _is_null("$due_at"),
                                {"$lte": [f"${RESOLVED_AT}", "$due_at"]},
                            ]
                        },
                    ]
                },
            }
        },
    ]


_RESOLVED: Expression = {"$ne": [f"${RESOLVED_AT}", None]}
_OPEN: Expression = {"$in": ["$status", OPEN]}

#: Every counted figure, as a condition on one case (after ``derived_stages``). The report
#: counts them and a case list is the cases that meet one, so a list always adds up to its
#: number.
FIGURES: dict[str, Expression] = {
    "received": True,
    "resolved": _RESOLVED,
    "on_time": f"${ON_TIME}",
    "late": {"$and": [_RESOLVED, {"$not": [f"${ON_TIME}"]}]},
    "open": _OPEN,
    "overdue": {"$and": [_OPEN, {"$eq": [{"$ifNull": ["$overdue", False]}, True]}]},
    "escalated": {"$not": [_is_null("$escalation")]},
    "returned": _has_action("returned"),
    "reopened": _has_action("reopened"),
    "published": {"$eq": ["$status", Status.PUBLISHED.value]},
    "redirected": {"$eq": ["$status", Status.REDIRECTED.value]},
    "duplicate": {"$eq": ["$status", Status.DUPLICATE.value]},
    "rated": {"$not": [_is_null(f"${RATING}")]},
    "solved": {"$eq": [f"${SOLVED}", True]},
}
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
#: What a case list can be drawn for: a figure, within one breakdown's key.
DIMENSIONS: dict[str, str] = {
    "channel": "$channel",
    "field": "$field",
    "agency": "$lead_agency",
    "commune": "$location.commune",
}


def _key(path: str) -> Expression:
    return {"$ifNull": [path, NONE]}


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


def percentile(sorted_values: Sequence[float], p: float) -> float | None:
    """The same quantile in Python (what the pipeline's expression computes)."""
    if not sorted_values:
        return None
    rank = (len(sorted_values) - 1) * p
    low = int(rank)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


def _flag(name: str) -> str:
    return f"rep_is_{name}"


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


def compact_stage() -> dict[str, Any]:
    """After ``derived_stages``: each case as the few numbers the report adds up, every figure
    decided once as 0 or 1, so the facets only sum fields (and copy small documents)."""
    flags = {
        _flag(name): {"$cond": [condition, 1, 0]}
        for name, condition in FIGURES.items()
        if condition is not True
    }
    return {
        "$project": {
            "_id": 0,
            "received_at": 1,
            "channel": _key("$channel"),
            "field": _key("$field"),
            "agency": {"$ifNull": ["$lead_agency", None]},
            "commune": _key("$location.commune"),
            "days": {"$ifNull": [f"${HANDLING_DAYS}", None]},
            "rating": {"$ifNull": [f"${RATING}", None]},
            **flags,
        }
    }


def _sums(names: Sequence[str]) -> dict[str, Expression]:
    return {
        name: {"$sum": 1} if FIGURES[name] is True else {"$sum": f"${_flag(name)}"}
        for name in names
    }


def _rows_with_quantiles(key: str) -> Pipeline:
    return [
        {"$group": {"_id": key, **_sums(ROW_FIGURES), "days": {"$push": "$days"}}},
        {"$addFields": {"handling": _quantiles("$days")}},
        {"$project": {"days": 0}},
    ]


def base_filter(
    period: Period, *, scope: Scope = EVERYONE, published_only: bool = False
) -> dict[str, Any]:
    """The cases received in the period that the reader may see (served by an index)."""
    start, end = period.bounds()
    parts: list[dict[str, Any]] = [{"received_at": {"$gte": start, "$lt": end}}]
    if scope.agency is not None:
        parts.append(scope.query())
    if published_only:
        parts.append({"status": Status.PUBLISHED.value})
    return parts[0] if len(parts) == 1 else {"$and": parts}


def clock_for(calendar: WorkCalendar, period: Period, now: datetime) -> WorkingClock:
    """A table long enough for every case of the period, resolved up to ``now``."""
    last = max(period.end, local_date(now)) + timedelta(days=1)
    return WorkingClock.build(calendar, period.start, last)


def report_pipeline(
    period: Period,
    clock: WorkingClock,
    *,
    scope: Scope = EVERYONE,
    published_only: bool = False,
) -> Pipeline:
    """One pass: every figure of the report, every breakdown, the trend, the ratings and the
    handling-time quantiles, as one document of facets."""
    _, starts = trend_buckets(period)
    boundaries = [local_midnight(day) for day in starts] + [period.bounds()[1]]
    return [
        {"$match": base_filter(period, scope=scope, published_only=published_only)},
        *derived_stages(clock),
        compact_stage(),
        {
            "$facet": {
                "totals": [
                    {
                        "$group": {
                            "_id": None,
                            **_sums(list(FIGURES)),
                            "rating_sum": {"$sum": {"$ifNull": ["$rating", 0]}},
                            "days": {"$push": "$days"},
                        }
                    },
                    {"$addFields": {"handling": _quantiles("$days")}},
                    {"$project": {"days": 0}},
                ],
                "by_channel": [{"$group": {"_id": "$channel", "received": {"$sum": 1}}}],
                "by_field": _rows_with_quantiles("$field"),
                "by_agency": [
                    {"$match": {"agency": {"$ne": None}}},
                    *_rows_with_quantiles("$agency"),
                ],
                "by_commune": [{"$group": {"_id": "$commune", "received": {"$sum": 1}}}],
                "trend": [
                    {
                        "$bucket": {
                            "groupBy": "$received_at",
                            "boundaries": boundaries,
                            "default": NONE,
                            "output": _sums(("received", "resolved", "on_time")),
                        }
                    }
                ],
                "ratings": [
                    {"$match": {"rating": {"$ne": None}}},
                    {"$group": {"_id": "$rating", "n": {"$sum": 1}}},
                ],
            }
        },
    ]


def case_list_pipeline(
    period: Period,
    clock: WorkingClock,
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
    conditions: list[Expression] = [] if FIGURES[figure] is True else [FIGURES[figure]]
    if dimension is not None:
        if dimension not in DIMENSIONS:
            raise ValueError(f"unknown breakdown {dimension!r}")
        conditions.append({"$eq": [_key(DIMENSIONS[dimension]), key or NONE]})
    pipeline: Pipeline = [{"$match": base_filter(period, scope=scope)}, *derived_stages(clock)]
    if conditions:
        pipeline.append({"$match": {"$expr": {"$and": conditions}}})
    pipeline += [
        {"$sort": {"received_at": 1, "tracking_code": 1}},
        {"$project": dict.fromkeys(CASE_LIST_FIELDS, 1) | {"_id": 0}},
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
    RESOLVED_AT,
    HANDLING_DAYS,
    ON_TIME,
    RATING,
)


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


def _counts(groups: Sequence[Document]) -> dict[str, int]:
    ordered = sorted(groups, key=lambda g: (-g["received"], g["_id"]))
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
    counted = {
        local_date(doc["_id"]): doc for doc in facets["trend"] if isinstance(doc["_id"], datetime)
    }
    trend = [
        TrendPoint(
            start=day,
            received=counted.get(day, {}).get("received", 0),
            resolved=counted.get(day, {}).get("resolved", 0),
            on_time=counted.get(day, {}).get("on_time", 0),
        )
        for day in starts
    ]
    stars = {int(doc["_id"]): doc["n"] for doc in facets["ratings"]}
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
        by_field=_rows(facets["by_field"]),
        by_agency=_rows(facets["by_agency"]),
        by_commune=_counts(facets["by_commune"]),
        trend_step=step,
        trend=trend,
        ratings=ratings,
        handling=_handling_of(totals_doc.get("handling")),
    )


# --- running them ------------------------------------------------------------------------


async def build_report(
    store: Store,
    calendar: WorkCalendar,
    period: Period,
    *,
    now: datetime,
    scope: Scope = EVERYONE,
    published_only: bool = False,
) -> Report:
    """Every figure of ``period`` in one aggregation over ``cases``."""
    clock = clock_for(calendar, period, now)
    pipeline = report_pipeline(period, clock, scope=scope, published_only=published_only)
    cursor = await store.cases.aggregate(pipeline, allowDiskUse=True)
    (facets,) = await cursor.to_list()
    return read_report(facets, period, scope=scope, published_only=published_only)


async def case_list(
    store: Store,
    calendar: WorkCalendar,
    period: Period,
    figure: str,
    *,
    now: datetime,
    scope: Scope = EVERYONE,
    dimension: str | None = None,
    key: str | None = None,
) -> list[Document]:
    """The cases behind one number, as flat rows of CASE_LIST_FIELDS."""
    clock = clock_for(calendar, period, now)
    pipeline = case_list_pipeline(period, clock, figure, scope=scope, dimension=dimension, key=key)
    cursor = await store.cases.aggregate(pipeline, allowDiskUse=True)
    rows = []
    async for doc in cursor:
        commune = (doc.get("location") or {}).get("commune")
        flat = {name: doc.get(name) for name in CASE_LIST_FIELDS if "." not in name}
        flat["location.commune"] = commune
        rows.append(flat)
    return rows
