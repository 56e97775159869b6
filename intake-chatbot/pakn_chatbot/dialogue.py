"""The Vietnamese dialogue, as pure code: (state, message) → (new state, replies, effects).

Nothing here does I/O. The service loads the state, calls :func:`step` with what the citizen
sent (photos already downloaded and checked by the core, the emergency verdict already
taken), carries out the effects (:class:`Submit`, :class:`Lookup`), and calls
:func:`submitted` / :func:`submit_unavailable` / :func:`status_reply` with their outcome.

How a report is collected:

- Five slots: content, place, time, name, phone. Every message is read for every slot at
  once (pakn.extract), so "Tôi là An, tối qua lúc 9h đèn trước 120 Trần Phú tắt, 0912…" fills
  four in one go; only what is still missing is asked, one question at a time.
- A slot that was asked and not understood is asked again once more politely, with what to
  write (``reasks``); the core's own rules (length, diacritics, future times…) decide whether
  a value is acceptable, and their Vietnamese messages are what the citizen reads.
- Content written without diacritics gets one polite request to rewrite it; a second text
  without them is taken as it is, and the report is submitted with the problem noted, so the
  agency asks rather than the chatbot insisting.
- Consent is asked once per citizen and kept with the session (version and moment).
- Then a summary; "gửi" submits, "sửa <mục>" (or just writing a new value) corrects one item.
- At any moment: "hủy" cancels, "tra cứu <mã>" or a bare tracking code shows a status, "bảo
  mật" asks for confidentiality, and an emergency is answered first, before anything else.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pakn.extract import PlaceFinder, find_name, find_phone, find_time
from pakn.extract import extract as extract_slots
from pakn.ids import InvalidTrackingCode, format_tracking_code, parse_tracking_code
from pakn.intake import IntakePolicy, check_report
from pakn.intake.validation import parse_occurred_at
from pakn.text import diacritics_report, fold, nfc
from pakn.worktime import local_text
from pakn_chatbot import messages

Slot = Literal["content", "place", "time", "name", "phone"]
SLOTS: tuple[Slot, ...] = ("content", "place", "time", "name", "phone")
Stage = Literal["idle", "collecting", "consent", "confirm", "correcting"]

#: A slot asked this many times without an answer is left to the agency (noted as a problem).
MAX_ASKS = 3
#: Slots the agency can ask for later; name and phone are how it would ask.
GIVE_UP: frozenset[Slot] = frozenset({"content", "place", "time"})
MAX_PHOTOS = 5
#: Fewer words than this, once phone, time and name are taken out, are no description.
CONTENT_WORDS = 3
#: A draft untouched this long is dropped (the citizen is told when next writing).
ABANDON_AFTER = timedelta(hours=24)
FUTURE_TOLERANCE = timedelta(minutes=15)

#: What a chat report may be accepted with, for the agency to ask back: what the dialogue
#: asked for in vain (content the citizen could not write with diacritics, a place or a
#: time asked three times). Anything else the core refuses is asked again.
CHAT_POLICY = IntakePolicy(
    problems=frozenset(
        {
            ("content", "missing_diacritics"),
            ("location.address", "required"),
            ("occurred_at", "required"),
        }
    )
)

#: Field names of the core's validation errors → the slot that fixes them.
_ERROR_SLOTS: dict[str, Slot] = {
    "content": "content",
    "title": "content",
    "occurred_at": "time",
    "location.address": "place",
    "submitter.name": "name",
    "submitter.phone": "phone",
    "submitter.contact": "phone",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlaceValue(_Model):
    address: str
    commune: str | None = None
    commune_code: str | None = None
    legacy_area: str | None = None


class TimeValue(_Model):
    at: datetime
    said: str


class Photo(_Model):
    """A photo the core accepted, kept in the store until the report is sent."""

    ref: str
    filename: str
    content_type: str
    size: int
    sha256: str


class ConsentRecord(_Model):
    version: str
    at: datetime


class Draft(_Model):
    """The report being collected."""

    started_at: datetime
    content: str | None = None
    place: PlaceValue | None = None
    time: TimeValue | None = None
    name: str | None = None
    phone: str | None = None
    confidential: bool = False
    photos: list[Photo] = Field(default_factory=list)
    asks: dict[str, int] = Field(default_factory=dict)
    #: Slots given up on after MAX_ASKS: submitted as problems, for the agency to ask.
    given_up: list[str] = Field(default_factory=list)
    diacritics_asked: bool = False
    turns: int = 0


class State(_Model):
    """Everything the chatbot remembers of one citizen on one platform."""

    stage: Stage = "idle"
    asking: Slot | None = None
    draft: Draft | None = None
    #: Reports started so far: the conversation number in ``channel_ref``.
    conversation: int = 0
    consent: ConsentRecord | None = None
    greeted: bool = False
    submitted: list[str] = Field(default_factory=list)
    updated_at: datetime | None = None


@dataclass(frozen=True)
class PhotoRejected:
    filename: str
    reason: str


@dataclass(frozen=True)
class Incoming:
    """One message from the citizen, already enriched by the service."""

    text: str
    now: datetime
    photos: Sequence[Photo | PhotoRejected] = ()
    #: The core's safety verdict for ``text``: the advice of each emergency found.
    emergency_advice: Sequence[str] = ()


@dataclass(frozen=True)
class Submit:
    draft: Draft
    conversation: int
    confirmed_at: datetime
    fields: dict[str, Any]


@dataclass(frozen=True)
class Lookup:
    tracking_code: str


Effect = Submit | Lookup


@dataclass
class Turn:
    state: State
    replies: list[str] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    #: What happened, for metrics: "started", "reask:<slot>", "cancelled", "completed"…
    events: list[str] = field(default_factory=list)
    #: Replies to send after the effects' own replies (the question to resume with).
    then: list[str] = field(default_factory=list)


# --- reading the citizen's words ----------------------------------------------------------


def _key(text: str) -> str:
    """Folded, punctuation and the polite particles at the end removed: "Hủy ạ!" → "huy"."""
    words = re.findall(r"[^\W_]+", fold(text))
    while words and words[-1] in {"a", "nhe", "nha", "di", "ak", "ah", "roi"}:
        words.pop()
    # "Dạ", "Thưa", "Vâng ạ" open a polite answer; what follows is the answer.
    while len(words) > 1 and words[0] in {"da", "thua", "vang", "oi"}:
        words.pop(0)
    return " ".join(words)


_CANCEL = {"huy", "huy bo", "thoi", "dung", "dung lai", "huy phan anh", "cancel", "stop"}
_YES = {
    "co", "dong y", "ok", "oke", "okay", "vang", "u", "uh", "gui", "gui di", "dung", "dung roi",
    "chinh xac", "duoc", "toi dong y", "em dong y", "minh dong y", "yes", "xac nhan",
}  # fmt: skip
_NO = {"khong", "ko", "k", "no", "khong dong y", "chua", "toi khong dong y"}
_GREETINGS = {
    "xin chao", "chao", "chao ban", "hi", "hello", "alo", "xin chao ban", "chao ad", "hey",
    "bat dau", "start", "get started",
}  # fmt: skip
_INTENT = re.compile(
    r"^(?:(?:toi|em|minh|chau|cho)\s+)?(?:muon|can|xin|dinh)?\s*"
    r"(?:phan anh|kien nghi|gop y|bao cao|bao)(?:\s+(?:viec|ve|su viec|mot viec))?$"
)
_CONFIDENTIAL = re.compile(
    r"(?<![^\W_])(?:bao mat|giu bi mat|bi mat|khong cong khai|an danh|giau ten)(?![^\W_])"
)
_LOOKUP = re.compile(
    r"^\s*(?:tra\s*cuu|kiem\s*tra|xem|tinh\s*trang|trang\s*thai)"
    r"(?:\s+(?:ho\s*so|ma(?:\s+ho\s+so)?|phan\s+anh))?\s*[:#]?\s*(?P<code>[\d .\-]*)\s*$"
)
_BARE_CODE = re.compile(r"^\s*(?:ma\s*)?(?P<code>\d(?:[ .\-]?\d){9})\s*$")
_CORRECT = re.compile(r"^\s*(?:sua|doi|thay doi|chinh sua|sua lai)(?:\s+(?:lai|muc))?(?P<rest>.*)$")
_CORRECTION_ITEMS: tuple[tuple[str, Slot], ...] = (
    ("noi dung", "content"),
    ("su viec", "content"),
    ("dia diem", "place"),
    ("dia chi", "place"),
    ("noi xay ra", "place"),
    ("vi tri", "place"),
    ("thoi gian", "time"),
    ("ngay gio", "time"),
    ("gio", "time"),
    ("ngay", "time"),
    ("ho ten", "name"),
    ("ho va ten", "name"),
    ("ten", "name"),
    ("so dien thoai", "phone"),
    ("dien thoai", "phone"),
    ("sdt", "phone"),
    ("so dt", "phone"),
    ("so", "phone"),
)


_PRONOUNS = {"toi", "em", "minh", "chau", "con", "anh", "chi"}
_YES_PHRASES = ("dong y", "gui", "xac nhan", "dung roi", "chinh xac", "vang", "ok")


def _is_yes(key: str) -> bool:
    """ "đồng ý", "Dạ em đồng ý", "gửi giúp em", "ok luôn": yes; "có người bị thương": no."""
    if key in _YES:
        return True
    words = key.split()
    while words and words[0] in _PRONOUNS:
        words = words[1:]
    rest = " ".join(words)
    for phrase in _YES_PHRASES:
        if rest == phrase or (
            rest.startswith(phrase + " ") and len(words) <= len(phrase.split()) + 3
        ):
            return True
    return False


def _without_greeting(key: str) -> str:
    """ "chao ban toi muon phan anh" → "toi muon phan anh"."""
    for greeting in sorted(_GREETINGS, key=len, reverse=True):
        if key == greeting:
            return ""
        if key.startswith(greeting + " "):
            return key[len(greeting) + 1 :]
    return key


def _correction_item(rest: str) -> tuple[Slot | None, str]:
    """The item named after "sửa" and what follows it ("sửa số điện thoại 0905…")."""
    words = rest.split()
    for phrase, slot in sorted(_CORRECTION_ITEMS, key=lambda p: -len(p[0])):
        parts = phrase.split()
        if words[: len(parts)] == parts:
            return slot, " ".join(words[len(parts) :])
    return None, rest


def _tracking_code(text: str, key: str) -> str | Literal["invalid", "ask"] | None:
    """A tracking code the citizen asks about; "invalid"/"ask" when asked without a good one."""
    if match := _LOOKUP.match(key):
        digits = match["code"].strip()
        if not digits:
            return "ask"
        try:
            return parse_tracking_code(digits)
        except InvalidTrackingCode:
            return "invalid"
    if match := _BARE_CODE.match(key):
        try:
            return parse_tracking_code(match["code"])
        except InvalidTrackingCode:
            return None  # ten digits that are no code: a phone, perhaps
    return None


# --- the turn -----------------------------------------------------------------------------


def step(
    state: State,
    incoming: Incoming,
    *,
    places: PlaceFinder | None = None,
    abandon_after: timedelta = ABANDON_AFTER,
) -> Turn:
    """One message: the new state, what to answer, and what the service must do."""
    now = incoming.now
    text = nfc(incoming.text or "").strip()
    key = _key(text)
    turn = Turn(state.model_copy(deep=True))
    st = turn.state

    # An emergency is answered before anything else, whatever the conversation was about.
    if incoming.emergency_advice:
        turn.replies.append(messages.EMERGENCY_HEADER)
        turn.replies.extend(dict.fromkeys(incoming.emergency_advice))
        turn.events.append("emergency")

    if st.draft is not None and st.updated_at is not None and now - st.updated_at > abandon_after:
        _reset(st)
        turn.replies.append(messages.EXPIRED)
        turn.events.append("abandoned")
    if not st.greeted:
        st.greeted = True
        turn.replies.append(messages.GREETING)
    st.updated_at = now
    if st.draft is not None:
        st.draft.turns += 1

    if key in _CANCEL:
        if st.draft is None:
            turn.replies.append(messages.NOTHING_TO_CANCEL)
        else:
            _reset(st)
            turn.replies.append(messages.CANCELLED)
            turn.events.append("cancelled")
        return turn

    asking_phone = st.asking == "phone" or st.stage in {"confirm", "correcting"}
    code = _tracking_code(text, key) if not (asking_phone and find_phone(text)) else None
    if code == "ask":
        turn.replies.append(messages.LOOKUP_ASK)
        return turn
    if code == "invalid":
        turn.replies.append(messages.LOOKUP_INVALID)
        return turn
    if code is not None:
        turn.effects.append(Lookup(code))
        if st.draft is not None:
            turn.then.extend(_prompt(st))
        return turn

    wants_secret = bool(_CONFIDENTIAL.search(key))
    if wants_secret:
        _draft(st, now, turn).confidential = True
        turn.replies.append(messages.CONFIDENTIAL)

    photos_only = not text and incoming.photos
    if incoming.photos:
        _take_photos(_draft(st, now, turn), incoming.photos, turn)
    if photos_only:
        if st.stage == "idle":
            st.stage, st.asking = "collecting", "content"
        turn.replies.extend(_prompt(st) if st.stage != "confirm" else [_summary(st)])
        return turn

    if st.stage == "consent":
        return _on_consent(st, key, now, turn, places)
    if st.stage == "confirm":
        return _on_confirm(st, text, key, now, turn, places)
    if st.stage == "correcting":
        return _on_correcting(st, text, key, now, turn, places)

    if st.stage == "idle":
        rest = _without_greeting(key)
        if not rest or _INTENT.match(rest) or (wants_secret and len(key.split()) <= 4):
            if key in _GREETINGS and st.submitted and messages.GREETING not in turn.replies:
                turn.replies.append(messages.GREETING)
            if not wants_secret or st.draft is not None:
                _draft(st, now, turn)  # the report starts now; its content comes next
                st.stage, st.asking = "collecting", "content"
                turn.replies.append(messages.ASK["content"])
            return turn
        _draft(st, now, turn)
        st.stage = "collecting"
        st.asking = None

    _collect(st, text, now, turn, places, first=st.asking is None)
    return turn


def _draft(st: State, now: datetime, turn: Turn) -> Draft:
    if st.draft is None:
        st.draft = Draft(started_at=now, turns=1)
        st.conversation += 1
        turn.events.append("started")
    return st.draft


def _reset(st: State) -> None:
    st.draft = None
    st.stage = "idle"
    st.asking = None


def _take_photos(draft: Draft, photos: Sequence[Photo | PhotoRejected], turn: Turn) -> None:
    added = 0
    for photo in photos:
        if isinstance(photo, PhotoRejected):
            turn.replies.append(
                messages.PHOTO_REJECTED.format(filename=photo.filename, reason=photo.reason)
            )
        elif len(draft.photos) >= MAX_PHOTOS:
            turn.replies.append(messages.PHOTO_LIMIT.format(maximum=MAX_PHOTOS))
            break
        elif all(p.sha256 != photo.sha256 for p in draft.photos):
            draft.photos.append(photo)
            added += 1
    if added:
        turn.replies.append(messages.PHOTO_RECEIVED.format(count=len(draft.photos)))


# --- collecting the slots ---------------------------------------------------------------


def _collect(
    st: State,
    text: str,
    now: datetime,
    turn: Turn,
    places: PlaceFinder | None,
    *,
    first: bool,
    overwrite: bool = False,
) -> None:
    draft = st.draft
    assert draft is not None
    asked = st.asking
    filled: list[Slot] = []
    if asked is not None and text:
        loose = draft.asks.get(asked, 0) >= 2
        if _answer(draft, asked, text, now, places, loose=loose):
            filled.append(asked)
    for slot, value in _found(text, now, places).items():
        if slot == asked or slot in filled:
            continue
        if getattr(draft, slot) is None or overwrite:
            _set(draft, slot, value)
            filled.append(slot)
    if first and text and draft.content is None and _answer(draft, "content", text, now, places):
        filled.insert(0, "content")
    if (filled and len(filled) > 1) or (filled and asked is None and not first):
        turn.replies.append(
            messages.NOTED.format(items=", ".join(messages.SLOT_LABELS[s] for s in filled))
        )
    _advance(st, now, turn, places, failed=asked if asked and asked not in filled else None)


def _found(text: str, now: datetime, places: PlaceFinder | None) -> dict[Slot, Any]:
    """Every slot value ``text`` gives on its own (its content aside)."""
    found = extract_slots(text, now=now, places=places)
    values: dict[Slot, Any] = {}
    if found.place is not None:
        values["place"] = PlaceValue(
            address=found.place.address,
            commune=found.place.commune,
            commune_code=found.place.commune_code,
            legacy_area=found.place.legacy_area,
        )
    if found.time is not None:
        said = text[found.time.start : found.time.end].strip()
        values["time"] = TimeValue(at=found.time.at, said=said)
    if found.name is not None:
        values["name"] = found.name.name
    if found.phone is not None:
        values["phone"] = found.phone.e164
    return values


def _set(draft: Draft, slot: Slot, value: Any) -> None:
    setattr(draft, slot, value)
    if slot in draft.given_up:
        draft.given_up.remove(slot)


def _answer(
    draft: Draft,
    slot: Slot,
    text: str,
    now: datetime,
    places: PlaceFinder | None,
    *,
    overwrite: bool = False,
    loose: bool = False,
) -> bool:
    """Reads ``text`` as the answer to the question about ``slot``; False if it is none."""
    if slot == "content":
        if len(re.findall(r"[^\W\d_]+", _without_slots(text, now, places))) < CONTENT_WORDS:
            return False  # only a phone, a name…: an answer to another question
        rewrite = (
            draft.diacritics_asked
            and bool(draft.content)
            and _lacks_diacritics(draft.content or "")
        )
        if draft.content is None or overwrite or rewrite:
            draft.content = text
        else:
            draft.content = f"{draft.content} {text}"
        return True
    if slot == "place":
        found = places.find(text) if places is not None else None
        if found is not None:
            _set(draft, "place", PlaceValue(**_place_fields(found)))
            return True
        # Taken as written when asked again, or when the citizen corrects it: the router
        # reads free-text addresses too.
        words = re.findall(r"[^\W\d_]+", text)
        if loose and len(words) >= 2 and _key(text) not in _YES | _NO:
            _set(draft, "place", PlaceValue(address=text))
            return True
        return False
    if slot == "time":
        when = find_time(text, now=now)
        if when is not None:
            _set(draft, "time", TimeValue(at=when.at, said=text[when.start : when.end].strip()))
            return True
        try:
            at = parse_occurred_at(text)
        except (ValueError, OverflowError):
            return False
        _set(draft, "time", TimeValue(at=at, said=text))
        return True
    if slot == "name":
        named = find_name(text)
        if named is not None:
            _set(draft, "name", named.name)
            return True
        words = re.findall(r"[^\W\d_]+", text)
        lower = text == text.lower()
        plausible = (
            1 <= len(words) <= (4 if lower else 6)
            and not re.search(r"\d", text)
            and (lower or all(w[0].isupper() for w in words))
            and _key(text) not in _YES | _NO
            and not _found(text, now, places)
        )
        if plausible:
            name = " ".join(words)
            _set(draft, "name", name.title() if lower else name)
            return True
        return False
    phone = find_phone(text)
    if phone is not None:
        _set(draft, "phone", phone.e164)
        return True
    return False


def _without_slots(text: str, now: datetime, places: PlaceFinder | None) -> str:
    """``text`` without the phone, time and name it gives (what is left to be content)."""
    found = extract_slots(text, now=now, places=None)
    spans = sorted((m.start, m.end) for m in (found.phone, found.time, found.name) if m is not None)
    kept, position = [], 0
    for start, end in spans:
        kept.append(text[position:start])
        position = max(position, end)
    kept.append(text[position:])
    rest = "".join(kept)
    return re.sub(r"(?i)\b(?:sđt|sdt|số điện thoại|so dien thoai|đt|dt|tên|ten|tôi là)\b", "", rest)


def _place_fields(found: Any) -> dict[str, Any]:
    return {
        "address": found.address,
        "commune": found.commune,
        "commune_code": found.commune_code,
        "legacy_area": found.legacy_area,
    }


def _lacks_diacritics(text: str) -> bool:
    return diacritics_report(text).verdict == "missing_diacritics"


def _advance(
    st: State, now: datetime, turn: Turn, places: PlaceFinder | None, *, failed: Slot | None
) -> None:
    """Asks for the next thing missing, or moves on to consent and the summary."""
    draft = st.draft
    assert draft is not None
    problem = _first_problem(st, now)
    if problem is None:
        st.asking = None
        if st.consent is None:
            st.stage = "consent"
            turn.replies.append(messages.CONSENT)
        else:
            st.stage = "confirm"
            turn.replies.append(_summary(st))
        return
    slot, message = problem
    st.stage = "collecting"
    asks = draft.asks.get(slot, 0)
    again = asks > 0 and (slot == st.asking or slot == failed)
    if asks >= MAX_ASKS - 1 and again and slot in GIVE_UP:
        # Asked enough: the agency will ask instead of the citizen fighting the chatbot.
        draft.given_up.append(slot)
        draft.asks[slot] = asks + 1
        turn.events.append(f"given_up:{slot}")
        _advance(st, now, turn, places, failed=None)
        return
    draft.asks[slot] = asks + 1
    st.asking = slot
    if again or message is not None:
        turn.events.append(f"reask:{slot}")
    turn.replies.append(message or (messages.REASK[slot] if again else messages.ASK[slot]))


def _first_problem(st: State, now: datetime) -> tuple[Slot, str | None] | None:
    """The first slot, in asking order, that is missing or that the core refuses, with the
    core's own message for it."""
    draft = st.draft
    assert draft is not None
    errors = _core_errors(st, now)
    for slot in SLOTS:
        if slot in draft.given_up:
            continue
        if getattr(draft, slot) is None:
            return slot, None
        if slot == "content" and draft.content and _lacks_diacritics(draft.content):
            if not draft.diacritics_asked:
                draft.diacritics_asked = True
                return "content", messages.MISSING_DIACRITICS
            # Asked once: taken as written; the agency reads it and asks if it must.
            draft.given_up.append("content")
            continue
        if slot == "time" and draft.time is not None and draft.time.at > now + FUTURE_TOLERANCE:
            draft.time = None
            return "time", messages.IN_FUTURE
        for error in errors:
            if _ERROR_SLOTS.get(error.field) != slot or error.code == "missing_diacritics":
                continue
            if slot != "content":
                setattr(draft, slot, None)
            return slot, error.message
    return None


