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

import hashlib
import json
import logging
import math
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pakn.phrases import words

log = logging.getLogger(__name__)

MODEL_FILE = "field-model.json"
#: Only the tune part of a corpus trains (tests/corpus.py splits by the same rule): the
#: holdout stays unseen so it measures.
HOLDOUT_FROM_BYTE = 179
FORMAT = 1
#: Smoothing, chosen on a dev part of the tune split (README, "Routing accuracy").
ALPHA = 0.1
#: A feature must be seen this often (weighted) to be kept.
MIN_COUNT = 2.0

#: Words too common in every field to weigh anything (folded).
_STOP_TEXT = (
    "va la cua co cho nhung cac mot nay do thi ma de duoc bi rat da dang se tai o voi khi "
    "nhu toi chung em anh chi ong ba xin kinh gui nghi mong quan chuc nang nguoi dan hien "
    "tinh trang khu vuc tren duong so"
)
_STOPWORDS = frozenset(_STOP_TEXT.split())


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
    """Naive Bayes over present features: counts kept, log-probabilities derived on load.

    The artefact is the counts (how many texts of each field, how often each feature was
    seen in each), so it is small, exact and the same bytes whenever it is rebuilt from the
    same examples.
    """

    def __init__(
        self,
        documents: dict[str, float],
        counts: dict[str, dict[str, float]],
        *,
        alpha: float = ALPHA,
        sources: dict[str, int] | None = None,
    ) -> None:
        self.documents = documents
        self.counts = counts
        self.alpha = alpha
        #: How many examples of each kind it was trained on (shown by `pakn classify`).
        self.sources = sources or {}
        totals: dict[str, float] = defaultdict(float)
        for row in counts.values():
            for field, count in row.items():
                totals[field] += count
        size = len(counts) + 1
        total = sum(documents.values()) or 1.0
        fields = sorted(documents)
        #: log P(field)
        self.priors = {f: math.log(documents[f] / total) for f in fields}
        denominators = {f: totals[f] + alpha * size for f in fields}
        #: field → log P(feature | field) of a feature the field never had.
        self.default = {f: math.log(alpha / denominators[f]) for f in fields}
        #: feature → field → log P(feature | field), for the fields that had it.
        self.weights = {
            feature: {f: math.log((c + alpha) / denominators[f]) for f, c in row.items()}
            for feature, row in counts.items()
        }

    @classmethod
    def train(
        cls,
        examples: Iterable[Example],
        *,
        alpha: float = ALPHA,
        sources: dict[str, int] | None = None,
    ) -> FieldModel:
        documents: dict[str, float] = defaultdict(float)
        counts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for example in examples:
            documents[example.field] += example.weight
            for feature in features(example.text):
                counts[feature][example.field] += example.weight
        # A feature seen once is noise more often than evidence, and most of the file.
        kept = {f: dict(row) for f, row in counts.items() if sum(row.values()) >= MIN_COUNT}
        return cls(
            dict(documents),
            kept,
            alpha=alpha,
            sources=sources,
        )

    @property
    def fields(self) -> list[str]:
        return list(self.priors)

    def predict(self, text: str) -> list[Scored]:
        """Every field with its probability, the likeliest first (empty for an empty model)."""
        scores = dict(self.priors)
        for feature in features(text):
            row = self.weights.get(feature)
            if row is None:
                continue  # never seen in training: says nothing about any field
            for field in scores:
                scores[field] += row.get(field, self.default[field])
        if not scores:
            return []
        top = max(scores.values())
        exp = {f: math.exp(v - top) for f, v in scores.items()}
        norm = sum(exp.values())
        return [Scored(f, exp[f] / norm) for f in sorted(exp, key=lambda f: (-exp[f], f))]

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

    def dumps(self) -> str:
        """The model as JSON text: sorted keys, one feature a line, the same bytes each time."""
        head = {
            "format": FORMAT,
            "alpha": self.alpha,
            "sources": self.sources,
            "documents": {f: _number(c) for f, c in sorted(self.documents.items())},
        }
        lines = [json.dumps(head, ensure_ascii=False, sort_keys=True)]
        for feature in sorted(self.counts):
            row = {f: _number(c) for f, c in sorted(self.counts[feature].items())}
            lines.append(json.dumps([feature, row], ensure_ascii=False))
        return "\n".join(lines) + "\n"

    @classmethod
    def loads(cls, text: str) -> FieldModel:
        lines = text.splitlines()
        head = json.loads(lines[0])
        if head.get("format") != FORMAT:
            raise ValueError(f"unknown field-model format {head.get('format')!r}")
        counts: dict[str, dict[str, float]] = {}
        for line in lines[1:]:
            feature, row = json.loads(line)
            counts[str(feature)] = {str(f): float(c) for f, c in row.items()}
        return cls(
            {str(f): float(c) for f, c in head["documents"].items()},
            counts,
            alpha=float(head["alpha"]),
            sources={str(k): int(v) for k, v in head.get("sources", {}).items()},
        )

    @classmethod
    def load(cls, path: Path) -> FieldModel:
        return cls.loads(path.read_text(encoding="utf-8"))


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 3)


