"""An agency officer and their leader in headless Chromium, without JavaScript: the officer
accepts a case and drafts the answer, the leader approves it, and the citizen sees it on
/tra-cuu and /ket-qua. The new pages pass axe and none scrolls sideways at 375 px."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.web import Application
from playwright.async_api import Browser, BrowserContext, Page, expect

from pakn.auth.users import Role
from pakn.auth.web import SESSION_COOKIE
from pakn.ids import format_tracking_code
from pakn.store import Store
from pakn_router.app import init_app as init_router
from pakn_router.settings import RouterSettings
from tests.fixtures.browser import blocking_violations
from tests.pakn.auth.conftest import PASSWORD, add_user
from tests.pakn_router.conftest import RouterClient, wait_for_case
from tests.pakn_router.test_monitor_api import sign_in
from tests.pakn_web.conftest import WebClient

pytestmark = pytest.mark.browser

REPORT = (
    "Tôi là Lê Văn Phúc, số 0935 246 810. Cây phượng lớn trước trường tiểu học trên đường "
    "Yersin bị gãy nhánh, đè lên vỉa hè, người đi bộ phải xuống lòng đường."
)
ANSWER = "Đội cây xanh đã cắt nhánh gãy và dọn vỉa hè lúc 15 giờ. Cảm ơn anh Phúc đã báo."
PUBLIC_ANSWER = "Đội cây xanh đã cắt nhánh gãy và dọn vỉa hè lúc 15 giờ. Cảm ơn anh *** đã báo."
#: scrollWidth of the page: more than the viewport means it scrolls sideways.
WIDTH = "document.documentElement.scrollWidth"


async def a_case(web: WebClient, store: Store) -> tuple[str, str]:
    response = await web.post(
        "/api/v1/submissions",
        json={
            "title": "Cây gãy nhánh đè vỉa hè",
            "content": REPORT,
            "occurred_at": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
            "location": {"address": "Đường Yersin, phường Nha Trang"},
            "submitter": {"name": "Lê Văn Phúc", "phone": "0935 246 810"},
            "consent": True,
        },
        headers={"X-Client": "app/1.0", "Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status == 202
    code: str = (await response.json())["tracking_code"]
    case = await wait_for_case(store, {"tracking_code": code, "status": "assigned"})
    return code, str(case["lead_agency"])


async def log_in(page: Page, router: RouterClient, username: str, path: str) -> None:
    await page.goto(str(router.make_url(path)))
    await page.get_by_label("Tên đăng nhập").fill(username)
    await page.get_by_label("Mật khẩu").fill(PASSWORD)
    await page.get_by_role("button", name="Đăng nhập").click()


async def without_js(browser: Browser, width: int = 1280) -> BrowserContext:
    return await browser.new_context(
        java_script_enabled=False, locale="vi-VN", viewport={"width": width, "height": 900}
    )


async def test_an_officer_accepts_and_drafts_the_leader_approves_the_citizen_sees_it(
    web: WebClient,
    router_settings: RouterSettings,
    aiohttp_client: Callable[[Application], Awaitable[RouterClient]],
    store: Store,
    browser: Browser,
) -> None:
    router = await aiohttp_client(await init_router(router_settings))
    code, lead = await a_case(web, store)
    shown = format_tracking_code(code)
    await add_user(store, "can.bo", Role.AGENCY_STAFF, lead, display_name="Phạm Thu Trang")
    await add_user(store, "lanh.dao", Role.AGENCY_LEADER, lead, display_name="Đỗ Minh Quân")

    officer = await (await without_js(browser)).new_page()
    await log_in(officer, router, "can.bo", "/co-quan")
    await expect(officer.get_by_role("heading", name="Hồ sơ của cơ quan")).to_be_visible()
    await officer.get_by_role("link", name=f"Hồ sơ {shown}").click()
    await expect(officer.get_by_text(REPORT)).to_be_visible()  # staff see the report whole
    await officer.get_by_role("button", name="Tiếp nhận xử lý").click()
    await expect(officer.get_by_role("status")).to_contain_text(f"Đã tiếp nhận hồ sơ {shown}")
    await officer.get_by_label("Dự thảo kết quả trả lời").fill(ANSWER)
    await officer.get_by_role("button", name="Lưu dự thảo").click()
    await expect(officer.get_by_role("status")).to_contain_text("Đã lưu dự thảo")
    # An officer has no approval button.
    await expect(officer.get_by_role("button", name="Phê duyệt kết quả")).to_have_count(0)
    await officer.context.close()

    leader = await (await without_js(browser)).new_page()
    await log_in(leader, router, "lanh.dao", f"/co-quan/ho-so/{code}")
    # The public version, masked, is there to correct before approving.
    await expect(leader.get_by_label("Kết quả công khai")).to_have_value(PUBLIC_ANSWER)
    await expect(leader.get_by_label("Nội dung công khai")).not_to_have_value(re.compile("0935"))
    await leader.get_by_role("button", name="Phê duyệt kết quả").click()
    await expect(leader.get_by_role("status")).to_contain_text(
        f"Đã phê duyệt kết quả hồ sơ {shown}"
    )
    await expect(leader.get_by_text("Đã công khai kết quả", exact=True).first).to_be_visible()
    await leader.context.close()

    citizen = await (await without_js(browser, 375)).new_page()
    await citizen.goto(str(web.make_url(f"/tra-cuu?ma={code}")))
    await expect(citizen.get_by_role("heading", name="Kết quả xử lý", exact=True)).to_be_visible()
    await expect(citizen.get_by_text(PUBLIC_ANSWER)).to_be_visible()
    await expect(citizen.get_by_role("heading", name="Đánh giá kết quả xử lý")).to_be_visible()
    assert await citizen.evaluate(WIDTH) <= 375
    await citizen.goto(str(web.make_url("/ket-qua?q=cay phuong gay nhanh")))
    await expect(citizen.get_by_role("link", name=f"Hồ sơ {shown}")).to_be_visible()
    await expect(citizen.get_by_text("Lê Văn Phúc")).to_have_count(0)
    assert await citizen.evaluate(WIDTH) <= 375
    await citizen.context.close()


async def test_the_new_pages_pass_axe_and_fit_a_phone(
    web: WebClient,
    router_settings: RouterSettings,
    aiohttp_client: Callable[[Application], Awaitable[RouterClient]],
    store: Store,
    browser: Browser,
) -> None:
    router = await aiohttp_client(await init_router(router_settings))
    code, lead = await a_case(web, store)
    staff = await sign_in(router, store, "can.bo", Role.AGENCY_STAFF, lead)
    leader = await sign_in(router, store, "lanh.dao", Role.AGENCY_LEADER, lead)
    base = f"/api/v1/cases/{code}"
    for path in ("accept", "answer"):
        await router.post(
            f"{base}/{path}", json={"text": ANSWER}, cookies=staff.cookies, headers=staff.headers
        )
    found: dict[str, object] = {}
    context = await browser.new_context(viewport={"width": 375, "height": 740}, locale="vi-VN")
    page = await context.new_page()
    try:
        await context.add_cookies(
            [{"name": SESSION_COOKIE, "value": leader.token, "url": str(router.make_url("/"))}]
        )
        for path in ("/co-quan", f"/co-quan/ho-so/{code}"):
            response = await page.goto(str(router.make_url(path)))
            assert response is not None and response.status == 200, path
            if violations := await blocking_violations(page):
                found[path] = [(v["id"], v["help"]) for v in violations]
            assert await page.evaluate(WIDTH) <= 375, path
        await page.get_by_role("button", name="Phê duyệt kết quả").click()
        await wait_for_case(store, {"tracking_code": code, "status": "published"})
        for path in (f"/tra-cuu?ma={code}", "/ket-qua", "/ket-qua?linh-vuc=cay-xanh&trang=1"):
            response = await page.goto(str(web.make_url(path)))
            assert response is not None and response.status == 200, path
            if violations := await blocking_violations(page):
                found[path] = [(v["id"], v["help"]) for v in violations]
            assert await page.evaluate(WIDTH) <= 375, path
    finally:
        await context.close()
    assert found == {}
