"""Pure transitions of the agency workspace: a case and an action in, a new case and its
events out (DESIGN.md §5 "Agency workspace", §6). No I/O here: ``workspace.py`` stores the
result in one guarded write and publishes the events through the case's outbox."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pakn.auth.users import Role
from pakn.reopening import reopens
from pakn.schema import (
    Answer,
    Attachment,
    Case,
    CaseEvent,
    Contribution,
    EventKind,
    Extension,
    Feedback,
    FeedbackInput,
    HistoryEntry,
    Pause,
    Question,
    Result,
    Sla,
    Status,
    Submission,
)
from pakn.text import search_terms
from pakn.worktime import WorkCalendar
from pakn_router.agency import messages as t
from pakn_router.cases import event, public_text
from pakn_router.monitor.messages import STATUS_NAMES

#: Returns count with reassignments: more than this many moves is ping-pong (as the monitor).
PING_PONG_AFTER = 2
MAX_TEXT = 10_000
MAX_REASON = 1000
MAX_EXTENSION_DAYS = 30.0

#: Where each action may start from.
ACCEPTABLE = frozenset({Status.ASSIGNED})
RETURNABLE = frozenset({Status.ASSIGNED, Status.IN_PROGRESS})
CONTRIBUTABLE = frozenset({Status.ASSIGNED, Status.IN_PROGRESS, Status.NEEDS_INFO})
ASKABLE = frozenset({Status.ASSIGNED, Status.IN_PROGRESS})
EXTENDABLE = frozenset({Status.ASSIGNED, Status.IN_PROGRESS, Status.NEEDS_INFO})
DRAFTABLE = frozenset({Status.IN_PROGRESS})
APPROVABLE = frozenset({Status.IN_PROGRESS})
#: The public copy may be corrected at any time; after publication the edit is flagged.
EDITABLE = frozenset(Status) - {Status.DUPLICATE}


@dataclass(frozen=True)
class Officer:
    """Who acts: the staff account's name, role and agency."""

    username: str
    role: Role
    agency: str | None = None


class Refused(Exception):
    """An action refused: HTTP ``status``, a ``code`` for programs, a Vietnamese ``message``;
    ``field`` names the input at fault, if one is."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field

    def as_json(self) -> dict[str, object]:
        body: dict[str, object] = {"error": self.code, "message": self.message}
        if self.field is not None:
            body["errors"] = [{"field": self.field, "code": self.code, "message": self.message}]
        return body


@dataclass(frozen=True)
class Transition:
    """The case after an action, the events it publishes, and what the audit entry says."""

    case: Case
    events: tuple[CaseEvent, ...]
    audit: str
    detail: dict[str, str | int | bool | None] = field(default_factory=dict)


# --- input ----------------------------------------------------------------------------------


def required_text(value: object, name: str, limit: int = MAX_TEXT) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise Refused(422, "required", t.REQUIRED.format(what=t.WHAT[name]), name)
    if len(text) > limit:
        raise Refused(422, "too_long", t.TOO_LONG.format(what=t.WHAT[name], max=limit), name)
    return text


def optional_text(value: object, name: str, limit: int = MAX_TEXT) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return required_text(value, name, limit)


def working_days_of(value: object) -> float:
    try:
        days = float(str(value).replace(",", ".")) if value not in (None, "") else 0.0
    except ValueError:
        days = 0.0
    if not 0.5 <= days <= MAX_EXTENSION_DAYS:
        raise Refused(422, "invalid", t.WORKING_DAYS_INVALID, "working_days")
    return days


def flag(value: object) -> bool | None:
    """A JSON boolean or a form's "true"/"1"/"on"; None when absent or unreadable."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "on", "yes", "co"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "0", "off", "no", "khong"):
        return False
    return None


# --- helpers --------------------------------------------------------------------------------


def _status_refusal(case: Case) -> Refused:
    name = STATUS_NAMES.get(case.status.value, case.status.value)
    return Refused(409, "wrong_status", t.WRONG_STATUS.format(status=name))


