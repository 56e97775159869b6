"""The router's classifier: field, category, place, priority, agency and decision from a text.

Pure and precompiled: every phrase of the province folder goes into one word trie when the
classifier is built, so a text costs one walk over its words (a fraction of a millisecond).

How a text is scored (the numbers are `Thresholds`, tuned on the corpus's tune split):

- Phrases are matched as whole words on accent-folded text; in a text written with
  diacritics the marks must agree too, so "đang chạy" is not "đang cháy" and "cho" is not
  "chợ" (pakn.phrases). Phrases in the title count ``title_factor`` times.
- A category scores the sum of its phrases found (each once; of overlapping phrases of one
  category only the heaviest) minus its negative phrases. A phrase inside a longer phrase of
  another category is part of that one ("rác" in "song chắn rác"); a landmark after "gần",
  "trước", "tại"… ("gần chợ Đầm", "trước trường") says where, not what, and counts
  ``landmark_factor``. A field scores its best category plus ``field_spill`` of the others.
- Confidence grows with the best field's score and its margin over the best *other* field;
  how the text is put ("xin hỏi", "cảm ơn": TRIAGE_CATEGORIES) does not compete with what it
  is about. Too little evidence, a near tie, or a text with no case to act on (thanks,
  general wishes) goes to an operator (triage), with a note in Vietnamese saying why.
- Complaints and denunciations (the folder's exclusions) are scored the same way, their
  word patterns too ("khiếu nại … quyết định", pakn.patterns: each counts once): from
  ``redirect_min`` the case is redirected to the complaint route; from ``suggest_min`` it is
  triage with a suggested redirect; below, the words were used loosely ("đã khiếu nại nhiều
  lần" about a pothole) and the case is routed as usual.
- Emergencies are the core's safety detector's (pakn.safety, patterns in safety.yaml, shared
  with the chatbot and the hotline): an alarm makes the case an emergency, the hotline advice
  goes into the notes and the case is assigned at once; a hedged one ("sợ", "nguy cơ"…),
  urgent phrases and the category's own hint make it urgent.
- The agencies are the routing table's for the category and the place found
  (pakn.locality). When only the pre-2025 area is known and all its communes are
  routed by the same rule, that rule applies. A rule led by the commune with no commune
  known leaves the case to an operator ("chưa xác định được xã/phường") - except an
  emergency, which the rule's first co-agency takes meanwhile. With no ward named, the
  streets and landmarks (pakn.streets) give it when checked, or candidates for the operator.
- When no phrase says anything, the learnt field model (pakn_router.learning) proposes
  fields as triage candidates; it never routes (it measured weaker than the phrases).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path

from pakn.locality import LocalityResolver, Place
from pakn.patterns import PatternIndex, cut
from pakn.phrases import Cues, PhraseIndex, Words
from pakn.safety import SafetyAssessment, SafetyDetector, load_safety
from pakn.schema import FIELD_NAMES, Candidate, Priority, Redirect
from pakn.sla import SlaPolicy
from pakn.streets import StreetTable
from pakn.streets import candidates as street_candidates
from pakn.territory import (
    Assignment,
    Category,
    Exclusion,
    LegacyArea,
    Locality,
    Phrase,
    ProvinceConfig,
    RoutingRule,
    load,
)
from pakn_router.classification import Classification, Decision, LocalityMatch
from pakn_router.learning import MODEL_FILE, ModelFile

#: Categories that say how a text is put, not what it is about (thanks, questions, general
#: wishes): they never compete with a subject, and alone they leave the case to an operator.
TRIAGE_CATEGORIES = frozenset({"khac.gop-y-hoi-dap"})

# "Đối diện dãy khách sạn", "gần chợ", "trước cổng trường": a landmark says where, not what.
_LANDMARKS = Cues(
    dict.fromkeys(
        (
            "chợ", "trường", "bệnh viện", "khách sạn", "công viên", "bãi tắm", "bãi biển",
            "bến xe", "sân bay", "nhà thờ", "chùa", "siêu thị", "trạm y tế", "nhà văn hóa",
            "resort", "quán", "cầu", "nhà nghỉ", "homestay", "khu du lịch", "ủy ban", "UBND",
            "trung tâm y tế", "vỉa hè", "dải phân cách", "lòng đường",
        ),
        True,
    )
)  # fmt: skip
_LOCATIVES = Cues(
    dict.fromkeys(
        (
            "gần", "trước", "đối diện", "cạnh", "kế", "sát", "ngang", "quanh", "phía", "hướng",
            "tại", "ở", "sau", "bên", "đầu", "cuối", "khu vực", "ngay", "từ", "đến", "tới",
            "qua", "đoạn", "trên", "dưới", "dọc", "ra", "vào", "xuống",
        ),
        True,
    )
)  # fmt: skip
#: How many words before a phrase are searched for a locative.
LOOKBEHIND = 3

NO_EVIDENCE = "không đủ căn cứ phân loại"
#: A field the learnt model gives less than this probability is not proposed.
SUGGESTION_MIN = 0.2
NO_COMMUNE = "chưa xác định được xã/phường nơi xảy ra sự việc"


@dataclass(frozen=True)
class Thresholds:
    """The numbers of the scoring, tuned on the corpus's tune split (tests/data/README.md)."""

    #: A phrase in the title counts this many times its weight.
    title_factor: float = 1.5
    #: Share of a field's other categories added to its best one.
    field_spill: float = 0.5
    #: A landmark phrase right after "gần", "trước", "tại"… counts this share.
    landmark_factor: float = 0.3
    #: Below this best score there is not enough evidence to route.
    min_score: float = 2.5
    #: The score at which evidence is strong (confidence 0.63 with no competing field).
    strength_scale: float = 4.0
    #: Below this confidence the case goes to triage.
    min_confidence: float = 0.4
    #: An exclusion scoring this much redirects the case (complaint, denunciation).
    redirect_min: float = 5.5
    #: From this exclusion score up to ``redirect_min``: triage with a suggested redirect.
    suggest_min: float = 4.0
    #: Urgent phrases need this score together.
    urgent_min: float = 3.0
    #: How many fields are listed as candidates.
    candidates: int = 3


