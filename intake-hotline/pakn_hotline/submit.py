"""Submitting one report of a call through the core's intake path (channel ``hotline``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from pymongo.errors import PyMongoError

from pakn.extract import PlaceFinder
from pakn.ids import format_tracking_code
from pakn.intake import IdempotencyConflict, IntakeUnavailable, validate_report
from pakn.intake import metrics as intake_metrics
from pakn.intake.validation import CONTENT_MIN
from pakn.schema import Channel
from pakn_hotline import messages, metrics
from pakn_hotline.calls import Call, ReportDraft, ReportFields, address_of, channel_ref, report_body
from pakn_hotline.context import Services
from pakn_hotline.occurred import resolve_occurred

log = logging.getLogger(__name__)

#: The intake client of every hotline report: the call id makes each one unique.
CLIENT = "hotline"


@dataclass(frozen=True)
class Submitted:
    tracking_code: str
    code_for_caller: str
    replayed: bool


@dataclass(frozen=True)
class Unavailable:
    message: str
    status: int


@dataclass(frozen=True)
class Conflict:
    """An earlier attempt, maybe delivered, sent other words under this report's reference:
    the form gets those words back, and sending them again gives the code."""

    message: str
    sent: ReportFields


@dataclass(frozen=True)
class Finding:
    """A finding of the core's rules, phrased for the agent, on the console's form field."""

    field: str
    code: str
    message: str


def canonical_commune(fields: ReportFields, places: PlaceFinder) -> ReportFields:
    """The commune as the province writes it ("phuong nha trang" → "Phường Nha Trang")."""
    if not fields.commune:
        return fields
    place = places.resolver.resolve(address=fields.commune)
    if place is None or place.locality is None:
        return fields
    return fields.model_copy(update={"commune": place.locality.name})


def findings(errors: list[tuple[str, str, str]]) -> list[Finding]:
    """The core's (field, code, message) as the agent reads them."""
    return [
        Finding(
            messages.FORM_FIELD_OF.get(field, ""),
            code,
            messages.agent_hint(field, code, message, minimum=CONTENT_MIN),
        )
        for field, code, message in errors
    ]


async def submit_report(
    svc: Services,
    call: Call,
    report: ReportDraft,
    fields: ReportFields,
    *,
    attach_to: str | None,
    places: PlaceFinder,
    by: str,
    now: datetime,
) -> Submitted | Unavailable | Conflict | list[Finding]:
    """Check the report with the core's rules and hand it to the intake path; the code comes
    back only once the broker confirmed. A follow-up (``attach_to``) gives the caller the
    code of the case it was attached to."""
    if attach_to is None and fields.in_reply_to:
        attach_to = fields.in_reply_to  # the words of an earlier attempt, sent again
    if attach_to is not None:
        parent = await svc.store.cases.find_one({"tracking_code": attach_to}, {"_id": 1})
        if parent is None:
            text = messages.PARENT_NOT_FOUND.format(code=format_tracking_code(attach_to))
            return [Finding("in_reply_to", "not_found", text)]
        fields = fields.model_copy(update={"in_reply_to": attach_to})
    fields = canonical_commune(fields, places)
    body = report_body(
        fields,
        address=address_of(fields),
        occurred_at=resolve_occurred(fields.occurred, reference=call.started_at),
    )
    checked = validate_report(body, now=now)
    if isinstance(checked, list):
        for error in checked:
            metrics.VALIDATION_FAILURES.labels(error.field, error.code).inc()
        metrics.SUBMISSIONS.labels("invalid").inc()
        intake_metrics.count_refused(Channel.HOTLINE.value, "invalid", checked)
        return findings([(e.field, e.code, e.message) for e in checked])
    await svc.drafts.note_sent(call.call_id, report.n, fields)
    try:
        accepted = await svc.intake.accept(
            channel=Channel.HOTLINE,
            client=CLIENT,
            channel_ref=channel_ref(call.call_id, report.n),
            received_at=call.started_at,
            report=checked,
        )
    except IntakeUnavailable:
        metrics.SUBMISSIONS.labels("unavailable").inc()
        return Unavailable(messages.SUBMIT_UNAVAILABLE, 503)
    except IdempotencyConflict:
        metrics.SUBMISSIONS.labels("conflict").inc()
        if report.sent_fields is not None and report.sent_fields != fields:
            return Conflict(messages.SUBMIT_CONFLICT, report.sent_fields)
        return Unavailable(messages.SUBMIT_CONFLICT, 409)
    try:
        await svc.drafts.mark_submitted(
            call.call_id,
            report.n,
            tracking_code=accepted.tracking_code,
            submission_id=accepted.submission_id,
            attached_to=attach_to,
            by=by,
            now=now,
        )
    except PyMongoError:
        # Accepted, but the draft does not know yet: pressing again replays the same code.
        log.warning("report %s#%d accepted, draft not marked", call.call_id, report.n)
        return Unavailable(messages.SUBMIT_UNAVAILABLE, 503)
    if accepted.replayed:
        metrics.SUBMISSIONS.labels("replayed").inc()
    elif attach_to is not None:
        metrics.SUBMISSIONS.labels("followup").inc()
        metrics.FOLLOWUPS.inc()
    else:
        metrics.SUBMISSIONS.labels("case").inc()
    if call.ended_at is not None and not accepted.replayed:
        metrics.END_TO_SUBMISSION.observe(max(0.0, (now - call.ended_at).total_seconds()))
    log.info("call %s#%d submitted as %s", call.call_id, report.n, accepted.tracking_code)
    return Submitted(
        tracking_code=accepted.tracking_code,
        code_for_caller=attach_to or accepted.tracking_code,
        replayed=accepted.replayed,
    )
