"""SLA policy (DESIGN.md §7): how many working days a case gets, from ``sla.yaml``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pakn.province import load_model
from pakn.schema import FIELDS, URBAN_INFRASTRUCTURE_FIELDS

SLA_FILE = "sla.yaml"
#: ``<field>.<slug>``: the field code, a dot, a lowercase ASCII slug with hyphens.
CATEGORY_CODE = re.compile(r"^(?P<field>[a-z]+(?:-[a-z]+)*)\.[a-z0-9]+(?:-[a-z0-9]+)*$")

#: A sanity bound: even a second complaint, the slowest route nearby, takes at most 60 days.
WorkingDays = Annotated[float, Field(gt=0, le=90)]


def field_of(category: str) -> str:
    """The field code of a category code; ValueError if the code is malformed or unknown."""
    match = CATEGORY_CODE.match(category)
    if match is None:
        raise ValueError(f"category code {category!r} is not <field>.<slug>")
    field = match["field"]
    if field not in FIELDS:
        raise ValueError(f"category {category!r}: unknown field {field!r}")
    return field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Deadline(_Model):
    """A number of working days and where it comes from (never a number without a source)."""

    working_days: WorkingDays
    source: str = Field(min_length=1)
    verified: bool


class CategorySla(_Model):
    """What ``sla.yaml`` says about one category: incident or not, and an optional override."""

    name: str | None = None
    incident: bool = False
    working_days: WorkingDays | None = None
    source: str | None = Field(default=None, min_length=1)
    verified: bool | None = None

    @model_validator(mode="after")
    def _number_has_source(self) -> Self:
        if self.working_days is not None and (self.source is None or self.verified is None):
            raise ValueError("a category's working_days needs its source and verified flag")
        if self.working_days is None and (self.source is not None or self.verified is not None):
            raise ValueError("source/verified describe a working_days override; none is given")
        return self

    def override(self) -> Deadline | None:
        if self.working_days is None or self.source is None or self.verified is None:
            return None
        return Deadline(working_days=self.working_days, source=self.source, verified=self.verified)


class SlaPolicy(_Model):
    """``sla.yaml``: default, per-field defaults, per-category overrides and the incident rule."""

    #: Applies when nothing more specific does.
    default: Deadline
    #: Incidents of urban infrastructure (``URBAN_INFRASTRUCTURE_FIELDS``) get this.
    incident: Deadline
    fields: dict[str, Deadline] = Field(default_factory=dict)
    categories: dict[str, CategorySla] = Field(default_factory=dict)

    @field_validator("fields")
    @classmethod
    def _known_fields(cls, value: dict[str, Deadline]) -> dict[str, Deadline]:
        unknown = sorted(set(value) - set(FIELDS))
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(unknown)}; fields are: {FIELDS}")
        return value

    @field_validator("categories")
    @classmethod
    def _category_codes(cls, value: dict[str, CategorySla]) -> dict[str, CategorySla]:
        for code in value:
            field_of(code)
        return value

    @classmethod
    def from_config_dir(cls, path: Path) -> SlaPolicy:
        """The policy of a province folder (its ``sla.yaml``); ConfigError if invalid."""
        return load_model(path / SLA_FILE, cls)

    def deadline_for(
        self, field: str, category: str | None = None, incident: bool = False
    ) -> Deadline:
        """The rule that applies, most specific first: category override, incident, field, default.

        A category listed here as an incident counts as one even if the caller says otherwise;
        a category not listed here falls back to its field (categories.yaml may know more
        categories than this file).
        """
        if field not in FIELDS:
            raise ValueError(f"unknown field {field!r}")
        entry: CategorySla | None = None
        if category is not None:
            if field_of(category) != field:
                raise ValueError(f"category {category!r} does not belong to field {field!r}")
            entry = self.categories.get(category)
        if entry is not None:
            override = entry.override()
            if override is not None:
                return override
            incident = incident or entry.incident
        if incident and field in URBAN_INFRASTRUCTURE_FIELDS:
            return self.incident
        return self.fields.get(field, self.default)

    def working_days_for(
        self, field: str, category: str | None = None, incident: bool = False
    ) -> float:
        """How many working days a case of this field/category gets."""
        return self.deadline_for(field, category, incident).working_days

    def working_days_for_category(self, code: str) -> float:
        """Working days of a category listed in ``sla.yaml``; KeyError for any other code."""
        entry = self.categories.get(code)
        if entry is None:
            known = ", ".join(sorted(self.categories)) or "none"
            raise KeyError(f"unknown category {code!r}: not in {SLA_FILE} (known: {known})")
        return self.working_days_for(field_of(code), code, entry.incident)
