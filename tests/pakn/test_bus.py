"""The bus against a real RabbitMQ: topology, confirmed publishing, outages, dead letters."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage, DeliveryMode, ExchangeType
from aio_pika.exceptions import ChannelPreconditionFailed
from prometheus_client import REGISTRY

from pakn.bus import (
    CASES_EXCHANGE,
    DEAD_EXCHANGE,
    DEAD_QUEUE,
    DELIVERY_LIMIT,
    HEADER_DEAD_AT,
    HEADER_ERROR,
    HEADER_ORIGINAL_EXCHANGE,
    HEADER_ORIGINAL_ROUTING_KEY,
    HEADER_STAGE,
    INTAKE_EXCHANGE,
    MAX_ERROR_LENGTH,
    SUBMISSIONS_QUEUE,
    SUBMISSIONS_QUEUE_ARGUMENTS,
    TOPOLOGY,
    Bus,
    BusUnavailable,
    PublishRejected,
    PublishTimeout,
    PublishUnroutable,
    build_message,
    case_routing_key,
    dead_letter_headers,
    declare_topology,
    submission_routing_key,
    truncate_reason,
)
from pakn.schema import SCHEMA_VERSION, CaseEvent, Channel, EventKind, Status, Submission
from tests.fixtures.broker import BusFactory, QueueInspector, TcpProxy

# Damm's quasigroup (DESIGN.md §4), kept here so the test does not trust pakn.ids to check
# itself: a code this table accepts must pass the schema's validator.
_DAMM = (
    "0317598642",
    "7092154863",
    "4206871359",
    "1750983426",
    "6123045978",
    "3674209581",
    "5869720134",
    "8945362017",
    "9438617205",
    "2581436790",
)


def tracking_code() -> str:
    digits = "".join(secrets.choice("0123456789") for _ in range(9))
    interim = 0
    for digit in digits:
        interim = int(_DAMM[interim][int(digit)])
    return f"{digits}{interim}"


def make_submission(channel: Channel = Channel.WEB) -> Submission:
    return Submission(
        submission_id=f"{channel.value}:{uuid.uuid4().hex}",
        tracking_code=tracking_code(),
        channel=channel,
        channel_ref=f"test-{uuid.uuid4().hex}",
        received_at=datetime.now(UTC),
        title="Đèn đường hỏng",
        content="Đèn đường trước nhà số 12 Trần Phú, phường Nha Trang, không sáng ba đêm nay.",
    )


def make_event(lead_agency: str | None = "so-xay-dung") -> CaseEvent:
    return CaseEvent(
        event_id=uuid.uuid4().hex,
        event=EventKind.ASSIGNED,
        at=datetime.now(UTC),
        submission_id=f"web:{uuid.uuid4().hex}",
        tracking_code=tracking_code(),
        status=Status.ASSIGNED,
        field="chieu-sang",
        lead_agency=lead_agency,
    )


def publishes(exchange: str, outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "pakn_bus_publishes_total", {"exchange": exchange, "outcome": outcome}
    )
    return value or 0.0


async def wait_until(condition: Callable[[], bool], within: float = 5.0) -> None:
    async with asyncio.timeout(within):
        # Polling: aio-pika's connection state offers no event to wait on for "is down".
        while not condition():
            await asyncio.sleep(0.02)


# --- Pure: no broker -------------------------------------------------------------------------


def test_submissions_queue_arguments_are_the_contract() -> None:
    spec = TOPOLOGY.queue(SUBMISSIONS_QUEUE)
    assert spec is not None
    assert dict(spec.arguments) == {
        "x-queue-type": "quorum",
        "x-delivery-limit": 20,
        "x-dead-letter-exchange": "pakn.dead",
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }
    assert [(b.exchange, b.routing_key) for b in spec.bindings] == [("pakn.intake", "submission.*")]
    assert {(e.name, e.type, e.durable) for e in TOPOLOGY.exchanges} == {
        ("pakn.intake", ExchangeType.TOPIC, True),
        ("pakn.cases", ExchangeType.TOPIC, True),
        ("pakn.citizens", ExchangeType.HEADERS, True),
        ("pakn.dead", ExchangeType.FANOUT, True),
    }


def test_routing_keys() -> None:
    assert submission_routing_key(make_submission(Channel.HOTLINE)) == "submission.hotline"
    assert case_routing_key(make_event("so-xay-dung")) == "case.assigned.so-xay-dung"
    assert case_routing_key(make_event(None)) == "case.assigned.none"


def test_truncate_reason_marks_the_cut() -> None:
    assert truncate_reason("  invalid JSON \n") == "invalid JSON"
    long = "lỗi " * 1000
    cut = truncate_reason(long)
    assert len(cut) <= MAX_ERROR_LENGTH
    assert cut.endswith("…")
    assert long.startswith(cut[:-1])


def test_build_message_follows_section_6() -> None:
    submission = make_submission()
    message = build_message(
        submission,
        message_id="m-1",
        correlation_id=submission.submission_id,
        headers={"schema_version": 99, "x-extra": "kept"},
        app_id="pakn-web",
    )
    assert json.loads(message.body) == json.loads(submission.model_dump_json(by_alias=True))
    assert message.content_type == "application/json"
    assert message.delivery_mode == DeliveryMode.PERSISTENT
    assert (message.message_id, message.correlation_id) == ("m-1", submission.submission_id)
    # The model's version wins over a caller's header: the router trusts it to parse the body.
    assert message.headers == {"schema_version": SCHEMA_VERSION, "x-extra": "kept"}
    assert message.app_id == "pakn-web"
    assert message.timestamp is not None


def test_dead_letter_headers_keep_the_original_and_add_the_reason() -> None:
    now = datetime(2025, 7, 1, 3, 0, tzinfo=UTC)
    headers = dead_letter_headers(
        {"schema_version": 1, "x-delivery-count": 3},
        reason="x" * 5000,
        stage="validate",
        exchange="pakn.intake",
        routing_key="submission.web",
        now=now,
    )
    assert headers["schema_version"] == 1
    assert headers["x-delivery-count"] == 3
    error = headers[HEADER_ERROR]
    assert isinstance(error, str)
    assert len(error) == MAX_ERROR_LENGTH
    assert headers[HEADER_STAGE] == "validate"
    assert headers[HEADER_ORIGINAL_EXCHANGE] == "pakn.intake"
    assert headers[HEADER_ORIGINAL_ROUTING_KEY] == "submission.web"
    assert headers[HEADER_DEAD_AT] == "2025-07-01T03:00:00.000+00:00"


async def test_publish_before_start_or_after_close_raises() -> None:
    unstarted = Bus("amqp://guest:guest@127.0.0.1:5672/")
    with pytest.raises(BusUnavailable):
        await unstarted.publish_submission(make_submission(), timeout=1)
    assert await unstarted.health() == "bus not started"
    await unstarted.close()
    assert await unstarted.health() == "bus closed"
    assert not unstarted.is_connected


# --- Topology on the broker ------------------------------------------------------------------


async def test_topology_declared_twice_is_idempotent(
    bus: Bus, amqp_url: str, amqp_queues: QueueInspector
) -> None:
    # The bus declared it at start; a second declaration elsewhere changes nothing.
    async with await aio_pika.connect(amqp_url) as connection:
        await declare_topology(await connection.channel())
        channel = await connection.channel()
        for exchange in TOPOLOGY.exchanges:
            await channel.declare_exchange(exchange.name, passive=True)
        for queue in TOPOLOGY.queues:
            await channel.declare_queue(queue.name, passive=True)
        # Same name, different arguments: the broker refuses, so the arguments are in force.
        with pytest.raises(ChannelPreconditionFailed):
            await channel.declare_queue(
                SUBMISSIONS_QUEUE,
                durable=True,
                arguments={**SUBMISSIONS_QUEUE_ARGUMENTS, "x-delivery-limit": 5},
            )
    assert await amqp_queues.depth(SUBMISSIONS_QUEUE) == 0
    assert await bus.queue_depth(DEAD_QUEUE) == 0


async def test_delivery_limit_sends_a_crash_looping_message_to_the_dead_letters(
    bus: Bus, amqp_queues: QueueInspector
) -> None:
    submission = make_submission()
    await bus.publish_submission(submission, timeout=5)
    deliveries = 0
    async with asyncio.timeout(5):
        while await amqp_queues.depth(DEAD_QUEUE) == 0:
            message = await amqp_queues.get(SUBMISSIONS_QUEUE, ack=False)
            if message is None:  # the requeue is applied asynchronously
                await asyncio.sleep(0.01)
                continue
            deliveries += 1
            await message.nack(requeue=True)
    dead = await amqp_queues.get_one(DEAD_QUEUE)
    assert deliveries == DELIVERY_LIMIT + 1
    assert dead.message_id == submission.submission_id
    deaths = dead.headers["x-death"]
    assert isinstance(deaths, list)
    (death,) = deaths
    assert isinstance(death, dict)
    assert (death["reason"], death["queue"]) == ("delivery_limit", SUBMISSIONS_QUEUE)
    assert await amqp_queues.depth(SUBMISSIONS_QUEUE) == 0


# --- Publishing ------------------------------------------------------------------------------


async def test_confirmed_submission_lands_in_the_router_queue(
    bus: Bus, amqp_queues: QueueInspector
) -> None:
    submission = make_submission(Channel.EMAIL)
    before = publishes(INTAKE_EXCHANGE, "confirmed")
    await bus.publish_submission(submission, timeout=5)
    assert publishes(INTAKE_EXCHANGE, "confirmed") == before + 1

    message = await amqp_queues.get_one(SUBMISSIONS_QUEUE)
    assert Submission.model_validate_json(message.body) == submission
    assert (message.exchange, message.routing_key) == ("pakn.intake", "submission.email")
    assert message.content_type == "application/json"
    assert message.delivery_mode == DeliveryMode.PERSISTENT
    assert message.message_id == submission.submission_id
    assert message.correlation_id == submission.submission_id
    assert message.headers["schema_version"] == SCHEMA_VERSION
    assert message.app_id == "pakn-test"


async def test_unroutable_publish_raises_instead_of_vanishing(
    bus: Bus, amqp_queues: QueueInspector
) -> None:
    before = publishes(INTAKE_EXCHANGE, "returned")
    submission = make_submission()
    with pytest.raises(PublishUnroutable):
        await bus.publish(
            INTAKE_EXCHANGE,
            "nobody.listens",
            submission,
            message_id=submission.submission_id,
            correlation_id=submission.submission_id,
            timeout=5,
        )
    assert publishes(INTAKE_EXCHANGE, "returned") == before + 1
    assert await amqp_queues.depth(SUBMISSIONS_QUEUE) == 0
    # The channel is still usable afterwards.
    await bus.publish_submission(submission, timeout=5)
    assert (await amqp_queues.get_one(SUBMISSIONS_QUEUE)).message_id == submission.submission_id


async def test_publish_to_a_missing_exchange_is_rejected_and_the_channel_recovers(
    bus: Bus, amqp_queues: QueueInspector
) -> None:
    submission = make_submission()
    with pytest.raises(PublishRejected):
        await bus.publish(
            "pakn.no-such-exchange",
            "x",
            submission,
            message_id=submission.submission_id,
            correlation_id=submission.submission_id,
            timeout=5,
        )
    await bus.publish_submission(submission, timeout=5)
    assert (await amqp_queues.get_one(SUBMISSIONS_QUEUE)).message_id == submission.submission_id


async def test_a_nack_raises_publish_rejected(bus: Bus, amqp_url: str) -> None:
    # A full queue with reject-publish overflow is how RabbitMQ nacks on purpose.
    name = f"test.full.{uuid.uuid4().hex[:8]}"
    async with await aio_pika.connect(amqp_url) as connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(name, ExchangeType.FANOUT, auto_delete=True)
        queue = await channel.declare_queue(
            name, exclusive=True, arguments={"x-max-length": 1, "x-overflow": "reject-publish"}
        )
        await queue.bind(exchange)
        event = make_event()
        await bus.publish(name, "k", event, message_id="1", correlation_id="c", timeout=5)
        before = publishes(name, "rejected")
        with pytest.raises(PublishRejected) as raised:
            await bus.publish(name, "k", event, message_id="2", correlation_id="c", timeout=5)
        assert not isinstance(raised.value, PublishUnroutable)
        assert publishes(name, "rejected") == before + 1


async def test_case_event_goes_out_with_its_agency_key(bus: Bus, amqp_url: str) -> None:
    # No subscriber yet is normal for case events: not mandatory, so no error.
    await bus.publish_case_event(make_event("ubnd-phuong-nha-trang"), timeout=5)

    async with await aio_pika.connect(amqp_url) as connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(CASES_EXCHANGE, "case.*.so-xay-dung")
        event = make_event("so-xay-dung")
        await bus.publish_case_event(event, timeout=5)
        message = await queue.get(timeout=5)
        await message.ack()
    assert message.routing_key == "case.assigned.so-xay-dung"
    assert message.message_id == event.event_id
    assert message.correlation_id == event.submission_id
    assert CaseEvent.model_validate_json(message.body) == event


# --- Outages through the proxy ---------------------------------------------------------------


async def test_publish_waits_through_an_outage_then_succeeds_once(
    bus: Bus,
    bus_factory: BusFactory,
    broker_proxy: TcpProxy,
    proxied_amqp_url: str,
    amqp_queues: QueueInspector,
) -> None:
    proxied = await bus_factory(proxied_amqp_url)
    assert await proxied.health() is None
    reconnects = REGISTRY.get_sample_value("pakn_bus_reconnects_total") or 0.0
    broker_proxy.cut()
    await wait_until(lambda: not proxied.is_connected)
    assert await proxied.health() == "broker connection down, reconnecting"

    submission = make_submission()
    publishing = asyncio.create_task(proxied.publish_submission(submission, timeout=5))
    await asyncio.sleep(1.0)
    assert not publishing.done()
    broker_proxy.restore()
    await asyncio.wait_for(publishing, 4)

    message = await amqp_queues.get_one(SUBMISSIONS_QUEUE)
    assert message.message_id == submission.submission_id
    assert await amqp_queues.drain(SUBMISSIONS_QUEUE) == []
    assert await proxied.health() is None
    assert REGISTRY.get_sample_value("pakn_bus_reconnects_total") == reconnects + 1


async def test_publish_times_out_while_the_broker_is_unreachable(
    bus: Bus,
    bus_factory: BusFactory,
    broker_proxy: TcpProxy,
    proxied_amqp_url: str,
    amqp_queues: QueueInspector,
) -> None:
    proxied = await bus_factory(proxied_amqp_url)
    broker_proxy.cut()
    await wait_until(lambda: not proxied.is_connected)
    before = publishes(INTAKE_EXCHANGE, "timeout")

    started = time.monotonic()
    with pytest.raises(PublishTimeout):
        await proxied.publish_submission(make_submission(), timeout=0.5)
    assert 0.5 <= time.monotonic() - started < 1.5
    assert publishes(INTAKE_EXCHANGE, "timeout") == before + 1
    assert await amqp_queues.depth(SUBMISSIONS_QUEUE) == 0


async def test_consumer_keeps_consuming_after_a_reconnect(
    bus: Bus,
    bus_factory: BusFactory,
    broker_proxy: TcpProxy,
    proxied_amqp_url: str,
) -> None:
    proxied = await bus_factory(proxied_amqp_url)
    received: asyncio.Queue[str | None] = asyncio.Queue()

    async def handler(message: AbstractIncomingMessage) -> None:
        async with message.process():
            pass
        await received.put(message.message_id)

    await proxied.consume(SUBMISSIONS_QUEUE, handler, prefetch=10)
    first, second = make_submission(), make_submission()
    await bus.publish_submission(first, timeout=5)
    assert await asyncio.wait_for(received.get(), 5) == first.submission_id

    connections = broker_proxy.connections_made
    broker_proxy.cut()
    await wait_until(lambda: not proxied.is_connected)
    broker_proxy.restore()
    await wait_until(lambda: proxied.is_connected)
    assert broker_proxy.connections_made == connections + 1

    await bus.publish_submission(second, timeout=5)
    # An ack lost in the cut legitimately brings the first one back (at-least-once).
    redelivered = set()
    while (message_id := await asyncio.wait_for(received.get(), 5)) != second.submission_id:
        redelivered.add(message_id)
    assert redelivered <= {first.submission_id}


# --- Dead letters ----------------------------------------------------------------------------


async def test_dead_letter_keeps_the_message_and_says_why(
    bus: Bus, amqp_queues: QueueInspector
) -> None:
    submission = make_submission(Channel.CHATBOT)
    await bus.publish_submission(submission, timeout=5)
    original = await amqp_queues.get_one(SUBMISSIONS_QUEUE, ack=False)

    await bus.dead_letter(original, reason="unknown schema_version 7", stage="decode", timeout=5)
    await original.ack()

    dead = await amqp_queues.get_one(DEAD_QUEUE)
    assert dead.exchange == DEAD_EXCHANGE
    assert dead.routing_key == "submission.chatbot"
    assert dead.body == original.body
    assert dead.message_id == submission.submission_id
    assert dead.correlation_id == submission.submission_id
    assert dead.content_type == "application/json"
    assert dead.delivery_mode == DeliveryMode.PERSISTENT
    assert dead.headers[HEADER_ERROR] == "unknown schema_version 7"
    assert dead.headers[HEADER_STAGE] == "decode"
    assert dead.headers[HEADER_ORIGINAL_EXCHANGE] == INTAKE_EXCHANGE
    assert dead.headers[HEADER_ORIGINAL_ROUTING_KEY] == "submission.chatbot"
    assert dead.headers["schema_version"] == SCHEMA_VERSION
    assert isinstance(dead.headers[HEADER_DEAD_AT], str)
    assert await amqp_queues.depth(SUBMISSIONS_QUEUE) == 0


async def test_publishes_in_flight_when_the_connection_drops_are_all_delivered(
    bus: Bus,
    bus_factory: BusFactory,
    broker_proxy: TcpProxy,
    proxied_amqp_url: str,
    amqp_queues: QueueInspector,
) -> None:
    proxied = await bus_factory(proxied_amqp_url, max_in_flight=32)
    submissions = [make_submission() for _ in range(300)]
    tasks = [asyncio.create_task(proxied.publish_submission(s, timeout=8)) for s in submissions]
    await wait_until(lambda: sum(task.done() for task in tasks) >= 30)
    broker_proxy.cut()
    assert not all(task.done() for task in tasks)
    await asyncio.sleep(0.3)
    broker_proxy.restore()
    await asyncio.wait_for(asyncio.gather(*tasks), 9)

    delivered = [m.message_id for m in await amqp_queues.drain(SUBMISSIONS_QUEUE)]
    # A confirm lost with the connection means a resend: duplicates allowed, losses not.
    assert set(delivered) == {s.submission_id for s in submissions}


async def test_close_ends_a_publish_waiting_for_the_broker(
    bus_factory: BusFactory, broker_proxy: TcpProxy, proxied_amqp_url: str
) -> None:
    proxied = await bus_factory(proxied_amqp_url)
    broker_proxy.cut()
    await wait_until(lambda: not proxied.is_connected)
    publishing = asyncio.create_task(proxied.publish_submission(make_submission(), timeout=30))
    await asyncio.sleep(0.1)
    await proxied.close()
    with pytest.raises(BusUnavailable):
        await asyncio.wait_for(publishing, 2)
    assert await proxied.health() == "bus closed"


async def test_start_fails_fast_when_the_broker_is_down(
    broker_proxy: TcpProxy, proxied_amqp_url: str
) -> None:
    broker_proxy.cut()
    with pytest.raises(BusUnavailable):
        await Bus(proxied_amqp_url, connect_timeout=2).start()
