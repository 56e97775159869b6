"""Dead letters against the real broker and store: kept with reason, stage and the original
message; replayed once the cause is fixed; discarded only by an operator, and never deleted."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp.web import Application

from pakn.auth.users import Role
from pakn.bus import (
    DEAD_EXCHANGE,
    DEAD_QUEUE,
    HEADER_DEAD_AT,
    HEADER_ERROR,
    HEADER_ORIGINAL_EXCHANGE,
    HEADER_ORIGINAL_ROUTING_KEY,
    HEADER_STAGE,
    INTAKE_EXCHANGE,
    SUBMISSIONS_QUEUE,
    Bus,
)
from pakn.store import Store
from pakn_router.app import init_app
from pakn_router.monitor.dead_letters import (
    HEADER_REPLAYED_FROM,
    Delivered,
    dead_letter_id,
    describe,
    letter_body,
    original_body,
    replay_headers,
)
from pakn_router.settings import RouterSettings
from tests.fixtures.broker import QueueInspector
from tests.pakn_router.conftest import RouterClient, make_submission, raw_publish, wait_for_case
from tests.pakn_router.test_monitor_api import get_json, post_json, sign_in

POISON = b'{"submission_id": "web:nope", "content": 42}'
NOW = datetime(2026, 11, 30, 2, 15, tzinfo=UTC)


async def wait_for_letters(
    store: Store, count: int, query: dict[str, Any] | None = None, *, within: float = 10.0
) -> list[dict[str, Any]]:
    async with asyncio.timeout(within):
        while True:
            found = await store.dead_letters.find(query or {}).sort("received_at", 1).to_list()
            if len(found) >= count:
                return found
            await asyncio.sleep(0.05)


# --- what is kept (pure) --------------------------------------------------------------------


def test_a_router_dead_letter_keeps_why_where_and_the_message() -> None:
    letter = describe(
        Delivered(
            body=POISON,
            headers={
                "schema_version": 1,
                HEADER_ERROR: "invalid submission: content: Input should be a valid string",
                HEADER_STAGE: "parse",
                HEADER_ORIGINAL_EXCHANGE: INTAKE_EXCHANGE,
                HEADER_ORIGINAL_ROUTING_KEY: "submission.web",
                HEADER_DEAD_AT: "2026-11-30T02:14:59.123+00:00",
            },
            message_id="m-1",
            content_type="application/json",
            routing_key="submission.web",
        ),
        NOW,
    )
    assert (letter["source"], letter["stage"], letter["status"]) == ("router", "parse", "new")
    assert letter["reason"].startswith("invalid submission")
    assert (letter["exchange"], letter["routing_key"]) == (INTAKE_EXCHANGE, "submission.web")
    assert letter["dead_at"] == datetime(2026, 11, 30, 2, 14, 59, 123000, tzinfo=UTC)
    assert (letter["body"], letter["body_encoding"]) == (POISON.decode(), "utf-8")
    assert letter["submission_id"] == "web:nope"
    assert letter["_id"] == dead_letter_id("m-1", letter["dead_at"], b"anything")
    assert letter["_id"] != dead_letter_id("m-1", NOW, POISON), "a second death is a new letter"
    # Replayed: its own headers go back, the record of its death does not.
    assert replay_headers(letter) == {"schema_version": 1, HEADER_REPLAYED_FROM: letter["_id"]}
    assert original_body(letter) == POISON


def test_a_broker_dead_letter_is_read_from_x_death() -> None:
    body = b"\xff\xfe not utf-8"
    letter = describe(
        Delivered(
            body=body,
            headers={
                "x-first-death-reason": "delivery_limit",
                "x-first-death-queue": SUBMISSIONS_QUEUE,
                "x-first-death-exchange": INTAKE_EXCHANGE,
                "x-death": [
                    {
                        "reason": "delivery_limit",
                        "queue": SUBMISSIONS_QUEUE,
                        "exchange": INTAKE_EXCHANGE,
                        "routing-keys": [b"submission.email"],
                        "time": datetime(2026, 11, 30, 2, 0, tzinfo=UTC),
                        "count": 1,
                    }
                ],
            },
        ),
        NOW,
    )
    assert (letter["source"], letter["stage"]) == ("broker", "broker")
    assert "delivery_limit" in letter["reason"] and SUBMISSIONS_QUEUE in letter["reason"]
    assert (letter["exchange"], letter["routing_key"]) == (INTAKE_EXCHANGE, "submission.email")
    assert letter["dead_at"] == datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    assert letter["body_encoding"] == "base64"
    assert base64.b64decode(letter["body"]) == body == original_body(letter)
    assert letter["headers"]["x-death"][0]["routing-keys"] == ["submission.email"]
    assert replay_headers(letter) == {HEADER_REPLAYED_FROM: letter["_id"]}


# --- through the router ---------------------------------------------------------------------


async def test_a_poison_message_is_kept_acked_and_dies_again_if_replayed_unfixed(
    router: RouterClient, store: Store, amqp_url: str, events: QueueInspector
) -> None:
    operator = await sign_in(router, store, "dieu.phoi", Role.OPERATOR)
    await raw_publish(amqp_url, POISON)
    (stored,) = await wait_for_letters(store, 1)

    (shown,) = (await get_json(router, "/api/v1/dead-letters", operator))["items"]
    assert shown["id"] == stored["_id"]
    assert (shown["stage"], shown["exchange"], shown["routing_key"]) == (
        "parse",
        INTAKE_EXCHANGE,
        "submission.web",
    )
    assert "invalid submission" in shown["reason"]
    assert shown["body"] == POISON.decode() and shown["message_id"] == "poison"
    assert await events.depth(DEAD_QUEUE) == 0, "stored, then acked: nothing left to loop"
    detail = await get_json(router, f"/api/v1/dead-letters/{stored['_id']}", operator)
    assert detail["status"] == "new"

    replayed = await post_json(router, f"/api/v1/dead-letters/{stored['_id']}/replay", operator, {})
    assert (replayed["status"], replayed["replayed_by"], replayed["replays"]) == (
        "replayed",
        "dieu.phoi",
        1,
    )
    # Still broken: the router refuses it again, and the new letter says where it came from.
    first, second = await wait_for_letters(store, 2)
    assert second["replayed_from"] == first["_id"] == stored["_id"]
    assert second["status"] == "new"
    assert await store.cases.count_documents({}) == 0
    audit = await store.audit.find_one({"action": "dead_letter.replay"})
    assert audit is not None and audit["target"] == stored["_id"]


async def test_a_poison_message_over_16_mb_is_kept_acked_shown_and_replayable(
    router: RouterClient, store: Store, amqp_url: str, events: QueueInspector
) -> None:
    """A document holds 16 MB: a bigger body goes to GridFS, so the keeper never blocks."""
    operator = await sign_in(router, store, "dieu.phoi.lon", Role.OPERATOR)
    huge = b'{"submission_id": "web:huge", "content": "' + b"a" * (17 * 1024**2) + b'"}'
    await raw_publish(amqp_url, huge)
    await raw_publish(amqp_url, POISON)
    letters = await wait_for_letters(store, 2, within=60)
    (big,) = [letter for letter in letters if letter["body_size"] == len(huge)]
    assert big["body_encoding"] == "gridfs" and big["body"] is None
    assert big["body_preview"].startswith('{"submission_id": "web:huge"')
    assert await letter_body(store, big) == huge
    assert await events.depth(DEAD_QUEUE) == 0, "both stored and acked: nothing blocks"

    listed = (await get_json(router, "/api/v1/dead-letters", operator))["items"]
    assert {item["id"] for item in listed} == {letter["_id"] for letter in letters}
    page = await router.get(f"/tin-loi/{big['_id']}", cookies=operator.cookies)
    assert page.status == 200 and "được lưu riêng" in await page.text()

    await post_json(router, f"/api/v1/dead-letters/{big['_id']}/replay", operator, {})
    again = await wait_for_letters(store, 1, {"replayed_from": big["_id"]}, within=60)
    assert await letter_body(store, again[0]) == huge


async def test_the_same_dead_letter_delivered_twice_is_kept_once(
    router: RouterClient, store: Store, bus: Bus
) -> None:
    headers = {
        HEADER_ERROR: "invalid submission",
        HEADER_STAGE: "parse",
        HEADER_ORIGINAL_EXCHANGE: INTAKE_EXCHANGE,
        HEADER_ORIGINAL_ROUTING_KEY: "submission.web",
        HEADER_DEAD_AT: "2026-11-30T02:14:59.123+00:00",
    }
    for _ in range(2):
        await bus.publish_raw(
            DEAD_EXCHANGE,
            "submission.web",
            POISON,
            message_id="twice",
            correlation_id=None,
            headers=headers,
            timeout=5,
        )
    await wait_for_letters(store, 1)
    await asyncio.sleep(0.3)
    assert await store.dead_letters.count_documents({}) == 1


async def test_a_crash_loop_dead_letter_becomes_a_case_once_replayed(
    aiohttp_client: Callable[[Application], Awaitable[RouterClient]],
    router_settings: RouterSettings,
    store: Store,
    bus: Bus,
    events: QueueInspector,
) -> None:
    """A submission that made its consumer fail until the broker's delivery limit gave up on
    it; once the router is fixed (here: running), replaying it makes the case."""
    submission = make_submission("Cống thoát nước trước chợ Xóm Mới bị tắc, nước tràn ra đường.")
    await bus.publish_submission(submission, timeout=5)
    async with asyncio.timeout(15):
        while await events.depth(DEAD_QUEUE) == 0:
            delivery = await events.get(SUBMISSIONS_QUEUE, ack=False)
            if delivery is not None:
                await delivery.reject(requeue=True)
    assert await events.depth(SUBMISSIONS_QUEUE) == 0

    router = await aiohttp_client(await init_app(router_settings))
    operator = await sign_in(router, store, "dieu.phoi", Role.OPERATOR)
    (letter,) = await wait_for_letters(store, 1)
    assert (letter["source"], letter["stage"]) == ("broker", "broker")
    assert "delivery_limit" in letter["reason"]
    assert (letter["exchange"], letter["routing_key"]) == (INTAKE_EXCHANGE, "submission.web")
    assert letter["tracking_code"] == submission.tracking_code
    assert await store.cases.count_documents({}) == 0

    await post_json(router, f"/api/v1/dead-letters/{letter['_id']}/replay", operator, {})
    case = await wait_for_case(store, {"submission_id": submission.submission_id})
    assert case["tracking_code"] == submission.tracking_code
    assert case["status"] in ("assigned", "triage")
    assert (await get_json(router, "/api/v1/dead-letters", operator))["items"] == []


async def test_discarding_needs_a_reason_and_keeps_the_letter(
    router: RouterClient, store: Store, amqp_url: str
) -> None:
    operator = await sign_in(router, store, "dieu.phoi", Role.OPERATOR)
    agency = await sign_in(router, store, "nv.yte", Role.AGENCY_STAFF, "so-y-te")
    await raw_publish(amqp_url, POISON)
    (letter,) = await wait_for_letters(store, 1)
    path = f"/api/v1/dead-letters/{letter['_id']}"

    await post_json(router, f"{path}/discard", agency, {"reason": "x"}, status=403)
    await get_json(router, path, agency, status=403)
    refused = await post_json(router, f"{path}/discard", operator, {"reason": "  "}, status=422)
    assert refused["errors"][0]["field"] == "reason"
    done = await post_json(
        router, f"{path}/discard", operator, {"reason": "Tin thử nghiệm của nhà cung cấp."}
    )
    assert (done["status"], done["discarded_by"]) == ("discarded", "dieu.phoi")
    again = await post_json(router, f"{path}/replay", operator, {}, status=409)
    assert again["error"] == "discarded"
    assert (await get_json(router, "/api/v1/dead-letters", operator))["items"] == []
    kept = (await get_json(router, "/api/v1/dead-letters?status=discarded", operator))["items"]
    assert [k["id"] for k in kept] == [letter["_id"]]
    assert await store.dead_letters.count_documents({}) == 1
    await get_json(router, "/api/v1/dead-letters/khong-co", operator, status=404)
    await get_json(router, "/api/v1/dead-letters?status=lost", operator, status=400)


async def test_the_dead_letter_pages_replay_and_discard_without_javascript(
    router: RouterClient, store: Store, amqp_url: str
) -> None:
    operator = await sign_in(router, store, "dieu.phoi", Role.OPERATOR)
    await raw_publish(amqp_url, POISON)
    await raw_publish(amqp_url, b"not json at all")
    first, second = await wait_for_letters(store, 2)
    html = {"Accept": "text/html"}

    page = await router.get("/tin-loi", cookies=operator.cookies, headers=html)
    text = await page.text()
    assert page.status == 200 and "Tin nhắn không xử lý được" in text
    assert f'value="{first["_id"]}"' in text and operator.csrf_token in text

    nothing = await router.post(
        "/tin-loi/phat-lai", data={"csrf_token": operator.csrf_token}, cookies=operator.cookies
    )
    assert nothing.status == 400 and "Chưa chọn tin nhắn nào." in await nothing.text()
    replayed = await router.post(
        "/tin-loi/phat-lai",
        data={"csrf_token": operator.csrf_token, "ids": [first["_id"], second["_id"]]},
        cookies=operator.cookies,
        allow_redirects=False,
    )
    assert replayed.status == 303
    assert replayed.headers["Location"] == "/tin-loi?xong=phat-lai&so=2"
    shown = await router.get(replayed.headers["Location"], cookies=operator.cookies, headers=html)
    assert "Đã phát lại 2 tin nhắn." in await shown.text()

    no_reason = await router.post(
        f"/tin-loi/{first['_id']}/loai-bo",
        data={"csrf_token": operator.csrf_token, "reason": ""},
        cookies=operator.cookies,
    )
    assert no_reason.status == 422 and "Vui lòng nêu lý do." in await no_reason.text()
    discarded = await router.post(
        f"/tin-loi/{first['_id']}/loai-bo",
        data={"csrf_token": operator.csrf_token, "reason": "Đã kiểm tra: dữ liệu thử."},
        cookies=operator.cookies,
        allow_redirects=False,
    )
    assert discarded.status == 303
    kept = await store.dead_letters.find_one({"_id": first["_id"]})
    assert kept is not None and kept["discard_reason"] == "Đã kiểm tra: dữ liệu thử."
    forged = await router.post(
        f"/tin-loi/{second['_id']}/loai-bo", data={"reason": "x"}, cookies=operator.cookies
    )
    assert forged.status == 403
