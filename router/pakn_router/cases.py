"""Pure case transitions: a submission and a classification in, a case and its events out."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from pakn.ids import format_tracking_code, new_event_id
from pakn.schema import (
    Case,
    CaseEvent,
    EventKind,
    Followup,
    HistoryEntry,
    Pause,
    Routing,
    Sla,
    Status,
    Submission,
)
from pakn.text import fold, mask_personal_data, search_terms
from pakn.worktime import WorkCalendar
from pakn_router import messages
from pakn_router.classification import Classification

ROUTER = "router"

#: Which event a status change publishes (DESIGN.md §6).
EVENT_OF_STATUS = {
    Status.NEEDS_INFO: EventKind.NEEDS_INFO,
    Status.TRIAGE: EventKind.TRIAGE,
    Status.ASSIGNED: EventKind.ASSIGNED,
    Status.REDIRECTED: EventKind.REDIRECTED,
    Status.DUPLICATE: EventKind.DUPLICATE,
}


def fingerprint(submission: Submission) -> str:
    """The same words from the same person: accents, case and spacing do not matter."""
    contact = submission.submitter.phone or submission.submitter.email or ""
    key = f"{fold(submission.content)}\x1f{fold(contact)}"
    return hashlib.sha256(key.encode()).hexdigest()


def event(case: Case, kind: EventKind, now: datetime, note: str | None = None) -> CaseEvent:
    """One status change of ``case`` as published on ``pakn.cases``."""
    lead = case.lead_agency or (case.redirect.to if case.redirect else None)
    return CaseEvent(
        event_id=new_event_id(),
        event=kind,
        at=now,
        submission_id=case.submission_id,
        tracking_code=case.tracking_code,
        status=case.status,
        field=case.field,
        category=case.category,
        priority=case.priority,
        lead_agency=lead,
        co_agencies=list(case.co_agencies),
        due_at=case.due_at,
        note=note,
        channel=case.channel,
        channel_ref=case.channel_ref,
        notify_via=case.notify_via,
    )


def _record(case: Case, kind: EventKind, now: datetime, note: str | None) -> None:
    case.history.append(HistoryEntry(at=now, actor=ROUTER, action=kind.value, note=note))
    case.outbox.append(event(case, kind, now, note))
    case.updated_at = now


def public_text(submission: Submission, text: str) -> str:
    """``text`` with the personal data of ``submission``'s submitter (and any other) masked."""
    submitter = submission.submitter
    return mask_personal_data(
        text,
        names=[submitter.name] if submitter.name else [],
        organizations=[submitter.organization] if submitter.organization else [],
        addresses=[submitter.address] if submitter.address else [],
    )


def open_case(submission: Submission, now: datetime) -> Case:
    """The case as received: the submission plus what every case carries from the start."""
    return Case(
        **submission.model_dump(),
        public_content=public_text(submission, submission.content),
        search_terms=search_terms(
            submission.title, submission.content, submission.location.address
        ),
        fingerprint=fingerprint(submission),
        updated_at=now,
    )


def apply_classification(
    case: Case,
    classification: Classification,
    calendar: WorkCalendar,
    now: datetime,
    *,
    paused: Sequence[Pause] = (),
) -> None:
    """Set field, agency, deadline and status from the classifier's decision (in place)."""
    case.field = classification.field
    case.category = classification.category
    case.priority = classification.priority
    case.routing = Routing(
        method="rule",
        rules_version=classification.rules_version,
        confidence=classification.confidence,
        matched=list(classification.matched),
        candidates=list(classification.candidates),
        suggested_redirect=classification.suggested_redirect,
    )
    if classification.locality is not None:
        location = case.location
        location.commune = location.commune or classification.locality.name
        location.commune_code = location.commune_code or classification.locality.code
        location.legacy_area = location.legacy_area or classification.locality.legacy_area
    case.sla = Sla(
        working_days=classification.working_days,
        category=classification.category,
        paused=list(paused),
    )
    note: str | None
    if classification.decision == "redirect":
        assert classification.redirect is not None
        case.status = Status.REDIRECTED
        case.redirect = classification.redirect
        note = classification.redirect.reason
    elif classification.decision == "triage":
        case.status = Status.TRIAGE
        note = "; ".join(classification.notes) or messages.LOW_CONFIDENCE
    else:
        case.status = Status.ASSIGNED
        case.lead_agency = classification.lead_agency
        case.co_agencies = list(classification.co_agencies)
        if classification.working_days is not None:
            case.due_at = calendar.due_at(
                case.received_at,
                classification.working_days,
                [(pause.from_, pause.to) for pause in paused],
                now=now,
            )
        note = None
    _record(case, EVENT_OF_STATUS[case.status], now, note)


def mark_needs_info(case: Case, now: datetime) -> None:
    """A channel could not ask back at once: wait for the citizen, with the clock paused."""
    case.status = Status.NEEDS_INFO
    case.sla = Sla(paused=[Pause(**{"from": case.received_at})])
    missing = ", ".join(f"{p.field}: {p.code}" for p in case.problems)
    _record(case, EventKind.NEEDS_INFO, now, messages.MISSING_INFORMATION.format(missing=missing))


def mark_duplicate(case: Case, first_code: str, first_lead: str | None, now: datetime) -> None:
    """An exact repeat of an open case: recorded, linked to the first, handled there."""
    case.status = Status.DUPLICATE
    case.duplicate_of = first_code
    case.lead_agency = first_lead
    note = messages.DUPLICATE_OF.format(code=format_tracking_code(first_code))
    _record(case, EventKind.DUPLICATE, now, note)


def followup_of(submission: Submission) -> Followup:
    return Followup(
        submission_id=submission.submission_id,
        at=submission.received_at,
        content=submission.content,
        attachments=submission.attachments,
    )


def close_pause(paused: Sequence[Pause], now: datetime) -> list[Pause]:
    """The pauses with the open one (waiting for the citizen) ended now."""
    return [Pause(**{"from": p.from_, "to": p.to or now}) for p in paused]


def combined_text(case: Case) -> str:
    """What the citizen said in all: the report and what was added to it since."""
    return "\n".join([case.content, *(f.content for f in case.followups)])