def _core_errors(st: State, now: datetime) -> list[Any]:
    return check_report(report_fields(st), now=now, policy=CHAT_POLICY).errors


def report_fields(st: State) -> dict[str, Any]:
    """The draft in the shape of the JSON API (what the core's validation reads)."""
    draft = st.draft
    assert draft is not None
    location: dict[str, Any] = {}
    if draft.place is not None:
        location = {"address": draft.place.address, "commune": draft.place.commune}
    return {
        "content": draft.content,
        "occurred_at": draft.time.at.isoformat() if draft.time else None,
        "location": location,
        "submitter": {"name": draft.name, "phone": draft.phone},
        "confidential": draft.confidential,
        "consent": True,
        "notify_via": None,
    }


def _prompt(st: State) -> list[str]:
    """The question the conversation is waiting on, to ask again after an interruption."""
    if st.stage == "consent":
        return [messages.CONSENT]
    if st.stage == "confirm":
        return [_summary(st)]
    if st.asking is not None:
        return [messages.ASK[st.asking]]
    return []


# --- consent, summary, corrections --------------------------------------------------------


def _on_consent(st: State, key: str, now: datetime, turn: Turn, places: PlaceFinder | None) -> Turn:
    if _is_yes(key) or key == "co":
        st.consent = ConsentRecord(version=messages.CONSENT_VERSION, at=now)
        st.stage = "confirm"
        turn.replies.append(messages.CONSENT_THANKS)
        turn.replies.append(_summary(st))
    elif key in _NO:
        turn.replies.append(messages.CONSENT_REFUSED)
    else:
        turn.replies.append(messages.CONSENT)
    return turn


