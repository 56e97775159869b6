"""Word patterns that hold across word order and inserted words: "dây điện … đứt|rơi|rớt".

A phrase list fits the wording it was written for: "dây điện đứt" misses "dây điện trung thế
bị đứt", "khiếu nại quyết định" misses "khiếu nại về việc UBND phường ban hành quyết định".
A pattern is a few *slots* in order, separated by "…", each slot one of a few word sequences
separated by "|"; at most ``within`` words may stand between two slots, inside one sentence;
``any_order`` lets the slots come in either order ("bị đứt dây điện"). Matching is whole
words, accent-blind on a text typed without marks and exact on a marked one ("đang chạy" is
not "đang cháy"; a plain "ghe" is not "ghế"). ``marked_only`` keeps a pattern whose folded
words are everyday ones ("sập" = "sắp") for texts written with diacritics.

Used by the safety detector (pakn.safety) and the router's complaint and denunciation rules.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from pakn.phrases import Word, words

__all__ = ["Match", "Pattern", "PatternIndex", "Text", "cut", "has_words"]

#: Slots of a pattern stay inside one sentence; a hedge counts only inside its clause.
_SENTENCE_ENDS = frozenset(".!?\n\r")
_CLAUSE_ENDS = _SENTENCE_ENDS | frozenset(',;:()[]{}"“”«»…|•')
_SLOT = "…"
_ALTERNATIVE = "|"
_HOI, _NGA = 4, 3


class Pattern(BaseModel):
    """``"dây điện … đứt|rơi|rớt"``: slots in order, alternatives inside a slot."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
    #: The most words allowed between two consecutive slots.
    within: int = Field(default=4, ge=0, le=12)
    #: The slots may come in any order ("bị đứt dây điện").
    any_order: bool = False
    #: Only in a text written with diacritics: folded, its words are everyday ones ("sập"
    #: is "sắp", "lật" is "lát", "cháy xe" is "chạy xe").
    marked_only: bool = False
    #: What a match is worth where matches are scored (complaints); ignored elsewhere.
    weight: float = Field(default=1.0, ge=0.5, le=5)

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        return {"text": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _has_words(self) -> Self:
        for slot in self.slots():
            if not slot or any(not alternative for alternative in slot):
                raise ValueError(f"pattern {self.text!r} has an empty slot or alternative")
        return self

    def slots(self) -> list[list[tuple[Word, ...]]]:
        """Each slot's alternatives as word sequences."""
        text = self.text.replace("...", _SLOT)
        return [
            [has_words(alternative) for alternative in slot.split(_ALTERNATIVE)]
            for slot in text.split(_SLOT)
        ]


def has_words(text: str) -> tuple[Word, ...]:
    """The words of a pattern's alternative or of a hedge."""
    return tuple(w for w in words(text, frozenset()).items if w is not None)


def _agree(found: Sequence[Word], wanted: Sequence[Word]) -> bool:
    """Marks agree word for word, a plain pattern word wanting a plain text word.

    Stricter than the router's phrases (where a plain "ko" or "UBND" accepts any marks):
    "ghe" (a boat) must not be "ghế", "xe" not "xé". Hỏi and ngã are one, as there.
    """
    return all(
        w.base == p.base and (w.tone == p.tone or {w.tone, p.tone} == {_HOI, _NGA})
        for w, p in zip(found, wanted, strict=True)
    )


@dataclass(frozen=True, slots=True)
class Text:
    """A text's words with the sentence and the clause each belongs to."""

    items: tuple[Word, ...]
    sentence: tuple[int, ...]
    clause: tuple[int, ...]
    marked: bool
    source: str
    #: The folded form of each word, compared a slice at a time.
    folded: tuple[str, ...] = ()

    def span(self, start: int, end: int) -> str:
        """Words ``start``..``end`` (exclusive) as written."""
        return self.source[self.items[start].start : self.items[end - 1].end]

    def has(
        self, sequence: Sequence[Word], start: int, folded: tuple[str, ...] | None = None
    ) -> bool:
        """Whether ``sequence`` (whose folded words are ``folded``) stands at word ``start``."""
        end = start + len(sequence)
        if end > len(self.items) or self.sentence[end - 1] != self.sentence[start]:
            return False
        if folded is None:
            folded = tuple(w.folded for w in sequence)
        if self.folded[start:end] != folded:
            return False
        return not self.marked or _agree(self.items[start:end], sequence)


@lru_cache(maxsize=256)
def cut(text: str) -> Text:
    """``text`` as words, each with its sentence and clause number.

    Cached: the safety check and the complaint patterns read the same text one after the
    other (a Text is immutable).
    """
    cut_words = words(text, frozenset())
    items = tuple(w for w in cut_words.items if w is not None)
    sentence: list[int] = []
    clause: list[int] = []
    s = c = 0
    previous_end: int | None = None
    for word in items:
        if previous_end is not None:
            gap = cut_words.source[previous_end : word.start]
            if not _SENTENCE_ENDS.isdisjoint(gap):
                s, c = s + 1, c + 1
            elif not _CLAUSE_ENDS.isdisjoint(gap):
                c += 1
        sentence.append(s)
        clause.append(c)
        previous_end = word.end
    folded = tuple(w.folded for w in items)
    return Text(items, tuple(sentence), tuple(clause), cut_words.marked, cut_words.source, folded)


@dataclass(frozen=True, slots=True)
class Match:
    """Pattern number ``pattern`` of the index found at words ``start``..``end``."""

    pattern: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Compiled:
    slots: tuple[tuple[tuple[Word, ...], ...], ...]
    within: int
    any_order: bool
    marked_only: bool


class PatternIndex:
    """Patterns indexed by their words' first folded word: a text costs one walk."""

    def __init__(self, patterns: Iterable[Pattern]) -> None:
        self._patterns: list[_Compiled] = []
        # First folded word of an alternative → (pattern, slot, alternative) starting with it.
        self._starts: dict[str, list[tuple[int, int, tuple[Word, ...], tuple[str, ...]]]] = (
            defaultdict(list)
        )
        for index, pattern in enumerate(patterns):
            slots = tuple(tuple(slot) for slot in pattern.slots())
            self._patterns.append(
                _Compiled(slots, pattern.within, pattern.any_order, pattern.marked_only)
            )
            for s, slot in enumerate(slots):
                for alternative in slot:
                    folded = tuple(w.folded for w in alternative)
                    self._starts[folded[0]].append((index, s, alternative, folded))

    def __len__(self) -> int:
        return len(self._patterns)

    def find(self, text: Text) -> list[Match]:
        """Every match of every pattern; of one pattern's overlapping matches, the shortest."""
        found: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
        # Text.has, inlined: this loop runs for every word of every text the router reads.
        items, sentence, text_folded = text.items, text.sentence, text.folded
        length = len(text_folded)
        for start, first in enumerate(text_folded):
            for pattern, slot, alternative, folded in self._starts.get(first, ()):
                end = start + len(folded)
                if (
                    end <= length
                    and sentence[end - 1] == sentence[start]
                    and text_folded[start:end] == folded
                    and (not text.marked or _agree(items[start:end], alternative))
                ):
                    found[(pattern, slot)].append((start, end))
        matches: list[Match] = []
        for index in sorted({pattern for pattern, _ in found}):
            compiled = self._patterns[index]
            if compiled.marked_only and not text.marked:
                continue
            spans = set(self._spans(compiled, index, found, text))
            for start, end in sorted(spans):
                # A match holding a shorter match of the same pattern: the shorter says it.
                if not any(start <= s and e <= end and (s, e) != (start, end) for s, e in spans):
                    matches.append(Match(index, start, end))
        return matches

    @staticmethod
    def _spans(
        pattern: _Compiled,
        index: int,
        found: dict[tuple[int, int], list[tuple[int, int]]],
        text: Text,
    ) -> Iterable[tuple[int, int]]:
        orders: Iterable[Sequence[int]] = (
            itertools.permutations(range(len(pattern.slots)))
            if pattern.any_order
            else (range(len(pattern.slots)),)
        )
        for order in orders:
            chains: list[tuple[int, int]] = list(found.get((index, order[0]), ()))
            for slot in order[1:]:
                following = found.get((index, slot), ())
                chains = [
                    (start, next_end)
                    for start, end in chains
                    for next_start, next_end in following
                    if end <= next_start <= end + pattern.within
                    and text.sentence[next_start] == text.sentence[start]
                ]
                if not chains:
                    break
            yield from chains


def hedged(
    text: Text, start: int, end: int, hedges: Sequence[tuple[Word, ...]], window: int
) -> bool:
    """A hedge just before words ``start``..``end`` (same clause) or inside them."""
    for position in range(max(0, start - window), end - 1):
        if position < start and text.clause[position] != text.clause[start]:
            continue
        for hedge in hedges:
            if position + len(hedge) <= end and text.has(hedge, position):
                return True
    return False
