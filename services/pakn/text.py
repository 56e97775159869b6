"""Vietnamese text: normalisation, accent folding, diacritics check, search terms, masking."""

from __future__ import annotations

import functools
import itertools
import re
import sys
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "MARKED_SHARE_THRESHOLD",
    "MASK",
    "MAX_SEARCH_TERMS",
    "MIN_UNMARKED_WORDS",
    "DiacriticsReport",
    "Verdict",
    "diacritics_report",
    "fold",
    "is_syllable",
    "lacks_diacritics",
    "mask_personal_data",
    "nfc",
    "query_terms",
    "search_terms",
]

# ---------------------------------------------------------------------------------------------
# Normalisation and folding
# ---------------------------------------------------------------------------------------------

_WHITESPACE = re.compile(r"\s+")
# đ has no decomposition; Ð/ð (Icelandic eth) stand in for it in text converted from the
# old TCVN3/VNI fonts and typed on some keyboards.
_D_FOLD = str.maketrans({"đ": "d", "ð": "d"})


#: A lone surrogate (JSON's "\ud800", a broken client) can be neither stored nor sent.
_SURROGATE = re.compile("[\ud800-\udfff]")


def has_surrogates(text: str) -> bool:
    return _SURROGATE.search(text) is not None


def without_surrogates(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD: safe to encode, store and show."""
    return _SURROGATE.sub("\ufffd", text)


def nfc(text: str) -> str:
    """``text`` in Unicode NFC: one code point per Vietnamese letter ("ế", not e + ◌̂ + ◌́).

    macOS, iOS and some input methods send decomposed text (NFD); anything stored, hashed or
    compared goes through here first.
    """
    return unicodedata.normalize("NFC", text)


#: How many characters the translation tables below keep (the most a text could add).
_TABLE_LIMIT = 8_192


class _Unmarked(dict[int, int | None]):
    """``str.translate`` table dropping nonspacing marks (category Mn), filled as characters
    come: each character's category is looked up once, not once per occurrence."""

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.category(chr(code)) == "Mn" else code
        if len(self) < _TABLE_LIMIT:
            self[code] = kept
        return kept


_UNMARKED = _Unmarked()


def fold(text: str) -> str:
    """Lowercase, without diacritics (đ → d), whitespace collapsed: for accent-blind matching.

    Indifferent to old- and new-style tone placement ("hoà" and "hòa" both give "hoa"), to
    decomposed input and to full-width letters.
    """
    stripped = unicodedata.normalize("NFKD", text).translate(_UNMARKED)
    return _WHITESPACE.sub(" ", stripped.lower().translate(_D_FOLD)).strip()


def _fold_char(ch: str) -> str:
    """One character folded to exactly one character, so folded text keeps its offsets."""
    folded = fold(ch) if not ch.isspace() else " "
    if len(folded) == 1:
        return folded
    lowered = ch.lower()
    return lowered if len(lowered) == 1 else ch


class _Aligned(dict[int, str]):
    """``str.translate`` table of :func:`_fold_char`, filled as characters come.

    Masking folds the same text several times, and the characters of Vietnamese text are
    few (folding a character at a time in Python was a third of the router's CPU per case).
    """

    def __missing__(self, code: int) -> str:
        folded = _fold_char(chr(code))
        if len(self) < _TABLE_LIMIT:
            self[code] = folded
        return folded


_ALIGNED = _Aligned()


def _fold_aligned(text: str) -> str:
    return text.translate(_ALIGNED)


# ---------------------------------------------------------------------------------------------
# Vietnamese syllables
# ---------------------------------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Every rhyme (vần) of Vietnamese with its diacritics folded away: "ương" → "uong". Together
# with the initials below this accepts every accent-folded syllable of the language, so no
# word list has to be shipped to tell "duong bi ngap nuoc" from English.
_RHYMES = _words(
    """
    a ai ao au ay ac ach am an ang anh ap at
    e eo ec em en eng ep et eu enh ech
    i ia iu ich im in inh ip it
    ieu iem ien ieng iep iet iec
    o oi om on ong op ot oc oong ooc
    u ua ui um un ung up ut uc uu
    uo uoi uom uon uong uop uot uoc uou
    y yeu yem yen yet ynh yt ych yu
    oa oai oay oan oang oanh oac oach oat oam oap oao
    oe oeo oen oet
    uan uang uat uay uac
    ue uech uenh
    uy uya uyu uych uynh uyt uyen uyet
    """
)
# Rhymes that exist only with a vowel diacritic (ê in "iên", ô/ơ in "uôn"/"ươn", ư in "ưu",
# â in "uân") — written in plain ASCII they cannot be correct.
_MARKED_ONLY_RHYMES = _words(
    "eu enh ieu iem ien ieng uu uo uoi uom uon uong uou yeu yem yen uan uang uay ue uenh uyen"
)
# Syllables ending in p, t, c or ch only take the sắc or nặng tone, so plain "mat", "ngap",
# "sach" always lack a mark.
_STOP_CODAS = ("p", "t", "c", "ch")
# Spelling rules of the initials: k/gh/ngh before e, ê, i, y; c/g/ng elsewhere; q only as
# "qu"; "gi" is an initial of its own (gia, giữ) and g + i merges in "gì", "gìn", "giếng".
_SYLLABLE = re.compile(
    r"(?P<initial>ngh(?=[ei])|ng(?![ei])|nh|ch|gh(?=[ei])|gi(?=[a-z])|kh|ph|th|tr|qu(?!u)"
    r"|k(?=[eiy])|c(?![eiy])|g(?!e)|[bdhlmnprstvx])?"
    r"(?P<rhyme>[aeiouy][a-z]*)"
)


def _parse_syllable(word: str) -> tuple[str, str] | None:
    match = _SYLLABLE.fullmatch(word)
    if match is None or match["rhyme"] not in _RHYMES:
        # The regex commits to the longest initial; "gin" is g + in, not gi + n.
        if word.startswith("gi") and word[1:] in _RHYMES:
            return "g", word[1:]
        return None
    return match["initial"] or "", match["rhyme"]


def is_syllable(word: str) -> bool:
    """Whether ``word`` could be one Vietnamese syllable once its diacritics are folded away."""
    return _parse_syllable(fold(word)) is not None


def _needs_marks(rhyme: str) -> bool:
    # After "qu" the u belongs to the initial, so "quan", "que", "quay" parse as qu + an,
    # e, ay and stay valid as written; "tuan", "thue" (tuần, thuê) do not.
    return rhyme.endswith(_STOP_CODAS) or rhyme in _MARKED_ONLY_RHYMES


# Plain forms that are valid syllables but are nearly always the accented word in real text:
# "khong" is "không", "la" is "là", "den" is "đèn" or "đến". Words just as often right
# without marks (anh, em, cho, ban, nha, tai, con, xin, nhan, trong, van, thu, lai…) are
# deliberately left out: every word listed here counts against accented text that uses it.
_USUALLY_MARKED = _words(
    """
    khong la co cua de da di ve gi bi toi nhung den lam nhu ho dan voi roi vao len tren ngoai
    moi chua gio dem ong ma nua day nao hom hu hong bo phai the dau noi nen cu dang se thon
    pho hem ngo cay xu ben hon ten ky sua chu tram cau xay te giay on vu them nho rong nong
    hoi thoi bon chin ngan dong dia tran phu
    """
)

# Tokens that say nothing about diacritics: abbreviations, units, chat shorthand, loanwords
# and brands people write the same way with or without a Vietnamese keyboard.
_NEUTRAL = _words(
    """
    ubnd hdnd ub mttq tp tx tt kp tdp tđp khp hcm tphcm hn nt kh csgt cstt pc bhyt bhxh bhtn
    cccd cmnd cmt gplx sdt sđt đt dt stk mst ql qlđt qldt tl đh dh thpt thcs mn mg bv bvđk
    bvdk ttyt pccc cnch vp vpub bql htx xd gtvt gt tnmt stnmt sxd sgtvt ctcp tnhh cty dntn
    kcn kdc kđt kdt ktx ck vnd vnđ usd km kg cm mm kw kwh kv db dba gps atm qr otp id tv
    ok oke okie okay ko khg hk hok dc đc đk dk vs ng ngta bt ntn mng ae sn tks thanks thank
    plz pls hix huhu haha hihi uh uhm ah ak vv etc
    wifi wi fi internet camera cam viettel vnpt fpt mobifone vinaphone vietnamobile gmobile
    evn evnspc evncpc email mail gmail yahoo outlook facebook fb zalo messenger youtube
    tiktok google online offline app apps web website video clip link file pdf jpg jpeg png
    heic sms hotline karaoke taxi grab gojek bus container test covid vaccine vacxin tour
    resort hotel homestay spa bar pub club massage shop mart minimart coop vinmart lotte
    bigc market supermarket cafe coffee show livestream stream game ship shipper shopee
    lazada tiki momo vnpay zalopay banking data sim router modem laptop smartphone iphone
    samsung oppo xiaomi honda yamaha toyota vinfast vinhomes vingroup vinpearl vinwonders
    novotel sheraton hilton marriott oto tivi radio
    """
)
# Common English words, including those spelled like a plain Vietnamese syllable ("the",
# "can", "it"): they tell an English text from a Vietnamese one written without marks.
_ENGLISH = _words(
    """
    the a an to of and in on at by for with from is are was were be been being it its this
    that these those not no but or so do does did have has had will would can could should
    may might must i me my we us our you your he him his she her they them their there here
    what when where which who why how please thank thanks hello hi dear sir madam street road
    light lights lamp water since days week night near house home broken fix fixed report
    problem issue help need want very all any some also just only about after before because
    if then than too up out over into one two three more most many much still yet again now
    new old big small city ward district hospital school police noise trash garbage flood
    flooding tree fallen power outage working work done
    """
)

_VIETNAMESE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323\u0302\u0306\u031b")
_VIETNAMESE_BASE = frozenset("abcdeghiklmnopqrstuvxy")
_VOWELS = frozenset("aeiouy")

# Stripped before counting words: they are neither Vietnamese nor English.
_NOT_PROSE = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|(?<![\w.-])[\w-]+(?:\.[\w-]+)*\.(?:vn|com|net|org|gov|edu|info|io)\b(?:/\S*)?"
    r"|[@#]\w+",
    re.IGNORECASE,
)
# Letters, digits and stray combining marks (left over when an input method stacks two marks
# NFC cannot combine).
_TOKEN = re.compile(r"(?:[^\W_]|[\u0300-\u036f])+")
_SENTENCE_BREAK = frozenset(".!?…:;\n•")

