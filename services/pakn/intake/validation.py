"""Pure content rules of a report, the same for every channel: every problem at once, each
with a Vietnamese fix. A channel's policy says which findings are errors (sent back before
anything is accepted) and which are problems (accepted, and asked back for later)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from pakn.ids import InvalidTrackingCode, parse_tracking_code
from pakn.intake.messages import message_for
from pakn.schema import Problem
from pakn.text import diacritics_report, has_surrogates, nfc, without_surrogates
from pakn.worktime import VIETNAM_TZ

CONSENT_VERSION = "2026-01"

CONTENT_MIN = 20
CONTENT_MAX = 10_000
TITLE_MAX = 200
ADDRESS_MIN = 5
ADDRESS_MAX = 500
NAME_MAX = 100
ORGANIZATION_MAX = 200
#: The schema's own limit (pakn.schema.Location): checked here so nothing is reserved first.
COMMUNE_MAX = 120
#: Deeper than any report's shape: a walk of what was sent stops here.
_MAX_DEPTH = 8
#: A clock a few minutes fast on the citizen's phone is not "in the future".
FUTURE_TOLERANCE = timedelta(minutes=15)


@dataclass(frozen=True)
class FieldError:
    """One finding on one field (dotted name as in the API), with its Vietnamese message."""

    field: str
    code: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}

    def as_problem(self) -> Problem:
        """The finding as it travels on the bus with an accepted report."""
        return Problem(field=self.field, code=self.code)


@dataclass(frozen=True)
class Report:
    """A report's citizen-supplied part, checked and normalised (NFC, E.164, UTC).

    What a policy let through as a problem is None here (``content`` is always kept)."""

    content: str
    title: str | None
    occurred_at: datetime | None
    address: str | None
    commune: str | None
    lat: float | None
    lon: float | None
    name: str | None
    phone: str | None
    email: str | None
    contact_address: str | None
    organization: str | None
    notify_via: str | None
    confidential: bool
    in_reply_to: str | None
    #: The consent text's version the citizen agreed to; None when the channel took none.
    consent_version: str | None


@dataclass(frozen=True)
class IntakePolicy:
    """How strict a channel is. The default is the web form's: every finding is an error.

    ``problems`` lists the (field, code) findings this channel accepts a report with, to ask
    back later (e-mail cannot show a form again); their values are left out of the Report.
    """

    consent_required: bool = True
    problems: frozenset[tuple[str, str]] = frozenset()


#: The web form and the app: nothing is accepted until every finding is fixed.
STRICT = IntakePolicy()


@dataclass(frozen=True)
class Checked:
    """The outcome of the rules under a policy: a Report (None when there are errors), the
    errors to send back, and the problems the report is accepted with."""

    report: Report | None
    errors: list[FieldError]
    problems: list[FieldError]


@dataclass
class _Errors:
    items: list[FieldError] = field(default_factory=list)

    def add(self, name: str, code: str, **values: object) -> None:
        self.items.append(FieldError(name, code, message_for(code, name, **values)))


def displayable(raw: Any, depth: int = 0) -> Any:
    """What was sent, safe to show again (a form re-rendered with the citizen's input)."""
    if isinstance(raw, str):
        return without_surrogates(raw)
    if depth > _MAX_DEPTH:
        return None
    if isinstance(raw, Mapping):
        return {without_surrogates(str(k)): displayable(v, depth + 1) for k, v in raw.items()}
    if isinstance(raw, list):
        return [displayable(v, depth + 1) for v in raw]
    return raw


#: Every text field a report is read from, by its dotted name.
TEXT_FIELDS = (
    "content",
    "title",
    "occurred_at",
    "location.address",
    "location.commune",
    "location.lat",
    "location.lon",
    "submitter.name",
    "submitter.phone",
    "submitter.email",
    "submitter.address",
    "submitter.organization",
    "notify_via",
    "in_reply_to",
)


def unreadable_fields(raw: Mapping[str, Any]) -> list[str]:
    """The text fields holding characters no encoding can carry (lone surrogates)."""
    found = []
    for name in TEXT_FIELDS:
        node: Any = raw
        for key in name.split("."):
            node = node.get(key) if isinstance(node, Mapping) else None
        if isinstance(node, str) and has_surrogates(node):
            found.append(name)
    return found


def _text(raw: Mapping[str, Any], *path: str) -> str | None:
    node: Any = raw
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    if node is None:
        return None
    if isinstance(node, int | float) and not isinstance(node, bool):
        node = str(node)
    if not isinstance(node, str):
        return None
    # Refused by check_report (invalid_characters); made safe so the other checks can run.
    value = nfc(without_surrogates(node)).strip()
    return value or None


def _length_checks(
    errors: _Errors, name: str, value: str | None, *, minimum: int = 0, maximum: int
) -> None:
    if value is None:
        return
    if len(value) > maximum:
        errors.add(name, "too_long", length=len(value), maximum=maximum)
    elif len(value) < minimum:
        errors.add(name, "too_short", length=len(value), minimum=minimum)


_DMY = re.compile(
    r"^(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4})"
    r"(?:[ T,]+(?P<H>\d{1,2})[:hg](?P<M>\d{2})?)?$"
)


def parse_occurred_at(value: str) -> datetime:
    """ISO 8601 (with or without offset; HTML datetime-local) or the Vietnamese dd/mm/yyyy."""
    match = _DMY.match(value.strip())
    if match:
        parts = match.groupdict()
        local = datetime(
            int(parts["y"]),
            int(parts["m"]),
            int(parts["d"]),
            int(parts["H"] or 0),
            int(parts["M"] or 0),
        )
    else:
        try:
            local = datetime.fromisoformat(value.strip())
        except ValueError:
            local = datetime.combine(date.fromisoformat(value.strip()), datetime.min.time())
    if local.tzinfo is None:
        local = local.replace(tzinfo=VIETNAM_TZ)
    return local.astimezone(UTC)


def _phone(errors: _Errors, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        number = phonenumbers.parse(value, "VN")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        errors.add("submitter.phone", "invalid_phone")
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _email(errors: _Errors, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        errors.add("submitter.email", "invalid_email")
        return None


def _coordinate(errors: _Errors, raw: Mapping[str, Any], name: str, limit: float) -> float | None:
    value = raw.get("location", {}).get(name) if isinstance(raw.get("location"), Mapping) else None
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        # OverflowError: an integer of hundreds of digits has no float.
        number = float("nan")
    if not -limit <= number <= limit:
        errors.add(f"location.{name}", "invalid_coordinates")
        return None
    return number


#: Report attributes by the dotted field name findings carry (what a problem leaves out).
_REPORT_ATTRIBUTES: Mapping[str, str] = {
    "title": "title",
    "occurred_at": "occurred_at",
    "location.address": "address",
    "location.commune": "commune",
    "location.lat": "lat",
    "location.lon": "lon",
    "submitter.name": "name",
    "submitter.phone": "phone",
    "submitter.email": "email",
    "submitter.address": "contact_address",
    "submitter.organization": "organization",
    "in_reply_to": "in_reply_to",
}


def validate_report(
    raw: Mapping[str, Any], *, now: datetime, policy: IntakePolicy = STRICT
) -> Report | list[FieldError]:
    """The Report, or every error at once (problems the policy allows are dropped)."""
    checked = check_report(raw, now=now, policy=policy)
    return checked.report if checked.report is not None else checked.errors


def check_report(
    raw: Mapping[str, Any], *, now: datetime, policy: IntakePolicy = STRICT
) -> Checked:
    """Check a report as it was sent (the API's nested shape); every finding at once."""
    errors = _Errors()
    for unreadable in unreadable_fields(raw):
        errors.add(unreadable, "invalid_characters")

    in_reply_to: str | None = None
    if (reply := _text(raw, "in_reply_to")) is not None:
        try:
            in_reply_to = parse_tracking_code(reply)
        except InvalidTrackingCode:
            errors.add("in_reply_to", "invalid_tracking_code")
    # A follow-up adds to a case that already has its time and place.
    is_followup = reply is not None

    content = _text(raw, "content")
    title = _text(raw, "title")
    if content is None:
        errors.add("content", "required")
    else:
        _length_checks(errors, "content", content, minimum=CONTENT_MIN, maximum=CONTENT_MAX)
        verdict = diacritics_report(" ".join(filter(None, [title, content]))).verdict
        if verdict == "missing_diacritics":
            errors.add("content", "missing_diacritics")
        elif verdict == "not_vietnamese":
            errors.add("content", "not_vietnamese")
    _length_checks(errors, "title", title, maximum=TITLE_MAX)

    occurred_at: datetime | None = None
    if (occurred := _text(raw, "occurred_at")) is not None:
        try:
            occurred_at = parse_occurred_at(occurred)
        except (ValueError, OverflowError):
            errors.add("occurred_at", "invalid_datetime")
        else:
            if occurred_at > now + FUTURE_TOLERANCE:
                errors.add("occurred_at", "in_future")
    elif not is_followup:
        errors.add("occurred_at", "required")

    address = _text(raw, "location", "address")
    if address is None and not is_followup:
        errors.add("location.address", "required")
    _length_checks(errors, "location.address", address, minimum=ADDRESS_MIN, maximum=ADDRESS_MAX)
    commune = _text(raw, "location", "commune")
    _length_checks(errors, "location.commune", commune, maximum=COMMUNE_MAX)
    lat = _coordinate(errors, raw, "lat", 90)
    lon = _coordinate(errors, raw, "lon", 180)

    name = _text(raw, "submitter", "name")
    if name is None:
        errors.add("submitter.name", "required")
    _length_checks(errors, "submitter.name", name, maximum=NAME_MAX)
    raw_phone = _text(raw, "submitter", "phone")
    raw_email = _text(raw, "submitter", "email")
    if raw_phone is None and raw_email is None:
        errors.add("submitter.contact", "required")
    phone = _phone(errors, raw_phone)
    email = _email(errors, raw_email)
    contact_address = _text(raw, "submitter", "address")
    _length_checks(errors, "submitter.address", contact_address, maximum=ADDRESS_MAX)
    organization = _text(raw, "submitter", "organization")
    _length_checks(errors, "submitter.organization", organization, maximum=ORGANIZATION_MAX)

    consent = raw.get("consent")
    if isinstance(consent, Mapping):
        consent = bool(consent.get("given", True)) and bool(consent.get("version"))
    if consent is not True and policy.consent_required:
        errors.add("consent", "consent_required")

    problems = [e for e in errors.items if (e.field, e.code) in policy.problems]
    hard = [e for e in errors.items if (e.field, e.code) not in policy.problems]
    if hard or content is None:
        return Checked(report=None, errors=hard or errors.items, problems=problems)

    notify_via = _text(raw, "notify_via")
    if notify_via not in {None, "email", "phone", "app", "web"}:
        notify_via = None
    values: dict[str, Any] = {
        "title": title,
        "occurred_at": occurred_at,
        "address": address,
        "commune": commune,
        "lat": lat,
        "lon": lon,
        "name": name,
        "phone": phone,
        "email": email,
        "contact_address": contact_address,
        "organization": organization,
        "in_reply_to": in_reply_to,
    }
    for problem in problems:
        if problem.field in _REPORT_ATTRIBUTES:
            values[_REPORT_ATTRIBUTES[problem.field]] = None
    if notify_via == "email" and values["email"] is None:
        notify_via = "phone" if values["phone"] else None
    report = Report(
        content=content,
        notify_via=notify_via or ("email" if values["email"] else "phone"),
        confidential=raw.get("confidential") is True,
        consent_version=CONSENT_VERSION if consent is True else None,
        **values,
    )
    return Checked(report=report, errors=[], problems=problems)
