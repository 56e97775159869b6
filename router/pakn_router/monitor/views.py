"""Cases as the staff API shows them: plain JSON, names beside codes, datetimes in ISO 8601."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pakn.ids import format_tracking_code
from pakn.schema import FIELD_NAMES
from pakn.territory import COMMUNE, ProvinceConfig
from pakn.worktime import local_text
from pakn_router.monitor import messages as t

EXCERPT_LENGTH = 200


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def local_time(value: datetime | None) -> str:
    """In the province's time, as citizens' pages show it (pakn.worktime.local_text)."""
    return t.NONE if value is None else local_text(value)


def excerpt(text: str | None, length: int = EXCERPT_LENGTH) -> str:
    if not text:
        return ""
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "…"


class Names:
    """Codes to the names staff read: agencies, fields, categories."""

    def __init__(self, config: ProvinceConfig) -> None:
        self.config = config

    def agency(self, code: str | None) -> str | None:
        if code is None:
            return None
        try:
            return self.config.agency(code).name
        except KeyError:
            return code

    def field(self, code: str | None) -> str | None:
        return FIELD_NAMES.get(code, code) if code else None

    def category(self, code: str | None) -> str | None:
        if code is None:
            return None
        try:
            return self.config.category(code).name
        except KeyError:
            return code


def is_overdue(doc: Mapping[str, Any], now: datetime) -> bool:
    """Overdue as flagged by the sweeper, or already past its deadline while running."""
    due = doc.get("due_at")
    running = doc.get("status") in ("assigned", "in_progress")
    return bool(doc.get("overdue")) or (running and due is not None and due <= now)


def case_summary(doc: Mapping[str, Any], names: Names, now: datetime) -> dict[str, Any]:
    """One line of a list: enough to recognise the case and see where it stands."""
    routing = doc.get("routing") or {}
    return {
        "tracking_code": doc["tracking_code"],
        "tracking_code_display": format_tracking_code(doc["tracking_code"]),
        "channel": doc.get("channel"),
        "received_at": iso(doc.get("received_at")),
        "updated_at": iso(doc.get("updated_at")),
        "status": doc.get("status"),
        "field": doc.get("field"),
        "field_name": names.field(doc.get("field")),
        "category": doc.get("category"),
        "category_name": names.category(doc.get("category")),
        "priority": doc.get("priority", "normal"),
        "lead_agency": doc.get("lead_agency"),
        "lead_agency_name": names.agency(doc.get("lead_agency")),
        "co_agencies": list(doc.get("co_agencies") or []),
        "due_at": iso(doc.get("due_at")),
        "overdue": is_overdue(doc, now),
        "reassignments": doc.get("reassignments", 0),
        "ping_pong": bool(doc.get("ping_pong")),
        "method": routing.get("method", "rule"),
        "confidence": routing.get("confidence", 0.0),
        "title": doc.get("title"),
        "excerpt": excerpt(doc.get("content")),
        "confidential": bool(doc.get("confidential")),
        "redirect": _redirect(doc, names),
    }


def _redirect(doc: Mapping[str, Any], names: Names) -> dict[str, Any] | None:
    """Where a complaint was sent, by the agency's name (never its bare code)."""
    redirect = doc.get("redirect")
    if not redirect:
        return None
    return {**redirect, "to_name": names.agency(redirect.get("to"))}


def routing_view(doc: Mapping[str, Any], names: Names, config: ProvinceConfig) -> dict[str, Any]:
    """The router's evidence, each candidate with the agency its rules would give it."""
    routing = doc.get("routing") or {}
    locality = _locality(doc, config)
    candidates = []
    for candidate in routing.get("candidates") or []:
        agency = candidate.get("agency")
        co: list[str] = []
        if agency is None and candidate.get("category"):
            agency, co = _rule_assignment(config, candidate["category"], locality)
        candidates.append(
            {
                "field": candidate.get("field"),
                "field_name": names.field(candidate.get("field")),
                "category": candidate.get("category"),
                "category_name": names.category(candidate.get("category")),
                "agency": agency,
                "agency_name": names.agency(agency),
                "co_agencies": co,
                "score": candidate.get("score"),
            }
        )
    suggested = routing.get("suggested_redirect")
    return {
        "method": routing.get("method", "rule"),
        "rules_version": routing.get("rules_version"),
        "confidence": routing.get("confidence", 0.0),
        "matched": list(routing.get("matched") or []),
        "candidates": candidates,
        "suggested_redirect": (
            {**suggested, "to_name": names.agency(suggested.get("to"))} if suggested else None
        ),
    }


def _locality(doc: Mapping[str, Any], config: ProvinceConfig) -> Any:
    code = (doc.get("location") or {}).get("commune_code")
    if not code:
        return None
    try:
        return config.locality(code)
    except KeyError:
        return None


