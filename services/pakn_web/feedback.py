"""The citizen's say on a published answer (``POST /api/v1/cases/{code}/feedback``): the
input read and checked, and whether the contact is the one given with the report (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import phonenumbers

from pakn.reopening import reopens
from pakn.text import fold
from pakn_web import messages

MAX_COMMENT = 2000


@dataclass(frozen=True)
class FeedbackError(Exception):
    status: int
    code: str
    field: str | None
    message: str

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.field is not None:
            body["errors"] = [{"field": self.field, "code": self.code, "message": self.message}]
        return body


@dataclass(frozen=True)
class FeedbackRequest:
    contact: str
    rating: int | None
    solved: bool
    comment: str | None


def _bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "1", "yes", "co", "có"):
            return True
        if lowered in ("false", "0", "no", "khong", "không"):
            return False
    return None


def parse_feedback(body: Mapping[str, object]) -> FeedbackRequest:
    contact = body.get("contact")
    if not isinstance(contact, str) or not contact.strip():
        raise FeedbackError(422, "required", "contact", messages.FEEDBACK_CONTACT_REQUIRED)
    raw_rating = body.get("rating")
    rating: int | None = None
    if raw_rating not in (None, ""):
        try:
            rating = int(str(raw_rating))
        except ValueError:
            rating = 0
        if isinstance(raw_rating, bool) or not 1 <= rating <= 5:
            raise FeedbackError(422, "invalid", "rating", messages.FEEDBACK_RATING_INVALID)
    solved = _bool(body.get("solved"))
    if solved is None:
        raise FeedbackError(422, "required", "solved", messages.FEEDBACK_SOLVED_REQUIRED)
    comment = body.get("comment")
    text = comment.strip() if isinstance(comment, str) and comment.strip() else None
    if text is not None and len(text) > MAX_COMMENT:
        raise FeedbackError(
            422,
            "too_long",
            "comment",
            messages.FEEDBACK_COMMENT_TOO_LONG.format(maximum=MAX_COMMENT),
        )
    return FeedbackRequest(contact.strip(), rating, solved, text)


def _e164(value: str) -> str | None:
    try:
        number = phonenumbers.parse(value, "VN")
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def contact_matches(contact: str, submitter: Mapping[str, Any]) -> bool:
    """The phone (any spelling) or the e-mail (any case) given with the report."""
    email = submitter.get("email")
    if isinstance(email, str) and "@" in contact and fold(email) == fold(contact):
        return True
    phone = submitter.get("phone")
    if isinstance(phone, str) and "@" not in contact:
        given, stored = _e164(contact), _e164(phone)
        return given is not None and given == stored
    return False


def would_reopen(case: Mapping[str, Any], solved: bool, now: datetime, window: timedelta) -> bool:
    """What the router will do with it, told to the citizen at once (pakn.reopening)."""
    result = case.get("result") or {}
    answer = case.get("answer") or {}
    answered = result.get("published_at") or answer.get("approved_at")
    return reopens(
        str(case.get("status")),
        answered if isinstance(answered, datetime) else None,
        solved,
        now,
        window,
    )