#: Below this share of accented words among those that reveal it, a text lacks diacritics.
#: Accented prose scores 0.85–1.0 and unaccented text 0–0.3, so a wide margin both ways.
MARKED_SHARE_THRESHOLD = 0.5
#: How many plainly unaccented words it takes before a text is rejected at all.
MIN_UNMARKED_WORDS = 3

Verdict = Literal["ok", "missing_diacritics", "not_vietnamese", "too_little_text"]


@dataclass(frozen=True, slots=True)
class DiacriticsReport:
    """How a text is written, as far as diacritics go.

    ``vietnamese_words`` = ``with_diacritics`` + ``without_diacritics`` + ``plain_words``.
    ``without_diacritics`` counts words written in plain letters that need a mark (``duong``,
    ``khong``); ``plain_words`` those that are often right as written (``anh``, ``cho``,
    ``nha``). ``ratio`` is ``with_diacritics / (with_diacritics + without_diacritics)`` (1.0
    when both are 0): the evidence the verdict rests on. ``foreign_words`` counts words that
    are not Vietnamese syllables or are common English words.
    """

    vietnamese_words: int
    with_diacritics: int
    without_diacritics: int
    ratio: float
    verdict: Verdict
    plain_words: int = 0
    foreign_words: int = 0


@dataclass(slots=True)
class _Token:
    text: str
    initial: bool


