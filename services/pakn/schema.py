"""The one case schema every channel and the router share (DESIGN.md §4)."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

#: Bumped whenever a message on the bus changes shape. The router accepts
#: SCHEMA_VERSION and SCHEMA_VERSION - 1 (DESIGN.md §6).
SCHEMA_VERSION = 1
ACCEPTED_SCHEMA_VERSIONS = frozenset({SCHEMA_VERSION, SCHEMA_VERSION - 1} - {0})


def _nfc(value: str) -> str:
    # Phones and some browsers send decomposed Vietnamese (e + U+0302 + U+0301);
    # everything stored or compared is NFC so "ế" is one code point everywhere.
    return unicodedata.normalize("NFC", value).strip()


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("datetime must carry a time zone")
    return value.astimezone(UTC)


Text = Annotated[str, AfterValidator(_nfc)]
UtcDatetime = Annotated[datetime, AfterValidator(_utc)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Channel(StrEnum):
    WEB = "web"
    APP = "app"
    CHATBOT = "chatbot"
    HOTLINE = "hotline"
    EMAIL = "email"


class Status(StrEnum):
    RECEIVED = "received"
    NEEDS_INFO = "needs_info"
    TRIAGE = "triage"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    PUBLISHED = "published"
    REDIRECTED = "redirected"
    DUPLICATE = "duplicate"


#: The status groups, defined once. Open: still being dealt with (a repeat of an open case is
#: its duplicate; Open311 shows it "open"). Running: with an agency, its deadline running
#: (flagged overdue, escalated).
OPEN_STATUSES: frozenset[Status] = frozenset(
    {Status.RECEIVED, Status.NEEDS_INFO, Status.TRIAGE, Status.ASSIGNED, Status.IN_PROGRESS}
)
RUNNING_STATUSES: frozenset[Status] = frozenset({Status.ASSIGNED, Status.IN_PROGRESS})


def status_values(statuses: frozenset[Status]) -> list[str]:
    """A status group as the strings stored in ``cases.status`` (for ``$in``), in order."""
    return sorted(status.value for status in statuses)


class Priority(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"
    EMERGENCY = "emergency"


class EventKind(StrEnum):
    RECEIVED = "received"
    NEEDS_INFO = "needs_info"
    TRIAGE = "triage"
    ASSIGNED = "assigned"
    REASSIGNED = "reassigned"
    REDIRECTED = "redirected"
    DUPLICATE = "duplicate"
    ESCALATED = "escalated"
    IN_PROGRESS = "in_progress"
    RETURNED = "returned"
    EXTENDED = "extended"
    RESOLVED = "resolved"
    PUBLISHED = "published"
    REOPENED = "reopened"
    # Not status changes, but the people who act next must hear of them: the lead agency of a
    # co-agency's part, an operator of an extension request, the leader of a draft to approve.
    CONTRIBUTED = "contributed"
    EXTENSION_REQUESTED = "extension_requested"
    EXTENSION_REJECTED = "extension_rejected"
    ANSWER_DRAFTED = "answer_drafted"


FIELDS: tuple[str, ...] = (
    "cap-thoat-nuoc",
    "chieu-sang",
    "cay-xanh",
    "vien-thong",
    "giao-thong",
    "trat-tu-do-thi",
    "moi-truong",
    "dien",
    "dat-dai",
    "xay-dung",
    "y-te",
    "giao-duc",
    "an-ninh-trat-tu",
    "thu-tuc-hanh-chinh",
    "lao-dong-xa-hoi",
    "kinh-te",
    "du-lich",
    "nong-nghiep",
    "van-hoa-thong-tin",
    "khac",
)
#: What each field is called on pages and in messages.
FIELD_NAMES: dict[str, str] = {
    "cap-thoat-nuoc": "Cấp thoát nước",
    "chieu-sang": "Chiếu sáng công cộng",
    "cay-xanh": "Cây xanh, công viên",
    "vien-thong": "Viễn thông, internet",
    "giao-thong": "Giao thông, đường sá",
    "trat-tu-do-thi": "Trật tự đô thị",
    "moi-truong": "Môi trường, vệ sinh",
    "dien": "Cung cấp điện",
    "dat-dai": "Đất đai",
    "xay-dung": "Xây dựng, nhà ở",
    "y-te": "Y tế",
    "giao-duc": "Giáo dục",
    "an-ninh-trat-tu": "An ninh, trật tự",
    "thu-tuc-hanh-chinh": "Thủ tục hành chính",
    "lao-dong-xa-hoi": "Lao động, bảo hiểm, an sinh xã hội",
    "kinh-te": "Kinh tế, giá cả, thị trường",
    "du-lich": "Du lịch",
    "nong-nghiep": "Nông nghiệp, thủy sản, lâm nghiệp",
    "van-hoa-thong-tin": "Văn hóa, thông tin",
    "khac": "Lĩnh vực khác",
}
assert set(FIELD_NAMES) == set(FIELDS)
#: Fields whose *incident* categories are urban infrastructure (1 working day).
URBAN_INFRASTRUCTURE_FIELDS = frozenset({"cap-thoat-nuoc", "chieu-sang", "cay-xanh", "vien-thong"})


class Submitter(_Model):
    name: Text | None = Field(default=None, max_length=200)
    phone: Text | None = Field(default=None, max_length=32)
    email: Text | None = Field(default=None, max_length=254)
    address: Text | None = Field(default=None, max_length=500)
    organization: Text | None = Field(default=None, max_length=300)


class Consent(_Model):
    version: str = Field(min_length=1, max_length=32)
    at: UtcDatetime


class Location(_Model):
    address: Text | None = Field(default=None, max_length=500)
    commune: Text | None = Field(default=None, max_length=120)
    commune_code: str | None = Field(default=None, max_length=16)
    legacy_area: Text | None = Field(default=None, max_length=120)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)


class Attachment(_Model):
    filename: Text = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    ref: str = Field(min_length=1, max_length=64)  # GridFS file id
    # Where the photo was taken (EXIF GPS): for routing only, never shown publicly.
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)


class Problem(_Model):
    """Something a channel could not ask back for at once (e.g. an e-mail without a place)."""

    field: str = Field(max_length=64)
    code: str = Field(max_length=64)


class FeedbackInput(_Model):
    """The citizen's say on a published answer, carried by a follow-up submission."""

    rating: int | None = Field(default=None, ge=1, le=5)
    solved: bool


