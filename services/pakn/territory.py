"""Province territory and routing data (DESIGN.md §8): agencies, localities, categories, rules."""

from __future__ import annotations

import fnmatch
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Self, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints, model_validator

from pakn.patterns import Pattern
from pakn.province import ConfigError, ConfigProblem, load_model, read_yaml
from pakn.schema import FIELDS, URBAN_INFRASTRUCTURE_FIELDS
from pakn.sla import CATEGORY_CODE, SLA_FILE, SlaPolicy
from pakn.text import fold

AGENCIES_FILE = "agencies.yaml"
LOCALITIES_FILE = "localities.yaml"
CATEGORIES_FILE = "categories.yaml"
ROUTING_FILE = "routing.yaml"

#: In routing rules: the People's Committee of the locality where the problem is.
COMMUNE = "commune"

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
#: Official codes are 5 digits (Cục Thống kê); an unverified locality may only have a slug.
LocalityCode = Annotated[str, StringConstraints(pattern=r"^(?:\d{5}|[a-z0-9]+(?:-[a-z0-9]+)*)$")]
CategoryCode = Annotated[str, StringConstraints(pattern=CATEGORY_CODE.pattern)]
#: Stamped on every case (``routing.rules_version``), e.g. "2026.11.28-1".
RulesVersion = Annotated[str, StringConstraints(pattern=r"^\d{4}\.\d{2}\.\d{2}-\d+$")]

AgencyKind = Literal[
    "department",
    "police",
    "utility",
    "telecom",
    "commune",
    "provincial",
    "reception",
    "inspectorate",
    "other",
]
LocalityKind = Literal["xa", "phuong", "dac-khu"]
LegacyAreaKind = Literal["thanh-pho", "thi-xa", "huyen", "quan"]
PriorityHint = Literal["emergency", "urgent"]

M = TypeVar("M", bound=BaseModel)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _key(text: str) -> str:
    """Folded and reduced to letters and digits: "P.Nha Trang" and "p. nha trang" are one key."""
    return " ".join("".join(ch if ch.isalnum() else " " for ch in fold(text)).split())


# ---------------------------------------------------------------------------------------------
# agencies.yaml
# ---------------------------------------------------------------------------------------------


class Sourced(_Model):
    """One fact people act on (an address, opening hours), with where it comes from."""

    text: Text
    source: Text
    verified: bool


class Agency(_Model):
    """A body that receives cases; ``verified`` says whether ``source`` states what is here."""

    code: Slug
    name: Text
    kind: AgencyKind
    email: Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    phone: Annotated[str, StringConstraints(pattern=r"^[0-9 .+()-]{3,20}$")] | None = None
    parent: Slug | None = None
    #: Where and when citizens can go in person (a reception office, for redirected cases).
    address: Sourced | None = None
    hours: Sourced | None = None
    source: Text
    verified: bool


class AgenciesFile(_Model):
    agencies: list[Agency]


# ---------------------------------------------------------------------------------------------
# localities.yaml
# ---------------------------------------------------------------------------------------------


class ReplacedUnit(_Model):
    """A pre-2025 commune-level unit, wholly or (``partial``) partly inside a new one."""

    name: Text
    legacy_area: Text
    partial: bool = False


class Locality(_Model):
    """A commune, ward or special zone; ``agency`` is the code of its People's Committee."""

    code: LocalityCode
    name: Text
    kind: LocalityKind
    agency: Slug
    old_province: Slug
    legacy_areas: list[Text] = Field(min_length=1)
    replaces: list[ReplacedUnit] = Field(min_length=1)
    aliases: list[Text] = Field(default_factory=list)
    source: Text
    verified: bool

    @model_validator(mode="after")
    def _verified_has_official_code(self) -> Self:
        if self.verified and not self.code.isdigit():
            raise ValueError("a verified locality carries its official (numeric) code")
        return self