def _require_lead(case: Case, officer: Officer) -> None:
    if officer.agency is None or case.lead_agency != officer.agency:
        raise Refused(403, "not_lead", t.NOT_LEAD)


def _require(case: Case, allowed: frozenset[Status]) -> None:
    if case.status not in allowed:
        raise _status_refusal(case)


def _days(value: float) -> str:
    return f"{value:g}".replace(".", ",")


class _Change:
    """One action on a copy of the case: history, outbox and the events it adds."""

    def __init__(self, case: Case, actor: str, now: datetime) -> None:
        self.case = case.model_copy(deep=True)
        self.actor, self.now = actor, now
        self.events: list[CaseEvent] = []

    def note(self, action: str, note: str | None) -> None:
        self.case.history.append(
            HistoryEntry(at=self.now, actor=self.actor, action=action, note=note)
        )
        self.case.updated_at = self.now

    def publish(
        self,
        kind: EventKind,
        note: str | None,
        summary: str,
        *,
        notify_citizen: bool = True,
        addressed_to: str | None = None,
        history: bool = True,
    ) -> None:
        if history:
            self.note(kind.value, note)
        published = event(self.case, kind, self.now, note).model_copy(
            update={
                "channel": self.case.channel,
                "summary": summary,
                "notify_citizen": notify_citizen,
                "addressed_to": addressed_to,
            }
        )
        self.case.outbox.append(published)
        self.events.append(published)

    def done(self, audit: str, **detail: str | int | bool | None) -> Transition:
        return Transition(self.case, tuple(self.events), audit, dict(detail))


# --- the agency's actions -------------------------------------------------------------------


def accept(case: Case, officer: Officer, now: datetime) -> Transition:
    """The lead agency takes the case on: ``assigned`` → ``in_progress``."""
    _require_lead(case, officer)
    _require(case, ACCEPTABLE)
    change = _Change(case, officer.username, now)
    change.case.status = Status.IN_PROGRESS
    change.publish(EventKind.IN_PROGRESS, t.ACCEPTED, t.ACCEPTED)
    return change.done("case.accept")


def give_back(
    case: Case, officer: Officer, reason: str, now: datetime, *, agency_name: str
) -> Transition:
    """Not competent: back to the operators' triage. The deadline is kept, the move counts
    towards ping-pong, and the returning agency hears the event (it no longer holds it)."""
    _require_lead(case, officer)
    _require(case, RETURNABLE)
    change = _Change(case, officer.username, now)
    returned = change.case
    previous = returned.lead_agency
    returned.status = Status.TRIAGE
    returned.returns += 1
    returned.reassignments += 1
    note = t.RETURNED.format(agency=agency_name, reason=reason)
    change.note(EventKind.RETURNED.value, note)
    returned.lead_agency, returned.co_agencies = None, []
    change.publish(
        EventKind.RETURNED, note, t.RETURNED_SUMMARY, addressed_to=previous, history=False
    )
    if returned.reassignments > PING_PONG_AFTER and not returned.ping_pong:
        returned.ping_pong = True
        change.note("ping_pong", f"chuyển qua lại {returned.reassignments} lần")
    return change.done("case.return", reason=reason, agency=previous, returns=returned.returns)


def contribute(case: Case, officer: Officer, text: str, now: datetime) -> Transition:
    """A co-agency's part, for the lead agency's answer (staff only: the citizen is not told)."""
    if officer.agency is None or officer.agency not in case.co_agencies:
        raise Refused(403, "not_co_agency", t.NOT_CO_AGENCY)
    _require(case, CONTRIBUTABLE)
    change = _Change(case, officer.username, now)
    change.case.contributions.append(
        Contribution(agency=officer.agency, by=officer.username, at=now, text=text)
    )
    note = t.CONTRIBUTED.format(agency=officer.agency)
    change.publish(EventKind.CONTRIBUTED, note, note, notify_citizen=False)
    return change.done("case.contribute", agency=officer.agency)


