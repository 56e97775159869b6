"""Which commune or ward (and pre-2025 area) a report is about, from its address box and text.

Pure: built once from the province's localities.yaml, then ``resolve`` is a lookup.

How a place is read:

- Names are matched as whole words (pakn.phrases: accent-blind for text typed without
  diacritics): the new communes and wards with their aliases, the pre-2025 units they replaced
  (``replaces``) and the pre-2025 districts and towns (legacy areas). A name written with its
  kind ("phường Vĩnh Hải", "P. Vĩnh Hải", "xã Ninh Phụng", "TP Cam Ranh") counts more than a
  bare one, and a name inside a longer one is part of it ("Nha Trang" in "phường Bắc Nha
  Trang"). A bare name right after "đường", "hẻm", "quốc lộ"… is a street ("đường Thống
  Nhất"), and one after a unit kind that is not its own is another place ("phường Phước Tân"
  is not the commune Phước Tân of Bác Ái).
- The address box is read first. Only when it names no commune is the text read, and a
  commune outside the area the address names is then not taken.
- An old name two places carry is settled by the area named with it ("Vĩnh Hải, Nha Trang"),
  by "cũ" after it (the pre-2025 unit, not the new commune of that name: "xã Ninh Sơn cũ") or,
  for a bare name, in favour of the old *ward*: town dwellers name their ward bare, villagers
  write "xã" or "thôn". A district's name ("Ninh Phước") is the district unless something
  else points at the old commune of that name. Otherwise nothing is guessed.
- An old unit split between several new ones (``partial``: "xã Cam Hòa") gives its legacy
  area and no commune, unless another name picks one of the units it went to: a case whose
  routing needs the commune then goes to an operator instead of to a guess.
- Areas: the most named one; a name after "lên", "về", "đi"… is where the writer goes, and
  a name before "ý tôi là", "à không" was withdrawn. An area holding one commune (Trường Sa)
  gives that commune.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from pakn.phrases import PLACE_BREAKS, Cues, PhraseIndex, Words
from pakn.territory import LegacyArea, Locality, ProvinceConfig

# Written forms of each kind of unit: "Phường Vĩnh Hải", "P. Vĩnh Hải", "P.Vĩnh Hải".
UNIT_PREFIXES = {
    "Phường": ("phường", "p"),
    "Xã": ("xã", "x"),
    "Thị trấn": ("thị trấn", "tt"),
    "Đặc khu": ("đặc khu", "đk"),
    "Thành phố": ("thành phố", "tp"),
    "Thị xã": ("thị xã", "tx"),
    "Huyện": ("huyện", "h"),
    "Quận": ("quận", "q"),
}
_KIND_WORDS = Cues(
    {prefix: kind for kind, forms in UNIT_PREFIXES.items() for prefix in forms}, PLACE_BREAKS
)
# A bare name after these words is a street, a road or a bridge.
_STREET_WORDS = Cues(
    dict.fromkeys(("đường", "phố", "hẻm", "kiệt", "ngõ", "quốc lộ", "tỉnh lộ"), True),
    PLACE_BREAKS,
)
# "Lên Nha Trang", "về Nha Trang": where the writer goes, not where the problem is.
_DESTINATION_WORDS = Cues(
    dict.fromkeys(("lên", "về", "đi", "ra", "tới", "đến", "sang", "xuống", "vô"), True),
    PLACE_BREAKS,
)
# "…bên Phan Rang, ý tôi là đường Hoàng Văn Thụ, Nha Trang": what came before is withdrawn.
_CORRECTIONS = Cues(
    dict.fromkeys(("ý tôi là", "à không", "à nhầm", "xin sửa lại", "nói lại là"), True),
    PLACE_BREAKS,
)
_OLD = Cues({"cũ": True}, PLACE_BREAKS)

# How much one mention says about a commune.
NEW_PREFIXED = 3.0  # "phường Bắc Nha Trang", "x. Tân Định"
NEW_ALIAS = 2.5  # "Bắc Nha Trang": a bare alias the province lists as unambiguous
OLD_PREFIXED = 2.5  # "phường Vĩnh Hải" (now Bắc Nha Trang)
OLD_BARE = 1.5  # "Vĩnh Hải"
#: A bare old name that was a ward's.
WARD_BONUS = 0.5
#: A mention agrees with an area named in the same text ("Vĩnh Hải, Nha Trang").
AREA_SUPPORT = 1.0
#: "xã Ninh Sơn cũ": the pre-2025 unit, not the new commune of the same name.
OLD_HINT = 1.0
#: A bare name that is also a district's ("Ninh Phước") counts this share as a commune.
AREA_NAME_SHARE = 0.5
#: A commune named again adds this share of the weaker mention.
REPEAT_SHARE = 0.25
#: Weight of a name right after "lên", "về"…, and of one withdrawn by "ý tôi là".
DESTINATION_SHARE = 0.3
CORRECTED_SHARE = 0.5
#: Below this a commune is not taken; within MARGIN of another one it is not either.
MIN_SCORE = 1.5
MARGIN = 0.5
#: An area named only as a destination ("đi Cam Ranh") is not taken.
MIN_AREA_WEIGHT = 0.5


@dataclass(frozen=True)
class _Name:
    """What a written name can mean: a commune (new, or through an old unit) or an area."""

    locality: Locality | None
    area: LegacyArea | None
    old: bool
    prefixed: bool
    partial: bool = False
    #: For an old unit: the pre-2025 area it lay in.
    unit_area: str | None = None
    #: The unit's kind as its official name says it ("Phường", "Xã"…).
    kind: str | None = None

    @property
    def strength(self) -> float:
        if self.locality is None or self.partial:
            return 0.0
        if not self.old:
            return NEW_PREFIXED if self.prefixed else NEW_ALIAS
        if self.prefixed:
            return OLD_PREFIXED
        return OLD_BARE + (WARD_BONUS if self.kind == "Phường" else 0.0)

    def bare(self) -> _Name:
        return _Name(
            self.locality, self.area, self.old, False, self.partial, self.unit_area, self.kind
        )


@dataclass(frozen=True)
class Place:
    """The resolved place: a commune (None if unsure) and the pre-2025 area, with the words."""

    locality: Locality | None
    area: LegacyArea | None
    matched: str


@dataclass(frozen=True)
class _Mention:
    """Words of the text that name a place, with every place they can name."""

    start: int
    end: int
    names: tuple[_Name, ...]
    words: Words
    #: Followed by "cũ".
    old_hint: bool = False
    #: Named before "ý tôi là".
    withdrawn: bool = False
    #: Named after "lên", "về"…
    destination: bool = False

    @property
    def text(self) -> str:
        return self.words.span_text(self.start, self.end)

    @property
    def weight(self) -> float:
        """How much the mention counts as the place of the problem."""
        return (CORRECTED_SHARE if self.withdrawn else 1.0) * (
            DESTINATION_SHARE if self.destination else 1.0
        )

    @property
    def names_area(self) -> bool:
        return any(name.area is not None for name in self.names)


def _split_kind(name: str) -> tuple[str | None, str]:
    """("Phường", "Vĩnh Hải") for "Phường Vĩnh Hải"; (None, name) for a bare name."""
    for kind in sorted(UNIT_PREFIXES, key=len, reverse=True):
        if name.startswith(kind + " "):
            return kind, name[len(kind) + 1 :]
    return None, name


def _written_forms(name: str) -> Iterable[tuple[str, bool]]:
    """The name as citizens write it, each with whether it carries the unit's kind."""
    kind, bare = _split_kind(name)
    yield name, kind is not None
    if kind is not None:
        for prefix in UNIT_PREFIXES[kind]:
            yield f"{prefix} {bare}", True


