"""What the monitor asks the store: search, the triage queue, deadlines, ping-pong, counts."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import phonenumbers
from pymongo import ASCENDING, DESCENDING

from pakn.ids import InvalidTrackingCode, parse_tracking_code
from pakn.schema import RUNNING_STATUSES, Status, status_values
from pakn.scope import Scope as Scope  # shared with the reports: one rule for who sees what
from pakn.store import Store
from pakn.text import query_terms
from pakn.worktime import VIETNAM_TZ

#: Statuses whose deadline is running at an agency.
RUNNING = status_values(RUNNING_STATUSES)
#: Left out of lists: what only the case page needs, and what nobody reads.
LIST_PROJECTION = {
    "search_terms": 0,
    "outbox": 0,
    "event_ids": 0,
    "fingerprint": 0,
    "history": 0,
    "followups": 0,
    "public_content": 0,
    "consent": 0,
}
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
_PHONE_LIKE = re.compile(r"^\+?[0-9 .()\-]{8,20}$")


#: Items on one page of a monitor list; lists are paged, never cut off.
PAGE_SIZE = 20


@dataclass(frozen=True)
class PageRequest:
    """Which page of a list (1-based) and how long pages are."""

    number: int = 1
    size: int = PAGE_SIZE

    @classmethod
    def parse(cls, value: str | None, size: int = PAGE_SIZE) -> PageRequest:
        try:
            number = int(value) if value else 1
        except ValueError:
            number = 1
        return cls(max(1, min(number, 10_000)), size)

    @property
    def skip(self) -> int:
        return (self.number - 1) * self.size

    @property
    def fetch(self) -> int:
        # One more than shown: whether there is a next page, without counting them all.
        return self.size + 1


@dataclass(frozen=True)
class Paged:
    """One page of a list, and whether others come before and after it."""

    items: list[dict[str, Any]]
    number: int
    has_next: bool

    @classmethod
    def of(cls, fetched: list[dict[str, Any]], page: PageRequest) -> Paged:
        return cls(fetched[: page.size], page.number, len(fetched) > page.size)

    @property
    def has_previous(self) -> bool:
        return self.number > 1


class InvalidQuery(ValueError):
    """A filter the monitor does not know (an unknown status)."""


def _and(*parts: Mapping[str, Any]) -> dict[str, Any]:
    present = [dict(p) for p in parts if p]
    if not present:
        return {}
    return present[0] if len(present) == 1 else {"$and": present}


def phone_keys(text: str) -> list[str]:
    """How a phone number may be stored: E.164 as intake normalises it (``+84905123456``) and
    the national digits a channel may pass on as dialled (``0905123456``). Empty if not one."""
    if not _PHONE_LIKE.match(text.strip()):
        return []
    try:
        number = phonenumbers.parse(text, "VN")
    except phonenumbers.NumberParseException:
        return []
    if not phonenumbers.is_possible_number(number):
        return []
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return sorted({e164, re.sub(r"\D", "", national)})


def text_clause(text: str) -> dict[str, Any]:
    """What an operator typed: a tracking code (spaces or not), a phone, an e-mail or words.

    A string of digits may be a code and a phone number at once (both are 10 digits): either
    matches. Words are matched accent-insensitively, all of them, anywhere in the case.
    """
    text = text.strip()
    alternatives: list[dict[str, Any]] = []
    with contextlib.suppress(InvalidTrackingCode):
        alternatives.append({"tracking_code": parse_tracking_code(text)})
    phones = phone_keys(text)
    if phones:
        alternatives.append({"submitter.phone": {"$in": phones}})
    if "@" in text and " " not in text:
        alternatives.append({"submitter.email": {"$in": sorted({text, text.lower()})}})
    if not alternatives:
        terms = query_terms(text)
        if terms:
            alternatives.append({"search_terms": {"$all": terms}})
    if not alternatives:
        return {"_id": {"$exists": False}}  # nothing searchable was typed: nothing matches
    return alternatives[0] if len(alternatives) == 1 else {"$or": alternatives}


def parse_statuses(status: str | None) -> list[str]:
    if not status:
        return []
    statuses = [s.strip() for s in status.split(",") if s.strip()]
    known = {s.value for s in Status}
    unknown = [s for s in statuses if s not in known]
    if unknown:
        raise InvalidQuery(f"unknown status {unknown[0]!r}")
    return statuses


def search_query(
    q: str | None, *, status: str | None = None, agency: str | None = None, scope: Scope
) -> dict[str, Any]:
    """The filter of ``GET /api/v1/cases?q=&status=&agency=`` within the user's scope."""
    statuses = parse_statuses(status)
    return _and(
        text_clause(q) if q and q.strip() else {},
        {"status": {"$in": statuses}} if statuses else {},
        Scope(agency).query() if agency else {},
        scope.query(),
    )


