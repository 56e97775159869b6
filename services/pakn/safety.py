"""Emergencies in a citizen's words: fire, a live wire down, people trapped, an attack now.

Pure and shared: the router, the chatbot and the hotline ask the same question of a text and
must get the same answer, so the patterns live in the province folder (``safety.yaml``) and
the matching here, in the core. A missed emergency is the worst error the gateway can make;
an alarm raised in vain costs an operator a glance. The patterns lean that way.

Why patterns and not phrases: citizens do not write the list's wording. "Dây điện trung thế bị
đứt rơi xuống mặt đường" holds no "dây điện đứt"; "nhà dân bị cháy" no "cháy nhà". A pattern
is a few *slots* in order ("dây điện … đứt|rơi|rớt"), each slot one of a few word sequences,
with at most ``within`` words between two slots, inside one sentence; ``any_order`` lets the
slots come in either order ("bị đứt dây điện"). Matching is whole words, accent-blind on a
text typed without marks and exact on a marked one (pakn.phrases), so "đang chạy" is not
"đang cháy".

A match right after a hedge of its clause ("sợ", "nguy cơ", "suýt", "không có"…) is a risk,
not an event: it makes a case urgent, not an emergency. A ``negative`` pattern in the same
sentence cancels a match of its group ("bóng đèn bị cháy" is no fire).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from pakn.phrases import Word, words
from pakn.province import load_model

__all__ = [
    "SAFETY_FILE",
    "Alarm",
    "SafetyAssessment",
    "SafetyDetector",
    "SafetyGroup",
    "SafetyPattern",
    "SafetyRules",
    "assess",
    "load_safety",
]

SAFETY_FILE = "safety.yaml"

#: Slots of a pattern stay inside one sentence; a hedge counts only inside its clause.
_SENTENCE_ENDS = frozenset(".!?\n\r")
_CLAUSE_ENDS = _SENTENCE_ENDS | frozenset(',;:()[]{}"“”«»…|•')
#: Separators of a pattern's slots and of a slot's alternatives.
_SLOT_SEPARATORS = ("…", "...")
_ALTERNATIVE = "|"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SafetyPattern(_Model):
    """``"dây điện … đứt|rơi|rớt"``: slots in order, alternatives inside a slot."""

    text: Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
    #: The most words allowed between two consecutive slots.
    within: int = Field(default=4, ge=0, le=12)
    #: The slots may come in any order ("bị đứt dây điện").
    any_order: bool = False
    #: Only in a text written with diacritics: folded, its words are everyday ones ("sập"
    #: is "sắp", "lật" is "lát", "cháy xe" is "chạy xe").
    marked_only: bool = False

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
        text = self.text
        for separator in _SLOT_SEPARATORS[1:]:
            text = text.replace(separator, _SLOT_SEPARATORS[0])
        return [
            [_phrase_words(alternative) for alternative in slot.split(_ALTERNATIVE)]
            for slot in text.split(_SLOT_SEPARATORS[0])
        ]


class SafetyGroup(_Model):
    """One kind of emergency, the hotline the citizen is told to call, and its patterns."""

    code: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
    hotline: Annotated[str, StringConstraints(pattern=r"^\d{3}$")]
    advice: Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
    patterns: list[SafetyPattern] = Field(min_length=1)
    negative: list[SafetyPattern] = Field(default_factory=list)


class SafetyRules(_Model):
    """safety.yaml: the emergency groups and the hedges that turn an event into a risk."""

    groups: list[SafetyGroup] = Field(min_length=1)
    hedges: list[Annotated[str, StringConstraints(min_length=1)]] = Field(default_factory=list)
    #: How many words before a match are searched for a hedge (same clause only).
    hedge_window: int = Field(default=3, ge=0, le=10)

    @model_validator(mode="after")
    def _unique_codes(self) -> Self:
        codes = [group.code for group in self.groups]
        repeated = sorted({code for code in codes if codes.count(code) > 1})
        if repeated:
            raise ValueError(f"emergency group codes repeated: {', '.join(repeated)}")
        return self


@dataclass(frozen=True, slots=True)
class Alarm:
    """One emergency pattern found in a text."""

    group: str
    hotline: str
    advice: str
    #: The words of the text that matched, as written.
    matched: str
    #: Found right after a hedge ("sợ dây điện rơi"): a risk to act on soon, not an event.
    hedged: bool


@dataclass(frozen=True, slots=True)
class SafetyAssessment:
    """What the detector found; empty when nothing looks dangerous."""

    alarms: tuple[Alarm, ...] = ()

    @property
    def emergency(self) -> bool:
        """Whether something dangerous is happening (an alarm not hedged)."""
        return any(not alarm.hedged for alarm in self.alarms)

    @property
    def risk(self) -> bool:
        """Whether the text only speaks of a danger that may come (every alarm hedged)."""
        return bool(self.alarms) and not self.emergency

    @property
    def events(self) -> tuple[Alarm, ...]:
        """The alarms that make the case an emergency, one per group, in the file's order."""
        seen: dict[str, Alarm] = {}
        for alarm in self.alarms:
            if not alarm.hedged:
                seen.setdefault(alarm.group, alarm)
        return tuple(seen.values())

    @property
    def hotlines(self) -> tuple[str, ...]:
        """The numbers to tell the citizen to call, without repeats."""
        return tuple(dict.fromkeys(alarm.hotline for alarm in self.events))

    @property
    def advice(self) -> tuple[str, ...]:
        """What to tell the citizen at once, one sentence per kind of emergency."""
        return tuple(dict.fromkeys(alarm.advice for alarm in self.events))


