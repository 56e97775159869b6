"""Pure: raw message bytes → :class:`ParsedMail` (what was said, by whom, in which thread)."""

from __future__ import annotations

import codecs
import hashlib
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from enum import StrEnum

from pakn.ids import InvalidTrackingCode, parse_tracking_code
from pakn_email.html import html_to_text
from pakn_email.legacy import LegacyFont, repair_legacy_font
from pakn_email.reply import find_phone, name_from_signature, split_reply

__all__ = [
    "IgnoreReason",
    "MailAttachment",
    "ParsedMail",
    "PoisonMail",
    "ack_message_id",
    "parse_mail",
    "tracking_code_in_ids",
    "tracking_code_in_subject",
]


class IgnoreReason(StrEnum):
    """Why a message is recorded but never answered nor turned into a case (metric label)."""

    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    MAILING_LIST = "mailing_list"
    BULK = "bulk"
    OWN_ADDRESS = "own_address"
    NULL_SENDER = "null_sender"


class PoisonMail(ValueError):
    """A message that cannot be read as a report: moved to the failed folder for a person."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class MailAttachment:
    filename: str
    content_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class ParsedMail:
    message_id: str
    #: True when the message had no Message-ID and ``message_id`` was derived from it.
    message_id_generated: bool
    sender_name: str | None
    sender_address: str | None
    #: Where an answer goes (Reply-To, else From).
    reply_address: str | None
    subject: str
    #: The subject without Re:/Fwd:/TL: prefixes, for the case title.
    title: str | None
    date: datetime | None
    #: What the sender wrote: history, forwarded headers and signature removed, NFC.
    content: str
    #: The whole body text as decoded (kept with the raw message for parsing again).
    full_text: str
    signature: str | None
    phone: str | None
    legacy_font: LegacyFont | None
    #: The declared charset was wrong (e.g. UTF-8 bytes labelled iso-8859-1).
    charset_repaired: bool
    html_only: bool
    quoted: bool
    forwarded: bool
    attachments: tuple[MailAttachment, ...]
    #: Message-IDs this one answers (In-Reply-To, then References), without angle brackets.
    references: tuple[str, ...]
    #: Tracking code of our acknowledgement this answers (from the references).
    reply_to_code: str | None
    #: A valid tracking code written in the subject.
    subject_code: str | None
    ignore: IgnoreReason | None

    @property
    def thread_code(self) -> str | None:
        """The case this message adds to, if any: our own Message-IDs first, then the subject."""
        return self.reply_to_code or self.subject_code


# --- Our acknowledgements' Message-IDs carry the tracking code --------------------------------

_ACK_ID = re.compile(r"pakn\.([0-9]{10})\.[A-Za-z0-9]+@", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")


def ack_message_id(tracking_code: str, token: str, domain: str) -> str:
    """The Message-ID of an acknowledgement: a reply to it names its case without a look-up."""
    return f"<pakn.{tracking_code}.{token}@{domain}>"


def tracking_code_in_ids(ids: Collection[str]) -> str | None:
    """The tracking code of the first of our acknowledgements among ``ids``, if any."""
    for ident in ids:
        match = _ACK_ID.search(ident)
        if match:
            try:
                return parse_tracking_code(match.group(1))
            except InvalidTrackingCode:
                continue
    return None


_CODE_IN_TEXT = re.compile(r"(?<!\d)\d(?:[ .\-]?\d){9}(?!\d)")


def tracking_code_in_subject(subject: str) -> str | None:
    """A tracking code (with or without spaces, dots, dashes) written in a subject line."""
    for match in _CODE_IN_TEXT.finditer(unicodedata.normalize("NFKC", subject)):
        try:
            return parse_tracking_code(match.group(0))
        except InvalidTrackingCode:
            continue
    return None


# --- Headers ----------------------------------------------------------------------------------


def _clean_header(value: object) -> str:
    text = str(value)
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        # Raw 8-bit bytes in a header (no RFC 2047): mostly UTF-8, else Vietnamese Windows.
        raw = text.encode("utf-8", "surrogateescape")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("cp1258", "replace")
    text = unicodedata.normalize("NFC", re.sub(r"\s+", " ", text)).strip()
    return text


def _header(message: Message, name: str) -> str:
    values = message.get_all(name)
    if not values:
        return ""
    try:
        return _clean_header(values[0])
    except Exception:  # a header the registry cannot model: read it as text
        return _clean_header(message.get(name, ""))


def _first_address(message: Message, name: str) -> tuple[str | None, str | None]:
    raw = message.get_all(name)
    if not raw:
        return None, None
    try:
        addresses = getattr(raw[0], "addresses", None)
        if addresses:
            address: Address = addresses[0]
            if address.addr_spec and "@" in address.addr_spec:
                return (_clean_header(address.display_name) or None), address.addr_spec.lower()
    except Exception:  # malformed header: fall back to the lenient parser below
        pass
    for display, spec in getaddresses([_clean_header(value) for value in raw]):
        if "@" in spec:
            return (_clean_header(display) or None), spec.strip().lower()
    return None, None


def _ids(message: Message, name: str) -> list[str]:
    return [
        ident for value in message.get_all(name) or () for ident in _MESSAGE_ID.findall(str(value))
    ]


_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|fw|fwd|tl|tr|trả lời|chuyển tiếp|aw|wg|sv)\s*(?:\[\d+\])?\s*:\s*)+",
    re.IGNORECASE,
)
_NO_SUBJECT = re.compile(r"^\(?(?:no subject|không có tiêu đề|không tiêu đề)\)?$", re.IGNORECASE)


def _title(subject: str) -> str | None:
    title = _REPLY_PREFIX.sub("", subject).strip()
    return None if not title or _NO_SUBJECT.match(title) else title


# --- Loops and junk ---------------------------------------------------------------------------

_DAEMONS = frozenset({"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"})
_AUTO_SUBJECT = re.compile(
    r"^(?:automatic reply|auto(?:matic)?[ -]?reply|autoreply|out of (?:the )?office|"
    r"trả lời tự động|thư trả lời tự động|vắng mặt|undeliverable|undelivered mail|"
    r"delivery status notification|mail delivery failed|returned mail)\b",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"^(?:undeliverable|undelivered mail|delivery status notification|mail delivery failed|"
    r"returned mail|failure notice|delivery failure)",
    re.IGNORECASE,
)


def _ignore_reason(
    message: Message, sender: str | None, own_addresses: Collection[str], subject: str
) -> IgnoreReason | None:
    """RFC 3834's rules for not answering automatic mail, and the usual list and bulk signs."""
    local = (sender or "").partition("@")[0]
    content_type = message.get_content_type()
    report_type = str(message.get_param("report-type", "") or "").lower()
    if (
        (content_type == "multipart/report" and report_type in ("delivery-status", ""))
        or local in _DAEMONS
        or _BOUNCE_SUBJECT.match(subject)
    ):
        return IgnoreReason.BOUNCE
    if sender is not None and sender in own_addresses:
        return IgnoreReason.OWN_ADDRESS
    if tracking_code_in_ids(_ids(message, "Message-ID")) is not None:
        return IgnoreReason.OWN_ADDRESS  # one of our acknowledgements, come back
    auto_submitted = _header(message, "Auto-Submitted").lower()
    precedence = _header(message, "Precedence").lower()
    if (
        (auto_submitted and not auto_submitted.startswith("no"))
        or any(
            message.get(name) is not None
            for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Reply")
        )
        or precedence == "auto_reply"
        or _AUTO_SUBJECT.match(subject)
        or content_type == "multipart/report"
    ):
        return IgnoreReason.AUTO_REPLY
    if message.get("List-Id") is not None or message.get("List-Post") is not None:
        return IgnoreReason.MAILING_LIST
    if precedence in ("bulk", "list", "junk") or message.get("List-Unsubscribe") is not None:
        return IgnoreReason.BULK
    return_path = _header(message, "Return-Path")
    if return_path.replace(" ", "") == "<>":
        return IgnoreReason.NULL_SENDER
    return None


