"""An agent in headless Chromium: logs in, logs a call with the keyboard alone, reads the code
back; and the console's pages have no serious or critical axe-core violation."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect

from pakn.auth.users import Role
from pakn.ids import format_tracking_code
from pakn.store import Store
from tests.fixtures.browser import blocking_violations
from tests.pakn.auth.conftest import PASSWORD, add_user
from tests.pakn_hotline.conftest import Client
from tests.pakn_router.conftest import wait_for_case

pytestmark = pytest.mark.browser


@pytest.fixture
async def desk(browser: Browser) -> AsyncIterator[Page]:
    """An agent's desktop browser."""
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh"
    )
    page = await context.new_page()
    yield page
    await context.close()


async def log_in(page: Page, hotline: Client) -> None:
    await page.goto(str(hotline.make_url("/")))
    await expect(page.get_by_role("heading", name="Đăng nhập dành cho cán bộ")).to_be_visible()
    await page.get_by_label("Tên đăng nhập").fill("tdv01")
    await page.get_by_label("Mật khẩu").fill(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="Tổng đài 1900 1023 — cuộc gọi")).to_be_visible()


async def test_an_agent_logs_a_call_with_the_keyboard_and_reads_the_code_back(
    hotline: Client, router: Client, store: Store, desk: Page
) -> None:
    await add_user(store, "tdv01", Role.HOTLINE_AGENT, display_name="Nguyễn Thị Lan")
    await log_in(desk, hotline)
    keyboard = desk.keyboard

    # The caller's number has the focus: type it, Enter.
    await expect(desk.get_by_label("Số điện thoại người gọi")).to_be_focused()
    await keyboard.type("0905 123 456")
    await keyboard.press("Enter")
    await expect(desk.get_by_role("heading", name="Cuộc gọi từ 0905 123 456")).to_be_visible()

    await expect(desk.get_by_label("Họ tên")).to_be_focused()
    await keyboard.type("Trần Văn Bình")
    await keyboard.press("Tab")  # the phone, filled from the call
    await expect(desk.get_by_label("Số điện thoại để báo lại")).to_have_value("0905 123 456")
    await keyboard.press("Tab")
    await keyboard.type(
        "Ống nước bị vỡ trước nhà số 45 Trần Phú, nước chảy lênh láng ra đường, cả khu phố "
        "mất nước."
    )
    await keyboard.press("Tab")
    await keyboard.type("Phường Nha Trang")
    await keyboard.press("Tab")
    await keyboard.type("45 Trần Phú")
    await keyboard.press("Tab")
    await keyboard.type("tối qua")  # behind now at any hour the suite runs
    await keyboard.press("Tab")  # confidential: no
    await keyboard.press("Tab")
    await expect(desk.get_by_label("Người gọi đồng ý cho xử lý thông tin cá nhân")).to_be_focused()
    await keyboard.press("Space")
    await keyboard.press("Control+Enter")

    await expect(desk.get_by_role("heading", name="Đọc mã hồ sơ cho người gọi")).to_be_visible()
    shown = (await desk.locator("#ma-ho-so").inner_text()).strip()
    code = shown.replace(" ", "")
    assert len(code) == 10 and shown == f"{code[:3]} {code[3:6]} {code[6:9]} {code[9]}"
    await expect(desk.get_by_role("list", name="Đọc theo từng nhóm")).to_contain_text(
        f"{code[:3]} —"
    )
    case = await wait_for_case(store, {"tracking_code": code})
    assert case["channel"] == "hotline" and case["submitter"]["name"] == "Trần Văn Bình"
    assert format_tracking_code(code).replace(" ", "") == code


async def test_the_console_has_no_serious_accessibility_violation(
    hotline: Client, store: Store, desk: Page
) -> None:
    await add_user(store, "tdv01", Role.HOTLINE_AGENT)
    await log_in(desk, hotline)
    assert await blocking_violations(desk) == [], "home"
    await desk.get_by_label("Số điện thoại người gọi").fill("0905123456")
    await desk.get_by_role("button", name="Bắt đầu ghi cuộc gọi").click()
    await expect(desk.get_by_role("heading", name="Cuộc gọi từ 0905123456")).to_be_visible()
    assert await blocking_violations(desk) == [], "call form"
    await desk.get_by_role("button", name="Gửi phản ánh").click()
    await expect(desk.get_by_role("alert")).to_be_visible()
    assert await blocking_violations(desk) == [], "call form with errors"
    await desk.goto(str(hotline.make_url("/goi-lai")))
    await expect(desk.get_by_role("heading", name="Gọi lại cho người dân")).to_be_visible()
    assert await blocking_violations(desk) == [], "call-back list"