class LegacyArea(_Model):
    """A pre-2025 district, town or city that people still name in addresses."""

    name: Text
    kind: LegacyAreaKind
    old_province: Slug
    aliases: list[Text] = Field(default_factory=list)
    localities: list[LocalityCode] = Field(min_length=1)


class ExpectedCounts(_Model):
    """How many units the law creates, so a missing or extra one is reported."""

    total: int = Field(ge=1)
    xa: int | None = Field(default=None, ge=0)
    phuong: int | None = Field(default=None, ge=0)
    dac_khu: int | None = Field(default=None, ge=0, alias="dac-khu")
    source: Text


class LocalitiesFile(_Model):
    expected: ExpectedCounts | None = None
    legacy_areas: list[LegacyArea] = Field(default_factory=list)
    localities: list[Locality]


# ---------------------------------------------------------------------------------------------
# categories.yaml
# ---------------------------------------------------------------------------------------------


class Phrase(_Model):
    """Words citizens write, with diacritics; matched accent-folded."""

    text: Text
    weight: float = Field(default=1.0, ge=0.5, le=5)

    @property
    def folded(self) -> str:
        return fold(self.text)


class Category(_Model):
    """A kind of case inside a field; ``field`` may be left out (it is the code's prefix)."""

    code: CategoryCode
    field: str
    name: Text
    incident: bool = False
    priority: PriorityHint | None = None
    phrases: list[Phrase] = Field(min_length=1)
    negative: list[Phrase] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _field_from_code(cls, data: Any) -> Any:
        if isinstance(data, dict) and "field" not in data and isinstance(data.get("code"), str):
            return {**data, "field": data["code"].split(".", 1)[0]}
        return data

    @model_validator(mode="after")
    def _field_is_prefix(self) -> Self:
        if self.code.split(".", 1)[0] != self.field:
            raise ValueError(f"field {self.field!r} is not the prefix of code {self.code!r}")
        return self


class Exclusion(_Model):
    """Text that is not a PAKN by law (khiếu nại, tố cáo): redirected, with an explanation."""

    code: Slug
    name: Text
    redirect_to: Slug
    explanation: Text
    phrases: list[Phrase] = Field(min_length=1)
    negative: list[Phrase] = Field(default_factory=list)
    #: Word patterns (pakn.patterns) for wording the phrases miss: "khiếu nại về việc UBND
    #: phường ban hành quyết định"; each found counts its weight once, like a phrase.
    patterns: list[Pattern] = Field(default_factory=list)


class PriorityRules(_Model):
    """What makes a case urgent; emergencies are safety.yaml's (pakn.safety), for every channel."""

    urgent: list[Phrase] = Field(default_factory=list)


class CategoriesFile(_Model):
    rules_version: RulesVersion
    categories: list[Category]
    exclusions: list[Exclusion] = Field(default_factory=list)
    priority: PriorityRules = Field(default_factory=PriorityRules)


# ---------------------------------------------------------------------------------------------
# routing.yaml
# ---------------------------------------------------------------------------------------------


