"""The redaction test set (tests/data/redaction.yaml, synthetic): realistic Vietnamese reports
with personal data, and the public version each must give."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from pakn.text import MASK, fold, mask_personal_data

CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parents[1] / "data" / "redaction.yaml").read_text(encoding="utf-8")
)


def test_the_set_is_large_enough_and_says_it_is_synthetic() -> None:
    assert len(CASES) >= 40
    header = (Path(__file__).parents[1] / "data" / "redaction.yaml").read_text().splitlines()[:3]
    assert any("SYNTHETIC" in line for line in header)


@pytest.mark.parametrize("item", CASES, ids=[c["id"] for c in CASES])
def test_masked_as_expected(item: dict[str, Any]) -> None:
    submitter = item["submitter"]
    masked = mask_personal_data(
        item["text"],
        [submitter["name"]],
        organizations=[submitter.get("organization") or ""],
        addresses=[submitter.get("address") or ""],
    )
    assert masked == item["masked"]


@pytest.mark.parametrize("item", CASES, ids=[c["id"] for c in CASES])
def test_no_full_name_of_the_submitter_survives(item: dict[str, Any]) -> None:
    assert fold(item["submitter"]["name"]) not in fold(item["masked"])
    assert MASK in item["masked"] or item["masked"] == item["text"]


def test_masking_is_idempotent() -> None:
    for item in CASES:
        name = item["submitter"]["name"]
        assert mask_personal_data(item["masked"], [name]) == item["masked"]
