"""The report page in headless Chromium: its four charts render without JavaScript, it prints
as an A4 page without the controls, and axe finds no serious or critical violation."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from pakn.auth.users import Role
from pakn.auth.web import SESSION_COOKIE
from pakn.store import Store
from tests.fixtures.browser import blocking_violations
from tests.pakn.reporting_cases import ROADS, insert_cases
from tests.pakn_router.conftest import RouterClient
from tests.pakn_router.test_monitor_api import sign_in

pytestmark = pytest.mark.browser

PERIOD = "tu=2026-02-09&den=2026-03-06"


async def test_the_report_page_draws_its_charts_and_prints_on_a4(
    router: RouterClient, store: Store, browser: Browser
) -> None:
    await insert_cases(store)
    operator = await sign_in(router, store, "so.tt", Role.OPERATOR)
    context = await browser.new_context(
        java_script_enabled=False, locale="vi-VN", viewport={"width": 1100, "height": 900}
    )
    await context.add_cookies(
        [{"name": SESSION_COOKIE, "value": operator.token, "url": str(router.make_url("/"))}]
    )
    page = await context.new_page()
    try:
        response = await page.goto(str(router.make_url(f"/bao-cao?{PERIOD}")))
        assert response is not None and response.status == 200
        await expect(
            page.get_by_role("heading", name="Báo cáo tiếp nhận và xử lý phản ánh, kiến nghị")
        ).to_be_visible()
        charts = page.locator("svg.chart")
        await expect(charts).to_have_count(4)
        for name in (
            "Số phản ánh tiếp nhận theo ngày",
            "Theo kênh tiếp nhận",
            "Theo lĩnh vực",
            "Tỉ lệ giải quyết đúng hạn theo cơ quan",
        ):
            chart = page.get_by_role("img", name=name)
            await expect(chart).to_be_visible()
            box = await chart.bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 30, name
        # Ten days with cases: ten bars of the trend have a height.
        heights = await page.locator("#bd-xu-huong > rect").evaluate_all(
            "rects => rects.filter(r => parseFloat(r.getAttribute('height')) > 0).length"
        )
        assert heights == 10
        await expect(page.locator("#bd-dung-han")).to_contain_text("Sở Xây dựng")

        # The period form works without JavaScript.
        await page.get_by_label("Cơ quan", exact=True).select_option(ROADS)
        await page.get_by_role("button", name="Xem báo cáo").click()
        await expect(page.get_by_text("Cơ quan: Sở Xây dựng tỉnh Khánh Hòa")).to_be_visible()
        await expect(page.locator('td[data-figure="received"]').first).to_have_text("5")

        await page.emulate_media(media="print")
        await expect(page.get_by_role("button", name="Xem báo cáo")).to_be_hidden()
        await expect(charts.first).to_be_visible()
        pdf = await page.pdf(format="A4", prefer_css_page_size=True)
        assert pdf.startswith(b"%PDF")
    finally:
        await context.close()


async def test_no_serious_accessibility_violation_on_the_report(
    router: RouterClient, store: Store, page: Page
) -> None:
    await insert_cases(store)
    operator = await sign_in(router, store, "so.tt", Role.OPERATOR)
    await page.context.add_cookies(
        [{"name": SESSION_COOKIE, "value": operator.token, "url": str(router.make_url("/"))}]
    )
    found = {}
    for url in (
        router.make_url(f"/bao-cao?{PERIOD}"),
        router.make_url("/bao-cao?tu=2025-01-01&den=2025-12-31"),  # an empty year, by month
    ):
        response = await page.goto(str(url))
        assert response is not None and response.status == 200, url
        violations = await blocking_violations(page)
        if violations:
            found[str(url)] = [(v["id"], v["help"], v["nodes"][:2]) for v in violations]
    assert found == {}
