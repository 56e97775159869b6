"""The monitor's live updates follow the broker only while a page is open (real broker)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from pakn.bus import Bus
from pakn.ids import new_tracking_code
from pakn.schema import CaseEvent, EventKind, Status
from pakn_router.monitor.stream import Hub, Subscriber

LINGER = 0.3
CODE = new_tracking_code()


def assigned(event_id: str) -> CaseEvent:
    return CaseEvent(
        event_id=event_id,
        event=EventKind.ASSIGNED,
        at=datetime.now(UTC),
        submission_id=f"web:stream:{event_id}",
        tracking_code=CODE,
        status=Status.ASSIGNED,
        lead_agency="ubnd-nha-trang",
    )


async def exists(vhost: str, name: str) -> bool:
    """Asked of the broker itself: a passive declare of another connection's exclusive queue
    is refused whether it exists or not."""
    listing = await asyncio.create_subprocess_exec(
        "rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", stdout=asyncio.subprocess.PIPE
    )
    out, _ = await listing.communicate()
    assert listing.returncode == 0
    return name in out.decode().split()


async def next_case(subscriber: Subscriber) -> str:
    async with asyncio.timeout(5):
        update = await subscriber.queue.get()
    assert update is not None and update.kind == "case"
    return str(update.data["tracking_code"])


async def test_no_queue_follows_case_events_while_no_page_is_open(
    bus: Bus, amqp_vhost: str
) -> None:
    hub = Hub(linger=LINGER)
    await hub.start(bus)
    try:
        assert hub.queue is None
        page = await hub.subscribe(agency=None, operator=True)
        queue = hub.queue
        assert queue is not None and await exists(amqp_vhost, queue)
        # Bound before subscribe returned: the next event reaches the page.
        await bus.publish_case_event(assigned("evt-stream-1"), timeout=5)
        assert await next_case(page) == CODE

        # The last page closes; one opened within the linger finds the same queue.
        hub.unsubscribe(page)
        await asyncio.sleep(LINGER / 3)
        again = await hub.subscribe(agency=None, operator=True)
        assert hub.queue == queue
        await asyncio.sleep(LINGER * 1.5)
        assert await exists(amqp_vhost, queue)

        # Nobody left for longer than the linger: the queue is gone from the broker.
        hub.unsubscribe(again)
        await asyncio.sleep(LINGER * 1.5)
        assert hub.queue is None
        assert not await exists(amqp_vhost, queue)

        # The next page follows again, on a new queue, and hears what happens next.
        late = await hub.subscribe(agency=None, operator=True)
        assert hub.queue not in (None, queue)
        await bus.publish_case_event(assigned("evt-stream-2"), timeout=5)
        assert await next_case(late) == CODE
    finally:
        await hub.close()
    assert hub.queue is None


async def test_pages_open_at_once_share_one_queue(bus: Bus) -> None:
    hub = Hub(linger=LINGER)
    await hub.start(bus)
    try:
        pages = await asyncio.gather(*(hub.subscribe(agency=None, operator=True) for _ in range(5)))
        await bus.publish_case_event(assigned("evt-stream-3"), timeout=5)
        assert [await next_case(page) for page in pages] == [CODE] * 5
        for page in pages:
            assert page.queue.empty()  # once each, from one queue
    finally:
        await hub.close()


@pytest.mark.parametrize("closed_first", [True, False])
async def test_a_closed_hub_follows_nothing(bus: Bus, closed_first: bool) -> None:
    hub = Hub(linger=LINGER)
    await hub.start(bus)
    if closed_first:
        await hub.close()
        await hub.subscribe(agency=None, operator=True)
        assert hub.queue is None
    else:
        page = await hub.subscribe(agency=None, operator=True)
        await hub.close()
        assert hub.queue is None
        async with asyncio.timeout(1):
            assert await page.queue.get() is None  # the page is told to end
