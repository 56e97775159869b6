"""The published results page (/ket-qua): its filters read from the query string, and the
store query they make (pure). Only the public copy is searched, never what the citizen sent."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from pakn.text import query_terms
from pakn.worktime import VIETNAM_TZ

PAGE_SIZE = 20
MAX_PAGE = 500
#: Published and public: never a confidential case or one touching state secrets.
PUBLIC = {"status": "published", "confidential": False, "state_secret": {"$ne": True}}


class BadFilter(ValueError):
    """A filter that cannot be read (the page says which, in Vietnamese)."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


@dataclass(frozen=True)
class Filters:
    q: str = ""
    field: str = ""
    agency: str = ""
    commune: str = ""
    since: date | None = None
    until: date | None = None
    page: int = 1

    def query(self) -> dict[str, Any]:
        clauses: list[dict[str, Any]] = [dict(PUBLIC)]
        terms = query_terms(self.q) if self.q else []
        if terms:
            clauses.append({"public_terms": {"$all": terms}})
        if self.field:
            clauses.append({"field": self.field})
        if self.agency:
            clauses.append({"lead_agency": self.agency})
        if self.commune:
            clauses.append({"location.commune_code": self.commune})
        published: dict[str, datetime] = {}
        if self.since is not None:
            published["$gte"] = _start_of(self.since)
        if self.until is not None:
            published["$lt"] = _start_of(self.until + timedelta(days=1))
        if published:
            clauses.append({"result.published_at": published})
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    @property
    def skip(self) -> int:
        return (self.page - 1) * PAGE_SIZE

    def link(self, page: int) -> str:
        params = {
            "q": self.q,
            "linh-vuc": self.field,
            "co-quan": self.agency,
            "xa": self.commune,
            "tu": self.since.strftime("%d/%m/%Y") if self.since else "",
            "den": self.until.strftime("%d/%m/%Y") if self.until else "",
            "trang": str(page) if page > 1 else "",
        }
        shown = {k: v for k, v in params.items() if v}
        return "/ket-qua" + (f"?{urlencode(shown)}" if shown else "")


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=VIETNAM_TZ).astimezone(UTC)


def _date(value: str, field: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise BadFilter(field)


def parse_filters(params: Mapping[str, str]) -> Filters:
    """The filters of ``params`` (the query string); BadFilter for a date it cannot read."""
    try:
        page = min(MAX_PAGE, max(1, int(params.get("trang", "1") or "1")))
    except ValueError:
        page = 1
    return Filters(
        q=params.get("q", "").strip()[:200],
        field=params.get("linh-vuc", "").strip()[:40],
        agency=params.get("co-quan", "").strip()[:80],
        commune=params.get("xa", "").strip()[:16],
        since=_date(params.get("tu", ""), "tu"),
        until=_date(params.get("den", ""), "den"),
        page=page,
    )


def page_count(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))
