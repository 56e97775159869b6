"""A citizen in headless Chromium: a mistake, the form again with the input kept, a code."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import FilePayload, Page, expect

from pakn.bus import SUBMISSIONS_QUEUE
from pakn.ids import is_valid_tracking_code
from pakn.schema import Submission
from tests.fixtures.broker import QueueInspector
from tests.fixtures.browser import blocking_violations
from tests.pakn_web.conftest import WebClient, jpeg

pytestmark = pytest.mark.browser

UNACCENTED = (
    "Den duong truoc so nha 120 Tran Phu khong sang may dem nay, buoi toi rat toi va nguy hiem"
)
ACCENTED = (
    "Đèn đường trước số nhà 120 Trần Phú không sáng mấy đêm nay, buổi tối rất tối và nguy hiểm."
)


async def test_a_citizen_fixes_a_mistake_and_gets_a_tracking_code(
    web: WebClient, page: Page, amqp_queues: QueueInspector
) -> None:
    await page.goto(str(web.make_url("/")))
    await expect(page.get_by_role("heading", name="Gửi phản ánh, kiến nghị")).to_be_visible()
    await expect(page.get_by_role("link", name="Gọi 114")).to_have_attribute("href", "tel:114")

    await page.get_by_role("textbox", name="Nội dung", exact=True).fill(UNACCENTED)
    await page.get_by_label("Thời gian xảy ra").fill("27/11/2026 19:30")
    await page.get_by_label("Địa điểm").fill("120 Trần Phú")
    await page.get_by_label("Xã, phường").select_option("Phường Nha Trang")
    await page.get_by_label("Họ và tên").fill("Phạm Minh Tuấn")
    await page.get_by_label("Số điện thoại").fill("0935 246 810")
    await page.get_by_label("Tôi đồng ý").check()
    await page.get_by_label("Hình ảnh, tài liệu").set_input_files(
        files=FilePayload(name="den-tat.jpg", mimeType="image/jpeg", buffer=jpeg())
    )
    await page.get_by_role("button", name="Gửi phản ánh").click()

    # The form comes back with what was typed and the mistake explained, nothing sent.
    summary = page.get_by_role("alert").filter(has_text="Vui lòng sửa 1 mục")
    await expect(summary).to_be_visible()
    await expect(summary).to_contain_text("tiếng Việt có dấu")
    content = page.get_by_role("textbox", name="Nội dung", exact=True)
    await expect(content).to_have_value(UNACCENTED)
    await expect(content).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_label("Họ và tên")).to_have_value("Phạm Minh Tuấn")
    await expect(page.get_by_label("Số điện thoại")).to_have_value("0935 246 810")
    await expect(page.get_by_label("Tôi đồng ý")).to_be_checked()
    # The photo is kept: browsers cannot refill a file input, so the page holds it.
    await expect(page.get_by_label("den-tat.jpg")).to_be_checked()
    assert await amqp_queues.depth(SUBMISSIONS_QUEUE) == 0

    # The error summary links to the field.
    await summary.get_by_role("link").first.click()
    await expect(content).to_be_focused()

    await content.fill(ACCENTED)
    await page.get_by_role("button", name="Gửi phản ánh").click()

    await expect(page.get_by_role("heading", name="Đã tiếp nhận")).to_be_visible()
    shown = (await page.locator(".tracking-code").inner_text()).strip()
    assert re.fullmatch(r"\d{3} \d{3} \d{4}", shown)
    code = shown.replace(" ", "")
    assert is_valid_tracking_code(code)
    submission = Submission.model_validate_json((await amqp_queues.get_one(SUBMISSIONS_QUEUE)).body)
    assert submission.tracking_code == code
    assert submission.content == ACCENTED
    assert submission.submitter.phone == "+84935246810"
    assert [a.filename for a in submission.attachments] == ["den-tat.jpg"]
    assert submission.location.commune == "Phường Nha Trang"

    # Refreshing the confirmation (or going back) does not send it again.
    await page.reload()
    assert await amqp_queues.depth(SUBMISSIONS_QUEUE) == 0

    await page.get_by_role("link", name=re.compile("Tra cứu hồ sơ \\d")).click()
    await expect(page.get_by_text("Đã tiếp nhận, đang phân loại")).to_be_visible()


@pytest.mark.parametrize("path", ["/", "/tra-cuu", "/tra-cuu?ma=1234567890", "/ket-qua"])
async def test_pages_have_no_serious_accessibility_violation(
    web: WebClient, page: Page, path: str
) -> None:
    await page.goto(str(web.make_url(path)))
    assert await blocking_violations(page) == []


async def test_the_form_with_errors_is_accessible_too(web: WebClient, page: Page) -> None:
    await page.goto(str(web.make_url("/")))
    await page.get_by_role("button", name="Gửi phản ánh").click()
    await expect(page.get_by_role("alert").first).to_be_visible()
    assert await blocking_violations(page) == []