class Submission(_Model):
    """What an intake channel publishes on ``pakn.intake``."""

    submission_id: str = Field(pattern=r"^[a-z]+:[0-9a-f]{32}$")
    tracking_code: str = Field(pattern=r"^[0-9]{10}$")
    channel: Channel
    channel_ref: str = Field(min_length=1, max_length=512)
    received_at: UtcDatetime
    submitter: Submitter = Field(default_factory=Submitter)
    notify_via: str | None = Field(default=None, max_length=254)
    consent: Consent | None = None
    title: Text | None = Field(default=None, max_length=300)
    content: Text = Field(max_length=20_000)
    occurred_at: UtcDatetime | None = None
    location: Location = Field(default_factory=Location)
    attachments: list[Attachment] = Field(default_factory=list, max_length=20)
    confidential: bool = False
    in_reply_to: str | None = Field(default=None, pattern=r"^[0-9]{10}$")
    problems: list[Problem] = Field(default_factory=list)
    #: Set on a follow-up (``in_reply_to``) that rates the answer or says it did not solve it.
    feedback: FeedbackInput | None = None
    schema_version: int = SCHEMA_VERSION

    @field_validator("tracking_code", "in_reply_to")
    @classmethod
    def _check_digit(cls, value: str | None) -> str | None:
        from pakn.ids import is_valid_tracking_code

        if value is not None and not is_valid_tracking_code(value):
            raise ValueError("tracking code check digit is wrong")
        return value

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value not in ACCEPTED_SCHEMA_VERSIONS:
            raise ValueError(f"unsupported schema_version {value}")
        return value

    @model_validator(mode="after")
    def _id_matches_channel(self) -> Submission:
        if not self.submission_id.startswith(f"{self.channel.value}:") and not (
            self.channel is Channel.APP and self.submission_id.startswith("web:")
        ):
            raise ValueError("submission_id does not belong to this channel")
        return self


