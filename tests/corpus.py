"""The labelled PAKN corpus (tests/data/corpus.yaml): typed loading and the tune/holdout split."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pakn.schema import FIELDS, URBAN_INFRASTRUCTURE_FIELDS, Priority

# The split rule is the model's (a retrain leaves the same holdout out): about 30 % holdout.
from pakn_router.learning import HOLDOUT_FROM_BYTE, is_holdout

__all__ = ["HOLDOUT_FROM_BYTE", "CorpusItem", "is_holdout", "load_corpus", "split"]

CORPUS_PATH = Path(__file__).parent / "data" / "corpus.yaml"


Decision = Literal["assign", "triage", "redirect"]
RedirectKind = Literal["khieu-nai", "to-cao"]


class Expected(BaseModel):
    """What the router should decide for one item."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str
    decision: Decision
    priority: Priority
    #: Set where it matters: an urban-infrastructure incident (1 working day) or not.
    incident: bool | None = None
    #: A place a person would say the item is in: a post-2025 commune/ward or a pre-2025 area.
    locality: str | None = None
    redirect: RedirectKind | None = None

    @field_validator("field")
    @classmethod
    def _known_field(cls, value: str) -> str:
        if value not in FIELDS:
            raise ValueError(f"unknown field {value!r}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Expected:
        if (self.decision == "redirect") != (self.redirect is not None):
            raise ValueError("`redirect` is required for, and only for, decision redirect")
        # An emergency is always routed at once; triage or redirect would delay the call to 11x.
        if self.priority is Priority.EMERGENCY and self.decision != "assign":
            raise ValueError("an emergency must be assigned")
        if self.incident is not None and self.field not in URBAN_INFRASTRUCTURE_FIELDS:
            raise ValueError(f"`incident` only applies to {sorted(URBAN_INFRASTRUCTURE_FIELDS)}")
        return self


class CorpusItem(BaseModel):
    """One citizen submission as typed into the form, with its expected routing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^kh-[0-9]{3,}$")
    title: str | None = None
    # The web form's own minimum (pakn.intake.validation.CONTENT_MIN).
    content: str = Field(min_length=20)
    address: str | None = None
    expected: Expected
    note: str | None = None

    @property
    def text(self) -> str:
        """Title and content as one text, the way the intake checks and the router reads it."""
        return "\n".join(part for part in (self.title, self.content) if part)

    @property
    def holdout(self) -> bool:
        return is_holdout(self.id)


def parse_corpus(raw: Any) -> list[CorpusItem]:
    """Validate the parsed YAML; an error names the item so it can be found in the file."""
    if not isinstance(raw, list):
        raise ValueError("the corpus must be a YAML list of items")
    items: list[CorpusItem] = []
    for index, entry in enumerate(raw):
        try:
            items.append(CorpusItem.model_validate(entry))
        except ValidationError as exc:
            name = entry.get("id") if isinstance(entry, dict) else None
            raise ValueError(f"corpus item {name or f'#{index}'}: {exc}") from exc
    return items


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a repeated key, which plain YAML silently overwrites."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise ValueError(f"line {key_node.start_mark.line + 1}: key {key!r} repeated")
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


@cache
def _load(path: Path) -> tuple[CorpusItem, ...]:
    with path.open(encoding="utf-8") as stream:
        return tuple(parse_corpus(yaml.load(stream, Loader=_UniqueKeyLoader)))


def load_corpus(path: Path = CORPUS_PATH) -> list[CorpusItem]:
    """Every item of the corpus, in file order (parsed once per process)."""
    return list(_load(path.resolve()))


def split(items: Iterable[CorpusItem]) -> tuple[list[CorpusItem], list[CorpusItem]]:
    """(tune, holdout), about 70/30, decided by each item's id alone."""
    tune: list[CorpusItem] = []
    holdout: list[CorpusItem] = []
    for item in items:
        (holdout if item.holdout else tune).append(item)
    return tune, holdout