def _tokens(text: str) -> Iterator[_Token]:
    last_end = 0
    first = True
    for match in _TOKEN.finditer(text):
        gap = text[last_end : match.start()]
        yield _Token(match.group(), first or not _SENTENCE_BREAK.isdisjoint(gap))
        first = False
        last_end = match.end()


def _has_marks(token: str) -> bool:
    lowered = token.lower()
    if "đ" in lowered or "ð" in lowered:
        return True
    return any(ch in _VIETNAMESE_MARKS for ch in unicodedata.normalize("NFD", token))


def _is_vietnamese_letters(token: str) -> bool:
    """Only letters of the Vietnamese alphabet (no f, j, w, z, ü…) and at least one vowel."""
    base = [
        ch
        for ch in unicodedata.normalize("NFD", token.lower().translate(_D_FOLD))
        if ch not in _VIETNAMESE_MARKS
    ]
    return all(ch in _VIETNAMESE_BASE for ch in base) and any(ch in _VOWELS for ch in base)


def _is_latin(token: str) -> bool:
    return all(
        ch in _VIETNAMESE_MARKS or unicodedata.name(ch, "").startswith("LATIN") for ch in token
    )


def _foreign_weight(token: str) -> int:
    # Chinese, Japanese and Thai put no spaces between words: count characters, not runs.
    return sum(1 for ch in token if ord(ch) >= 0x2E80) or 1


@functools.lru_cache(maxsize=16_384)
def _may_count(word: str) -> bool:
    """Numbers, codes and the neutral abbreviations never tell (cached like _word_counts)."""
    return not any(ch.isdigit() for ch in word) and word.lower() not in _NEUTRAL


@functools.lru_cache(maxsize=16_384)
def _word_counts(word: str) -> tuple[int, int, int, int, int]:
    """What one word of two letters or more adds to (marked, unmarked, plain, foreign,
    vietnamese_plain). A pure function of the word, and Vietnamese has a few thousand
    syllables: cached, since every report passes through it (a third of the intake's
    validation time before)."""
    if not _is_latin(word):
        return 0, 0, 0, _foreign_weight(word), 0
    folded = fold(word)
    parsed = _parse_syllable(folded)
    if _has_marks(word):
        return (1 if parsed is not None or _is_vietnamese_letters(word) else 0), 0, 0, 0, 0
    english = folded in _ENGLISH
    foreign = 1 if english or parsed is None else 0
    if parsed is None:
        return 0, 0, 0, foreign, 0
    vietnamese_plain = 0 if english else 1
    if _needs_marks(parsed[1]) or folded in _USUALLY_MARKED:
        return 0, 1, 0, foreign, vietnamese_plain
    return 0, 0, 1, foreign, vietnamese_plain


