"""What a citizen meets after sending, on a 375 px phone and a 1280 px screen: what happens
next at every status, the case's history, who has it and by when, where to go when the
report is a complaint, a friendly page when sending too often, the phone's location."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from pakn.bus import SUBMISSIONS_QUEUE
from pakn.ids import damm_check_digit, format_tracking_code
from pakn.public import public_timeline
from pakn.schema import Submission
from pakn.store import Store
from pakn_web import messages
from pakn_web.app import wait_text
from tests.fixtures.broker import QueueInspector
from tests.fixtures.browser import blocking_violations
from tests.pakn_web.conftest import WebClient, WebClientFactory

NOW = datetime.now(UTC).replace(microsecond=0)
WIDTHS = [375, 1280]


def _code(prefix: str) -> str:
    return prefix + damm_check_digit(prefix)


ASSIGNED = _code("300000001")
TRIAGE = _code("300000002")
REDIRECTED = _code("300000003")
PUBLISHED = _code("300000004")
DUPLICATE = _code("300000005")


def _step(action: str, minutes: int, actor: str = "router", note: str | None = None) -> Any:
    return {"at": NOW - timedelta(minutes=minutes), "actor": actor, "action": action, "note": note}


def _case(code: str, status: str, history: list[Any], **extra: Any) -> dict[str, Any]:
    return {
        "submission_id": f"web:citizen-{code}",
        "tracking_code": code,
        "status": status,
        "channel": "web",
        "field": "giao-thong",
        "category": "giao-thong.o-ga",
        "received_at": NOW - timedelta(hours=3),
        "updated_at": NOW,
        "confidential": False,
        "public_content": "Ổ gà lớn trước số *** đường Lê Thánh Tôn, xe máy dễ ngã.",
        "submitter": {"name": "Lê Thị Hoa", "phone": "+84905123456"},
        "history": history,
        **extra,
    }


@pytest.fixture
async def cases(store: Store) -> None:
    received = _step("received", 180)
    await store.cases.insert_many(
        [
            _case(
                ASSIGNED,
                "assigned",
                [
                    received,
                    _step("triage", 179, note="độ tin cậy thấp"),
                    _step("assigned", 60, actor="an.nguyen", note="Gọi chị Hoa 0905123456"),
                ],
                lead_agency="so-xay-dung",
                due_at=NOW + timedelta(days=2),
            ),
            _case(TRIAGE, "triage", [received, _step("triage", 179)]),
            _case(
                REDIRECTED,
                "redirected",
                [received, _step("redirected", 170)],
                field=None,
                redirect={
                    "to": "tiep-cong-dan-tinh",
                    "reason": "Nội dung là đơn tố cáo cán bộ, gửi Trụ sở Tiếp công dân.",
                },
            ),
            _case(
                PUBLISHED,
                "published",
                [received, _step("assigned", 170), _step("resolved", 30), _step("published", 5)],
                lead_agency="so-xay-dung",
                due_at=NOW - timedelta(hours=1),
                result={"text": "Đã vá ổ gà.", "published_at": NOW, "by": "x"},
            ),
            _case(
                DUPLICATE,
                "duplicate",
                [received, _step("duplicate", 179)],
                duplicate_of=ASSIGNED,
                lead_agency="so-xay-dung",
            ),
        ]
    )


@pytest.fixture(params=WIDTHS, ids=[f"{w}px" for w in WIDTHS])
async def sized(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    context = await browser.new_context(
        viewport={"width": request.param, "height": 800},
        locale="vi-VN",
        timezone_id="Asia/Ho_Chi_Minh",
    )
    page = await context.new_page()
    yield page
    await context.close()


async def _fits_and_is_accessible(page: Page, path: str) -> None:
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{path}: {overflow} px of sideways scroll"
    violations = await blocking_violations(page)
    assert violations == [], (path, [(v["id"], v["help"]) for v in violations])


@pytest.mark.browser
async def test_every_citizen_page_fits_and_passes_axe(
    web: WebClient, cases: None, sized: Page
) -> None:
    paths = [
        "/",
        "/tra-cuu",
        *(f"/tra-cuu?ma={code}" for code in (ASSIGNED, TRIAGE, REDIRECTED, PUBLISHED, DUPLICATE)),
        f"/da-gui/{ASSIGNED}",
        f"/da-gui/{REDIRECTED}",
        "/ket-qua",
    ]
    for path in paths:
        response = await sized.goto(str(web.make_url(path)))
        assert response is not None and response.status == 200, path
        await _fits_and_is_accessible(sized, path)


@pytest.mark.browser
async def test_the_tracking_page_tells_what_happens_next_and_shows_the_history(
    web: WebClient, cases: None, sized: Page
) -> None:
    await sized.goto(str(web.make_url(f"/tra-cuu?ma={format_tracking_code(ASSIGNED)}")))
    await expect(sized.locator(".next-step")).to_have_text(messages.NEXT_STEPS["assigned"])
    steps = sized.locator("ol.timeline li")
    await expect(steps).to_have_count(3)
    await expect(steps.nth(0)).to_contain_text("Tiếp nhận phản ánh")
    await expect(steps.nth(1)).to_contain_text("Chờ cán bộ phân loại")
    await expect(steps.nth(2)).to_contain_text("Giao cơ quan xử lý")
    page_text = await sized.locator("main").inner_text()
    # Who did it and the private note are never shown to the public.
    assert "an.nguyen" not in page_text and "0905123456" not in page_text
    assert "độ tin cậy" not in page_text

    await sized.goto(str(web.make_url(f"/tra-cuu?ma={TRIAGE}")))
    await expect(sized.locator(".next-step")).to_have_text(messages.NEXT_STEPS["triage"])

    await sized.goto(str(web.make_url(f"/tra-cuu?ma={DUPLICATE}")))
    duplicate_link = sized.get_by_role("link", name=format_tracking_code(ASSIGNED))
    await expect(duplicate_link).to_be_visible()


@pytest.mark.browser
async def test_a_redirected_complaint_says_where_and_when_to_go(
    web: WebClient, cases: None, sized: Page
) -> None:
    await sized.goto(str(web.make_url(f"/tra-cuu?ma={REDIRECTED}")))
    where = sized.locator(".visit")
    await expect(where).to_contain_text("Trụ sở Tiếp công dân tỉnh Khánh Hòa")
    await expect(where).to_contain_text("26 Hùng Vương, Nha Trang")
    await expect(where).to_contain_text("13:30–17:00")
    # The hours are not from a published timetable: said so, with advice to call first.
    await expect(where).to_contain_text(messages.UNVERIFIED)
    assert "tiep-cong-dan-tinh" not in await sized.locator("main").inner_text()


@pytest.mark.browser
async def test_after_sending_the_citizen_sees_the_agency_the_deadline_and_how_they_hear(
    web: WebClient, cases: None, sized: Page
) -> None:
    await sized.goto(str(web.make_url(f"/da-gui/{ASSIGNED}")))
    facts = sized.locator("#tiep-theo + dl")
    await expect(facts).to_contain_text("Sở Xây dựng tỉnh Khánh Hòa")
    await expect(facts).to_contain_text("Hạn trả lời")
    await expect(sized.get_by_text(messages.HOW_TOLD)).to_be_visible()


async def test_a_code_not_routed_yet_says_what_happens_next(web: WebClient, store: Store) -> None:
    response = await web.post(
        "/api/v1/submissions",
        json={
            "content": "Nắp hố ga trước nhà số 45 đường Lê Thánh Tôn bị mất từ chiều qua, rất "
            "nguy hiểm cho xe máy.",
            "occurred_at": (NOW - timedelta(hours=2)).isoformat(),
            "location": {"address": "45 Lê Thánh Tôn, phường Nha Trang"},
            "submitter": {"name": "Lê Thị Hoa", "phone": "0905 123 456"},
            "consent": True,
        },
        headers={"X-Client": "app/1.0", "Idempotency-Key": "citizen-not-routed"},
    )
    code = (await response.json())["tracking_code"]
    page = await (await web.get(f"/da-gui/{code}")).text()
    assert messages.NEXT_STEPS["received"] in page
    view = await (await web.get(f"/api/v1/cases/{code}")).json()
    assert [step["action"] for step in view["timeline"]] == ["received"]


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
async def test_a_citizen_sending_too_often_gets_a_page_with_the_wait(
    web_client_factory: WebClientFactory, store: Store, browser: Browser, width: int
) -> None:
    web = await web_client_factory(lookup_burst=1, lookup_per_minute=0.5)
    context = await browser.new_context(viewport={"width": width, "height": 800}, locale="vi-VN")
    page = await context.new_page()
    try:
        await page.goto(str(web.make_url(f"/tra-cuu?ma={ASSIGNED}")))
        response = await page.goto(str(web.make_url(f"/tra-cuu?ma={ASSIGNED}")))
        assert response is not None and response.status == 429
        # One look-up refills every 2 minutes; a slow machine may take a second of it.
        wait = int(response.headers["retry-after"])
        assert 100 <= wait <= 120
        await expect(page.get_by_role("heading", name=messages.RATE_LIMITED_TITLE)).to_be_visible()
        await expect(page.get_by_text(wait_text(wait))).to_be_visible()
        assert "rate_limited" not in await page.content()
        await _fits_and_is_accessible(page, "429")
    finally:
        await context.close()
    # Programs still get JSON.
    api = await web.get(f"/api/v1/cases/{ASSIGNED}")
    assert api.status == 429 and (await api.json())["error"] == "rate_limited"


def test_the_wait_is_said_as_people_say_it() -> None:
    assert wait_text(45) == "45 giây"
    assert wait_text(120) == "khoảng 2 phút"


@pytest.mark.browser
async def test_the_form_takes_the_phones_location_when_offered(
    web: WebClient, browser: Browser, amqp_queues: QueueInspector
) -> None:
    context: BrowserContext = await browser.new_context(
        viewport={"width": 375, "height": 800},
        locale="vi-VN",
        geolocation={"latitude": 12.238791, "longitude": 109.196749},
        permissions=["geolocation"],
    )
    page = await context.new_page()
    try:
        await page.goto(str(web.make_url("/")))
        await page.get_by_role("textbox", name="Nội dung", exact=True).fill(
            "Ổ gà lớn giữa đường Lê Thánh Tôn trước số 45, xe máy đi qua rất dễ ngã."
        )
        await page.get_by_label("Thời gian xảy ra").fill("27/11/2026 19:30")
        await page.get_by_label("Địa điểm").fill("45 Lê Thánh Tôn")
        await page.get_by_label("Họ và tên").fill("Phạm Minh Tuấn")
        await page.get_by_label("Số điện thoại").fill("0935 246 810")
        await page.get_by_label("Tôi đồng ý").check()
        await page.get_by_role("button", name=messages.LOCATE_BUTTON).click()
        await expect(page.get_by_role("status")).to_contain_text("12.23879, 109.19675")
        await page.get_by_role("button", name="Gửi phản ánh").click()
        await expect(page.get_by_role("heading", name="Đã tiếp nhận")).to_be_visible()
    finally:
        await context.close()
    sent = Submission.model_validate_json((await amqp_queues.get_one(SUBMISSIONS_QUEUE)).body)
    assert (sent.location.lat, sent.location.lon) == (12.23879, 109.19675)


@pytest.mark.browser
async def test_without_javascript_the_form_has_no_location_button(
    web: WebClient, browser: Browser
) -> None:
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    try:
        await page.goto(str(web.make_url("/")))
        await expect(page.get_by_role("button", name=messages.LOCATE_BUTTON)).to_have_count(0)
        await expect(page.get_by_role("button", name="Gửi phản ánh")).to_be_visible()
    finally:
        await context.close()


async def test_the_favicon_is_served(web: WebClient) -> None:
    response = await web.get("/favicon.ico")
    assert response.status == 200
    assert response.content_type == "image/svg+xml"
    assert (await response.read()).startswith(b"<svg")


def test_the_public_history_drops_notes_actors_and_internal_steps() -> None:
    history = [
        _step("received", 10),
        _step("note", 9, note="gọi lại 0905123456"),
        _step("assigned", 8, actor="an.nguyen", note="riêng tư"),
    ]
    assert public_timeline(history) == [
        {"action": "received", "at": (NOW - timedelta(minutes=10)).isoformat()},
        {"action": "assigned", "at": (NOW - timedelta(minutes=8)).isoformat()},
    ]