def ask_citizen(case: Case, officer: Officer, question: str, now: datetime) -> Transition:
    """``needs_info`` with the clock paused until the citizen adds to the case (any channel)."""
    _require_lead(case, officer)
    _require(case, ASKABLE)
    change = _Change(case, officer.username, now)
    asked = change.case
    asked.status = Status.NEEDS_INFO
    asked.question = Question(text=question, by=officer.username, agency=officer.agency, at=now)
    asked.sla = asked.sla.model_copy(update={"paused": [*asked.sla.paused, _pause(now)]})
    # What the citizen is asked reaches them through their channel; masked like any public text.
    summary = f"{t.ASKED_SUMMARY} {public_text(asked, question)}"
    change.publish(EventKind.NEEDS_INFO, t.ASKED.format(question=question), summary)
    return change.done("case.needs_info")


def _pause(now: datetime) -> Pause:
    return Pause(**{"from": now})


def resume_after_reply(case: Case, now: datetime, calendar: WorkCalendar) -> Transition | None:
    """The citizen added to a case an agency asked about: the clock runs again, the deadline
    moves by the office time it waited. None when the case was not waiting for the agency."""
    if case.status is not Status.NEEDS_INFO or case.question is None or case.lead_agency is None:
        return None
    change = _Change(case, "router", now)
    resumed = change.case
    open_pauses = [p for p in resumed.sla.paused if p.to is None]
    resumed.sla = resumed.sla.model_copy(
        update={
            "paused": [Pause(**{"from": p.from_, "to": p.to or now}) for p in resumed.sla.paused]
        }
    )
    if resumed.due_at is not None:
        for pause in open_pauses:
            if pause.from_ < resumed.due_at:
                resumed.due_at = calendar.add_working_time(
                    resumed.due_at, max(calendar.working_time_between(pause.from_, now), _ZERO)
                )
        resumed.overdue = resumed.due_at <= now
    assert resumed.question is not None
    resumed.question = resumed.question.model_copy(update={"answered_at": now})
    resumed.status = Status.IN_PROGRESS
    change.publish(EventKind.IN_PROGRESS, t.RESUMED, t.RESUMED)
    return change.done("case.resume")


_ZERO = timedelta(0)


def request_extension(
    case: Case, officer: Officer, working_days: float, reason: str, now: datetime
) -> Transition:
    """More time, with a reason: an operator decides (``extension_requested`` tells them)."""
    _require_lead(case, officer)
    _require(case, EXTENDABLE)
    if any(e.decision == "pending" for e in case.extensions):
        raise Refused(409, "extension_pending", t.EXTENSION_PENDING)
    change = _Change(case, officer.username, now)
    change.case.extensions.append(
        Extension(
            working_days=working_days,
            reason=reason,
            requested_by=officer.username,
            requested_at=now,
        )
    )
    note = t.EXTENSION_REQUESTED.format(days=_days(working_days), reason=reason)
    change.publish(EventKind.EXTENSION_REQUESTED, note, note, notify_citizen=False)
    return change.done("case.extension.request", working_days=_days(working_days), reason=reason)


def decide_extension(
    case: Case, operator: Officer, approve: bool, now: datetime, calendar: WorkCalendar
) -> Transition:
    """An operator's decision. Approved: the deadline moves by that much office time (shown
    publicly with its reason); refused: the agency hears it, the deadline stays."""
    pending = next((e for e in case.extensions if e.decision == "pending"), None)
    if pending is None:
        raise Refused(409, "no_extension", t.NO_EXTENSION)
    change = _Change(case, operator.username, now)
    extended = change.case
    index = case.extensions.index(pending)
    decided = pending.model_copy(
        update={
            "decision": "approved" if approve else "rejected",
            "decided_by": operator.username,
            "decided_at": now,
            "previous_due_at": extended.due_at,
        }
    )
    extended.extensions[index] = decided
    days = _days(pending.working_days)
    if approve:
        if extended.due_at is not None:
            extended.due_at = calendar.add_working_time(
                extended.due_at, calendar.hours.day_length * pending.working_days
            )
            extended.overdue = extended.due_at <= now
        extended.sla = Sla(
            working_days=(extended.sla.working_days or 0) + pending.working_days
            if extended.sla.working_days is not None
            else None,
            category=extended.sla.category,
            paused=extended.sla.paused,
        )
        note = t.EXTENDED.format(days=days, reason=pending.reason)
        change.publish(EventKind.EXTENDED, note, t.EXTENDED_SUMMARY.format(days=days))
    else:
        note = t.EXTENSION_REJECTED.format(days=days)
        change.publish(EventKind.EXTENSION_REJECTED, note, note, notify_citizen=False)
    return change.done("case.extension.decide", approve=approve, working_days=days)