def diacritics_report(text: str) -> DiacriticsReport:
    """Whether ``text`` is Vietnamese written with its diacritics, with the counts behind it.

    Numbers, codes, addresses, plates, URLs, e-mails, abbreviations (UBND, TP, KP…), chat
    shorthand, loanwords and brands (wifi, Viettel, Facebook…) are ignored, and so are
    capitalised words inside a sentence (proper names people often paste with or without
    marks) unless the whole text is capitalised. Of the remaining words, those carrying a
    Vietnamese diacritic are weighed against plain-letter words that need one; words that
    are fine without marks ("anh", "em", "cho", "nha") do not count either way.

    Verdicts: ``ok``; ``missing_diacritics`` (mostly unaccented, and at least
    :data:`MIN_UNMARKED_WORDS` words prove it); ``not_vietnamese`` (mostly English or
    another language; whether to refuse it is the caller's call); ``too_little_text`` (not
    enough words to tell: accept it).
    """
    prose = _NOT_PROSE.sub(" ", unicodedata.normalize("NFKC", text))
    words = [token for token in _tokens(prose) if _may_count(token.text)]
    # Capitalised words inside sentences are names, unless the writer capitalises everything
    # ("Duong Bi Ngap Nuoc", "ĐƯỜNG BỊ NGẬP").
    inner = [token for token in words if not token.initial and len(token.text) > 1]
    capitalised = sum(1 for token in inner if token.text[0].isupper())
    case_tells_names = len(inner) < 3 or capitalised * 2 < len(inner)

    marked = unmarked = plain = foreign = vietnamese_plain = 0
    for token in words:
        word = token.text
        if len(word) == 1:
            # "ở" and "ô" carry marks; a lone lowercase "o" is "ở" typed without them.
            # Other single letters are initials and list markers (P., Q., a), b)).
            if _has_marks(word) and _is_vietnamese_letters(word):
                marked += 1
            elif word == "o":
                unmarked += 1
            continue
        if word[0].isupper() and case_tells_names and not token.initial:
            continue
        if any(ch.isupper() for ch in word[1:]) and not word.isupper():
            continue  # iPhone, VinFast, dB
        counts = _word_counts(word)
        marked += counts[0]
        unmarked += counts[1]
        plain += counts[2]
        foreign += counts[3]
        vietnamese_plain += counts[4]

    evidence = marked + unmarked
    ratio = marked / evidence if evidence else 1.0
    verdict: Verdict
    if foreign >= 3 and foreign > 2 * (marked + vietnamese_plain):
        verdict = "not_vietnamese"
    elif evidence == 0:
        verdict = "too_little_text"
    elif ratio >= MARKED_SHARE_THRESHOLD:
        verdict = "ok"
    elif unmarked >= MIN_UNMARKED_WORDS:
        verdict = "missing_diacritics"
    else:
        verdict = "too_little_text"
    return DiacriticsReport(
        vietnamese_words=marked + unmarked + plain,
        with_diacritics=marked,
        without_diacritics=unmarked,
        ratio=round(ratio, 3),
        verdict=verdict,
        plain_words=plain,
        foreign_words=foreign,
    )


def lacks_diacritics(text: str) -> bool:
    """True when ``text`` is Vietnamese written without its diacritics (reject it)."""
    return diacritics_report(text).verdict == "missing_diacritics"


# ---------------------------------------------------------------------------------------------
# Search terms
# ---------------------------------------------------------------------------------------------

#: At most this many terms per case (unigrams first, then bigrams).
MAX_SEARCH_TERMS = 300
_MAX_TERM_LENGTH = 40
# Longer digit runs are phone, ID or account numbers: personal data, not keywords.
_MAX_NUMBER_LENGTH = 5

# Function words, recognised in their accented form so that a content word sharing the
# folded spelling survives: "có" goes, "cỏ" (grass) stays; "đến" goes, "đèn" (lamp) stays.
_STOP_MARKED = _words(
    """
    và là của các những một với thì mà để đã đang sẽ bị được có không tại ở này đó kia như
    về từ đến rất lại nên nhưng hoặc vì nếu thế nào gì ạ nhé vậy cũng vẫn rồi đây vào lên
    trên dưới bởi nhiều hơn nhất còn chỉ mọi mỗi tôi chị ông bà chúng họ mình kính gửi ơi
    thưa đề nghị hết đều luôn cùng nữa thật quá lắm đi phải việc
    """
)
# Plain spellings that are function words whatever the writer meant.
_STOP_PLAIN = _words("va cac nhung mot duoc khong nay se bi rat nhieu nhe voi la")
_SEGMENT_BREAK = re.compile(r"[.,;:!?()\[\]{}\"“”«»…|•\n\r]+|\s[-–—]\s")
_CONSONANT_Y = re.compile(r"(?<=[bcdghklmnprstvx])y$")


# Cached: Vietnamese is written in a few thousand syllables, so tokens repeat across cases.
@functools.lru_cache(maxsize=65_536)
def _search_key(token: str) -> str | None:
    """The folded form a token is indexed under, or None when it is not worth indexing."""
    lowered = token.lower()
    if lowered in _STOP_MARKED or lowered in _STOP_PLAIN:
        return None
    key = fold(token)
    # "lý"/"lí", "kỹ"/"kĩ", "quý"/"quí" are spelling variants of the same word.
    key = _CONSONANT_Y.sub("i", key)
    if key.endswith("qui"):
        key = key[:-1] + "y"
    if not 2 <= len(key) <= _MAX_TERM_LENGTH:
        return None
    if any(ch.isdigit() for ch in key) and len(key) > _MAX_NUMBER_LENGTH:
        return None
    return key


def _segments(text: str) -> Iterator[list[str | None]]:
    for segment in _SEGMENT_BREAK.split(unicodedata.normalize("NFKC", text)):
        keys = [_search_key(token) for token in _TOKEN.findall(segment)]
        if keys:
            yield keys


def _bigrams(keys: list[str | None]) -> Iterator[str]:
    for first, second in itertools.pairwise(keys):
        if first is not None and second is not None:
            yield f"{first} {second}"


def search_terms(*texts: str | None) -> list[str]:
    """Accent-folded keywords of a case for a multikey index (text indexes are unavailable).

    Words of 2+ characters without Vietnamese function words, plus adjacent-word bigrams
    ("ngap nuoc", "den duong": Vietnamese meaning lives in two-syllable words), deduplicated,
    capped at :data:`MAX_SEARCH_TERMS` (unigrams kept first) and sorted.
    """
    unigrams: dict[str, None] = {}
    bigrams: dict[str, None] = {}
    for text in texts:
        if not text:
            continue
        for keys in _segments(text):
            # _bigrams inlined: one pass over each segment's keys for both kinds of term.
            previous = None
            for key in keys:
                if key is not None:
                    unigrams[key] = None
                    if previous is not None:
                        bigrams[f"{previous} {key}"] = None
                previous = key
    terms = list(unigrams)[:MAX_SEARCH_TERMS]
    terms += [term for term in bigrams if term not in unigrams][: MAX_SEARCH_TERMS - len(terms)]
    return sorted(terms)


