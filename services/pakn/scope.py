"""Which cases a member of staff may see: every agency's, or one agency's own (lead or co)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Scope:
    """All cases (operators, administrators, hotline, the Department) or one agency's."""

    agency: str | None = None

    def query(self) -> dict[str, Any]:
        if self.agency is None:
            return {}
        return {"$or": [{"lead_agency": self.agency}, {"co_agencies": self.agency}]}

    def allows(self, doc: Mapping[str, Any]) -> bool:
        return self.agency is None or (
            doc.get("lead_agency") == self.agency or self.agency in (doc.get("co_agencies") or [])
        )
