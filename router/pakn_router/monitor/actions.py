"""Operators' decisions on a case — triage, reassignment, redirect — each one guarded write.

The pure functions change a ``Case`` in place exactly as the router would (status, deadline,
history, and the event in its outbox); ``perform`` writes the change in one update guarded by
the state the operator saw, then publishes the outbox like the router does. A crash between
the write and the publish leaves the event in the outbox, published at the next flush.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pakn.ids import new_event_id
from pakn.schema import (
    FIELD_NAMES,
    FIELDS,
    Case,
    CaseEvent,
    EventKind,
    HistoryEntry,
    Redirect,
    Sla,
    Status,
)
from pakn.sla import SlaPolicy
from pakn.store import Store
from pakn.territory import ProvinceConfig
from pakn.worktime import WorkCalendar
from pakn_router import case_repository as repository
from pakn_router.cases import close_pause, event
from pakn_router.consumer import TRANSIENT, SubmissionRouter
from pakn_router.monitor import messages as t

log = logging.getLogger(__name__)

#: A case moved between lead agencies more than this many times is ping-pong.
PING_PONG_AFTER = 2
MAX_REASON = 1000
MAX_CO_AGENCIES = 10
#: Re-reads after a concurrent write that did not touch what the decision depends on.
MAX_ATTEMPTS = 3

#: Statuses an operator decides as the router would have: the deadline counts from receipt.
DECIDABLE = frozenset({Status.TRIAGE, Status.REDIRECTED})
#: Statuses whose agency an operator may change: the deadline stays as it was.
REASSIGNABLE = frozenset({Status.ASSIGNED, Status.IN_PROGRESS})
REDIRECTABLE = frozenset({Status.TRIAGE, Status.ASSIGNED, Status.IN_PROGRESS})

#: What an operator's action may change on the stored case (everything else stays).
CHANGED_FIELDS = (
    "status",
    "field",
    "category",
    "lead_agency",
    "co_agencies",
    "routing",
    "due_at",
    "sla",
    "overdue",
    "redirect",
    "reassignments",
    "ping_pong",
    "updated_at",
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an operator's input, for the form and the 422 answer."""

    field: str
    code: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


