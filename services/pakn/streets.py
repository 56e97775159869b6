"""Places from streets and landmarks: "đường Trần Phú", "chợ Đầm" → the ward(s) they lie in.

Citizens in town name the street, not the ward. ``streets.yaml`` of the province folder lists
streets and landmarks of the urban wards with the pre-2025 wards they run through (the names
people and old address registers use); localities.yaml's ``replaces`` turns those into the
post-2025 wards. A street in one ward places a report there; a street crossing wards, or a
name several towns share, gives the candidates and no guess. An entry not ``verified`` never
places a report on its own: it is shown to the operator as a candidate.

Pure: built once from the province folder, then ``find`` is a lookup.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from pakn.locality import LocalityResolver
from pakn.phrases import PLACE_BREAKS, PhraseIndex
from pakn.province import ConfigError, ConfigProblem, line_of, load_model
from pakn.territory import LegacyArea, Locality, ProvinceConfig

__all__ = ["STREETS_FILE", "StreetEntry", "StreetMatch", "StreetTable", "StreetsFile"]

STREETS_FILE = "streets.yaml"

_Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
#: How a street is written before its name; a landmark is matched by its name alone.
_STREET_PREFIXES = ("đường", "phố", "số", "hẻm", "kiệt")


class StreetEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: _Text
    kind: Literal["street", "landmark"]
    #: The pre-2025 district or town (a legacy area of localities.yaml).
    area: _Text
    #: The wards it lies in, as named in localities.yaml (new wards or the units they replaced).
    units: list[_Text] = Field(min_length=1)
    aliases: list[_Text] = Field(default_factory=list)
    source: _Text
    verified: bool


class StreetsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    streets: list[StreetEntry] = Field(default_factory=list)


@dataclass(frozen=True)
class StreetMatch:
    """A street or landmark found, with the post-2025 wards it lies in."""

    entry: StreetEntry
    localities: tuple[Locality, ...]
    area: LegacyArea | None
    matched: str

    @property
    def decisive(self) -> bool:
        """Whether it alone places a report: one ward, and checked."""
        return self.entry.verified and len(self.localities) == 1


class StreetTable:
    """The streets and landmarks of one province folder, indexed once."""

    def __init__(self, entries: list[StreetEntry], config: ProvinceConfig) -> None:
        resolver = LocalityResolver(config)
        self.entries = entries
        self._resolved: list[tuple[tuple[Locality, ...], LegacyArea | None]] = []
        self.problems: list[str] = []
        self._index: PhraseIndex[int] = PhraseIndex(PLACE_BREAKS)
        for i, entry in enumerate(entries):
            localities: dict[str, Locality] = {}
            area: LegacyArea | None = None
            for unit in entry.units:
                place = resolver.resolve(address=f"{unit}, {entry.area}")
                if place is None or place.locality is None:
                    self.problems.append(f"{entry.name}: {unit!r} in {entry.area!r} is unknown")
                    continue
                localities.setdefault(place.locality.code, place.locality)
                area = area or place.area
            self._resolved.append((tuple(localities.values()), area))
            for name in (entry.name, *entry.aliases):
                if entry.kind == "street":
                    for prefix in _STREET_PREFIXES:
                        self._index.add(f"{prefix} {name}", i)
                else:
                    self._index.add(name, i)

    @classmethod
    def from_config_dir(cls, config_dir: Path, config: ProvinceConfig) -> StreetTable:
        """The table of a folder (empty without streets.yaml); ConfigError if it is invalid."""
        path = config_dir / STREETS_FILE
        if not path.exists():
            return cls([], config)
        table = cls(load_model(path, StreetsFile).streets, config)
        if table.problems:
            raise ConfigError(
                [
                    ConfigProblem(path, line_of(path, ["streets"]), problem)
                    for problem in table.problems
                ]
            )
        return table

    def find(self, text: str | None, area: LegacyArea | None = None) -> list[StreetMatch]:
        """The streets and landmarks named in ``text``, within ``area`` when it is known."""
        if not text:
            return []
        words = self._index.words(text)
        found: dict[int, StreetMatch] = {}
        for hit in self._index.find(words):
            localities, entry_area = self._resolved[hit.payload]
            if area is not None and entry_area is not None and entry_area.name != area.name:
                continue
            found.setdefault(
                hit.payload,
                StreetMatch(
                    self.entries[hit.payload],
                    localities,
                    entry_area,
                    words.span_text(hit.start, hit.end),
                ),
            )
        return list(found.values())


def candidates(matches: list[StreetMatch]) -> tuple[Locality, ...]:
    """The wards the matches point at, without repeats, in the order found."""
    seen: dict[str, Locality] = {}
    for match in matches:
        for locality in match.localities:
            seen.setdefault(locality.code, locality)
    return tuple(seen.values())
