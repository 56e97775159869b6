"""Web intake → broker → router → store → the citizen's tracking page, all real."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from aiohttp.web import Application

from pakn.store import Store
from pakn_router.app import init_app as init_router
from pakn_router.settings import RouterSettings
from tests.pakn_router.conftest import RouterClient, wait_for_case
from tests.pakn_web.conftest import WebClient


async def test_a_report_from_the_form_shows_its_agency_and_deadline(
    web: WebClient,
    router_settings: RouterSettings,
    aiohttp_client: Callable[[Application], Awaitable[RouterClient]],
    store: Store,
) -> None:
    router = await aiohttp_client(await init_router(router_settings))
    assert (await router.get("/healthz")).status == 200
    occurred = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    response = await web.post(
        "/api/v1/submissions",
        json={
            "title": "Cây xanh ngã đổ chắn ngang đường",
            "content": "Sau cơn mưa lớn chiều nay, một cây bàng lớn bị ngã đổ chắn ngang đường "
            "Yersin, đoạn trước trường tiểu học, xe cộ không đi qua được.",
            "occurred_at": occurred,
            "location": {"address": "Đường Yersin, phường Nha Trang"},
            "submitter": {"name": "Võ Văn Tâm", "phone": "0914 222 333"},
            "consent": True,
        },
        headers={"X-Client": "app/1.0", "Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status == 202
    code = (await response.json())["tracking_code"]

    case = await wait_for_case(store, {"tracking_code": code})
    assert case["status"] == "assigned"
    assert case["field"] == "cay-xanh"
    assert case["sla"]["working_days"] == 1

    view = await (await web.get(f"/api/v1/cases/{code}")).json()
    assert view["status"] == "assigned"
    assert view["lead_agency_name"]
    assert view["due_at"] is not None

    page = await (await web.get(f"/tra-cuu?ma={code}")).text()
    assert "Đã chuyển cơ quan xử lý" in page
    assert view["lead_agency_name"] in page
    assert "Hạn xử lý" in page
    assert "Võ Văn Tâm" not in page and "914 222 333" not in page