def draft_answer(
    case: Case,
    officer: Officer,
    text: str,
    now: datetime,
    *,
    state_secret: bool | None = None,
    attachments: Sequence[Attachment] | None = None,
) -> Transition:
    """The answer as the agency writes it, for its leader to approve (may be redrafted; the
    files of the previous draft stay unless new ones are given)."""
    _require_lead(case, officer)
    _require(case, DRAFTABLE)
    change = _Change(case, officer.username, now)
    drafted = change.case
    kept = list(case.answer.attachments) if case.answer is not None else []
    drafted.answer = Answer(
        text=text,
        by=officer.username,
        at=now,
        attachments=list(attachments) if attachments is not None else kept,
    )
    if state_secret is not None:
        drafted.state_secret = state_secret
    change.publish(EventKind.ANSWER_DRAFTED, t.DRAFTED, t.DRAFTED, notify_citizen=False)
    return change.done("case.answer", state_secret=drafted.state_secret)


def may_approve(officer: Officer, *, agency_has_leader: bool) -> bool:
    """The agency's leader approves; an agency without a leader account approves with its
    administrator (DESIGN.md §3)."""
    if officer.role is Role.AGENCY_LEADER:
        return True
    return officer.role is Role.AGENCY_ADMIN and not agency_has_leader


@dataclass(frozen=True)
class PublicVersion:
    """What the public sees of a case: its content and its answer, personal data masked."""

    content: str
    answer: str


def automatic_public_version(case: Case) -> PublicVersion:
    answer = case.answer.text if case.answer is not None else ""
    return PublicVersion(public_text(case, case.content), public_text(case, answer))


def public_terms(case: Case) -> list[str]:
    return search_terms(case.public_content, case.result.text if case.result else None)


def is_public(case: Case) -> bool:
    return not case.confidential and not case.state_secret


def approve(
    case: Case,
    officer: Officer,
    now: datetime,
    *,
    agency_has_leader: bool,
    corrected: PublicVersion | None = None,
    photos: Sequence[Attachment] = (),
) -> Transition:
    """``resolved``, and then ``published`` with the public version (the automatic masking,
    or the approver's correction of it) unless the case is confidential or a state secret."""
    _require_lead(case, officer)
    if not may_approve(officer, agency_has_leader=agency_has_leader):
        raise Refused(403, "not_approver", t.NOT_APPROVER)
    _require(case, APPROVABLE)
    if case.answer is None:
        raise Refused(409, "no_answer", t.NO_ANSWER)
    change = _Change(case, officer.username, now)
    approved = change.case
    assert approved.answer is not None
    approved.answer = approved.answer.model_copy(
        update={"approved_by": officer.username, "approved_at": now}
    )
    approved.status = Status.RESOLVED
    change.publish(EventKind.RESOLVED, t.RESOLVED, t.RESOLVED)
    if not is_public(approved):
        change.note("not_published", t.NOT_PUBLISHED)
        return change.done("case.approve", published=False)
    version = corrected or automatic_public_version(approved)
    approved.public_content = version.content
    approved.result = Result(text=version.answer, published_at=now, by=officer.agency)
    approved.public_attachments = list(photos)
    approved.public_terms = public_terms(approved)
    approved.status = Status.PUBLISHED
    change.publish(EventKind.PUBLISHED, t.PUBLISHED, t.PUBLISHED)
    return change.done(
        "case.approve",
        published=True,
        corrected=corrected is not None and corrected != automatic_public_version(approved),
    )


