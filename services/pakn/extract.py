"""Slots read from Vietnamese free text: phone, when, where, who — for chat and call transcripts.

Pure functions. Each finder returns what it read together with the characters it read it
from (``start``/``end`` into the text given), so a caller can show or strike out what it took.
Text typed without diacritics is read too ("toi qua luc 9h", "phuong vinh hai"): every
Vietnamese word below matches with or without its marks, never with other marks ("tôi" is
not "tối").

- Phones: Vietnamese mobile and landline numbers as people write them (spaced, dotted,
  dashed, "(0258) 3822 123", "+84 …", "84…"), as E.164; service numbers 1800/1900 are not a
  citizen's phone.
- Times, relative to ``now`` in province time: "sáng nay", "chiều qua", "tối qua lúc 9h",
  "đêm qua", "hôm kia", "lúc 7h30", "8 giờ 25/11", "ngày 25 tháng 11", "thứ hai tuần trước",
  "3 ngày trước", "vừa xong". A clock time with no day is the latest one not in the future.
  ``precision`` says how much was said; a part of the day without a clock time gets the
  hour in :data:`PART_DEFAULT_HOURS`.
- Places: a street address ("120 Trần Phú", "hẻm 15 Lê Hồng Phong", "thôn 2") and the commune
  or ward, old name or new, read by :class:`pakn.locality.LocalityResolver` (the router's own
  reading), with the comma-separated place words that follow ("…, P. Vĩnh Hải, TP Nha Trang").
- Names: after "tôi là", "tên tôi là", "họ tên:", "mình tên"… — capitalised words, or in a
  text written all in lower case, the few words up to the next punctuation.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

import phonenumbers

from pakn.locality import LocalityResolver
from pakn.territory import ProvinceConfig
from pakn.text import fold, nfc
from pakn.worktime import VIETNAM_TZ

Precision = Literal["minute", "part", "day", "now"]
PartOfDay = Literal["sang", "trua", "chieu", "toi", "dem"]

#: The hour a part of the day stands for when no clock time is given.
PART_DEFAULT_HOURS: dict[PartOfDay, int] = {
    "sang": 8,
    "trua": 12,
    "chieu": 15,
    "toi": 20,
    "dem": 23,
}
#: When each part of the day begins: "sáng nay" said at 6:30 is earlier this morning (then),
#: not 8:00, still ahead; "chiều nay" said at 7:00 has not begun and stays ahead.
PART_START_HOURS: dict[PartOfDay, int] = {
    "sang": 5,
    "trua": 11,
    "chieu": 13,
    "toi": 18,
    "dem": 22,
}
#: A date without a year that would lie further ahead than this is last year's.
_YEAR_TOLERANCE = timedelta(days=1)

_LETTER = r"[^\W\d_]"
_NOT_BEFORE = r"(?<![^\W_])"
_NOT_AFTER = r"(?![^\W_])"


def _w(phrase: str) -> str:
    """A regex for a Vietnamese phrase that matches it with its marks or without any.

    Each marked letter becomes "[marked plain]"; spaces match any run of whitespace.
    """
    pieces: list[str] = []
    for ch in nfc(phrase):
        if ch == " ":
            pieces.append(r"\s+")
            continue
        plain = fold(ch)
        if len(plain) == 1 and plain != ch.lower():
            pieces.append(f"[{ch}{plain}]")
        else:
            pieces.append(re.escape(ch))
    return "".join(pieces)


def _any(*phrases: str) -> str:
    """One alternation of phrases, longest first so "hôm qua" wins over "qua"."""
    return "(?:" + "|".join(_w(p) for p in sorted(phrases, key=len, reverse=True)) + ")"


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# ---------------------------------------------------------------------------------------------
# Phones
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PhoneMatch:
    e164: str
    start: int
    end: int


def find_phones(text: str) -> list[PhoneMatch]:
    """Every valid Vietnamese phone number in ``text``, in order, each once."""
    found: list[PhoneMatch] = []
    seen: set[str] = set()
    for match in phonenumbers.PhoneNumberMatcher(text, "VN", phonenumbers.Leniency.VALID):
        number = match.number
        national = str(number.national_number)
        if number.country_code == 84 and national.startswith(("1800", "1900")):
            continue  # a hotline the citizen mentions, not the citizen's own number
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if e164 not in seen:
            seen.add(e164)
            found.append(PhoneMatch(e164, match.start, match.end))
    return found


def find_phone(text: str) -> PhoneMatch | None:
    phones = find_phones(text)
    return phones[0] if phones else None


# ---------------------------------------------------------------------------------------------
# Times
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeMatch:
    """When something happened, as an aware UTC moment, and how precisely it was said."""

    at: datetime
    precision: Precision
    start: int
    end: int


_PARTS: dict[str, PartOfDay] = {
    "sáng": "sang",
    "buổi sáng": "sang",
    "trưa": "trua",
    "buổi trưa": "trua",
    "chiều": "chieu",
    "buổi chiều": "chieu",
    "tối": "toi",
    "buổi tối": "toi",
    "đêm": "dem",
    "ban đêm": "dem",
    "khuya": "dem",
    "nửa đêm": "dem",
}
_PART = _any(*_PARTS)
_TODAY = _any("hôm nay", "bữa nay", "ngày hôm nay", "nay")
_YESTERDAY = _any("hôm qua", "bữa qua", "ngày hôm qua", "qua")
_DAY_BEFORE = _any("hôm kia", "bữa kia", "kia")
_NAMED_DAYS = ("hôm nay", "bữa nay", "hôm qua", "bữa qua", "hôm kia", "bữa kia")
_JUST_NOW = (
    "vừa xong", "vừa nãy", "lúc nãy", "ban nãy", "ngay bây giờ", "bây giờ", "hiện giờ",
    "mới xảy ra", "vừa mới",
)  # fmt: skip
_REL_DAY = f"(?P<rel>{_TODAY}|{_YESTERDAY}|{_DAY_BEFORE})"
# "Nay", "qua" and "kia" alone are ordinary words ("đi qua"): a day only after a part of the
# day or "hôm"/"bữa".
_PART_AND_DAY = _compile(
    f"{_NOT_BEFORE}(?P<part>{_PART})\\s+(?:{_any('hôm', 'bữa')}\\s+)?"
    f"(?P<rel>{_TODAY}|{_YESTERDAY}|{_DAY_BEFORE}){_NOT_AFTER}"
)
_DAY_ALONE = _compile(f"{_NOT_BEFORE}(?P<rel>{_any(*_NAMED_DAYS)}){_NOT_AFTER}")
_HALF = _any("rưỡi")
# 8h, 8h30, 8:30, 8 giờ, 8 giờ 30 (phút), 8 giờ rưỡi, 20g15.
_CLOCK = _compile(
    rf"(?<![\d/.:])(?P<hour>[01]?\d|2[0-3])\s*(?:(?:h|{_w('giờ')}|g)(?![^\W\d_])|:(?=\d{{2}}))"
    rf"\s*(?:(?P<minute>[0-5]\d)(?!\d|[/.-]\d)\s*(?:{_w('phút')}|p)?{_NOT_AFTER}|(?P<half>{_HALF}))?"
)
_CLOCK_CUE = _compile(f"(?:{_any('lúc', 'vào lúc', 'khoảng', 'tầm', 'vào', 'hồi')})\\s*$")
_DATE = _compile(
    r"(?<![\d/.:+])(?P<d>[0-3]?\d)\s*[/.-]\s*(?P<m>[01]?\d)(?:\s*[/.-]\s*(?P<y>\d{4}|\d{2}))?"
    r"(?![\d/.:]*\d)"
)
_DATE_WORDS = _compile(
    f"{_NOT_BEFORE}{_w('ngày')}\\s+(?P<d>[0-3]?\\d)\\s+{_w('tháng')}\\s+(?P<m>[01]?\\d)"
    f"(?:\\s+{_w('năm')}\\s+(?P<y>\\d{{4}}))?{_NOT_AFTER}"
)
_WEEKDAYS = {
    **{f"thứ {n}": i for i, n in enumerate(("hai", "ba", "tư", "năm", "sáu", "bảy"))},
    **{f"thứ {i + 2}": i for i in range(6)},
    "chủ nhật": 6,
    "cn": 6,
}
_WEEKDAY = _compile(
    f"{_NOT_BEFORE}(?P<wd>{_any(*_WEEKDAYS)})"
    f"(?P<last>\\s+{_any('tuần trước', 'tuần rồi', 'tuần qua')})?{_NOT_AFTER}"
)
_NUMBER_WORDS = {
    "một": 1,
    "hai": 2,
    "ba": 3,
    "bốn": 4,
    "năm": 5,
    "sáu": 6,
    "bảy": 7,
    "tám": 8,
    "chín": 9,
    "mười": 10,
}
_DAYS_AGO = _compile(
    f"{_NOT_BEFORE}(?P<n>\\d{{1,2}}|{_any(*_NUMBER_WORDS)})\\s+{_any('ngày', 'hôm', 'bữa')}"
    f"\\s+{_any('trước', 'rồi', 'nay')}{_NOT_AFTER}"
)
_LAST_WEEK = _compile(f"{_NOT_BEFORE}{_any('tuần trước', 'tuần rồi')}{_NOT_AFTER}")
_NOW = _compile(f"{_NOT_BEFORE}{_any(*_JUST_NOW)}{_NOT_AFTER}")
# A part of the day written right next to a clock time: "9h tối", "tối lúc 9h", "sáng 7 giờ".
_PART_AFTER_CLOCK = _compile(f"^\\s*(?P<part>{_PART}){_NOT_AFTER}")
_PART_BEFORE_CLOCK = _compile(
    f"{_NOT_BEFORE}(?P<part>{_PART})(?:\\s+{_REL_DAY})?\\s*(?:{_any('lúc', 'khoảng', 'tầm')})?\\s*$"
)


def _part_of(word: str) -> PartOfDay:
    key = fold(" ".join(word.split()))
    for written, part in _PARTS.items():
        if fold(written) == key:
            return part
    raise KeyError(word)


def _rel_days(word: str) -> int:
    key = fold(" ".join(word.split()))
    if key.endswith("nay"):
        return 0
    if key.endswith("qua"):
        return 1
    return 2


def _hour_in(part: PartOfDay | None, hour: int) -> tuple[int, int]:
    """(hour of day, days after the named day) for "9h tối", "2 giờ đêm qua"…"""
    if part in {"chieu", "toi"} and hour < 12:
        return hour + 12, 0
    if part == "trua" and hour < 11:
        return hour + 12, 0
    if part == "dem":
        if hour < 6:
            return hour, 1  # "2 giờ đêm qua": the small hours after yesterday
        if hour < 12:
            return hour + 12, 0
    return hour, 0


@dataclass
class _Reading:
    day: date | None = None
    day_span: tuple[int, int] | None = None
    part: PartOfDay | None = None
    clock: tuple[int, int] | None = None
    clock_span: tuple[int, int] | None = None
    now: bool = False
    now_span: tuple[int, int] | None = None

    def spans(self) -> list[tuple[int, int]]:
        return [s for s in (self.day_span, self.clock_span, self.now_span) if s is not None]


def _year_for(day: int, month: int, today: date) -> date:
    candidate = date(today.year, month, day)
    if candidate - today > _YEAR_TOLERANCE:
        candidate = date(today.year - 1, month, day)
    return candidate


def _explicit_date(text: str, today: date, taken: list[tuple[int, int]]) -> _Reading | None:
    for pattern in (_DATE_WORDS, _DATE):
        for match in pattern.finditer(text):
            if _overlaps(match.span(), taken):
                continue
            day, month = int(match["d"]), int(match["m"])
            year_text = match["y"]
            if pattern is _DATE and year_text is None and _looks_like_house_number(text, match):
                continue
            try:
                if year_text is None:
                    found = _year_for(day, month, today)
                else:
                    year = int(year_text)
                    found = date(year + 2000 if year < 100 else year, month, day)
            except ValueError:
                continue
            return _Reading(day=found, day_span=match.span())
    return None


def _looks_like_house_number(text: str, match: re.Match[str]) -> bool:
    """ "28/4 Nguyễn Khuyến", "hẻm 12/3": an address, not a date."""
    before = text[: match.start()].rstrip().lower()
    if re.search(f"{_any('số', 'nhà', 'hẻm', 'kiệt', 'ngõ', 'ngách', 'số nhà', 'sn')}$", before):
        return True
    after = text[match.end() :].lstrip()
    return bool(after) and after[0].isupper() and not re.match(_PART, after, re.IGNORECASE)


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in taken)


def find_time(text: str, *, now: datetime) -> TimeMatch | None:
    """When the text says something happened, relative to ``now`` (aware); None if it does not.

    The first day and the first clock time named are combined ("8 giờ 25/11", "tối qua lúc
    9h"); phone numbers are never read as dates or times.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    text = nfc(text)
    local_now = now.astimezone(VIETNAM_TZ)
    today = local_now.date()
    taken = [(p.start, p.end) for p in find_phones(text)]
    reading = _Reading()

    if m := _DAYS_AGO.search(text):
        count = m["n"]
        days = int(count) if count.isdigit() else _NUMBER_WORDS[_number_key(count)]
        reading.day = today - timedelta(days=days)
        reading.day_span = m.span()
    elif (m := _PART_AND_DAY.search(text)) and not _overlaps(m.span(), taken):
        reading.part = _part_of(m["part"])
        reading.day = today - timedelta(days=_rel_days(m["rel"]))
        reading.day_span = m.span()
    elif (m := _DAY_ALONE.search(text)) and not _overlaps(m.span(), taken):
        reading.day = today - timedelta(days=_rel_days(m["rel"]))
        reading.day_span = m.span()
    elif explicit := _explicit_date(text, today, taken):
        reading.day, reading.day_span = explicit.day, explicit.day_span
    elif m := _WEEKDAY.search(text):
        wanted = _WEEKDAYS[next(k for k in _WEEKDAYS if fold(k) == fold(" ".join(m["wd"].split())))]
        back = (today.weekday() - wanted) % 7
        if m["last"]:
            back = today.weekday() + 7 - wanted
        reading.day = today - timedelta(days=back)
        reading.day_span = m.span()
    elif m := _LAST_WEEK.search(text):
        reading.day = today - timedelta(days=7)
        reading.day_span = m.span()

    for m in _CLOCK.finditer(text):
        span = m.span()
        if _overlaps(span, taken) or (reading.day_span and _overlaps(span, [reading.day_span])):
            continue
        hour = int(m["hour"])
        minute = 30 if m["half"] else int(m["minute"] or 0)
        unit = text[m.start("hour") : m.end()].lower()
        # A bare number before "giờ"/"h" needs a cue or a part of the day unless it is a
        # clock-like "8h30" / "8:30": "2 giờ" can be a duration ("mất điện 2 giờ").
        before = text[: m.start()]
        part_before = _PART_BEFORE_CLOCK.search(before)
        part_after = _PART_AFTER_CLOCK.match(text[m.end() :])
        near_day = reading.day_span is not None and (
            0 <= reading.day_span[0] - m.end() <= 3 or 0 <= m.start() - reading.day_span[1] <= 3
        )
        cued = bool(_CLOCK_CUE.search(before)) or part_before or part_after or near_day
        if not cued and not (m["minute"] or ":" in unit or "h" in unit):
            continue
        part = reading.part
        if part_after:
            part = _part_of(part_after["part"])
            span = (span[0], m.end() + part_after.end())
        elif part_before:
            part = _part_of(part_before["part"])
            if part_before["rel"] and reading.day is None:
                reading.day = today - timedelta(days=_rel_days(part_before["rel"]))
        reading.part = part
        reading.clock = (hour, minute)
        reading.clock_span = span
        break

    if reading.day is None and reading.clock is None:
        if m := _NOW.search(text):
            return TimeMatch(now.astimezone(UTC), "now", *m.span())
        return None

    return _compose(reading, local_now)


def _number_key(word: str) -> str:
    key = fold(word)
    return next(k for k in _NUMBER_WORDS if fold(k) == key)


def _compose(reading: _Reading, local_now: datetime) -> TimeMatch:
    spans = reading.spans()
    start, end = min(s for s, _ in spans), max(e for _, e in spans)
    if reading.clock is None:
        assert reading.day is not None
        if reading.part is None:
            moment = datetime.combine(reading.day, time(), VIETNAM_TZ)
            return TimeMatch(moment.astimezone(UTC), "day", start, end)
        hour = PART_DEFAULT_HOURS[reading.part]
        moment = datetime.combine(reading.day, time(hour), VIETNAM_TZ)
        begun = datetime.combine(reading.day, time(PART_START_HOURS[reading.part]), VIETNAM_TZ)
        if begun <= local_now < moment:
            moment = local_now.replace(second=0, microsecond=0)
        return TimeMatch(moment.astimezone(UTC), "part", start, end)
    hour, shift = _hour_in(reading.part, reading.clock[0])
    clock = time(hour, reading.clock[1])
    if reading.day is not None:
        moment = datetime.combine(reading.day + timedelta(days=shift), clock, VIETNAM_TZ)
    else:
        # No day said: the latest such time that is not ahead of now.
        moment = datetime.combine(local_now.date(), clock, VIETNAM_TZ)
        if moment > local_now + timedelta(minutes=15):
            moment -= timedelta(days=1)
    return TimeMatch(moment.astimezone(UTC), "minute", start, end)


# ---------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NameMatch:
    name: str
    start: int
    end: int


_NAME_CUE = _compile(
    f"{_NOT_BEFORE}(?:"
    + "|".join(
        _w(cue)
        for cue in sorted(
            (
                "tôi là",
                "tôi tên là",
                "tôi tên",
                "tên tôi là",
                "tên tôi",
                "tên là",
                "tên",
                "họ tên",
                "họ và tên",
                "mình là",
                "mình tên là",
                "mình tên",
                "em tên là",
                "em tên",
                "em là",
                "cháu tên là",
                "cháu tên",
                "người gửi",
                "người phản ánh",
            ),
            key=len,
            reverse=True,
        )
    )
    + r")(?![^\W_])\s*[:\-]?\s*"
)
_NAME_WORD = re.compile(rf"{_LETTER}+")
#: Words that end a lower-case name: what usually follows it in a message.
_NAME_STOPS = frozenset(
    fold(w)
    for w in (
        "ở",
        "sống",
        "số",
        "sđt",
        "sdt",
        "đt",
        "điện",
        "thoại",
        "nhà",
        "tại",
        "xin",
        "muốn",
        "phản",
        "báo",
        "cư",
        "dân",
        "người",
        "và",
        "có",
        "đang",
        "thấy",
        "gọi",
        "liên",
        "hệ",
        "cần",
        "bị",
        "đường",
        "phường",
        "xã",
        "thôn",
        "tổ",
        "ạ",
        "nhé",
        "nha",
        "ak",
        "a",
    )
)
NAME_MAX_WORDS = 5


def find_name(text: str) -> NameMatch | None:
    """The writer's name where the text introduces it ("tôi là Nguyễn Văn An")."""
    text = nfc(text)
    all_lower = text == text.lower()
    for cue in _NAME_CUE.finditer(text):
        words: list[re.Match[str]] = []
        position = cue.end()
        for word in _NAME_WORD.finditer(text, position):
            gap = text[position : word.start()]
            if words and gap.strip():
                break  # punctuation or a digit ends the name
            if not words and gap.strip():
                break
            token = word.group()
            if all_lower:
                if fold(token) in _NAME_STOPS:
                    break
            elif not token[0].isupper():
                break
            words.append(word)
            position = word.end()
            if len(words) == NAME_MAX_WORDS:
                break
        if not words:
            continue
        if all_lower and len(words) < 2:
            continue  # "tên là gì", "em là sinh viên": not a name
        name = " ".join(w.group() for w in words)
        if all_lower or name.isupper():
            name = " ".join(w.capitalize() for w in name.split())
        return NameMatch(name, words[0].start(), words[-1].end())
    return None


# ---------------------------------------------------------------------------------------------
# Places
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlaceMatch:
    """An address as written, and the commune or ward (and pre-2025 area) it is in, if known."""

    address: str
    commune: str | None
    commune_code: str | None
    legacy_area: str | None
    start: int
    end: int


_STREET_CUES = (
    "đường",
    "phố",
    "hẻm",
    "kiệt",
    "ngõ",
    "ngách",
    "quốc lộ",
    "tỉnh lộ",
    "đại lộ",
    "ql",
    "tl",
    "thôn",
    "tổ dân phố",
    "tdp",
    "khu phố",
    "kp",
    "tổ",
    "ấp",
    "khóm",
    "xóm",
    "chung cư",
    "khu dân cư",
    "kdc",
    "khu đô thị",
    "kđt",
    "chợ",
    "cầu",
    "bến xe",
    "công viên",
    "ngã ba",
    "ngã tư",
    "vòng xoay",
    "bãi biển",
    "trường",
)
_HOUSE_NUMBER = r"\d{1,4}[A-Za-z]?(?:/\d+[A-Za-z]?)*"
_UNIT_KINDS = (
    "phường", "xã", "thị trấn", "đặc khu", "thành phố", "thị xã", "huyện", "quận", "tổ",
    "thôn", "khu phố", "tổ dân phố", "tỉnh",
)  # fmt: skip
_PLACE_WORD = rf"(?:{_LETTER}[\w'’-]*|\d+[A-Za-z]?(?:/\d+[A-Za-z]?)*)"
_STREET = _compile(
    rf"{_NOT_BEFORE}(?:(?:{_any('số nhà', 'số', 'sn')})\s*)?"
    rf"(?:(?P<number>{_HOUSE_NUMBER})\s*,?\s+)?"
    rf"(?P<cue>{_any(*_STREET_CUES)})\.?\s+(?P<name>{_PLACE_WORD}(?:[ \t]+{_PLACE_WORD}){{0,5}})"
)
# "120 Trần Phú": a house number and a capitalised street name, no cue.
_NUMBERED = re.compile(
    rf"(?<![\w/.:+-])(?:(?i:số nhà|số|so|sn)\s*)?(?P<number>{_HOUSE_NUMBER})\s+"
    rf"(?P<name>[^\W\d_a-zđ]{_LETTER}*(?:[ \t]+[^\W\d_a-zđ]{_LETTER}*){{0,4}})"
)
# Words after which a lower-case place name has ended: "đường trần phú bị hư", "ở thôn 2 có".
_PLACE_STOPS = frozenset(
    fold(w)
    for w in (
        "bị",
        "có",
        "đã",
        "đang",
        "rất",
        "từ",
        "lúc",
        "vào",
        "hôm",
        "sáng",
        "trưa",
        "chiều",
        "tối",
        "đêm",
        "nay",
        "qua",
        "không",
        "ko",
        "k",
        "thì",
        "mà",
        "và",
        "nên",
        "gây",
        "làm",
        "bốc",
        "hư",
        "hỏng",
        "ngập",
        "tắt",
        "mất",
        "cháy",
        "cúp",
        "xin",
        "gần",
        "trước",
        "sau",
        "cạnh",
        "đối",
        "phường",
        "xã",
        "p",
        "x",
        "tp",
        "thị",
        "huyện",
        "quận",
        "ạ",
        "nhé",
        "nha",
        "của",
        "ở",
        "tại",
        "thuộc",
        "đoạn",
        "khu",
        "vực",
        "chỗ",
        "nơi",
        "này",
        "đó",
        "kia",
        "với",
        "cho",
        "là",
        "được",
        "người",
        "dân",
        "em",
        "tôi",
        "mình",
    )
)
_SENTENCE_END = re.compile(r"[.!?\n;]\s|[!?\n;]|\.$")
_SEGMENT_PLACE = _compile(
    f"^\\s*(?:{_any(*_UNIT_KINDS)}|"
    r"(?:p|x|tp|tx|tt|q|h|kp|tdp)\.?(?=\s|\.|[^\W\d_]))"
)


def _trim_name(name: str, keep_capitalised: bool) -> str:
    """The street's name without the words that follow it in the sentence."""
    kept: list[str] = []
    for word in name.split():
        folded = fold(word)
        if folded in _PLACE_STOPS and not (keep_capitalised and word[0].isupper()):
            break
        if keep_capitalised and kept and not (word[0].isupper() or word[0].isdigit()):
            break
        kept.append(word)
    return " ".join(kept)


class PlaceFinder:
    """Reads an address and its commune from free text, with the province's localities."""

    def __init__(self, config: ProvinceConfig) -> None:
        self.resolver = LocalityResolver(config)

    def find(self, text: str) -> PlaceMatch | None:
        """The place the text names, or None. A street without a commune is still a place."""
        text = nfc(text)
        marked_case = text != text.lower()
        street = self._street(text, marked_case)
        place = self.resolver.resolve(text=text)
        commune_span: tuple[int, int] | None = None
        if place is not None:
            at = text.find(place.matched)
            if at >= 0:
                commune_span = (at, at + len(place.matched))
        if street is None and commune_span is None:
            return None
        span = street or commune_span
        assert span is not None
        start, end = span
        if commune_span is not None:
            gap = text[end : commune_span[0]]
            if commune_span[0] >= end and len(gap) <= 40 and not _SENTENCE_END.search(gap):
                end = commune_span[1]
            elif commune_span[0] < start and not _SENTENCE_END.search(
                text[commune_span[1] : start]
            ):
                start = min(start, commune_span[0])
                end = max(end, commune_span[1])
        end = self._following_places(text, end)
        address = text[start:end].strip(" ,")
        locality = place.locality if place is not None else None
        area = place.area if place is not None else None
        if (
            place is not None
            and street is not None
            and commune_span is not None
            and not (start <= commune_span[0] and commune_span[1] <= end)
        ):
            address = f"{address}, {place.matched}"
        return PlaceMatch(
            address=address,
            commune=locality.name if locality else None,
            commune_code=locality.code if locality else None,
            legacy_area=area.name if area else None,
            start=start,
            end=end,
        )

    def _street(self, text: str, marked_case: bool) -> tuple[int, int] | None:
        phones = [(p.start, p.end) for p in find_phones(text)]
        candidates: list[tuple[int, int]] = []
        for match in _STREET.finditer(text):
            if _overlaps(match.span(), phones):
                continue
            raw = match["name"]
            name = _trim_name(raw, marked_case)
            if not name:
                continue
            if (
                marked_case
                and not name[0].isupper()
                and not name[0].isdigit()
                and not match["number"]
            ):
                continue  # "đường xá", "chợ búa": not a named place
            candidates.append((match.start(), match.start("name") + len(name)))
        for match in _NUMBERED.finditer(text):
            if _overlaps(match.span(), phones) or _overlaps(match.span(), candidates):
                continue
            name = _trim_name(match["name"], True)
            if name:
                candidates.append((match.start(), match.start("name") + len(name)))
        if not candidates:
            return None
        return min(candidates)

    def _following_places(self, text: str, end: int) -> int:
        """Extends an address over the comma-separated place words after it."""
        while True:
            rest = text[end:]
            if not rest.startswith(","):
                rest_stripped = rest.lstrip(" ")
                if not rest_stripped.startswith(","):
                    return end
                end += len(rest) - len(rest_stripped)
                rest = rest_stripped
            segment_match = re.match(r",\s*([^,.!?;\n]*(?:\.(?=\S)[^,.!?;\n]*)*)", rest)
            if segment_match is None:
                return end
            segment = _place_words(segment_match.group(1))
            if not segment.strip() or len(segment) > 40:
                return end
            if not (_SEGMENT_PLACE.match(segment) or self.resolver.resolve(address=segment)):
                return end
            end += segment_match.start(1) + len(segment)
            if len(segment.rstrip()) < len(segment_match.group(1).rstrip()):
                return end


_UNIT_WORDS = frozenset(
    fold(w)
    for w in (
        "phường", "xã", "thị", "trấn", "đặc", "khu", "thành", "phố", "huyện", "quận", "tổ",
        "thôn", "dân", "tỉnh", "p", "x", "tp", "tx", "tt", "q", "h", "kp", "tdp",
    )
)  # fmt: skip


def _place_words(segment: str) -> str:
    """The leading place words of a comma-separated segment ("TP Nha Trang" of "TP Nha Trang
    có rác"): unit words, then names (capitalised, or not a stop word in lower-case text)."""
    all_lower = segment == segment.lower()
    end = 0
    for word in re.finditer(r"[^\s]+", segment):
        token = word.group().strip(".")
        folded = fold(token)
        if (folded in _UNIT_WORDS and end == 0) or folded.isdigit():
            end = word.end()
            continue
        if folded in _UNIT_WORDS and all_lower:
            end = word.end()
            continue
        if all_lower:
            if folded in _PLACE_STOPS:
                break
        elif not token[:1].isupper() and "." not in word.group():
            break
        end = word.end()
    return segment[:end]


# ---------------------------------------------------------------------------------------------
# Everything at once
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Extracted:
    """What one message says about each slot (None: it says nothing about it)."""

    phone: PhoneMatch | None
    time: TimeMatch | None
    place: PlaceMatch | None
    name: NameMatch | None


def extract(text: str, *, now: datetime, places: PlaceFinder | None = None) -> Extracted:
    """Every slot ``text`` fills; ``places`` None skips places (no province loaded)."""
    text = unicodedata.normalize("NFC", text)
    return Extracted(
        phone=find_phone(text),
        time=find_time(text, now=now),
        place=places.find(text) if places is not None else None,
        name=find_name(text),
    )
