"""The router's consumer: batches from `router.submissions`, idempotent writes, confirmed
events (through the outbox collection, case_repository), then acks — in that order, so
nothing is lost. A batch of new cases costs: which are routed already, the repeats among
them, the outbox entries, the cases (one bulk insert), the publishes, the entries removed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aio_pika.abc import AbstractIncomingMessage
from pydantic import ValidationError
from pymongo.errors import ConnectionFailure

from pakn.bus import (
    SUBMISSIONS_QUEUE,
    Bus,
    BusError,
    BusUnavailable,
    Consumer,
    PublishTimeout,
    delivery_channel_closed,
)
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
from pakn_router import case_repository as repository
from pakn_router import messages, metrics
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
#: A submission whose routing failed unexpectedly this many times is dead-lettered (stage
#: ``route``, with the error) instead of being tried again: the next ones are routed.
MAX_ROUTE_ATTEMPTS = 3
#: The dead letter's reason then (technical, like every dead-letter reason: for ops).
ROUTING_FAILED = "routing failed {attempts} times: {error}"

Classify = Callable[[Submission | Case, str], Classification]
#: A new case built ahead of its writing, with the classification that routed it.
Built = tuple[Case, Classification | None]

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


#: Failures that pass by themselves (a link away): the batch is held and tried again. A
#: rejected or unroutable publish is not one of them: it fails the same way every time.
TRANSIENT = (ConnectionFailure, PublishTimeout, BusUnavailable, TimeoutError)


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
        max_route_attempts: int = MAX_ROUTE_ATTEMPTS,
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
        self.max_route_attempts = max_route_attempts
        self._inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        self._consumer: Consumer | None = None
        #: Deliveries whose routing failed unexpectedly, tried again one by one when the
        #: worker restarts; with their attempts and last error, by submission id.
        self._held: list[Delivery] = []
        #: Outbox entries being removed after their events were confirmed.
        self._releases: set[asyncio.Task[None]] = set()
        self._attempts: dict[str, int] = {}
        self._errors: dict[str, str] = {}
        self.last_error: str | None = None

    async def start(self) -> None:
        """Publish what a crash left in the outbox, then start consuming (``run`` routes)."""
        await repository.adopt_legacy_outboxes(self.store, self.clock())
        await self.flush_outbox()
        self._consumer = await self.bus.consume(
            SUBMISSIONS_QUEUE, self._inbox.put, prefetch=self.prefetch
        )

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.cancel()  # unacked deliveries return to the queue
            self._consumer = None

    async def health(self) -> str | None:
        return self.last_error

    # --- batching -----------------------------------------------------------------------

    async def run(self) -> None:
        """The worker, run under supervision (pakn.loops): an unexpected failure ends it,
        is seen, and on the restart the deliveries it held are routed one by one.

        While one batch is written and published, the next is parsed and its new cases are
        built (classification is the router's CPU, the writes are the store's: they overlap).
        Batches are still written one after another, so duplicates and follow-ups always see
        the previous batch stored."""
        previous: asyncio.Task[None] | None = None
        try:
            while True:
                if previous is not None and (self._inbox.empty() or self._held):
                    # Nothing to build meanwhile: finish it (and see its failure) first.
                    await previous
                    previous = None
                if self._held:
                    await self._retry_held()
                    continue
                batch = await self._next_batch()
                started = time.perf_counter()
                deliveries, built = await self._prepare(batch)
                if previous is not None:
                    try:
                        await previous
                    except BaseException:
                        # Ours still, unacked: routed after the restart, not left hanging.
                        for delivery in deliveries:
                            self._inbox.put_nowait(delivery.message)
                        raise
                previous = asyncio.create_task(self._settle(deliveries, built, started))
        finally:
            if previous is not None and not previous.done():
                previous.cancel()
                with contextlib.suppress(BaseException):
                    await previous

    async def _next_batch(self) -> list[AbstractIncomingMessage]:
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
        return batch

    async def process(self, batch: Sequence[AbstractIncomingMessage]) -> None:
        """Route one batch: poison is dead-lettered, the rest routed and then acked."""
        started = time.perf_counter()
        deliveries, built = await self._prepare(batch)
        await self._settle(deliveries, built, started)

    async def _prepare(
        self, batch: Sequence[AbstractIncomingMessage]
    ) -> tuple[list[Delivery], dict[str, Built]]:
        """Parse a batch (poison dead-lettered) and build its new cases, which needs no
        store: what replies to a case is built when routed. A case that fails to build is
        left to routing, which fails the same way and holds it."""
        metrics.BATCH_SIZE.observe(len(batch))
        deliveries: list[Delivery] = []
        for message in batch:
            try:
                deliveries.append(Delivery(message, parse_submission(message)))
            except Poison as poison:
                await self._dead_letter(message, poison)
        built: dict[str, Built] = {}
        now = self.clock()
        for delivery in deliveries:
            submission = delivery.submission
            if submission.in_reply_to is not None or submission.submission_id in built:
                continue
            try:
                built[submission.submission_id] = self._build_case(submission, now)
            except Exception:
                continue
            # After every case (~2 ms): the batch being written meanwhile waits on the store
            # and the broker, and each of its steps goes on as soon as its answer is in.
            await asyncio.sleep(0)
        return deliveries, built

    async def _retry_held(self) -> None:
        """Route held deliveries one at a time, so one that fails cannot hold the others."""
        while self._held:
            delivery = self._held.pop(0)
            sid = delivery.submission.submission_id
            if delivery_channel_closed(delivery.message):
                continue  # the broker took it back when its channel closed: it comes again
            attempts = self._attempts.get(sid, 0)
            if attempts >= self.max_route_attempts:
                reason = ROUTING_FAILED.format(attempts=attempts, error=self._errors.get(sid, "?"))
                await self._dead_letter(delivery.message, Poison(reason, "route", "route_error"))
                self._forget(sid)
                continue
            await self._settle([delivery], {}, time.perf_counter())

    async def _settle(
        self, deliveries: list[Delivery], built: dict[str, Built], started: float
    ) -> None:
        """Route and ack; transient failures are retried while the deliveries are held, and
        an unexpected one puts them aside (``_held``) and ends the worker, to be seen."""
        backoff = 0.2
        while deliveries:
            if all(delivery_channel_closed(d.message) for d in deliveries):
                # The broker took these back when the channel died; they come again.
                log.warning("dropping a batch of %d: its channel closed", len(deliveries))
                return
            try:
                await self._route(deliveries, built)
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
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"[:300]
                for delivery in deliveries:
                    sid = delivery.submission.submission_id
                    self._attempts[sid] = self._attempts.get(sid, 0) + 1
                    self._errors[sid] = error
                self._held[:0] = deliveries
                metrics.ROUTING_FAILURES.labels(type(exc).__name__).inc()
                raise
        for delivery in deliveries:
            self._forget(delivery.submission.submission_id)
            await _ack(delivery.message)
        metrics.LATENCY.observe(time.perf_counter() - started)

    def _forget(self, sid: str) -> None:
        self._attempts.pop(sid, None)
        self._errors.pop(sid, None)

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
                if delivery_channel_closed(message):
                    return
                log.warning("dead letter not confirmed, retrying: %s", exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 15.0)
        metrics.DEAD_LETTERS.labels(poison.stage, poison.kind).inc()
        await _ack(message)

    # --- routing ------------------------------------------------------------------------

    async def _route(self, deliveries: Sequence[Delivery], built: dict[str, Built]) -> None:
        """Store and publish a batch; ``built`` holds new cases made ahead (taken: a retry
        builds them again, from scratch)."""
        now = self.clock()
        submissions = [d.submission for d in deliveries]
        ids = [s.submission_id for s in submissions]
        replies = any(s.in_reply_to is not None for s in submissions)
        done = await repository.routed_submission_ids(self.store, ids, followups=replies)
        if done:
            # A redelivery, or a retry of this batch: what its first routing wrote and did
            # not publish yet is published now (before the ack).
            await self.flush_outbox(causes=sorted(done))
        fresh = [s for s in _unique(submissions) if s.submission_id not in done]

        written: list[CaseEvent] = []
        staged: list[str] = []
        new_cases: list[Case] = []
        for submission in fresh:
            if submission.in_reply_to is not None:
                added = await self._add_followup(submission, now)
                if added is not None:
                    entry, events = added
                    if entry is not None and events:
                        written += events
                        staged.append(entry)
                    continue
            ahead = built.pop(submission.submission_id, None)
            case, classification = ahead or self._build_case(submission, now)
            if classification is not None:
                metrics.record_decision(case, classification)
            new_cases.append(case)
        await self._mark_duplicates(new_cases, now)
        for case in new_cases:
            repository.name_events(case, case.submission_id)
        batch_events = [e for case in new_cases for e in case.outbox]
        batch_entry = await repository.stage_events(self.store, batch_events, now)
        if batch_entry is not None:
            staged.append(batch_entry)
        stored_before = await repository.insert_new(self.store, new_cases, self.calendar)
        # A case another router stored first: its events (same ids) are that router's to
        # publish, or the outbox flush's when it crashed, so only ours leave the entry.
        written += [e for c in new_cases if c.submission_id not in stored_before for e in c.outbox]
        await self._publish(written)
        # Off the batch's path: the acks need the events confirmed, not the entries gone
        # (an entry left behind is published again later, and consumers dedupe by id).
        self._release_later(staged, None if not stored_before else {e.event_id for e in written})

    def _release_later(self, staged: Sequence[str], event_ids: set[str] | None) -> None:
        if not staged:
            return
        task = asyncio.create_task(self._release(staged, event_ids))
        self._releases.add(task)
        task.add_done_callback(self._releases.discard)

    async def _release(self, staged: Sequence[str], event_ids: set[str] | None) -> None:
        try:
            await repository.drop_events(self.store, staged, event_ids)
        except Exception as exc:
            log.warning("outbox entries %s stay (published again later): %s", staged, exc)

    def _build_case(self, submission: Submission, now: datetime) -> Built:
        """The new case of a submission (no store needed), and the classification that
        routed it (None when it waits for the citizen)."""
        case = open_case(submission, now)
        if submission.in_reply_to is not None:
            note = messages.PARENT_NOT_FOUND.format(code=submission.in_reply_to)
            case.history.append(_note(now, note))
        if submission.problems:
            mark_needs_info(case, now)
            return case, None
        classification = self.classify(submission, combined_text(case))
        apply_classification(case, classification, self.calendar, now)
        return case, classification

    async def _mark_duplicates(self, cases: list[Case], now: datetime) -> None:
        """An exact repeat (same words, same person) of an open case is its duplicate."""
        prints = [c.fingerprint for c in cases if c.fingerprint and c.status != Status.NEEDS_INFO]
        if not prints:
            return
        firsts = await repository.first_open_repeats(self.store, prints, now - DUPLICATE_WINDOW)
        for case in sorted(cases, key=lambda c: c.received_at):
            if case.fingerprint is None or case.status == Status.NEEDS_INFO:
                continue
            first = firsts.get(case.fingerprint)
            if first is None:
                firsts[case.fingerprint] = (case.tracking_code, case.lead_agency)
                continue
            case.outbox.clear()
            mark_duplicate(case, first[0], first[1], now)

    async def _add_followup(
        self, submission: Submission, now: datetime
    ) -> tuple[str | None, list[CaseEvent]] | None:
        """Append to the case it replies to; a needs_info case is then routed. Returns the
        outbox entry and the events written with it (none, often), or None when there is no
        such case (routed on its own)."""
        assert submission.in_reply_to is not None
        parent = await repository.find_case(self.store, submission.in_reply_to)
        if parent is None:
            return None
        followup = followup_of(submission)
        added = _note(now, messages.FOLLOWUP_ADDED.format(code=submission.tracking_code))
        history_before, outbox_before = len(parent.history), len(parent.outbox)
        fields: tuple[str, ...] = ("updated_at",)
        parent.updated_at = now
        agency_part = after_followup(parent, submission, now, self.calendar, self.reopen_window)
        if agency_part is not None:
            # The agency's side of a follow-up: an answer to its question, or the citizen's
            # say on the published answer (agency/transitions.py, pure).
            parent = agency_part.case
            fields += AGENCY_FOLLOWUP_KEYS
        elif parent.status == Status.NEEDS_INFO:
            # The citizen answered: the clock runs again and the case is routed.
            paused = close_pause(parent.sla.paused, now)
            parent.followups.append(followup)
            classification = self.classify(parent, combined_text(parent))
            apply_classification(parent, classification, self.calendar, now, paused=paused)
            metrics.record_decision(parent, classification)
            fields += ROUTED_KEYS
        # Named after the follow-up: its redelivery writes the same entries again.
        repository.name_events(parent, submission.submission_id, outbox_before)
        update = repository.change_update(
            parent,
            calendar=self.calendar,
            fields=fields,
            history_before=history_before,
            outbox_before=outbox_before,
            pushed_history=[dump_for_store(added)],
        )
        update["$push"]["followups"] = dump_for_store(followup)
        made = parent.outbox[outbox_before:]
        entry = await repository.stage_events(
            self.store, made, now, causes=[submission.submission_id]
        )
        applied = await repository.update_case(
            self.store,
            {
                "submission_id": parent.submission_id,
                "followups.submission_id": {"$ne": submission.submission_id},
            },
            update,
        )
        if not applied:
            # Another router added it first; its entries (the same ids) are published by it,
            # or by the outbox flush.
            log.info("follow-up %s already on %s", submission.submission_id, parent.tracking_code)
            return entry, []
        return entry, made

    # --- outbox -------------------------------------------------------------------------

    async def publish_written(
        self,
        events: Sequence[CaseEvent],
        staged: Sequence[str] | None = None,
        *,
        whole: bool = True,
    ) -> None:
        """Publish events whose write is stored (all confirmed), then remove them from the
        outbox: the ``staged`` entries (by default the one holding exactly ``events``), whole
        or only these events. All in flight at once (the bus bounds them); on any failure
        every entry stays for the retry or the flush, and a repeat publish is harmless
        (consumers dedupe by id)."""
        if staged is None:
            staged = [repository.staged_id(events)] if events else []
        await self._publish(events)
        await repository.drop_events(
            self.store, staged, None if whole else {e.event_id for e in events}
        )

    async def _publish(self, events: Sequence[CaseEvent]) -> None:
        if not events:
            return
        await asyncio.gather(
            *(self.bus.publish_case_event(e, timeout=self.publish_timeout) for e in events)
        )
        for case_event in events:
            metrics.EVENTS.labels(case_event.event.value).inc()

    async def flush_outbox(
        self,
        *,
        submission_ids: Sequence[str] | None = None,
        causes: Sequence[str] | None = None,
        written_before: datetime | None = None,
    ) -> int:
        """Publish the outbox entries (of these cases, or made routing these submissions, or
        older than a moment; all by default) whose change is stored, exactly as written;
        remove old orphans. Returns how many were published."""
        entries = await repository.pending_outbox(
            self.store,
            submission_ids=submission_ids,
            causes=causes,
            written_before=written_before,
        )
        if not entries:
            return 0
        stored = await repository.stored_event_ids(
            self.store, (e.event.submission_id for e in entries)
        )
        ready, orphans = repository.sort_outbox(
            entries, stored, self.clock() - repository.ORPHAN_AGE
        )
        if orphans:
            log.warning("removing %d outbox events whose write was never stored", len(orphans))
        await self._publish(ready)
        handled = {*(e.event_id for e in ready), *orphans}
        touched = sorted({e.staged for e in entries if e.event.event_id in handled})
        await repository.drop_events(self.store, touched, handled)
        return len(ready)


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


async def _ack(message: AbstractIncomingMessage) -> None:
    try:
        await message.ack()
    except Exception as exc:  # the channel died: the broker redelivers, writes are idempotent
        log.warning("ack of %s failed (%s); it will be redelivered", message.message_id, exc)
