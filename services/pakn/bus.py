"""The message bus (DESIGN.md §6): RabbitMQ topology, a confirming publisher, consumers."""

# The `timeout` parameters are the contract's API: a deadline for a whole retry loop (waiting
# out a reconnect), which a caller's asyncio.timeout around the call could not express as well.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Final, Self

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractMessage,
    AbstractQueue,
    AbstractRobustChannel,
    AbstractRobustConnection,
    ConsumerTag,
    DeliveryMode,
    ExchangeType,
    HeadersType,
)
from aio_pika.exceptions import (
    CONNECTION_EXCEPTIONS,
    ChannelInvalidStateError,
    ChannelNotFoundEntity,
    ChannelPreconditionFailed,
    DeliveryError,
    PublishError,
)
from aiormq.exceptions import ChannelAccessRefused
from prometheus_client import Counter, Gauge, Histogram
from pydantic import BaseModel

from pakn.brokers import node_name, robust_connection
from pakn.metrics import LATENCY_BUCKETS
from pakn.schema import SCHEMA_VERSION, CaseEvent, Channel, Submission, dump_for_bus

log = logging.getLogger(__name__)

# --- Names of the contract (DESIGN.md §6) ----------------------------------------------------

INTAKE_EXCHANGE: Final = "pakn.intake"
CASES_EXCHANGE: Final = "pakn.cases"
#: Headers exchange bound to ``pakn.cases``: each channel's queue of case events takes from it
#: only the events its own citizens are to hear (HEADER_CITIZEN_CHANNEL).
CITIZENS_EXCHANGE: Final = "pakn.citizens"
DEAD_EXCHANGE: Final = "pakn.dead"
SUBMISSIONS_QUEUE: Final = "router.submissions"
DEAD_QUEUE: Final = "pakn.dead.q"
SUBMISSION_BINDING: Final = "submission.*"
CASE_EVENTS_BINDING: Final = "case.#"
#: A backstop against crash loops only: the router dead-letters poison messages itself.
DELIVERY_LIMIT: Final = 20

CONTENT_TYPE_JSON: Final = "application/json"
HEADER_SCHEMA_VERSION: Final = "schema_version"
HEADER_ERROR: Final = "x-pakn-error"
HEADER_STAGE: Final = "x-pakn-stage"
HEADER_ORIGINAL_EXCHANGE: Final = "x-pakn-original-exchange"
HEADER_ORIGINAL_ROUTING_KEY: Final = "x-pakn-original-routing-key"
HEADER_DEAD_AT: Final = "x-pakn-dead-at"
#: On a case event the citizen is to hear: the channel the case came in through. Not "x-…":
#: a headers exchange leaves binding arguments named so out of its match.
HEADER_CITIZEN_CHANNEL: Final = "pakn-citizen-channel"
#: Headers travel in one AMQP frame with every delivery; a traceback does not belong there.
MAX_ERROR_LENGTH: Final = 1000

DEFAULT_MAX_IN_FLIGHT: Final = 256
DEFAULT_RECONNECT_INTERVAL: Final = 2.0
# Between attempts of one publish while the robust connection recovers: short at first so a
# blip costs little, capped so a long outage does not spin.
_RETRY_FIRST_PAUSE = 0.05
_RETRY_MAX_PAUSE = 0.5

# --- Metrics (bounded labels: exchange, outcome) ---------------------------------------------

PUBLISHES = Counter(
    "pakn_bus_publishes",
    "Messages published, by exchange and outcome: confirmed, timeout, rejected, returned"
    " (unroutable), closed (the bus was closed meanwhile), cancelled (by the caller), error",
    ["exchange", "outcome"],
)
CONFIRM_SECONDS = Histogram(
    "pakn_bus_confirm_seconds",
    "Time from sending a message to the broker's confirm (the attempt that succeeded)",
    ["exchange"],
    buckets=LATENCY_BUCKETS,
)
RECONNECTS = Counter("pakn_bus_reconnects", "Times the broker connection was re-established")
CONNECTED = Gauge("pakn_bus_connected", "1 while the broker connection is up, else 0")


