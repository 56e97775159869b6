"""The scripted conversations of tests/data/chatbot, played through the generic webhook
against the real broker, store and router; each ends in the expected case or reply."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from pakn.ids import parse_tracking_code
from pakn.store import Store, open_store
from pakn.worktime import VIETNAM_TZ
from pakn_chatbot.app import init_app
from pakn_router.app import init_app as init_router
from pakn_router.settings import RouterSettings
from tests.fixtures.store import settings_for_test, unique_database_name, url_with_database
from tests.pakn_chatbot.conftest import (
    ChatClient,
    Platforms,
    chatbot_test_settings,
    jpeg,
    platform_server,
    say,
)
from tests.pakn_router.conftest import wait_for_case

DATA = Path(__file__).parents[1] / "data" / "chatbot"
CODE = re.compile(r"Mã hồ sơ: (\d{3} \d{3} \d{4})")


def _conversations() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for path in sorted(DATA.glob("*.yaml")):
        for conversation in yaml.safe_load(path.read_text(encoding="utf-8")):
            conversation["kind"] = path.stem
            found.append(conversation)
    return found


CONVERSATIONS = _conversations()


def _evening_clock() -> Callable[[], datetime]:
    """Real time moved back to the latest 21:00 in Khánh Hòa: the citizens' "sáng nay" and
    "chiều nay lúc 3 giờ" then lie behind their "now" at whatever hour the suite runs (at
    7:00 "chiều nay lúc 3 giờ" is rightly refused as ahead)."""
    local = datetime.now(VIETNAM_TZ)
    evening = local.replace(hour=21, minute=0, second=0, microsecond=0)
    if evening > local:
        evening -= timedelta(days=1)
    shift = local - evening
    return lambda: datetime.now(UTC) - shift


#: The conversations' clock (the chatbot's, and what their cases are checked against).
CLOCK = _evening_clock()


def test_there_are_enough_conversations_of_every_kind() -> None:
    kinds = {c["kind"] for c in CONVERSATIONS}
    assert len(CONVERSATIONS) >= 25
    assert {
        "terse", "chatty", "all_in_one", "corrections", "no_diacritics", "status",
        "cancellations", "emergencies", "photos",
    } <= kinds  # fmt: skip
    assert len({c["id"] for c in CONVERSATIONS}) == len(CONVERSATIONS)


@dataclass
class Played:
    """One conversation as it went: what failed on the way, and the case it ended in."""

    failures: list[str] = field(default_factory=list)
    code: str | None = None
    case: dict[str, Any] | None = None
    chat_cases: int = 0


@pytest.fixture(scope="module")
async def played(
    mongodb_url: str, amqp_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[dict[str, Played]]:
    """Every conversation played at once, each by its own citizen, against one chatbot and
    one router on their own database: starting them once keeps the suite quick."""
    database = unique_database_name()
    url = url_with_database(mongodb_url, database)
    var = tmp_path_factory.mktemp("conversations")
    store = open_store(mongodb_url, database=database, appname="pakn-test")
    await store.ensure_indexes()
    router_settings = settings_for_test(
        RouterSettings, url, var / "router", amqp_url=SecretStr(amqp_url),
        router_batch_wait=0.01, router_sweep_interval=3600,
    )  # fmt: skip
    try:
        async with platform_server() as platforms:
            platforms.photos["red.jpg"] = jpeg()
            platforms.photos["notes.txt"] = b"ghi chu, khong phai anh"
            settings = chatbot_test_settings(url, amqp_url, var / "chatbot", platforms)
            router = TestServer(await init_router(router_settings))
            chat = TestClient(TestServer(await init_app(settings, clock=CLOCK)))
            await router.start_server()
            await chat.start_server()
            try:
                outcomes = await asyncio.gather(
                    *(_play(c, chat, platforms, store) for c in CONVERSATIONS)
                )
                yield {c["id"]: outcome for c, outcome in zip(CONVERSATIONS, outcomes, strict=True)}
            finally:
                await chat.close()
                await router.close()
    finally:
        await store.client.drop_database(database)
        await store.close()


async def _play(
    conversation: dict[str, Any], chat: ChatClient, platforms: Platforms, store: Store
) -> Played:
    user = f"widget-{conversation['id']}"
    outcome = Played()
    for number, turn in enumerate(conversation["turns"], start=1):
        text = str(turn.get("say") or "")
        if "{code}" in text:
            if outcome.code is None:
                outcome.failures.append(f"turn {number}: no code to ask about")
                return outcome
            text = text.replace("{code}", outcome.code)
        extra: dict[str, Any] = {}
        if turn.get("photo"):
            extra["attachments"] = [platforms.url(f"/photos/{turn['photo']}")]
        replies = await say(chat, user, text, **extra)
        joined = "\n".join(replies)
        where = f"turn {number} ({text!r}) got {replies!r}"
        outcome.failures += [
            f"{where}: no {e!r}" for e in turn.get("expect") or [] if e not in joined
        ]
        outcome.failures += [
            f"{where}: unwanted {e!r}" for e in turn.get("expect_not") or [] if e in joined
        ]
        if turn.get("first") and not (replies and turn["first"] in replies[0]):
            outcome.failures.append(f"{where}: {turn['first']!r} not first")
        if match := CODE.search(joined):
            outcome.code = parse_tracking_code(match.group(1))
        if turn.get("wait_case") and outcome.code is not None:
            await wait_for_case(store, {"tracking_code": outcome.code}, within=30)
    if outcome.code is not None and conversation.get("case") is not None:
        outcome.case = await wait_for_case(store, {"tracking_code": outcome.code}, within=30)
    await asyncio.sleep(0.5)  # anything wrongly submitted has reached the router by now
    outcome.chat_cases = await store.cases.count_documents(
        {"channel_ref": {"$regex": f"^generic:{user}:"}}
    )
    return outcome


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=[c["id"] for c in CONVERSATIONS])
def test_conversation(conversation: dict[str, Any], played: dict[str, Played]) -> None:
    outcome = played[conversation["id"]]
    assert outcome.failures == []
    if conversation.get("no_case"):
        assert outcome.chat_cases == 0
        return
    expected = conversation.get("case")
    if expected is None:
        return
    assert outcome.case is not None, "the conversation ended without a case"
    assert outcome.chat_cases == 1
    _check_case(outcome.case, expected)


def _check_case(case: dict[str, Any], expected: dict[str, Any]) -> None:
    assert case["channel"] == "chatbot"
    assert case["channel_ref"].startswith("generic:widget-")
    assert case["consent"]["version"]
    if "field" in expected:
        assert case["field"] == expected["field"], case.get("routing")
    if "status" in expected:
        assert case["status"] == expected["status"]
    if "priority" in expected:
        assert case["priority"] == expected["priority"]
    if "commune_code" in expected:
        assert case["location"]["commune_code"] == expected["commune_code"], case["location"]
    if "commune" in expected:
        assert case["location"]["commune"] == expected["commune"], case["location"]
    if "name" in expected:
        assert case["submitter"]["name"] == expected["name"]
    if "phone" in expected:
        assert case["submitter"]["phone"] == expected["phone"]
    if "occurred_day" in expected:
        occurred = case["occurred_at"].replace(tzinfo=UTC).astimezone(VIETNAM_TZ)
        today = CLOCK().astimezone(VIETNAM_TZ).date()
        # A conversation played across midnight reads "hôm qua" from the day it started.
        assert (today - occurred.date()).days in {
            expected["occurred_day"],
            expected["occurred_day"] + 1,
        }, occurred
        if "occurred_hour" in expected:
            assert occurred.hour == expected["occurred_hour"], occurred
    if "problems" in expected:
        got = sorted(f"{p['field']}/{p['code']}" for p in case.get("problems") or [])
        assert got == sorted(expected["problems"])
    if "photos" in expected:
        assert len(case.get("attachments") or []) == expected["photos"]
    if "confidential" in expected:
        assert case["confidential"] is expected["confidential"]
    # The citizen's confirmation is the moment of receipt, and it is recent.
    received = case["received_at"].replace(tzinfo=UTC)
    assert CLOCK() - received < timedelta(minutes=5)