def _is_glob(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")


def pattern_matches(pattern: str, category: Category) -> bool:
    """A rule's ``match`` entry: a field code, a category code, or a glob over category codes."""
    if _is_glob(pattern):
        return fnmatch.fnmatchcase(category.code, pattern)
    if "." in pattern:
        return pattern == category.code
    return pattern == category.field


class LocalityFilter(_Model):
    """A rule's ``where``: the locality matches if any of the lists names it."""

    old_province: list[Slug] = Field(default_factory=list)
    legacy_areas: list[Text] = Field(default_factory=list)
    localities: list[LocalityCode] = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if not (self.old_province or self.legacy_areas or self.localities):
            raise ValueError("`where` needs old_province, legacy_areas or localities")
        return self

    def matches(self, locality: Locality) -> bool:
        return (
            locality.old_province in self.old_province
            or locality.code in self.localities
            or any(area in self.legacy_areas for area in locality.legacy_areas)
        )


@dataclass(frozen=True)
class Assignment:
    """Who gets a case. ``lead`` is None when the rule says `commune` and the commune is unknown."""

    lead: str | None
    co: tuple[str, ...]
    rule: RoutingRule


class RoutingRule(_Model):
    """One line of routing.yaml; the first rule that applies to a case decides."""

    match: list[Text] = Field(min_length=1)
    where: LocalityFilter | None = None
    lead: Slug
    co: list[Slug] = Field(default_factory=list)
    note: Text | None = None
    source: Text | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_pattern_is_a_list(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("match"), str):
            return {**data, "match": [data["match"]]}
        return data

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if self.note is None and self.source is None:
            raise ValueError("a rule says why: give it a `note` or a `source`")
        if self.lead in self.co:
            raise ValueError(f"lead {self.lead!r} is also listed in `co`")
        if len(set(self.co)) != len(self.co):
            raise ValueError("`co` lists an agency twice")
        return self

    def matches_category(self, category: Category) -> bool:
        return any(pattern_matches(pattern, category) for pattern in self.match)

    def covers(self, locality: Locality | None) -> bool:
        """Whether this rule's ``where`` takes ``locality`` (None: not known)."""
        if self.where is None:
            return True
        return locality is not None and self.where.matches(locality)

    def applies(self, category: Category, locality: Locality | None) -> bool:
        """Whether this rule routes ``category`` at ``locality`` (None: not known)."""
        return self.matches_category(category) and self.covers(locality)

    def is_catch_all(self, field: str) -> bool:
        """A rule without ``where`` covering every category of ``field``."""
        return self.where is None and any(p in (field, f"{field}.*") for p in self.match)

    def assignment(self, locality: Locality | None) -> Assignment:
        """Lead and co-agencies with `commune` replaced by the locality's People's Committee."""
        commune = locality.agency if locality is not None else None
        lead = commune if self.lead == COMMUNE else self.lead
        co = [commune if code == COMMUNE else code for code in self.co]
        return Assignment(
            lead=lead, co=tuple(c for c in dict.fromkeys(co) if c and c != lead), rule=self
        )


class RoutingTable(_Model):
    """routing.yaml: ordered rules, first match wins."""

    rules_version: RulesVersion
    rules: list[RoutingRule] = Field(min_length=1)
    #: The rules whose ``match`` takes a category, in order, by category code: the glob
    #: tests run once per category, not for every case (the rules never change).
    _by_category: dict[str, tuple[RoutingRule, ...]] = PrivateAttr(default_factory=dict)

    def rule_for(self, category: Category, locality: Locality | None) -> RoutingRule | None:
        rules = self._by_category.get(category.code)
        if rules is None:
            rules = tuple(r for r in self.rules if r.matches_category(category))
            self._by_category[category.code] = rules
        return next((r for r in rules if r.covers(locality)), None)

    def assign(self, category: Category, locality: Locality | None) -> Assignment | None:
        """Who handles a case of ``category`` at ``locality``; None if no rule applies."""
        rule = self.rule_for(category, locality)
        return rule.assignment(locality) if rule is not None else None


# ---------------------------------------------------------------------------------------------
# The whole folder
# ---------------------------------------------------------------------------------------------


class ProvinceConfig:
    """The four data files of a province folder, with lookups and cross-file checks."""

    def __init__(
        self,
        config_dir: Path,
        agencies: AgenciesFile,
        localities: LocalitiesFile,
        categories: CategoriesFile,
        routing: RoutingTable,
    ) -> None:
        self.config_dir = config_dir
        self.agencies_file = agencies
        self.localities_file = localities
        self.categories_file = categories
        self.routing = routing
        self._agencies = {a.code: a for a in agencies.agencies}
        self._localities = {loc.code: loc for loc in localities.localities}
        self._legacy_areas = {area.name: area for area in localities.legacy_areas}
        self._categories = {c.code: c for c in categories.categories}

    @classmethod
    def load(cls, config_dir: Path) -> ProvinceConfig:
        """Parse the folder's four files; ConfigError lists every problem with file and line."""
        problems: list[ConfigProblem] = []

        def parse(filename: str, model: type[M]) -> M | None:
            try:
                return load_model(config_dir / filename, model)
            except ConfigError as exc:
                problems.extend(exc.problems)
                return None

        agencies = parse(AGENCIES_FILE, AgenciesFile)
        localities = parse(LOCALITIES_FILE, LocalitiesFile)
        categories = parse(CATEGORIES_FILE, CategoriesFile)
        routing = parse(ROUTING_FILE, RoutingTable)
        if agencies is None or localities is None or categories is None or routing is None:
            raise ConfigError(problems)
        return cls(config_dir, agencies, localities, categories, routing)

    # -- what the router reads ---------------------------------------------------------------

    @property
    def rules_version(self) -> str:
        """Stamped on each case; categories.yaml and routing.yaml must agree (see problems())."""
        return self.routing.rules_version

    @property
    def agencies(self) -> list[Agency]:
        return self.agencies_file.agencies

    @property
    def localities(self) -> list[Locality]:
        return self.localities_file.localities

    @property
    def legacy_areas(self) -> list[LegacyArea]:
        return self.localities_file.legacy_areas

    @property
    def categories(self) -> list[Category]:
        return self.categories_file.categories

    @property
    def exclusions(self) -> list[Exclusion]:
        return self.categories_file.exclusions

    @property
    def priority(self) -> PriorityRules:
        return self.categories_file.priority

    def agency(self, code: str) -> Agency:
        """The agency with this code; KeyError if there is none."""
        try:
            return self._agencies[code]
        except KeyError:
            raise KeyError(f"unknown agency {code!r}") from None

    def locality(self, code: str) -> Locality:
        """The locality with this code; KeyError if there is none."""
        try:
            return self._localities[code]
        except KeyError:
            raise KeyError(f"unknown locality {code!r}") from None

    def category(self, code: str) -> Category:
        """The category with this code; KeyError if there is none."""
        try:
            return self._categories[code]
        except KeyError:
            raise KeyError(f"unknown category {code!r}") from None

    def legacy_area(self, name: str) -> LegacyArea:
        """The pre-2025 district with this exact name; KeyError if there is none."""
        try:
            return self._legacy_areas[name]
        except KeyError:
            raise KeyError(f"unknown legacy area {name!r}") from None

    def categories_of(self, field: str) -> list[Category]:
        return [c for c in self.categories if c.field == field]

    def assign(self, category: Category, locality: Locality | None) -> Assignment | None:
        """Who handles a case of ``category`` at ``locality`` (None: not known)."""
        return self.routing.assign(category, locality)

    # -- checks --------------------------------------------------------------------------------

    def problems(self) -> list[ConfigProblem]:
        """Everything wrong across the files, each with file and line; empty when fine."""
        checker = _Checker(self)
        checker.agencies()
        checker.localities()
        checker.aliases()
        checker.categories()
        checker.routing()
        checker.sla()
        return checker.found


Loc = list[int | str]


class _Checker:
    """Cross-file checks of one loaded folder; each problem gets its file and line."""

    def __init__(self, config: ProvinceConfig) -> None:
        self.config = config
        self.found: list[ConfigProblem] = []
        self._roots: dict[str, yaml.Node | None] = {}

    def add(self, filename: str, loc: Loc, message: str) -> None:
        path = self.config.config_dir / filename
        self.found.append(ConfigProblem(path, self._line(filename, loc), message))

    def _line(self, filename: str, loc: Loc) -> int | None:
        if filename not in self._roots:  # each file is parsed once, however many problems
            try:
                self._roots[filename] = read_yaml(self.config.config_dir / filename)[1]
            except (ConfigError, OSError):
                self._roots[filename] = None
        node = self._roots[filename]
        if node is None:
            return None
        line: int = node.start_mark.line + 1
        for key in loc:
            # A mapping entry is reported at its key (a nested value starts a line later).
            found: tuple[yaml.Node, yaml.Node] | None = None
            if isinstance(node, yaml.MappingNode):
                found = next(((k, v) for k, v in node.value if k.value == key), None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key >= 0:
                item = node.value[key] if key < len(node.value) else None
                found = (item, item) if item is not None else None
            if found is None:
                break
            marker, node = found
            line = marker.start_mark.line + 1
        return line

    def duplicates(self, filename: str, what: str, section: Loc, values: list[str]) -> None:
        """Flags the second and later occurrences of a value (codes, aliases, phrases)."""
        first: dict[str, int] = {}
        for i, value in enumerate(values):
            if value in first:
                self.add(
                    filename,
                    [*section, i],
                    f"duplicate {what} {value!r} (also #{first[value] + 1})",
                )
            first.setdefault(value, i)

    # -- agencies.yaml ---------------------------------------------------------------------

    def agencies(self) -> None:
        config, f = self.config, AGENCIES_FILE
        self.duplicates(f, "agency", ["agencies"], [a.code for a in config.agencies])
        used = {loc.agency for loc in config.localities}
        for i, agency in enumerate(config.agencies):
            if agency.code == COMMUNE:
                self.add(f, ["agencies", i, "code"], f"{COMMUNE!r} is reserved in routing rules")
            if agency.parent is not None and agency.parent not in config._agencies:
                self.add(f, ["agencies", i, "parent"], f"unknown parent {agency.parent!r}")
            if agency.kind == "commune" and agency.code not in used:
                self.add(
                    f, ["agencies", i, "code"], f"{agency.code} is a commune no locality names"
                )

    # -- localities.yaml -------------------------------------------------------------------

    def localities(self) -> None:
        config, f = self.config, LOCALITIES_FILE
        self.duplicates(f, "locality", ["localities"], [x.code for x in config.localities])
        self.duplicates(f, "legacy area", ["legacy_areas"], [a.name for a in config.legacy_areas])
        self.counts()
        lying_in: dict[str, set[str]] = defaultdict(set)
        for i, locality in enumerate(config.localities):
            agency = config._agencies.get(locality.agency)
            if agency is None:
                self.add(
                    f,
                    ["localities", i, "agency"],
                    f"{locality.name}: agency {locality.agency!r} is not in {AGENCIES_FILE}",
                )
            elif agency.kind != "commune":
                self.add(
                    f,
                    ["localities", i, "agency"],
                    f"{locality.name}: agency {agency.code} is of kind {agency.kind}, not commune",
                )
            for j, name in enumerate(locality.legacy_areas):
                lying_in[name].add(locality.code)
                if name not in config._legacy_areas:
                    self.add(f, ["localities", i, "legacy_areas", j], f"unknown area {name!r}")
            for j, unit in enumerate(locality.replaces):
                if unit.legacy_area not in locality.legacy_areas:
                    self.add(
                        f,
                        ["localities", i, "replaces", j],
                        f"{unit.name}: {unit.legacy_area!r} is not among its legacy_areas",
                    )
            folded = [fold(alias) for alias in locality.aliases]
            self.duplicates(f, "alias", ["localities", i, "aliases"], folded)
        known = set(config._localities)
        for i, area in enumerate(config.legacy_areas):
            listed, actual = set(area.localities), lying_in[area.name]
            loc: Loc = ["legacy_areas", i, "localities"]
            for code in sorted(listed - known):
                self.add(f, loc, f"{area.name}: unknown locality {code!r}")
            for code in sorted(actual - listed):
                self.add(f, loc, f"{area.name}: {code} lies in it but is not listed")
            for code in sorted((listed & known) - actual):
                self.add(f, loc, f"{area.name}: {code} is listed but does not name this area")

    def counts(self) -> None:
        expected = self.config.localities_file.expected
        if expected is None:
            return
        localities = self.config.localities
        if len(localities) != expected.total:
            self.add(
                LOCALITIES_FILE,
                ["expected", "total"],
                f"{len(localities)} localities listed, {expected.total} expected "
                f"({expected.source})",
            )
        kinds: Counter[str] = Counter(loc.kind for loc in localities)
        wanted = {"xa": expected.xa, "phuong": expected.phuong, "dac-khu": expected.dac_khu}
        for kind, count in wanted.items():
            if count is not None and kinds[kind] != count:
                self.add(
                    LOCALITIES_FILE,
                    ["expected", kind],
                    f"{kinds[kind]} localities of kind {kind} listed, {count} expected",
                )

    def aliases(self) -> None:
        """An alias names one place: not two localities, a district, or an old unit elsewhere."""
        config = self.config
        owners: dict[str, set[str]] = defaultdict(set)
        old_names: dict[str, set[str]] = defaultdict(set)
        for locality in config.localities:
            for alias in locality.aliases:
                owners[_key(alias)].add(locality.code)
            for unit in locality.replaces:
                old_names[_key(unit.name)].add(locality.code)
                old_names[_key(_without_unit_kind(unit.name))].add(locality.code)
        districts = {_key(n) for a in config.legacy_areas for n in (a.name, *a.aliases)}
        for i, locality in enumerate(config.localities):
            for j, alias in enumerate(locality.aliases):
                key = _key(alias)
                loc: Loc = ["localities", i, "aliases", j]
                label = f"alias {alias!r} of {locality.name}"
                if others := sorted(owners[key] - {locality.code}):
                    self.add(LOCALITIES_FILE, loc, f"{label} also names {', '.join(others)}")
                if key in districts:
                    self.add(LOCALITIES_FILE, loc, f"{label} is also a pre-2025 district")
                # Its own official name may equal an old unit elsewhere (the legacy area tells
                # them apart); any other alias may not.
                own = locality.code in old_names[key] or key == _key(locality.name)
                if not own and (elsewhere := sorted(old_names[key])):
                    self.add(
                        LOCALITIES_FILE,
                        loc,
                        f"{label} is a pre-2025 unit now in {', '.join(elsewhere)}",
                    )

    # -- categories.yaml -------------------------------------------------------------------

    def categories(self) -> None:
        config, f = self.config, CATEGORIES_FILE
        self.duplicates(f, "category", ["categories"], [c.code for c in config.categories])
        self.duplicates(f, "exclusion", ["exclusions"], [e.code for e in config.exclusions])
        urban = ", ".join(sorted(URBAN_INFRASTRUCTURE_FIELDS))
        for i, category in enumerate(config.categories):
            if category.field not in FIELDS:
                self.add(f, ["categories", i, "code"], f"unknown field {category.field!r}")
            if category.incident and category.field not in URBAN_INFRASTRUCTURE_FIELDS:
                self.add(
                    f,
                    ["categories", i, "incident"],
                    f"{category.code}: only urban infrastructure ({urban}) has incidents",
                )
            for key, phrases in (("phrases", category.phrases), ("negative", category.negative)):
                folded = [p.folded for p in phrases]
                self.duplicates(f, "phrase", ["categories", i, key], folded)
        have = {c.field for c in config.categories}
        for field in FIELDS:
            if field not in have:
                self.add(f, ["categories"], f"field {field} has no category")
        for i, exclusion in enumerate(config.exclusions):
            if exclusion.redirect_to not in config._agencies:
                self.add(
                    f,
                    ["exclusions", i, "redirect_to"],
                    f"unknown agency {exclusion.redirect_to!r}",
                )
        if config.categories_file.rules_version != config.routing.rules_version:
            self.add(
                f,
                ["rules_version"],
                f"rules_version {config.categories_file.rules_version} differs from "
                f"{config.routing.rules_version} in {ROUTING_FILE}: change both together",
            )

    # -- routing.yaml ----------------------------------------------------------------------

    def routing(self) -> None:
        config, f = self.config, ROUTING_FILE
        taken: set[str] = set()  # categories an earlier rule without `where` always takes
        for i, rule in enumerate(config.routing.rules):
            n = f"rule {i + 1}"
            reachable: set[str] = set()
            for j, pattern in enumerate(rule.match):
                matched = {c.code for c in config.categories if pattern_matches(pattern, c)}
                if not matched:
                    what = "category" if "." in pattern or _is_glob(pattern) else "field"
                    self.add(f, ["rules", i, "match", j], f"{n}: unknown {what} {pattern!r}")
                reachable |= matched
            catch_all = any(rule.is_catch_all(c.field) for c in config.categories)
            if reachable and reachable <= taken and not catch_all:
                self.add(f, ["rules", i, "match"], f"{n} is never used: earlier rules take all")
            if rule.where is None:
                taken |= reachable
            if rule.lead != COMMUNE and rule.lead not in config._agencies:
                self.add(f, ["rules", i, "lead"], f"{n}: unknown agency {rule.lead!r}")
            for j, code in enumerate(rule.co):
                if code != COMMUNE and code not in config._agencies:
                    self.add(f, ["rules", i, "co", j], f"{n}: unknown agency {code!r}")
            if rule.where is not None:
                self.locality_filter(i, rule.where)
        for field in FIELDS:
            if not any(rule.is_catch_all(field) for rule in config.routing.rules):
                self.add(f, ["rules"], f"field {field} has no catch-all rule (no `where`)")

    def locality_filter(self, index: int, where: LocalityFilter) -> None:
        config = self.config
        known: dict[str, set[str]] = {
            "old_province": {loc.old_province for loc in config.localities},
            "legacy_areas": set(config._legacy_areas),
            "localities": set(config._localities),
        }
        values = {
            "old_province": where.old_province,
            "legacy_areas": where.legacy_areas,
            "localities": where.localities,
        }
        for key, listed in values.items():
            for j, value in enumerate(listed):
                if value not in known[key]:
                    self.add(
                        ROUTING_FILE,
                        ["rules", index, "where", key, j],
                        f"rule {index + 1}: unknown {key} value {value!r}",
                    )

    # -- sla.yaml ------------------------------------------------------------------------------

    def sla(self) -> None:
        config = self.config
        try:
            policy = load_model(config.config_dir / SLA_FILE, SlaPolicy)
        except ConfigError:
            return  # sla.yaml's own check reports it
        for code, entry in policy.categories.items():
            category = config._categories.get(code)
            if category is None:
                self.add(SLA_FILE, ["categories", code], f"{code} is not in {CATEGORIES_FILE}")
            elif category.incident != entry.incident:
                self.add(
                    SLA_FILE,
                    ["categories", code, "incident"],
                    f"{code}: incident is {entry.incident} here, {category.incident} in "
                    f"{CATEGORIES_FILE}",
                )
        for i, category in enumerate(config.categories):
            if category.incident and category.code not in policy.categories:
                self.add(
                    CATEGORIES_FILE,
                    ["categories", i, "incident"],
                    f"incident category {category.code} is missing from {SLA_FILE}",
                )


def _without_unit_kind(name: str) -> str:
    for prefix in ("Phường ", "Xã ", "Thị trấn ", "Đặc khu "):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def load(config_dir: Path) -> ProvinceConfig:
    """The province folder's agencies, localities, categories and routing rules."""
    return ProvinceConfig.load(config_dir)


def check(config_dir: Path) -> list[ConfigProblem]:
    """Everything wrong with the four files, alone and together (for `pakn config check`)."""
    try:
        config = ProvinceConfig.load(config_dir)
    except ConfigError as exc:
        return exc.problems
    return config.problems()
