"""Pure: text typed in the legacy TCVN3 (ABC) and VNI fonts, recognised and turned into Unicode.

Before Unicode, Vietnamese was typed with fonts whose byte values stood for Vietnamese letters.
Such text copied into a mail client arrives as the Latin-1 characters with the same numbers:
"Xin chµo" (TCVN3) or "Xin chaøo" (VNI) for "Xin chào". Nothing in the mail says so; the only
sign is that the text is not Vietnamese as it stands and becomes Vietnamese once converted.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Literal

import yaml

from pakn.text import is_syllable

LegacyFont = Literal["tcvn3", "vni"]

#: Letters only Unicode Vietnamese has (ă đ ơ ư and the precomposed tones U+1EA0–U+1EF9):
#: text with any of them was not typed in a legacy font.
_UNICODE_VIETNAMESE = re.compile(r"[ăĂđĐơƠưƯĩĨũŨ\u1ea0-\u1ef9]")
_WORD = re.compile(r"[^\W\d_]+(?:[\u00ad][^\W\d_]*)*")
#: A converted text must be at least this share of Vietnamese syllables, and gain this much
#: over the text as it stands, before it replaces it: French "café" or a name like "José"
#: must never be "converted".
MIN_SYLLABLE_SHARE = 0.85
MIN_GAIN = 0.2
MIN_CHANGED_WORDS = 2


@dataclass(frozen=True)
class Conversion:
    text: str
    font: LegacyFont | None
    #: Share of words that are Vietnamese syllables, before and after.
    share_before: float
    share_after: float


@cache
def _tables() -> dict[LegacyFont, dict[str, str]]:
    """Legacy spelling → Unicode letter, per font (data/legacy_fonts.yaml, sources cited there)."""
    raw = yaml.safe_load(files("pakn_email").joinpath("data/legacy_fonts.yaml").read_text("utf-8"))
    return {
        "tcvn3": {legacy: letter for letter, legacy in raw["tcvn3"].items()},
        "vni": {legacy: letter for letter, legacy in raw["vni"].items()},
    }


@cache
def _pattern(font: LegacyFont) -> re.Pattern[str]:
    # Longest first, so VNI "ôù" (ớ) wins over "ô" (ơ).
    keys = sorted(_tables()[font], key=len, reverse=True)
    return re.compile("|".join(re.escape(key) for key in keys))


def decode_legacy(text: str, font: LegacyFont) -> str:
    """``text`` read as if typed in ``font`` (no detection: see :func:`repair_legacy_font`)."""
    table = _tables()[font]
    return unicodedata.normalize("NFC", _pattern(font).sub(lambda m: table[m.group(0)], text))


def syllable_share(text: str) -> tuple[float, int]:
    """Share of the words of ``text`` that are Vietnamese syllables, and how many words.

    Acronyms (UBND, ĐT, SĐT) are left out: they are no syllables in any font.
    """
    words = [word for word in _WORD.findall(text) if not (len(word) > 1 and word.isupper())]
    if not words:
        return 0.0, 0
    good = sum(1 for word in words if is_syllable(word.lower()))
    return good / len(words), len(words)


def _candidate(paragraph: str) -> bool:
    """Could this paragraph be legacy-font text? (Unicode-only letters say it is not.)"""
    return not _UNICODE_VIETNAMESE.search(paragraph) and any(ord(ch) > 0x7F for ch in paragraph)


def repair_legacy_font(text: str) -> Conversion:
    """``text`` converted from TCVN3 or VNI where it plainly was typed in one, else unchanged.

    The font is judged on all paragraphs that could be legacy text together, then applied to
    each of them: a mail often has a Unicode greeting above text pasted from an old document,
    and a short signature alone proves nothing.
    """
    parts = re.split(r"(\n\s*\n)", text)
    sample = "\n\n".join(part for part in parts if _candidate(part))
    before, _ = syllable_share(text)
    unchanged = Conversion(text, None, before, before)
    if not sample:
        return unchanged
    sample_before, _ = syllable_share(sample)
    words = set(_WORD.findall(sample))
    best: tuple[float, LegacyFont] | None = None
    for font in ("tcvn3", "vni"):
        converted = decode_legacy(sample, font)
        changed = len(set(_WORD.findall(converted)) - words)
        after, _ = syllable_share(converted)
        if (
            changed >= MIN_CHANGED_WORDS
            and after >= MIN_SYLLABLE_SHARE
            and after - sample_before >= MIN_GAIN
            and (best is None or after > best[0])
        ):
            best = (after, font)
    if best is None:
        return unchanged
    font = best[1]
    joined = "".join(decode_legacy(part, font) if _candidate(part) else part for part in parts)
    after, _ = syllable_share(joined)
    return Conversion(joined, font, before, after)