_QUOTED = re.compile(r"\"([^\"]*)\"|“([^”]*)”")


def query_terms(query: str) -> list[str]:
    """Terms to match with ``$all`` against :func:`search_terms` for an operator's query.

    Accents may be missing or wrong ("ngap nuoc", "ngâp nươc" find "ngập nước"). Words match
    anywhere in the case; a "quoted phrase" also requires its words to be adjacent.
    """
    terms: dict[str, None] = {}
    rest = query
    for match in _QUOTED.finditer(query):
        phrase = match.group(1) if match.group(1) is not None else match.group(2)
        for keys in _segments(phrase):
            terms.update(dict.fromkeys(key for key in keys if key is not None))
            terms.update(dict.fromkeys(_bigrams(keys)))
        rest = rest.replace(match.group(0), " ")
    for keys in _segments(rest):
        terms.update(dict.fromkeys(key for key in keys if key is not None))
    return sorted(terms)


# ---------------------------------------------------------------------------------------------
# Personal data
# ---------------------------------------------------------------------------------------------

#: What replaces personal data in ``public_content``: short, language-neutral and what
#: Vietnamese portals already show for hidden digits.
MASK = "***"

_URL = r"(?:https?://|www\.)[^\s<>\"]+"
# The lookbehinds make a match start only where a run of such characters starts: without
# them a long run of letters costs quadratic time, which a 20,000-character report can buy.
_EMAIL = r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-zA-Z]{2,}"
# Car plates 79A-123.45, 51LD-12345, motorbike plates 79-A1 123.45, 79A1-12345. Lowercase
# series only when written compactly, so "10 ha 2000" stays a land area.
_PLATE = (
    r"(?<![\w.])\d{2}(?:\s?-\s?|\s)?[A-Z]{1,2}\d?(?:\s?[-.]\s?|\s)?(?:\d{3}\.\d{2}|\d{4,5})"
    r"(?![\w])"
    r"|(?<![\w.])\d{2}-?[a-z]{1,2}\d?-?(?:\d{3}\.\d{2}|\d{4,5})(?![\w])"
)
# A number after the word that names it (CCCD, BHXH, tax code, bank account…) is personal
# whatever its length.
_ID_KEYWORD = (
    r"(?i:cccd|cmnd|cmt|căn cước(?: công dân)?|can cuoc(?: cong dan)?"
    r"|chứng minh(?: nhân dân| thư)?|chung minh(?: nhan dan| thu)?|định danh|dinh danh"
    r"|hộ chiếu|ho chieu|passport|bhxh|bhyt|bảo hiểm xã hội|bao hiem xa hoi|bảo hiểm y tế"
    r"|bao hiem y te|mã số thuế|ma so thue|mst|gplx|bằng lái(?: xe)?|bang lai(?: xe)?"
    r"|số tài khoản|so tai khoan|stk|tài khoản|tai khoan)"
)
_ID_AFTER_KEYWORD = (
    rf"(?<![^\W_]){_ID_KEYWORD}(?![^\W_])"
    r"(?:\s*(?i:số|so|là|la)(?![^\W_])|\s*[:#.\-])*\s*"
    r"(?P<id>[A-Z]{0,2}\d(?:[ .\-]?\d){5,18})(?!\d)"
)
# Digit groups joined by spaces, dots, dashes or brackets: phone numbers in all their
# spellings (0912 345 678, 0912.345.678, (0258) 3822 123, +84 912 345 678).
_DIGIT_RUN = r"(?<![\d+])(?:\+|\(\+?)?\d+(?:(?:[ .\-]|\)\s?|\s?\(\+?)\d+)*\)?"
_SENSITIVE = re.compile(
    rf"(?P<url>{_URL})|(?P<email>{_EMAIL})|{_ID_AFTER_KEYWORD}|(?P<plate>{_PLATE})"
    rf"|(?P<digits>{_DIGIT_RUN})"
)
_DIGIT_GROUP = re.compile(r"\d+")
_CURRENCY_AFTER = re.compile(r"\s?(?:đồng|đ|vnđ|vnd|usd|d|k)(?![^\W_])", re.IGNORECASE)
_MOBILE_SECOND_DIGITS = frozenset("35789")


def _number_kind(digits: str, international: bool, groups: int) -> str | None:
    """Whether a run of digits is to be masked ("mask"), a service number ("keep") or neither."""
    if digits.startswith(("1800", "1900")) and len(digits) in (8, 10):
        return "keep"
    if digits.startswith("0084"):
        digits, international = digits[2:], True
    if digits.startswith("84") and (international or len(digits) == 11):
        rest = digits[2:]
        rest = rest[1:] if rest.startswith("0") else rest
        if (len(rest) == 9 and rest[0] in _MOBILE_SECOND_DIGITS) or (
            len(rest) == 10 and rest[0] == "2"
        ):
            return "mask"
    if digits.startswith("0") and (
        (len(digits) == 10 and digits[1] in "2356789") or (len(digits) == 11 and digits[1] in "12")
    ):
        return "mask"
    # CMND (9 digits) and CCCD (12 digits, starting with the province code 0xx).
    if groups == 1 and len(digits) in (9, 12):
        return "mask"
    if len(digits) == 12 and digits.startswith("0"):
        return "mask"
    return None