class Candidate(_Model):
    field: str
    agency: str | None = None
    category: str | None = None
    score: float


class Redirect(_Model):
    to: str
    reason: Text


class Routing(_Model):
    method: Literal["rule", "operator"] = "rule"
    rules_version: str | None = None
    confidence: float = Field(default=0.0, ge=0, le=1)
    matched: list[str] = Field(default_factory=list)
    candidates: list[Candidate] = Field(default_factory=list)
    #: A complaint or denunciation the router was not sure of: the operator confirms or not.
    suggested_redirect: Redirect | None = None


class Pause(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: UtcDatetime = Field(alias="from")
    to: UtcDatetime | None = None


class Sla(_Model):
    working_days: float | None = None
    category: str | None = None
    paused: list[Pause] = Field(default_factory=list)


class Escalation(_Model):
    to: str
    reason: Text
    at: UtcDatetime


class Followup(_Model):
    submission_id: str
    at: UtcDatetime
    content: Text
    attachments: list[Attachment] = Field(default_factory=list)


class Result(_Model):
    text: Text
    published_at: UtcDatetime | None = None
    by: str | None = None


class Contribution(_Model):
    """A co-agency's part of the lead agency's answer."""

    agency: str
    by: str
    at: UtcDatetime
    text: Text


class Question(_Model):
    """What the agency asked the citizen; open until the citizen adds to the case."""

    text: Text
    by: str
    agency: str | None = None
    at: UtcDatetime
    answered_at: UtcDatetime | None = None


class Extension(_Model):
    """An agency's request for more time, decided by an operator; shown publicly."""

    working_days: float = Field(gt=0, le=30)
    reason: Text
    requested_by: str
    requested_at: UtcDatetime
    decision: Literal["pending", "approved", "rejected"] = "pending"
    decided_by: str | None = None
    decided_at: UtcDatetime | None = None
    previous_due_at: UtcDatetime | None = None


class Answer(_Model):
    """The agency's answer as drafted (the citizen's own words may be in it: never public)."""

    text: Text
    attachments: list[Attachment] = Field(default_factory=list)
    by: str
    at: UtcDatetime
    approved_by: str | None = None
    approved_at: UtcDatetime | None = None


class Feedback(_Model):
    at: UtcDatetime
    submission_id: str
    rating: int | None = Field(default=None, ge=1, le=5)
    solved: bool
    comment: Text | None = None
    #: Whether it reopened the case (not solved, within the reopening window).
    reopened: bool = False


class HistoryEntry(_Model):
    at: UtcDatetime
    actor: str
    action: str
    note: Text | None = None


class CaseEvent(_Model):
    """A status change published on ``pakn.cases`` as ``case.<event>.<agency>``."""

    event_id: str
    event: EventKind
    at: UtcDatetime
    submission_id: str
    tracking_code: str
    status: Status
    field: str | None = None
    category: str | None = None
    priority: Priority = Priority.NORMAL
    lead_agency: str | None = None
    co_agencies: list[str] = Field(default_factory=list)
    due_at: UtcDatetime | None = None
    note: str | None = None
    #: A short public-safe sentence of what happened, for a channel to tell its citizen
    #: (no personal data).
    summary: str | None = None
    #: False for events meant for staff only (a co-agency's part, an extension request).
    notify_citizen: bool = True
    #: Set on the copy of an event sent to an agency other than the lead (the agency a case
    #: was taken from on reassignment): the routing key names it instead of the lead.
    addressed_to: str | None = None
    #: Where the case came from and how its citizen wants news (copied from the submission),
    #: so a channel's follower can tell its own cases and write to the citizen without a
    #: lookup. Optional: events written before these fields existed lack them.
    channel: Channel | None = None
    channel_ref: str | None = None
    notify_via: str | None = None
    schema_version: int = SCHEMA_VERSION


class Case(Submission):
    """What the router stores in ``cases`` (one per ``submission_id``)."""

    status: Status = Status.RECEIVED
    field: str | None = None
    category: str | None = None
    priority: Priority = Priority.NORMAL
    lead_agency: str | None = None
    co_agencies: list[str] = Field(default_factory=list)
    routing: Routing = Field(default_factory=Routing)
    due_at: UtcDatetime | None = None
    sla: Sla = Field(default_factory=Sla)
    overdue: bool = False
    escalation: Escalation | None = None
    redirect: Redirect | None = None
    duplicate_of: str | None = None
    followups: list[Followup] = Field(default_factory=list)
    public_content: Text | None = None
    result: Result | None = None
    #: The agency's work on the case (DESIGN.md §5 "Agency workspace").
    contributions: list[Contribution] = Field(default_factory=list)
    question: Question | None = None
    extensions: list[Extension] = Field(default_factory=list)
    answer: Answer | None = None
    #: Set by the agency or an operator: a case touching state secrets is never published.
    state_secret: bool = False
    #: Accent-folded keywords of the public copy only (public_content and the published
    #: answer): /ket-qua searches these, so a submitter's name never finds their case.
    public_terms: list[str] = Field(default_factory=list)
    #: Photos the public may see: copies of the citizen's and the answer's, EXIF stripped.
    public_attachments: list[Attachment] = Field(default_factory=list)
    #: Times an agency returned the case as not competent (counts towards ping-pong).
    returns: int = Field(default=0, ge=0)
    citizen_feedback: list[Feedback] = Field(default_factory=list)
    #: Times the citizen said the answer did not solve it; a reopened case is flagged.
    reopened: int = Field(default=0, ge=0)
    history: list[HistoryEntry] = Field(default_factory=list)
    search_terms: list[str] = Field(default_factory=list)
    #: Accent-folded content + contact: an exact repeat of a case is its duplicate.
    fingerprint: str | None = None
    #: Times an operator moved the case to another lead agency (the triage decision is not a
    #: move); more than two is ping-pong, flagged for the monitor. The deadline never restarts.
    reassignments: int = Field(default=0, ge=0)
    ping_pong: bool = False
    #: The events a change of the case made, in memory only: they are written to the
    #: ``outbox`` collection before the change and removed once the broker confirmed them, so
    #: a crash re-publishes instead of losing one (pakn_router.case_repository). Never stored
    #: in the case (clearing it would rewrite every index entry of the case); cases stored
    #: before the outbox collection may still hold some, moved out at the router's start.
    outbox: list[CaseEvent] = Field(default_factory=list, exclude=True)
    #: Ids of every event the stored changes of the case made: an outbox entry is published
    #: only once the change that made it is stored (its id is here).
    event_ids: list[str] = Field(default_factory=list)
    updated_at: UtcDatetime | None = None

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        # Overrides the bus's rule (Submission): a stored case is read whatever version wrote
        # it, for as long as it is kept; older ones are upgraded on reading
        # (pakn_router.case_repository). Only a version newer than this code is refused.
        if value > SCHEMA_VERSION:
            raise ValueError(f"case written by a newer version ({value} > {SCHEMA_VERSION})")
        return value

    @field_validator("field")
    @classmethod
    def _known_field(cls, value: str | None) -> str | None:
        if value is not None and value not in FIELDS:
            raise ValueError(f"unknown field {value!r}")
        return value


def dump_for_bus(model: BaseModel) -> bytes:
    """The JSON body of a bus message (aliases used, so ``Pause.from_`` is ``from``)."""
    return model.model_dump_json(by_alias=True).encode()


def dump_for_store(model: BaseModel) -> dict[str, Any]:
    """A document for MongoDB: datetimes stay datetimes, enums become strings."""
    return model.model_dump(mode="python", by_alias=True)
