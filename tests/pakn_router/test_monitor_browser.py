"""An operator in headless Chromium: logs in, takes a case from triage (no JavaScript needed),
finds a case from the keyboard; and the monitor's pages pass axe without a serious violation."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Browser, Page, expect

from pakn.auth.users import Role
from pakn.auth.web import SESSION_COOKIE
from pakn.bus import INTAKE_EXCHANGE
from pakn.ids import format_tracking_code
from pakn.schema import Redirect
from pakn.store import Store
from pakn_router.monitor.dead_letters import Delivered, describe, keep
from tests.fixtures.broker import QueueInspector
from tests.fixtures.browser import blocking_violations
from tests.pakn.auth.conftest import PASSWORD, add_user
from tests.pakn_router.conftest import RouterClient
from tests.pakn_router.test_monitor_api import (
    CITY_LIGHTS,
    COMPLAINTS,
    assigned_to,
    case_events,
    insert_case,
    left_in_triage,
    sign_in,
)

pytestmark = pytest.mark.browser

DARK_PARK = "Đèn trong công viên bờ kè sông Cái tắt hết từ tối qua, cây xanh che khuất lối đi."
NOISE = "Tiếng ồn và ánh sáng từ công trình bên cạnh kéo dài tới khuya, đề nghị kiểm tra."


async def test_an_operator_assigns_a_case_from_triage_and_it_leaves_the_queue(
    router: RouterClient, store: Store, browser: Browser, events: QueueInspector
) -> None:
    await add_user(store, "dieu.phoi", Role.OPERATOR, display_name="Trần Thị Hạnh")
    earlier = datetime.now(UTC) - timedelta(hours=5)
    taken = await insert_case(router, store, left_in_triage(), DARK_PARK, received_at=earlier)
    waiting = await insert_case(router, store, left_in_triage(), NOISE)
    taken_code = format_tracking_code(taken.tracking_code)
    # Without JavaScript: every step is a link or a plain form.
    context = await browser.new_context(
        java_script_enabled=False, locale="vi-VN", viewport={"width": 1280, "height": 900}
    )
    page = await context.new_page()
    try:
        await page.goto(str(router.make_url("/phan-loai")))
        await expect(page.get_by_role("heading", name="Đăng nhập dành cho cán bộ")).to_be_visible()
        await page.get_by_label("Tên đăng nhập").fill("dieu.phoi")
        await page.get_by_label("Mật khẩu").fill(PASSWORD)
        await page.get_by_role("button", name="Đăng nhập").click()

        await expect(page.get_by_role("heading", name="Hồ sơ chờ phân loại")).to_be_visible()
        cards = page.locator("li.card")
        await expect(cards).to_have_count(2)
        await expect(cards.first).to_contain_text(taken_code)  # oldest first
        await expect(cards.first).to_contain_text("Chiếu sáng công cộng")  # its candidates

        await page.get_by_role("link", name=f"Mã hồ sơ {taken_code}").click()
        await expect(page.get_by_role("heading", name=f"Hồ sơ {taken_code}")).to_be_visible()
        await expect(page.get_by_text(DARK_PARK)).to_be_visible()
        await page.get_by_label("Lĩnh vực", exact=True).select_option("chieu-sang")
        await page.get_by_label("Cơ quan chủ trì").select_option(CITY_LIGHTS)
        await page.get_by_label("Lý do", exact=True).fill(
            "Đèn công viên do công ty môi trường đô thị quản lý."
        )
        await page.get_by_role("button", name="Giao xử lý").click()

        notice = page.get_by_role("status")
        await expect(notice).to_contain_text(f"Đã giao hồ sơ {taken_code} cho")
        await expect(page.get_by_text("Cán bộ vận hành", exact=True)).to_be_visible()

        await (
            page.get_by_role("navigation", name="Chức năng")
            .get_by_role("link", name="Chờ phân loại")
            .click()
        )
        await expect(cards).to_have_count(1)
        await expect(page.get_by_text(taken_code)).to_have_count(0)
        await expect(cards.first).to_contain_text(format_tracking_code(waiting.tracking_code))
    finally:
        await context.close()
    keys = [key for key, _ in await case_events(events, taken.tracking_code)]
    assert keys == [f"case.assigned.{CITY_LIGHTS}"]


async def test_a_case_is_found_from_the_keyboard(
    router: RouterClient, store: Store, page: Page
) -> None:
    agent = await sign_in(router, store, "dieu.phoi", Role.OPERATOR)
    found = await insert_case(router, store, assigned_to(CITY_LIGHTS), DARK_PARK)
    await page.context.add_cookies(
        [{"name": SESSION_COOKIE, "value": agent.token, "url": str(router.make_url("/"))}]
    )
    await page.goto(str(router.make_url("/")))
    await expect(page.get_by_role("heading", name="Tổng quan điều phối")).to_be_visible()
    await page.keyboard.press("/")
    search = page.get_by_role("searchbox", name="Tìm hồ sơ").first
    await expect(search).to_be_focused()
    await page.keyboard.type(format_tracking_code(found.tracking_code))
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="1 hồ sơ")).to_be_visible()
    await page.get_by_role("link", name=re.compile(found.tracking_code[:3])).first.click()
    await expect(page.get_by_role("heading", name=re.compile("^Hồ sơ "))).to_be_visible()


async def test_the_monitor_pages_have_no_serious_accessibility_violation(
    router: RouterClient, store: Store, page: Page
) -> None:
    agent = await sign_in(router, store, "dieu.phoi", Role.OPERATOR)
    complaint = Redirect(to=COMPLAINTS, reason="Nội dung có tính chất tố cáo.")
    triage = await insert_case(router, store, left_in_triage(suggested_redirect=complaint))
    assigned = await insert_case(
        router, store, assigned_to(CITY_LIGHTS), received_at=datetime.now(UTC) - timedelta(days=9)
    )
    letter = describe(
        Delivered(
            body=b'{"content": 42}',
            headers={
                "x-pakn-error": "invalid submission",
                "x-pakn-stage": "parse",
                "x-pakn-original-exchange": INTAKE_EXCHANGE,
                "x-pakn-original-routing-key": "submission.web",
            },
            message_id="m-1",
        ),
        datetime.now(UTC),
    )
    await keep(store, letter)
    await page.context.add_cookies(
        [{"name": SESSION_COOKIE, "value": agent.token, "url": str(router.make_url("/"))}]
    )
    paths = [
        "/",
        "/phan-loai",
        "/ho-so?q=đèn đường",
        f"/ho-so/{triage.tracking_code}",
        f"/ho-so/{assigned.tracking_code}",
        f"/han-xu-ly?co-quan={CITY_LIGHTS}",
        "/chuyen-qua-lai",
        "/tin-loi",
        f"/tin-loi/{letter['_id']}",
    ]
    found = {}
    for path in paths:
        response = await page.goto(str(router.make_url(path)))
        assert response is not None and response.status == 200, path
        violations = await blocking_violations(page)
        if violations:
            found[path] = [(v["id"], v["help"]) for v in violations]
    assert found == {}
