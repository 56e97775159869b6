"""What the classifier decided about one text, and why (the evidence operators see)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from pakn.schema import Candidate, Priority, Redirect

Decision = Literal["assign", "triage", "redirect"]


@dataclass(frozen=True)
class LocalityMatch:
    """The commune or ward (and the pre-2025 area people still name) the text points at."""

    code: str | None
    name: str | None
    legacy_area: str | None
    matched: str  # the words that decided it, as written


@dataclass(frozen=True)
class Classification:
    field: str | None
    category: str | None
    lead_agency: str | None
    co_agencies: tuple[str, ...]
    confidence: float
    matched: tuple[str, ...]
    candidates: tuple[Candidate, ...]
    locality: LocalityMatch | None
    priority: Priority
    working_days: float | None
    incident: bool
    decision: Decision
    rules_version: str
    #: Set when decision is "redirect" (a complaint or denunciation, not PAKN by law).
    redirect: Redirect | None = None
    #: Set on a triage that looks like a complaint or denunciation the router was unsure of.
    suggested_redirect: Redirect | None = None
    notes: tuple[str, ...] = dataclasses.field(default=())
    #: Wards a street or landmark of the text points at when no ward was found (streets.yaml).
    locality_candidates: tuple[LocalityMatch, ...] = dataclasses.field(default=())

    def as_json(self) -> dict[str, Any]:
        """The object `pakn classify` prints (DESIGN.md §3)."""
        return {
            "field": self.field,
            "category": self.category,
            "lead_agency": self.lead_agency,
            "co_agencies": list(self.co_agencies),
            "confidence": round(self.confidence, 3),
            "matched": list(self.matched),
            "candidates": [
                {"field": c.field, "agency": c.agency, "category": c.category, "score": c.score}
                for c in self.candidates
            ],
            "locality": (
                {
                    "code": self.locality.code,
                    "name": self.locality.name,
                    "legacy_area": self.locality.legacy_area,
                    "matched": self.locality.matched,
                }
                if self.locality
                else None
            ),
            "locality_candidates": [
                {"code": c.code, "name": c.name, "legacy_area": c.legacy_area, "matched": c.matched}
                for c in self.locality_candidates
            ],
            "priority": self.priority.value,
            "working_days": self.working_days,
            "incident": self.incident,
            "decision": self.decision,
            "redirect": self.redirect.model_dump() if self.redirect else None,
            "suggested_redirect": (
                self.suggested_redirect.model_dump() if self.suggested_redirect else None
            ),
            "rules_version": self.rules_version,
        }
