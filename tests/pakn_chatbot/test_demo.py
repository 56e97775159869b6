"""`pakn demo` chats its reports through the real chatbot as well as the web intake."""

from __future__ import annotations

import pytest

from pakn.bus import SUBMISSIONS_QUEUE
from pakn.commands.demo import demo_chats, demo_reports, run_demo
from tests.fixtures.broker import QueueInspector
from tests.pakn_chatbot.conftest import ChatClient
from tests.pakn_web.conftest import WebClient, web, web_client_factory

__all__ = ["web", "web_client_factory"]


async def test_the_demo_chats_reports_through_the_chatbot(
    web: WebClient,
    chat: ChatClient,
    amqp_queues: QueueInspector,
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = str(web.make_url("")).rstrip("/")
    chatbot = str(chat.make_url("")).rstrip("/")
    assert await run_demo(base, wait=0.2, chatbot=chatbot) == 0
    out = capsys.readouterr().out
    assert "✗" not in out
    assert out.count("(chat)") == len(demo_chats()) >= 2
    expected = len(demo_reports()) + len(demo_chats())
    assert await amqp_queues.depth(SUBMISSIONS_QUEUE) == expected
