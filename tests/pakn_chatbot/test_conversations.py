"""The scripted conversations of tests/data/chatbot, played through the generic webhook
against the real broker, store and router; each ends in the expected case or reply."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from pakn.ids import parse_tracking_code
from pakn.store import Store
from pakn.worktime import VIETNAM_TZ
from tests.pakn_chatbot.conftest import ChatClient, Platforms, jpeg, say
from tests.pakn_router.conftest import RouterClient, wait_for_case

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


def test_there_are_enough_conversations_of_every_kind() -> None:
    kinds = {c["kind"] for c in CONVERSATIONS}
    assert len(CONVERSATIONS) >= 25
    assert {
        "terse", "chatty", "all_in_one", "corrections", "no_diacritics", "status",
        "cancellations", "emergencies", "photos",
    } <= kinds  # fmt: skip
    assert len({c["id"] for c in CONVERSATIONS}) == len(CONVERSATIONS)


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=[c["id"] for c in CONVERSATIONS])
async def test_conversation(
    conversation: dict[str, Any],
    chat: ChatClient,
    router: RouterClient,
    platforms: Platforms,
    store: Store,
) -> None:
    platforms.photos["red.jpg"] = jpeg()
    platforms.photos["notes.txt"] = b"ghi chu, khong phai anh"
    user = f"widget-{conversation['id']}"
    code: str | None = None
    for number, turn in enumerate(conversation["turns"], start=1):
        text = str(turn.get("say") or "")
        if "{code}" in text:
            assert code is not None, "the conversation has no code yet"
            text = text.replace("{code}", code)
        extra: dict[str, Any] = {}
        if turn.get("photo"):
            extra["attachments"] = [platforms.url(f"/photos/{turn['photo']}")]
        replies = await say(chat, user, text, **extra)
        joined = "\n".join(replies)
        where = f"turn {number} ({text!r}) got {replies!r}"
        for expected in turn.get("expect") or []:
            assert expected in joined, where
        for unexpected in turn.get("expect_not") or []:
            assert unexpected not in joined, where
        if turn.get("first"):
            assert replies and turn["first"] in replies[0], where
        if match := CODE.search(joined):
            code = match.group(1)
        if turn.get("wait_case"):
            assert code is not None, where
            await wait_for_case(store, {"tracking_code": parse_tracking_code(code)}, within=20)

    if conversation.get("no_case"):
        await asyncio.sleep(0.3)
        assert await store.cases.count_documents({"channel": "chatbot"}) == 0
        return
    expected = conversation.get("case")
    if expected is None:
        return
    assert code is not None, "the conversation ended without a tracking code"
    case = await wait_for_case(store, {"tracking_code": parse_tracking_code(code)}, within=20)
    _check_case(case, expected)


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
        today = datetime.now(VIETNAM_TZ).date()
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
    assert datetime.now(UTC) - received < timedelta(minutes=5)
