"""Pure model of a call: what the phone system sends, what the agent types, what is kept.

One call is one document in ``hotline_calls`` (``_id`` = the call id). It carries the phone
system's record (caller number, times, recording reference, speaker-labelled transcript) and
one or more reports (``#1``, ``#2``…), each a draft until submitted, then locked with its code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from pakn.schema import Text, UtcDatetime

#: A call id as phone systems write them; never "#", which separates the report number.
CallId = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,99}$", strip_whitespace=True)
]
MAX_SEGMENTS = 5000
MAX_REPORTS = 20


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Segment(_Model):
    """One stretch of speech; ``start``/``end`` in seconds from the call's start."""

    speaker: Literal["agent", "caller"]
    start: float = Field(ge=0)
    end: float = Field(ge=0)
    text: Text = Field(max_length=5000)

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.end < self.start:
            raise ValueError("end is before start")
        return self


class CallRecord(_Model):
    """The body of ``POST /api/v1/calls`` (DESIGN.md §5)."""

    call_id: CallId
    caller_number: str = Field(min_length=3, max_length=32)
    agent: str | None = Field(default=None, max_length=100)
    started_at: UtcDatetime
    ended_at: UtcDatetime | None = None
    recording_ref: str | None = Field(default=None, max_length=500)
    transcript: list[Segment] = Field(default_factory=list, max_length=MAX_SEGMENTS)

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.ended_at is not None and self.ended_at < self.started_at:
            raise ValueError("ended_at is before started_at")
        return self


class ReportFields(BaseModel):
    """What the agent typed for one report, as typed (checked only on submission)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    name: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=40)
    content: str = Field(default="", max_length=20_000)
    commune: str = Field(default="", max_length=120)
    street: str = Field(default="", max_length=500)
    occurred: str = Field(default="", max_length=100)
    confidential: bool = False
    consent: bool = False
    in_reply_to: str = Field(default="", max_length=20)


class ReportDraft(BaseModel):
    model_config = ConfigDict(extra="ignore")

    n: int = Field(ge=1, le=MAX_REPORTS)
    fields: ReportFields = Field(default_factory=ReportFields)
    state: Literal["draft", "submitted"] = "draft"
    tracking_code: str | None = None
    #: The case a follow-up was attached to: the code the caller is given.
    attached_to: str | None = None
    submission_id: str | None = None
    submitted_at: UtcDatetime | None = None
    submitted_by: str | None = None
    #: Filled from the caller's segments of the transcript (the agent may have changed it).
    prefilled: bool = False
    #: What was last handed to the intake path: a retry after an unconfirmed attempt must
    #: send the same, or it is another report under the same reference (a conflict).
    sent_fields: ReportFields | None = None

    @property
    def channel_ref_suffix(self) -> str:
        return f"#{self.n}"

    @property
    def code_for_caller(self) -> str | None:
        """The code read back: the case's own, or the case a follow-up was attached to."""
        return self.attached_to or self.tracking_code


class Call(BaseModel):
    """One call as kept in ``hotline_calls``."""

    model_config = ConfigDict(extra="ignore")

    call_id: str
    source: Literal["console", "telephony"]
    caller_number: str
    agent: str | None = None
    started_at: UtcDatetime
    ended_at: UtcDatetime | None = None
    recording_ref: str | None = None
    transcript: list[Segment] = Field(default_factory=list)
    reports: list[ReportDraft] = Field(default_factory=list)
    created_at: UtcDatetime
    updated_at: UtcDatetime
    created_by: str | None = None

    def report(self, n: int) -> ReportDraft | None:
        return next((r for r in self.reports if r.n == n), None)

    @property
    def open(self) -> bool:
        return any(r.state == "draft" for r in self.reports)


def channel_ref(call_id: str, n: int) -> str:
    """``<call id>#<n>``: the channel reference of the call's n-th report (DESIGN.md §4)."""
    return f"{call_id}#{n}"


def caller_words(transcript: list[Segment]) -> str:
    """What the caller said, in order, one segment a line."""
    return "\n".join(
        s.text for s in sorted(transcript, key=lambda s: s.start) if s.speaker == "caller"
    )


def new_call(record: CallRecord, *, now: datetime, fields: ReportFields) -> Call:
    """The draft a phone system's record opens: one report pre-filled from the caller."""
    return Call(
        call_id=record.call_id,
        source="telephony",
        caller_number=record.caller_number,
        agent=record.agent,
        started_at=record.started_at,
        ended_at=record.ended_at,
        recording_ref=record.recording_ref,
        transcript=list(record.transcript),
        reports=[ReportDraft(n=1, fields=fields, prefilled=True)],
        created_at=now,
        updated_at=now,
    )


def merge_prefill(typed: ReportFields, prefill: ReportFields) -> ReportFields:
    """The agent's typing wins: the pre-fill only fills what is still empty."""
    merged = typed.model_dump()
    for name, value in prefill.model_dump().items():
        if isinstance(value, str) and not merged[name]:
            merged[name] = value
    return ReportFields.model_validate(merged)


def report_body(
    fields: ReportFields, *, address: str | None, occurred_at: str | None
) -> dict[str, object]:
    """The report in the shape the core's rules check (the API's nested JSON)."""
    return {
        "content": fields.content or None,
        "occurred_at": occurred_at,
        "location": {"address": address, "commune": fields.commune or None},
        "submitter": {"name": fields.name or None, "phone": fields.phone or None},
        "notify_via": "phone",
        "consent": fields.consent,
        "confidential": fields.confidential,
        "in_reply_to": fields.in_reply_to or None,
    }


def address_of(fields: ReportFields) -> str | None:
    """Street and commune as one address line (the router reads the commune from it too)."""
    parts = [p for p in (fields.street, fields.commune) if p]
    return ", ".join(parts) or None
