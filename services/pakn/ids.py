"""Identifiers: tracking codes with a Damm check digit, submission ids, body hashes, event ids."""

from __future__ import annotations

import hashlib
import json
import math
import re
import secrets
import unicodedata
import uuid
from collections.abc import Mapping
from typing import Any, Literal

__all__ = [
    "TRACKING_CODE_LENGTH",
    "InvalidTrackingCode",
    "body_sha256",
    "canonical_json",
    "damm_check_digit",
    "format_tracking_code",
    "is_valid_tracking_code",
    "new_event_id",
    "new_tracking_code",
    "parse_tracking_code",
    "submission_id",
]

TRACKING_CODE_LENGTH = 10

# The weakly totally anti-symmetric quasigroup of order 10 from H. Michael Damm's thesis
# (2004), the table every Damm implementation uses. Its zero diagonal means a valid code
# runs through the table back to 0, and its anti-symmetry is what catches every adjacent
# transposition, which Luhn misses for 09/90.
_DAMM: tuple[tuple[int, ...], ...] = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

_ASCII_DIGITS = re.compile(r"[0-9]+")
_TRACKING_CODE = re.compile(r"[0-9]{10}")
# What people put between digit groups when they copy, type or read a code aloud.
_SEPARATORS = re.compile(r"[\s.\-‐‑‒–—―−_·]+")
_CHANNEL = re.compile(r"[a-z]+")


class InvalidTrackingCode(ValueError):
    """Text that is not a tracking code: wrong shape, or a check digit that does not match."""

    def __init__(self, reason: Literal["format", "check_digit"], text: str) -> None:
        self.reason: Literal["format", "check_digit"] = reason
        detail = "is not 10 digits" if reason == "format" else "has a wrong check digit"
        super().__init__(f"tracking code {text!r} {detail}")


def _damm_interim(digits: str) -> int:
    if not _ASCII_DIGITS.fullmatch(digits):
        raise ValueError(f"expected ASCII digits, got {digits!r}")
    interim = 0
    for digit in digits:
        interim = _DAMM[interim][ord(digit) - 48]
    return interim


def damm_check_digit(digits: str) -> str:
    """The Damm check digit to append to ``digits`` (one or more ASCII digits)."""
    return str(_damm_interim(digits))


def new_tracking_code() -> str:
    """A fresh random tracking code: 9 random digits and their Damm check digit."""
    body = f"{secrets.randbelow(10**9):09d}"
    return body + damm_check_digit(body)


def is_valid_tracking_code(code: str) -> bool:
    """Exactly 10 ASCII digits whose Damm check digit is right (no separators allowed)."""
    return bool(_TRACKING_CODE.fullmatch(code)) and _damm_interim(code) == 0


def parse_tracking_code(text: str) -> str:
    """The canonical 10-digit code from what a citizen typed or an agent heard.

    Accepts spaces (also NBSP), dots and dashes between digits, full-width digits from phone
    keyboards and invisible characters left by copy and paste. Raises
    :class:`InvalidTrackingCode` with ``reason`` "format" or "check_digit".
    """
    normalized = unicodedata.normalize("NFKC", text)
    # Zero-width spaces, BOMs and direction marks arrive with codes pasted from chats.
    normalized = "".join(ch for ch in normalized if unicodedata.category(ch) != "Cf")
    compact = _SEPARATORS.sub("", normalized)
    if not _TRACKING_CODE.fullmatch(compact):
        raise InvalidTrackingCode("format", text)
    if _damm_interim(compact) != 0:
        raise InvalidTrackingCode("check_digit", text)
    return compact


def format_tracking_code(code: str) -> str:
    """The code as shown to people, in groups of 3-3-4: ``"123 456 7890"``."""
    canonical = parse_tracking_code(code)
    return f"{canonical[:3]} {canonical[3:6]} {canonical[6:]}"


def submission_id(channel: str, client: str, channel_ref: str) -> str:
    """The deterministic id of a submission: ``"<channel>:<32 hex digits>"``.

    ``client`` is who sent it (the idempotency namespace of a web or app client, the mailbox
    for e-mail, the phone system for the hotline, the platform for the chatbot) and
    ``channel_ref`` the channel's own reference (Idempotency-Key, Message-ID, call id,
    conversation). A retry of the same submission gets the same id.
    """
    if not _CHANNEL.fullmatch(channel):
        raise ValueError(f"channel must be lowercase ASCII letters, got {channel!r}")
    # A JSON array is an unambiguous encoding: ("a", "bc") and ("ab", "c") differ, and no
    # separator character inside a part can fake a boundary. The tag separates this hash
    # from any other SHA-256 the project computes over similar strings.
    encoded = json.dumps(
        ["pakn.submission_id.v1", channel, client, channel_ref],
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8", "surrogatepass")
    return f"{channel}:{hashlib.sha256(encoded).hexdigest()[:32]}"


def _canonical(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("NaN and infinity have no JSON form")
        # JSON does not tell 1 from 1.0 and neither do clients: one number, one spelling.
        return int(value) if value.is_integer() else value
    if isinstance(value, Mapping):
        result: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, got {type(key).__name__}")
            name = unicodedata.normalize("NFC", key)
            if name in result:
                raise ValueError(f"two keys normalise to {name!r}")
            result[name] = _canonical(item)
        return result
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def canonical_json(value: Any) -> bytes:
    """JSON with sorted keys, no whitespace, NFC strings and one spelling per number."""
    return json.dumps(
        _canonical(value),
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        allow_nan=False,
    ).encode("utf-8", "surrogatepass")


def body_sha256(body: Mapping[str, Any] | bytes | str) -> str:
    """SHA-256 (hex) of a request body, for telling a retry from a conflicting reuse of a key.

    A mapping is hashed in canonical JSON (:func:`canonical_json`), so the same report re-sent
    with its keys in another order or its text in decomposed Unicode is the same body. Text
    is hashed as NFC UTF-8; bytes as they are.
    """
    if isinstance(body, bytes):
        data = body
    elif isinstance(body, str):
        data = unicodedata.normalize("NFC", body).encode("utf-8", "surrogatepass")
    elif isinstance(body, Mapping):
        data = canonical_json(body)
    else:
        raise TypeError(f"cannot hash a body of type {type(body).__name__}")
    return hashlib.sha256(data).hexdigest()


def new_event_id() -> str:
    """A fresh id for a bus message (uuid4, 32 hex digits)."""
    return uuid.uuid4().hex
