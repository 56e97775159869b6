"""The operator's dashboard on a phone and at a desk: counters at the top that follow the live
stream, today's flow as charts, paged lists, the triage agency list narrowed by field, phones
in the national format."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Browser, Page, expect

from pakn.auth.users import Role
from pakn.auth.web import SESSION_COOKIE
from pakn.ids import format_tracking_code
from pakn.schema import Submission
from pakn.store import Store
from pakn.territory import load
from pakn_router.monitor import queries
from pakn_router.monitor.charts import bar_chart
from pakn_router.monitor.views import agencies_by_field
from tests.fixtures.browser import blocking_violations
from tests.pakn.auth.conftest import Agent
from tests.pakn_router.conftest import RouterClient, make_submission, wait_for_case
from tests.pakn_router.test_monitor_api import (
    BUILDING,
    CITY_LIGHTS,
    CONFIG_DIR,
    HEALTH,
    LIGHT,
    assigned_to,
    insert_case,
    left_in_triage,
    sign_in,
)

Publish = Callable[[Submission], Awaitable[None]]


async def _open_as(page: Page, router: RouterClient, agent: Agent, path: str) -> None:
    await page.context.add_cookies(
        [{"name": SESSION_COOKIE, "value": agent.token, "url": str(router.make_url("/"))}]
    )
    response = await page.goto(str(router.make_url(path)))
    assert response is not None and response.status == 200, path


async def _no_sideways_scroll(page: Page) -> None:
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{overflow} px of sideways scroll"


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 1280])
async def test_the_dashboard_fits_and_its_counter_follows_a_case_arriving(
    router: RouterClient, store: Store, browser: Browser, publisher: Publish, width: int
) -> None:
    operator = await sign_in(router, store, "dieu.phoi", Role.OPERATOR)
    for _ in range(3):
        await insert_case(router, store, assigned_to(CITY_LIGHTS))
    context = await browser.new_context(
        viewport={"width": width, "height": 800}, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh"
    )
    page = await context.new_page()
    try:
        await _open_as(page, router, operator, "/")
        received = page.locator('[data-count="received_today"]')
        await expect(received).to_have_text("3")
        # The counters are the first thing on the page, above the fold even on a phone.
        box = await page.locator(".counters").bounding_box()
        assert box is not None and box["y"] + box["height"] < 800
        await _no_sideways_scroll(page)
        assert await blocking_violations(page) == []

        # A case arrives through the broker; the router routes it and the stream says so.
        sent = make_submission(LIGHT, received_at=datetime.now(UTC))
        await publisher(sent)
        await wait_for_case(store, {"tracking_code": sent.tracking_code})
        await expect(received).to_have_text("4", timeout=15_000)
        live = page.locator("#truc-tiep-ds")
        await expect(live).to_contain_text(format_tracking_code(sent.tracking_code))
        # The live panel sits right under the counters, not at the bottom of the page.
        panel = await page.locator("#truc-tiep").bounding_box()
        assert panel is not None and panel["y"] < 1200
    finally:
        await context.close()


async def test_the_charts_show_todays_flow_by_channel_and_field(
    router: RouterClient, store: Store
) -> None:
    operator = await sign_in(router, store, "dieu.phoi", Role.OPERATOR)
    await insert_case(router, store, assigned_to(CITY_LIGHTS))
    await insert_case(router, store, assigned_to(CITY_LIGHTS))
    await insert_case(router, store, assigned_to(BUILDING, field="giao-thong"), "Ổ gà lớn.")
    yesterday = datetime.now(UTC) - timedelta(days=2)
    await insert_case(router, store, assigned_to(CITY_LIGHTS), received_at=yesterday)

    overview = await (
        await router.get("/api/v1/overview?counts=1", cookies=operator.cookies)
    ).json()
    assert overview["counts"]["received_today"] == 3
    assert overview["today"]["by_field"] == {"chieu-sang": 2, "giao-thong": 1}
    assert overview["today"]["by_channel"] == {"web": 3}

    page = await (await router.get("/", cookies=operator.cookies)).text()
    assert page.count("<svg") == 2
    assert "Chiếu sáng công cộng: 2; Giao thông, đường sá: 1" in page
    assert "Cổng thông tin: 3" in page


def test_a_chart_names_itself_and_escapes_its_labels() -> None:
    svg = str(bar_chart("c", "Theo kênh", [("<Tổng đài>", 4), ("Web", 2)], "Chưa có"))
    assert 'role="img"' in svg and 'aria-labelledby="c-title c-desc"' in svg
    assert "&lt;Tổng đài&gt;" in svg and "<Tổng đài>" not in svg
    widths = [float(w) for w in re.findall(r'<rect[^>]* width="([0-9.]+)"', svg)]
    assert widths[0] == 2 * widths[1]  # bars are proportional
    assert "Chưa có" in str(bar_chart("e", "Trống", [], "Chưa có"))


async def test_every_list_is_paged(router: RouterClient, store: Store) -> None:
    operator = await sign_in(router, store, "dieu.phoi", Role.OPERATOR)
    for _ in range(queries.PAGE_SIZE + 3):
        await insert_case(router, store, left_in_triage())

    first = await (await router.get("/phan-loai", cookies=operator.cookies)).text()
    assert first.count('<li class="card"') == queries.PAGE_SIZE
    assert f"{queries.PAGE_SIZE + 3} hồ sơ" in first
    assert 'href="/phan-loai?trang=2" rel="next"' in first
    second = await (await router.get("/phan-loai?trang=2", cookies=operator.cookies)).text()
    assert second.count('<li class="card"') == 3
    assert 'href="/phan-loai" rel="prev"' in second and 'rel="next"' not in second

    found = await (
        await router.get("/ho-so?q=đèn&status=triage&trang=2", cookies=operator.cookies)
    ).text()
    assert found.count('<li class="card"') == 3
    assert f"{queries.PAGE_SIZE + 3} hồ sơ" in found
    assert "q=%C4%91%C3%A8n&amp;status=triage" in found  # the filters survive paging

    dashboard = await (await router.get("/", cookies=operator.cookies)).text()
    assert 'href="/?trang=2" rel="next"' in dashboard


def test_the_rules_give_each_field_its_handful_of_agencies() -> None:
    config = load(CONFIG_DIR)
    by_field = agencies_by_field(config)
    assert BUILDING in by_field["giao-thong"]
    assert HEALTH in by_field["y-te"] and HEALTH not in by_field["giao-thong"]
    assert len(by_field["y-te"]) < len(config.agencies) / 2


@pytest.mark.browser
async def test_the_triage_agency_list_follows_the_field(
    router: RouterClient, store: Store, page: Page
) -> None:
    operator = await sign_in(router, store, "dieu.phoi", Role.OPERATOR)
    waiting = await insert_case(router, store, left_in_triage())
    await _open_as(page, router, operator, "/phan-loai")
    code = waiting.tracking_code
    agency = page.locator(f"#cq-{code}")
    relevant = agency.locator("optgroup[data-relevant] option")
    assert await relevant.count() > 0
    health = agency.locator(f'option[value="{HEALTH}"]')
    await expect(health).to_be_hidden()  # not a lighting agency
    await page.locator(f"#lv-{code}").select_option("y-te")
    assert await health.evaluate("o => o.hidden") is False
    lights = agency.locator(f'option[value="{CITY_LIGHTS}"]')
    assert await lights.evaluate("o => o.hidden") is True
    await page.get_by_label("Hiện mọi cơ quan").first.check()
    assert await lights.evaluate("o => o.hidden") is False
    await _no_sideways_scroll(page)


async def test_the_case_page_shows_the_phone_as_people_read_it(
    router: RouterClient, store: Store
) -> None:
    operator = await sign_in(router, store, "dieu.phoi", Role.OPERATOR)
    sent = await insert_case(router, store, assigned_to(CITY_LIGHTS))
    page = await (await router.get(f"/ho-so/{sent.tracking_code}", cookies=operator.cookies)).text()
    assert '<a href="tel:+84905123456">0905 123 456</a>' in page