# --- Errors ----------------------------------------------------------------------------------


class BusError(Exception):
    """Anything the bus could not do."""


class BusUnavailable(BusError):
    """The bus is not started, is closed, or could not reach the broker at start."""


class PublishTimeout(BusError):
    """The broker did not confirm in time (usually: the connection is down). Retry later."""


class PublishRejected(BusError):
    """The broker refused the message (nack, or the channel was closed for an error)."""


class PublishUnroutable(PublishRejected):
    """A mandatory message matched no queue and was returned: nothing stored it."""


# --- Topology --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BindingSpec:
    exchange: str
    routing_key: str
    #: A headers exchange's match (``x-match`` and the headers).
    arguments: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class ExchangeSpec:
    name: str
    type: ExchangeType
    durable: bool = True
    #: Exchanges this one receives from (exchange-to-exchange bindings).
    sources: tuple[BindingSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class QueueSpec:
    name: str
    arguments: Mapping[str, str | int]
    bindings: tuple[BindingSpec, ...] = ()
    durable: bool = True
    #: Bindings an earlier version made, removed when the queue is declared.
    retired: tuple[BindingSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class Topology:
    exchanges: tuple[ExchangeSpec, ...]
    queues: tuple[QueueSpec, ...]

    def queue(self, name: str) -> QueueSpec | None:
        return next((spec for spec in self.queues if spec.name == name), None)


SUBMISSIONS_QUEUE_ARGUMENTS: Final[Mapping[str, str | int]] = {
    "x-queue-type": "quorum",
    "x-delivery-limit": DELIVERY_LIMIT,
    "x-dead-letter-exchange": DEAD_EXCHANGE,
    # at-least-once: the broker keeps a dead-lettered message until pakn.dead.q confirmed it
    # (needs reject-publish overflow); the default at-most-once may drop it on the way.
    "x-dead-letter-strategy": "at-least-once",
    "x-overflow": "reject-publish",
}


def case_events_queue(channel: str) -> str:
    """``<channel>.case-events``: the queue a channel follows ``pakn.cases`` with (§6)."""
    return f"{channel}.case-events"


def case_events_queue_spec(channel: str) -> QueueSpec:
    """The channel's quorum queue of the case events its citizens are to hear, with the
    submissions queue's safety arguments: the follower dead-letters poison itself, the
    delivery limit is a backstop.

    Bound through ``pakn.citizens`` by the event's HEADER_CITIZEN_CHANNEL, not to every
    event of ``pakn.cases`` (what it was until issue 18): then every channel's queue stored
    every event, replicated and fsynced, for the follower to throw away all but its own
    channel's (~0.12 ms of broker CPU per event and queue here, and the service's decoding).
    """
    return QueueSpec(
        case_events_queue(channel),
        SUBMISSIONS_QUEUE_ARGUMENTS,
        (BindingSpec(CITIZENS_EXCHANGE, "", {"x-match": "all", HEADER_CITIZEN_CHANNEL: channel}),),
        retired=(BindingSpec(CASES_EXCHANGE, CASE_EVENTS_BINDING),),
    )


# Quorum, like router.submissions: a dead letter is the only record of a submission that
# failed, so it gets the same replicated, fsync-before-confirm storage, and the volume is too
# small for the overhead to matter. No delivery limit or dead-letter exchange of its own, so
# nothing leaves it except by an ack. Caveat: RabbitMQ >= 4.0 gives quorum queues a default
# delivery limit of 20 (and without a DLX drops beyond it), so readers must drain it
# (store, then ack) rather than browse it by get-and-requeue.
DEAD_QUEUE_ARGUMENTS: Final[Mapping[str, str | int]] = {"x-queue-type": "quorum"}

TOPOLOGY: Final = Topology(
    exchanges=(
        ExchangeSpec(INTAKE_EXCHANGE, ExchangeType.TOPIC),
        ExchangeSpec(CASES_EXCHANGE, ExchangeType.TOPIC),
        ExchangeSpec(
            CITIZENS_EXCHANGE,
            ExchangeType.HEADERS,
            sources=(BindingSpec(CASES_EXCHANGE, CASE_EVENTS_BINDING),),
        ),
        ExchangeSpec(DEAD_EXCHANGE, ExchangeType.FANOUT),
    ),
    queues=(
        QueueSpec(
            SUBMISSIONS_QUEUE,
            SUBMISSIONS_QUEUE_ARGUMENTS,
            (BindingSpec(INTAKE_EXCHANGE, SUBMISSION_BINDING),),
        ),
        QueueSpec(DEAD_QUEUE, DEAD_QUEUE_ARGUMENTS, (BindingSpec(DEAD_EXCHANGE, ""),)),
    ),
)


async def declare_topology(channel: AbstractChannel, topology: Topology = TOPOLOGY) -> None:
    """Declare exchanges, queues and bindings; a no-op when they exist with the same arguments.

    On a robust channel aio-pika records the declarations and repeats them after a reconnect.
    Different arguments on an existing queue close the channel with PRECONDITION_FAILED.
    """
    declared = {
        spec.name: await channel.declare_exchange(spec.name, spec.type, durable=spec.durable)
        for spec in topology.exchanges
    }
    for spec in topology.exchanges:
        for source in spec.sources:
            await declared[spec.name].bind(source.exchange, source.routing_key)
    for queue_spec in topology.queues:
        await declare_queue(channel, queue_spec)


async def declare_queue(channel: AbstractChannel, spec: QueueSpec) -> AbstractQueue:
    """Declare ``spec``'s queue with its bindings, and remove the bindings it retired."""
    queue = await channel.declare_queue(
        spec.name, durable=spec.durable, arguments=dict(spec.arguments)
    )
    for binding in spec.bindings:
        await queue.bind(
            binding.exchange,
            binding.routing_key,
            arguments=dict(binding.arguments) if binding.arguments is not None else None,
        )
    for binding in spec.retired:
        # RabbitMQ answers unbind-ok for a binding that is not there.
        await queue.unbind(binding.exchange, binding.routing_key)
    return queue


async def queue_depth(channel: AbstractChannel, name: str) -> int:
    """Messages ready in queue ``name`` (not those delivered and unacked), by passive declare.

    A missing queue closes ``channel`` (404): use a channel you can lose, see `Bus.queue_depth`.
    """
    # Straight to the AMQP channel: a robust channel answers a passive declare of a queue it
    # declared before from its cache, with a stale count.
    underlay = await channel.get_underlay_channel()
    declared = await underlay.queue_declare(name, passive=True)
    return int(declared.message_count or 0)


# --- Pure helpers ----------------------------------------------------------------------------


def submission_routing_key(submission: Submission) -> str:
    return f"submission.{submission.channel.value}"


def citizen_channel(event: CaseEvent) -> Channel | None:
    """The channel whose citizen is to hear ``event``: the one the case came in through, as
    the event says or as its submission id does (``<channel>:<hash>``, events published
    before events carried the channel). None for a copy addressed to another agency (news
    for that agency; the citizen hears of the change through the lead's event)."""
    if event.addressed_to is not None:
        return None
    if event.channel is not None:
        return event.channel
    prefix = event.submission_id.partition(":")[0]
    try:
        return Channel(prefix)
    except ValueError:
        return None


def case_event_headers(event: CaseEvent) -> dict[str, str]:
    channel = citizen_channel(event)
    return {HEADER_CITIZEN_CHANNEL: channel.value} if channel is not None else {}


def case_routing_key(event: CaseEvent) -> str:
    """``case.<event>.<agency>``: the lead agency, or the one a copy is addressed to."""
    return f"case.{event.event.value}.{event.addressed_to or event.lead_agency or 'none'}"


def truncate_reason(reason: str, limit: int = MAX_ERROR_LENGTH) -> str:
    """``reason`` cut to ``limit`` characters, marked with an ellipsis when cut."""
    reason = reason.strip()
    if len(reason) <= limit:
        return reason
    return reason[: limit - 1].rstrip() + "…"


def build_message(
    body: BaseModel,
    *,
    message_id: str,
    correlation_id: str,
    headers: Mapping[str, Any] | None = None,
    app_id: str | None = None,
    now: datetime | None = None,
) -> aio_pika.Message:
    """The AMQP message for ``body`` as §6 prescribes: JSON, persistent, ``schema_version``."""
    version = getattr(body, "schema_version", SCHEMA_VERSION)
    return aio_pika.Message(
        dump_for_bus(body),
        content_type=CONTENT_TYPE_JSON,
        delivery_mode=DeliveryMode.PERSISTENT,
        message_id=message_id,
        correlation_id=correlation_id,
        headers={**(headers or {}), HEADER_SCHEMA_VERSION: version},
        timestamp=now or datetime.now(UTC),
        app_id=app_id,
    )


def dead_letter_headers(
    original: Mapping[str, Any] | None,
    *,
    reason: str,
    stage: str,
    exchange: str | None,
    routing_key: str | None,
    now: datetime,
) -> HeadersType:
    """The original headers plus why, where and when the message was given up."""
    return {
        **(original or {}),
        HEADER_ERROR: truncate_reason(reason),
        HEADER_STAGE: stage,
        HEADER_ORIGINAL_EXCHANGE: exchange or "",
        HEADER_ORIGINAL_ROUTING_KEY: routing_key or "",
        HEADER_DEAD_AT: now.astimezone(UTC).isoformat(timespec="milliseconds"),
    }


def dead_letter_message(
    original: AbstractIncomingMessage, *, reason: str, stage: str, now: datetime
) -> aio_pika.Message:
    """A copy of ``original`` (body and properties) for ``pakn.dead``, reason in the headers."""
    return aio_pika.Message(
        original.body,
        headers=dead_letter_headers(
            original.headers,
            reason=reason,
            stage=stage,
            exchange=original.exchange,
            routing_key=original.routing_key,
            now=now,
        ),
        content_type=original.content_type,
        content_encoding=original.content_encoding,
        # Persistent whatever it was: a dead letter is kept until someone deals with it.
        delivery_mode=DeliveryMode.PERSISTENT,
        priority=original.priority,
        correlation_id=original.correlation_id,
        reply_to=original.reply_to,
        # No expiration (it must not vanish) and no user_id (the broker refuses a user_id
        # other than the publishing connection's).
        message_id=original.message_id,
        timestamp=original.timestamp,
        type=original.type,
        app_id=original.app_id,
    )


def _is_own_cancellation() -> bool:
    # aiormq fails pending confirms with CancelledError when the connection drops; only a
    # cancellation requested of this task (task.cancel(), an expiring timeout) must propagate.
    task = asyncio.current_task()
    return task is None or task.cancelling() > 0


def delivery_channel_closed(message: AbstractIncomingMessage) -> bool:
    """Whether the channel ``message`` came on is closed (the broker then has it back and
    delivers it again; acking it is pointless). aio-pika 10 raises ChannelInvalidStateError
    on reading a closed channel's ``message.channel``: that, too, means closed."""
    try:
        channel = message.channel
    except ChannelInvalidStateError:
        return True
    return bool(channel.is_closed)


# --- The bus ---------------------------------------------------------------------------------

Handler = Callable[[AbstractIncomingMessage], Awaitable[Any]]


class Consumer:
    """A running consumer on its own robust channel (re-established after a reconnect)."""

    def __init__(self, channel: AbstractRobustChannel, queue: AbstractQueue, tag: ConsumerTag):
        self.channel = channel
        self.queue = queue
        self.tag = tag
        self._cancelled = False

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    async def cancel(self) -> None:
        """Stop consuming and close the channel; unacked messages go back to the queue."""
        if self._cancelled:
            return
        self._cancelled = True
        try:
            if not self.channel.is_closed:
                await self.queue.cancel(self.tag)
        finally:
            await self.channel.close()


class Bus:
    """One robust broker connection per process, a confirming publisher, consumers.

    ``publish`` returns only once the broker confirmed the message. While the connection is
    down it waits for aio-pika's reconnect and tries again, up to ``timeout``; a message whose
    confirm was lost with the connection is sent again, so consumers must be idempotent
    (the router is: it keys everything by ``submission_id``).
    """

    def __init__(
        self,
        url: str,
        *,
        name: str = "pakn",
        reconnect_interval: float = DEFAULT_RECONNECT_INTERVAL,
        connect_timeout: float = 10.0,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        topology: Topology | None = TOPOLOGY,
    ) -> None:
        self._url = url
        self._name = name
        self._reconnect_interval = reconnect_interval
        self._connect_timeout = connect_timeout
        self._topology = topology
        self._in_flight = asyncio.Semaphore(max_in_flight)
        self._connection: AbstractRobustConnection | None = None
        self._publisher: AbstractRobustChannel | None = None
        self._exchanges: dict[str, AbstractExchange] = {}
        self._consumers: set[Consumer] = set()
        self._closed = False
        self._closed_event = asyncio.Event()

    # -- lifecycle --

    async def start(self) -> None:
        """Connect, open the publisher channel, declare the topology. Fails fast when down."""
        if self._connection is not None or self._closed:
            raise RuntimeError("a Bus is started once")
        # Built here rather than by aio_pika.connect_robust, which leaves the connection it made
        # unclosed when the first connect fails (a "never awaited" warning at collection).
        # Several nodes in the URL: a connection that fails over between them.
        connection = robust_connection(
            self._url,
            reconnect_interval=self._reconnect_interval,
            client_properties={"connection_name": self._name},
        )
        try:
            await connection.connect(timeout=self._connect_timeout)
        except (TimeoutError, *CONNECTION_EXCEPTIONS) as exc:
            await connection.close()
            raise BusUnavailable(f"cannot connect to the broker: {exc!r}") from exc
        self._connection = connection
        self._connection.close_callbacks.add(self._on_connection_lost)
        self._connection.reconnect_callbacks.add(self._on_reconnected)
        try:
            channel = self._connection.channel(publisher_confirms=True, on_return_raises=True)
            await channel.initialize(timeout=self._connect_timeout)
            if self._topology is not None:
                await declare_topology(channel, self._topology)
        except (TimeoutError, *CONNECTION_EXCEPTIONS) as exc:
            await self.close()
            raise BusError(
                f"cannot open the publisher channel or declare topology: {exc!r}"
            ) from exc
        except BaseException:
            await self.close()
            raise
        self._publisher = channel
        CONNECTED.set(1)

    async def close(self) -> None:
        """Cancel consumers and close the connection; publishes still waiting fail."""
        self._closed = True
        self._closed_event.set()
        consumers, self._consumers = self._consumers, set()
        for consumer in consumers:
            try:
                await consumer.cancel()
            except Exception:
                log.debug("consumer %s did not cancel cleanly", consumer.tag, exc_info=True)
        connection, self._connection = self._connection, None
        self._publisher = None
        if connection is not None:
            await connection.close()
            CONNECTED.set(0)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _on_connection_lost(self, _sender: object, exc: BaseException | None) -> None:
        CONNECTED.set(0)
        if not self._closed:
            log.warning("broker connection lost (%r); reconnecting", exc)

    def _on_reconnected(self, _sender: object) -> None:
        RECONNECTS.inc()
        CONNECTED.set(1)
        log.info("broker connection re-established")

    # -- health --

    @property
    def node(self) -> str | None:
        """``host:port`` of the broker node the connection is on (or last tried)."""
        connection = self._connection
        if connection is None:
            return None
        return node_name(getattr(connection, "url", ""))

    @property
    def is_connected(self) -> bool:
        connection, channel = self._connection, self._publisher
        return (
            connection is not None
            and not connection.is_closed
            and connection.connected.is_set()
            and channel is not None
            and not channel.is_closed
        )

    async def health(self, timeout: float = 2.0) -> str | None:
        """None when the broker answers on the publisher channel, else a short reason."""
        if self._closed:
            return "bus closed"
        if self._connection is None or self._publisher is None:
            return "bus not started"
        if not self.is_connected:
            return "broker connection down, reconnecting"
        try:
            # One round trip catches a half-open TCP connection the state flags miss;
            # basic.qos is harmless on a publisher channel and cannot fail for a missing entity.
            async with asyncio.timeout(timeout):
                underlay = await self._publisher.get_underlay_channel()
                await underlay.basic_qos(prefetch_count=0)
        except TimeoutError:
            return "broker not answering"
        except CONNECTION_EXCEPTIONS as exc:
            return f"broker channel error: {type(exc).__name__}"
        return None

    # -- publishing --

    async def publish(
        self,
        exchange: str,
        routing_key: str,
        body: BaseModel,
        *,
        message_id: str,
        correlation_id: str,
        headers: Mapping[str, Any] | None = None,
        timeout: float,
        mandatory: bool = True,
    ) -> None:
        """Publish ``body`` as JSON and return once the broker confirmed it.

        Raises PublishTimeout (not confirmed within ``timeout`` seconds, e.g. while the
        broker is unreachable), PublishUnroutable (mandatory and no queue matched),
        PublishRejected (nack, or the broker refused, e.g. an unknown exchange).
        """
        message = build_message(
            body,
            message_id=message_id,
            correlation_id=correlation_id,
            headers=headers,
            app_id=self._name,
        )
        await self._publish(exchange, routing_key, message, timeout=timeout, mandatory=mandatory)

    async def publish_submission(self, submission: Submission, *, timeout: float) -> None:
        """To ``pakn.intake`` as ``submission.<channel>``; message id = correlation id = its id."""
        await self.publish(
            INTAKE_EXCHANGE,
            submission_routing_key(submission),
            submission,
            message_id=submission.submission_id,
            correlation_id=submission.submission_id,
            timeout=timeout,
        )

    async def publish_case_event(
        self, event: CaseEvent, *, timeout: float, mandatory: bool = False
    ) -> None:
        """``pakn.cases`` / ``case.<event>.<lead agency or none>``, with the citizen's channel
        in HEADER_CITIZEN_CHANNEL (the channels' queues are bound by it).

        Not mandatory by default: case events are notifications, and an agency nobody
        subscribed for yet is normal, not an error to hold the router on.
        """
        await self.publish(
            CASES_EXCHANGE,
            case_routing_key(event),
            event,
            message_id=event.event_id,
            correlation_id=event.submission_id,
            headers=case_event_headers(event),
            timeout=timeout,
            mandatory=mandatory,
        )

    async def dead_letter(
        self, message: AbstractIncomingMessage, *, reason: str, stage: str, timeout: float
    ) -> None:
        """Copy ``message`` to ``pakn.dead`` with the reason, confirmed. The CALLER acks after.

        Order matters: publish, wait for the confirm, then ack the original. A crash in
        between leaves the original unacked, so it is redelivered and dead-lettered twice:
        a duplicate in the dead letters, never a lost message.
        """
        copy = dead_letter_message(message, reason=reason, stage=stage, now=datetime.now(UTC))
        await self._publish(
            DEAD_EXCHANGE, message.routing_key or "", copy, timeout=timeout, mandatory=True
        )

    async def publish_raw(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        *,
        message_id: str | None,
        correlation_id: str | None,
        content_type: str | None = CONTENT_TYPE_JSON,
        headers: Mapping[str, Any] | None = None,
        timeout: float,
        mandatory: bool = True,
    ) -> None:
        """Publish ``body`` byte for byte (a dead letter replayed), persistent and confirmed.

        For bodies that are not (or no longer) a valid model, so ``publish`` cannot build them.
        """
        message = aio_pika.Message(
            body,
            content_type=content_type,
            delivery_mode=DeliveryMode.PERSISTENT,
            message_id=message_id,
            correlation_id=correlation_id,
            headers=dict(headers or {}),
            timestamp=datetime.now(UTC),
            app_id=self._name,
        )
        await self._publish(exchange, routing_key, message, timeout=timeout, mandatory=mandatory)

    async def _publish(
        self,
        exchange: str,
        routing_key: str,
        message: AbstractMessage,
        *,
        timeout: float,
        mandatory: bool,
    ) -> None:
        self._require_started()
        outcome = "error"
        try:
            async with asyncio.timeout(timeout):
                async with self._in_flight:
                    await self._publish_until_confirmed(exchange, routing_key, message, mandatory)
            outcome = "confirmed"
        except TimeoutError as exc:
            outcome = "timeout"
            raise PublishTimeout(
                f"{exchange}/{routing_key}: not confirmed within {timeout:g} s"
            ) from exc
        except PublishUnroutable:
            outcome = "returned"
            raise
        except PublishRejected:
            outcome = "rejected"
            raise
        except BusUnavailable:
            outcome = "closed"
            raise
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        finally:
            PUBLISHES.labels(exchange=exchange, outcome=outcome).inc()

    async def _publish_until_confirmed(
        self, exchange_name: str, routing_key: str, message: AbstractMessage, mandatory: bool
    ) -> None:
        attempt = 0
        while True:
            channel = self._require_started()
            try:
                await self._ready(channel)
                exchange = await self._exchange(channel, exchange_name)
                sent_at = time.perf_counter()
                await exchange.publish(message, routing_key, mandatory=mandatory)
            except PublishError as exc:
                raise PublishUnroutable(
                    f"{exchange_name}/{routing_key}: returned, no queue"
                ) from exc
            except DeliveryError as exc:
                raise PublishRejected(f"{exchange_name}/{routing_key}: nacked") from exc
            except (ChannelNotFoundEntity, ChannelAccessRefused, ChannelPreconditionFailed) as exc:
                raise PublishRejected(f"{exchange_name}/{routing_key}: {exc}") from exc
            except asyncio.CancelledError:
                if _is_own_cancellation():
                    raise
                log.debug("publish to %s interrupted by a lost connection", exchange_name)
            except CONNECTION_EXCEPTIONS as exc:
                log.debug("publish to %s failed (%r); retrying", exchange_name, exc)
            else:
                CONFIRM_SECONDS.labels(exchange=exchange_name).observe(
                    time.perf_counter() - sent_at
                )
                return
            if self._closed:
                raise BusUnavailable("bus closed while publishing")
            await asyncio.sleep(min(_RETRY_FIRST_PAUSE * 2**attempt, _RETRY_MAX_PAUSE))
            attempt += 1

    async def _ready(self, channel: AbstractRobustChannel) -> None:
        """Wait for the (restored) channel, or raise BusUnavailable when the bus is closed."""
        if self.is_connected:
            await channel.ready()
            return
        # While down, channel.ready() waits on an event close() never sets: race the two.
        waiters = {
            asyncio.ensure_future(channel.ready()),
            asyncio.ensure_future(self._closed_event.wait()),
        }
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)
        self._require_started()

    async def _exchange(self, channel: AbstractRobustChannel, name: str) -> AbstractExchange:
        exchange = self._exchanges.get(name)
        if exchange is None:
            # Not ensure=True: a passive declare per name would cost a round trip and, for an
            # unknown exchange, the channel; publishing to it fails loudly anyway.
            exchange = await channel.get_exchange(name, ensure=False)
            self._exchanges[name] = exchange
        return exchange

    def _require_started(self) -> AbstractRobustChannel:
        if self._closed:
            raise BusUnavailable("bus closed")
        if self._publisher is None:
            raise BusUnavailable("bus not started")
        return self._publisher

    # -- consuming and inspecting --

    async def consume(
        self, queue: str, handler: Handler, *, prefetch: int, spec: QueueSpec | None = None
    ) -> Consumer:
        """Deliver messages of ``queue`` to ``handler`` (which acks) on a channel of its own.

        The queue is declared (with its bindings) from ``spec`` when given, else from the
        bus's topology when it names the queue, else it must exist (passive declare).

        The handler must ack, nack or reject each message itself (``message.process()``);
        an exception it lets escape leaves the message unacked until the channel closes.
        The channel is robust: after a reconnect aio-pika re-declares the queue and
        re-registers the consumer with the same tag.
        """
        connection = self._require_connection()
        channel = connection.channel(publisher_confirms=False)
        await channel.initialize(timeout=self._connect_timeout)
        try:
            await channel.set_qos(prefetch_count=prefetch)
            if spec is None and self._topology is not None:
                spec = self._topology.queue(queue)
            if spec is not None:
                declared = await declare_queue(channel, spec)
            else:
                declared = await channel.declare_queue(queue, passive=True)
            tag = await declared.consume(handler)
        except BaseException:
            await channel.close()
            raise
        consumer = Consumer(channel, declared, tag)
        self._keep(consumer)
        return consumer

    def _keep(self, consumer: Consumer) -> None:
        """Track ``consumer`` to cancel at close; those cancelled meanwhile are let go (a live
        view follows and unfollows as pages open and close)."""
        self._consumers = {c for c in self._consumers if not c.cancelled}
        self._consumers.add(consumer)

    async def subscribe(
        self,
        exchange: str,
        routing_key: str,
        handler: Handler,
        *,
        queue: str,
        max_length: int = 1000,
        prefetch: int = 100,
    ) -> Consumer:
        """Deliver what ``exchange`` routes by ``routing_key`` to ``handler`` through a private
        queue of this connection (exclusive, gone with it): for live views, not for work.

        The queue keeps at most ``max_length`` messages, dropping the oldest, so a slow reader
        never holds the broker's memory. The handler acks, as with ``consume``.
        """
        connection = self._require_connection()
        channel = connection.channel(publisher_confirms=False)
        await channel.initialize(timeout=self._connect_timeout)
        try:
            await channel.set_qos(prefetch_count=prefetch)
            declared = await channel.declare_queue(
                queue,
                durable=False,
                exclusive=True,
                auto_delete=True,
                arguments={"x-max-length": max_length, "x-overflow": "drop-head"},
            )
            await declared.bind(exchange, routing_key)
            tag = await declared.consume(handler)
        except BaseException:
            await channel.close()
            raise
        consumer = Consumer(channel, declared, tag)
        self._keep(consumer)
        return consumer

    async def queue_depth(self, name: str, *, timeout: float = 5.0) -> int:
        """Ready messages in ``name``, on a throwaway channel (a missing queue raises)."""
        connection = self._require_connection()
        async with asyncio.timeout(timeout):
            # A plain channel: a robust one closed by a 404 would reopen itself behind us.
            channel = aio_pika.Channel(connection, publisher_confirms=False)
            await channel.initialize()
            try:
                return await queue_depth(channel, name)
            finally:
                if not channel.is_closed:
                    await channel.close()

    def _require_connection(self) -> AbstractRobustConnection:
        self._require_started()
        assert self._connection is not None  # set together with the publisher
        return self._connection
