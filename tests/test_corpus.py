"""The labelled corpus: it loads, it covers every field and decision, and both splits do too."""

from __future__ import annotations

import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from pakn.schema import FIELDS, URBAN_INFRASTRUCTURE_FIELDS, Priority
from tests.corpus import CorpusItem, is_holdout, load_corpus, parse_corpus, split

COMMON_FIELDS = (
    "cap-thoat-nuoc",
    "giao-thong",
    "trat-tu-do-thi",
    "moi-truong",
    "an-ninh-trat-tu",
    "thu-tuc-hanh-chinh",
    "dat-dai",
    "chieu-sang",
    "cay-xanh",
)
LOCALITIES = Path(__file__).parents[1] / "deploy" / "config" / "khanh-hoa" / "localities.yaml"


@pytest.fixture(scope="module")
def items() -> list[CorpusItem]:
    return load_corpus()


def test_corpus_is_big_enough_and_ids_are_unique(items: list[CorpusItem]) -> None:
    assert len(items) >= 240
    repeated = [i for i, n in Counter(item.id for item in items).items() if n > 1]
    assert repeated == []


def test_every_field_has_enough_items(items: list[CorpusItem]) -> None:
    counts = Counter(item.expected.field for item in items)
    short = {f: counts[f] for f in FIELDS if counts[f] < 8}
    short |= {f: counts[f] for f in COMMON_FIELDS if counts[f] < 20}
    assert short == {}


def test_redirects_triage_and_emergencies_are_well_represented(items: list[CorpusItem]) -> None:
    decisions = Counter(item.expected.decision for item in items)
    kinds = Counter(item.expected.redirect for item in items if item.expected.redirect)
    emergencies = [item for item in items if item.expected.priority is Priority.EMERGENCY]
    assert decisions["redirect"] >= 15
    assert kinds["khieu-nai"] >= 5
    assert kinds["to-cao"] >= 5
    assert decisions["triage"] >= 15
    assert len(emergencies) >= 10


def test_loose_uses_of_complaint_words_stay_in_the_corpus(items: list[CorpusItem]) -> None:
    # The traps that keep a router from redirecting on a keyword alone.
    loose = [
        item.id
        for item in items
        if item.expected.decision == "assign"
        and any(word in item.text.lower() for word in ("khiếu nại", "tố cáo"))
    ]
    assert len(loose) >= 4


def test_urban_infrastructure_items_say_whether_they_are_incidents(
    items: list[CorpusItem],
) -> None:
    unlabelled = [
        item.id
        for item in items
        if item.expected.field in URBAN_INFRASTRUCTURE_FIELDS
        and item.expected.decision == "assign"
        and item.expected.incident is None
    ]
    assert unlabelled == []
    for field in URBAN_INFRASTRUCTURE_FIELDS:
        kinds = {item.expected.incident for item in items if item.expected.field == field}
        assert {True, False} <= kinds, field


def test_every_content_passes_the_intake_diacritics_check(items: list[CorpusItem]) -> None:
    from pakn.text import diacritics_report

    refused = {
        item.id: verdict
        for item in items
        if (verdict := diacritics_report(item.text).verdict) != "ok"
    }
    assert refused == {}


def test_split_is_about_70_30_and_depends_on_the_id_alone(items: list[CorpusItem]) -> None:
    tune, holdout = split(items)
    assert {i.id for i in tune}.isdisjoint(i.id for i in holdout)
    assert len(tune) + len(holdout) == len(items)
    assert 0.62 <= len(tune) / len(items) <= 0.78
    again_tune, again_holdout = split(reversed(items))
    assert {i.id for i in again_tune} == {i.id for i in tune}
    assert {i.id for i in again_holdout} == {i.id for i in holdout}


def test_split_rule_has_not_changed() -> None:
    # Pinned: a changed rule would move items already tuned on into the holdout.
    holdout = {f"kh-{n:03d}" for n in range(1, 31) if is_holdout(f"kh-{n:03d}")}
    assert holdout == {
        "kh-008",
        "kh-010",
        "kh-011",
        "kh-012",
        "kh-013",
        "kh-014",
        "kh-018",
        "kh-020",
    }


def test_both_splits_contain_every_field_and_decision(items: list[CorpusItem]) -> None:
    for part in split(items):
        assert {item.expected.field for item in part} == set(FIELDS)
        assert {item.expected.decision for item in part} == {"assign", "triage", "redirect"}
        assert {item.expected.priority for item in part} == set(Priority)


def _key(name: str) -> str:
    name = unicodedata.normalize("NFC", name).casefold().replace("–", "-")
    return " ".join(name.replace(" - ", "-").split())


def test_localities_are_names_the_province_knows(items: list[CorpusItem]) -> None:
    if not LOCALITIES.exists():
        pytest.skip(f"{LOCALITIES} not written yet")
    data = yaml.safe_load(LOCALITIES.read_text(encoding="utf-8"))
    known: set[str] = set()
    for unit in [*data["legacy_areas"], *data["localities"]]:
        known.add(_key(unit["name"]))
        known.update(_key(alias) for alias in unit.get("aliases", []))
    unknown = {
        item.id: item.expected.locality
        for item in items
        if item.expected.locality is not None and _key(item.expected.locality) not in known
    }
    assert unknown == {}


def _item(**expected: Any) -> dict[str, Any]:
    labels = {"field": "giao-thong", "decision": "assign", "priority": "normal"} | expected
    return {
        "id": "kh-999",
        "content": "Ổ gà lớn trên đường Trần Phú rất nguy hiểm.",
        "expected": labels,
    }


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param(_item(field="giao-thong-van-tai"), id="unknown field"),
        pytest.param(_item(decision="redirect"), id="redirect without its kind"),
        pytest.param(_item(redirect="to-cao"), id="kind without redirect"),
        pytest.param(_item(decision="triage", priority="emergency"), id="triaged emergency"),
        pytest.param(_item(incident=True), id="incident outside urban infrastructure"),
        pytest.param(_item(channel="web"), id="unknown label"),
        pytest.param(_item() | {"content": "Ổ gà to."}, id="content too short"),
        pytest.param(_item() | {"id": "item-1"}, id="id not kh-NNN"),
    ],
)
def test_loader_refuses_inconsistent_items(entry: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"corpus item (kh-999|item-1)"):
        parse_corpus([entry])


def test_loader_accepts_a_minimal_item() -> None:
    (item,) = parse_corpus([_item()])
    assert item.expected.priority is Priority.NORMAL
    assert item.text == item.content


def test_loader_refuses_a_repeated_key(tmp_path: Path) -> None:
    # Plain YAML would keep the second label and lose the first without a word.
    path = tmp_path / "corpus.yaml"
    path.write_text(
        "- id: kh-999\n"
        "  content: Ổ gà lớn trên đường Trần Phú rất nguy hiểm.\n"
        "  expected: {field: giao-thong, decision: assign, priority: normal}\n"
        "  note: một\n"
        "  note: hai\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="line 5: key 'note' repeated"):
        load_corpus(path)
