"""The router against the real broker and store: routed once, evidence kept, nothing lost."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from pakn.bus import DEAD_QUEUE
from pakn.schema import CaseEvent, Problem, Submission
from pakn.store import Store
from pakn.worktime import WorkCalendar
from pakn_router.app import SETTINGS
from tests.fixtures.broker import QueueInspector
from tests.pakn_router.conftest import (
    EVENTS_QUEUE,
    RouterClient,
    make_submission,
    raw_publish,
    wait_for_case,
)
from tests.pakn_router.test_dead_letters import wait_for_letters

Publish = Callable[[Submission], Awaitable[None]]

LIGHT = (
    "Đèn đường trên đường Trần Phú đoạn trước khách sạn Yasaka không sáng ba đêm nay, "
    "người đi bộ rất nguy hiểm."
)
POTHOLE = (
    "Đường Lê Hồng Phong đoạn gần ngã tư Thái Nguyên có nhiều ổ gà lớn, trời mưa đọng nước, "
    "xe máy té ngã liên tục."
)


async def events_of(queues: QueueInspector, tracking_code: str) -> list[CaseEvent]:
    found = []
    for message in await queues.drain(EVENTS_QUEUE):
        case_event = CaseEvent.model_validate_json(message.body)
        if case_event.tracking_code == tracking_code:
            found.append(case_event)
    return found


async def test_a_submission_becomes_a_routed_case_with_its_evidence(
    router: RouterClient, publisher: Publish, store: Store, events: QueueInspector
) -> None:
    submission = make_submission(LIGHT)
    await publisher(submission)
    case = await wait_for_case(store, {"submission_id": submission.submission_id})

    assert case["status"] == "assigned"
    assert case["field"] == "chieu-sang"
    assert case["lead_agency"]
    assert case["routing"]["method"] == "rule"
    assert case["routing"]["matched"], "the phrases that decided must be recorded"
    assert case["routing"]["candidates"][0]["field"] == "chieu-sang"
    assert case["routing"]["rules_version"]
    # A broken street light is an urban infrastructure incident: one working day.
    assert case["sla"]["working_days"] == 1
    calendar = WorkCalendar.from_config_dir(router.app[SETTINGS].config_dir)
    assert case["due_at"] == calendar.due_at(submission.received_at, 1)
    assert case["public_content"]
    assert "den duong" in case["search_terms"]
    assert case["history"][-1]["action"] == "assigned"

    (assigned,) = await events_of(events, submission.tracking_code)
    assert assigned.event == "assigned"
    assert assigned.lead_agency == case["lead_agency"]


async def test_the_same_message_twice_gives_one_case(
    router: RouterClient, publisher: Publish, store: Store
) -> None:
    submission = make_submission(POTHOLE)
    await publisher(submission)
    await publisher(submission)
    await wait_for_case(store, {"submission_id": submission.submission_id})
    await asyncio.sleep(0.5)
    assert await store.cases.count_documents({"submission_id": submission.submission_id}) == 1


async def test_a_poison_message_is_dead_lettered_and_the_rest_flow_on(
    router: RouterClient, publisher: Publish, store: Store, amqp_url: str, events: QueueInspector
) -> None:
    before = make_submission(LIGHT)
    after = make_submission(POTHOLE)
    await publisher(before)
    await raw_publish(amqp_url, b'{"submission_id": "web:nope", "content": 42}')
    await publisher(after)
    await wait_for_case(store, {"submission_id": before.submission_id})
    await wait_for_case(store, {"submission_id": after.submission_id})

    # The router keeps every dead letter in the store (for the monitor), then acks it.
    (letter,) = await wait_for_letters(store, 1)
    assert letter["body"] == '{"submission_id": "web:nope", "content": 42}'
    assert letter["stage"] == "parse"
    assert "invalid submission" in letter["reason"]
    assert await events.depth(DEAD_QUEUE) == 0
    assert await store.cases.count_documents({}) == 2


async def test_a_followup_lands_on_its_case(
    router: RouterClient, publisher: Publish, store: Store
) -> None:
    first = make_submission(POTHOLE)
    await publisher(first)
    await wait_for_case(store, {"submission_id": first.submission_id})
    more = make_submission(
        "Bổ sung: hôm nay có thêm một ổ gà sâu ngay trước số nhà 88, đã có người ngã.",
        in_reply_to=first.tracking_code,
        address=None,
    )
    await publisher(more)
    case = await wait_for_case(
        store, {"submission_id": first.submission_id, "followups.submission_id": more.submission_id}
    )
    assert case["followups"][0]["content"].startswith("Bổ sung")
    assert await store.cases.count_documents({}) == 1


async def test_a_needs_info_case_is_completed_by_the_citizen_and_routed(
    router: RouterClient, publisher: Publish, store: Store, events: QueueInspector
) -> None:
    vague = make_submission(
        "Nước cống tràn lên mặt đường, bốc mùi hôi thối suốt mấy ngày nay.",
        address=None,
        problems=[Problem(field="location.address", code="required")],
    )
    await publisher(vague)
    case = await wait_for_case(store, {"submission_id": vague.submission_id})
    assert case["status"] == "needs_info"
    assert case["due_at"] is None
    assert case["sla"]["paused"][0]["to"] is None

    answer = make_submission(
        "Địa điểm: hẻm 12 đường Nguyễn Thiện Thuật, phường Nha Trang, cống bị tắc.",
        in_reply_to=vague.tracking_code,
        address=None,
    )
    await publisher(answer)
    case = await wait_for_case(
        store, {"submission_id": vague.submission_id, "status": {"$ne": "needs_info"}}
    )
    assert case["status"] in {"assigned", "triage"}
    assert case["field"] == "cap-thoat-nuoc"
    pause = case["sla"]["paused"][0]
    assert pause["to"] is not None and pause["to"] >= pause["from"]
    if case["status"] == "assigned":
        calendar = WorkCalendar.from_config_dir(router.app[SETTINGS].config_dir)
        expected = calendar.due_at(
            vague.received_at,
            case["sla"]["working_days"],
            [(pause["from"], pause["to"])],
            now=datetime.now(UTC),
        )
        assert case["due_at"] == expected
    kinds = [e.event for e in await events_of(events, vague.tracking_code)]
    assert kinds[0] == "needs_info" and kinds[-1] in {"assigned", "triage"}


async def test_an_exact_repeat_is_a_duplicate_of_the_first(
    router: RouterClient, publisher: Publish, store: Store
) -> None:
    first = make_submission(POTHOLE)
    await publisher(first)
    first_case = await wait_for_case(store, {"submission_id": first.submission_id})
    again = make_submission(POTHOLE.upper().replace("Ổ GÀ", "ổ gà"))
    await publisher(again)
    repeat = await wait_for_case(store, {"submission_id": again.submission_id})
    assert repeat["status"] == "duplicate"
    assert repeat["duplicate_of"] == first_case["tracking_code"]


async def test_healthz_and_metrics(router: RouterClient, publisher: Publish, store: Store) -> None:
    submission = make_submission(LIGHT)
    await publisher(submission)
    await wait_for_case(store, {"submission_id": submission.submission_id})
    assert (await router.get("/healthz")).status == 200
    text = await (await router.get("/metrics")).text()
    assert 'pakn_router_decisions_total{decision="assign",field="chieu-sang",method="rule"}' in text
    assert "pakn_router_batch_size_bucket" in text
    assert json.loads(await (await router.get("/healthz")).text())["checks"]["routing"] == "ok"


async def test_the_commune_picked_from_the_list_places_a_street_only_address(
    router: RouterClient, publisher: Publish, store: Store
) -> None:
    street_only = make_submission(
        "Đèn đường trước số 120 bị tắt ba đêm liền, rất tối và nguy hiểm.", address="120 Trần Phú"
    )
    picked = make_submission(
        "Đèn đường trước số 88 bị tắt ba đêm liền, rất tối và nguy hiểm.", address="88 Trần Phú"
    )
    picked.location.commune = "Phường Bắc Nha Trang"
    await publisher(street_only)
    await publisher(picked)
    alone = await wait_for_case(store, {"submission_id": street_only.submission_id})
    placed = await wait_for_case(store, {"submission_id": picked.submission_id})
    assert alone["status"] == "triage"  # a street alone does not name the ward
    assert placed["status"] == "assigned"
    assert placed["lead_agency"] == "ubnd-phuong-bac-nha-trang"
    assert placed["location"]["commune_code"] == "22333"