# --- Bodies -----------------------------------------------------------------------------------

#: Labels that often stand on bytes in another encoding; real UTF-8 is tried first for them.
_WEAK_LABELS = frozenset(
    {
        "",
        "us-ascii",
        "ascii",
        "iso-8859-1",
        "latin-1",
        "latin1",
        "l1",
        "iso_8859-1",
        "windows-1252",
        "cp1252",
        "unknown-8bit",
        "x-unknown",
        "x-user-defined",
        "default",
    }
)


def _codec(label: str) -> str | None:
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_bytes(payload: bytes, declared: str | None) -> tuple[str, bool]:
    """Text of a body part, and whether its declared charset had to be overruled."""
    label = (declared or "").strip().strip('"').lower()
    if not payload:
        return "", False
    non_ascii = any(byte > 0x7F for byte in payload)
    if non_ascii and label in _WEAK_LABELS:
        # A valid multi-byte UTF-8 sequence almost never happens by chance in Latin-1 text.
        try:
            return payload.decode("utf-8"), bool(label)
        except UnicodeDecodeError:
            pass
    codec = _codec(label) if label else None
    if codec is not None:
        try:
            return payload.decode(codec), False
        except UnicodeDecodeError:
            pass
    for fallback in ("utf-8", "cp1258", "cp1252"):
        try:
            return payload.decode(fallback), True
        except UnicodeDecodeError:
            continue
    return payload.decode("utf-8", "replace"), True


def _part_text(part: Message) -> tuple[str, bool]:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return "", False
    return decode_bytes(payload, part.get_content_charset())


#: Left over after the legacy-font check (TCVN3 spells ư with the soft hyphen).
_INVISIBLE = re.compile("[\u200b\u200e\u200f\u2060\ufeff\u00ad]")


def _normalize_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # NFC turns windows-1258's base letter + combining tone into one code point.
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    return "\n".join(line.rstrip() for line in text.split("\n"))


def _unflow(text: str) -> str:
    """RFC 3676: a line ending in a space goes on in the next one (the "-- " line does not)."""
    out: list[str] = []
    joining = False
    for line in text.replace("\r\n", "\n").split("\n"):
        if joining and out:
            out[-1] += line
        else:
            out.append(line)
        joining = line.endswith(" ") and line != "-- "
    return "\n".join(out)


