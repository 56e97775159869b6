"""The real broker restarted under the router while submissions flow: the router resumes by
itself, every accepted submission becomes exactly one case, and /healthz says 503 only while
the link is down. (Other engineers share the broker: the outage is kept short, and the
fixture starts the broker again whatever happens.)"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator

import pytest

from pakn.bus import CASES_EXCHANGE, SUBMISSIONS_QUEUE, Bus
from pakn.store import Store
from tests.fixtures.broker import QueueInspector
from tests.pakn_router.conftest import EVENTS_QUEUE, RouterClient, make_submission

#: Seconds the broker stays stopped.
OUTAGE = 8.0
TEXT = "Đèn đường trên đường Trần Phú trước số {n} không sáng ba đêm nay, rất tối, nguy hiểm."


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], capture_output=True, timeout=120, check=True)


class BrokerOutage:
    """Stops and starts the real broker's app; the fixture starts it again, always."""

    def __init__(self) -> None:
        self.stopped = False

    async def stop(self) -> None:
        self.stopped = True
        await asyncio.to_thread(_rabbitmqctl, "stop_app")

    async def start(self) -> None:
        if self.stopped:
            await asyncio.to_thread(_rabbitmqctl, "start_app")
            await asyncio.to_thread(_rabbitmqctl, "await_startup")
            self.stopped = False


@pytest.fixture
async def broker_outage() -> AsyncIterator[BrokerOutage]:
    outage = BrokerOutage()
    try:
        yield outage
    finally:
        await outage.start()


async def test_the_router_resumes_by_itself_after_a_broker_restart(
    router: RouterClient,
    store: Store,
    bus: Bus,
    events: QueueInspector,
    broker_outage: BrokerOutage,
) -> None:
    before = [make_submission(TEXT.format(n=n), ref=f"restart-a-{n}") for n in range(60)]
    during = [make_submission(TEXT.format(n=n), ref=f"restart-b-{n}") for n in range(20)]
    # A flow in progress when the broker goes: some routed, some ready, some prefetched.
    await asyncio.gather(*(bus.publish_submission(s, timeout=10) for s in before))
    assert (await router.get("/healthz")).status == 200

    await broker_outage.stop()
    statuses: list[int] = []
    # Accepted while the broker is away: each publish waits for the link to come back.
    publishing = asyncio.gather(*(bus.publish_submission(s, timeout=60) for s in during))
    async with asyncio.timeout(OUTAGE + 2):
        while (status := (await router.get("/healthz")).status) != 503:
            await asyncio.sleep(0.1)
        statuses.append(status)
    await asyncio.sleep(OUTAGE)
    await broker_outage.start()
    await publishing

    everyone = [s.submission_id for s in before + during]
    async with asyncio.timeout(90):
        while await store.cases.count_documents({"submission_id": {"$in": everyone}}) < len(
            everyone
        ):
            await asyncio.sleep(0.2)
    per_id = {
        doc["_id"]: doc["n"]
        async for doc in await store.cases.aggregate(
            [{"$group": {"_id": "$submission_id", "n": {"$sum": 1}}}]
        )
    }
    assert sorted(per_id) == sorted(everyone)
    assert set(per_id.values()) == {1}

    async with asyncio.timeout(60):
        while (await router.get("/healthz")).status != 200:
            await asyncio.sleep(0.2)
    assert statuses == [503]
    async with asyncio.timeout(30):
        while await events.depth(SUBMISSIONS_QUEUE) > 0:
            await asyncio.sleep(0.2)
    # The test's own event queue is not durable and went with the restart: back for teardown.
    channel = await events.channel()
    queue = await channel.declare_queue(EVENTS_QUEUE, durable=False, auto_delete=False)
    await queue.bind(CASES_EXCHANGE, "case.#")