def _on_confirm(
    st: State, text: str, key: str, now: datetime, turn: Turn, places: PlaceFinder | None
) -> Turn:
    draft = st.draft
    assert draft is not None
    if _is_yes(key):
        turn.effects.append(
            Submit(
                draft=draft.model_copy(deep=True),
                conversation=st.conversation,
                confirmed_at=now,
                fields=report_fields(st),
            )
        )
        return turn
    if match := _CORRECT.match(key):
        slot, rest = _correction_item(match["rest"].strip())
        if slot is None:
            st.stage, st.asking = "correcting", None
            turn.replies.append(messages.ASK_CORRECTION)
            return turn
        value_text = _original_tail(text, rest)
        if value_text and _answer(draft, slot, value_text, now, places, overwrite=True, loose=True):
            turn.replies.append(messages.CORRECTED.format(item=messages.SLOT_LABELS[slot]))
            _advance(st, now, turn, places, failed=None)
            return turn
        st.stage, st.asking = "correcting", slot
        turn.replies.append(messages.ASK[slot])
        return turn
    # A new value written straight away ("0905 123 456", "à nhầm, 9 giờ tối") corrects it.
    found = {s: v for s, v in _found(text, now, places).items() if v != getattr(draft, s)}
    if found:
        for slot, value in found.items():
            _set(draft, slot, value)
        labels = ", ".join(messages.SLOT_LABELS[s] for s in found)
        turn.replies.append(messages.CORRECTED.format(item=labels))
        _advance(st, now, turn, places, failed=None)
        return turn
    turn.replies.append(_summary(st))
    return turn