def _body(message: EmailMessage) -> tuple[Message | None, str, bool, bool, bool]:
    """The body part, its text, charset repaired?, HTML only?, history cut inside the HTML?"""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return None, "", False, False, False
    text, repaired = _part_text(part)
    if part.get_content_type() == "text/html":
        plain, quoted = html_to_text(text)
        return part, plain, repaired, True, quoted
    # format=flowed soft line breaks (a trailing space) are one paragraph (RFC 3676).
    if str(part.get_param("format", "") or "").lower() == "flowed":
        text = _unflow(text)
    return part, text, repaired, False, False


def _attachments(message: EmailMessage, body: Message | None) -> tuple[list[MailAttachment], str]:
    """Files sent with the message, and the text of messages forwarded as attachments."""
    files: list[MailAttachment] = []
    forwarded: list[str] = []
    for part in message.walk():
        if part is body or part.is_multipart():
            continue
        content_type = part.get_content_type()
        disposition = part.get_content_disposition()
        filename = part.get_filename()
        if content_type == "message/rfc822" or (
            isinstance(part.get_payload(), list) and content_type.startswith("message/")
        ):
            continue
        if content_type.startswith("text/") and disposition != "attachment" and not filename:
            continue  # the other alternative of the body
        if content_type in ("message/delivery-status", "text/rfc822-headers"):
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes) or not data:
            continue
        name = _clean_header(filename) if filename else f"tep-dinh-kem-{len(files) + 1}"
        files.append(MailAttachment(name, content_type, data))
    for part in message.walk():
        if part.get_content_type() == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], EmailMessage):
                _, text, _, _, _ = _body(inner[0])
                forwarded.append(text)
    return files, "\n\n".join(forwarded)


def _generated_id(message: Message, raw: bytes) -> str:
    """A Message-ID for a message without one, the same every time the same bytes are read."""
    _, _, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    digest = hashlib.sha256()
    for name in ("From", "To", "Date", "Subject"):
        digest.update(
            name.encode()
            + b"\0"
            + str(message.get(name, "")).encode("utf-8", "surrogateescape")
            + b"\0"
        )
    digest.update(body)
    return f"<pakn.nomid.{digest.hexdigest()[:32]}@pakn.invalid>"


def parse_mail(raw: bytes, *, own_addresses: Collection[str] = ()) -> ParsedMail:
    """Read one message as a citizen's report. Raises :class:`PoisonMail` when it cannot be."""
    if not raw.strip():
        raise PoisonMail("empty")
    if b"\0" in raw.partition(b"\n\n")[0]:
        raise PoisonMail("binary_headers")
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception as exc:  # the parser is lenient; what it still refuses is poison
        raise PoisonMail(f"unreadable: {type(exc).__name__}") from exc
    assert isinstance(message, EmailMessage)
    own = {address.lower() for address in own_addresses}
    try:
        name, address = _first_address(message, "From")
        if address is None:
            name, address = _first_address(message, "Sender")
        if address is None:
            raise PoisonMail("no_sender")
        _, reply_to = _first_address(message, "Reply-To")
        subject = _header(message, "Subject")
        ids = _ids(message, "Message-ID")
        message_id = f"<{ids[0]}>" if ids else _generated_id(message, raw)
        references = tuple(
            dict.fromkeys(_ids(message, "In-Reply-To") + _ids(message, "References"))
        )
        ignore = _ignore_reason(message, address, own, subject)
        body, text, repaired, html_only, html_quoted = _body(message)
        files, forwarded_text = _attachments(message, body)
    except PoisonMail:
        raise
    except Exception as exc:
        raise PoisonMail(f"unreadable: {type(exc).__name__}") from exc
    if forwarded_text:
        text = f"{text}\n\n{forwarded_text}" if text.strip() else forwarded_text
    text = _normalize_text(text)
    conversion = repair_legacy_font(text)
    full_text = _INVISIBLE.sub("", conversion.text)
    reply = split_reply(full_text)
    signature = reply.signature
    date: datetime | None
    try:
        date = parsedate_to_datetime(_header(message, "Date")) if _header(message, "Date") else None
        if date is not None and date.tzinfo is None:
            date = None
    except (TypeError, ValueError, IndexError):
        date = None
    display = name if name and name.lower() != address and "@" not in name else None
    sender_name = display or name_from_signature(signature)
    return ParsedMail(
        message_id=message_id,
        message_id_generated=not ids,
        sender_name=sender_name,
        sender_address=address,
        reply_address=reply_to or address,
        subject=subject,
        title=_title(subject),
        date=date,
        content=reply.content,
        full_text=full_text,
        signature=signature,
        phone=find_phone(signature, reply.content),
        legacy_font=conversion.font,
        charset_repaired=repaired,
        html_only=html_only,
        quoted=reply.quoted or html_quoted,
        forwarded=reply.forwarded,
        attachments=tuple(files),
        references=references,
        reply_to_code=tracking_code_in_ids(references),
        subject_code=tracking_code_in_subject(subject),
        ignore=ignore,
    )
