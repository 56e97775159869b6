"""The public scoreboard on the web intake: published cases of the last 12 months, the same
figures as the Department's report."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page

from pakn.reporting import Period, build_report, local_date
from pakn.store import Store
from pakn_web.scoreboard import SCOREBOARD
from tests.fixtures.browser import blocking_violations
from tests.pakn.reporting_cases import LIGHTS, NOW, PERIOD, ROADS, insert_cases
from tests.pakn_web.conftest import WebClient


@pytest.fixture
async def board(web: WebClient, store: Store) -> WebClient:
    # "before" was published too; it is left out so every figure below is worked out by hand
    # from the cases of the report's period (all within the 12 months before NOW).
    await insert_cases(store, leave_out=("before",))
    web.app[SCOREBOARD].clock = lambda: NOW
    return web


async def test_the_scoreboard_counts_published_answers_only(board: WebClient) -> None:
    response = await board.get("/api/v1/thong-ke")
    assert response.status == 200
    body = await response.json()
    assert body["from"] == "2025-03-11" and body["to"] == "2026-03-10"
    agencies = {row["code"]: row for row in body["by_agency"]}
    # LIGHTS: c1 (0.25 days) and c5 (1 day), both on time; ROADS: c3, late, 1.75 days.
    assert agencies[LIGHTS] == {
        "code": LIGHTS,
        "name": agencies[LIGHTS]["name"],
        "received": 2,
        "on_time_rate": 1.0,
        "median_days": 0.625,
    }
    assert agencies[LIGHTS]["name"].startswith("Công ty")
    assert (agencies[ROADS]["received"], agencies[ROADS]["on_time_rate"]) == (1, 0.0)
    assert agencies[ROADS]["median_days"] == 1.75
    fields = {row["code"]: row for row in body["by_field"]}
    assert (fields["chieu-sang"]["received"], fields["chieu-sang"]["on_time_rate"]) == (2, 0.5)
    assert fields["chieu-sang"]["median_days"] == 1.0
    assert (fields["moi-truong"]["received"], fields["moi-truong"]["median_days"]) == (1, 1.0)
    assert set(fields) == {"chieu-sang", "moi-truong"}


async def test_the_scoreboard_says_what_the_report_says(board: WebClient, store: Store) -> None:
    body = await (await board.get("/api/v1/thong-ke")).json()
    year = Period.last_twelve_months(local_date(NOW))
    published = await build_report(store, year, published_only=True)
    for row in published.by_agency:
        shown = next(r for r in body["by_agency"] if r["code"] == row.key)
        assert shown["received"] == row.received
        assert shown["on_time_rate"] == pytest.approx(row.on_time_rate)
        assert shown["median_days"] == pytest.approx(row.handling.median, abs=1e-9)
    # And the Department's report over all cases counts the same published answers.
    everything = await build_report(store, PERIOD)
    for row in everything.by_agency:
        shown = next(r for r in body["by_agency"] if r["code"] == row.key)
        assert shown["received"] == row.published


async def test_the_page_is_vietnamese_and_names_no_one(board: WebClient) -> None:
    response = await board.get("/thong-ke")
    assert response.status == 200
    html = await response.text()
    assert "Thống kê giải quyết phản ánh, kiến nghị" in html
    assert "12 tháng gần nhất: từ 11/03/2025 đến 10/03/2026" in html
    row = re.search(rf'data-code="{ROADS}">(.*?)</tr>', html, re.S)
    assert row is not None
    assert "Sở Xây dựng" in row.group(1) and "0,0 %" in row.group(1) and "1,8" in row.group(1)
    assert "Nguyễn" not in html and "0905123456" not in html
    assert 'href="/thong-ke" aria-current="page"' in html


@pytest.mark.browser
async def test_the_page_has_no_serious_accessibility_violation(
    board: WebClient, page: Page
) -> None:
    response = await page.goto(str(board.make_url("/thong-ke")))
    assert response is not None and response.status == 200
    violations = await blocking_violations(page)
    assert [(v["id"], v["help"], v["nodes"][:2]) for v in violations] == []