def edit_publication(
    case: Case,
    editor: Officer,
    now: datetime,
    *,
    content: str | None,
    answer: str | None,
) -> Transition:
    """An operator's or the agency's correction of the public copy. Before publication it is
    a correction of what will go out; after it, the edit is recorded as such (and audited)."""
    if not is_public(case):
        raise Refused(409, "not_public", t.CONFIDENTIAL_NOT_PUBLIC)
    _require(case, EDITABLE)
    if content is None and (answer is None or case.result is None):
        raise Refused(422, "nothing_to_edit", t.NOTHING_TO_EDIT)
    change = _Change(case, editor.username, now)
    edited = change.case
    what = []
    if content is not None and content != case.public_content:
        edited.public_content = content
        what.append("nội dung")
    if answer is not None and edited.result is not None and answer != edited.result.text:
        edited.result = edited.result.model_copy(update={"text": answer})
        what.append("kết quả")
    after = case.status is Status.PUBLISHED
    edited.public_terms = public_terms(edited) if edited.result is not None else []
    if what:
        template = t.PUBLICATION_EDITED_AFTER if after else t.PUBLICATION_EDITED
        change.note("publication_edited", template.format(what=", ".join(what)))
    return change.done(
        "case.publication.edit",
        after_publication=after,
        changed=", ".join(what) or None,
    )


# --- the citizen's say ----------------------------------------------------------------------


def within_window(case: Case, now: datetime, window: timedelta) -> bool:
    """Whether a "not solved" still reopens: within ``window`` of the answer."""
    answered = (case.result.published_at if case.result else None) or (
        case.answer.approved_at if case.answer else None
    )
    return reopens(case.status.value, answered, False, now, window)


def take_feedback(
    case: Case,
    feedback: FeedbackInput,
    *,
    submission_id: str,
    comment: str | None,
    now: datetime,
    calendar: WorkCalendar,
    window: timedelta,
    agency_name: str,
) -> Transition:
    """The rating is kept; "not solved" within the window reopens the case with the same
    agency, flagged, with a new deadline counted from now."""
    change = _Change(case, "citizen", now)
    rated = change.case
    reopen = not feedback.solved and within_window(rated, now, window)
    rated.citizen_feedback.append(
        Feedback(
            at=now,
            submission_id=submission_id,
            rating=feedback.rating,
            solved=feedback.solved,
            comment=comment,
            reopened=reopen,
        )
    )
    change.note(
        "feedback",
        t.FEEDBACK.format(
            rating=f"{feedback.rating}/5" if feedback.rating else t.NO_RATING,
            solved=t.FEEDBACK_SOLVED if feedback.solved else t.FEEDBACK_NOT_SOLVED,
        ),
    )
    if reopen:
        rated.status = Status.ASSIGNED
        rated.reopened += 1
        days = rated.sla.working_days or 1.0
        rated.due_at = calendar.add_working_time(now, calendar.hours.day_length * days)
        rated.overdue = False
        rated.sla = Sla(working_days=days, category=rated.sla.category, paused=[])
        if rated.answer is not None:
            rated.answer = rated.answer.model_copy(
                update={"approved_by": None, "approved_at": None}
            )
        change.publish(
            EventKind.REOPENED, t.REOPENED.format(agency=agency_name), t.REOPENED_SUMMARY
        )
    return change.done("case.feedback", solved=feedback.solved, reopened=reopen)


def after_followup(
    case: Case,
    submission: Submission,
    now: datetime,
    calendar: WorkCalendar,
    window: timedelta,
) -> Transition | None:
    """What a citizen's follow-up does beyond being added: rate the answer (perhaps reopen),
    or answer the agency's question. None when it is only an addition (the router's part)."""
    if submission.feedback is not None:
        return take_feedback(
            case,
            submission.feedback,
            submission_id=submission.submission_id,
            comment=submission.content or None,
            now=now,
            calendar=calendar,
            window=window,
            agency_name=case.lead_agency or "",
        )
    return resume_after_reply(case, now, calendar)