def _agree(found: Sequence[Word], wanted: Sequence[Word]) -> bool:
    """Marks must agree word for word, a plain pattern word wanting a plain text word.

    Stricter than the router's phrases (where a plain "ko" or "UBND" accepts any marks):
    "ghe" (a boat) must not be "ghế", "xe" not "xé".
    """
    return all(
        w.base == p.base and (w.tone == p.tone or {w.tone, p.tone} == {3, 4})
        for w, p in zip(found, wanted, strict=True)
    )


def _phrase_words(text: str) -> tuple[Word, ...]:
    return tuple(w for w in words(text, frozenset()).items if w is not None)


@dataclass(frozen=True, slots=True)
class _Compiled:
    group: int
    negative: bool
    slots: tuple[tuple[tuple[Word, ...], ...], ...]
    within: int
    any_order: bool
    marked_only: bool


@dataclass(frozen=True, slots=True)
class _Text:
    """A text's words with the sentence and clause each belongs to."""

    items: tuple[Word, ...]
    sentence: tuple[int, ...]
    clause: tuple[int, ...]
    marked: bool
    source: str


def _cut(text: str) -> _Text:
    cut = words(text, frozenset())
    items = tuple(w for w in cut.items if w is not None)
    sentence: list[int] = []
    clause: list[int] = []
    s = c = 0
    previous_end: int | None = None
    for word in items:
        if previous_end is not None:
            gap = cut.source[previous_end : word.start]
            if not _SENTENCE_ENDS.isdisjoint(gap):
                s, c = s + 1, c + 1
            elif not _CLAUSE_ENDS.isdisjoint(gap):
                c += 1
        sentence.append(s)
        clause.append(c)
        previous_end = word.end
    return _Text(items, tuple(sentence), tuple(clause), cut.marked, cut.source)


