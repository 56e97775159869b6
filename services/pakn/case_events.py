"""A channel's follower of ``pakn.cases`` (DESIGN.md §6): its own quorum queue, its own cases,
each event handled once, transient failures retried, poison dead-lettered.

A channel service (email, hotline, chatbot) tells its citizens what happened to their case.
It starts one `CaseEventFollower` with a handler; the follower binds ``<channel>.case-events``
to the events of the channel's own cases (through ``pakn.citizens``, by a header the bus puts
on every case event), checks again that each is one (a queue bound by an earlier version, a
replayed dead letter), calls the handler, writes a receipt (unique on channel and event id)
and only then acks. Order of one queue is kept: one event at a time.

Delivery is at least once: a crash after the handler succeeded and before the receipt was
written calls the handler again with the same event, so a handler should be idempotent by
``event.event_id`` where it can (an upsert keyed by it; an outbox keyed by it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Final, TypeVar

from aio_pika.abc import AbstractIncomingMessage
from prometheus_client import Counter, Gauge
from pydantic import ValidationError
from pymongo.errors import ConnectionFailure, DuplicateKeyError

from pakn import loops
from pakn.bus import (
    HEADER_SCHEMA_VERSION,
    Bus,
    BusError,
    Consumer,
    case_events_queue,
    case_events_queue_spec,
    citizen_channel,
)
from pakn.loops import SupervisedLoop
from pakn.schema import ACCEPTED_SCHEMA_VERSIONS, CaseEvent, Channel
from pakn.store import Store

log = logging.getLogger(__name__)

_T = TypeVar("_T")

#: What a channel does with one event of one of its cases.
CaseEventHandler = Callable[[CaseEvent], Awaitable[None]]

FIRST_BACKOFF: Final = 0.2
MAX_BACKOFF: Final = 15.0

CASE_EVENTS = Counter(
    "pakn_case_events",
    "Case events a channel's follower took from its queue, by outcome: handled, other_channel,"
    " agency_copy, repeat (handled before), dead (dead-lettered), requeued (unexpected error)",
    ["channel", "outcome"],
)
CASE_EVENT_RETRIES = Counter(
    "pakn_case_event_retries",
    "Transient failures while handling a case event (retried while the delivery is held)",
    ["channel", "stage"],
)
FOLLOWER_UP = Gauge(
    "pakn_case_events_follower_up", "1 while the channel's case-event worker runs", ["channel"]
)


class RetryLater(Exception):
    """Raised by a handler for a failure that will pass (a mail server down): retried."""


class PoisonEvent(Exception):
    """An event that can never be handled: dead-lettered with this reason, then acked."""

    def __init__(self, reason: str, stage: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.stage = stage


#: Failures retried in-process, the delivery held (never rejected for them).
TRANSIENT: Final = (ConnectionFailure, BusError, TimeoutError, OSError, RetryLater)


# --- Pure parts ------------------------------------------------------------------------------


def parse_case_event(body: bytes, schema_version: object) -> CaseEvent:
    """The event in a delivery's body, or PoisonEvent saying why it can never be one."""
    if schema_version is not None and schema_version not in ACCEPTED_SCHEMA_VERSIONS:
        raise PoisonEvent(f"unsupported schema_version {schema_version!r}", "parse")
    try:
        return CaseEvent.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(body)"
        raise PoisonEvent(f"invalid case event: {where}: {first['msg']}", "parse") from exc


def skip_reason(event: CaseEvent, channel: Channel) -> str | None:
    """Why ``channel`` leaves ``event`` alone, or None when it concerns the channel's citizen
    (``pakn.bus.citizen_channel``; the broker routes by the same, this is the second guard)."""
    if event.addressed_to is not None:
        return "agency_copy"
    if citizen_channel(event) != channel:
        return "other_channel"
    return None


# --- The follower ----------------------------------------------------------------------------