def _original_tail(text: str, folded_tail: str) -> str:
    """The last words of ``text`` that fold to ``folded_tail`` (what follows "sửa số")."""
    if not folded_tail:
        return ""
    count = len(folded_tail.split())
    tokens = text.split()
    return " ".join(tokens[-count:]) if count <= len(tokens) else text


def _on_correcting(
    st: State, text: str, key: str, now: datetime, turn: Turn, places: PlaceFinder | None
) -> Turn:
    draft = st.draft
    assert draft is not None
    if st.asking is None:
        slot, rest = _correction_item(key)
        if slot is None:
            turn.replies.append(messages.ASK_CORRECTION)
            return turn
        value_text = _original_tail(text, rest)
        if value_text and _answer(draft, slot, value_text, now, places, overwrite=True, loose=True):
            turn.replies.append(messages.CORRECTED.format(item=messages.SLOT_LABELS[slot]))
            _advance(st, now, turn, places, failed=None)
            return turn
        st.asking = slot
        turn.replies.append(messages.ASK[slot])
        return turn
    slot = st.asking
    if slot == "content":
        draft.content = None
    if _answer(draft, slot, text, now, places, overwrite=True, loose=True):
        turn.replies.append(messages.CORRECTED.format(item=messages.SLOT_LABELS[slot]))
        _advance(st, now, turn, places, failed=None)
    else:
        turn.replies.append(messages.REASK[slot])
        turn.events.append(f"reask:{slot}")
    return turn


