"""The report on the router: the page, its downloads and the JSON, for the Department and for
one agency, over the generated cases of tests/pakn/reporting_cases.py."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import openpyxl
import pytest

from pakn.auth.users import Role
from pakn.auth.web import undeclared_routes
from pakn.scope import Scope
from pakn.store import Store
from pakn_router.reports.pages import BadQuery, parse_asked
from tests.pakn.reporting_cases import EXPECTED, LIGHTS, ROADS, insert_cases
from tests.pakn_router.conftest import RouterClient
from tests.pakn_router.test_monitor_api import get_json, sign_in

PERIOD = "tu=2026-02-09&den=2026-03-06"
AGENCIES = {LIGHTS, ROADS, "ubnd-tinh"}


def test_the_period_and_scope_of_a_request() -> None:
    today = date(2026, 3, 10)
    asked = parse_asked({}, today=today, scope=Scope(), agencies=AGENCIES)
    assert (asked.period.start, asked.period.end) == (date(2026, 3, 1), date(2026, 3, 31))
    asked = parse_asked(
        {"tu": "09/02/2026", "den": "2026-03-06", "co-quan": ROADS},
        today=today,
        scope=Scope(),
        agencies=AGENCIES,
    )
    assert asked.period.start == date(2026, 2, 9) and asked.scope == Scope(ROADS)
    # An agency's staff stay within their agency.
    held = parse_asked({}, today=today, scope=Scope(LIGHTS), agencies=AGENCIES)
    assert held.scope == Scope(LIGHTS)
    with pytest.raises(BadQuery, match="cơ quan mình"):
        parse_asked({"co-quan": ROADS}, today=today, scope=Scope(LIGHTS), agencies=AGENCIES)
    with pytest.raises(BadQuery, match="Ngày không hợp lệ"):
        parse_asked({"tu": "31/02/2026"}, today=today, scope=Scope(), agencies=AGENCIES)
    with pytest.raises(BadQuery, match="Kỳ báo cáo"):
        parse_asked(
            {"tu": "2026-03-06", "den": "2026-02-09"}, today=today, scope=Scope(), agencies=AGENCIES
        )


def test_every_report_route_declares_who_may_use_it(router: RouterClient) -> None:
    assert undeclared_routes(router.app) == []


def _figure(html: str, figure: str) -> str:
    found = re.search(rf'data-figure="{figure}">([^<]*)<', html)
    assert found is not None, figure
    return found.group(1)


async def test_the_department_page_shows_every_figure_and_four_charts(
    router: RouterClient, store: Store
) -> None:
    await insert_cases(store)
    operator = await sign_in(router, store, "so.tt", Role.OPERATOR)
    response = await router.get(f"/bao-cao?{PERIOD}", cookies=operator.cookies)
    assert response.status == 200
    html = await response.text()
    assert "Từ ngày 09/02/2026 đến ngày 06/03/2026" in html
    for figure, value in EXPECTED["totals"].items():
        if figure not in ("rated", "solved"):
            assert _figure(html, figure) == str(value), figure
    assert _figure(html, "on_time_rate") == "60,0 %"
    assert _figure(html, "median") == "1"
    assert html.count("<svg") == 4
    assert "<script" not in html
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    # Nothing personal on the page.
    assert "Nguyễn" not in html and "0905123456" not in html


async def test_an_agency_sees_its_own_report_only(router: RouterClient, store: Store) -> None:
    await insert_cases(store)
    staff = await sign_in(router, store, "sxd.cb", Role.AGENCY_STAFF, agency=ROADS)
    response = await router.get(f"/bao-cao?{PERIOD}", cookies=staff.cookies)
    html = await response.text()
    assert _figure(html, "received") == "5"
    assert 'name="co-quan"' not in html  # no agency to choose
    other = await router.get(f"/bao-cao?{PERIOD}&co-quan={LIGHTS}", cookies=staff.cookies)
    assert other.status == 400
    body = await get_json(router, "/api/v1/report?from=2026-02-09&to=2026-03-06", staff)
    assert body["received"] == 5 and body["agency"] == ROADS
    listed = await router.get(
        f"/bao-cao/ho-so.csv?{PERIOD}&chi-tieu=received", cookies=staff.cookies
    )
    rows = list(csv.reader(io.StringIO((await listed.text()).lstrip("\ufeff"))))
    assert len(rows) == 1 + 5


async def test_the_downloads_hold_the_report_and_the_cases_behind_each_number(
    router: RouterClient, store: Store
) -> None:
    codes = await insert_cases(store)
    operator = await sign_in(router, store, "so.tt", Role.OPERATOR)
    summary = await router.get(f"/bao-cao/tong-hop.xlsx?{PERIOD}", cookies=operator.cookies)
    assert summary.status == 200
    assert summary.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in summary.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(await summary.read()), read_only=True)
    by_agency = {row[0]: row for row in book["Theo cơ quan"].iter_rows(min_row=2, values_only=True)}
    assert by_agency[ROADS][2:8] == (4, 3, 1, 2, 1, 1)
    assert by_agency[LIGHTS][2:8] == (3, 2, 2, 0, 1, 0)

    late = await router.get(
        f"/bao-cao/ho-so.xlsx?{PERIOD}&chi-tieu=late&nhom=agency&ma={ROADS}",
        cookies=operator.cookies,
    )
    sheet = openpyxl.load_workbook(io.BytesIO(await late.read()), read_only=True)["Danh sách hồ sơ"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Mã hồ sơ"
    assert [row[0] for row in rows[1:]] == [codes["c2"], codes["c3"]]
    header = list(rows[0])
    assert rows[1][header.index("Số ngày làm việc")] == 6.31
    assert rows[1][header.index("Tiếp nhận lúc")] == "2026-02-12 09:00"
    everything = " ".join(str(cell) for row in rows for cell in row)
    assert "Nguyễn" not in everything and "0905123456" not in everything

    csv_summary = await router.get(f"/bao-cao/tong-hop.csv?{PERIOD}", cookies=operator.cookies)
    lines = list(csv.reader(io.StringIO((await csv_summary.text()).lstrip("\ufeff"))))
    assert lines[-1][1:3] == ["Tổng cộng", "10"]
    bad = await router.get(f"/bao-cao/ho-so.csv?{PERIOD}&chi-tieu=all", cookies=operator.cookies)
    assert bad.status == 400
    assert "không hợp lệ" in await bad.text()


async def test_the_json_is_what_pakn_report_prints(router: RouterClient, store: Store) -> None:
    await insert_cases(store)
    operator = await sign_in(router, store, "so.tt", Role.OPERATOR)
    body = await get_json(router, "/api/v1/report?from=2026-02-09&to=2026-03-06", operator)
    assert body["received"] == 10 and body["by_channel"] == EXPECTED["by_channel"]
    assert body["on_time_rate"] == pytest.approx(0.6)
    scoped = await get_json(
        router, f"/api/v1/report?from=2026-02-09&to=2026-03-06&agency={LIGHTS}", operator
    )
    assert scoped["agency"] == LIGHTS and scoped["received"] == 3
