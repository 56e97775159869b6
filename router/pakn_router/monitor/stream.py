"""Live updates for open monitor pages: case events from the broker, new dead letters.

One private queue per router process is bound to every case event; each open page (one
server-sent-events response) gets what its user may see. Pages work without it: this only
saves a reload.
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

    def __init__(self, agency_name: AgencyName = lambda code: code) -> None:
        self._agency_name = agency_name
        self._subscribers: set[Subscriber] = set()
        self._consumer: Consumer | None = None
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    async def start(self, bus: Bus) -> None:
        self._consumer = await bus.subscribe(
            CASES_EXCHANGE,
            "case.#",
            self._on_message,
            queue=f"router.monitor.{secrets.token_hex(6)}",
        )

    async def close(self) -> None:
        self._closed = True
        for subscriber in tuple(self._subscribers):
            self._offer(subscriber, None)
        if self._consumer is not None:
            with contextlib.suppress(Exception):
                await self._consumer.cancel()
            self._consumer = None

    def subscribe(self, *, agency: str | None, operator: bool) -> Subscriber:
        subscriber = Subscriber(agency, operator)
        self._subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

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
            case_event = CaseEvent.model_validate_json(message.body)
        except ValidationError:
            log.warning("not a case event on %s: %s", CASES_EXCHANGE, message.message_id)
        else:
            self.publish(case_update(case_event, self._agency_name))
        with contextlib.suppress(Exception):
            await message.ack()
