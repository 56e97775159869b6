"""From the citizen's report to the published answer and the citizen's say, all real: web
intake → router → the agency's actions → /tra-cuu, /ket-qua, Open311 → feedback → reopened.
And no public endpoint ever shows a submitter's personal data or a confidential case."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.web import Application

from pakn.auth.users import Role
from pakn.store import Store
from pakn_router.app import init_app as init_router
from pakn_router.settings import RouterSettings
from tests.pakn_router.conftest import RouterClient, wait_for_case
from tests.pakn_router.test_monitor_api import post_json, sign_in
from tests.pakn_web.conftest import WebClient

NAME = "Võ Thị Ngọc Hân"
PHONE = "0914 222 333"
EMAIL = "ngochan.vo@gmail.com"
CCCD = "056190001234"
ORGANIZATION = "Công ty TNHH Hải Đăng"
TREE = (
    f"Tôi là {NAME}, CCCD {CCCD}, gọi {PHONE} hoặc {EMAIL}. Sau cơn mưa lớn chiều nay, một cây "
    "bàng lớn bị ngã đổ chắn ngang đường Yersin, đoạn trước trường tiểu học, chị Hân đề nghị "
    "dọn gấp."
)
SECRET = (
    "Tôi đề nghị giữ bí mật: cây xanh ngã đổ chắn ngang đường Yersin trước cổng đơn vị quân "
    "đội, nội dung chỉ dành cho cơ quan xử lý."
)
#: Every spelling of the submitter's data a page might show.
PERSONAL = [NAME, "Ngọc Hân", PHONE, "0914222333", "914 222 333", "+84914222333", EMAIL, CCCD]


async def submit(web: WebClient, content: str, *, confidential: bool = False) -> str:
    response = await web.post(
        "/api/v1/submissions",
        json={
            "title": "Cây xanh ngã đổ chắn ngang đường",
            "content": content,
            "occurred_at": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
            "location": {"address": "Đường Yersin, phường Nha Trang"},
            "submitter": {
                "name": NAME,
                "phone": PHONE,
                "email": EMAIL,
                "organization": ORGANIZATION,
            },
            "confidential": confidential,
            "consent": True,
        },
        headers={"X-Client": "app/1.0", "Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status == 202, await response.text()
    code: str = (await response.json())["tracking_code"]
    return code


async def answer_and_approve(router: RouterClient, store: Store, code: str, text: str) -> str:
    case = await wait_for_case(store, {"tracking_code": code, "status": "assigned"})
    lead = case["lead_agency"]
    staff = await sign_in(router, store, f"cb.{code[:6]}", Role.AGENCY_STAFF, lead)
    leader = await sign_in(router, store, f"ld.{code[:6]}", Role.AGENCY_LEADER, lead)
    await post_json(router, f"/api/v1/cases/{code}/accept", staff, {})
    await post_json(router, f"/api/v1/cases/{code}/answer", staff, {"text": text})
    await post_json(router, f"/api/v1/cases/{code}/approve", leader, {})
    return str(lead)


def leaks(text: str) -> list[str]:
    digits = re.sub(r"\D", "", text)
    found = [p for p in PERSONAL if p.lower() in text.lower()]
    if "0914222333" in digits or "914222333" in digits or CCCD in digits:
        found.append("digits")
    return found


async def public_pages(web: WebClient, code: str) -> dict[str, str]:
    paths = [
        f"/api/v1/cases/{code}",
        f"/tra-cuu?ma={code}",
        "/ket-qua",
        "/ket-qua?q=cay bang",
        f"/open311/v2/requests/{code}.json",
        f"/open311/v2/requests.json?service_request_id={code}",
    ]
    pages = {}
    for path in paths:
        response = await web.get(path)
        assert response.status == 200, (path, response.status)
        pages[path] = await response.text()
    return pages


async def test_the_answer_reaches_the_public_and_the_citizen_reopens_it(
    web: WebClient,
    router_settings: RouterSettings,
    aiohttp_client: Callable[[Application], Awaitable[RouterClient]],
    store: Store,
) -> None:
    router = await aiohttp_client(await init_router(router_settings))
    code = await submit(web, TREE)
    lead = await answer_and_approve(
        router, store, code, "Đã cắt dọn cây đổ lúc 18 giờ, cảm ơn chị Hân đã báo."
    )
    await wait_for_case(store, {"tracking_code": code, "status": "published"})

    view: dict[str, Any] = await (await web.get(f"/api/v1/cases/{code}")).json()
    assert view["status"] == "published"
    assert view["result"]["text"] == "Đã cắt dọn cây đổ lúc 18 giờ, cảm ơn chị *** đã báo."
    tracking = await (await web.get(f"/tra-cuu?ma={code}")).text()
    assert "Kết quả xử lý" in tracking and "Đã cắt dọn cây đổ" in tracking
    results = await (await web.get("/ket-qua?q=cay bang nga do")).text()  # no accents
    assert f"/tra-cuu?ma={code}" in results
    # Only the public copy is searched: the name and the organisation find nothing.
    for words in (NAME, "Ngọc Hân", "hải đăng"):
        nothing = await (await web.get("/ket-qua", params={"q": words})).text()
        assert f"/tra-cuu?ma={code}" not in nothing, words
    by_agency = await (await web.get(f"/ket-qua?co-quan={lead}&linh-vuc=cay-xanh")).text()
    assert f"/tra-cuu?ma={code}" in by_agency
    open311 = await (await web.get(f"/open311/v2/requests/{code}.json")).json()
    assert open311[0]["service_notice"].startswith("Đã cắt dọn cây đổ")
    for path, text in (await public_pages(web, code)).items():
        assert leaks(text) == [], path

    # The citizen's say: the contact must be the one given; "not solved" reopens.
    wrong = await web.post(
        f"/api/v1/cases/{code}/feedback",
        json={"contact": "0905 000 111", "rating": 2, "solved": False},
    )
    assert wrong.status == 403
    response = await web.post(
        f"/api/v1/cases/{code}/feedback",
        json={"contact": "+84914222333", "rating": 2, "solved": False, "comment": "Còn cành."},
    )
    assert response.status == 202, await response.text()
    assert (await response.json())["reopens"] is True
    reopened = await wait_for_case(store, {"tracking_code": code, "reopened": 1})
    assert (reopened["status"], reopened["lead_agency"]) == ("assigned", lead)
    assert reopened["citizen_feedback"][0]["rating"] == 2
    assert reopened["followups"][-1]["content"] == "Còn cành."


async def test_a_confidential_case_shows_nothing_public(
    web: WebClient,
    router_settings: RouterSettings,
    aiohttp_client: Callable[[Application], Awaitable[RouterClient]],
    store: Store,
) -> None:
    router = await aiohttp_client(await init_router(router_settings))
    code = await submit(web, SECRET, confidential=True)
    await answer_and_approve(router, store, code, "Đơn vị đã dọn cây trong đêm.")
    await wait_for_case(store, {"tracking_code": code, "status": "resolved"})
    pages = await public_pages(web, code)
    for path, text in pages.items():
        assert leaks(text) == [], path
        assert "quân đội" not in text and "dọn cây trong đêm" not in text, path
    view = await (await web.get(f"/api/v1/cases/{code}")).json()
    assert view["confidential"] is True
    assert view["public_content"] is None and view["result"] is None
    assert f"/tra-cuu?ma={code}" not in pages["/ket-qua"]
