"""What the API and the pages share: who may see what, who may act, the audit trail."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from pakn import http
from pakn.auth import audit
from pakn.auth.users import AGENCY_ROLES, Role
from pakn.auth.web import Staff, staff_of
from pakn.ids import InvalidTrackingCode, parse_tracking_code
from pakn_router.monitor.actions import Rules
from pakn_router.monitor.context import Monitor, monitor_of
from pakn_router.monitor.queries import Scope
from pakn_router.monitor.views import Names

#: Every staff role may look (agency roles at their own agency's cases only).
READERS = tuple(Role)
#: Only these act: decide triage, reassign, redirect, replay and discard dead letters.
ACTORS = (Role.OPERATOR, Role.ADMIN)

#: Matches no case: an agency account without an agency must not read as "every agency".
_NO_AGENCY = "\x00"

# Audit actions of the monitor (beside the middleware's generic "request" entries).
CASE_ASSIGN = "case.assign"
CASE_REASSIGN = "case.reassign"
CASE_REDIRECT = "case.redirect"
DEAD_LETTER_REPLAY = "dead_letter.replay"
DEAD_LETTER_DISCARD = "dead_letter.discard"


def scope_of(staff: Staff) -> Scope:
    if staff.role in AGENCY_ROLES:
        return Scope(staff.agency or _NO_AGENCY)
    return Scope(None)


def can_act(staff: Staff) -> bool:
    return staff.role in ACTORS


def rules_of(monitor: Monitor) -> Rules:
    return Rules(monitor.config, monitor.sla, monitor.calendar)


def names_of(monitor: Monitor) -> Names:
    return Names(monitor.config)


def tracking_code_of(request: web.Request) -> str | None:
    """The path's tracking code in canonical form (spaces, dots allowed), or None if invalid."""
    try:
        return parse_tracking_code(request.match_info["tracking_code"])
    except InvalidTrackingCode:
        return None


async def audit_action(
    request: web.Request,
    action: str,
    target: str,
    detail: dict[str, audit.DetailValue],
    outcome: audit.Outcome = "success",
) -> None:
    """One entry naming what was done to which case or letter (the middleware adds its own
    entry for the request itself)."""
    staff = staff_of(request)
    monitor = monitor_of(request)
    await audit.record(
        monitor.store,
        audit.AuditEntry(
            at=monitor.clock(),
            action=action,
            outcome=outcome,
            actor=staff.username,
            role=staff.role.value,
            agency=staff.agency,
            target=target,
            ip=http.client_address(request),
            user_agent=request.headers.get("User-Agent"),
            service=request.config_dict.get(http.SERVICE_NAME),
            detail=detail,
        ),
    )


def action_audit_name(kind: str, decided: bool) -> str:
    if kind == "redirected":
        return CASE_REDIRECT
    return CASE_ASSIGN if decided else CASE_REASSIGN


def json_response(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(
        body,
        status=status,
        headers={"Cache-Control": "no-store"},
        dumps=http.json_text,
    )
