"""Pure validation of what a citizen sent: every problem at once, each with a Vietnamese fix."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from pakn.ids import InvalidTrackingCode, parse_tracking_code
from pakn.text import diacritics_report, nfc
from pakn.worktime import VIETNAM_TZ
from pakn_web.messages import message_for

CONSENT_VERSION = "2026-01"

CONTENT_MIN = 20
CONTENT_MAX = 10_000
TITLE_MAX = 200
ADDRESS_MIN = 5
ADDRESS_MAX = 500
NAME_MAX = 100
ORGANIZATION_MAX = 200
#: A clock a few minutes fast on the citizen's phone is not "in the future".
FUTURE_TOLERANCE = timedelta(minutes=15)

#: HTML form field names → the dotted names of the JSON API and of error reports.
FORM_FIELDS: Mapping[str, str] = {
    "title": "title",
    "content": "content",
    "occurred_at": "occurred_at",
    "address": "location.address",
    "commune": "location.commune",
    "lat": "location.lat",
    "lon": "location.lon",
    "name": "submitter.name",
    "phone": "submitter.phone",
    "email": "submitter.email",
    "contact_address": "submitter.address",
    "organization": "submitter.organization",
    "notify_via": "notify_via",
    "confidential": "confidential",
    "consent": "consent",
    "in_reply_to": "in_reply_to",
}


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class ValidInput:
    """A submission's citizen-supplied part, checked and normalised (NFC, E.164, UTC)."""

    content: str
    title: str | None
    occurred_at: datetime | None
    address: str | None
    commune: str | None
    lat: float | None
    lon: float | None
    name: str
    phone: str | None
    email: str | None
    contact_address: str | None
    organization: str | None
    notify_via: str | None
    confidential: bool
    in_reply_to: str | None
    consent_version: str


@dataclass
class _Errors:
    items: list[FieldError] = field(default_factory=list)

    def add(self, name: str, code: str, **values: object) -> None:
        self.items.append(FieldError(name, code, message_for(code, name, **values)))


def flatten_form(form: Mapping[str, str]) -> dict[str, Any]:
    """The HTML form's flat names as the nested JSON shape the API takes."""
    nested: dict[str, Any] = {}
    for form_name, dotted in FORM_FIELDS.items():
        if form_name not in form:
            continue
        value: Any = form[form_name]
        if dotted in {"confidential", "consent"}:
            value = value not in {"", "0", "false", "off"}
        target = nested
        *parents, leaf = dotted.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return nested


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
    value = nfc(node).strip()
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
    except (TypeError, ValueError):
        number = float("nan")
    if not -limit <= number <= limit:
        errors.add(f"location.{name}", "invalid_coordinates")
        return None
    return number


def validate_input(raw: Mapping[str, Any], *, now: datetime) -> ValidInput | list[FieldError]:
    """Check a submission as the citizen sent it; every problem is reported at once."""
    errors = _Errors()

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
    if consent is not True:
        errors.add("consent", "consent_required")

    notify_via = _text(raw, "notify_via")
    if notify_via not in {None, "email", "phone", "app", "web"}:
        notify_via = None
    if notify_via == "email" and email is None:
        notify_via = "phone" if phone else None

    if errors.items:
        return errors.items
    assert content is not None and name is not None
    return ValidInput(
        content=content,
        title=title,
        occurred_at=occurred_at,
        address=address,
        commune=commune,
        lat=lat,
        lon=lon,
        name=name,
        phone=phone,
        email=email,
        contact_address=contact_address,
        organization=organization,
        notify_via=notify_via or ("email" if email else "phone"),
        confidential=raw.get("confidential") is True,
        in_reply_to=in_reply_to,
        consent_version=CONSENT_VERSION,
    )
