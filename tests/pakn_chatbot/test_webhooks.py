"""The platform webhooks end to end: signatures, redeliveries, the outbox, restarts, tokens,
and news about a case sent back through the chat it came from."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from pakn.store import Store
from pakn_chatbot import messages, sessions
from pakn_chatbot.outbox import COLLECTION as OUTBOX
from pakn_chatbot.platforms import messenger_sign, zalo_mac
from tests.pakn_chatbot.conftest import (
    MESSENGER_SECRET,
    MESSENGER_VERIFY,
    ZALO_APP_ID,
    ZALO_OA_SECRET,
    ChatClient,
    ChatFactory,
    Platforms,
    say,
)
from tests.pakn_router.conftest import RouterClient, wait_for_case

ALL_IN_ONE = (
    "Tôi là Nguyễn Văn An, tối qua lúc 9h đèn đường trước 120 Trần Phú, phường Nha Trang bị "
    "tắt, rất tối. SĐT 0912 345 678"
)


def messenger_body(user: str, mid: str, text: str, **message: Any) -> bytes:
    body = {
        "object": "page",
        "entry": [
            {
                "id": "page-1",
                "time": 1764745200000,
                "messaging": [
                    {
                        "sender": {"id": user},
                        "recipient": {"id": "page-1"},
                        "timestamp": int(datetime.now(UTC).timestamp() * 1000),
                        "message": {"mid": mid, "text": text, **message},
                    }
                ],
            }
        ],
    }
    return json.dumps(body, ensure_ascii=False).encode()


async def post_messenger(chat: ChatClient, raw: bytes, signature: str | None = None) -> int:
    headers = {"Content-Type": "application/json"}
    headers["X-Hub-Signature-256"] = signature or messenger_sign(raw, MESSENGER_SECRET)
    response = await chat.post("/webhook/messenger", data=raw, headers=headers)
    return response.status


def zalo_body(user: str, msg_id: str, text: str) -> bytes:
    body = {
        "app_id": ZALO_APP_ID,
        "user_id_by_app": f"app-{user}",
        "event_name": "user_send_text",
        "sender": {"id": user},
        "recipient": {"id": "oa-1"},
        "message": {"msg_id": msg_id, "text": text},
        "timestamp": str(int(datetime.now(UTC).timestamp() * 1000)),
    }
    return json.dumps(body, ensure_ascii=False).encode()


async def post_zalo(chat: ChatClient, raw: bytes, mac: str | None = None) -> int:
    body = json.loads(raw)
    mac = mac or zalo_mac(raw, body["app_id"], body["timestamp"], ZALO_OA_SECRET)
    response = await chat.post(
        "/webhook/zalo",
        data=raw,
        headers={"Content-Type": "application/json", "X-ZEvent-Signature": f"mac={mac}"},
    )
    return response.status


async def test_messenger_subscription_handshake(chat: ChatClient) -> None:
    ok = await chat.get(
        "/webhook/messenger",
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": MESSENGER_VERIFY,
            "hub.challenge": "1158201444",
        },
    )
    assert ok.status == 200 and await ok.text() == "1158201444"
    wrong = await chat.get(
        "/webhook/messenger",
        params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"},
    )
    assert wrong.status == 403


async def test_forged_messenger_and_zalo_requests_are_refused(
    chat: ChatClient, store: Store, platforms: Platforms
) -> None:
    raw = messenger_body("psid-forged", "m_forged", "Đèn đường bị tắt ba đêm liền rất tối")
    assert await post_messenger(chat, raw, "sha256=" + "0" * 64) == 403
    assert await post_messenger(chat, raw, messenger_sign(raw, "stolen-guess")) == 403
    response = await chat.post("/webhook/messenger", data=raw)
    assert response.status == 403
    zraw = zalo_body("zalo-forged", "z_forged", "Cây đổ chắn ngang đường")
    assert await post_zalo(chat, zraw, "0" * 64) == 403
    tampered = zraw.replace("Cây đổ".encode(), "Cây ngã".encode())
    body = json.loads(zraw)
    good_mac = zalo_mac(zraw, body["app_id"], body["timestamp"], ZALO_OA_SECRET)
    assert await post_zalo(chat, tampered, good_mac) == 403
    await asyncio.sleep(0.5)
    assert await store.db["chatbot_inbox"].count_documents({}) == 0
    assert await store.db[sessions.COLLECTION].count_documents({}) == 0
    assert platforms.messenger == [] and platforms.zalo == []
    metrics = await (await chat.get("/metrics")).text()
    assert 'pakn_chatbot_rejected_signatures_total{platform="messenger"} 3.0' in metrics
    assert 'pakn_chatbot_rejected_signatures_total{platform="zalo"} 2.0' in metrics


async def test_a_redelivered_messenger_event_is_one_turn(
    chat: ChatClient, store: Store, platforms: Platforms
) -> None:
    raw = messenger_body("psid-1", "m_once", ALL_IN_ONE)
    assert await post_messenger(chat, raw) == 200
    await platforms.wait_for(
        lambda: any(messages.CONSENT in t for t in platforms.texts("messenger"))
    )
    first = list(platforms.texts("messenger"))
    # Meta sends the same event again (it did not see our 200 in time, say).
    assert await post_messenger(chat, raw) == 200
    assert await post_messenger(chat, raw) == 200
    await asyncio.sleep(1.0)
    assert platforms.texts("messenger") == first
    assert first.count(messages.CONSENT) == 1
    doc = await store.db[sessions.COLLECTION].find_one({"_id": "messenger:psid-1"})
    assert doc is not None and doc["version"] == 1
    assert all(m["recipient"]["id"] == "psid-1" for m in platforms.messenger)
    assert all(m["messaging_type"] == "RESPONSE" for m in platforms.messenger)


async def test_a_failing_platform_send_is_retried_and_sent_once(
    chat: ChatClient, platforms: Platforms, store: Store
) -> None:
    platforms.fail_next = 2
    assert await post_zalo(chat, zalo_body("zalo-1", "z1", ALL_IN_ONE)) == 200
    await platforms.wait_for(lambda: any(messages.CONSENT in t for t in platforms.texts("zalo")))
    await asyncio.sleep(0.6)
    texts = platforms.texts("zalo")
    assert len(texts) == len(set(texts)), "a reply was sent twice"
    assert texts[-1] == messages.CONSENT
    assert platforms.attempts == len(texts) + 2
    sent = await store.db[OUTBOX].count_documents({"status": "sent", "platform": "zalo"})
    assert sent == len(texts)
    assert await store.db[OUTBOX].count_documents({"status": {"$ne": "sent"}}) == 0


async def test_the_zalo_access_token_is_refreshed_when_it_expires(
    chat_factory: ChatFactory, platforms: Platforms, store: Store
) -> None:
    from pydantic import SecretStr

    platforms.expired_token = "access-0"
    chat = await chat_factory(zalo_refresh_token=SecretStr("refresh-0"))
    assert await post_zalo(chat, zalo_body("zalo-2", "z2", "xin chào")) == 200
    await platforms.wait_for(lambda: bool(platforms.zalo))
    assert platforms.refreshes[0]["refresh_token"] == "refresh-0"
    assert platforms.refreshes[0]["grant_type"] == "refresh_token"
    assert platforms.refreshes[0]["app_id"] == ZALO_APP_ID
    assert platforms.refreshes[0]["secret_key"] == "zalo-app-secret"
    assert set(platforms.zalo_tokens) == {"access-1"}
    kept = await store.db["chatbot_tokens"].find_one({"_id": "zalo"})
    assert kept is not None and kept["refresh_token"] == "refresh-1"


async def test_a_restart_mid_conversation_resumes_it(
    chat_factory: ChatFactory, store: Store
) -> None:
    first = await chat_factory()
    await say(first, "w-restart", "Cây xanh bị ngã đổ chắn ngang đường Yersin, phường Nha Trang")
    replies = await say(first, "w-restart", "chiều qua")
    assert messages.ASK["name"] in replies
    await first.close()
    second = await chat_factory()
    replies = await say(second, "w-restart", "Võ Văn Tâm")
    assert replies == [messages.ASK["phone"]]
    replies = await say(second, "w-restart", "0914 222 333")
    assert messages.CONSENT in replies


async def test_the_widget_sending_a_message_again_gets_the_same_answer(chat: ChatClient) -> None:
    first = await say(chat, "w-again", "Xin chào", message_id="a1")
    again = await say(chat, "w-again", "Xin chào", message_id="a1")
    assert again == first
    assert await say(chat, "w-again", "hủy", message_id="a2") == [messages.CANCELLED]


async def test_citizens_hear_of_their_case_through_their_chat(
    chat: ChatClient, router: RouterClient, platforms: Platforms, store: Store
) -> None:
    for n, text in enumerate([ALL_IN_ONE, "đồng ý", "gửi"]):
        assert await post_messenger(chat, messenger_body("psid-news", f"m_news_{n}", text)) == 200
        await asyncio.sleep(0.3)
    await platforms.wait_for(lambda: any("Mã hồ sơ" in t for t in platforms.texts("messenger")))
    case = await wait_for_case(store, {"channel": "chatbot"}, within=20)
    assert case["channel_ref"] == "messenger:psid-news:1"
    assert case["notify_via"] == "chatbot"
    assert case["status"] == "assigned"
    await platforms.wait_for(
        lambda: any("đã được chuyển đến" in t for t in platforms.texts("messenger")), within=20
    )
    news = [t for t in platforms.texts("messenger") if "đã được chuyển đến" in t]
    assert len(news) == 1 and "Ủy ban nhân dân phường Nha Trang" in news[0]
    assert "Nguyễn Văn An" not in news[0]


async def test_outside_the_window_a_refused_update_is_recorded_not_retried(
    chat: ChatClient, platforms: Platforms, store: Store
) -> None:
    from pakn.ids import new_event_id, new_tracking_code
    from pakn.schema import CaseEvent, Channel, EventKind, Status
    from pakn_chatbot.app import NOTIFIER

    platforms.refuse_tags = True
    await store.db[sessions.COLLECTION].insert_one(
        {"_id": "messenger:psid-old", "platform": "messenger", "user_id": "psid-old",
         "state": {}, "version": 1, "last_inbound_at": datetime.now(UTC) - timedelta(days=3)}
    )  # fmt: skip
    event = CaseEvent(
        event_id=new_event_id(),
        event=EventKind.ASSIGNED,
        at=datetime.now(UTC),
        submission_id="chatbot:" + "0" * 32,
        tracking_code=new_tracking_code(),
        status=Status.ASSIGNED,
        lead_agency="ubnd-phuong-nha-trang",
        due_at=datetime.now(UTC) + timedelta(days=1),
        channel=Channel.CHATBOT,
        channel_ref="messenger:psid-old:4",
    )
    assert chat.app is not None
    notifier = chat.app[NOTIFIER]
    await notifier(event)
    await notifier(event)  # the follower's at-least-once: the same event again
    doc = await _settled(store, f"case:{event.event_id}")
    assert doc["status"] == "refused"
    assert doc["attempts"] == 1
    assert await store.db[OUTBOX].count_documents({"kind": "update"}) == 1
    assert platforms.messenger == []


async def _settled(store: Store, entry: str) -> dict[str, Any]:
    """The outbox entry once the sender is done with it (sent, refused or given up)."""
    async with asyncio.timeout(10):
        while True:
            doc = await store.db[OUTBOX].find_one({"_id": entry})
            if doc is not None and doc["status"] in {"sent", "refused", "gave_up"}:
                return doc
            await asyncio.sleep(0.1)


async def test_an_abandoned_conversation_expires_politely(
    chat: ChatClient, platforms: Platforms, store: Store
) -> None:
    from pakn_chatbot.app import CHATBOT

    assert (
        await post_zalo(chat, zalo_body("zalo-quiet", "zq1", "Cây xanh bị ngã đổ chắn ngang đường"))
        == 200
    )
    await platforms.wait_for(
        lambda: any(messages.ASK["place"] in t for t in platforms.texts("zalo"))
    )
    # Two days of silence.
    await store.db[sessions.COLLECTION].update_one(
        {"_id": "zalo:zalo-quiet"},
        {"$set": {"draft_touched_at": datetime.now(UTC) - timedelta(days=2)}},
    )
    assert chat.app is not None
    assert await chat.app[CHATBOT].sweep() == 1
    assert await chat.app[CHATBOT].sweep() == 0  # told once
    await platforms.wait_for(lambda: messages.EXPIRED in platforms.texts("zalo"))
    doc = await store.db[sessions.COLLECTION].find_one({"_id": "zalo:zalo-quiet"})
    assert doc is not None and doc["state"]["draft"] is None and doc["has_draft"] is False
    metrics = await (await chat.get("/metrics")).text()
    assert 'pakn_chatbot_conversations_abandoned_total{platform="zalo"}' in metrics
    assert 'pakn_chatbot_conversations_started_total{platform="zalo"}' in metrics
