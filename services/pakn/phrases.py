"""Whole-word phrase matching on Vietnamese: accent-blind on plain text, exact on marked text.

Accent folding merges words ("chợ"/"cho", "cháy"/"chạy", "cống"/"công"), so a phrase is
matched on folded words only when the text was typed without diacritics. In a text written
with them (most texts: the web form refuses those without) each word must also carry the
phrase word's marks, tone placement aside ("hoà" = "hòa") and hỏi/ngã taken as one. A phrase
word written without marks ("ko", "nc", "UBND") matches whatever marks.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Generic, TypeVar

from pakn.text import fold

T = TypeVar("T")

_WORD = re.compile(r"[^\W_]+")
# Where a phrase may not run across. "Sentence" breaks for topic phrases; place names keep the
# period because citizens write "P. Vĩnh Hải", "TP. Nha Trang".
SENTENCE_BREAKS = frozenset('.,;:!?()[]{}"“”«»…|•\n\r')
PLACE_BREAKS = frozenset(',;:!?()[]{}"“”«»…|•\n\r')

# Tone marks (combining, after NFD): huyền, sắc, ngã, hỏi, nặng.
_TONES = {"\u0300": 1, "\u0301": 2, "\u0303": 3, "\u0309": 4, "\u0323": 5}
_NGA, _HOI = 3, 4
# Vowel-shape marks (â ê ô, ă, ơ ư) and đ make another letter, not another tone.
_SHAPES = frozenset("\u0302\u0306\u031b")
#: Below this share of marked words a text is taken as typed without diacritics.
MARKED_TEXT_SHARE = 0.3


@dataclass(frozen=True, slots=True)
class Word:
    """One word: its accent-folded form and, when it carries marks, its letters and tone.

    ``base`` keeps the vowel shapes and đ but not the tone, so "hoà" and "hòa" are one word
    whatever vowel carries the mark; it is None for a word written without any mark.
    """

    folded: str
    base: str | None
    tone: int
    start: int = 0
    end: int = 0

    def agrees_with(self, other: Word) -> bool:
        """Whether a marked text word can be the phrase word ``other`` (same folded form).

        A phrase word written without marks ("ko", "nc", "nha trang") accepts any marks. Hỏi
        and ngã are taken as one: many Vietnamese speakers do not tell them apart when writing
        ("hư hõng", "sữa chữa").
        """
        if other.base is None:
            return True
        if self.base != other.base:
            return False
        return self.tone == other.tone or {self.tone, other.tone} == {_HOI, _NGA}


@lru_cache(maxsize=65536)
def _analyse(text: str) -> tuple[str, str | None, int]:
    """(folded, base, tone) of one word; a text's vocabulary repeats, so this is cached."""
    lowered = text.lower()
    decomposed = unicodedata.normalize("NFD", lowered)
    tone = 0
    kept: list[str] = []
    marked = "đ" in lowered or "ð" in lowered
    for ch in decomposed:
        if ch in _TONES:
            tone, marked = _TONES[ch], True
        elif ch in _SHAPES:
            kept.append(ch)
            marked = True
        elif unicodedata.category(ch) != "Mn":
            kept.append(ch)
    base = unicodedata.normalize("NFC", "".join(kept)) if marked else None
    return fold(lowered), base, tone


@dataclass(frozen=True, slots=True)
class Words:
    """A text cut into words; None marks a break a phrase may not cross."""

    items: tuple[Word | None, ...]
    #: Whether the text is written with diacritics: then marks must agree, not only letters.
    marked: bool
    source: str = ""

    def span_text(self, start: int, end: int) -> str:
        """The original characters of words ``start``..``end`` (exclusive)."""
        first, last = self.items[start], self.items[end - 1]
        assert first is not None and last is not None
        return self.source[first.start : last.end]

    def __len__(self) -> int:
        return len(self.items)


# Smaller than words()'s cache: a text is read with each of its breaks one after the other.
@lru_cache(maxsize=256)
def _tokens(text: str) -> tuple[str, tuple[Word, ...], tuple[str, ...], bool]:
    """``text`` in NFC, its words, the characters before each word, and whether it is
    written with diacritics: what :func:`words` needs whatever its breaks."""
    text = unicodedata.normalize("NFC", text)
    found: list[Word] = []
    gaps: list[str] = []
    position = 0
    marked = plain = 0
    for match in _WORD.finditer(text):
        gaps.append(text[position : match.start()])
        word = Word(*_analyse(match.group()), match.start(), match.end())
        if word.base is not None:
            marked += 1
        elif not word.folded.isdigit():
            plain += 1
        found.append(word)
        position = match.end()
    share = marked / (marked + plain) if marked + plain else 0.0
    return text, tuple(found), tuple(gaps), share >= MARKED_TEXT_SHARE


