"""Province territory data: the shipped folder is complete; cross-file mistakes are caught."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from pakn.commands.config import check_province
from pakn.province import ConfigError, ConfigProblem
from pakn.schema import FIELDS, URBAN_INFRASTRUCTURE_FIELDS
from pakn.sla import SlaPolicy
from pakn.territory import (
    COMMUNE,
    AgenciesFile,
    Agency,
    CategoriesFile,
    Category,
    LocalitiesFile,
    Locality,
    Phrase,
    ProvinceConfig,
    ReplacedUnit,
    RoutingRule,
    RoutingTable,
    load,
)
from pakn.text import fold, lacks_diacritics

SHIPPED = Path(__file__).parents[2] / "deploy" / "config" / "khanh-hoa"


@pytest.fixture(scope="module")
def shipped() -> ProvinceConfig:
    return load(SHIPPED)


# ---------------------------------------------------------------------------------------------
# The shipped Khánh Hòa folder
# ---------------------------------------------------------------------------------------------


def test_the_shipped_folder_passes_config_check(shipped: ProvinceConfig) -> None:
    assert shipped.problems() == []
    assert check_province(SHIPPED) == []
    assert re.fullmatch(r"\d{4}\.\d{2}\.\d{2}-\d+", shipped.rules_version)


def test_the_65_units_of_nq_1667_with_their_official_codes(shipped: ProvinceConfig) -> None:
    kinds = Counter(locality.kind for locality in shipped.localities)
    assert kinds == {"xa": 48, "phuong": 16, "dac-khu": 1}
    codes = [locality.code for locality in shipped.localities]
    assert len(set(codes)) == 65
    assert all(re.fullmatch(r"\d{5}", code) for code in codes)
    nha_trang = shipped.locality("22366")
    assert nha_trang.name == "Phường Nha Trang"
    assert nha_trang.legacy_areas == ["Thành phố Nha Trang"]
    assert "Phường Lộc Thọ" in {unit.name for unit in nha_trang.replaces}
    assert shipped.agency(nha_trang.agency).kind == "commune"


def test_every_commune_has_its_peoples_committee(shipped: ProvinceConfig) -> None:
    communes = {a.code for a in shipped.agencies if a.kind == "commune"}
    assert {locality.agency for locality in shipped.localities} == communes
    assert shipped.agency("ubnd-phuong-nha-trang").name == "Ủy ban nhân dân phường Nha Trang"


def test_legacy_areas_cover_both_old_provinces(shipped: ProvinceConfig) -> None:
    provinces = Counter(area.old_province for area in shipped.legacy_areas)
    assert provinces == {"khanh-hoa": 9, "ninh-thuan": 7}
    prtc = shipped.legacy_area("Thành phố Phan Rang – Tháp Chàm")
    assert "PRTC" in prtc.aliases
    assert sorted(prtc.localities) == sorted(
        loc.code for loc in shipped.localities if prtc.name in loc.legacy_areas
    )


def test_no_alias_names_two_places(shipped: ProvinceConfig) -> None:
    owners: dict[str, set[str]] = {}
    for locality in shipped.localities:
        for alias in locality.aliases:
            owners.setdefault(fold(alias), set()).add(locality.code)
    for area in shipped.legacy_areas:
        for alias in area.aliases:
            owners.setdefault(fold(alias), set()).add(area.name)
    assert {alias: names for alias, names in owners.items() if len(names) > 1} == {}
    # A district name goes to the district, not to the new ward that took its name.
    assert "Nha Trang" not in shipped.locality("22366").aliases


def test_every_field_has_categories_and_a_catch_all_rule(shipped: ProvinceConfig) -> None:
    for field in FIELDS:
        assert len(shipped.categories_of(field)) >= 2, field
        assert any(rule.is_catch_all(field) for rule in shipped.routing.rules), field
        for category in shipped.categories_of(field):
            assert shipped.assign(category, None) is not None


def test_incident_categories_are_urban_infrastructure(shipped: ProvinceConfig) -> None:
    incidents = {c.code for c in shipped.categories if c.incident}
    assert {code.split(".")[0] for code in incidents} == URBAN_INFRASTRUCTURE_FIELDS


def test_sla_yaml_and_categories_agree(shipped: ProvinceConfig) -> None:
    policy = SlaPolicy.from_config_dir(SHIPPED)
    for code, entry in policy.categories.items():
        assert shipped.category(code).incident == entry.incident, code
    for category in shipped.categories:
        if category.incident:
            assert policy.working_days_for_category(category.code) == 1


def test_exclusions_redirect_to_known_agencies_in_vietnamese(shipped: ProvinceConfig) -> None:
    targets = {e.code: shipped.agency(e.redirect_to).kind for e in shipped.exclusions}
    assert targets == {"khieu-nai": "reception", "to-cao": "inspectorate"}
    for exclusion in shipped.exclusions:
        assert not lacks_diacritics(exclusion.explanation)


@pytest.mark.parametrize(
    ("category", "locality", "lead", "co"),
    [
        # Water: the operator of the old province's network, the commune on site.
        ("cap-thoat-nuoc.mat-nuoc", "22759", "cap-nuoc-ninh-thuan", ["ubnd-phuong-phan-rang"]),
        ("cap-thoat-nuoc.mat-nuoc", "22366", "cap-thoat-nuoc-khanh-hoa", ["ubnd-phuong-nha-trang"]),
        ("cap-thoat-nuoc.hoa-don", "22870", "cap-nuoc-ninh-thuan", []),
        (
            "dat-dai.giay-chung-nhan",
            "22402",
            "so-nong-nghiep-moi-truong",
            ["ubnd-phuong-nam-nha-trang"],
        ),
        ("giao-thong.o-ga-hu-hong", "22480", "ubnd-xa-nam-cam-ranh", ["so-xay-dung"]),
        ("giao-thong.quoc-lo-tinh-lo", "22480", "so-xay-dung", ["ubnd-xa-nam-cam-ranh"]),
        # The commune is unknown: nobody to lead yet (the router triages).
        ("chieu-sang.den-hong", None, None, ["so-xay-dung"]),
    ],
)
def test_shipped_routing_examples(
    shipped: ProvinceConfig, category: str, locality: str | None, lead: str | None, co: list[str]
) -> None:
    place = shipped.locality(locality) if locality else None
    assignment = shipped.assign(shipped.category(category), place)
    assert assignment is not None
    assert (assignment.lead, list(assignment.co)) == (lead, co)


def test_telecom_cables_go_to_the_department_with_every_operator(shipped: ProvinceConfig) -> None:
    assignment = shipped.assign(shipped.category("vien-thong.cap-dut-vong"), None)
    assert assignment is not None and assignment.lead == "so-khoa-hoc-cong-nghe"
    assert {shipped.agency(code).kind for code in assignment.co} == {"telecom"}


# ---------------------------------------------------------------------------------------------
# Broken copies of the folder: each mistake is reported at its file and line
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mistake:
    """One edit of a copy of the shipped folder and the problem it must cause."""

    file: str
    old: str  # a whole line of the file, replaced by `new` (or followed by it if `insert`)
    new: str
    message: str
    insert: bool = False


MISTAKES = {
    "unknown agency": Mistake(
        "routing.yaml", "    lead: so-y-te", "    lead: so-y-te-cu", "unknown agency 'so-y-te-cu'"
    ),
    "unknown field": Mistake(
        "routing.yaml",
        "  - match: nong-nghiep",
        "  - match: nong-lam-nghiep",
        "unknown field 'nong-lam-nghiep'",
    ),
    "unknown locality": Mistake(
        "routing.yaml",
        "    where: {old_province: [ninh-thuan]}",
        '    where: {localities: ["99999"]}',
        "unknown localities value '99999'",
    ),
    "commune agency missing": Mistake(
        "agencies.yaml",
        "  - code: ubnd-phuong-nha-trang",
        "  - code: ubnd-phuong-nha-trang-cu",
        "ubnd-phuong-nha-trang-cu is a commune no locality names",
    ),
    "wrong count": Mistake(
        "localities.yaml", "  total: 65", "  total: 66", "65 localities listed, 66 expected"
    ),
    "sla category unknown": Mistake(
        "sla.yaml",
        "categories:",
        "  cay-xanh.khong-co: {incident: true}",
        "cay-xanh.khong-co is not in categories.yaml",
        insert=True,
    ),
}


@dataclass(frozen=True)
class Broken:
    folder: Path
    lines: dict[str, int]  # mistake → the line it must be reported at
    problems: list[ConfigProblem]


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Broken:
    """One copy of the folder with every mistake at once (loading the folder is the slow part)."""
    folder = tmp_path_factory.mktemp("province") / "khanh-hoa"
    shutil.copytree(SHIPPED, folder)
    lines: dict[str, int] = {}
    for name, mistake in MISTAKES.items():
        path = folder / mistake.file
        text = path.read_text(encoding="utf-8").splitlines()
        index = text.index(mistake.old)
        if mistake.insert:
            index += 1
            text.insert(index, mistake.new)
        else:
            text[index] = mistake.new
        path.write_text("\n".join(text) + "\n", encoding="utf-8")
        lines[name] = index + 1
    return Broken(folder, lines, check_province(folder))


@pytest.mark.parametrize("name", MISTAKES)
def test_each_mistake_is_reported_at_its_file_and_line(broken: Broken, name: str) -> None:
    mistake = MISTAKES[name]
    found = [(p.file.name, p.line) for p in broken.problems if mistake.message in p.message]
    assert found == [(mistake.file, broken.lines[name])]


def test_the_consequences_of_the_mistakes_are_reported_too(broken: Broken) -> None:
    localities = (broken.folder / "localities.yaml").read_text(encoding="utf-8").splitlines()
    agency_line = localities.index("    agency: ubnd-phuong-nha-trang") + 1
    expected = {
        ("localities.yaml", agency_line): "agency 'ubnd-phuong-nha-trang' is not in agencies.yaml",
        ("routing.yaml", None): "field nong-nghiep has no catch-all rule",
    }
    for (file, line), message in expected.items():
        assert any(
            p.file.name == file and (line is None or p.line == line) and message in p.message
            for p in broken.problems
        ), message
    assert len(broken.problems) == len(MISTAKES) + len(expected)


def test_an_unknown_key_is_a_parse_error_with_its_line(tmp_path: Path) -> None:
    folder = tmp_path / "province"
    shutil.copytree(SHIPPED, folder)
    path = folder / "agencies.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    index = lines.index("  - code: so-y-te") + 1
    lines.insert(index, "    website: https://example.invalid")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load(folder)
    assert [(p.file.name, p.line) for p in caught.value.problems] == [("agencies.yaml", index + 1)]
    assert "website" in caught.value.problems[0].message


# ---------------------------------------------------------------------------------------------
# Pure checks and routing semantics on small hand-built folders
# ---------------------------------------------------------------------------------------------


def _locality(code: str, slug: str, province: str = "khanh-hoa") -> Locality:
    return Locality(
        code=code,
        name=f"Xã {slug}",
        kind="xa",
        agency=f"ubnd-xa-{slug}",
        old_province=province,
        legacy_areas=["Huyện Cũ"],
        replaces=[ReplacedUnit(name=f"Xã {slug} cũ", legacy_area="Huyện Cũ")],
        source="test",
        verified=True,
    )


def _category(code: str, incident: bool = False) -> Category:
    return Category.model_validate(
        {"code": code, "name": code, "incident": incident, "phrases": [{"text": "từ khóa"}]}
    )


def _rule(match: str, lead: str, **extra: object) -> RoutingRule:
    return RoutingRule.model_validate({"match": match, "lead": lead, "note": "test", **extra})


def _config(categories: list[Category], rules: list[RoutingRule]) -> ProvinceConfig:
    localities = [_locality("00001", "mot"), _locality("00002", "hai", "ninh-thuan")]
    agencies = [
        Agency(code="so", name="Sở", kind="department", source="test", verified=True),
        *(
            Agency(code=loc.agency, name=loc.name, kind="commune", source="t", verified=True)
            for loc in localities
        ),
    ]
    return ProvinceConfig(
        Path("/nonexistent"),
        AgenciesFile(agencies=agencies),
        LocalitiesFile.model_validate(
            {
                "legacy_areas": [
                    {
                        "name": "Huyện Cũ",
                        "kind": "huyen",
                        "old_province": "khanh-hoa",
                        "localities": ["00001", "00002"],
                    }
                ],
                "localities": [loc.model_dump(by_alias=True) for loc in localities],
            }
        ),
        CategoriesFile(rules_version="2026.01.01-1", categories=categories),
        RoutingTable(rules_version="2026.01.01-1", rules=rules),
    )


def test_first_matching_rule_wins_and_commune_means_the_locality() -> None:
    water = _category("cap-thoat-nuoc.mat-nuoc", incident=True)
    config = _config(
        [water],
        [
            _rule("cap-thoat-nuoc.*", "so", where={"old_province": ["ninh-thuan"]}),
            _rule("cap-thoat-nuoc", COMMUNE, co=["so"]),
        ],
    )
    north, south = config.locality("00001"), config.locality("00002")
    elsewhere = config.assign(water, south)
    assert elsewhere is not None and (elsewhere.lead, elsewhere.co) == ("so", ())
    local = config.assign(water, north)
    assert local is not None and (local.lead, local.co) == ("ubnd-xa-mot", ("so",))
    unknown = config.assign(water, None)
    assert unknown is not None and (unknown.lead, unknown.co) == (None, ("so",))


def test_pure_checks_find_incident_outside_urban_fields_and_missing_catch_alls() -> None:
    config = _config(
        [_category("dien.mat-dien", incident=True), _category("dien.mat-dien")],
        [_rule("dien.mat-dien", "so"), _rule("dien.mat-dien", "khong-co")],
    )
    messages = [p.message for p in config.problems()]
    assert any("only urban infrastructure" in m for m in messages)
    assert any("duplicate category 'dien.mat-dien'" in m for m in messages)
    assert any("rule 2 is never used" in m for m in messages)
    assert any("unknown agency 'khong-co'" in m for m in messages)
    assert any("field dien has no catch-all rule" in m for m in messages)
    assert any("field y-te has no category" in m for m in messages)


def test_a_rule_must_say_why_and_not_repeat_its_lead() -> None:
    with pytest.raises(ValueError, match="note"):
        RoutingRule.model_validate({"match": "dien", "lead": "so"})
    with pytest.raises(ValueError, match="also listed"):
        _rule("dien", "so", co=["so"])


def test_phrases_are_weighted_and_folded() -> None:
    phrase = Phrase(text="Mất nước", weight=3)
    assert phrase.folded == "mat nuoc"
    with pytest.raises(ValueError, match="less than or equal"):
        Phrase(text="x", weight=9)
