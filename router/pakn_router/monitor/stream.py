"""Live updates for open monitor pages: case events from the broker, new dead letters.

One private queue per router process is bound to every case event while a page is open;
each open page (one server-sent-events response) gets what its user may see. Pages work
without it: this only saves a reload.

The queue exists only while someone watches (and a minute after, for pages being reloaded):
bound all the time, it cost the broker a copy of every event and the router reading and
decoding it, for pages nobody had open (issue 18: in a drain with no page open, py-spy
found the hub's handler alone in 2.5 % of the router's samples, beside the frames' reading).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aio_pika.abc import AbstractIncomingMessage
from pydantic import ValidationError

from pakn.bus import CASES_EXCHANGE, Bus, Consumer
from pakn.ids import format_tracking_code
from pakn.schema import CaseEvent
from pakn_router.monitor import messages as t

log = logging.getLogger(__name__)

#: Events a page may fall behind by before it misses some (it is told to reload then).
SUBSCRIBER_BACKLOG = 200
#: How long the queue stays after the last page closed: a page being reloaded or moving to
#: the next one subscribes again within it, and finds the queue there.
LINGER_SECONDS = 60.0


@dataclass(frozen=True)
class Update:
    """One message for the pages: ``kind`` is the SSE event name."""

    kind: str
    data: Mapping[str, Any]
    #: Agencies concerned (None: not an agency's matter, e.g. a dead letter).
    agencies: frozenset[str] | None = None
    operators_only: bool = False

    def encode(self) -> bytes:
        payload = json.dumps(self.data, ensure_ascii=False, separators=(",", ":"))
        return f"event: {self.kind}\ndata: {payload}\n\n".encode()


@dataclass(eq=False)
class Subscriber:
    agency: str | None
    operator: bool
    queue: asyncio.Queue[Update | None] = field(
        default_factory=lambda: asyncio.Queue(SUBSCRIBER_BACKLOG)
    )
    lagging: bool = False

    def wants(self, update: Update) -> bool:
        if update.operators_only and not self.operator:
            return False
        if self.agency is None:
            return True
        return update.agencies is not None and self.agency in update.agencies


AgencyName = Callable[[str | None], str | None]


def case_update(case_event: CaseEvent, agency_name: AgencyName = lambda code: code) -> Update:
    """What a page shows of an event: no personal data, only where the case went."""
    agencies = {case_event.lead_agency, *case_event.co_agencies} - {None}
    return Update(
        "case",
        {
            "event": case_event.event.value,
            "event_name": t.ACTION_NAMES.get(case_event.event.value, case_event.event.value),
            "lead_agency_name": agency_name(case_event.lead_agency) or t.NO_AGENCY,
            "tracking_code": case_event.tracking_code,
            "tracking_code_display": format_tracking_code(case_event.tracking_code),
            "status": case_event.status.value,
            "field": case_event.field,
            "lead_agency": case_event.lead_agency,
            "co_agencies": case_event.co_agencies,
            "at": case_event.at.isoformat(),
        },
        agencies=frozenset(a for a in agencies if a is not None),
    )


def dead_letter_update(letter: Mapping[str, Any]) -> Update:
    return Update(
        "dead_letter",
        {"id": letter["_id"], "stage": letter.get("stage"), "reason": letter.get("reason")},
        operators_only=True,
    )


class Hub:
    """Fans updates out to the open pages; a page that falls behind is told to reload."""

    def __init__(
        self, agency_name: AgencyName = lambda code: code, *, linger: float = LINGER_SECONDS
    ) -> None:
        self._agency_name = agency_name
        self._linger = linger
        self._subscribers: set[Subscriber] = set()
        self._bus: Bus | None = None
        self._consumer: Consumer | None = None
        self._following = asyncio.Lock()
        self._unfollow: asyncio.TimerHandle | None = None
        self._unfollowing: set[asyncio.Task[None]] = set()
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def queue(self) -> str | None:
        """The broker queue of case events while one is bound (None: nobody watches)."""
        return self._consumer.queue.name if self._consumer is not None else None

    async def start(self, bus: Bus) -> None:
        """Ready to follow ``bus``; the queue is bound when the first page opens."""
        self._bus = bus

    async def close(self) -> None:
        self._closed = True
        for subscriber in tuple(self._subscribers):
            self._offer(subscriber, None)
        self._cancel_unfollow()
        for task in tuple(self._unfollowing):
            task.cancel()
        await self._stop_following()

    async def subscribe(self, *, agency: str | None, operator: bool) -> Subscriber:
        """A new page's subscriber, once the queue of case events is bound: what happens
        after this returns reaches it. A broker away leaves the page without case updates
        (it still works, and the next page tries again)."""
        subscriber = Subscriber(agency, operator)
        self._subscribers.add(subscriber)
        self._cancel_unfollow()
        try:
            await self._follow()
        except Exception as exc:
            log.warning("live case updates unavailable, pages work without: %s", exc)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)
        if not self._subscribers and self._consumer is not None and not self._closed:
            self._cancel_unfollow()
            self._unfollow = asyncio.get_running_loop().call_later(self._linger, self._unfollow_now)

    def _cancel_unfollow(self) -> None:
        if self._unfollow is not None:
            self._unfollow.cancel()
            self._unfollow = None

    def _unfollow_now(self) -> None:
        self._unfollow = None
        if self._subscribers:
            return
        task = asyncio.create_task(self._stop_following())
        self._unfollowing.add(task)
        task.add_done_callback(self._unfollowing.discard)

    async def _follow(self) -> None:
        async with self._following:
            if self._consumer is not None or self._bus is None or self._closed:
                return
            self._consumer = await self._bus.subscribe(
                CASES_EXCHANGE,
                "case.#",
                self._on_message,
                queue=f"router.monitor.{secrets.token_hex(6)}",
            )

    async def _stop_following(self) -> None:
        async with self._following:
            # A page may have come back while the stop waited for the lock.
            if self._consumer is None or (self._subscribers and not self._closed):
                return
            consumer, self._consumer = self._consumer, None
            with contextlib.suppress(Exception):
                await consumer.cancel()

    def publish(self, update: Update) -> None:
        for subscriber in tuple(self._subscribers):
            if subscriber.wants(update):
                self._offer(subscriber, update)

    @staticmethod
    def _offer(subscriber: Subscriber, update: Update | None) -> None:
        try:
            subscriber.queue.put_nowait(update)
        except asyncio.QueueFull:
            subscriber.lagging = True

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        try:
            self.publish(
                case_update(CaseEvent.model_validate_json(message.body), self._agency_name)
            )
        except (ValidationError, ValueError):
            # A live view never stalls on one message (InvalidTrackingCode is a ValueError).
            log.warning("not a case event on %s: %s", CASES_EXCHANGE, message.message_id)
        with contextlib.suppress(Exception):
            await message.ack()
