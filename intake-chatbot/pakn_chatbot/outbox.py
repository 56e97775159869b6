"""Messages to the platforms, kept in MongoDB until the platform took them.

A webhook answers the platform at once; what the citizen is told goes here first and a
sender hands it to the platform's send API, retrying with backoff. Every entry's id is made
from what caused it (the citizen's event id and the reply's position, or the case event id),
so a redelivered event or case event writes the same entries again, never new ones. An entry
is claimed with a lease before it is sent and marked sent after, so one process sends it
once; a crash between the send and the mark (the only gap) may send it twice, never lose it.
Replies to one citizen leave in order: an entry waits while an earlier one for the same
citizen is still being retried.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from pymongo import ASCENDING, IndexModel, ReturnDocument, UpdateOne

from pakn import loops
from pakn.store import Store
from pakn_chatbot import metrics
from pakn_chatbot.platforms import MESSENGER_WINDOW, SendResult

log = logging.getLogger(__name__)

COLLECTION = "chatbot_outbox"
#: How long a claimed entry is ours before another sender may take it (a crashed sender).
LEASE = timedelta(seconds=60)
#: Sent and refused entries are kept this long for the record, then deleted by the server.
KEEP_DONE = timedelta(days=30)

Kind = Literal["reply", "update", "notice"]

INDEXES = [
    IndexModel([("status", ASCENDING), ("next_at", ASCENDING)], name="status_next"),
    IndexModel([("recipient", ASCENDING), ("seq", ASCENDING)], name="recipient_seq"),
    IndexModel([("purge_at", ASCENDING)], name="purge_at_ttl", expireAfterSeconds=0),
]


class Sender(Protocol):
    async def send(self, user_id: str, text: str, *, in_window: bool) -> SendResult: ...


@dataclass(frozen=True)
class OutgoingMessage:
    id: str
    platform: str
    user_id: str
    text: str
    kind: Kind


async def ensure_indexes(store: Store) -> None:
    await store.db[COLLECTION].create_indexes(INDEXES)


async def enqueue(store: Store, messages: Sequence[OutgoingMessage], *, now: datetime) -> None:
    """Adds the messages once: an id already there is left as it is."""
    if not messages:
        return
    base = time.time_ns()
    await store.db[COLLECTION].bulk_write(
        [
            UpdateOne(
                {"_id": m.id},
                {
                    "$setOnInsert": {
                        "platform": m.platform,
                        "user_id": m.user_id,
                        "recipient": f"{m.platform}:{m.user_id}",
                        "text": m.text,
                        "kind": m.kind,
                        "status": "pending",
                        "attempts": 0,
                        "created_at": now,
                        "next_at": now,
                        "seq": base + i,
                    }
                },
                upsert=True,
            )
            for i, m in enumerate(messages)
        ],
        ordered=True,
    )


async def take_generic(store: Store, user_id: str, *, now: datetime) -> list[str]:
    """Updates waiting for a widget user (no push there): handed over with the next answer."""
    texts: list[str] = []
    while True:
        doc = await store.db[COLLECTION].find_one_and_update(
            {"recipient": f"generic:{user_id}", "status": "pending"},
            {"$set": {"status": "sent", "sent_at": now, "purge_at": now + KEEP_DONE}},
            sort=[("seq", ASCENDING)],
        )
        if doc is None:
            return texts
        texts.append(str(doc["text"]))


def backoff(attempts: int, first: float, maximum: float) -> float:
    return float(min(maximum, first * 2 ** max(0, attempts - 1)))


class OutboxSender:
    """Sends due entries through each platform's client; one pass per ``run_once``."""

    def __init__(
        self,
        store: Store,
        clients: dict[str, Sender],
        *,
        max_attempts: int,
        first_backoff: float,
        max_backoff: float,
        last_inbound: Callable[[str, str], Awaitable[datetime | None]],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.clients = clients
        self.max_attempts = max_attempts
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.last_inbound = last_inbound
        self.clock = clock
        self.wake = asyncio.Event()

    async def run(self, interval: float) -> None:
        """Forever: send what is due, then sleep until woken or ``interval`` passed."""
        await loops.every(interval, self.run_once, self.wake)

    async def run_once(self) -> int:
        sent = 0
        while (doc := await self._claim()) is not None:
            if await self._send(doc):
                sent += 1
        return sent

    async def _claim(self) -> dict[str, Any] | None:
        now = self.clock()
        collection = self.store.db[COLLECTION]
        platforms = list(self.clients)
        doc = await collection.find_one_and_update(
            {
                "platform": {"$in": platforms},
                "$or": [
                    {"status": "pending", "next_at": {"$lte": now}},
                    {"status": "sending", "lease_until": {"$lte": now}},
                ],
            },
            {"$set": {"status": "sending", "lease_until": now + LEASE}, "$inc": {"attempts": 1}},
            sort=[("seq", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            return None
        earlier = await collection.find_one(
            {
                "recipient": doc["recipient"],
                "seq": {"$lt": doc["seq"]},
                "status": {"$in": ["pending", "sending"]},
            },
            sort=[("seq", ASCENDING)],
        )
        if earlier is not None:
            # Keep the citizen's messages in order: wait for the earlier one.
            wait_until = max(earlier.get("next_at") or now, now + timedelta(seconds=1))
            await collection.update_one(
                {"_id": doc["_id"], "status": "sending"},
                {"$set": {"status": "pending", "next_at": wait_until}, "$inc": {"attempts": -1}},
            )
            return await self._claim()  # the postponed entry is no longer due
        return doc

    async def _send(self, doc: dict[str, Any]) -> bool:
        platform = str(doc["platform"])
        client = self.clients[platform]
        in_window = True
        if doc.get("kind") != "reply":
            last = await self.last_inbound(platform, str(doc["user_id"]))
            if last is not None and last.tzinfo is None:
                last = last.replace(tzinfo=UTC)
            in_window = last is not None and self.clock() - last < MESSENGER_WINDOW
        try:
            result = await client.send(str(doc["user_id"]), str(doc["text"]), in_window=in_window)
        except (OSError, TimeoutError, ValueError) as exc:
            result = SendResult("retry", type(exc).__name__)
        except Exception as exc:  # aiohttp's own errors and anything else: try again later
            result = SendResult("retry", type(exc).__name__)
        now = self.clock()
        collection = self.store.db[COLLECTION]
        if result.outcome == "sent":
            metrics.SENDS.labels(platform, "sent").inc()
            await collection.update_one(
                {"_id": doc["_id"]},
                {
                    "$set": {
                        "status": "sent",
                        "sent_at": now,
                        "platform_message_id": result.platform_message_id,
                        "purge_at": now + KEEP_DONE,
                    },
                    "$unset": {"lease_until": ""},
                },
            )
            return True
        metrics.SEND_FAILURES.labels(platform).inc()
        attempts = int(doc.get("attempts", 1))
        if result.outcome == "refused" or attempts >= self.max_attempts:
            outcome = "refused" if result.outcome == "refused" else "gave_up"
            metrics.SENDS.labels(platform, outcome).inc()
            log.warning("outbox %s %s after %d attempt(s): %s", doc["_id"], outcome, attempts,
                        result.detail)  # fmt: skip
            await collection.update_one(
                {"_id": doc["_id"]},
                {
                    "$set": {
                        "status": outcome,
                        "last_error": result.detail,
                        "purge_at": now + KEEP_DONE,
                    },
                    "$unset": {"lease_until": ""},
                },
            )
            return False
        metrics.SENDS.labels(platform, "failed").inc()
        delay = backoff(attempts, self.first_backoff, self.max_backoff)
        await collection.update_one(
            {"_id": doc["_id"]},
            {
                "$set": {
                    "status": "pending",
                    "next_at": now + timedelta(seconds=delay),
                    "last_error": result.detail,
                },
                "$unset": {"lease_until": ""},
            },
        )
        return False
