"""The agents' console against the real broker, store and router: login, CSRF and roles;
a call becoming a routed case; two reports in one call; history; follow-ups; call-backs."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.web import Application
from pydantic import SecretStr

from pakn.auth.users import Role
from pakn.auth.web import undeclared_routes
from pakn.bus import Bus
from pakn.ids import format_tracking_code
from pakn.schema import CaseEvent, Channel, EventKind, Status
from pakn.store import Store
from pakn_hotline.app import init_app
from pakn_hotline.drafts import COLLECTION as CALLS
from pakn_hotline.settings import HotlineSettings
from tests.fixtures.broker import TcpProxy
from tests.pakn_hotline.conftest import Agent, Client, log_in_as, metric, report_form
from tests.pakn_router.conftest import wait_for_case


async def submit(agent: Agent, path: str, **overrides: str) -> tuple[int, str, str]:
    """(status, location, body) of submitting the report at ``path``."""
    response = await agent.post(path, report_form(**overrides))
    return response.status, response.headers.get("Location", ""), await response.text()


async def code_of(agent: Agent, location: str) -> str:
    """The tracking code the read-back page gives (ten digits)."""
    page = await agent.page(location)
    start = page.index('id="ma-ho-so">') + len('id="ma-ho-so">')
    return page[start : page.index("</p>", start)].replace(" ", "")


# --- login, CSRF, roles ----------------------------------------------------------------------


async def test_agents_log_in_forgeries_and_other_roles_are_refused(
    hotline: Client, store: Store
) -> None:
    assert undeclared_routes(hotline.app) == [], "every route declares who may reach it"
    health = await hotline.get("/healthz")
    assert health.status == 200
    assert (await health.json())["checks"] == {
        "store": "ok",
        "broker": "ok",
        "case-events": "ok",
    }
    anonymous = await hotline.get("/", headers={"Accept": "text/html"}, allow_redirects=False)
    assert anonymous.status == 303 and anonymous.headers["Location"].startswith("/dang-nhap")
    assert (await hotline.get("/goi-lai", headers={"Accept": "application/json"})).status == 401

    agency = await log_in_as(hotline, store, "so.xd", Role.AGENCY_STAFF, "so-xay-dung")
    await agency.page("/", status=403)
    refused = await agency.post("/cuoc-goi", {"caller_number": "0905123456"})
    assert refused.status == 403
    denied = await store.audit.find_one({"actor": "so.xd", "outcome": "denied"})
    assert denied is not None and denied["detail"]["reason"] == "role"
    await hotline.delete("/api/v1/session", headers={"X-CSRF-Token": agency.csrf_token})

    agent = await log_in_as(hotline, store, "tdv01", Role.HOTLINE_AGENT)
    assert "Cuộc gọi mới" in await agent.page("/")
    forged = await hotline.post(
        "/cuoc-goi", data={"caller_number": "0905123456"}, allow_redirects=False
    )
    assert forged.status == 403, "no CSRF token: refused"
    assert await store.db[CALLS].count_documents({}) == 0
    csrf_denied = await store.audit.find_one({"actor": "tdv01", "detail.reason": "csrf"})
    assert csrf_denied is not None
    logged = metric("pakn_hotline_calls_logged_total", {"source": "console"})
    assert (await agent.open_call()).startswith("/cuoc-goi/console-")
    assert metric("pakn_hotline_calls_logged_total", {"source": "console"}) == logged + 1

    operator = await log_in_as(hotline, store, "dieu.phoi", Role.OPERATOR)
    assert "Cuộc gọi mới" in await operator.page("/"), "operators stand in for agents"


# --- a call becomes a case -------------------------------------------------------------------


async def test_a_call_logged_in_the_console_becomes_a_routed_case(
    agent: Agent, router: Client, store: Store
) -> None:
    path = await agent.open_call("0905 123 456")
    call_id = path.split("/")[2]
    page = await agent.page(path)
    assert 'value="0905 123 456"' in page, "the caller's number is filled in"

    # A live wire on the road: the agent tells the caller the number at once.
    danger = await agent.post(
        path,
        {
            "content": "Dây điện trung thế bị đứt rơi xuống mặt đường trước nhà, đang tóe lửa.",
            "action": "save",
        },
    )
    alarm = await danger.text()
    assert "Khẩn cấp: hướng dẫn người gọi gọi ngay" in alarm

    # Saved as typed, kept server-side: a reload shows it again.
    saved = await agent.post(path, {"content": "Ống nước", "action": "save"})
    assert saved.status == 200
    assert ">Ống nước</textarea>" in await agent.page(path)

    failures = metric(
        "pakn_hotline_validation_failures_total", {"field": "content", "code": "too_short"}
    )
    status, _, body = await submit(agent, path, content="Ống nước vỡ", consent="")
    assert status == 422
    assert "Nội dung còn quá ngắn (ít nhất 20 ký tự)" in body
    assert "đọc câu xin phép" in body.lower()
    assert (
        metric("pakn_hotline_validation_failures_total", {"field": "content", "code": "too_short"})
        == failures + 1
    )

    status, location, _ = await submit(agent, path)
    assert status == 303 and location == f"{path}/ma"
    code = await code_of(agent, location)
    read_back = await agent.page(location)
    assert "một hai ba" in read_back or "—" in read_back
    assert f"{code[:3]} {code[3:6]} {code[6:9]} {code[9]}" in read_back

    case = await wait_for_case(store, {"tracking_code": code})
    assert case["channel"] == "hotline"
    assert case["channel_ref"] == f"{call_id}#1"
    assert case["status"] == "assigned" and case["field"] == "cap-thoat-nuoc"
    call = await store.db[CALLS].find_one({"_id": call_id})
    assert call is not None
    assert case["received_at"] == call["started_at"], "received when the call started"
    assert case["submitter"]["phone"] == "+84905123456"
    assert case["location"]["commune"] == "Phường Nha Trang"
    occurred = case["occurred_at"].astimezone(UTC)
    started = call["started_at"].astimezone(UTC)
    assert timedelta(0) < started - occurred < timedelta(hours=48), "tối qua lúc 9h"

    # Pressing "send" again (a double click, a reload) never makes a second case.
    again = await agent.post(path, report_form())
    assert again.status == 303 and again.headers["Location"] == f"{path}/ma"
    await asyncio.sleep(0.5)
    assert await store.cases.count_documents({}) == 1


async def test_a_call_with_two_reports_gives_two_cases(
    hotline: Client, agent: Agent, router: Client, store: Store
) -> None:
    call_id = f"pbx-{uuid.uuid4().hex[:8]}"
    started = datetime.now(UTC) - timedelta(minutes=10)
    response = await hotline.post(
        "/api/v1/calls",
        json={
            "call_id": call_id,
            "caller_number": "0914222333",
            "agent": "tdv01",
            "started_at": started.isoformat(),
            "ended_at": (started + timedelta(minutes=5)).isoformat(),
            "transcript": [],
        },
        headers={"Authorization": "Bearer test-hotline-key-0123456789"},
    )
    assert response.status == 201
    status, first_location, _ = await submit(agent, f"/cuoc-goi/{call_id}/1")
    assert status == 303
    more = await agent.post(f"/cuoc-goi/{call_id}/bao-cao-moi", {})
    assert more.status == 303 and more.headers["Location"] == f"/cuoc-goi/{call_id}/2"
    second_page = await agent.page(f"/cuoc-goi/{call_id}/2")
    assert 'value="Trần Văn Bình"' in second_page, "the caller's name carries over"
    status, second_location, body = await submit(
        agent,
        f"/cuoc-goi/{call_id}/2",
        content="Đèn đường trên đường Yersin đoạn gần chợ không sáng ba đêm nay, người đi "
        "đường buổi tối rất nguy hiểm.",
        street="Đường Yersin",
        occurred="tối qua",
        confidential="1",
    )
    assert status == 303, body
    first = await code_of(agent, first_location)
    second = await code_of(agent, second_location)
    assert first != second
    one = await wait_for_case(store, {"tracking_code": first})
    two = await wait_for_case(store, {"tracking_code": second})
    assert (one["channel_ref"], two["channel_ref"]) == (f"{call_id}#1", f"{call_id}#2")
    assert one["received_at"] == two["received_at"]
    assert one["received_at"].astimezone(UTC) == started.replace(
        microsecond=started.microsecond // 1000 * 1000
    )
    assert two["field"] == "chieu-sang"
    assert (one["confidential"], two["confidential"]) == (False, True)
    assert metric("pakn_hotline_call_end_to_submission_seconds_count") >= 2


# --- what the caller reported before, and the same incident ----------------------------------


async def insert_case(store: Store, **fields: Any) -> dict[str, Any]:
    """A case as the router keeps it (the router is the writer in production)."""
    from pakn.ids import new_tracking_code

    code = new_tracking_code()
    doc: dict[str, Any] = {
        "submission_id": f"web:{uuid.uuid4().hex}",
        "tracking_code": code,
        "channel": "web",
        "channel_ref": uuid.uuid4().hex,
        "received_at": datetime.now(UTC) - timedelta(days=20),
        "submitter": {"name": "Trần Văn Bình", "phone": "+84905123456"},
        "content": "Rác thải ứ đọng ở chợ Xóm Mới nhiều ngày không ai thu gom.",
        "public_content": "Rác thải ứ đọng ở chợ Xóm Mới nhiều ngày không ai thu gom.",
        "status": "published",
        "field": "moi-truong",
        "lead_agency": "ubnd-phuong-nha-trang",
        "due_at": datetime.now(UTC) - timedelta(days=15),
        "result": {"text": "Đã thu gom rác và bố trí thêm thùng rác tại chợ."},
        "location": {"address": "Chợ Xóm Mới", "commune": "Phường Nha Trang"},
        "search_terms": [],
        "followups": [],
    }
    doc.update(fields)
    await store.cases.insert_one(doc)
    return doc


async def test_the_caller_s_earlier_cases_are_shown_by_phone_number(
    agent: Agent, store: Store
) -> None:
    earlier = await insert_case(store)
    other = await insert_case(store, submitter={"name": "Người khác", "phone": "+84914000111"})
    page = await agent.page(await agent.open_call("0905 123 456"))
    assert format_tracking_code(earlier["tracking_code"]) in page
    assert "Đã công khai kết quả" in page
    assert "Đã thu gom rác và bố trí thêm thùng rác" in page
    assert format_tracking_code(other["tracking_code"]) not in page
    unknown = await agent.page(await agent.open_call("0987 654 321"))
    assert "Số này chưa phản ánh lần nào." in unknown


async def test_a_call_about_an_open_case_nearby_is_attached_as_its_follow_up(
    agent: Agent, router: Client, store: Store
) -> None:
    first_call = await agent.open_call("0905123456")
    status, location, _ = await submit(agent, first_call)
    assert status == 303
    parent_code = await code_of(agent, location)
    await wait_for_case(store, {"tracking_code": parent_code})

    # A second caller, same burst main, other words around it.
    path = await agent.open_call("0914222333")
    same = report_form(
        name="Lê Thị Hoa",
        phone="0914222333",
        content="Nước chảy lênh láng ra đường Trần Phú do ống nước bị vỡ, xe máy đi qua rất "
        "nguy hiểm.",
        action="save",
    )
    saved = await agent.post(path, same)
    assert saved.status == 200
    page = await saved.text()
    assert "Hồ sơ đang mở gần đó" in page
    assert f"Gắn vào hồ sơ {format_tracking_code(parent_code)}" in page

    attached_before = metric("pakn_hotline_followups_attached_total")
    response = await agent.post(path, {**same, "action": f"attach:{parent_code}"})
    assert response.status == 303, await response.text()
    read_back = await agent.page(response.headers["Location"])
    assert "thông tin bổ sung" in read_back
    assert await code_of(agent, response.headers["Location"]) == parent_code
    assert metric("pakn_hotline_followups_attached_total") == attached_before + 1

    async with asyncio.timeout(10):
        while True:
            parent = await store.cases.find_one({"tracking_code": parent_code})
            assert parent is not None
            if parent.get("followups"):
                break
            await asyncio.sleep(0.05)
    assert "xe máy đi qua rất nguy hiểm" in parent["followups"][0]["content"]
    assert await store.cases.count_documents({}) == 1, "no duplicate case for the second caller"


# --- calling back ----------------------------------------------------------------------------


async def test_hotline_cases_with_news_are_listed_for_a_call_back(
    agent: Agent, bus: Bus, store: Store
) -> None:
    hotline_case = await insert_case(
        store, channel="hotline", submission_id=f"hotline:{uuid.uuid4().hex}"
    )

    def event(kind: EventKind, case: dict[str, Any], channel: Channel) -> CaseEvent:
        return CaseEvent(
            event_id=uuid.uuid4().hex,
            event=kind,
            at=datetime.now(UTC),
            submission_id=case["submission_id"],
            tracking_code=case["tracking_code"],
            status=Status.PUBLISHED,
            lead_agency="ubnd-phuong-nha-trang",
            channel=channel,
        )

    web_case = await insert_case(store)
    published = event(EventKind.PUBLISHED, hotline_case, Channel.HOTLINE)
    for item in (
        published,
        published,  # delivered twice: listed once
        event(EventKind.ASSIGNED, hotline_case, Channel.HOTLINE),  # no news for the caller
        event(EventKind.PUBLISHED, web_case, Channel.WEB),  # another channel's citizen
    ):
        await bus.publish_case_event(item, timeout=5)
    async with asyncio.timeout(15):
        while not await store.db["hotline_callbacks"].count_documents({}):
            await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    items = await store.db["hotline_callbacks"].find({}).to_list()
    assert [i["tracking_code"] for i in items] == [hotline_case["tracking_code"]]

    page = await agent.page("/goi-lai")
    code = format_tracking_code(hotline_case["tracking_code"])
    assert code in page and "Đã có kết quả xử lý" in page and "+84905123456" in page
    done = await agent.post(f"/goi-lai/{published.event_id}/xong", {"note": "Đã báo kết quả"})
    assert done.status == 303
    after = await agent.page("/goi-lai?xong=1")
    assert "Không có hồ sơ nào cần gọi lại." in after
    assert "Đã báo kết quả" in after


# --- the broker away while the caller waits --------------------------------------------------


async def test_no_code_before_the_broker_confirms_and_a_retry_gets_the_same_report(
    aiohttp_client: Callable[[Application], Awaitable[Client]],
    hotline_settings: HotlineSettings,
    broker_proxy: TcpProxy,
    proxied_amqp_url: str,
    router: Client,
    store: Store,
) -> None:
    settings = hotline_settings.model_copy(
        update={"amqp_url": SecretStr(proxied_amqp_url), "hotline_confirm_timeout": 1.0}
    )
    client = await aiohttp_client(await init_app(settings))
    agent = await log_in_as(client, store, "tdv02", Role.HOTLINE_AGENT)
    path = await agent.open_call()

    broker_proxy.cut()
    status, _, body = await submit(agent, path)
    assert status == 503
    assert "Chưa đọc mã cho người gọi" in body
    assert "ma-ho-so" not in body
    edited = report_form(content="Ống nước bị vỡ trước nhà số 45 Trần Phú, sửa lại: từ 8 giờ tối.")
    broker_proxy.restore()
    await asyncio.sleep(1.0)  # the bus reconnects

    # The first attempt may have reached the broker: the edit is not sent under its name.
    answer = await agent.post(path, edited)
    assert answer.status == 409
    restored = await answer.text()
    assert "cả khu phố mất nước từ tối qua." in restored, "what was sent comes back"
    status, location, _ = await submit(agent, path)
    assert status == 303, "the words sent first, sent again: the code"
    code = await code_of(agent, location)
    case = await wait_for_case(store, {"tracking_code": code})
    assert "cả khu phố mất nước từ tối qua." in case["content"]
    await asyncio.sleep(0.5)
    assert await store.cases.count_documents({}) == 1
