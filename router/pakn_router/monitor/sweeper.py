"""Periodic upkeep: flag running cases past their deadline; publish events left in outboxes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pymongo.errors import PyMongoError

from pakn.schema import Status
from pakn.store import Store
from pakn_router.consumer import TRANSIENT, SubmissionRouter

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 30.0
#: An outbox older than this was not flushed by whoever wrote it (the broker was away).
STALE_OUTBOX = timedelta(seconds=20)


@dataclass(frozen=True)
class Swept:
    marked_overdue: int
    events_published: int


async def mark_overdue(store: Store, now: datetime) -> int:
    """Set ``overdue`` on running cases whose deadline has passed; returns how many."""
    result = await store.cases.update_many(
        {
            "status": {"$in": [Status.ASSIGNED.value, Status.IN_PROGRESS.value]},
            "due_at": {"$ne": None, "$lte": now},
            "overdue": {"$ne": True},
        },
        {"$set": {"overdue": True}},
    )
    return result.modified_count


class Sweeper:
    def __init__(
        self,
        store: Store,
        router: SubmissionRouter,
        *,
        clock: Callable[[], datetime],
        interval: float = DEFAULT_INTERVAL,
    ) -> None:
        self.store = store
        self.router = router
        self.clock = clock
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    async def sweep(self) -> Swept:
        now = self.clock()
        marked = await mark_overdue(self.store, now)
        published = await self.router.flush_outbox({"updated_at": {"$lt": now - STALE_OUTBOX}})
        if marked or published:
            log.info("sweep: %d case(s) now overdue, %d late event(s) published", marked, published)
        return Swept(marked, published)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="monitor-sweeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.sweep()
            except (PyMongoError, *TRANSIENT) as exc:
                log.warning("sweep failed, next in %.0f s: %s", self.interval, exc)
            await asyncio.sleep(self.interval)
