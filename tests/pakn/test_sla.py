"""SLA policy: which rule gives a case its working days (DESIGN.md §7, sla.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from pakn.province import ConfigError
from pakn.schema import URBAN_INFRASTRUCTURE_FIELDS
from pakn.sla import SlaPolicy, field_of

SHIPPED_CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "config" / "khanh-hoa"
SHIPPED = SlaPolicy.from_config_dir(SHIPPED_CONFIG)


def rule(days: float, verified: bool = True) -> dict[str, Any]:
    return {"working_days": days, "source": "test", "verified": verified}


def policy(**extra: Any) -> SlaPolicy:
    return SlaPolicy.model_validate({"default": rule(7, False), "incident": rule(1), **extra})


# --- the shipped Khánh Hòa file -----------------------------------------------------------


def test_shipped_default_is_marked_as_inferred_from_hue() -> None:
    assert SHIPPED.default.working_days == 7
    assert SHIPPED.default.verified is False
    assert "inferred from Huế" in SHIPPED.default.source


def test_shipped_incident_rule_is_one_verified_working_day() -> None:
    assert SHIPPED.incident.working_days == 1
    assert SHIPPED.incident.verified is True
    assert "000_fc35aea72dff7144" in SHIPPED.incident.source


@pytest.mark.parametrize(
    ("code", "days"),
    [
        ("cap-thoat-nuoc.mat-nuoc", 1),
        ("cap-thoat-nuoc.hoa-don", 7),
        ("chieu-sang.den-hong", 1),
        ("cay-xanh.cay-nga-do", 1),
        ("vien-thong.cap-dut-vong", 1),
        ("vien-thong.chat-luong-dich-vu", 7),
    ],
)
def test_shipped_categories(code: str, days: float) -> None:
    assert SHIPPED.working_days_for_category(code) == days


def test_shipped_incident_categories_are_all_urban_infrastructure() -> None:
    incidents = [code for code, entry in SHIPPED.categories.items() if entry.incident]
    assert incidents
    assert {field_of(code) for code in incidents} == URBAN_INFRASTRUCTURE_FIELDS


def test_every_shipped_number_says_where_it_comes_from() -> None:
    deadlines = [SHIPPED.default, SHIPPED.incident, *SHIPPED.fields.values()]
    deadlines += [o for e in SHIPPED.categories.values() if (o := e.override()) is not None]
    for deadline in deadlines:
        assert deadline.source
        # An unverified number must admit it is borrowed.
        assert deadline.verified or "inferred" in deadline.source


# --- the rule ---------------------------------------------------------------------------------


def test_incident_rule_applies_only_to_urban_infrastructure_fields() -> None:
    assert SHIPPED.working_days_for("cap-thoat-nuoc", None, incident=True) == 1
    assert SHIPPED.working_days_for("cap-thoat-nuoc", None, incident=False) == 7
    # A pothole may be urgent, but the 1-day rule covers only the four urban fields.
    assert SHIPPED.working_days_for("giao-thong", None, incident=True) == 7


def test_unlisted_category_follows_its_field_and_the_callers_incident_flag() -> None:
    assert SHIPPED.working_days_for("chieu-sang", "chieu-sang.den-nhap-nhay", incident=True) == 1
    assert SHIPPED.working_days_for("chieu-sang", "chieu-sang.den-nhap-nhay") == 7


def test_listed_incident_category_is_an_incident_whatever_the_caller_says() -> None:
    assert SHIPPED.working_days_for("cay-xanh", "cay-xanh.cay-nga-do", incident=False) == 1


def test_field_default_applies_before_the_global_default() -> None:
    sla = policy(fields={"thu-tuc-hanh-chinh": rule(5)})
    assert sla.working_days_for("thu-tuc-hanh-chinh") == 5
    assert sla.working_days_for("giao-duc") == 7


def test_category_override_beats_incident_and_field() -> None:
    sla = policy(
        fields={"cap-thoat-nuoc": rule(3)},
        categories={
            "cap-thoat-nuoc.vo-ong-lon": {"incident": True, **rule(0.5)},
            "cap-thoat-nuoc.mat-nuoc": {"incident": True},
            "cap-thoat-nuoc.hoa-don": {"incident": False},
        },
    )
    assert sla.working_days_for_category("cap-thoat-nuoc.vo-ong-lon") == 0.5
    assert sla.working_days_for_category("cap-thoat-nuoc.mat-nuoc") == 1
    assert sla.working_days_for_category("cap-thoat-nuoc.hoa-don") == 3
    deadline = sla.deadline_for("cap-thoat-nuoc", "cap-thoat-nuoc.vo-ong-lon")
    assert (deadline.working_days, deadline.source) == (0.5, "test")


def test_unknown_category_code_is_a_key_error_naming_it() -> None:
    with pytest.raises(KeyError, match=r"cap-thoat-nuoc\.khong-co.*sla\.yaml"):
        SHIPPED.working_days_for_category("cap-thoat-nuoc.khong-co")


def test_category_must_belong_to_the_field() -> None:
    with pytest.raises(ValueError, match="does not belong"):
        SHIPPED.working_days_for("giao-thong", "chieu-sang.den-hong")


def test_unknown_field_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown field"):
        SHIPPED.working_days_for("thoi-tiet")


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("chieu-sang.den-hong", True),
        ("khac.loai-2", True),
        ("chieu-sang", False),
        ("Chieu-sang.den-hong", False),
        ("chieu-sang.đèn-hỏng", False),
        ("thoi-tiet.mua-to", False),
        ("chieu-sang.den-hong.", False),
    ],
)
def test_category_codes_are_field_dot_slug(code: str, valid: bool) -> None:
    if valid:
        assert field_of(code) == code.split(".")[0]
    else:
        with pytest.raises(ValueError, match="category"):
            field_of(code)


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"fields": {"thoi-tiet": rule(3)}}, "unknown field"),
        ({"categories": {"chieu-sang": {"incident": True}}}, "not <field>.<slug>"),
        ({"categories": {"chieu-sang.x": {"working_days": 2}}}, "source"),
        ({"categories": {"chieu-sang.x": {"source": "s", "verified": True}}}, "override"),
        ({"fields": {"y-te": rule(0)}}, "greater than 0"),
        ({"fields": {"y-te": {"working_days": 3}}}, "Field required"),
        ({"sla": 3}, "Extra inputs"),
    ],
)
def test_invalid_policies_are_rejected(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        policy(**extra)


def test_invalid_sla_yaml_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "sla.yaml").write_text(
        "default: {working_days: 7, source: s, verified: false}\n"
        "incident: {working_days: 1, source: s, verified: true}\n"
        "categories:\n"
        "  chieu-sang.den-hong:\n"
        "    incident: yes please\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        SlaPolicy.from_config_dir(tmp_path)
    assert "sla.yaml:5" in str(caught.value)


def test_missing_sla_yaml_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="missing"):
        SlaPolicy.from_config_dir(tmp_path)