class SafetyDetector:
    """The rules of one province folder, indexed once; ``assess`` is then a pure function."""

    def __init__(self, rules: SafetyRules) -> None:
        self.rules = rules
        self._patterns: list[_Compiled] = []
        # First folded word of an alternative → (pattern, slot, alternative) starting with it.
        self._starts: dict[str, list[tuple[int, int, tuple[Word, ...]]]] = defaultdict(list)
        for g, group in enumerate(rules.groups):
            for negative, patterns in ((False, group.patterns), (True, group.negative)):
                for pattern in patterns:
                    self._compile(g, negative, pattern)
        self._hedges = [_phrase_words(hedge) for hedge in rules.hedges]

    def _compile(self, group: int, negative: bool, pattern: SafetyPattern) -> None:
        slots = tuple(tuple(slot) for slot in pattern.slots())
        index = len(self._patterns)
        self._patterns.append(
            _Compiled(
                group, negative, slots, pattern.within, pattern.any_order, pattern.marked_only
            )
        )
        for s, slot in enumerate(slots):
            for alternative in slot:
                self._starts[alternative[0].folded].append((index, s, alternative))

    @classmethod
    def from_config_dir(cls, config_dir: Path) -> SafetyDetector:
        """The detector of a province folder; pakn.province.ConfigError when it is invalid."""
        return cls(load_model(config_dir / SAFETY_FILE, SafetyRules))

    def assess(self, *texts: str | None) -> SafetyAssessment:
        """The alarms of ``texts`` (e.g. a title and a content), each read on its own."""
        alarms: list[Alarm] = []
        for text in texts:
            if text:
                alarms.extend(self._alarms(_cut(text)))
        return SafetyAssessment(tuple(alarms))

    # -- matching --------------------------------------------------------------------------

    def _occurrences(self, text: _Text) -> dict[tuple[int, int], list[tuple[int, int]]]:
        """(pattern, slot) → the word spans where one of the slot's alternatives stands."""
        found: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
        items = text.items
        for start, word in enumerate(items):
            for pattern, slot, alternative in self._starts.get(word.folded, ()):
                end = start + len(alternative)
                if end > len(items) or text.sentence[end - 1] != text.sentence[start]:
                    continue
                span = items[start:end]
                if any(w.folded != a.folded for w, a in zip(span, alternative, strict=True)):
                    continue
                if text.marked and not _agree(span, alternative):
                    continue
                found[(pattern, slot)].append((start, end))
        return found

    def _spans(
        self,
        pattern: _Compiled,
        index: int,
        found: dict[tuple[int, int], list[tuple[int, int]]],
        text: _Text,
    ) -> Iterable[tuple[int, int]]:
        """The word spans where the whole pattern matches."""
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

    def _hedged(self, text: _Text, start: int, stop: int) -> bool:
        """A hedge just before the match (same clause) or inside it ("cây có nguy cơ đổ")."""
        first = max(0, start - self.rules.hedge_window)
        for position in range(first, stop - 1):
            if position < start and text.clause[position] != text.clause[start]:
                continue
            for hedge in self._hedges:
                end = position + len(hedge)
                if end > stop:
                    continue
                span = text.items[position:end]
                if all(w.folded == h.folded for w, h in zip(span, hedge, strict=True)) and (
                    not text.marked or _agree(span, hedge)
                ):
                    return True
        return False

    def _alarms(self, text: _Text) -> list[Alarm]:
        found = self._occurrences(text)
        if not found:
            return []
        candidates = {pattern for pattern, _ in found}
        positive: dict[int, list[tuple[int, int]]] = defaultdict(list)
        negative: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for index in sorted(candidates):
            pattern = self._patterns[index]
            if pattern.marked_only and not text.marked:
                continue
            spans = list(self._spans(pattern, index, found, text))
            (negative if pattern.negative else positive)[pattern.group].extend(spans)
        alarms: list[Alarm] = []
        for g in sorted(positive):
            group = self.rules.groups[g]
            found_spans = set(positive[g])
            for start, end in sorted(found_spans):
                if any(start <= s and e <= end and (s, e) != (start, end) for s, e in found_spans):
                    continue  # holds a shorter match of the same group: the shorter says it
                if any(text.sentence[s] == text.sentence[start] for s, _ in negative.get(g, ())):
                    continue  # "bóng đèn cháy …, cháy nổ lụp bụp" speaks of a lamp
                matched = text.source[text.items[start].start : text.items[end - 1].end]
                alarms.append(
                    Alarm(
                        group.code,
                        group.hotline,
                        group.advice,
                        matched,
                        self._hedged(text, start, end),
                    )
                )
        return alarms


@cache
def load_safety(config_dir: Path) -> SafetyDetector:
    """The detector of a province folder, built once per process (the folder is read-only)."""
    return SafetyDetector.from_config_dir(config_dir)


def assess(text: str, detector: SafetyDetector, *, title: str | None = None) -> SafetyAssessment:
    """Whether ``text`` (and its title) describes an emergency: the one call every channel uses."""
    return detector.assess(title, text)
