"""The router's consumer: batches from `router.submissions`, idempotent writes, confirmed
events (through an outbox on the case), then acks — in that order, so nothing is lost."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aio_pika.abc import AbstractIncomingMessage
from pydantic import ValidationError
from pymongo import UpdateOne
from pymongo.errors import BulkWriteError, ConnectionFailure

from pakn.bus import SUBMISSIONS_QUEUE, Bus, BusError, Consumer
from pakn.schema import (
    ACCEPTED_SCHEMA_VERSIONS,
    Case,
    CaseEvent,
    HistoryEntry,
    Status,
    Submission,
    dump_for_store,
)
from pakn.store import Store
from pakn.worktime import WorkCalendar
from pakn_router import metrics
from pakn_router.agency.transitions import after_followup
from pakn_router.cases import (
    ROUTER,
    apply_classification,
    close_pause,
    combined_text,
    followup_of,
    mark_duplicate,
    mark_needs_info,
    open_case,
)
from pakn_router.classification import Classification

log = logging.getLogger(__name__)

#: A repeat this recent of an open case is its duplicate; an older one is a new report.
DUPLICATE_WINDOW = timedelta(days=30)
#: Statuses a repeat is a duplicate of (a repeat of a resolved case is a new report).
OPEN_STATUSES = [
    s.value
    for s in (
        Status.RECEIVED,
        Status.NEEDS_INFO,
        Status.TRIAGE,
        Status.ASSIGNED,
        Status.IN_PROGRESS,
    )
]
DUPLICATE_KEY = 11000

Classify = Callable[[Submission | Case, str], Classification]

#: What routing a needs_info case (completed by a follow-up) changes on the stored case.
ROUTED_KEYS = (
    "status",
    "field",
    "category",
    "priority",
    "lead_agency",
    "co_agencies",
    "routing",
    "due_at",
    "sla",
    "redirect",
    "location",
)


#: What a follow-up handled by the agency workspace's rules may change on the stored case.
AGENCY_FOLLOWUP_KEYS = (
    "status",
    "due_at",
    "overdue",
    "sla",
    "question",
    "answer",
    "citizen_feedback",
    "reopened",
)
#: How long after its publication a "not solved" reopens a case (PAKN_REOPEN_DAYS).
DEFAULT_REOPEN_WINDOW = timedelta(days=30)


class Poison(Exception):
    """A message that can never be processed: dead-lettered with this reason, then acked.
    ``kind`` is the bounded label for metrics; ``reason`` the full text for operators."""

    def __init__(self, reason: str, stage: str, kind: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.stage = stage
        self.kind = kind


def parse_submission(message: AbstractIncomingMessage) -> Submission:
    """The submission in a delivery, or Poison saying why it can never be one."""
    headers = message.headers or {}
    version = headers.get("schema_version")
    if version is not None and version not in ACCEPTED_SCHEMA_VERSIONS:
        raise Poison(f"unsupported schema_version {version!r}", "parse", "schema_version")
    try:
        return Submission.model_validate_json(message.body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(body)"
        raise Poison(f"invalid submission: {where}: {first['msg']}", "parse", "invalid") from exc
    except ValueError as exc:
        raise Poison(f"not a JSON submission: {exc}", "parse", "not_json") from exc


@dataclass
class Delivery:
    message: AbstractIncomingMessage
    submission: Submission


TRANSIENT = (ConnectionFailure, BusError, TimeoutError)


class SubmissionRouter:
    """Consumes submissions and routes them, holding deliveries until all is confirmed."""

    def __init__(
        self,
        *,
        store: Store,
        bus: Bus,
        classify: Classify,
        calendar: WorkCalendar,
        prefetch: int = 100,
        batch_size: int = 50,
        batch_wait: float = 0.02,
        publish_timeout: float = 10.0,
        reopen_window: timedelta = DEFAULT_REOPEN_WINDOW,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.reopen_window = reopen_window
        self.bus = bus
        self.classify = classify
        self.calendar = calendar
        self.prefetch = prefetch
        self.batch_size = batch_size
        self.batch_wait = batch_wait
        self.publish_timeout = publish_timeout
        self.clock = clock
        self._inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        self._consumer: Consumer | None = None
        self._worker: asyncio.Task[None] | None = None
        self.last_error: str | None = None

    async def start(self) -> None:
        await self.flush_outbox({"outbox.0": {"$exists": True}})
        self._worker = asyncio.create_task(self._work(), name="router-batches")
        self._consumer = await self.bus.consume(
            SUBMISSIONS_QUEUE, self._inbox.put, prefetch=self.prefetch
        )

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.cancel()  # unacked deliveries return to the queue
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker

    async def health(self) -> str | None:
        return self.last_error

    # --- batching -----------------------------------------------------------------------

    async def _work(self) -> None:
        while True:
            batch = [await self._inbox.get()]
            deadline = time.monotonic() + self.batch_wait
            while len(batch) < self.batch_size:
                remaining = deadline - time.monotonic()
                if remaining <= 0 and self._inbox.empty():
                    break
                try:
                    batch.append(await asyncio.wait_for(self._inbox.get(), max(remaining, 0)))
                except TimeoutError:
                    break
            await self.process(batch)

    async def process(self, batch: Sequence[AbstractIncomingMessage]) -> None:
        """Route one batch; transient failures are retried while the deliveries are held."""
        started = time.perf_counter()
        metrics.BATCH_SIZE.observe(len(batch))
        deliveries: list[Delivery] = []
        for message in batch:
            try:
                deliveries.append(Delivery(message, parse_submission(message)))
            except Poison as poison:
                await self._dead_letter(message, poison)
        backoff = 0.2
        while deliveries:
            if all(_channel_closed(d.message) for d in deliveries):
                # The broker took these back when the channel died; they come again.
                log.warning("dropping a batch of %d: its channel closed", len(deliveries))
                return
            try:
                await self._route(deliveries)
                self.last_error = None
                break
            except TRANSIENT as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"[:200]
                metrics.RETRIES.labels(type(exc).__name__).inc()
                log.warning(
                    "batch of %d held, retrying in %.1f s: %s",
                    len(deliveries),
                    backoff,
                    self.last_error,
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 15.0)
        for delivery in deliveries:
            await _ack(delivery.message)
        metrics.LATENCY.observe(time.perf_counter() - started)

    async def _dead_letter(self, message: AbstractIncomingMessage, poison: Poison) -> None:
        log.error("dead-lettering %s at %s: %s", message.message_id, poison.stage, poison.reason)
        backoff = 0.2
        while True:
            try:
                await self.bus.dead_letter(
                    message, reason=poison.reason, stage=poison.stage, timeout=self.publish_timeout
                )
                break
            except BusError as exc:
                if _channel_closed(message):
                    return
                log.warning("dead letter not confirmed, retrying: %s", exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 15.0)
        metrics.DEAD_LETTERS.labels(poison.stage, poison.kind).inc()
        await _ack(message)

    # --- routing ------------------------------------------------------------------------

    async def _route(self, deliveries: Sequence[Delivery]) -> None:
        now = self.clock()
        submissions = [d.submission for d in deliveries]
        ids = [s.submission_id for s in submissions]
        done = {
            doc["submission_id"]
            async for doc in self.store.cases.find(
                {"submission_id": {"$in": ids}}, {"submission_id": 1}
            )
        }
        done |= {
            f["submission_id"]
            async for doc in self.store.cases.find(
                {"followups.submission_id": {"$in": ids}}, {"followups.submission_id": 1}
            )
            for f in doc["followups"]
        }
        fresh = [s for s in _unique(submissions) if s.submission_id not in done]
        touched: set[str] = set(ids)

        new_cases: list[Case] = []
        for submission in fresh:
            if submission.in_reply_to is not None:
                parent = await self._add_followup(submission, now)
                if parent is not None:
                    touched.add(parent)
                    continue
            new_cases.append(self._new_case(submission, now))
        await self._mark_duplicates(new_cases, now)
        if new_cases:
            await self._upsert(new_cases)
        await self.flush_outbox({"submission_id": {"$in": sorted(touched)}})

    def _new_case(self, submission: Submission, now: datetime) -> Case:
        case = open_case(submission, now)
        if submission.in_reply_to is not None:
            case.history.append(_note(now, f"không tìm thấy hồ sơ {submission.in_reply_to}"))
        if submission.problems:
            mark_needs_info(case, now)
            return case
        classification = self.classify(submission, combined_text(case))
        apply_classification(case, classification, self.calendar, now)
        metrics.record_decision(case, classification)
        return case

    async def _mark_duplicates(self, cases: list[Case], now: datetime) -> None:
        """An exact repeat (same words, same person) of an open case is its duplicate."""
        prints = [c.fingerprint for c in cases if c.status != Status.NEEDS_INFO]
        if not prints:
            return
        firsts: dict[str, tuple[str, str | None]] = {}
        async for doc in self.store.cases.find(
            {
                "fingerprint": {"$in": prints},
                "status": {"$in": OPEN_STATUSES},
                "received_at": {"$gte": now - DUPLICATE_WINDOW},
            },
            {"fingerprint": 1, "tracking_code": 1, "lead_agency": 1},
        ).sort("received_at", 1):
            firsts.setdefault(doc["fingerprint"], (doc["tracking_code"], doc.get("lead_agency")))
        for case in sorted(cases, key=lambda c: c.received_at):
            if case.fingerprint is None or case.status == Status.NEEDS_INFO:
                continue
            first = firsts.get(case.fingerprint)
            if first is None:
                firsts[case.fingerprint] = (case.tracking_code, case.lead_agency)
                continue
            case.outbox.clear()
            mark_duplicate(case, first[0], first[1], now)

    async def _upsert(self, cases: Iterable[Case]) -> None:
        operations = [
            UpdateOne(
                {"submission_id": case.submission_id},
                {"$setOnInsert": dump_for_store(case)},
                upsert=True,
            )
            for case in cases
        ]
        try:
            await self.store.cases.bulk_write(operations, ordered=False)
        except BulkWriteError as exc:
            # Another router instance inserted the same case first: that is the idempotence
            # working, not an error. Anything else is.
            errors = exc.details.get("writeErrors", [])
            if any(error.get("code") != DUPLICATE_KEY for error in errors):
                raise

    async def _add_followup(self, submission: Submission, now: datetime) -> str | None:
        """Append to the case it replies to; a needs_info case is then routed. Returns the
        parent's submission_id, or None when there is no such case (routed on its own)."""
        doc = await self.store.cases.find_one({"tracking_code": submission.in_reply_to})
        if doc is None:
            return None
        doc.pop("_id", None)
        parent = Case.model_validate(doc)
        followup = followup_of(submission)
        parent.followups.append(followup)
        update: dict[str, Any] = {
            "$push": {
                "followups": dump_for_store(followup),
                "history": dump_for_store(_note(now, f"bổ sung: {submission.tracking_code}")),
            },
            "$set": {"updated_at": now},
        }
        agency_part = after_followup(parent, submission, now, self.calendar, self.reopen_window)
        if agency_part is not None:
            # The agency's side of a follow-up: an answer to its question, or the citizen's
            # say on the published answer (agency/transitions.py, pure).
            changed = dump_for_store(agency_part.case)
            update["$set"].update({key: changed[key] for key in AGENCY_FOLLOWUP_KEYS})
            update["$push"]["history"] = {
                "$each": [update["$push"]["history"], *changed["history"][len(parent.history) :]]
            }
            update["$push"]["outbox"] = {"$each": changed["outbox"][len(parent.outbox) :]}
        elif parent.status == Status.NEEDS_INFO:
            # The citizen answered: the clock runs again and the case is routed.
            paused = close_pause(parent.sla.paused, now)
            classification = self.classify(parent, combined_text(parent))
            history_before, outbox_before = len(parent.history), len(parent.outbox)
            apply_classification(parent, classification, self.calendar, now, paused=paused)
            metrics.record_decision(parent, classification)
            routed = dump_for_store(parent)
            update["$set"].update({key: routed[key] for key in ROUTED_KEYS})
            update["$push"]["history"] = {
                "$each": [update["$push"]["history"], *routed["history"][history_before:]]
            }
            # Only the events this change adds: any still in the stored outbox stay there.
            update["$push"]["outbox"] = {"$each": routed["outbox"][outbox_before:]}
        result = await self.store.cases.update_one(
            {
                "submission_id": parent.submission_id,
                "followups.submission_id": {"$ne": submission.submission_id},
            },
            update,
        )
        if result.matched_count == 0:
            log.info("follow-up %s already on %s", submission.submission_id, parent.tracking_code)
        return parent.submission_id

    # --- outbox -------------------------------------------------------------------------

    async def flush_outbox(self, query: dict[str, Any]) -> int:
        """Publish every pending event of the matching cases (confirmed), then drop it."""
        outboxes = [
            (doc["submission_id"], doc["outbox"])
            async for doc in self.store.cases.find(
                {**query, "outbox.0": {"$exists": True}}, {"submission_id": 1, "outbox": 1}
            )
        ]
        pending = [CaseEvent.model_validate(raw) for _, outbox in outboxes for raw in outbox]
        if not pending:
            return 0
        # All in flight at once (the bus bounds them); any failure leaves every event in its
        # outbox for the retry, and a repeat publish is harmless (consumers dedupe by id).
        await asyncio.gather(
            *(self.bus.publish_case_event(e, timeout=self.publish_timeout) for e in pending)
        )
        for case_event in pending:
            metrics.EVENTS.labels(case_event.event.value).inc()
        # Emptied only if unchanged since read: an event added meanwhile (an operator's
        # action) keeps the whole outbox, so it is published next time and none is lost.
        # ($set on an exact match is also far cheaper than $pull on the embedded store.)
        await self.store.cases.bulk_write(
            [
                UpdateOne({"submission_id": submission, "outbox": outbox}, {"$set": {"outbox": []}})
                for submission, outbox in outboxes
            ],
            ordered=False,
        )
        return len(pending)


def _unique(submissions: Iterable[Submission]) -> list[Submission]:
    seen: set[str] = set()
    unique = []
    for submission in submissions:
        if submission.submission_id not in seen:
            seen.add(submission.submission_id)
            unique.append(submission)
    return unique


def _note(now: datetime, text: str) -> HistoryEntry:
    return HistoryEntry(at=now, actor=ROUTER, action="note", note=text)


def _channel_closed(message: AbstractIncomingMessage) -> bool:
    channel = getattr(message, "channel", None)
    return bool(channel is not None and getattr(channel, "is_closed", False))


async def _ack(message: AbstractIncomingMessage) -> None:
    try:
        await message.ack()
    except Exception as exc:  # the channel died: the broker redelivers, writes are idempotent
        log.warning("ack of %s failed (%s); it will be redelivered", message.message_id, exc)
