"""A statistical field model: naive Bayes over accent-folded words and word pairs.

Why this and not more phrases: the phrase lists fit the wording they were written for (0.996
on the texts they were tuned on, 0.76 on the others). A model over words and word pairs
learns from every labelled text — the corpus and, through ``pakn classify --retrain``, every
operator decision — and weighs words nobody thought to list. Naive Bayes because it trains
in milliseconds from a few hundred texts, needs no library, is deterministic, and explains
itself: a field's score is a sum of per-feature weights, so the weightiest features are the
``matched`` words an operator sees.

Features are word presence (not counts: a long letter repeating "rác" is not more about
waste), folded so texts typed without diacritics share them, and pairs of neighbouring
words of one clause so "cột điện" is not "điện" + "cột". The model never sees the test split.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pakn.words import words

MODEL_FILE = "field-model.json"
FORMAT = 1

#: Words too common in every field to weigh anything (folded).
_STOPWORDS = frozenset(
    """
    va la cua co cho nhung cac mot nay do thi ma de duoc bi rat da dang se tai o voi khi nhu
    toi chung em anh chi ong ba xin kinh gui de nghi mong co quan chuc nang nguoi dan hien
    nay tinh trang khu vuc tren duong so
    """.split()
)


def features(text: str) -> set[str]:
    """The words (folded) and neighbouring word pairs of one clause in ``text``."""
    found: set[str] = set()
    previous: str | None = None
    for word in words(text).items:
        if word is None or word.folded.isdigit():
            previous = None
            continue
        token = word.folded
        if token not in _STOPWORDS:
            found.add(token)
        if previous is not None:
            found.add(f"{previous} {token}")
        previous = token
    return found


@dataclass(frozen=True)
class Example:
    """One labelled text: what it says and the field it belongs to."""

    text: str
    field: str
    #: How much it counts (an operator's correction may count more than a corpus item).
    weight: float = 1.0


@dataclass(frozen=True)
class Scored:
    field: str
    probability: float


class FieldModel:
    """Bernoulli-style naive Bayes over present features, smoothed by ``alpha``."""

    def __init__(
        self,
        priors: dict[str, float],
        weights: dict[str, dict[str, float]],
        default: dict[str, float],
        *,
        temperature: float = 1.0,
        sources: dict[str, int] | None = None,
    ) -> None:
        #: log P(field)
        self.priors = priors
        #: feature → field → log P(feature | field) for features seen in training.
        self.weights = weights
        #: field → log P(unseen feature | field), for features a field never had.
        self.default = default
        self.temperature = temperature
        #: How many examples of each kind it was trained on (shown by `pakn classify`).
        self.sources = sources or {}

    @classmethod
    def train(
        cls,
        examples: Iterable[Example],
        *,
        alpha: float = 0.1,
        temperature: float = 1.0,
        sources: dict[str, int] | None = None,
    ) -> FieldModel:
        documents: Counter[str] = Counter()
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        totals: Counter[str] = Counter()
        for example in examples:
            documents[example.field] += example.weight  # type: ignore[assignment]
            for feature in features(example.text):
                counts[example.field][feature] += example.weight  # type: ignore[assignment]
                totals[example.field] += example.weight  # type: ignore[assignment]
        fields = sorted(documents)
        total = sum(documents.values())
        vocabulary = {feature for field in fields for feature in counts[field]}
        size = len(vocabulary) + 1
        priors = {f: math.log(documents[f] / total) for f in fields}
        default = {f: math.log(alpha / (totals[f] + alpha * size)) for f in fields}
        weights: dict[str, dict[str, float]] = {}
        for feature in sorted(vocabulary):
            weights[feature] = {
                f: round(math.log((counts[f][feature] + alpha) / (totals[f] + alpha * size)), 4)
                for f in fields
                if counts[f][feature]
            }
        return cls(priors, weights, default, temperature=temperature, sources=sources)

    @property
    def fields(self) -> list[str]:
        return list(self.priors)

    def _log_scores(self, found: set[str]) -> dict[str, float]:
        scores = dict(self.priors)
        for feature in found:
            row = self.weights.get(feature)
            if row is None:
                continue  # never seen in training: says nothing about any field
            for field in scores:
                scores[field] += row.get(field, self.default[field])
        return scores

    def predict(self, text: str) -> list[Scored]:
        """Every field with its probability, the likeliest first."""
        scores = self._log_scores(features(text))
        top = max(scores.values())
        exp = {f: math.exp((s - top) / self.temperature) for f, s in scores.items()}
        norm = sum(exp.values())
        ranked = sorted(exp, key=lambda f: -exp[f])
        return [Scored(f, exp[f] / norm) for f in ranked]

    def evidence(self, text: str, field: str, limit: int = 5) -> list[str]:
        """The features that speak most for ``field`` against the other fields."""
        others = [f for f in self.fields if f != field]
        if field not in self.priors or not others:
            return []
        weighed: list[tuple[float, str]] = []
        for feature in features(text):
            row = self.weights.get(feature)
            if row is None or field not in row:
                continue
            rest = sum(row.get(f, self.default[f]) for f in others) / len(others)
            weighed.append((row[field] - rest, feature))
        weighed.sort(key=lambda item: (-item[0], item[1]))
        chosen: list[str] = []
        for gain, feature in weighed:
            if gain <= 0 or len(chosen) == limit:
                break
            # A word already inside a chosen pair is said by the pair.
            if any(feature in pair.split(" ") for pair in chosen if " " in pair):
                continue
            chosen.append(feature)
        return chosen

    # -- the artefact --------------------------------------------------------------------

    def as_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "temperature": self.temperature,
            "sources": self.sources,
            "priors": {f: round(v, 6) for f, v in self.priors.items()},
            "default": {f: round(v, 6) for f, v in self.default.items()},
            "weights": self.weights,
        }

    def dumps(self) -> str:
        """Deterministic text of the model (sorted keys), so a rebuild can be compared."""
        return json.dumps(self.as_json(), ensure_ascii=False, sort_keys=True, indent=0) + "\n"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FieldModel:
        if data.get("format") != FORMAT:
            raise ValueError(f"unknown field-model format {data.get('format')!r}")
        return cls(
            {str(k): float(v) for k, v in data["priors"].items()},
            {str(k): {str(f): float(w) for f, w in v.items()} for k, v in data["weights"].items()},
            {str(k): float(v) for k, v in data["default"].items()},
            temperature=float(data.get("temperature", 1.0)),
            sources={str(k): int(v) for k, v in data.get("sources", {}).items()},
        )

    @classmethod
    def load(cls, path: Path) -> FieldModel:
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))


def phrase_examples(categories: Sequence[Any]) -> list[Example]:
    """The province folder's own phrases as tiny labelled texts (the model's prior knowledge)."""
    return [
        Example(phrase.text, category.field, 0.5)
        for category in categories
        for phrase in category.phrases
    ]