class LocalityResolver:
    """Finds the commune and legacy area of a report in ``config``'s localities."""

    def __init__(self, config: ProvinceConfig) -> None:
        self.config = config
        self._index: PhraseIndex[_Name] = PhraseIndex(PLACE_BREAKS)
        self._areas = {area.name: area for area in config.legacy_areas}
        self._seen: set[tuple[str, str, bool, bool, bool]] = set()
        for locality in config.localities:
            kind = _split_kind(locality.name)[0]
            for text, prefixed in _written_forms(locality.name):
                self._add(text, _Name(locality, None, old=False, prefixed=prefixed, kind=kind))
            for alias in locality.aliases:
                prefixed = _KIND_WORDS.starts(self._index.words(alias))
                self._add(alias, _Name(locality, None, old=False, prefixed=prefixed, kind=kind))
            for unit in locality.replaces:
                if unit.name == locality.name:
                    continue  # the new unit kept the name: its own entries say it
                unit_kind, bare = _split_kind(unit.name)
                old = _Name(locality, None, True, True, unit.partial, unit.legacy_area, unit_kind)
                for text, prefixed in _written_forms(unit.name):
                    self._add(text, old if prefixed else old.bare())
                self._add(bare, old.bare())
        for area in config.legacy_areas:
            for text in (*(t for t, _ in _written_forms(area.name)), *area.aliases):
                self._add(text, _Name(None, area, old=True, prefixed=True))

    def _add(self, text: str, name: _Name) -> None:
        place = name.locality.code if name.locality else name.area.name if name.area else ""
        key = (text.casefold(), place, name.old, name.prefixed, name.partial)
        if key not in self._seen:
            self._seen.add(key)
            self._index.add(text, name)

    def resolve(self, address: str | None = None, text: str | None = None) -> Place | None:
        """The place of a report: the address box first, then the text; None if neither says."""
        found = self._decide(self._mentions(address), within=None) if address else None
        if found is not None and found.locality is not None:
            return found
        within = found.area if found is not None else None
        in_text = self._decide(self._mentions(text), within=within) if text else None
        if in_text is not None and in_text.locality is not None:
            return in_text
        return found or in_text

    def _mentions(self, source: str) -> list[_Mention]:
        words = self._index.words(source)
        by_span: dict[tuple[int, int], list[_Name]] = defaultdict(list)
        for hit in self._index.find(words):
            name = hit.payload
            if not name.prefixed:
                if _STREET_WORDS.before(words, hit.start):
                    continue
                written = _KIND_WORDS.before(words, hit.start)
                if written is not None and name.kind is not None and written != name.kind:
                    continue
            by_span[(hit.start, hit.end)].append(name)
        withdrawn = max(_CORRECTIONS.positions(words), default=-1)
        mentions: list[_Mention] = []
        for start, end in sorted(by_span):
            # A name inside a longer one is part of it ("Nha Trang" in "Bắc Nha Trang").
            if any(s <= start and end <= e and e - s > end - start for s, e in by_span):
                continue
            mentions.append(
                _Mention(
                    start,
                    end,
                    tuple(by_span[(start, end)]),
                    words,
                    old_hint=_OLD.after(words, end) is not None,
                    withdrawn=start < withdrawn,
                    destination=_DESTINATION_WORDS.before(words, start) is not None,
                )
            )
        return mentions

    def _decide(self, mentions: list[_Mention], within: LegacyArea | None) -> Place | None:
        if not mentions:
            return None
        named = _areas_by_weight(mentions)
        context = {within.name} if within is not None else set(named)
        scores, strongest, partial = self._commune_scores(mentions)
        for code in list(scores):
            locality = self.config.locality(code)
            in_context = any(area in context for area in locality.legacy_areas)
            if within is not None and not in_context:
                del scores[code]
                continue
            # A split old unit confirms a commune named another way, but names none alone.
            scores[code] += AREA_SUPPORT * (in_context + (code in partial))
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        if (
            ranked
            and ranked[0][1] >= MIN_SCORE
            and (len(ranked) == 1 or ranked[0][1] - ranked[1][1] >= MARGIN)
        ):
            code = ranked[0][0]
            locality = self.config.locality(code)
            mention, name = strongest[code]
            return Place(locality, self._area_of(locality, context, name.unit_area), mention.text)
        area = self._common_area(within, named, [code for code, _ in ranked] or sorted(partial))
        if area is None:
            return None
        words = next(
            (m.text for m in mentions for n in m.names if n.area and n.area.name == area.name),
            mentions[0].text,
        )
        only = area.localities[0] if len(area.localities) == 1 else None
        return Place(self.config.locality(only) if only else None, area, words)

    def _commune_scores(
        self, mentions: list[_Mention]
    ) -> tuple[dict[str, float], dict[str, tuple[_Mention, _Name]], set[str]]:
        """Each commune's score from the names alone, the mention that counts most, and the
        communes that split old units went to."""
        scores: dict[str, float] = {}
        strongest: dict[str, tuple[float, _Mention, _Name]] = {}
        partial: set[str] = set()
        for mention in mentions:
            best: dict[str, tuple[float, _Name]] = {}
            for name in mention.names:
                if name.locality is None:
                    continue
                if name.partial:
                    partial.add(name.locality.code)
                    continue
                strength = name.strength * (AREA_NAME_SHARE if mention.names_area else 1.0)
                strength *= CORRECTED_SHARE if mention.withdrawn else 1.0
                if mention.old_hint:
                    strength += OLD_HINT if name.old else -OLD_HINT
                code = name.locality.code
                if code not in best or strength > best[code][0]:
                    best[code] = (strength, name)
            for code, (strength, name) in best.items():
                # Several weak mentions do not add up to one clear one.
                previous = scores.get(code, 0.0)
                scores[code] = max(previous, strength) + REPEAT_SHARE * min(previous, strength)
                if code not in strongest or strength > strongest[code][0]:
                    strongest[code] = (strength, mention, name)
        return scores, {code: (m, n) for code, (_, m, n) in strongest.items()}, partial

    def _area_of(
        self, locality: Locality, named: set[str], unit_area: str | None
    ) -> LegacyArea | None:
        """Of the areas a commune lies in: the one named, else that of the old unit named."""
        for name in locality.legacy_areas:
            if name in named:
                return self._areas[name]
        return self._areas[unit_area or locality.legacy_areas[0]]

    def _common_area(
        self, within: LegacyArea | None, named: list[str], candidates: list[str]
    ) -> LegacyArea | None:
        if within is not None:
            return within
        if named:
            return self._areas[named[0]]
        # Communes that tie, or the new units of a split one: their area, if they share one.
        shared: set[str] | None = None
        for code in candidates:
            areas = set(self.config.locality(code).legacy_areas)
            shared = areas if shared is None else shared & areas
        if shared is not None and len(shared) == 1:
            return self._areas[shared.pop()]
        return None


def _areas_by_weight(mentions: list[_Mention]) -> list[str]:
    """The areas named, the most (and most firmly) named first; of equals the first named."""
    totals: dict[str, float] = {}
    for mention in mentions:
        for name in mention.names:
            if name.area is not None:
                totals[name.area.name] = totals.get(name.area.name, 0.0) + mention.weight
    return sorted((n for n in totals if totals[n] >= MIN_AREA_WEIGHT), key=lambda n: -totals[n])
