"""The public view of a case (DESIGN.md §5): never personal data, nothing of confidential ones.

Every channel that answers "what happened to my report?" (the tracking page, the API, the
chatbot's "tra cứu") shows this view, found by :func:`find_public_case`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pakn.ids import format_tracking_code
from pakn.intake.reservations import lookup_reservation
from pakn.schema import FIELD_NAMES
from pakn.store import Store

#: History actions a citizen is shown (internal ones — notes, operators' edits — are not).
PUBLIC_STEPS = frozenset(
    {
        "received",
        "needs_info",
        "triage",
        "assigned",
        "reassigned",
        "redirected",
        "duplicate",
        "escalated",
        "in_progress",
        "returned",
        "extended",
        "resolved",
        "published",
        "reopened",
        "followup",
    }
)

#: An agency code → its Vietnamese name (None when the province folder does not know it).
AgencyNames = Callable[[str], str | None]


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None


def _name(names: AgencyNames, code: Any) -> str | None:
    return (names(code) or code) if isinstance(code, str) else None


def public_view(case: dict[str, Any], names: AgencyNames) -> dict[str, Any]:
    """The public projection of a stored case document. An allow-list, not a deny-list, so
    a field added to the schema later stays private until someone decides otherwise."""
    confidential = bool(case.get("confidential"))
    # A case touching state secrets is as closed to the public as a confidential one.
    secret = confidential or bool(case.get("state_secret"))
    field = case.get("field")
    escalation = case.get("escalation") or None
    redirect = case.get("redirect") or None
    result = case.get("result") or None
    # Where the problem is, as the citizen described it; never their own contact details.
    location = {} if secret else (case.get("location") or {})
    return {
        "tracking_code": case["tracking_code"],
        "tracking_code_display": format_tracking_code(case["tracking_code"]),
        "status": case.get("status"),
        "received_at": _iso(case.get("received_at")),
        "field": field,
        "field_name": FIELD_NAMES.get(field) if isinstance(field, str) else None,
        "category": case.get("category"),
        "lead_agency": case.get("lead_agency"),
        "lead_agency_name": _name(names, case.get("lead_agency")),
        "co_agencies": list(case.get("co_agencies") or []),
        "co_agency_names": [_name(names, c) for c in case.get("co_agencies") or []],
        "due_at": _iso(case.get("due_at")),
        "overdue": bool(case.get("overdue")),
        # Why a multi-agency case has no result yet is public by rule (Quy chế 2022).
        "escalation": (
            {
                "to": escalation.get("to"),
                "to_name": _name(names, escalation.get("to")),
                "reason": escalation.get("reason"),
                "at": _iso(escalation.get("at")),
            }
            if escalation
            else None
        ),
        "redirect": (
            {
                "to": redirect.get("to"),
                "to_name": _name(names, redirect.get("to")),
                "reason": redirect.get("reason"),
            }
            if redirect
            else None
        ),
        "duplicate_of": case.get("duplicate_of"),
        "duplicate_of_display": (
            format_tracking_code(case["duplicate_of"]) if case.get("duplicate_of") else None
        ),
        "timeline": public_timeline(case.get("history") or []),
        "confidential": confidential,
        "public_content": None if secret else case.get("public_content"),
        "address": location.get("address"),
        "lat": location.get("lat"),
        "lon": location.get("lon"),
        "result": (
            {"text": result.get("text"), "published_at": _iso(result.get("published_at"))}
            if result and result.get("published_at") and not secret
            else None
        ),
        # An extension and its reason are public by rule; the agency's question is what
        # the citizen is asked for (masked: it was written to them).
        "extensions": [
            {
                "working_days": e.get("working_days"),
                "reason": e.get("reason"),
                "decided_at": _iso(e.get("decided_at")),
            }
            for e in case.get("extensions") or []
            if e.get("decision") == "approved"
        ],
        "waiting_for_citizen": case.get("status") == "needs_info",
        "photos": (
            [
                {"filename": p.get("filename"), "url": f"/anh/{case['tracking_code']}/{p['ref']}"}
                for p in case.get("public_attachments") or []
                if p.get("ref")
            ]
            if not secret and case.get("status") == "published"
            else []
        ),
        "reopened": int(case.get("reopened") or 0),
        "feedback_open": case.get("status") in ("published", "resolved"),
    }


def public_timeline(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The case's history as the public may see it: the step and when, oldest first. Never
    the actor (a staff login) or the note (it may quote the report or name a person)."""
    steps = [
        {"action": entry["action"], "at": _iso(entry.get("at"))}
        for entry in history
        if entry.get("action") in PUBLIC_STEPS and isinstance(entry.get("at"), datetime)
    ]
    return sorted(steps, key=lambda step: step["at"] or "")


def reserved_view(tracking_code: str, received_at: datetime) -> dict[str, Any]:
    """A code that is reserved but not routed yet: the citizen sees it was received."""
    return {
        "tracking_code": tracking_code,
        "tracking_code_display": format_tracking_code(tracking_code),
        "status": "received",
        "received_at": received_at.isoformat(),
        **dict.fromkeys(
            (
                "field",
                "field_name",
                "category",
                "lead_agency",
                "lead_agency_name",
                "due_at",
                "escalation",
                "redirect",
                "duplicate_of",
                "duplicate_of_display",
                "public_content",
                "address",
                "lat",
                "lon",
                "result",
                "confidential",
            )
        ),
        "extensions": [],
        "waiting_for_citizen": False,
        "photos": [],
        "reopened": 0,
        "feedback_open": False,
        "co_agencies": [],
        "co_agency_names": [],
        "overdue": False,
        "timeline": [{"action": "received", "at": received_at.isoformat()}],
    }


async def find_public_case(store: Store, names: AgencyNames, code: str) -> dict[str, Any] | None:
    """The public view of the case with this (valid) code; a reserved code not routed yet is
    "received"; None when nobody reserved it."""
    case = await store.cases.find_one({"tracking_code": code})
    if case is not None:
        return public_view(case, names)
    reservation = await lookup_reservation(store, code)
    if reservation is None:
        return None
    # A follow-up has its own code but lives on the case it added to: show that case.
    parent = await store.cases.find_one({"followups.submission_id": reservation.submission_id})
    if parent is not None:
        return {**public_view(parent, names), "added_to": parent["tracking_code"]}
    return reserved_view(code, reservation.received_at)