class _Kind(IntEnum):
    CATEGORY = 0
    CATEGORY_NEGATIVE = 1
    EXCLUSION = 2
    EXCLUSION_NEGATIVE = 3
    URGENT = 4


@dataclass(frozen=True, slots=True)
class _Entry:
    """One phrase of the folder: what it is evidence for, and how much."""

    kind: _Kind
    target: int
    weight: float
    text: str
    #: It names a kind of place ("chợ", "khách sạn") that often only says where.
    landmark: bool = False


#: (kind, target) → phrase as written → its contribution.
_Found = dict[tuple[_Kind, int], dict[str, float]]


@dataclass
class _Scores:
    fields: dict[str, float] = field(default_factory=dict)
    best_category_of_field: dict[str, int] = field(default_factory=dict)
    exclusions: dict[int, float] = field(default_factory=dict)
    safety: SafetyAssessment = field(default_factory=SafetyAssessment)
    urgent: float = 0.0
    found: _Found = field(default_factory=dict)

    def phrases(self, kind: _Kind, target: int) -> list[str]:
        """The phrases found for ``target``, the weightiest first."""
        found = self.found.get((kind, target), {})
        return sorted(found, key=lambda text: -found[text])


@dataclass(frozen=True)
class _Outcome:
    decision: Decision
    note: str | None = None
    redirect: Redirect | None = None
    suggested: Redirect | None = None


