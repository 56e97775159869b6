"""The widget's rate limit on the running chatbot: a flood is told in Vietnamese when to come
back, nothing of it is stored, other citizens go on, and the budget refills."""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any

from aiohttp import ClientResponse
from prometheus_client import REGISTRY

from pakn.store import Store
from pakn_chatbot import messages, sessions
from tests.pakn_chatbot.conftest import ChatClient, ChatFactory, say

#: The test client connects from 127.0.0.1: trusting it lets X-Forwarded-For be the address.
PROXY = [ipaddress.ip_network("127.0.0.1/32")]
NAT = "203.0.113.7"
OTHER = "198.51.100.20"
TEXT = "Đèn đường trước 120 Trần Phú, phường Nha Trang bị tắt từ tối qua."


def refusals(key: str) -> float:
    return REGISTRY.get_sample_value("pakn_chatbot_rate_limited_total", {"key": key}) or 0.0


async def post(chat: ChatClient, user: str, address: str = NAT) -> ClientResponse:
    return await chat.post(
        "/webhook/generic",
        json={"user_id": user, "text": TEXT},
        headers={"X-Forwarded-For": address},
    )


async def session_of(store: Store, user: str) -> dict[str, Any] | None:
    doc: dict[str, Any] | None = await store.db[sessions.COLLECTION].find_one(
        {"_id": sessions.session_key("generic", user)}
    )
    return doc


async def assert_refused(response: ClientResponse) -> int:
    """The 429 the widget can show: Retry-After, and the Vietnamese text as its reply."""
    assert response.status == 429, await response.text()
    wait = int(response.headers["Retry-After"])
    assert wait >= 1
    body = await response.json()
    text = messages.RATE_LIMITED.format(seconds=wait)
    assert body == {"error": "rate_limited", "message": text, "replies": [text]}
    assert "vui lòng chờ" in text
    return wait


async def test_a_flood_from_one_user_is_refused_unstored_and_the_budget_refills(
    chat_factory: ChatFactory, store: Store
) -> None:
    chat = await chat_factory(
        trusted_proxies=PROXY, chatbot_user_burst=2, chatbot_user_per_minute=30
    )
    before = refusals("user")
    for _ in range(2):
        assert (await post(chat, "flood")).status == 200
    kept = await session_of(store, "flood")
    assert kept is not None

    waits = [await assert_refused(await post(chat, "flood")) for _ in range(3)]
    assert refusals("user") - before == 3
    assert await session_of(store, "flood") == kept  # the refused turns left no trace
    # Another citizen, even behind the same address, is not affected.
    assert await say(chat, "neighbour", TEXT)

    # One token each 2 s: waiting as long as the widget is told to is enough.
    await asyncio.sleep(max(waits))
    assert (await post(chat, "flood")).status == 200
    after = await session_of(store, "flood")
    assert after is not None and after["version"] > kept["version"]
    assert refusals("user") - before == 3


async def test_one_address_is_limited_for_every_id_it_makes_up_but_not_by_one_id(
    chat_factory: ChatFactory, store: Store
) -> None:
    chat = await chat_factory(
        trusted_proxies=PROXY,
        chatbot_user_burst=2,
        chatbot_user_per_minute=1,
        chatbot_address_burst=4,
        chatbot_address_per_minute=1,
    )
    by_user, by_address = refusals("user"), refusals("address")
    # One abusive id spends its own budget only: the address behind it keeps its own.
    statuses = [(await post(chat, "abuser")).status for _ in range(6)]
    assert statuses == [200, 200, 429, 429, 429, 429]
    assert refusals("user") - by_user == 4
    assert refusals("address") - by_address == 0

    # A client making up a new id per message runs out of the address's budget (4, of which
    # the abuser took 2): the next new id is refused, and no session is made for it.
    assert (await post(chat, "rotating-1")).status == 200
    assert (await post(chat, "rotating-2")).status == 200
    await assert_refused(await post(chat, "rotating-3"))
    assert refusals("address") - by_address == 1
    assert await session_of(store, "rotating-3") is None
    generic = {"_id": {"$regex": "^generic:"}}
    assert await store.db[sessions.COLLECTION].count_documents(generic) == 3

    # Another address is not affected.
    assert (await post(chat, "elsewhere", OTHER)).status == 200
    assert await session_of(store, "elsewhere") is not None
