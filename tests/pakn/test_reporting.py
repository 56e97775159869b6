"""The report's figures, computed by the store, on generated cases with known answers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from pakn.reporting import (
    Period,
    build_report,
    case_list,
    percentile,
    trend_buckets,
)
from pakn.scope import Scope
from pakn.store import Store
from tests.pakn.reporting_cases import (
    CASES,
    EXPECTED,
    LIGHTS,
    PERIOD,
    ROADS,
    insert_cases,
)

CONFIG = Path(__file__).parents[2] / "deploy" / "config" / "khanh-hoa"


# --- pure -------------------------------------------------------------------------------


def test_a_period_is_days_in_province_time_with_the_last_day_included() -> None:
    start, end = Period(date(2026, 2, 1), date(2026, 2, 28)).bounds()
    assert start.isoformat() == "2026-01-31T17:00:00+00:00"
    assert end.isoformat() == "2026-02-28T17:00:00+00:00"
    assert Period.month(2026, 2) == Period(date(2026, 2, 1), date(2026, 2, 28))
    assert Period.quarter(2026, 1) == Period(date(2026, 1, 1), date(2026, 3, 31))
    assert Period.week_of(date(2026, 2, 18)) == Period(date(2026, 2, 16), date(2026, 2, 22))
    assert Period.last_twelve_months(date(2026, 3, 10)).start == date(2025, 3, 11)
    with pytest.raises(ValueError, match="ends before"):
        Period(date(2026, 2, 2), date(2026, 2, 1))


def test_the_trend_steps_by_day_week_or_month_from_the_first_day() -> None:
    step, starts = trend_buckets(PERIOD)
    assert step == "day" and len(starts) == 26
    step, starts = trend_buckets(Period.quarter(2026, 1))  # starts on a Thursday
    assert step == "week"
    assert starts[:3] == [date(2026, 1, 1), date(2026, 1, 5), date(2026, 1, 12)]
    step, starts = trend_buckets(Period(date(2025, 3, 11), date(2026, 3, 10)))
    assert step == "month"
    assert starts[:2] == [date(2025, 3, 11), date(2025, 4, 1)] and len(starts) == 13


def test_percentiles_interpolate_between_ranks() -> None:
    assert percentile([], 0.5) is None
    assert percentile([3.0], 0.9) == 3.0
    assert percentile([1.0, 2.0, 4.0, 8.0], 0.5) == 3.0
    assert percentile([0.0, 10.0], 0.9) == pytest.approx(9.0)


# --- in the store -----------------------------------------------------------------------


async def test_every_figure_of_a_period_across_tet_and_a_month_end(store: Store) -> None:
    await insert_cases(store)
    report = await build_report(store, PERIOD)
    assert report.totals == EXPECTED["totals"]
    assert report.on_time_rate == 3 / 5
    assert report.published_share == 3 / 5
    assert report.by_channel == EXPECTED["by_channel"]
    assert list(report.by_channel) == ["web", "app", "email", "chatbot", "hotline"]
    assert {row.key: row.received for row in report.by_field} == EXPECTED["by_field"]
    assert report.by_commune == EXPECTED["by_commune"]
    assert report.handling.resolved == 5
    assert report.handling.median == pytest.approx(EXPECTED["handling"]["median"])
    assert report.handling.p90 == pytest.approx(EXPECTED["handling"]["p90"])
    rows = {row.key: row for row in report.by_agency}
    assert set(rows) == set(EXPECTED["by_agency"])
    for agency, expected in EXPECTED["by_agency"].items():
        row = rows[agency]
        for name, value in expected.items():
            if name in ("median", "p90"):
                assert getattr(row.handling, name) == pytest.approx(value), (agency, name)
            else:
                assert getattr(row, name) == value, (agency, name)
    assert report.trend_step == "day"
    assert {p.start: p.received for p in report.trend if p.received} == EXPECTED["trend"]
    assert sum(p.received for p in report.trend) == 10
    assert report.ratings.count == EXPECTED["ratings"]["count"]
    assert report.ratings.average == pytest.approx(EXPECTED["ratings"]["average"])
    assert report.ratings.by_stars == EXPECTED["ratings"]["by_stars"]
    assert report.ratings.solved == 2
    as_json = report.as_json()
    assert list(as_json)[:7] == [
        "from",
        "to",
        "received",
        "by_channel",
        "by_field",
        "by_agency",
        "on_time_rate",
    ]
    assert as_json["from"] == "2026-02-09" and as_json["to"] == "2026-03-06"


async def test_an_agency_sees_its_own_cases_lead_or_co(store: Store) -> None:
    await insert_cases(store)
    report = await build_report(store, PERIOD, scope=Scope(ROADS))
    # Its four as lead and c5, which it co-handles.
    assert report.totals["received"] == 5
    assert report.totals["resolved"] == 4
    assert report.totals["on_time"] == 2
    assert report.agency == ROADS
    assert report.by_channel == {"app": 2, "email": 1, "hotline": 1, "web": 1}
    assert [row.key for row in report.by_agency] == [ROADS, LIGHTS]
    nobody = await build_report(store, PERIOD, scope=Scope("\x00"))
    assert nobody.totals["received"] == 0 and nobody.by_agency == []


async def test_each_case_list_adds_up_to_its_number_and_carries_nothing_personal(
    store: Store,
) -> None:
    codes = await insert_cases(store)
    report = await build_report(store, PERIOD)
    for figure, number in report.totals.items():
        rows = await case_list(store, PERIOD, figure)
        assert len(rows) == number, figure
    late = await case_list(store, PERIOD, "late")
    assert [row["tracking_code"] for row in late] == [codes["c2"], codes["c3"]]
    assert late[0]["rep_days"] == pytest.approx(6.3125)
    roads_open = await case_list(store, PERIOD, "open", dimension="agency", key=ROADS)
    assert [row["tracking_code"] for row in roads_open] == [codes["c4"]]
    untriaged = await case_list(store, PERIOD, "received", dimension="field", key="none")
    assert len(untriaged) == 3
    for row in late + untriaged:
        text = repr(row)
        assert "Nguyễn" not in text and "0905123456" not in text and "example.vn" not in text
        assert "submitter" not in row and "content" not in row
    with pytest.raises(ValueError, match="unknown figure"):
        await case_list(store, PERIOD, "everything")


async def test_the_published_figures_are_the_published_cases_alone(store: Store) -> None:
    await insert_cases(store)
    report = await build_report(store, PERIOD, published_only=True)
    assert report.totals["received"] == report.totals["published"] == 3
    assert CASES["c1"]["status"] == "published"
