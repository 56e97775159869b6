"""Queries the console runs on ``cases`` (read only: the router is their only writer), built
as pure functions apart from running them, and the rows the console shows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from pakn import schema
from pakn.extract import find_phone
from pakn.text import search_terms

#: Cases still being handled: a new caller about the same thing adds to one of these.
OPEN_STATUSES: Final = schema.status_values(schema.OPEN_STATUSES)
HISTORY_LIMIT: Final = 20
SIMILAR_LIMIT: Final = 5
#: Looked at before ranking: the newest open cases of the place.
SIMILAR_SCAN: Final = 200
#: Shared words (or two-word terms) a case needs to count as "the same thing".
MIN_SHARED_TERMS: Final = 2

HISTORY_FIELDS: Final = {
    "_id": 0,
    "tracking_code": 1,
    "status": 1,
    "received_at": 1,
    "due_at": 1,
    "field": 1,
    "lead_agency": 1,
    "content": 1,
    "result": 1,
    "confidential": 1,
    "overdue": 1,
}
SIMILAR_FIELDS: Final = {
    "_id": 0,
    "tracking_code": 1,
    "status": 1,
    "received_at": 1,
    "field": 1,
    "lead_agency": 1,
    "public_content": 1,
    "location": 1,
    "search_terms": 1,
    "followups": 1,
}


def e164(number: str) -> str | None:
    """A Vietnamese phone number as stored on cases (E.164), or None if it is not one."""
    found = find_phone(number)
    return found.e164 if found is not None else None


def history_query(phone: str) -> dict[str, Any]:
    """Earlier cases of the caller: the phone number the case was given with."""
    return {"submitter.phone": phone}


def similar_query(
    *, commune: str | None, commune_code: str | None, terms: Iterable[str], since: datetime
) -> dict[str, Any] | None:
    """Open cases of the same place with a word in common, received since ``since``; None
    when the draft names no place or says nothing yet (nothing to compare)."""
    words = sorted(set(terms))
    place: list[dict[str, Any]] = []
    if commune:
        place.append({"location.commune": commune})
    if commune_code:
        place.append({"location.commune_code": commune_code})
    if not place or not words:
        return None
    return {
        "status": {"$in": list(OPEN_STATUSES)},
        "received_at": {"$gte": since},
        "$or": place,
        "search_terms": {"$in": words},
    }


def since(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


def draft_terms(content: str, street: str | None = None) -> list[str]:
    """The draft's words as the router indexes a case's (accent-folded, with bigrams)."""
    return search_terms(content, street)


@dataclass(frozen=True)
class SimilarCase:
    tracking_code: str
    status: str
    received_at: datetime
    field: str | None
    lead_agency: str | None
    summary: str
    address: str | None
    shared: list[str]
    followups: int


def rank_similar(
    docs: Iterable[Mapping[str, Any]], terms: Iterable[str], *, limit: int = SIMILAR_LIMIT
) -> list[SimilarCase]:
    """Most words in common first, then the newest; cases sharing too little are left out."""
    wanted = set(terms)
    found: list[SimilarCase] = []
    for doc in docs:
        shared = sorted(wanted & set(doc.get("search_terms") or ()))
        if len(shared) < min(MIN_SHARED_TERMS, len(wanted)):
            continue
        location = doc.get("location") or {}
        found.append(
            SimilarCase(
                tracking_code=doc["tracking_code"],
                status=doc["status"],
                received_at=doc["received_at"],
                field=doc.get("field"),
                lead_agency=doc.get("lead_agency"),
                # The masked text: an agent sees what the public would, not another caller's
                # phone number or name.
                summary=_short(doc.get("public_content") or ""),
                address=location.get("address"),
                shared=shared,
                followups=len(doc.get("followups") or ()),
            )
        )
    found.sort(key=lambda c: (-len(c.shared), -c.received_at.timestamp()))
    return found[:limit]


@dataclass(frozen=True)
class HistoryRow:
    tracking_code: str
    status: str
    received_at: datetime
    due_at: datetime | None
    overdue: bool
    field: str | None
    lead_agency: str | None
    summary: str
    result: str | None


def history_rows(docs: Iterable[Mapping[str, Any]]) -> list[HistoryRow]:
    rows = []
    for doc in docs:
        result = doc.get("result") or {}
        rows.append(
            HistoryRow(
                tracking_code=doc["tracking_code"],
                status=doc["status"],
                received_at=doc["received_at"],
                due_at=doc.get("due_at"),
                overdue=bool(doc.get("overdue")),
                field=doc.get("field"),
                lead_agency=doc.get("lead_agency"),
                # The caller is the citizen who reported it: their own words are theirs to hear.
                summary=_short(doc.get("content") or ""),
                result=result.get("text"),
            )
        )
    return rows


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
