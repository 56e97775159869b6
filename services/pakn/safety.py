"""Emergencies in a citizen's words: fire, a live wire down, people trapped, an attack now.

Pure and shared: the router, the chatbot and the hotline ask the same question of a text and
must get the same answer, so the patterns live in the province folder (``safety.yaml``) and
the matching here, in the core. A missed emergency is the worst error the gateway can make;
an alarm raised in vain costs an operator a glance. The patterns lean that way.

Why patterns and not phrases: citizens do not write the list's wording. "Dây điện trung thế bị
đứt rơi xuống mặt đường" holds no "dây điện đứt"; "nhà dân bị cháy" no "cháy nhà". A pattern
(pakn.patterns) is a few slots in order with a few words allowed between them ("dây điện …
đứt|rơi|rớt"), matched on whole words with the marks agreeing.

A match right after a hedge of its clause ("sợ", "nguy cơ", "không có", "năm rồi"…), or with
one inside it, is a risk, not an event: it makes a case urgent, not an emergency. A
``negative`` pattern in the same sentence cancels a match of its group ("bóng đèn bị cháy" is
no fire).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from pakn.patterns import Pattern, PatternIndex, Text, cut, has_words, hedged
from pakn.province import load_model

__all__ = [
    "SAFETY_FILE",
    "Alarm",
    "SafetyAssessment",
    "SafetyDetector",
    "SafetyGroup",
    "SafetyRules",
    "assess",
    "load_safety",
]

SAFETY_FILE = "safety.yaml"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SafetyGroup(_Model):
    """One kind of emergency, the hotline the citizen is told to call, and its patterns."""

    code: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
    hotline: Annotated[str, StringConstraints(pattern=r"^\d{3}$")]
    advice: Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
    patterns: list[Pattern] = Field(min_length=1)
    negative: list[Pattern] = Field(default_factory=list)


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
        """The alarms that make the case an emergency, in the order found."""
        return tuple(alarm for alarm in self.alarms if not alarm.hedged)

    @property
    def hotlines(self) -> tuple[str, ...]:
        """The numbers to tell the citizen to call, without repeats."""
        return tuple(dict.fromkeys(alarm.hotline for alarm in self.events))

    @property
    def advice(self) -> tuple[str, ...]:
        """What to tell the citizen at once, one sentence per kind of emergency."""
        return tuple(dict.fromkeys(alarm.advice for alarm in self.events))


class SafetyDetector:
    """The rules of one province folder, indexed once; ``assess`` is then a pure function."""

    def __init__(self, rules: SafetyRules) -> None:
        self.rules = rules
        #: Pattern number in the index → (group number, whether it is a negative pattern).
        self._owners: list[tuple[int, bool]] = []
        patterns: list[Pattern] = []
        for g, group in enumerate(rules.groups):
            for negative, group_patterns in ((False, group.patterns), (True, group.negative)):
                for pattern in group_patterns:
                    patterns.append(pattern)
                    self._owners.append((g, negative))
        self._index = PatternIndex(patterns)
        self._hedges = [has_words(hedge) for hedge in rules.hedges]

    @classmethod
    def from_config_dir(cls, config_dir: Path) -> SafetyDetector:
        """The detector of a province folder; pakn.province.ConfigError when it is invalid."""
        return cls(load_model(config_dir / SAFETY_FILE, SafetyRules))

    def assess(self, *texts: str | None) -> SafetyAssessment:
        """The alarms of ``texts`` (e.g. a title and a content), each read on its own."""
        alarms: list[Alarm] = []
        for text in texts:
            if text:
                alarms.extend(self._alarms(cut(text)))
        return SafetyAssessment(tuple(alarms))

    def _alarms(self, text: Text) -> list[Alarm]:
        matches = self._index.find(text)
        cancelled = {
            (self._owners[m.pattern][0], text.sentence[m.start])
            for m in matches
            if self._owners[m.pattern][1]
        }
        alarms: dict[tuple[int, int, int], Alarm] = {}
        for match in matches:
            g, negative = self._owners[match.pattern]
            if negative or (g, text.sentence[match.start]) in cancelled:
                continue
            if (g, match.start, match.end) in alarms:
                continue
            group = self.rules.groups[g]
            alarms[(g, match.start, match.end)] = Alarm(
                group.code,
                group.hotline,
                group.advice,
                text.span(match.start, match.end),
                hedged(text, match.start, match.end, self._hedges, self.rules.hedge_window),
            )
        kept = sorted(alarms.items(), key=lambda kv: (kv[0][1], kv[0][0]))
        # Of one group's matches, a span holding a shorter one is said by the shorter.
        return [
            alarm
            for (g, start, end), alarm in kept
            if not any(
                h == g and start <= s and e <= end and (s, e) != (start, end) for h, s, e in alarms
            )
        ]


@cache
def load_safety(config_dir: Path) -> SafetyDetector:
    """The detector of a province folder, built once per process (the folder is read-only)."""
    return SafetyDetector.from_config_dir(config_dir)


def assess(text: str, detector: SafetyDetector, *, title: str | None = None) -> SafetyAssessment:
    """Whether ``text`` (and its title) describes an emergency: the one call every channel uses."""
    return detector.assess(title, text)