def _mask_digit_run(run: str, text_after: str) -> str:
    groups = list(_DIGIT_GROUP.finditer(run))
    pieces: list[str] = []
    position = 0
    index = 0
    while index < len(groups):
        best: tuple[int, str] | None = None
        start = groups[index].start()
        international = run[:start].rstrip(" (").endswith("+")
        digits = ""
        for last in range(index, len(groups)):
            digits += groups[last].group()
            if len(digits) > 13:
                break
            kind = _number_kind(digits, international, last - index + 1)
            if kind == "mask" and len(digits) in (9, 12) and last == index:
                at_end = last == len(groups) - 1
                if at_end and _CURRENCY_AFTER.match(text_after):
                    kind = None  # 150000000đ is an amount, not a CMND
            if kind is not None:
                best = (last, kind)
        if best is None:
            index += 1
            continue
        last, kind = best
        if kind == "mask":
            # Take the "+" or "(" in front and a closing bracket along.
            while start > position and run[start - 1] in "+(":
                start -= 1
            end = groups[last].end()
            if end < len(run) and run[end] == ")" and "(" in run[: start + 1]:
                end += 1
            pieces.append(run[position:start])
            pieces.append(MASK)
            position = end
        index = last + 1
    pieces.append(run[position:])
    return "".join(pieces)


def _mask_match(match: re.Match[str]) -> str:
    if match["url"] is not None:
        return match.group()
    if match["id"] is not None:
        return match.group()[: match.start("id") - match.start()] + MASK
    if match["digits"] is not None:
        return _mask_digit_run(match.group(), match.string[match.end() :])
    return MASK


@functools.lru_cache(maxsize=4_096)
def _folded_words(name: str) -> tuple[str, ...]:
    """Each word of a name or an organisation folded (those folding to nothing kept): read
    twice per masking, and a submitter's name comes again with each report."""
    return tuple(fold(word) for word in _TOKEN.findall(nfc(name)))


def _name_variants(names: Iterable[str]) -> list[list[str]]:
    variants: dict[tuple[str, ...], None] = {}
    for name in names:
        words = [word for word in _folded_words(name) if word]
        # One word alone ("An", "Hà") is also a common word or place: too risky to mask
        # unless a form of address stands before it (see _ADDRESSED).
        if len(words) >= 2:
            variants[tuple(words)] = None
        if len(words) >= 3:
            variants[tuple(words[1:])] = None  # "Văn An" without the family name
            # The given name as friends write it: "Mai Lan" for "Hoàng Thị Mai Lan".
            variants[tuple(words[-2:])] = None
    return sorted((list(words) for words in variants), key=len, reverse=True)


def _given_names(names: Iterable[str]) -> set[str]:
    """The last word of each name: "Lan" of "Hoàng Thị Mai Lan", masked after "chị"."""
    given = set()
    for name in names:
        words = _folded_words(name)
        if words and words[-1]:
            given.add(words[-1])
    return given


def _phrase_pattern(phrases: Iterable[Sequence[str]]) -> re.Pattern[str] | None:
    alternatives = [
        r"(?<![^\W_])" + r"\s+".join(re.escape(word) for word in words) + r"(?![^\W_])"
        for words in phrases
        if words
    ]
    return re.compile("|".join(alternatives)) if alternatives else None


def _mask_folded(text: str, pattern: re.Pattern[str], keep: str | None = None) -> str:
    """Each match of ``pattern`` in ``text`` folded (accents, case) masked; a named group
    ``keep`` and what follows it stay."""
    folded = _fold_aligned(text)
    pieces: list[str] = []
    position = 0
    for match in pattern.finditer(folded):
        pieces.append(text[position : match.start()])
        pieces.append(MASK)
        position = match.start(keep) if keep is not None else match.end()
    pieces.append(text[position:])
    return "".join(pieces)


def _mask_phrases(text: str, phrases: Iterable[Sequence[str]]) -> str:
    pattern = _phrase_pattern(phrases)
    return text if pattern is None else _mask_folded(text, pattern)


def _mask_names(text: str, names: Iterable[str]) -> str:
    return _mask_phrases(text, _name_variants(names))


# Words that stand before a person's name in Vietnamese (kinship terms used as forms of
# address). "Bà" in "đường Bà Triệu" or "chùa Bà" is part of a place: see _PLACE_BEFORE.
_ADDRESS_WORDS = (
    "ông|bà|anh|chị|cô|chú|bác|em|cháu|cụ|dì|cậu|mợ|thím|dượng|ong|ba|chi|co|chu|bac|chau|cu"
)
_ADDRESSED = re.compile(
    rf"(?<![^\W_])(?P<title>(?i:{_ADDRESS_WORDS}|tôi là|tôi tên là|tên tôi là|tên là"
    r"|họ tên|họ và tên|người gửi|người phản ánh|toi la|ten toi la|ho ten|ho va ten))"
    r"(?P<sep>\s*:?\s+)"
    # A lookahead: "tôi là bà Đặng Thị Lài" must leave "bà Đặng…" for the next match.
    r"(?=(?P<name>[^\W\d_]+(?:[ \t]+[^\W\d_]+){0,3}))"
)
_PLACE_BEFORE = frozenset(
    fold(word)
    for word in _words(
        "đường phố ngõ hẻm kiệt ngách chợ chùa đền miếu miễu lăng tượng trường cầu bến "
        "khu tháp nhà thờ xóm thôn tổ hồ núi suối bãi biển"
    )
)
_SENTENCE_START = re.compile(r"(?:^|[.!?\n:;\"“(]\s*)$")


