"""A channel's follower of pakn.cases, against the real broker and store."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import aio_pika
import pytest
from prometheus_client import REGISTRY

from pakn.bus import (
    CASES_EXCHANGE,
    DEAD_QUEUE,
    HEADER_CITIZEN_CHANNEL,
    HEADER_ERROR,
    HEADER_STAGE,
    Bus,
    case_event_headers,
    case_events_queue,
    case_events_queue_spec,
    citizen_channel,
)
from pakn.case_events import (
    CaseEventFollower,
    PoisonEvent,
    RetryLater,
    parse_case_event,
    skip_reason,
)
from pakn.ids import new_tracking_code
from pakn.schema import CaseEvent, Channel, EventKind, Status
from pakn.store import Store
from tests.fixtures.broker import QueueInspector

QUEUE = case_events_queue("email")


def make_event(
    channel: Channel | None = Channel.EMAIL,
    *,
    prefix: str = "email",
    addressed_to: str | None = None,
    event: EventKind = EventKind.NEEDS_INFO,
) -> CaseEvent:
    return CaseEvent(
        event_id=uuid.uuid4().hex,
        event=event,
        at=datetime.now(UTC),
        submission_id=f"{prefix}:{uuid.uuid4().hex}",
        tracking_code=new_tracking_code(),
        status=Status.NEEDS_INFO,
        lead_agency="so-xay-dung",
        channel=channel,
        channel_ref="<m1@example.org>",
        notify_via="dan@example.org",
        addressed_to=addressed_to,
    )


# --- pure ------------------------------------------------------------------------------------


def test_an_event_says_its_channel_or_its_submission_id_does() -> None:
    assert citizen_channel(make_event(Channel.HOTLINE, prefix="hotline")) is Channel.HOTLINE
    assert citizen_channel(make_event(None, prefix="email")) is Channel.EMAIL
    assert citizen_channel(make_event(None, prefix="nosuch")) is None


def test_an_event_carries_its_citizens_channel_for_the_broker_to_route_by() -> None:
    assert case_event_headers(make_event()) == {HEADER_CITIZEN_CHANNEL: "email"}
    assert case_event_headers(make_event(None, prefix="hotline")) == {
        HEADER_CITIZEN_CHANNEL: "hotline"
    }
    # Nobody's citizen: no channel's queue takes them.
    assert case_event_headers(make_event(addressed_to="so-y-te")) == {}
    assert case_event_headers(make_event(None, prefix="nosuch")) == {}


def test_a_channel_keeps_only_its_own_cases_and_not_agency_copies() -> None:
    assert skip_reason(make_event(), Channel.EMAIL) is None
    assert skip_reason(make_event(Channel.WEB, prefix="web"), Channel.EMAIL) == "other_channel"
    assert skip_reason(make_event(addressed_to="so-y-te"), Channel.EMAIL) == "agency_copy"


def test_an_unreadable_event_is_poison_with_the_reason() -> None:
    with pytest.raises(PoisonEvent, match="schema_version"):
        parse_case_event(make_event().model_dump_json().encode(), 99)
    with pytest.raises(PoisonEvent, match="invalid case event"):
        parse_case_event(b'{"event": "nonsense"}', None)
    with pytest.raises(PoisonEvent, match="invalid case event"):
        parse_case_event(b"not json", None)
    event = make_event()
    assert parse_case_event(event.model_dump_json().encode(), 1) == event


def test_the_router_puts_the_channel_and_the_contact_on_its_events() -> None:
    from pakn_router.cases import event as router_event
    from pakn_router.cases import open_case
    from tests.pakn_router.conftest import make_submission

    submission = make_submission("Đèn đường trước nhà số 5 Lê Lợi không sáng.")
    submission = submission.model_copy(update={"notify_via": "+84905123456"})
    published = router_event(
        open_case(submission, datetime.now(UTC)), EventKind.TRIAGE, datetime.now(UTC)
    )
    assert published.channel is Channel.WEB
    assert published.channel_ref == submission.channel_ref
    assert published.notify_via == "+84905123456"


# --- against the broker and the store --------------------------------------------------------


class Recorder:
    """A handler that records events and fails as told."""

    def __init__(self) -> None:
        self.seen: list[CaseEvent] = []
        self.failures: list[Exception] = []

    async def __call__(self, event: CaseEvent) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.seen.append(event)


@pytest.fixture
async def email_queue(amqp_queues: QueueInspector, bus: Bus) -> AsyncIterator[QueueInspector]:
    yield amqp_queues
    channel = await amqp_queues.channel()
    # Bound to every case event: left behind it would fill with the rest of the run's events.
    await channel.queue_delete(QUEUE)


async def follow(bus: Bus, store: Store, handler: Recorder) -> CaseEventFollower:
    follower = CaseEventFollower(channel=Channel.EMAIL, store=store, bus=bus, handler=handler)
    await follower.start()
    return follower


async def wait_until(condition: Callable[[], bool], within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while not condition():
            await asyncio.sleep(0.02)


def counted(outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "pakn_case_events_total", {"channel": "email", "outcome": outcome}
    )
    return value or 0.0


async def test_each_event_of_the_channel_is_handled_once_and_acked(
    bus: Bus, store: Store, email_queue: QueueInspector
) -> None:
    handler = Recorder()
    follower = await follow(bus, store, handler)
    try:
        mine = make_event()
        other = make_event(Channel.WEB, prefix="web")
        copy = make_event(addressed_to="so-y-te")
        repeats_before = counted("repeat")
        skipped_before = counted("other_channel") + counted("agency_copy")
        for event in (mine, other, copy, mine):  # the router may publish an event twice
            await bus.publish_case_event(event, timeout=5)
        await wait_until(lambda: counted("repeat") > repeats_before)
        assert [e.event_id for e in handler.seen] == [mine.event_id]
        # The web's event and the agency's copy never reached the email queue: the broker
        # routed by the citizen's channel.
        assert counted("other_channel") + counted("agency_copy") == skipped_before
        assert handler.seen[0].notify_via == "dan@example.org"
        receipts = await store.case_event_receipts.find({}, {"_id": 0}).to_list()
        assert [(r["channel"], r["event_id"]) for r in receipts] == [("email", mine.event_id)]
        assert await email_queue.depth(QUEUE) == 0
        assert await follower.health() is None
    finally:
        await follower.stop()
    # A restarted follower (a new process) remembers through the receipt, not memory.
    handler_after = Recorder()
    again = await follow(bus, store, handler_after)
    try:
        repeats_before = counted("repeat")
        await bus.publish_case_event(mine, timeout=5)
        await wait_until(lambda: counted("repeat") > repeats_before)
        assert handler_after.seen == []
    finally:
        await again.stop()


async def test_a_transient_failure_is_retried_while_the_event_is_held(
    bus: Bus, store: Store, email_queue: QueueInspector
) -> None:
    handler = Recorder()
    handler.failures = [RetryLater("smtp down"), ConnectionError("reset")]
    follower = await follow(bus, store, handler)
    try:
        event = make_event()
        await bus.publish_case_event(event, timeout=5)
        await wait_until(lambda: len(handler.seen) == 1)
        assert handler.seen[0].event_id == event.event_id
        await wait_until(lambda: follower.last_error is None)
        assert await store.case_event_receipts.count_documents({"event_id": event.event_id}) == 1
        assert await email_queue.depth(DEAD_QUEUE) == 0
    finally:
        await follower.stop()


async def test_poison_and_a_failing_handler_are_dead_lettered_with_the_reason(
    bus: Bus, store: Store, email_queue: QueueInspector, amqp_url: str
) -> None:
    handler = Recorder()
    follower = await follow(bus, store, handler)
    try:
        connection = await aio_pika.connect(amqp_url)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            exchange = await channel.get_exchange(CASES_EXCHANGE)
            await exchange.publish(
                aio_pika.Message(
                    b'{"not": "an event"}',
                    message_id="poison-1",
                    headers={HEADER_CITIZEN_CHANNEL: "email"},
                ),
                "case.assigned.none",
            )
        poison = await email_queue.get_one(DEAD_QUEUE, within=10)
        assert poison.message_id == "poison-1"
        assert (poison.headers or {})[HEADER_STAGE] == "email.case-events:parse"
        assert "invalid case event" in str((poison.headers or {})[HEADER_ERROR])

        handler.failures = [ValueError("template broken")]
        broken = make_event()
        await bus.publish_case_event(broken, timeout=5)
        dead = await email_queue.get_one(DEAD_QUEUE, within=10)
        assert dead.message_id == broken.event_id
        assert (dead.headers or {})[HEADER_STAGE] == "email.case-events:handler"
        assert "template broken" in str((dead.headers or {})[HEADER_ERROR])
        assert handler.seen == []
        assert await store.case_event_receipts.count_documents({}) == 0
        await wait_until(lambda: True)
        assert await email_queue.depth(QUEUE) == 0
    finally:
        await follower.stop()


async def bindings_of(vhost: str, queue: str) -> set[tuple[str, str]]:
    """(source exchange, routing key) of every binding to ``queue``, asked of the broker."""
    listing = await asyncio.create_subprocess_exec(
        "rabbitmqctl",
        "-q",
        "list_bindings",
        "-p",
        vhost,
        "source_name",
        "destination_name",
        "routing_key",
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await listing.communicate()
    assert listing.returncode == 0
    rows = [line.split("\t") for line in out.decode().splitlines() if line]
    return {(row[0], row[2] if len(row) > 2 else "") for row in rows if row[1] == queue}


async def test_a_queue_bound_to_every_event_by_an_earlier_version_is_rebound(
    bus: Bus, store: Store, email_queue: QueueInspector, amqp_vhost: str
) -> None:
    channel = await email_queue.channel()
    old = await channel.declare_queue(
        QUEUE, durable=True, arguments=dict(case_events_queue_spec("email").arguments)
    )
    await old.bind(CASES_EXCHANGE, "case.#")
    assert (CASES_EXCHANGE, "case.#") in await bindings_of(amqp_vhost, QUEUE)
    handler = Recorder()
    follower = await follow(bus, store, handler)
    try:
        assert await bindings_of(amqp_vhost, QUEUE) == {("", QUEUE), ("pakn.citizens", "")}
        skipped_before = counted("other_channel")
        other, mine = make_event(Channel.WEB, prefix="web"), make_event()
        for event in (other, mine):
            await bus.publish_case_event(event, timeout=5)
        await wait_until(lambda: len(handler.seen) == 1)
        assert handler.seen[0].event_id == mine.event_id
        assert counted("other_channel") == skipped_before
    finally:
        await follower.stop()