def _summary(st: State) -> str:
    draft = st.draft
    assert draft is not None
    unknown = "(chưa rõ)"
    extra = ""
    if draft.photos:
        extra += messages.SUMMARY_PHOTOS.format(count=len(draft.photos))
    if draft.confidential:
        extra += messages.SUMMARY_CONFIDENTIAL
    return messages.SUMMARY.format(
        content=draft.content or unknown,
        place=draft.place.address if draft.place else unknown,
        time=f"{draft.time.said} ({local_text(draft.time.at)})" if draft.time else unknown,
        name=draft.name or unknown,
        phone=_display_phone(draft.phone) if draft.phone else unknown,
        extra=extra,
    )


def _display_phone(e164: str) -> str:
    return "0" + e164[3:] if e164.startswith("+84") else e164


# --- after the effects --------------------------------------------------------------------


def submitted(state: State, tracking_code: str, status_url: str) -> Turn:
    """The report was accepted (the broker confirmed): the code, and a fresh start."""
    turn = Turn(state.model_copy(deep=True))
    st = turn.state
    turns = st.draft.turns if st.draft is not None else 0
    code = format_tracking_code(tracking_code)
    st.submitted = [*st.submitted[-9:], tracking_code]
    _reset(st)
    turn.replies.append(messages.SUBMITTED.format(code=code, url=status_url))
    turn.replies.append(messages.AFTER_SUBMIT)
    turn.events.append(f"completed:{turns}")
    return turn