def clamp_limit(value: str | int | None, default: int = DEFAULT_LIMIT) -> int:
    try:
        limit = int(value) if value is not None else default
    except ValueError:
        return default
    return max(1, min(limit, MAX_LIMIT))


async def search_cases(
    store: Store, query: Mapping[str, Any], *, limit: int = DEFAULT_LIMIT, skip: int = 0
) -> list[dict[str, Any]]:
    """Matching cases, newest first."""
    cursor = store.cases.find(dict(query), LIST_PROJECTION).sort("received_at", DESCENDING)
    return [doc async for doc in cursor.skip(skip).limit(limit)]


async def find_case(store: Store, tracking_code: str, scope: Scope) -> dict[str, Any] | None:
    """The case, or None when there is none or the user may not see it (the same answer)."""
    doc = await store.cases.find_one(
        _and({"tracking_code": tracking_code}, scope.query()),
        {"search_terms": 0, "fingerprint": 0, "event_ids": 0},
    )
    if doc is not None:
        # Its events the broker has not confirmed yet wait in the outbox (a small collection).
        sid = doc["submission_id"]
        waiting = store.outbox.find({"submission_ids": sid}, {"events": 1})
        doc["outbox"] = [
            *(doc.get("outbox") or []),
            *[e async for entry in waiting for e in entry["events"] if e["submission_id"] == sid],
        ]
    return doc


async def triage_queue(
    store: Store, *, limit: int = MAX_LIMIT, skip: int = 0
) -> list[dict[str, Any]]:
    """Cases the router left for an operator, oldest first."""
    cursor = store.cases.find({"status": Status.TRIAGE.value}, LIST_PROJECTION)
    return [doc async for doc in cursor.sort("received_at", ASCENDING).skip(skip).limit(limit)]


async def operator_routed(store: Store) -> list[dict[str, Any]]:
    """Cases an operator routed, with the router's evidence: what its corrections are read from.

    Only the field and the router's candidates are read, so the whole history stays cheap.
    """
    cursor = store.cases.find(
        {"routing.method": "operator"}, {"field": 1, "routing.candidates": 1, "routing.method": 1}
    )
    return [doc async for doc in cursor]


async def recent_cases(
    store: Store, scope: Scope, *, limit: int = 30, skip: int = 0
) -> list[dict[str, Any]]:
    """The router's (and operators') latest decisions."""
    cursor = store.cases.find(scope.query(), LIST_PROJECTION).sort("updated_at", DESCENDING)
    return [doc async for doc in cursor.skip(skip).limit(limit)]


async def ping_pong_cases(
    store: Store, scope: Scope, *, limit: int = MAX_LIMIT, skip: int = 0
) -> list[dict[str, Any]]:
    """Cases moved between agencies more than twice, most recently moved first."""
    cursor = store.cases.find(_and({"ping_pong": True}, scope.query()), LIST_PROJECTION)
    return [doc async for doc in cursor.sort("updated_at", DESCENDING).skip(skip).limit(limit)]


def running_before(
    until: datetime, scope: Scope, agency: str | None = None, *, including: bool = False
) -> dict[str, Any]:
    """Running cases due before ``until`` — or at it too, with ``including``.

    "Overdue" is strictly before now; "due soon" includes its end, or a case due at 17:00 on
    the next working day (exactly one working day away at the end of today) is in neither.
    """
    bound = "$lte" if including else "$lt"
    return _and(
        {"status": {"$in": RUNNING}, "due_at": {"$ne": None, bound: until}},
        {"lead_agency": agency} if agency else {},
        scope.query(),
    )


@dataclass(frozen=True)
class AgencyDeadlines:
    agency: str | None
    overdue: int
    due_soon: int
    first_due: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            "agency": self.agency,
            "overdue": self.overdue,
            "due_soon": self.due_soon,
            "first_due": self.first_due.isoformat() if self.first_due else None,
        }