def _leading_capitalised(words: str) -> int:
    """How many characters of ``words`` its leading capitalised words take."""
    end = 0
    for match in re.finditer(r"[^\W\d_]+", words):
        if not match.group()[0].isupper():
            break
        end = match.end()
    return end


def _mask_addressed(text: str, given: set[str]) -> str:
    """Names after a form of address ("chị Lan", "ông Trần Văn Hùng"): the title stays."""
    pieces: list[str] = []
    position = 0
    for match in _ADDRESSED.finditer(text):
        if match.start() < position:
            continue
        title, name = match["title"], match["name"]
        before = text[: match.start()]
        previous = re.findall(r"[^\W\d_]+", before[-20:])
        if previous and fold(previous[-1]) in _PLACE_BEFORE:
            continue
        if title[0].isupper() and not _SENTENCE_START.search(before):
            continue  # "Bà Triệu", "Ông Ích Khiêm" inside a sentence: a place
        taken = _leading_capitalised(name)
        if taken == 0:
            first = re.match(r"[^\W\d_]+", name)
            # The submitter's given name written in lower case ("chị lan") is still theirs.
            if first is None or fold(first.group()) not in given:
                continue
            taken = first.end()
        pieces.append(text[position : match.end()])
        pieces.append(MASK)
        position = match.end() + taken
    pieces.append(text[position:])
    return "".join(pieces)


def _mask_organizations(text: str, organizations: Iterable[str]) -> str:
    phrases: list[list[str]] = []
    for organization in organizations:
        words = [word for word in _folded_words(organization) if word]
        if len(words) >= 2:
            phrases.append(words)
        # "Hải Đăng" for "Công ty TNHH Hải Đăng": the legal form is often left out.
        bare = words
        while bare and bare[0] in _LEGAL_FORM_WORDS:
            bare = bare[1:]
        if len(bare) >= 2 and bare != words:
            phrases.append(bare)
    return _mask_phrases(text, sorted(phrases, key=len, reverse=True))


_LEGAL_FORM_WORDS = _words(
    "cong ty cty tnhh co phan cp mtv thanh vien mot doanh nghiep dntn tu nhan hop tac xa htx "
    "van phong chi nhanh thuong mai dich vu du lich xay dung dau tu van tai san xuat "
    "xuat nhap khau"
)

# "O9O5 123 456": the letter O typed for a zero. Only a run that then reads as a phone number
# is masked, so "phòng 1O2" stays as written.
_LETTER_O_RUN = re.compile(r"(?<![\w+])[0-9Oo](?:[ .\-]?[0-9Oo]){8,13}(?![\w])")
# Digits written as words: "không chín một hai ba bốn năm sáu bảy tám".
_DIGIT_WORDS = {
    "khong": "0",
    "mot": "1",
    "hai": "2",
    "ba": "3",
    "bon": "4",
    "tu": "4",
    "nam": "5",
    "lam": "5",
    "sau": "6",
    "bay": "7",
    "bat": "8",
    "tam": "8",
    "chin": "9",
}
_DIGIT_WORD_RUN = re.compile(
    r"(?<![^\W_])(?:[^\W\d_]+|\d+)(?:[ \t,.\-]+(?:[^\W\d_]+|\d+)){8,}(?![^\W_])"
)
_SPELLED_TOKEN = re.compile(r"[^\W\d_]+|\d+")


@functools.cache
def _spelled_candidate() -> re.Pattern[str]:
    """Four digit words or numbers in a row: the least a stretch _mask_spelled_phones masks
    takes (three words and nine digits or more), so a text without any is left at once.

    Built on first use: its numbers are also the digits that are no decimal digits ("①",
    "፩"), which _mask_spelled_phones reads as digits too (str.isdigit).
    """
    other_digits = "".join(
        ch for ch in map(chr, range(sys.maxunicode + 1)) if ch.isdigit() and not ch.isdecimal()
    )
    token = rf"(?:(?<![^\W\d_])(?:{'|'.join(_DIGIT_WORDS)})(?![^\W\d_])|[\d{other_digits}]+)"
    return re.compile(rf"{token}(?:[ \t,.\-]+{token}){{3,}}")


def prepare() -> None:
    """Build now what masking would build on its first call (~100 ms): the service that masks
    calls this at start-up, so its first report does not wait for it."""
    _spelled_candidate()