class CaseEventFollower:
    """Consumes ``<channel>.case-events`` and calls ``handler`` once per event of the channel.

    ``start()`` declares the queue (bound through ``pakn.citizens`` to the events of the
    channel's citizens, see ``case_events_queue_spec``) and starts one
    worker; ``stop()`` cancels the consumer (unacked deliveries go back) and the worker;
    ``health()`` is for /healthz (None, or why events are not being handled).
    """

    def __init__(
        self,
        *,
        channel: Channel,
        store: Store,
        bus: Bus,
        handler: CaseEventHandler,
        prefetch: int = 20,
        publish_timeout: float = 10.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.channel = channel
        self.queue = case_events_queue(channel.value)
        self.store = store
        self.bus = bus
        self.handler = handler
        self.prefetch = prefetch
        self.publish_timeout = publish_timeout
        self.clock = clock
        self.last_error: str | None = None
        self._inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        self._consumer: Consumer | None = None
        self._worker: SupervisedLoop | None = None

    async def start(self) -> None:
        # Supervised: should the worker ever fail, it is logged, shown and started again.
        self._worker = loops.supervise(self.queue, self._work)
        self._consumer = await self.bus.consume(
            self.queue,
            self._inbox.put,
            prefetch=self.prefetch,
            spec=case_events_queue_spec(self.channel.value),
        )

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.cancel()
        if self._worker is not None:
            await self._worker.stop()
        FOLLOWER_UP.labels(self.channel.value).set(0)

    async def health(self) -> str | None:
        if self._worker is None:
            return f"{self.queue}: not started"
        return await self._worker.health() or self.last_error

    async def _work(self) -> None:
        FOLLOWER_UP.labels(self.channel.value).set(1)
        try:
            while True:
                message = await self._inbox.get()
                try:
                    await self.process(message)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    # A bug, not a property of the event: the loop goes on, the delivery goes
                    # back (the queue's delivery limit dead-letters it if it keeps failing).
                    log.exception("case event %s: unexpected error", message.message_id)
                    self.last_error = f"{type(exc).__name__}: {exc}"[:200]
                    CASE_EVENTS.labels(self.channel.value, "requeued").inc()
                    with contextlib.suppress(Exception):
                        await message.nack(requeue=True)
        finally:
            FOLLOWER_UP.labels(self.channel.value).set(0)

    async def process(self, message: AbstractIncomingMessage) -> str:
        """Handle one delivery to the end (ack included); returns the outcome."""
        try:
            event = parse_case_event(
                message.body, (message.headers or {}).get(HEADER_SCHEMA_VERSION)
            )
        except PoisonEvent as poison:
            return await self._dead_letter(message, poison)
        skipped = skip_reason(event, self.channel)
        if skipped is not None:
            return await self._ack(message, skipped)
        if await self._retrying("receipt", message, lambda: self._handled_before(event)):
            return await self._ack(message, "repeat")
        try:
            await self._retrying("handler", message, lambda: self.handler(event))
        except _ChannelGone:
            return "redelivered"
        except PoisonEvent as poison:
            return await self._dead_letter(message, poison)
        except Exception as exc:
            reason = f"handler failed: {type(exc).__name__}: {exc}"
            log.exception("case event %s (%s) not handled", event.event_id, event.tracking_code)
            return await self._dead_letter(message, PoisonEvent(reason, "handler"))
        await self._retrying("receipt", message, lambda: self._write_receipt(event))
        self.last_error = None
        log.info("case event %s %s handled", event.tracking_code, event.event.value)
        return await self._ack(message, "handled")

    async def _handled_before(self, event: CaseEvent) -> bool:
        found = await self.store.case_event_receipts.find_one(
            {"channel": self.channel.value, "event_id": event.event_id}, {"_id": 1}
        )
        return found is not None

    async def _write_receipt(self, event: CaseEvent) -> None:
        with contextlib.suppress(DuplicateKeyError):  # a second instance got there first
            await self.store.case_event_receipts.insert_one(
                {
                    "channel": self.channel.value,
                    "event_id": event.event_id,
                    "tracking_code": event.tracking_code,
                    "event": event.event.value,
                    "handled_at": self.clock(),
                }
            )

    async def _retrying(
        self, stage: str, message: AbstractIncomingMessage, step: Callable[[], Awaitable[_T]]
    ) -> _T:
        """``step()`` until it stops failing transiently, with backoff; the delivery is held.
        Raises _ChannelGone when the broker took the delivery back meanwhile."""
        backoff = FIRST_BACKOFF
        while True:
            try:
                return await step()
            except TRANSIENT as exc:
                self.last_error = f"{stage}: {type(exc).__name__}: {exc}"[:200]
                CASE_EVENT_RETRIES.labels(self.channel.value, stage).inc()
                log.warning("case event %s held at %s: %s", message.message_id, stage, exc)
            if _channel_closed(message):
                raise _ChannelGone
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)

    async def _dead_letter(self, message: AbstractIncomingMessage, poison: PoisonEvent) -> str:
        log.error("dead-lettering case event %s: %s", message.message_id, poison.reason)
        stage = f"{self.queue}:{poison.stage}"
        try:
            await self._retrying(
                "dead_letter",
                message,
                lambda: self.bus.dead_letter(
                    message, reason=poison.reason, stage=stage, timeout=self.publish_timeout
                ),
            )
        except _ChannelGone:
            return "redelivered"
        return await self._ack(message, "dead")

    async def _ack(self, message: AbstractIncomingMessage, outcome: str) -> str:
        try:
            await message.ack()
        except Exception as exc:  # the channel died: redelivered, and the receipt dedupes
            log.warning("ack of case event %s failed (%s)", message.message_id, exc)
        CASE_EVENTS.labels(self.channel.value, outcome).inc()
        return outcome


class _ChannelGone(Exception):
    """The delivery's channel closed: the broker gives the event to us again."""


def _channel_closed(message: AbstractIncomingMessage) -> bool:
    channel = getattr(message, "channel", None)
    return bool(channel is not None and getattr(channel, "is_closed", False))