class ActionError(Exception):
    """An action refused: HTTP ``status``, a ``code`` for programs, a Vietnamese ``message``."""

    def __init__(
        self, status: int, code: str, message: str, problems: Sequence[Problem] = ()
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.problems = list(problems)

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.problems:
            body["errors"] = [p.as_json() for p in self.problems]
        return body


def invalid(problems: Sequence[Problem]) -> ActionError:
    return ActionError(422, "invalid", problems[0].message, problems)


# --- input ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssignRequest:
    """``POST /api/v1/cases/{code}/assign``: a triage decision or a reassignment."""

    field: str
    lead_agency: str
    co_agencies: tuple[str, ...] = ()
    reason: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class RedirectRequest:
    """``POST /api/v1/cases/{code}/redirect``: confirm (or make) a redirect; both optional
    when the router suggested one."""

    to: str | None = None
    reason: str | None = None


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    stripped = value.strip()
    return stripped or None


def _texts(value: object) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        return []
    return [text for item in value if (text := _text(item)) is not None]


def _reason(body: Mapping[str, object], problems: list[Problem]) -> str | None:
    reason = _text(body.get("reason"))
    if reason is not None and len(reason) > MAX_REASON:
        problems.append(Problem("reason", "too_long", t.REASON_TOO_LONG.format(max=MAX_REASON)))
    return reason


def _known_agency(code: str, config: ProvinceConfig) -> bool:
    try:
        config.agency(code)
    except KeyError:
        return False
    return True


def parse_assign(body: Mapping[str, object], config: ProvinceConfig) -> AssignRequest:
    """The request in ``body`` (JSON or a form), or ActionError 422 listing every problem."""
    problems: list[Problem] = []
    field = _text(body.get("field"))
    if field is None:
        problems.append(Problem("field", "required", t.FIELD_REQUIRED))
    elif field not in FIELDS:
        problems.append(Problem("field", "unknown", t.FIELD_UNKNOWN))
    lead = _text(body.get("lead_agency"))
    if lead is None:
        problems.append(Problem("lead_agency", "required", t.AGENCY_REQUIRED))
    elif not _known_agency(lead, config):
        problems.append(Problem("lead_agency", "unknown", t.AGENCY_UNKNOWN.format(code=lead)))
    co = list(dict.fromkeys(_texts(body.get("co_agencies"))))
    for code in co:
        if not _known_agency(code, config):
            problems.append(Problem("co_agencies", "unknown", t.AGENCY_UNKNOWN.format(code=code)))
    if lead is not None and lead in co:
        problems.append(Problem("co_agencies", "is_lead", t.CO_AGENCY_IS_LEAD))
    if len(co) > MAX_CO_AGENCIES:
        problems.append(
            Problem("co_agencies", "too_many", t.TOO_MANY_CO_AGENCIES.format(max=MAX_CO_AGENCIES))
        )
    category = _text(body.get("category"))
    if category is not None:
        try:
            known = config.category(category)
        except KeyError:
            known = None
        if known is None or known.field != field:
            problems.append(Problem("category", "unknown", t.CATEGORY_UNKNOWN))
    reason = _reason(body, problems)
    if problems:
        raise invalid(problems)
    assert field is not None and lead is not None
    return AssignRequest(field, lead, tuple(co), reason, category)


def parse_redirect(body: Mapping[str, object], config: ProvinceConfig) -> RedirectRequest:
    problems: list[Problem] = []
    to = _text(body.get("to"))
    if to is not None and not _known_agency(to, config):
        problems.append(Problem("to", "unknown", t.AGENCY_UNKNOWN.format(code=to)))
    reason = _reason(body, problems)
    if problems:
        raise invalid(problems)
    return RedirectRequest(to, reason)


# --- pure transitions -----------------------------------------------------------------------


@dataclass(frozen=True)
class Rules:
    """What a decision needs to know of the province: agencies, categories, SLA, calendar."""

    config: ProvinceConfig
    sla: SlaPolicy
    calendar: WorkCalendar

    def agency_name(self, code: str | None) -> str:
        if code is None:
            return t.NO_AGENCY
        try:
            return self.config.agency(code).name
        except KeyError:
            return code

    def working_days(self, field: str, category: str | None) -> float:
        incident = False
        if category is not None:
            try:
                incident = self.config.category(category).incident
            except KeyError:
                category = None
        try:
            return self.sla.working_days_for(field, category, incident)
        except ValueError:
            return self.sla.working_days_for(field)


def field_name(code: str | None) -> str:
    return FIELD_NAMES.get(code or "", code or t.NONE)


def _record(case: Case, kind: EventKind, actor: str, now: datetime, note: str | None) -> None:
    case.history.append(HistoryEntry(at=now, actor=actor, action=kind.value, note=note))
    case.outbox.append(event(case, kind, now, note))
    case.updated_at = now


def _category_for(case: Case, request: AssignRequest) -> str | None:
    if request.category is not None:
        return request.category
    if case.category is not None and case.category.split(".", 1)[0] == request.field:
        return case.category
    return None


def _operator_routing(case: Case) -> None:
    # The router's evidence stays: it is what the rules are tuned from later.
    case.routing = case.routing.model_copy(update={"method": "operator"})


def assign(
    case: Case, request: AssignRequest, *, actor: str, now: datetime, rules: Rules
) -> EventKind:
    """A triage decision (as if the router had decided) or a reassignment, in place."""
    if case.status in DECIDABLE:
        if case.status is Status.REDIRECTED and request.reason is None:
            raise invalid([Problem("reason", "required", t.REASON_REQUIRED)])
        return _decide(case, request, actor=actor, now=now, rules=rules)
    if case.status in REASSIGNABLE:
        if request.reason is None:
            raise invalid([Problem("reason", "required", t.REASON_REQUIRED)])
        return _reassign(case, request, actor=actor, now=now, rules=rules)
    raise ActionError(
        409, "not_assignable", t.NOT_ASSIGNABLE.format(status=t.STATUS_NAMES[case.status.value])
    )


def _decide(
    case: Case, request: AssignRequest, *, actor: str, now: datetime, rules: Rules
) -> EventKind:
    category = _category_for(case, request)
    working_days = rules.working_days(request.field, category)
    paused = close_pause(case.sla.paused, now)
    case.field, case.category = request.field, category
    case.lead_agency, case.co_agencies = request.lead_agency, list(request.co_agencies)
    case.redirect = None
    _operator_routing(case)
    case.sla = Sla(working_days=working_days, category=category, paused=paused)
    # From receipt, as the router would have set it: waiting in triage does not buy time.
    case.due_at = rules.calendar.due_at(
        case.received_at, working_days, [(p.from_, p.to) for p in paused], now=now
    )
    case.overdue = case.due_at <= now
    case.status = Status.ASSIGNED
    note = request.reason or t.ASSIGN_NOTE.format(
        field=field_name(request.field), agency=rules.agency_name(request.lead_agency)
    )
    _record(case, EventKind.ASSIGNED, actor, now, note)
    return EventKind.ASSIGNED


def _reassign(
    case: Case, request: AssignRequest, *, actor: str, now: datetime, rules: Rules
) -> EventKind:
    category = _category_for(case, request)
    old_lead = case.lead_agency
    unchanged = (
        request.field == case.field
        and request.lead_agency == old_lead
        and set(request.co_agencies) == set(case.co_agencies)
        and category == case.category
    )
    if unchanged:
        raise ActionError(422, "no_change", t.NO_CHANGE)
    moved = request.lead_agency != old_lead
    case.field, case.category = request.field, category
    case.lead_agency, case.co_agencies = request.lead_agency, list(request.co_agencies)
    _operator_routing(case)
    reason = request.reason or ""
    if moved:
        # The new agency starts from the beginning of its work, not of the deadline.
        case.status = Status.ASSIGNED
        case.reassignments += 1
        note = t.REASSIGN_NOTE.format(
            old=rules.agency_name(old_lead), new=rules.agency_name(case.lead_agency), reason=reason
        )
    else:
        note = t.REASSIGN_CO_NOTE.format(reason=reason)
    _record(case, EventKind.REASSIGNED, actor, now, note)
    if moved and old_lead is not None:
        # The agency that loses the case hears it too, or it would keep working on it.
        told = case.outbox[-1].model_copy(
            update={"event_id": new_event_id(), "addressed_to": old_lead}
        )
        case.outbox.append(told)
    if moved and case.reassignments > PING_PONG_AFTER and not case.ping_pong:
        case.ping_pong = True
        case.history.append(
            HistoryEntry(
                at=now,
                actor=actor,
                action="ping_pong",
                note=t.PING_PONG_NOTE.format(count=case.reassignments),
            )
        )
    return EventKind.REASSIGNED


def redirect(
    case: Case, request: RedirectRequest, *, actor: str, now: datetime, rules: Rules
) -> EventKind:
    """Confirm the router's suggested redirect (or make one): the case leaves PAKN handling."""
    if case.status not in REDIRECTABLE:
        raise ActionError(
            409,
            "not_redirectable",
            t.NOT_REDIRECTABLE.format(status=t.STATUS_NAMES[case.status.value]),
        )
    suggested = case.routing.suggested_redirect
    to = request.to or (suggested.to if suggested is not None else None)
    reason = request.reason
    if reason is None and suggested is not None and suggested.to == to:
        reason = suggested.reason
    problems = []
    if to is None:
        problems.append(Problem("to", "required", t.REDIRECT_TARGET_REQUIRED))
    if reason is None:
        problems.append(Problem("reason", "required", t.REASON_REQUIRED))
    if problems:
        raise invalid(problems)
    assert to is not None and reason is not None
    case.status = Status.REDIRECTED
    case.redirect = Redirect(to=to, reason=reason)
    case.lead_agency, case.co_agencies = None, []
    case.due_at, case.overdue = None, False
    _operator_routing(case)
    _record(case, EventKind.REDIRECTED, actor, now, reason)
    return EventKind.REDIRECTED


# --- the guarded write ----------------------------------------------------------------------

Change = Callable[[Case, datetime], EventKind]


@dataclass(frozen=True)
class Outcome:
    case: Case
    kind: EventKind
    #: The change is stored but its event is still in the outbox (the broker did not confirm).
    event_pending: bool


async def perform(
    store: Store,
    router: SubmissionRouter,
    tracking_code: str,
    change: Change,
    *,
    clock: Callable[[], datetime],
) -> Outcome:
    """Apply ``change`` to the stored case in one update guarded by the state it was read in.

    A concurrent write that left status and lead agency as they were (a follow-up arriving)
    is absorbed by reading again; any other one is a 409 for the operator to look again.
    """
    seen: tuple[Status, str | None] | None = None
    for _attempt in range(MAX_ATTEMPTS):
        found = await repository.find_case(store, tracking_code)
        if found is None:
            raise ActionError(404, "not_found", t.CASE_NOT_FOUND)
        case = found
        state = (case.status, case.lead_agency)
        if seen is not None and state != seen:
            break
        seen = state
        guard = {
            "tracking_code": tracking_code,
            "status": case.status.value,
            "lead_agency": case.lead_agency,
            "updated_at": case.updated_at,
        }
        history_before, outbox_before = len(case.history), len(case.outbox)
        now = clock()
        kind = change(case, now)
        update = repository.change_update(
            case,
            calendar=router.calendar,
            fields=CHANGED_FIELDS,
            history_before=history_before,
            outbox_before=outbox_before,
        )
        made = case.outbox[outbox_before:]
        if await repository.update_with_events(store, guard, update, made, now):
            pending = not await publish(router, tracking_code, made)
            return Outcome(case, kind, pending)
    raise ActionError(409, "conflict", t.CONFLICT)


async def publish(
    router: SubmissionRouter, tracking_code: str, events: Sequence[CaseEvent]
) -> bool:
    """Publish the events of a stored change; False when the broker could not confirm them
    now (they wait in the outbox for the sweeper)."""
    try:
        await router.publish_written(events)
    except TRANSIENT as exc:
        log.warning("events of %s left in the outbox: %s", tracking_code, exc)
        return False
    return True
