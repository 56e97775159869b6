"""The public view of a case (DESIGN.md §5): never personal data, nothing of confidential ones."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pakn.ids import format_tracking_code

#: What the public may see of any case; content and result only when not confidential.
_ALWAYS = ("status", "field", "category", "lead_agency", "co_agencies", "overdue")


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None


def public_view(case: dict[str, Any]) -> dict[str, Any]:
    """The public projection of a stored case document. Allow-list, not deny-list, so a
    field added to the schema later stays private until someone decides otherwise."""
    confidential = bool(case.get("confidential"))
    view: dict[str, Any] = {
        "tracking_code": case["tracking_code"],
        "tracking_code_display": format_tracking_code(case["tracking_code"]),
        "received_at": _iso(case.get("received_at")),
        "due_at": _iso(case.get("due_at")),
        "confidential": confidential,
    }
    view.update({key: case.get(key) for key in _ALWAYS})
    escalation = case.get("escalation") or None
    view["escalation"] = (
        {
            "to": escalation.get("to"),
            "reason": escalation.get("reason"),
            "at": _iso(escalation.get("at")),
        }
        if escalation
        else None
    )
    redirect = case.get("redirect") or None
    view["redirect"] = (
        {"to": redirect.get("to"), "reason": redirect.get("reason")} if redirect else None
    )
    view["public_content"] = None if confidential else case.get("public_content")
    result = case.get("result") or None
    view["result"] = (
        {"text": result.get("text"), "published_at": _iso(result.get("published_at"))}
        if result and result.get("published_at") and not confidential
        else None
    )
    return view


def reserved_view(tracking_code: str, received_at: datetime) -> dict[str, Any]:
    """A code that is reserved but not routed yet: the citizen sees it was received."""
    return {
        "tracking_code": tracking_code,
        "tracking_code_display": format_tracking_code(tracking_code),
        "received_at": received_at.isoformat(),
        "status": "received",
        **dict.fromkeys(("field", "category", "lead_agency", "due_at", "escalation")),
        "co_agencies": [],
        "overdue": False,
        "redirect": None,
        "public_content": None,
        "result": None,
        "confidential": None,
    }
