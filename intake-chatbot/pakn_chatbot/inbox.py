"""Platform events kept before the platform is answered, then handled in order.

Zalo wants an answer within seconds and Meta retries what is not answered 200; the turn
itself (photo downloads, the broker's confirm) may take longer. So a webhook only writes the
event here (keyed by platform and event id: a redelivery finds it already there) and
answers; a worker handles what is pending, oldest first, and marks it done. A crash before
the mark handles the event again, which the session's list of answered events turns into a
no-op.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from pakn import loops
from pakn.store import Store
from pakn_chatbot import metrics
from pakn_chatbot.platforms import InboundEvent, Platform

log = logging.getLogger(__name__)

COLLECTION = "chatbot_inbox"
LEASE = timedelta(minutes=2)
KEEP_DONE = timedelta(days=7)
#: An event that fails this often is set aside (status "failed") instead of blocking.
MAX_ATTEMPTS = 10

INDEXES = [
    IndexModel([("status", ASCENDING), ("received_at", ASCENDING)], name="status_received"),
    IndexModel([("purge_at", ASCENDING)], name="purge_at_ttl", expireAfterSeconds=0),
]


async def ensure_indexes(store: Store) -> None:
    await store.db[COLLECTION].create_indexes(INDEXES)


async def keep(store: Store, event: InboundEvent, *, now: datetime) -> bool:
    """Stores the event; False when it was delivered before (nothing to do)."""
    try:
        await store.db[COLLECTION].insert_one(
            {
                "_id": f"{event.platform}:{event.event_id}",
                "platform": event.platform,
                "user_id": event.user_id,
                "event_id": event.event_id,
                "text": event.text,
                "at": event.at,
                "photo_urls": list(event.photo_urls),
                "status": "pending",
                "attempts": 0,
                "received_at": now,
            }
        )
    except DuplicateKeyError:
        metrics.DUPLICATE_EVENTS.labels(event.platform).inc()
        return False
    return True


def _event(doc: dict[str, Any]) -> InboundEvent:
    platform: Platform = doc["platform"]
    at = doc["at"]
    if isinstance(at, datetime) and at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return InboundEvent(
        platform, doc["user_id"], doc["event_id"], doc["text"], at, tuple(doc["photo_urls"])
    )


class InboxWorker:
    def __init__(
        self,
        store: Store,
        handle: Callable[[InboundEvent], Awaitable[object]],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.handle = handle
        self.clock = clock
        self.wake = asyncio.Event()

    async def run(self, interval: float) -> None:
        await loops.every(interval, self.run_once, self.wake)

    async def run_once(self) -> int:
        done = 0
        collection = self.store.db[COLLECTION]
        while True:
            now = self.clock()
            doc = await collection.find_one_and_update(
                {
                    "$or": [
                        {"status": "pending"},
                        {"status": "working", "lease_until": {"$lte": now}},
                    ]
                },
                {
                    "$set": {"status": "working", "lease_until": now + LEASE},
                    "$inc": {"attempts": 1},
                },
                sort=[("received_at", ASCENDING)],
                return_document=ReturnDocument.AFTER,
            )
            if doc is None:
                return done
            try:
                await self.handle(_event(doc))
            except Exception:
                log.exception("event %s could not be handled", doc["_id"])
                failed = int(doc.get("attempts", 1)) >= MAX_ATTEMPTS
                await collection.update_one(
                    {"_id": doc["_id"]},
                    {"$set": {"status": "failed" if failed else "pending"}},
                )
                if not failed:
                    raise  # the loop's supervisor logs, backs off and restarts us
                continue
            await collection.update_one(
                {"_id": doc["_id"]},
                {"$set": {"status": "done", "purge_at": self.clock() + KEEP_DONE}},
            )
            done += 1
