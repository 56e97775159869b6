"""`pakn demo` sends only valid reports, through the real web intake."""

from __future__ import annotations

import pytest

from pakn.bus import SUBMISSIONS_QUEUE
from pakn.commands.demo import demo_reports, run_demo
from tests.fixtures.broker import QueueInspector
from tests.pakn_web.conftest import WebClient


async def test_every_demo_report_is_accepted(
    web: WebClient, amqp_queues: QueueInspector, capsys: pytest.CaptureFixture[str]
) -> None:
    base = str(web.make_url("")).rstrip("/")
    assert await run_demo(base, wait=0.2) == 0
    assert await amqp_queues.depth(SUBMISSIONS_QUEUE) == len(demo_reports())
    out = capsys.readouterr().out
    assert "✗" not in out
    assert "not routed yet" in out  # no router in this test: the demo says so
