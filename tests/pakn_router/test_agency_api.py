"""The agency workspace's API against the real broker and store: every transition, the
forbidden ones, the events each publishes, the audit, and the citizen's follow-ups."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from PIL import Image

from pakn.auth.users import Role
from pakn.auth.web import undeclared_routes
from pakn.ids import new_tracking_code, submission_id
from pakn.schema import Attachment, FeedbackInput, Submission, dump_for_store
from pakn.store import Store
from pakn.text import MASK
from tests.fixtures.broker import QueueInspector
from tests.pakn.auth.conftest import Agent, audit_log
from tests.pakn_router.conftest import (
    RouterClient,
    make_submission,
    wait_for_case,
    waiting_events,
)
from tests.pakn_router.test_monitor_api import (
    BUILDING,
    CITY_LIGHTS,
    HEALTH,
    assigned_to,
    case_events,
    get_json,
    insert_case,
    post_json,
    sign_in,
)

Publish = Callable[[Submission], Awaitable[None]]
CONTENT = (
    "Tôi là Nguyễn Thị Mai, điện thoại 0905 123 456. Đèn đường trên đường Trần Phú trước "
    "khách sạn Yasaka tắt ba đêm liền, chị Mai đề nghị sửa gấp."
)


async def lead_case(router: RouterClient, store: Store, **submission: Any) -> str:
    sent = await insert_case(router, store, assigned_to(CITY_LIGHTS), CONTENT, **submission)
    await store.cases.update_one(
        {"tracking_code": sent.tracking_code}, {"$set": {"co_agencies": [BUILDING]}}
    )
    return sent.tracking_code


async def staff_of_agency(router: RouterClient, store: Store) -> dict[str, Agent]:
    return {
        "staff": await sign_in(router, store, "can.bo", Role.AGENCY_STAFF, CITY_LIGHTS),
        "leader": await sign_in(router, store, "lanh.dao", Role.AGENCY_LEADER, CITY_LIGHTS),
        "co": await sign_in(router, store, "phoi.hop", Role.AGENCY_STAFF, BUILDING),
        "other": await sign_in(router, store, "y.te", Role.AGENCY_STAFF, HEALTH),
        "operator": await sign_in(router, store, "dieu.phoi", Role.OPERATOR),
    }


async def events_of(events: QueueInspector, code: str) -> list[str]:
    return [key for key, _event in await case_events(events, code)]


def test_every_workspace_route_declares_its_guard(router: RouterClient) -> None:
    assert undeclared_routes(router.app) == []


async def test_the_whole_road_from_assignment_to_publication(
    router: RouterClient, store: Store, events: QueueInspector
) -> None:
    who = await staff_of_agency(router, store)
    code = await lead_case(router, store)
    await events.drain("test.case-events")
    base = f"/api/v1/cases/{code}"

    queue = (await get_json(router, "/api/v1/agency/cases", who["staff"]))["items"]
    assert [i["tracking_code"] for i in queue] == [code]
    assert queue[0]["due_at"] and queue[0]["working_hours_left"] is not None

    accepted = await post_json(router, f"{base}/accept", who["staff"], {})
    assert accepted["events"] == ["in_progress"] and accepted["case"]["status"] == "in_progress"
    ((key, event),) = await case_events(events, code)
    assert key == f"case.in_progress.{CITY_LIGHTS}"
    # What a channel needs to tell the citizen, without personal data.
    assert (event.channel, event.status, event.notify_citizen) == ("web", "in_progress", True)
    assert event.summary and "Mai" not in event.summary

    part = await post_json(
        router, f"{base}/contributions", who["co"], {"text": "Sở Xây dựng: cột đèn an toàn."}
    )
    assert part["events"] == ["contributed"]
    assert part["case"]["contributions"][0]["agency"] == BUILDING

    draft = await post_json(
        router, f"{base}/answer", who["staff"], {"text": "Đã thay bóng đèn, cảm ơn chị Mai."}
    )
    assert draft["events"] == ["answer_drafted"]

    # Staff without the approval role cannot approve; the leader can.
    refused = await post_json(router, f"{base}/approve", who["staff"], {}, status=403)
    assert refused["error"] == "not_approver"
    preview = await get_json(router, f"{base}/publication", who["leader"])
    assert "0905" not in preview["automatic"]["public_content"]
    approved = await post_json(router, f"{base}/approve", who["leader"], {})
    assert approved["events"] == ["resolved", "published"]
    case = approved["case"]
    assert case["status"] == "published"
    assert case["result"]["text"] == f"Đã thay bóng đèn, cảm ơn chị {MASK}."
    assert "Nguyễn Thị Mai" not in case["public_content"] and "0905" not in case["public_content"]
    assert "Trần Phú" in case["public_content"]

    keys = await events_of(events, code)
    assert keys == [
        f"case.contributed.{CITY_LIGHTS}",
        f"case.answer_drafted.{CITY_LIGHTS}",
        f"case.resolved.{CITY_LIGHTS}",
        f"case.published.{CITY_LIGHTS}",
    ]
    stored = await store.cases.find_one({"tracking_code": code})
    assert stored is not None and await waiting_events(store, stored) == 0
    actions = [e["action"] for e in await audit_log(store) if e.get("target") == code]
    assert actions == ["case.accept", "case.contribute", "case.answer", "case.approve"]
    (refusal,) = [
        e for e in await audit_log(store) if e.get("outcome") != "success" and e.get("actor")
    ]
    assert refusal["actor"] == "can.bo"  # the refused approval is on record too


async def test_another_agency_gets_404_for_every_action(
    router: RouterClient, store: Store, events: QueueInspector
) -> None:
    who = await staff_of_agency(router, store)
    code = await lead_case(router, store)
    base = f"/api/v1/cases/{code}"
    attempts: list[tuple[str, dict[str, Any]]] = [
        ("accept", {}),
        ("return", {"reason": "x"}),
        ("contributions", {"text": "x"}),
        ("needs-info", {"question": "x"}),
        ("extension", {"working_days": 2, "reason": "x"}),
        ("answer", {"text": "x"}),
        ("approve", {}),
        ("publication", {"public_content": "x"}),
    ]
    for path, body in attempts:
        answer = await post_json(router, f"{base}/{path}", who["other"], body, status=404)
        assert answer["error"] == "not_found", path
    await get_json(router, f"{base}/publication", who["other"], status=404)
    assert (await get_json(router, "/api/v1/agency/cases", who["other"]))["items"] == []
    stored = await store.cases.find_one({"tracking_code": code})
    assert stored is not None and stored["status"] == "assigned"
    # Operators do not act for the agency; the agency does not decide extensions.
    await post_json(router, f"{base}/accept", who["operator"], {}, status=403)
    await post_json(router, f"{base}/extension/decision", who["staff"], {"approve": True}, 403)


async def test_return_sends_the_case_back_to_triage_with_its_deadline(
    router: RouterClient, store: Store, events: QueueInspector
) -> None:
    who = await staff_of_agency(router, store)
    code = await lead_case(router, store)
    before = await store.cases.find_one({"tracking_code": code})
    assert before is not None
    await events.drain("test.case-events")
    missing = await post_json(router, f"/api/v1/cases/{code}/return", who["staff"], {}, 422)
    assert missing["errors"][0]["field"] == "reason"
    done = await post_json(
        router,
        f"/api/v1/cases/{code}/return",
        who["staff"],
        {"reason": "Đèn trong khu dân cư do phường quản lý."},
    )
    assert done["events"] == ["returned"]
    after = await store.cases.find_one({"tracking_code": code})
    assert after is not None
    assert (after["status"], after["lead_agency"], after["returns"]) == ("triage", None, 1)
    assert after["due_at"] == before["due_at"]
    assert await events_of(events, code) == [f"case.returned.{CITY_LIGHTS}"]
    triage = (await get_json(router, "/api/v1/triage", who["operator"]))["items"]
    assert code in [i["tracking_code"] for i in triage]
    # It is no longer the agency's: the next action is a 404.
    await post_json(router, f"/api/v1/cases/{code}/accept", who["staff"], {}, status=404)


async def test_ask_the_citizen_then_their_follow_up_resumes_the_clock(
    router: RouterClient, store: Store, events: QueueInspector, publisher: Publish
) -> None:
    who = await staff_of_agency(router, store)
    code = await lead_case(router, store)
    await post_json(router, f"/api/v1/cases/{code}/accept", who["staff"], {})
    await events.drain("test.case-events")
    asked = await post_json(
        router,
        f"/api/v1/cases/{code}/needs-info",
        who["staff"],
        {"question": "Chị cho biết số hiệu cột đèn?"},
    )
    assert asked["case"]["status"] == "needs_info"
    assert asked["case"]["sla"]["paused"][-1]["to"] is None
    ((key, event),) = await case_events(events, code)
    assert key == f"case.needs_info.{CITY_LIGHTS}"
    assert event.notify_citizen and event.channel == "web" and "thông tin" in (event.summary or "")

    reply = make_submission("Cột đèn số 17, cạnh trạm xe buýt.", in_reply_to=code)
    await publisher(reply)
    resumed = await wait_for_case(store, {"tracking_code": code, "status": "in_progress"})
    assert resumed["sla"]["paused"][-1]["to"] is not None
    assert resumed["question"]["answered_at"] is not None
    assert resumed["followups"][-1]["content"].startswith("Cột đèn số 17")
    assert await events_of(events, code) == [f"case.in_progress.{CITY_LIGHTS}"]


async def test_an_extension_requested_by_the_agency_and_decided_by_an_operator(
    router: RouterClient, store: Store, events: QueueInspector
) -> None:
    who = await staff_of_agency(router, store)
    code = await lead_case(router, store)
    await post_json(router, f"/api/v1/cases/{code}/accept", who["staff"], {})
    before = await store.cases.find_one({"tracking_code": code})
    assert before is not None
    await events.drain("test.case-events")
    await post_json(
        router,
        f"/api/v1/cases/{code}/extension",
        who["staff"],
        {"working_days": "0", "reason": "x"},
        status=422,
    )
    await post_json(
        router,
        f"/api/v1/cases/{code}/extension",
        who["staff"],
        {"working_days": 3, "reason": "Chờ vật tư thay thế."},
    )
    waiting = (await get_json(router, "/api/v1/extensions", who["operator"]))["items"]
    assert [i["tracking_code"] for i in waiting] == [code]
    assert waiting[0]["extension_pending"]
    page = await router.get("/co-quan", cookies=who["operator"].cookies)
    assert "Đề nghị gia hạn chờ quyết định" in await page.text()
    decided = await post_json(
        router, f"/api/v1/cases/{code}/extension/decision", who["operator"], {"approve": True}
    )
    assert (await get_json(router, "/api/v1/extensions", who["operator"]))["items"] == []
    assert decided["events"] == ["extended"]
    after = await store.cases.find_one({"tracking_code": code})
    assert after is not None and after["due_at"] > before["due_at"]
    assert after["extensions"][0]["decision"] == "approved"
    assert await events_of(events, code) == [
        f"case.extension_requested.{CITY_LIGHTS}",
        f"case.extended.{CITY_LIGHTS}",
    ]
    audit = [e["action"] for e in await audit_log(store) if e.get("target") == code]
    assert audit[-2:] == ["case.extension.request", "case.extension.decide"]


async def test_an_agency_without_a_leader_approves_with_its_admin(
    router: RouterClient, store: Store, events: QueueInspector
) -> None:
    staff = await sign_in(router, store, "can.bo", Role.AGENCY_STAFF, CITY_LIGHTS)
    admin = await sign_in(router, store, "quan.tri", Role.AGENCY_ADMIN, CITY_LIGHTS)
    code = await lead_case(router, store)
    await post_json(router, f"/api/v1/cases/{code}/accept", staff, {})
    await post_json(router, f"/api/v1/cases/{code}/answer", staff, {"text": "Đã sửa đèn."})
    done = await post_json(router, f"/api/v1/cases/{code}/approve", admin, {})
    assert done["case"]["status"] == "published"
    # Once a leader is configured, the admin no longer approves.
    await sign_in(router, store, "lanh.dao", Role.AGENCY_LEADER, CITY_LIGHTS)
    other = await lead_case(router, store)
    await post_json(router, f"/api/v1/cases/{other}/accept", staff, {})
    await post_json(router, f"/api/v1/cases/{other}/answer", staff, {"text": "Đã sửa đèn."})
    await post_json(router, f"/api/v1/cases/{other}/approve", admin, {}, status=403)


async def test_a_confidential_case_is_resolved_and_never_published(
    router: RouterClient, store: Store, events: QueueInspector
) -> None:
    who = await staff_of_agency(router, store)
    code = await lead_case(router, store)
    await store.cases.update_one({"tracking_code": code}, {"$set": {"confidential": True}})
    await post_json(router, f"/api/v1/cases/{code}/accept", who["staff"], {})
    await post_json(router, f"/api/v1/cases/{code}/answer", who["staff"], {"text": "Đã xử lý."})
    done = await post_json(router, f"/api/v1/cases/{code}/approve", who["leader"], {})
    assert done["events"] == ["resolved"] and done["case"]["status"] == "resolved"
    assert done["case"]["result"] is None
    await post_json(
        router,
        f"/api/v1/cases/{code}/publication",
        who["operator"],
        {"public_content": "x"},
        status=409,
    )


async def test_an_edit_after_publication_is_audited_as_such(
    router: RouterClient, store: Store, events: QueueInspector
) -> None:
    who = await staff_of_agency(router, store)
    code = await lead_case(router, store)
    await post_json(router, f"/api/v1/cases/{code}/accept", who["staff"], {})
    await post_json(router, f"/api/v1/cases/{code}/answer", who["staff"], {"text": "Đã sửa."})
    await post_json(router, f"/api/v1/cases/{code}/approve", who["leader"], {})
    edited = await post_json(
        router,
        f"/api/v1/cases/{code}/publication",
        who["operator"],
        {"public_answer": "Đã thay bóng đèn mới."},
    )
    assert edited["case"]["result"]["text"] == "Đã thay bóng đèn mới."
    (entry,) = [e for e in await audit_log(store, "case.publication.edit") if e["target"] == code]
    assert entry["detail"]["after_publication"] is True and entry["actor"] == "dieu.phoi"
    assert edited["case"]["history"][-1]["action"] == "publication_edited"


async def test_public_copies_of_photos_lose_their_exif(
    router: RouterClient, store: Store, events: QueueInspector
) -> None:
    who = await staff_of_agency(router, store)
    image = Image.new("RGB", (8, 8), "red")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    ref = await store.put_attachment(
        out.getvalue(), filename="anh.jpg", content_type="image/jpeg", metadata={}
    )
    photo = Attachment(
        filename="anh.jpg",
        content_type="image/jpeg",
        size=len(out.getvalue()),
        sha256="a" * 64,
        ref=ref,
    )
    code = await lead_case(router, store)
    await store.cases.update_one(
        {"tracking_code": code}, {"$set": {"attachments": [dump_for_store(photo)]}}
    )
    await post_json(router, f"/api/v1/cases/{code}/accept", who["staff"], {})
    await post_json(router, f"/api/v1/cases/{code}/answer", who["staff"], {"text": "Đã sửa."})
    done = await post_json(router, f"/api/v1/cases/{code}/approve", who["leader"], {})
    (copy,) = done["case"]["public_attachments"]
    data, _info = await store.open_attachment(copy["ref"])
    with Image.open(io.BytesIO(data)) as public:
        assert dict(public.getexif()) == {}
    with Image.open(io.BytesIO(out.getvalue())) as original:
        assert dict(original.getexif())  # the original keeps it, for staff


async def test_not_solved_reopens_with_the_same_agency(
    router: RouterClient, store: Store, events: QueueInspector, publisher: Publish
) -> None:
    who = await staff_of_agency(router, store)
    code = await lead_case(router, store)
    await post_json(router, f"/api/v1/cases/{code}/accept", who["staff"], {})
    await post_json(router, f"/api/v1/cases/{code}/answer", who["staff"], {"text": "Đã sửa."})
    await post_json(router, f"/api/v1/cases/{code}/approve", who["leader"], {})
    await events.drain("test.case-events")
    reference = new_tracking_code()
    feedback = make_submission("Đèn vẫn tắt.", in_reply_to=code, ref=reference).model_copy(
        update={"feedback": FeedbackInput(rating=1, solved=False)}
    )
    assert feedback.submission_id == submission_id("web", "test", reference)
    await publisher(feedback)
    reopened = await wait_for_case(store, {"tracking_code": code, "reopened": 1})
    assert (reopened["status"], reopened["lead_agency"]) == ("assigned", CITY_LIGHTS)
    assert reopened["due_at"] > datetime.now(UTC) - timedelta(minutes=1)
    assert reopened["citizen_feedback"][0]["rating"] == 1
    assert await events_of(events, code) == [f"case.reopened.{CITY_LIGHTS}"]
    # A redelivery of the same feedback changes nothing more.
    await publisher(feedback)
    await asyncio.sleep(0.5)
    again = await store.cases.find_one({"tracking_code": code})
    assert again is not None and again["reopened"] == 1 and len(again["citizen_feedback"]) == 1


def jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (8, 8), "green")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


async def test_the_answer_carries_files_from_the_form_and_its_photos_go_public_clean(
    router: RouterClient, store: Store, events: QueueInspector
) -> None:
    who = await staff_of_agency(router, store)
    code = await lead_case(router, store)
    await post_json(router, f"/api/v1/cases/{code}/accept", who["staff"], {})

    def form(name: str, data: bytes, content_type: str) -> aiohttp.FormData:
        body = aiohttp.FormData()
        body.add_field("csrf_token", who["staff"].csrf_token)
        body.add_field("text", "Đã thay bóng đèn, ảnh kèm theo.")
        body.add_field("files", data, filename=name, content_type=content_type)
        return body

    refused = await router.post(
        f"/co-quan/ho-so/{code}/du-thao",
        data=form("ghi-chu.txt", b"not a photo", "text/plain"),
        cookies=who["staff"].cookies,
        allow_redirects=False,
    )
    assert refused.status == 422
    assert "không phải ảnh" in await refused.text()
    done = await router.post(
        f"/co-quan/ho-so/{code}/du-thao",
        data=form("sau-khi-sua.jpg", jpeg_with_exif(), "image/jpeg"),
        cookies=who["staff"].cookies,
        allow_redirects=False,
    )
    assert done.status == 303
    stored = await store.cases.find_one({"tracking_code": code})
    assert stored is not None
    (photo,) = stored["answer"]["attachments"]
    assert photo["content_type"] == "image/jpeg"
    approved = await post_json(router, f"/api/v1/cases/{code}/approve", who["leader"], {})
    (copy,) = approved["case"]["public_attachments"]
    data, _info = await store.open_attachment(copy["ref"])
    with Image.open(io.BytesIO(data)) as public:
        assert dict(public.getexif()) == {}