def _rule_assignment(
    config: ProvinceConfig, category_code: str, locality: Any
) -> tuple[str | None, list[str]]:
    try:
        category = config.category(category_code)
    except KeyError:
        return None, []
    assignment = config.assign(category, locality)
    if assignment is None:
        return None, []
    return assignment.lead, list(assignment.co)


def suggestion(routing: Mapping[str, Any]) -> dict[str, Any] | None:
    """What the triage form starts from: the best candidate that names an agency."""
    for candidate in routing.get("candidates") or []:
        if candidate.get("field") and candidate.get("agency"):
            return {
                "field": candidate["field"],
                "category": candidate.get("category"),
                "lead_agency": candidate["agency"],
                "co_agencies": candidate.get("co_agencies") or [],
            }
    return None


def _router_note(doc: Mapping[str, Any]) -> str | None:
    for entry in reversed(doc.get("history") or []):
        if entry.get("action") == "triage":
            note: str | None = entry.get("note")
            return note
    return None


def triage_item(
    doc: Mapping[str, Any], names: Names, config: ProvinceConfig, now: datetime
) -> dict[str, Any]:
    routing = routing_view(doc, names, config)
    return {
        **case_summary(doc, names, now),
        "content": doc.get("content"),
        "location": doc.get("location"),
        "routing": routing,
        "candidates": routing["candidates"],
        "suggestion": suggestion(routing),
        "note": _router_note(doc),
    }


def _attachments(items: Any) -> list[dict[str, Any]]:
    return [
        {
            "filename": a.get("filename"),
            "content_type": a.get("content_type"),
            "size": a.get("size"),
            "ref": a.get("ref"),
        }
        for a in items or []
    ]


def case_detail(
    doc: Mapping[str, Any], names: Names, config: ProvinceConfig, now: datetime
) -> dict[str, Any]:
    """The whole case for staff: what the citizen sent, the evidence, the history."""
    sla = doc.get("sla") or {}
    return {
        **case_summary(doc, names, now),
        "submission_id": doc.get("submission_id"),
        "channel_ref": doc.get("channel_ref"),
        "content": doc.get("content"),
        "public_content": doc.get("public_content"),
        "occurred_at": iso(doc.get("occurred_at")),
        "submitter": doc.get("submitter") or {},
        "notify_via": doc.get("notify_via"),
        "location": doc.get("location") or {},
        "attachments": _attachments(doc.get("attachments")),
        "followups": [
            {
                "submission_id": f.get("submission_id"),
                "at": iso(f.get("at")),
                "content": f.get("content"),
                "attachments": _attachments(f.get("attachments")),
            }
            for f in doc.get("followups") or []
        ],
        "history": [
            {
                "at": iso(h.get("at")),
                "actor": h.get("actor"),
                "action": h.get("action"),
                "note": h.get("note"),
            }
            for h in doc.get("history") or []
        ],
        "routing": routing_view(doc, names, config),
        "sla": {
            "working_days": sla.get("working_days"),
            "category": sla.get("category"),
            "paused": [
                {"from": iso(p.get("from")), "to": iso(p.get("to"))}
                for p in sla.get("paused") or []
            ],
        },
        "escalation": _dated(doc.get("escalation")),
        "duplicate_of": doc.get("duplicate_of"),
        "result": _dated(doc.get("result")),
        "co_agency_names": [names.agency(c) for c in doc.get("co_agencies") or []],
        "events_pending": len(doc.get("outbox") or []),
    }


def _dated(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    return {k: iso(v) if isinstance(v, datetime) else v for k, v in value.items()}


def attachment_refs(doc: Mapping[str, Any]) -> set[str]:
    """Every attachment of the case and its follow-ups: what its page may download."""
    refs = {a.get("ref") for a in doc.get("attachments") or []}
    for followup in doc.get("followups") or []:
        refs |= {a.get("ref") for a in followup.get("attachments") or []}
    # The agency's answer and its public copies (router/pakn_router/agency).
    refs |= {a.get("ref") for a in (doc.get("answer") or {}).get("attachments") or []}
    refs |= {a.get("ref") for a in doc.get("public_attachments") or []}
    return {ref for ref in refs if ref}


def agencies_by_field(config: ProvinceConfig) -> dict[str, frozenset[str]]:
    """Which agencies the routing rules name for each field's cases, as lead or co-agency.

    `commune` in a rule is left out: it stands for the People's Committee of the case's own
    commune (``commune_agency``), not for all 65. The triage form offers these first for the
    field chosen, so an operator picks from a handful, not from a hundred."""
    found: dict[str, set[str]] = {}
    for category in config.categories:
        named = found.setdefault(category.field, set())
        for rule in config.routing.rules:
            if rule.matches_category(category):
                named.update(code for code in (rule.lead, *rule.co) if code != COMMUNE)
    return {field: frozenset(codes) for field, codes in found.items()}


def commune_agency(doc: Mapping[str, Any], config: ProvinceConfig) -> str | None:
    """The People's Committee of the commune where the problem is, when it is known."""
    locality = _locality(doc, config)
    return locality.agency if locality is not None else None
