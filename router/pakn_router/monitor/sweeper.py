"""Periodic upkeep: flag running cases past their deadline, escalate overdue multi-agency
cases to the provincial People's Committee, publish events left in outboxes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pymongo.errors import PyMongoError

from pakn.schema import Case, Escalation, EventKind, HistoryEntry, Status, dump_for_store
from pakn.store import Store
from pakn_router import metrics
from pakn_router.cases import ROUTER, event
from pakn_router.consumer import TRANSIENT, SubmissionRouter
from pakn_router.monitor import messages as t

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 30.0
#: An outbox older than this was not flushed by whoever wrote it (the broker was away).
STALE_OUTBOX = timedelta(seconds=20)


#: Where an overdue case handled by several agencies is reported (Quy chế phối hợp 2022).
ESCALATE_TO = "ubnd-tinh"
RUNNING = [Status.ASSIGNED.value, Status.IN_PROGRESS.value]


@dataclass(frozen=True)
class Swept:
    marked_overdue: int
    events_published: int
    escalated: int = 0


async def escalate_overdue(
    store: Store, now: datetime, agency_name: Callable[[str], str | None] = lambda code: None
) -> list[str]:
    """Escalate overdue cases with co-agencies, once each: the escalation (its reason shown
    publicly), a history entry and the `escalated` event, in one guarded update."""
    escalated: list[str] = []
    async for doc in store.cases.find(
        {
            "status": {"$in": RUNNING},
            "due_at": {"$ne": None, "$lte": now},
            "co_agencies.0": {"$exists": True},
            "escalation": None,
        }
    ):
        doc.pop("_id", None)
        case = Case.model_validate(doc)
        case.escalation = Escalation(to=ESCALATE_TO, reason=t.ESCALATION_REASON, at=now)
        # People read the note on the case page: the agency's name, not its code.
        note = f"báo cáo {agency_name(ESCALATE_TO) or ESCALATE_TO}: quá hạn, nhiều cơ quan phối hợp"
        entry = HistoryEntry(at=now, actor=ROUTER, action=EventKind.ESCALATED.value, note=note)
        result = await store.cases.update_one(
            {"submission_id": case.submission_id, "escalation": None},
            {
                "$set": {
                    "escalation": dump_for_store(case.escalation),
                    "overdue": True,
                    "updated_at": now,
                },
                "$push": {
                    "history": dump_for_store(entry),
                    "outbox": dump_for_store(event(case, EventKind.ESCALATED, now, note)),
                },
            },
        )
        if result.modified_count:
            escalated.append(case.submission_id)
    return escalated


async def mark_overdue(store: Store, now: datetime) -> int:
    """Set ``overdue`` on running cases whose deadline has passed; returns how many."""
    result = await store.cases.update_many(
        {
            "status": {"$in": RUNNING},
            "due_at": {"$ne": None, "$lte": now},
            "overdue": {"$ne": True},
        },
        {"$set": {"overdue": True}},
    )
    return result.modified_count


async def measure_backlog(store: Store) -> None:
    """What waits for people, as gauges: triage, needs_info, overdue, dead letters."""
    for status in (Status.TRIAGE, Status.NEEDS_INFO):
        waiting = await store.cases.count_documents({"status": status.value})
        metrics.WAITING.labels(status.value).set(waiting)
    metrics.OVERDUE.set(
        await store.cases.count_documents({"status": {"$in": RUNNING}, "overdue": True})
    )
    metrics.DEAD_LETTERS_WAITING.set(await store.dead_letters.count_documents({"status": "new"}))


class Sweeper:
    def __init__(
        self,
        store: Store,
        router: SubmissionRouter,
        *,
        clock: Callable[[], datetime],
        interval: float = DEFAULT_INTERVAL,
        agency_name: Callable[[str], str | None] = lambda code: None,
    ) -> None:
        self.store = store
        self.agency_name = agency_name
        self.router = router
        self.clock = clock
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    async def sweep(self) -> Swept:
        now = self.clock()
        marked = await mark_overdue(self.store, now)
        escalated = await escalate_overdue(self.store, now, self.agency_name)
        if escalated:
            await self.router.flush_outbox({"submission_id": {"$in": escalated}})
        await measure_backlog(self.store)
        published = await self.router.flush_outbox({"updated_at": {"$lt": now - STALE_OUTBOX}})
        if marked or published or escalated:
            log.info(
                "sweep: %d case(s) now overdue, %d escalated, %d late event(s) published",
                marked,
                len(escalated),
                published,
            )
        return Swept(marked, published, len(escalated))

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="monitor-sweeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        # The first sweep is the caller's, at start-up (so it finishes before the service
        # answers, and tests are not raced by it); this loop sweeps after each interval.
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.sweep()
            except (PyMongoError, *TRANSIENT) as exc:
                log.warning("sweep failed, next in %.0f s: %s", self.interval, exc)