async def deadlines_by_agency(
    store: Store, *, now: datetime, soon_until: datetime, scope: Scope
) -> list[AgencyDeadlines]:
    """Per lead agency: running cases past their deadline, and those due before soon_until."""
    pipeline: list[dict[str, Any]] = [
        {"$match": running_before(soon_until, scope, including=True)},
        {
            "$group": {
                "_id": "$lead_agency",
                "overdue": {"$sum": {"$cond": [{"$lt": ["$due_at", now]}, 1, 0]}},
                "due_soon": {"$sum": {"$cond": [{"$lt": ["$due_at", now]}, 0, 1]}},
                "first_due": {"$min": "$due_at"},
            }
        },
        {"$sort": {"overdue": -1, "due_soon": -1, "_id": 1}},
    ]
    cursor = await store.cases.aggregate(pipeline)
    return [
        AgencyDeadlines(doc["_id"], doc["overdue"], doc["due_soon"], doc.get("first_due"))
        async for doc in cursor
    ]


async def due_cases(
    store: Store,
    *,
    soon_until: datetime,
    scope: Scope,
    agency: str | None,
    limit: int,
    skip: int = 0,
) -> list[dict[str, Any]]:
    """Running cases due before ``soon_until`` (overdue ones first), of one agency or all."""
    cursor = store.cases.find(
        running_before(soon_until, scope, agency, including=True), LIST_PROJECTION
    )
    return [doc async for doc in cursor.sort("due_at", ASCENDING).skip(skip).limit(limit)]


@dataclass(frozen=True)
class Counts:
    triage: int
    overdue: int
    due_soon: int
    ping_pong: int
    dead_letters: int | None

    def as_json(self) -> dict[str, int | None]:
        return {
            "triage": self.triage,
            "overdue": self.overdue,
            "due_soon": self.due_soon,
            "ping_pong": self.ping_pong,
            "dead_letters": self.dead_letters,
        }


async def counts(
    store: Store, *, now: datetime, soon_until: datetime, scope: Scope, operator: bool
) -> Counts:
    """The dashboard's numbers (triage and dead letters only for those who handle them)."""
    cases = store.cases
    overdue = await cases.count_documents(running_before(now, scope))
    soon = await cases.count_documents(running_before(soon_until, scope, including=True)) - overdue
    return Counts(
        triage=(await cases.count_documents({"status": Status.TRIAGE.value}) if operator else 0),
        overdue=overdue,
        due_soon=soon,
        ping_pong=await cases.count_documents(_and({"ping_pong": True}, scope.query())),
        dead_letters=(
            await store.dead_letters.count_documents({"status": "new"}) if operator else None
        ),
    )


def start_of_day(now: datetime) -> datetime:
    """Midnight of ``now``'s day in the province (UTC): where "today" starts for people."""
    local = now.astimezone(VIETNAM_TZ)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


@dataclass(frozen=True)
class Flow:
    """Cases received since a moment, by channel and by field (the dashboard's charts)."""

    received: int
    by_channel: dict[str, int]
    by_field: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "by_channel": self.by_channel,
            "by_field": self.by_field,
        }


def flow_pipeline(since: datetime, scope: Scope) -> list[dict[str, Any]]:
    """One aggregation for the three numbers, so the charts and the counter always agree."""
    return [
        {"$match": _and({"received_at": {"$gte": since}}, scope.query())},
        {
            "$facet": {
                "total": [{"$count": "n"}],
                "by_channel": [{"$group": {"_id": "$channel", "n": {"$sum": 1}}}],
                "by_field": [{"$group": {"_id": "$field", "n": {"$sum": 1}}}],
            }
        },
    ]


def _tally(rows: list[dict[str, Any]], unknown: str) -> dict[str, int]:
    counted = {(row["_id"] or unknown): int(row["n"]) for row in rows}
    return dict(sorted(counted.items(), key=lambda item: (-item[1], item[0])))


async def flow_since(store: Store, since: datetime, scope: Scope) -> Flow:
    cursor = await store.cases.aggregate(flow_pipeline(since, scope))
    facets = [doc async for doc in cursor]
    facet = facets[0] if facets else {}
    total = facet.get("total") or [{"n": 0}]
    return Flow(
        received=int(total[0]["n"]),
        by_channel=_tally(facet.get("by_channel") or [], "unknown"),
        by_field=_tally(facet.get("by_field") or [], "none"),
    )