def _mask_letter_o_phones(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        run = match.group()
        if "o" not in run.lower() or sum(ch.isdigit() for ch in run) < 4:
            return run
        as_digits = run.replace("O", "0").replace("o", "0")
        return MASK if _mask_digit_run(as_digits, "") == MASK else run

    return _LETTER_O_RUN.sub(replace, text)


def _mask_spelled_phones(text: str) -> str:
    """A phone number written in words (or words and digits) reads aloud as one: masked."""
    folded = _fold_aligned(text)
    if _spelled_candidate().search(folded) is None:
        return text  # what the runs below give it: nothing in it to mask
    return _mask_spelled_runs(text, folded)


def _mask_spelled_runs(text: str, folded: str) -> str:
    pieces: list[str] = []
    position = 0
    for match in _DIGIT_WORD_RUN.finditer(folded):
        # The longest stretch of digit words and digits inside the run.
        tokens = list(_SPELLED_TOKEN.finditer(match.group()))
        start: int | None = None
        digits = ""
        end = 0
        words = 0
        for token in [*tokens, None]:
            value = None
            if token is not None:
                raw = token.group()
                value = raw if raw.isdigit() else _DIGIT_WORDS.get(raw)
            if value is not None and token is not None:
                if start is None:
                    start, digits, words = token.start(), "", 0
                digits += value
                words += 0 if token.group().isdigit() else 1
                end = token.end()
                continue
            if (
                start is not None
                and words >= 3
                and 9 <= len(digits) <= 12
                and _number_kind(digits, False, 1) == "mask"
            ):
                pieces.append(text[position : match.start() + start])
                pieces.append(MASK)
                position = match.start() + end
            start = None
    pieces.append(text[position:])
    return "".join(pieces)


# "an.nguyen (at) gmail (dot) com", "an[at]gmail.com", "an @ gmail . com": e-mail addresses
# spelled to slip past robots are still e-mail addresses.
_AT = r"(?:\s*[\(\[\{]\s*(?i:at|a còng|a cong)\s*[\)\]\}]\s*|\s+@\s*|\s*@\s+|\s+(?i:a còng)\s+)"
_DOT = r"(?:\s*[\(\[\{]\s*(?i:dot|chấm|cham)\s*[\)\]\}]\s*|\s+(?i:dot|chấm)\s+|\s?\.\s?)"
_SPELLED_EMAIL = re.compile(
    rf"(?<![\w.+-])[\w.+-]+{_AT}[\w-]+(?:{_DOT}[\w-]+)*{_DOT}[a-zA-Z]{{2,}}(?![\w])"
)
# The submitter's home: "nhà tôi ở số 45" — the number is theirs, the street is the place.
_OWN_HOUSE = re.compile(
    r"(?P<lead>(?i:nhà (?:tôi|mình|em|chúng tôi|gia đình tôi|của tôi)"
    r"|nha (?:toi|minh|em|chung toi)|tôi ở|tôi sống ở|địa chỉ(?: của tôi| nhà)?|toi o|dia chi)"
    r"(?:\s+(?:ở|tại|o|tai))?(?:\s+(?:số|so))?\s*:?\s+)"
    r"(?P<number>\d+[A-Za-z]?(?:/\d+[A-Za-z]?)*)(?![\d/])"
)


def _house_numbers(addresses: Iterable[str]) -> list[tuple[str, list[str]]]:
    """(house number, folded street words) of each address the submitter gave."""
    found = []
    for address in addresses:
        match = re.match(r"\s*(?:(?i:số)\s*)?(\d+[A-Za-z]?(?:/\d+[A-Za-z]?)*)\s+(.+)", nfc(address))
        if match is None:
            continue
        street = re.split(r",", match.group(2))[0]
        words = [fold(word) for word in _TOKEN.findall(street)]
        if words:
            found.append((match.group(1), words))
    return found


def _mask_house_numbers(text: str, addresses: Iterable[str]) -> str:
    text = _OWN_HOUSE.sub(lambda m: m["lead"] + MASK, text)
    for number, street in _house_numbers(addresses):
        pattern = re.compile(
            r"(?<![\w/])"
            + re.escape(number.lower())
            + r"(?P<rest>\s+(?:"
            + r"\s+".join(re.escape(word) for word in street)
            + r"))(?![^\W_])"
        )
        text = _mask_folded(text, pattern, keep="rest")
    return text


def mask_personal_data(
    text: str,
    names: Iterable[str] = (),
    *,
    organizations: Iterable[str] = (),
    addresses: Iterable[str] = (),
) -> str:
    """``text`` fit for ``public_content``: personal data replaced by :data:`MASK` ("***").

    Masked: mobile and landline numbers in their usual spellings (+84 too, the letter O for a
    zero, digits written as words), e-mail addresses (also spelled "(at)", "(dot)"),
    CCCD/CMND numbers and numbers introduced as an ID, tax code, insurance or bank account
    number, vehicle plates, the submitter's ``names`` (full name, name without the family
    name, the given name — matched regardless of case and accents), any name after a form of
    address ("ông", "chị"…), the submitter's ``organizations``, and the house number of the
    submitter's own ``addresses``. Kept: service numbers 1800/1900…, emergency numbers, URLs,
    amounts, dates, other house numbers, street names and landmarks, which the public and the
    agencies need to locate the problem.
    """
    names = [name for name in names if name]
    masked = nfc(text)
    masked = _SPELLED_EMAIL.sub(MASK, masked)
    masked = _mask_letter_o_phones(masked)
    masked = _SENSITIVE.sub(_mask_match, masked)
    masked = _mask_spelled_phones(masked)
    masked = _mask_organizations(masked, [o for o in organizations if o])
    masked = _mask_names(masked, names)
    masked = _mask_house_numbers(masked, [a for a in addresses if a])
    return _mask_addressed(masked, _given_names(names))