class Classifier:
    """Everything the router decides from a text, with the evidence (see the module doc)."""

    def __init__(
        self,
        config: ProvinceConfig,
        sla: SlaPolicy,
        *,
        thresholds: Thresholds | None = None,
        triage_categories: Iterable[str] = TRIAGE_CATEGORIES,
        safety: SafetyDetector | None = None,
        streets: StreetTable | None = None,
        model: ModelFile | None = None,
    ) -> None:
        self.config = config
        self.sla = sla
        self.thresholds = thresholds or Thresholds()
        self.triage_categories = frozenset(triage_categories)
        self.localities = LocalityResolver(config)
        if streets is None:
            streets = StreetTable.from_config_dir(config.config_dir, config)
        self.streets = streets
        if model is None and (config.config_dir / MODEL_FILE).exists():
            model = ModelFile(config.config_dir / MODEL_FILE)
        #: The learnt field model (pakn_router.learning), reloaded when retrained.
        self.model = model
        self._categories = list(config.categories)
        self._exclusions = list(config.exclusions)
        self.safety = safety if safety is not None else load_safety(config.config_dir)
        self._rules: dict[tuple[str, str | None], RoutingRule | None] = {}
        self._index: PhraseIndex[_Entry] = PhraseIndex()
        for i, category in enumerate(self._categories):
            self._add(category.phrases, _Kind.CATEGORY, i)
            self._add(category.negative, _Kind.CATEGORY_NEGATIVE, i)
        for i, exclusion in enumerate(self._exclusions):
            self._add(exclusion.phrases, _Kind.EXCLUSION, i)
            self._add(exclusion.negative, _Kind.EXCLUSION_NEGATIVE, i)
        self._pattern_owners = [
            (i, pattern)
            for i, exclusion in enumerate(self._exclusions)
            for pattern in exclusion.patterns
        ]
        self._exclusion_patterns = PatternIndex(pattern for _, pattern in self._pattern_owners)
        self._add(config.priority.urgent, _Kind.URGENT, 0)

    @classmethod
    def from_config_dir(cls, path: Path, *, thresholds: Thresholds | None = None) -> Classifier:
        """The classifier of a province folder; pakn.province.ConfigError if it is invalid."""
        return cls(load(path), SlaPolicy.from_config_dir(path), thresholds=thresholds)

    @property
    def rules_version(self) -> str:
        """The folder's rules version, stamped on every case it routes."""
        return self.config.rules_version

    def _add(self, phrases: Iterable[Phrase], kind: _Kind, target: int) -> None:
        for phrase in phrases:
            landmark = kind is _Kind.CATEGORY and _LANDMARKS.starts(self._index.words(phrase.text))
            self._index.add(phrase.text, _Entry(kind, target, phrase.weight, phrase.text, landmark))

    # -- scoring ------------------------------------------------------------------------------

    def _collect(self, words: Words, factor: float, found: _Found) -> None:
        """Adds the phrases of ``words`` to ``found``: each once, overlapping ones not twice."""
        hits = [(h.start, h.end, h.payload) for h in self._index.find(words)]
        topics = [(s, e, x.target) for s, e, x in hits if x.kind is _Kind.CATEGORY]
        landmarks = [
            (s, e)
            for s, e, x in hits
            if x.landmark and _LOCATIVES.before(words, s, within=LOOKBEHIND)
        ]
        groups: dict[tuple[_Kind, int], list[tuple[int, int, float, _Entry]]] = defaultdict(list)
        for start, end, entry in hits:
            kind, target, weight = entry.kind, entry.target, entry.weight * factor
            if kind is _Kind.CATEGORY:
                if any(
                    t != target and s <= start and end <= e and e - s > end - start
                    for s, e, t in topics
                ):
                    continue
                if any(s <= start and end <= e for s, e in landmarks):
                    weight *= self.thresholds.landmark_factor
            groups[(kind, target)].append((start, end, weight, entry))
        for key, group in groups.items():
            group.sort(key=lambda h: (-h[2], h[0] - h[1]))
            taken: list[tuple[int, int]] = []
            into = found.setdefault(key, {})
            for start, end, weight, entry in group:
                if into.get(entry.text, 0.0) >= weight:
                    continue
                if any(start < e and s < end for s, e in taken):
                    continue
                taken.append((start, end))
                into[entry.text] = weight

    def _collect_patterns(self, text: str, factor: float, found: _Found, seen: set[int]) -> None:
        """Adds the complaint and denunciation patterns of ``text``: each pattern once.

        A pattern's words may overlap a phrase of the same exclusion ("khiếu nại quyết định"
        in "khiếu nại về quyết định"): the two are one piece of evidence, the heavier counts.
        """
        cut_text = cut(text)
        for match in self._exclusion_patterns.find(cut_text):
            if match.pattern in seen:
                continue
            seen.add(match.pattern)
            target, pattern = self._pattern_owners[match.pattern]
            into = found.setdefault((_Kind.EXCLUSION, target), {})
            words = cut_text.span(match.start, match.end)
            lowered = words.lower()
            overlapping = [k for k in into if k.lower() in lowered or lowered in k.lower()]
            weight = pattern.weight * factor
            if any(into[key] >= weight for key in overlapping):
                continue
            for key in overlapping:
                del into[key]
            into[words] = weight

    def _score(self, text: str, title: str | None) -> _Scores:
        found: _Found = {}
        self._collect(self._index.words(text), 1.0, found)
        seen: set[int] = set()
        self._collect_patterns(text, 1.0, found, seen)
        if title:
            self._collect(self._index.words(title), self.thresholds.title_factor, found)
            self._collect_patterns(title, self.thresholds.title_factor, found, seen)

        def total(kind: _Kind, target: int) -> float:
            return sum(found.get((kind, target), {}).values())

        scores = _Scores(found=found, safety=self.safety.assess(title, text))
        by_field: dict[str, list[tuple[float, int]]] = defaultdict(list)
        for kind, target in found:
            if kind is _Kind.CATEGORY:
                score = total(kind, target) - total(_Kind.CATEGORY_NEGATIVE, target)
                if score > 0:
                    by_field[self._categories[target].field].append((score, target))
            elif kind is _Kind.EXCLUSION:
                score = total(kind, target) - total(_Kind.EXCLUSION_NEGATIVE, target)
                if score > 0:
                    scores.exclusions[target] = score
        scores.urgent = total(_Kind.URGENT, 0)
        for field_code, ranked in by_field.items():
            ranked.sort(reverse=True)
            best, target = ranked[0]
            rest = sum(score for score, _ in ranked[1:])
            scores.fields[field_code] = best + self.thresholds.field_spill * rest
            scores.best_category_of_field[field_code] = target
        return scores

    def _confidence(self, best: float, runner_up: float) -> float:
        """0..1: how strong the best field's evidence is, times how clearly it leads."""
        if best <= 0:
            return 0.0
        strength = 1.0 - math.exp(-best / self.thresholds.strength_scale)
        separation = (best - runner_up) / best
        return strength * (0.3 + 0.7 * separation)

    def _category_of(self, field_code: str, scores: _Scores) -> Category:
        return self._categories[scores.best_category_of_field[field_code]]

    def _is_subject(self, field_code: str, scores: _Scores) -> bool:
        return self._category_of(field_code, scores).code not in self.triage_categories

    # -- routing ------------------------------------------------------------------------------

    def _rule(self, category: Category, locality: Locality | None) -> RoutingRule | None:
        # The rules never change while the classifier lives: each pair is looked up once.
        key = (category.code, locality.code if locality is not None else None)
        if key not in self._rules:
            self._rules[key] = self.config.routing.rule_for(category, locality)
        return self._rules[key]

    def _assignment(self, category: Category, place: Place | None) -> Assignment | None:
        locality = place.locality if place is not None else None
        if place is not None and locality is None and place.area is not None:
            # Only the pre-2025 area is known: its communes may all be routed alike.
            rules = {
                id(rule): rule
                for code in place.area.localities
                if (rule := self._rule(category, self.config.locality(code))) is not None
            }
            if len(rules) == 1:
                return next(iter(rules.values())).assignment(None)
        rule = self._rule(category, locality)
        return rule.assignment(locality) if rule is not None else None

    def _suggestions(
        self, text: str, notes: list[str]
    ) -> tuple[tuple[Candidate, ...], list[str]] | None:
        """Fields the learnt model proposes when no phrase said anything: for the operator.

        Measured weaker than the phrases on unseen wording (README, "Routing accuracy"), so it
        never routes: it fills the triage candidates the phrases left empty.
        """
        model = self.model.refresh() if self.model is not None else None
        if model is None:
            return None
        top = model.predict(text)[: self.thresholds.candidates]
        ranked = [s for s in top if s.probability >= SUGGESTION_MIN]
        evidence = model.evidence(text, ranked[0].field) if ranked else []
        if not evidence:
            return None  # the priors alone are no suggestion
        notes.append(
            "gợi ý của mô hình học từ các quyết định đã có: "
            + ", ".join(FIELD_NAMES.get(s.field, s.field) for s in ranked)
        )
        candidates = tuple(Candidate(field=s.field, score=round(s.probability, 2)) for s in ranked)
        return candidates, evidence

    def _place_from_streets(
        self, place: Place | None, address: str | None, text: str
    ) -> tuple[Place | None, list[tuple[Locality, tuple[LegacyArea | None, str]]]]:
        """A ward from the streets and landmarks named, when the names gave none.

        One checked street in one ward places the report; otherwise the wards they point at
        are candidates for the operator, never a guess.
        """
        if place is not None and place.locality is not None:
            return place, []
        area = place.area if place is not None else None
        matches = self.streets.find(address, area) or self.streets.find(text, area)
        wards = street_candidates(matches)
        if len(wards) == 1 and all(match.decisive for match in matches):
            matched = ", ".join(match.matched for match in matches)
            return Place(wards[0], area or matches[0].area, matched), []
        where = {
            ward.code: (match.area, match.matched) for match in matches for ward in match.localities
        }
        return place, [(ward, where[ward.code]) for ward in wards]

    def _candidate(
        self, field_code: str, score: float, scores: _Scores, place: Place | None
    ) -> Candidate:
        category = self._category_of(field_code, scores)
        assignment = self._assignment(category, place)
        return Candidate(
            field=field_code,
            agency=assignment.lead if assignment is not None else None,
            category=category.code,
            score=round(score, 2),
        )

    # -- the decision -------------------------------------------------------------------------

    def classify(
        self,
        text: str,
        *,
        title: str | None = None,
        address: str | None = None,
        lat: float | None = None,
        lon: float | None = None,
    ) -> Classification:
        """Field, category, place, priority, agencies, working days and the decision.

        ``lat``/``lon`` are accepted for a province folder that carries boundaries; the Khánh
        Hòa folder has none, so the place is read from the address box and the text.
        """
        scores = self._score(text, title)
        full_text = f"{title}\n{text}" if title else text
        place = self.localities.resolve(address, full_text)
        place, wards = self._place_from_streets(place, address, full_text)
        ranked = sorted(scores.fields.items(), key=lambda kv: -kv[1])
        best_field, best = ranked[0] if ranked else (None, 0.0)
        # "Xin hỏi…", "cảm ơn" say how, not what: they do not compete with a subject.
        rivals = (s for code, s in ranked[1:] if self._is_subject(code, scores))
        runner_up = next(rivals, 0.0)
        confidence = self._confidence(best, runner_up)
        category = self._category_of(best_field, scores) if best_field is not None else None
        assignment = self._assignment(category, place) if category is not None else None
        lead = assignment.lead if assignment is not None else None
        co = assignment.co if assignment is not None else ()

        notes: list[str] = []
        if wards:
            names = ", ".join(ward.name for ward, _ in wards)
            notes.append(f"theo tên đường/địa danh, có thể thuộc: {names} (cán bộ xác định)")
        priority = self._priority(scores, category, notes)
        if priority is Priority.EMERGENCY and lead is None and co:
            # An emergency does not wait for its commune to be found: the rule's first
            # co-agency takes it meanwhile, and the operators are told.
            lead, co = co[0], co[1:]
            notes.append(f"{NO_COMMUNE}; khẩn cấp nên tạm giao {self.config.agency(lead).name}")
        outcome = self._outcome(scores, category, best, runner_up, confidence, lead, priority)
        if outcome.note is not None:
            notes.append(outcome.note)

        matched: list[str] = []
        exclusion, _ = self._exclusion(scores)
        if exclusion is not None and (outcome.redirect or outcome.suggested):
            matched += scores.phrases(_Kind.EXCLUSION, self._exclusions.index(exclusion))
        if category is not None:
            matched += scores.phrases(_Kind.CATEGORY, scores.best_category_of_field[category.field])
        matched += [alarm.matched for alarm in scores.safety.events]
        candidates = tuple(
            self._candidate(code, score, scores, place)
            for code, score in ranked[: self.thresholds.candidates]
        )
        if not candidates and outcome.decision == "triage":
            suggested = self._suggestions(full_text, notes)
            candidates, matched = suggested or (candidates, matched)
        routed = outcome.decision == "assign"
        routable = category is not None and outcome.decision != "redirect"
        return Classification(
            field=category.field if category is not None else None,
            category=category.code if category is not None else None,
            lead_agency=lead if routed else None,
            co_agencies=tuple(co) if routed else (),
            confidence=confidence,
            matched=tuple(dict.fromkeys(matched)),
            candidates=candidates,
            locality=_locality_match(place) if place is not None else None,
            locality_candidates=tuple(
                LocalityMatch(ward.code, ward.name, area.name if area else None, matched)
                for ward, (area, matched) in wards
            ),
            priority=priority,
            working_days=(
                self.sla.working_days_for(category.field, category.code, category.incident)
                if category is not None and routable
                else None
            ),
            incident=category.incident if category is not None and routable else False,
            decision=outcome.decision,
            rules_version=self.rules_version,
            redirect=outcome.redirect,
            suggested_redirect=outcome.suggested,
            notes=tuple(notes),
        )

    def _outcome(
        self,
        scores: _Scores,
        category: Category | None,
        best: float,
        runner_up: float,
        confidence: float,
        lead: str | None,
        priority: Priority,
    ) -> _Outcome:
        """assign, triage (and why) or redirect, in that order of precedence."""
        t = self.thresholds
        exclusion, excluded = self._exclusion(scores)
        if priority is Priority.EMERGENCY and lead is not None:
            return _Outcome("assign")
        if exclusion is not None and excluded >= t.redirect_min:
            redirect = Redirect(to=exclusion.redirect_to, reason=exclusion.explanation)
            return _Outcome("redirect", redirect=redirect)
        if exclusion is not None and excluded >= t.suggest_min:
            return _Outcome(
                "triage",
                f"có dấu hiệu {exclusion.name.lower()}: cán bộ xem xét chuyển sang kênh giải "
                f"quyết {exclusion.name.lower()}",
                suggested=Redirect(to=exclusion.redirect_to, reason=exclusion.explanation),
            )
        if category is None or best < t.min_score:
            return _Outcome("triage", NO_EVIDENCE)
        if category.code in self.triage_categories:
            return _Outcome(
                "triage", f"{category.name.lower()}: không có sự việc cụ thể để chuyển xử lý"
            )
        if confidence < t.min_confidence:
            if runner_up <= 0:
                return _Outcome("triage", NO_EVIDENCE)
            fields = sorted(scores.fields, key=lambda code: -scores.fields[code])
            names = ", ".join(FIELD_NAMES[code] for code in fields[:3])
            return _Outcome("triage", f"có thể thuộc nhiều lĩnh vực: {names}")
        if lead is None:
            return _Outcome("triage", NO_COMMUNE)
        return _Outcome("assign")

    def _exclusion(self, scores: _Scores) -> tuple[Exclusion | None, float]:
        if not scores.exclusions:
            return None, 0.0
        target, score = max(scores.exclusions.items(), key=lambda kv: kv[1])
        return self._exclusions[target], score

    def _priority(self, scores: _Scores, category: Category | None, notes: list[str]) -> Priority:
        """emergency (with the hotline advice in ``notes``), urgent or normal."""
        if scores.safety.emergency:
            notes.extend(scores.safety.advice)
            return Priority.EMERGENCY
        if category is not None and category.priority == "emergency":
            return Priority.EMERGENCY
        if (
            scores.safety.risk
            or scores.urgent >= self.thresholds.urgent_min
            or (category is not None and category.priority == "urgent")
        ):
            return Priority.URGENT
        return Priority.NORMAL


def _locality_match(place: Place) -> LocalityMatch:
    return LocalityMatch(
        code=place.locality.code if place.locality else None,
        name=place.locality.name if place.locality else None,
        legacy_area=place.area.name if place.area else None,
        matched=place.matched,
    )