@lru_cache(maxsize=1024)
def words(text: str, breaks: frozenset[str] = SENTENCE_BREAKS) -> Words:
    """``text`` as words, in NFC, with a break wherever a character of ``breaks`` stands.

    Cached: the classifier, the place finder and the street table read one text in turn,
    each with its own breaks, and the words themselves are cut once (:func:`_tokens`).
    """
    source, found, gaps, marked = _tokens(text)
    if not breaks:
        return Words(found, marked, source)
    items: list[Word | None] = []
    for word, gap in zip(found, gaps, strict=True):
        if gap != " " and items and not breaks.isdisjoint(gap):
            items.append(None)
        items.append(word)
    return Words(tuple(items), marked, source)


@dataclass(frozen=True, slots=True)
class Hit(Generic[T]):
    """A phrase found at words ``start``..``end`` (exclusive)."""

    start: int
    end: int
    payload: T


@dataclass(slots=True)
class _Node(Generic[T]):
    children: dict[str, _Node[T]] = field(default_factory=dict)
    entries: list[tuple[tuple[Word, ...], T]] = field(default_factory=list)


class PhraseIndex(Generic[T]):
    """Phrases as word sequences in a trie: finding all of them costs one walk per word."""

    def __init__(self, breaks: frozenset[str] = SENTENCE_BREAKS) -> None:
        self.breaks = breaks
        self._root: _Node[T] = _Node()
        self.size = 0

    def add(self, phrase: str, payload: T) -> None:
        phrase_words = tuple(w for w in words(phrase, frozenset()).items if w is not None)
        if not phrase_words:
            raise ValueError(f"phrase {phrase!r} has no word")
        node = self._root
        for word in phrase_words:
            node = node.children.setdefault(word.folded, _Node())
        node.entries.append((phrase_words, payload))
        self.size += 1

    def words(self, text: str) -> Words:
        """``text`` cut the way this index's phrases are looked for."""
        return words(text, self.breaks)

    def find(self, text: Words) -> Iterator[Hit[T]]:
        """Every phrase occurrence (overlapping ones too), left to right."""
        items = text.items
        for start in range(len(items)):
            node = self._root
            position = start
            while position < len(items):
                word = items[position]
                if word is None:
                    break
                child = node.children.get(word.folded)
                if child is None:
                    break
                node = child
                position += 1
                for phrase_words, payload in node.entries:
                    if not text.marked or _agree(items[start:position], phrase_words):
                        yield Hit(start, position, payload)


def _agree(found: Sequence[Word | None], phrase: Sequence[Word]) -> bool:
    for word, wanted in zip(found, phrase, strict=True):
        if word is None:
            return False
        if word.base is None:
            # A plain word in a marked text is what it says ("cho" is not "chợ"), unless the
            # phrase word is plain too.
            if wanted.base is not None:
                return False
        elif not word.agrees_with(wanted):
            return False
    return True


class Cues(Generic[T]):
    """Short word lists ("gần", "trước", "đường"…) looked for right around a phrase."""

    def __init__(self, cues: dict[str, T], breaks: frozenset[str] = SENTENCE_BREAKS) -> None:
        self._index: PhraseIndex[T] = PhraseIndex(breaks)
        self._longest = 1
        for cue, payload in cues.items():
            self._index.add(cue, payload)
            self._longest = max(self._longest, len(words(cue, frozenset())))

    def before(self, text: Words, start: int, within: int = 0) -> T | None:
        """A cue right before word ``start`` or, with ``within``, among the words before it.

        Only words of the same sentence count.
        """
        items = list(text.items[max(0, start - (within or self._longest)) : start])
        if None in items:
            items = items[len(items) - items[::-1].index(None) :]
        for hit in self._index.find(Words(tuple(items), text.marked)):
            if within or hit.end == len(items):
                return hit.payload
        return None

    def after(self, text: Words, end: int) -> T | None:
        """A cue as the word after words ..``end``, across one break ("Vĩnh Phương (cũ)")."""
        following = tuple(item for item in text.items[end : end + 2] if item is not None)[:1]
        hits = self._index.find(Words(following, text.marked))
        return next((hit.payload for hit in hits), None)

    def positions(self, text: Words) -> list[int]:
        """Where the cues stand in ``text`` (word indexes)."""
        return [hit.start for hit in self._index.find(text)]

    def starts(self, text: Words) -> bool:
        """Whether ``text`` begins with a cue ("chợ" in "chợ Đầm")."""
        return any(hit.start == 0 for hit in self._index.find(text))
