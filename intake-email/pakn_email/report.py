"""Pure: a parsed mail as a report for the core's rules, under the e-mail channel's policy.

E-mail cannot show a form again, so nothing the rules find turns a mail away: every finding
is a *problem* the report is accepted with (a ``needs_info`` case), and the acknowledgement
asks for exactly those things in the core's own Vietnamese words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pakn.extract import PlaceFinder, find_time
from pakn.intake import Checked, FieldError, IntakePolicy, Upload, UploadBatch, check_report
from pakn.intake.messages import message_for
from pakn.intake.uploads import MAX_FILES
from pakn.intake.validation import CONTENT_MAX, TITLE_MAX
from pakn.schema import Problem
from pakn_email.parse import ParsedMail

#: Every finding of the core's rules that a mail can have, accepted as a problem. Consent is
#: not asked: the citizen chose to write to the province's mailbox (see README).
EMAIL_POLICY = IntakePolicy(
    consent_required=False,
    problems=frozenset(
        {
            ("content", "missing_diacritics"),
            ("content", "not_vietnamese"),
            ("content", "too_short"),
            ("occurred_at", "required"),
            ("occurred_at", "invalid_datetime"),
            ("occurred_at", "in_future"),
            ("location.address", "required"),
            ("location.address", "too_short"),
            ("location.address", "too_long"),
            ("submitter.name", "required"),
            ("submitter.name", "too_long"),
            ("submitter.phone", "invalid_phone"),
            ("submitter.email", "invalid_email"),
            ("submitter.contact", "required"),
            ("submitter.organization", "too_long"),
            ("in_reply_to", "invalid_tracking_code"),
        }
    ),
)
#: What stands in for the content of a mail with none (only a photo, only a subject).
EMPTY_CONTENT = "(Thư không có nội dung)"
NAME_MAX = 100


@dataclass(frozen=True)
class MailReport:
    checked: Checked
    uploads: list[Upload]
    #: Attachments the core refused (type, size, count), with the core's message for each.
    refused: list[FieldError]
    #: Everything the acknowledgement asks the citizen to add, in the core's words.
    requests: list[str]

    @property
    def problems(self) -> list[Problem]:
        return [finding.as_problem() for finding in self.checked.problems]


def raw_report(
    mail: ParsedMail, *, received_at: datetime, places: PlaceFinder, in_reply_to: str | None
) -> dict[str, Any]:
    """The report in the API's nested shape, as check_report reads it."""
    content = mail.content.strip() or (mail.title or "")
    content = content[:CONTENT_MAX] or EMPTY_CONTENT
    raw: dict[str, Any] = {
        "title": mail.title[:TITLE_MAX] if mail.title else None,
        "content": content,
        "submitter": {
            "name": (mail.sender_name or "")[:NAME_MAX] or None,
            "phone": mail.phone,
            "email": mail.sender_address,
        },
        "notify_via": "email",
    }
    if in_reply_to is not None:
        raw["in_reply_to"] = in_reply_to
        return raw
    place = places.find(content)
    if place is not None:
        raw["location"] = {"address": place.address, "commune": place.commune}
    when = find_time(content, now=received_at)
    if when is not None:
        raw["occurred_at"] = when.at.isoformat()
    return raw


def build_report(
    mail: ParsedMail, *, received_at: datetime, places: PlaceFinder, in_reply_to: str | None
) -> MailReport:
    raw = raw_report(mail, received_at=received_at, places=places, in_reply_to=in_reply_to)
    checked = check_report(raw, now=received_at, policy=EMAIL_POLICY)
    if checked.report is None:
        # A finding outside the policy (a rule added to the core later): kept as a problem
        # rather than losing the mail, by checking again with it allowed.
        extra = frozenset((error.field, error.code) for error in checked.errors)
        policy = IntakePolicy(consent_required=False, problems=EMAIL_POLICY.problems | extra)
        checked = check_report(raw, now=received_at, policy=policy)
    problems = list(checked.problems)
    if not mail.content.strip():
        problems.append(FieldError("content", "required", message_for("required", "content")))
        checked = Checked(report=checked.report, errors=[], problems=problems)
    batch = UploadBatch()
    for attachment in mail.attachments:
        batch.add(attachment.filename, attachment.data)
    batch.finish()
    uploads = batch.uploads[:MAX_FILES]
    requests = [finding.message for finding in checked.problems]
    return MailReport(checked, uploads, batch.errors, requests)
