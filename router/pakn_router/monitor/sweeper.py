"""Periodic upkeep: flag running cases past their deadline, escalate overdue multi-agency
cases to the provincial People's Committee, publish events left in the outbox."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pakn.report_facts import REPORT_ESCALATED, REPORT_OVERDUE
from pakn.schema import Escalation, EventKind, HistoryEntry, Status, dump_for_store
from pakn.store import Store
from pakn_router import case_repository as repository
from pakn_router import messages, metrics
from pakn_router.cases import ROUTER, event
from pakn_router.consumer import SubmissionRouter
from pakn_router.monitor import messages as t

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 30.0
#: An outbox entry older than this was not published by whoever wrote it (the broker was
#: away, or it crashed).
STALE_OUTBOX = timedelta(seconds=20)


#: Where an overdue case handled by several agencies is reported (Quy chế phối hợp 2022).
ESCALATE_TO = "ubnd-tinh"


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
    for case in await repository.overdue_to_escalate(store, now):
        case.escalation = Escalation(to=ESCALATE_TO, reason=t.ESCALATION_REASON, at=now)
        # People read the note on the case page: the agency's name, not its code.
        note = messages.ESCALATED.format(to=agency_name(ESCALATE_TO) or ESCALATE_TO)
        entry = HistoryEntry(at=now, actor=ROUTER, action=EventKind.ESCALATED.value, note=note)
        escalated_event = event(case, EventKind.ESCALATED, now, note)
        applied = await repository.update_with_events(
            store,
            {"submission_id": case.submission_id, "escalation": None},
            {
                "$set": {
                    "escalation": dump_for_store(case.escalation),
                    "overdue": True,
                    REPORT_ESCALATED: 1,
                    REPORT_OVERDUE: 1,
                    "updated_at": now,
                },
                "$push": {
                    "history": dump_for_store(entry),
                    "event_ids": escalated_event.event_id,
                },
            },
            [escalated_event],
            now,
        )
        if applied:
            escalated.append(case.submission_id)
    return escalated


async def measure_backlog(store: Store) -> None:
    """What waits for people, as gauges: triage, needs_info, overdue, dead letters."""
    for status in (Status.TRIAGE, Status.NEEDS_INFO):
        metrics.WAITING.labels(status.value).set(
            await repository.count_waiting(store, status.value)
        )
    metrics.OVERDUE.set(await repository.count_overdue(store))
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

    async def sweep(self) -> Swept:
        now = self.clock()
        marked = await repository.mark_overdue(self.store, now)
        escalated = await escalate_overdue(self.store, now, self.agency_name)
        if escalated:
            await self.router.flush_outbox(submission_ids=escalated)
        await measure_backlog(self.store)
        published = await self.router.flush_outbox(written_before=now - STALE_OUTBOX)
        if marked or published or escalated:
            log.info(
                "sweep: %d case(s) now overdue, %d escalated, %d late event(s) published",
                marked,
                len(escalated),
                published,
            )
        return Swept(marked, published, len(escalated))

    async def run(self) -> None:
        """Sweep after each interval, forever; run under supervision (pakn.loops), so a
        sweep that fails (the store away, a case that cannot be read) is seen and retried.
        The first sweep is the caller's, at start-up (it finishes before the service answers,
        and tests are not raced by it)."""
        while True:
            await asyncio.sleep(self.interval)
            await self.sweep()