def submit_unavailable(state: State) -> Turn:
    """The broker could not confirm: nothing is lost, the citizen sends "gửi" again."""
    return Turn(state.model_copy(deep=True), [messages.SUBMIT_UNAVAILABLE])


def submit_refused(state: State, problems: Sequence[str]) -> Turn:
    """The core refused what the dialogue let through (it should not): say what, keep all."""
    text = messages.SUBMIT_INVALID.format(problems=" ".join(problems))
    return Turn(state.model_copy(deep=True), [text])


def status_reply(tracking_code: str, view: dict[str, Any] | None) -> str:
    """A public view of a case (the core's, as the web shows it) in one chat message."""
    code = format_tracking_code(tracking_code)
    if view is None:
        return messages.LOOKUP_NOT_FOUND.format(code=code)
    status = str(view.get("status", "received"))
    text = messages.STATUS.format(code=code, status=messages.STATUS_LABELS.get(status, status))
    agency = view.get("lead_agency_name") or view.get("lead_agency")
    if agency:
        text += messages.STATUS_AGENCY.format(agency=agency)
    due = view.get("due_at")
    if due and status not in {"published", "resolved"}:
        moment = datetime.fromisoformat(due) if isinstance(due, str) else due
        text += messages.STATUS_DUE.format(due=local_text(moment))
    if view.get("overdue"):
        text += messages.STATUS_OVERDUE
    escalation = view.get("escalation_reason") or (view.get("escalation") or {}).get("reason")
    if escalation:
        text += messages.STATUS_ESCALATION.format(reason=escalation)
    result = view.get("result")
    if isinstance(result, dict) and result.get("text"):
        text += messages.STATUS_RESULT.format(result=result["text"])
    elif isinstance(result, str) and result:
        text += messages.STATUS_RESULT.format(result=result)
    return text


def expire(state: State) -> State:
    """The state after an abandoned draft is dropped by the sweeper."""
    st = state.model_copy(deep=True)
    _reset(st)
    return st
