"""Places from streets and landmarks (pakn.streets, streets.yaml)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pakn.commands.config import check_province
from pakn.streets import StreetEntry, StreetTable, candidates
from pakn.territory import ProvinceConfig, load
from pakn_router.classify import Classifier

KHANH_HOA = Path(__file__).parents[2] / "deploy" / "config" / "khanh-hoa"


@pytest.fixture(scope="module")
def config() -> ProvinceConfig:
    return load(KHANH_HOA)


@pytest.fixture(scope="module")
def shipped(config: ProvinceConfig) -> StreetTable:
    return StreetTable.from_config_dir(KHANH_HOA, config)


def _names(table: StreetTable, text: str) -> list[str]:
    return [ward.name for ward in candidates(table.find(text))]


def test_a_landmark_gives_its_ward(shipped: StreetTable) -> None:
    assert _names(shipped, "Rác bốc mùi sau chợ Đầm") == ["Phường Nha Trang"]
    assert _names(shipped, "Đèn đường hư gần Tháp Bà Ponagar") == ["Phường Bắc Nha Trang"]


def test_a_street_is_read_after_its_prefix_only(shipped: StreetTable) -> None:
    assert _names(shipped, "Ổ gà trên đường Trần Phú") == ["Phường Nha Trang"]
    assert _names(shipped, "Ông Trần Phú ở tổ 3 phản ánh") == []


def test_a_street_crossing_wards_gives_candidates(shipped: StreetTable) -> None:
    assert _names(shipped, "Ngập trên đường Lê Hồng Phong") == [
        "Phường Nha Trang",
        "Phường Nam Nha Trang",
    ]


def test_the_area_tells_streets_of_one_name_apart(
    shipped: StreetTable, config: ProvinceConfig
) -> None:
    everywhere = _names(shipped, "đường Thống Nhất ngập")
    assert "Phường Phan Rang" in everywhere and "Phường Nha Trang" in everywhere
    phan_rang = config.legacy_area("Thành phố Phan Rang – Tháp Chàm")
    found = shipped.find("đường Thống Nhất ngập", phan_rang)
    assert [ward.name for ward in candidates(found)] == ["Phường Phan Rang"]


def test_only_a_checked_street_in_one_ward_decides(config: ProvinceConfig) -> None:
    entry = {"kind": "landmark", "area": "Thành phố Nha Trang", "source": "test"}
    table = StreetTable(
        [
            StreetEntry(name="chợ Đầm", units=["Phường Vạn Thạnh"], verified=True, **entry),
            StreetEntry(name="Hòn Chồng", units=["Phường Vĩnh Phước"], verified=False, **entry),
        ],
        config,
    )
    assert [m.decisive for m in table.find("chợ Đầm và Hòn Chồng")] == [True, False]


def test_every_shipped_entry_is_marked_unchecked_or_cites_a_source(shipped: StreetTable) -> None:
    assert len(shipped.entries) >= 20
    for entry in shipped.entries:
        assert not entry.verified or "unchecked" not in entry.source


def test_the_router_shows_the_wards_of_a_street_to_the_operator() -> None:
    classifier = Classifier.from_config_dir(KHANH_HOA)
    result = classifier.classify("Ổ gà lớn trên đường Trần Phú, xe máy dễ té")
    # Unchecked data never decides: the case waits for an operator, with the candidate.
    assert result.locality is None
    assert [c.name for c in result.locality_candidates] == ["Phường Nha Trang"]
    assert result.as_json()["locality_candidates"][0]["matched"] == "đường Trần Phú"
    assert any("Phường Nha Trang" in note for note in result.notes)


def test_an_unknown_ward_is_reported_by_config_check(tmp_path: Path) -> None:
    folder = tmp_path / "khanh-hoa"
    shutil.copytree(KHANH_HOA, folder)
    path = folder / "streets.yaml"
    path.write_text(
        "streets:\n  - {name: 'chợ X', kind: landmark, area: 'Thành phố Nha Trang',"
        " units: ['Phường Không Có'], source: test, verified: false}\n",
        encoding="utf-8",
    )
    problems = check_province(folder)
    assert [p.file.name for p in problems] == ["streets.yaml"]
    assert "Phường Không Có" in problems[0].message