def is_holdout(item_id: str) -> bool:
    """Whether a corpus id falls in the holdout: stable across runs, machines and order."""
    return hashlib.sha256(item_id.encode("utf-8")).digest()[0] >= HOLDOUT_FROM_BYTE


def corpus_examples(raw: Any) -> list[Example]:
    """The tune items of a corpus file (tests/data/corpus.yaml format) as examples."""
    examples: list[Example] = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict) or is_holdout(str(item.get("id", ""))):
            continue
        expected = item.get("expected") or {}
        text = "\n".join(p for p in (item.get("title"), item.get("content")) if p)
        if text and expected.get("field"):
            examples.append(Example(text, str(expected["field"])))
    return examples


#: An operator's decision counts more than a corpus item: it is the province's own wording.
OPERATOR_WEIGHT = 2.0


def operator_examples(cases: Iterable[Mapping[str, Any]]) -> list[Example]:
    """Cases an operator routed (triage decision, reassignment, after an agency's return)."""
    examples: list[Example] = []
    for case in cases:
        routing = case.get("routing") or {}
        field = case.get("field")
        if routing.get("method") != "operator" or not field or case.get("redirect"):
            continue
        text = "\n".join(p for p in (case.get("title"), case.get("content")) if p)
        if text:
            examples.append(Example(text, str(field), OPERATOR_WEIGHT))
    return examples


@dataclass(frozen=True)
class Corrections:
    """How often operators changed the router's field, for one field the router had said."""

    field: str
    decided: int
    corrected: int

    @property
    def rate(self) -> float:
        return self.corrected / self.decided if self.decided else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "operator_decisions": self.decided,
            "corrected": self.corrected,
            "rate": round(self.rate, 3),
        }


NO_FIELD = "none"


def corrections_by_field(cases: Iterable[Mapping[str, Any]]) -> list[Corrections]:
    """Per field the router proposed (its best candidate; "none"), operator decisions and
    how many of them chose another field, most corrected first."""
    decided: Counter[str] = Counter()
    corrected: Counter[str] = Counter()
    for case in cases:
        routing = case.get("routing") or {}
        if routing.get("method") != "operator":
            continue
        candidates = routing.get("candidates") or []
        proposed = str(candidates[0].get("field")) if candidates else NO_FIELD
        decided[proposed] += 1
        corrected[proposed] += proposed != case.get("field")
    rows = [Corrections(f, decided[f], corrected[f]) for f in decided]
    return sorted(rows, key=lambda r: (-r.corrected, -r.decided, r.field))


def train(
    categories: Sequence[Any],
    corpus: Sequence[Example] = (),
    operators: Sequence[Example] = (),
) -> FieldModel:
    """The field model of the phrases, a corpus's tune items and operators' decisions."""
    phrases = phrase_examples(categories)
    return FieldModel.train(
        [*phrases, *corpus, *operators],
        alpha=ALPHA,
        sources={"phrases": len(phrases), "corpus": len(corpus), "operators": len(operators)},
    )


def phrase_examples(categories: Sequence[Any]) -> list[Example]:
    """The province folder's own phrases as tiny labelled texts (the model's prior knowledge)."""
    return [
        Example(phrase.text, category.field, 1.0)
        for category in categories
        for phrase in category.phrases
    ]


class ModelFile:
    """The model of a file, reloaded when the file changes: a retrain needs no restart.

    Looks at the file's modification time at most every ``interval`` seconds, so a text costs
    no system call; a file that cannot be read keeps the model already loaded (and says so).
    """

    def __init__(self, path: Path, *, interval: float = 2.0) -> None:
        self.path = path
        self.interval = interval
        self.model: FieldModel | None = None
        self.error: str | None = None
        self._stamp: float | None = None
        self._checked = -math.inf
        self.refresh(force=True)

    def refresh(self, *, force: bool = False) -> FieldModel | None:
        now = time.monotonic()
        if not force and now - self._checked < self.interval:
            return self.model
        self._checked = now
        try:
            stamp = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return self.model
        if stamp == self._stamp:
            return self.model
        try:
            self.model = FieldModel.load(self.path)
            self._stamp, self.error = stamp, None
        except (OSError, ValueError, KeyError, IndexError) as exc:
            self.error = f"{self.path}: {exc}"
            log.warning("field model not reloaded, keeping the previous one: %s", self.error)
        return self.model
