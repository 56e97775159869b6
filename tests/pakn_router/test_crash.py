"""The router killed in the middle of its work and restarted: every case exactly once,
and every case's event published (at least once; consumers dedupe by message id)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from pakn.bus import SUBMISSIONS_QUEUE, Bus
from pakn.schema import CaseEvent
from pakn.store import Store
from tests.fixtures.broker import QueueInspector
from tests.fixtures.store import free_port, url_with_database
from tests.pakn_router.conftest import EVENTS_QUEUE, make_submission

pytestmark = pytest.mark.slow

TEXTS = [
    "Đèn đường trên đường Trần Phú không sáng mấy đêm nay, rất tối và nguy hiểm.",
    "Đường Lê Hồng Phong có nhiều ổ gà lớn, xe máy té ngã liên tục, đề nghị sửa chữa.",
    "Khu vực tổ dân phố 5 bị mất nước sinh hoạt từ sáng hôm qua đến nay chưa có lại.",
    "Quán karaoke trong hẻm hát đến 1 giờ sáng, gây ồn ào mất ngủ cho cả xóm.",
    "Rác thải tập kết tràn ra lòng đường Hùng Vương, bốc mùi hôi thối mấy ngày nay.",
]
COUNT = 400


async def _start_router(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "pakn", "router", env=env, stdout=out, stderr=out
        )


async def test_killed_mid_batch_then_restarted_every_case_exactly_once(
    bus: Bus,
    store: Store,
    store_database: str,
    mongodb_url: str,
    amqp_url: str,
    events: QueueInspector,
    tmp_path: Path,
) -> None:
    submissions = [
        make_submission(f"{TEXTS[n % len(TEXTS)]} (lần {n})", ref=f"crash-{n}")
        for n in range(COUNT)
    ]
    await asyncio.gather(*(bus.publish_submission(s, timeout=10) for s in submissions))
    assert await events.depth(SUBMISSIONS_QUEUE) == COUNT

    env = {
        **os.environ,
        "PAKN_ENV": "dev",
        "PAKN_AMQP_URL": amqp_url,
        "PAKN_MONGODB_URL": url_with_database(mongodb_url, store_database),
        "PAKN_ROUTER_PORT": str(free_port()),
        "PAKN_VAR_DIR": str(tmp_path / "var"),
        # Small batches, so the kill lands between a write and its acks.
        "PAKN_ROUTER_BATCH_SIZE": "20",
        "PAKN_ROUTER_PREFETCH": "60",
    }
    log = tmp_path / "router.log"
    first = await _start_router(env, log)
    async with asyncio.timeout(60):
        while await store.cases.count_documents({}) < COUNT // 4:
            await asyncio.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    await first.wait()
    killed_at = await store.cases.count_documents({})
    assert 0 < killed_at < COUNT, "the kill must land in the middle of the work"

    second = await _start_router(env, log)
    try:
        async with asyncio.timeout(90):
            while (
                await store.cases.count_documents({}) < COUNT
                or await store.outbox.count_documents({}) > 0
                or await events.depth(SUBMISSIONS_QUEUE) > 0
            ):
                await asyncio.sleep(0.1)
    finally:
        second.send_signal(signal.SIGTERM)
        await asyncio.wait_for(second.wait(), 30)

    ids = [s.submission_id for s in submissions]
    per_id = {
        doc["_id"]: doc["n"]
        async for doc in await store.cases.aggregate(
            [{"$group": {"_id": "$submission_id", "n": {"$sum": 1}}}]
        )
    }
    assert sorted(per_id) == sorted(ids)
    assert set(per_id.values()) == {1}

    published = {
        CaseEvent.model_validate_json(m.body).submission_id
        for m in await events.drain(EVENTS_QUEUE)
    }
    assert published == set(ids), "every case's event reached the broker"
