"""The router's stored cases: every read and write of ``cases`` by the consumer, the sweeper
and operators' actions, turning a document into a ``Case`` and a changed ``Case`` into an
update. (The monitor's read-only lists are built as pure queries in monitor/queries.py.)

The outbox, one mechanism for every writer of a case (the router, follow-ups, operators,
the agency workspace, the sweeper): the events a write makes (a batch of new cases, one
change) are written to the small ``outbox`` collection first, as one entry holding them all
(``stage_events``), then the write, which records their ids in each case's ``event_ids``;
then they are published, confirmed, and the entry removed. A crash at any point leaves
events that ``sort_outbox`` tells apart: one whose id the stored case holds is published
(exactly as it was written), one whose write never landed is an orphan (its submission is
still unacked and writes it again when redelivered, with the same id), removed once old.
The case is written once: clearing an outbox inside it rewrote every one of its index
entries.

A stored case is readable for as long as it is kept: ``case_from_document`` upgrades a
document written at an older schema version step by step, whatever versions the bus still
accepts for new submissions.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from pymongo.errors import BulkWriteError, DuplicateKeyError

from pakn.report_facts import FACTS_VERSION, REPORT, REPORT_OVERDUE, report_facts
from pakn.schema import (
    OPEN_STATUSES,
    RUNNING_STATUSES,
    SCHEMA_VERSION,
    Case,
    CaseEvent,
    dump_for_store,
    status_values,
)
from pakn.store import Document, Store
from pakn.worktime import WorkCalendar

log = logging.getLogger(__name__)

#: How a stored case document of version v becomes one of version v + 1. Version 1 is the
#: first; a schema bump adds its step here (stored cases are never rewritten in bulk).
UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}
DUPLICATE_KEY = 11000
#: An outbox entry whose change is not stored, older than this, is removed: its submission was
#: redelivered long since (and wrote it again), or its guarded change was refused. Far longer
#: than any writer takes between writing an entry and its change (a retry writes both again).
ORPHAN_AGE = timedelta(hours=1)
#: Cases the report-facts backfill reads and writes at a time: small enough that the
#: router's own writes interleave with it.
BACKFILL_BATCH = 500
#: Times the backfill reads again a case changed between its reading and its writing.
BACKFILL_ATTEMPTS = 3
#: The ``backfills`` record of a pass that left no case without facts of FACTS_VERSION:
#: every write since carries them, so later starts skip the pass instead of reading every
#: case again (minutes of the store's time at a province's million cases).
FACTS_BACKFILL = "report_facts"


class CaseConflict(Exception):
    """A new case collides with a stored one on something other than its submission id (a
    tracking code used twice): never "already done", always an error to look at."""

    def __init__(self, details: str) -> None:
        super().__init__(f"case conflicts with a stored one: {details}")


def case_from_document(doc: Mapping[str, Any]) -> Case:
    """The Case in a stored document, upgraded from the version that wrote it (its report
    facts are derived from the rest, not part of the Case: left out)."""
    data = {key: value for key, value in doc.items() if key not in ("_id", REPORT)}
    version = int(data.get("schema_version", SCHEMA_VERSION))
    while version < SCHEMA_VERSION:
        step = UPGRADES.get(version)
        if step is not None:
            data = step(data)
        version += 1
    data["schema_version"] = max(version, SCHEMA_VERSION)
    return Case.model_validate(data)


def case_document(case: Case) -> Document:
    """The case as stored: its events not (they go to the outbox), their ids yes."""
    doc = case.model_dump(mode="python", by_alias=True)
    known = set(case.event_ids)
    doc["event_ids"] = [
        *case.event_ids,
        *(e.event_id for e in case.outbox if e.event_id not in known),
    ]
    return doc


def stored_document(case: Case, calendar: WorkCalendar) -> Document:
    """A new case as stored: the Case and its report facts (pakn.report_facts)."""
    return case_document(case) | {REPORT: report_facts(case, calendar)}


def change_update(
    case: Case,
    *,
    calendar: WorkCalendar,
    fields: Iterable[str],
    history_before: int,
    outbox_before: int,
    pushed_history: Sequence[Document] = (),
) -> Document:
    """The update that stores what a change did to ``case``: ``fields`` set, and the history
    entries it appended pushed (``pushed_history`` first), so entries written by others
    meanwhile stay; with the ids of the events it made (``case.outbox[outbox_before:]``,
    staged in the outbox before this update is written); the report facts of the changed
    case set in the same write."""
    stored = case_document(case)
    history = [*pushed_history, *stored["history"][history_before:]]
    update: Document = {
        "$set": {key: stored[key] for key in fields} | {REPORT: report_facts(case, calendar)}
    }
    push: Document = {}
    if history:
        push["history"] = {"$each": history}
    made = [e.event_id for e in case.outbox[outbox_before:]]
    if made:
        push["event_ids"] = {"$each": made}
    if push:
        update["$push"] = push
    return update


def derived_event_id(submission_id: str, n: int) -> str:
    """The id of the ``n``-th event routing ``submission_id`` makes: the same on every retry
    and redelivery, so an entry is rewritten (not doubled) and consumers dedupe a repeat.
    32 hex digits, like a fresh event id."""
    return hashlib.sha256(f"{submission_id}\x1f{n}".encode()).hexdigest()[:32]


def name_events(case: Case, cause: str, before: int = 0) -> None:
    """Give the events ``case.outbox[before:]``, made routing ``cause``, their derived ids."""
    case.outbox[before:] = [
        e.model_copy(update={"event_id": derived_event_id(cause, n)})
        for n, e in enumerate(case.outbox[before:])
    ]


# --- reads ----------------------------------------------------------------------------------


async def find_case(store: Store, tracking_code: str) -> Case | None:
    doc = await store.cases.find_one({"tracking_code": tracking_code})
    return None if doc is None else case_from_document(doc)


async def routed_submission_ids(
    store: Store, ids: Sequence[str], *, followups: bool = True
) -> set[str]:
    """Which of these submissions are already a case, or (when some of them reply to a case:
    ``followups``) a follow-up on one."""
    done = {
        doc["submission_id"]
        async for doc in store.cases.find({"submission_id": {"$in": ids}}, {"submission_id": 1})
    }
    if followups:
        done |= {
            followup["submission_id"]
            async for doc in store.cases.find(
                {"followups.submission_id": {"$in": ids}}, {"followups.submission_id": 1}
            )
            for followup in doc["followups"]
        }
    return done & set(ids)


async def first_open_repeats(
    store: Store, fingerprints: Sequence[str], since: datetime
) -> dict[str, tuple[str, str | None]]:
    """The earliest open case since ``since`` for each fingerprint: (tracking code, lead)."""
    firsts: dict[str, tuple[str, str | None]] = {}
    async for doc in store.cases.find(
        {
            "fingerprint": {"$in": list(fingerprints)},
            "status": {"$in": status_values(OPEN_STATUSES)},
            "received_at": {"$gte": since},
        },
        {"fingerprint": 1, "tracking_code": 1, "lead_agency": 1},
    ).sort("received_at", 1):
        firsts.setdefault(doc["fingerprint"], (doc["tracking_code"], doc.get("lead_agency")))
    return firsts


@dataclass(frozen=True)
class OutboxEntry:
    """One event waiting in the outbox, in the entry (``staged``) its write made."""

    event: CaseEvent
    written_at: datetime
    staged: str


async def pending_outbox(
    store: Store,
    *,
    submission_ids: Sequence[str] | None = None,
    causes: Sequence[str] | None = None,
    written_before: datetime | None = None,
) -> list[OutboxEntry]:
    """The events waiting in outbox entries that touch these cases, or were made routing
    these submissions (``causes``), or were written before a moment; all when nothing is
    given. (The collection holds only writes in flight: small, read without an index.)"""
    query: Document = {}
    if submission_ids is not None:
        query["submission_ids"] = {"$in": list(submission_ids)}
    if causes is not None:
        query["causes"] = {"$in": list(causes)}
    if written_before is not None:
        query["written_at"] = {"$lt": written_before}
    return [
        OutboxEntry(CaseEvent.model_validate(raw), doc["written_at"], doc["_id"])
        async for doc in store.outbox.find(query)
        for raw in doc["events"]
    ]


async def stored_event_ids(store: Store, submission_ids: Iterable[str]) -> dict[str, set[str]]:
    """The ids of the events each stored case's changes made, by submission id."""
    return {
        doc["submission_id"]: set(doc.get("event_ids") or [])
        async for doc in store.cases.find(
            {"submission_id": {"$in": sorted(set(submission_ids))}},
            {"submission_id": 1, "event_ids": 1},
        )
    }


def sort_outbox(
    entries: Sequence[OutboxEntry], stored: Mapping[str, set[str]], orphaned_before: datetime
) -> tuple[list[CaseEvent], list[str]]:
    """(events to publish: their change is stored; ids of orphans to remove: their change is
    not stored and they are older than ``orphaned_before``). The others wait: a writer is
    between its entry and its change, or a submission waits for redelivery."""
    ready: list[CaseEvent] = []
    orphans: list[str] = []
    for entry in entries:
        if entry.event.event_id in stored.get(entry.event.submission_id, set()):
            ready.append(entry.event)
        elif entry.written_at < orphaned_before:
            orphans.append(entry.event.event_id)
    return ready, orphans


async def overdue_to_escalate(store: Store, now: datetime) -> list[Case]:
    """Running cases past their deadline with co-agencies, not escalated yet."""
    return [
        case_from_document(doc)
        async for doc in store.cases.find(
            {
                "status": {"$in": status_values(RUNNING_STATUSES)},
                "due_at": {"$ne": None, "$lte": now},
                "co_agencies.0": {"$exists": True},
                "escalation": None,
            }
        )
    ]


async def count_waiting(store: Store, status: str) -> int:
    return await store.cases.count_documents({"status": status})


async def count_overdue(store: Store) -> int:
    return await store.cases.count_documents(
        {"status": {"$in": status_values(RUNNING_STATUSES)}, "overdue": True}
    )


# --- writes ---------------------------------------------------------------------------------


def staged_id(events: Sequence[CaseEvent]) -> str:
    """The id of the outbox entry holding ``events``: a retry of the same write (the same
    event ids) writes the same entry again."""
    key = "\x1f".join(e.event_id for e in events)
    return hashlib.sha256(key.encode()).hexdigest()[:32]


async def stage_events(
    store: Store,
    events: Sequence[CaseEvent],
    now: datetime,
    causes: Iterable[str] | None = None,
) -> str | None:
    """Write ``events`` to the outbox as one entry, before the write that makes them; returns
    its id (None when there are none). ``causes``: the submissions whose routing made them
    (by default their cases' own), so a redelivery finds them. One entry for a whole batch:
    an entry per event cost the store about a fifth of the cases' own insert."""
    if not events:
        return None
    cases = sorted({e.submission_id for e in events})
    entry = {
        "_id": staged_id(events),
        "written_at": now,
        "causes": sorted(set(causes)) if causes is not None else cases,
        "submission_ids": cases,
        "events": [dump_for_store(e) for e in events],
    }
    try:
        await store.outbox.insert_one(entry)
    except DuplicateKeyError:
        # A retry of the same write: the first try's entry, replaced by this one's.
        await store.outbox.replace_one({"_id": entry["_id"]}, entry, upsert=True)
    return str(entry["_id"])


async def drop_events(
    store: Store, staged: Sequence[str], event_ids: Collection[str] | None = None
) -> None:
    """Remove published (or orphaned) events from the outbox: the whole ``staged`` entries,
    or only ``event_ids`` from them (an entry left empty goes)."""
    if not staged:
        return
    if event_ids is None:
        await store.outbox.delete_many({"_id": {"$in": list(staged)}})
        return
    await store.outbox.update_many(
        {"_id": {"$in": list(staged)}},
        {"$pull": {"events": {"event_id": {"$in": sorted(event_ids)}}}},
    )
    await store.outbox.delete_many({"_id": {"$in": list(staged)}, "events": {"$size": 0}})


async def insert_new(store: Store, cases: Sequence[Case], calendar: WorkCalendar) -> set[str]:
    """Insert the cases in one bulk write, each unless its submission is already a case
    (idempotent by ``submission_id``); returns those that were. Any other duplicate key is a
    CaseConflict, never "already done"."""
    if not cases:
        return set()
    try:
        await store.cases.insert_many([stored_document(c, calendar) for c in cases], ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        conflicts = [e for e in errors if not _duplicate_submission(e)]
        if conflicts:
            raise CaseConflict("; ".join(str(e.get("errmsg", e))[:200] for e in conflicts)) from exc
        return {cases[e["index"]].submission_id for e in errors}
    return set()


def _duplicate_submission(error: Mapping[str, Any]) -> bool:
    """Another router inserted the same submission first: the idempotence working."""
    if error.get("code") != DUPLICATE_KEY:
        return False
    pattern = error.get("keyPattern")
    if isinstance(pattern, Mapping):
        return set(pattern) == {"submission_id"}
    return "index: submission_id " in str(error.get("errmsg", ""))


async def update_case(store: Store, guard: Mapping[str, Any], update: Mapping[str, Any]) -> bool:
    """Apply ``update`` to the case matching ``guard``; False when none matched."""
    result = await store.cases.update_one(dict(guard), dict(update))
    return result.matched_count == 1


async def update_with_events(
    store: Store,
    guard: Mapping[str, Any],
    update: Mapping[str, Any],
    events: Sequence[CaseEvent],
    now: datetime,
) -> bool:
    """A guarded change and the events it makes (fresh ids, ``change_update``'s
    ``event_ids``): staged, then written; when the guard refuses, the entries go again."""
    staged = await stage_events(store, events, now)
    applied = await update_case(store, guard, update)
    if not applied and staged is not None:
        await drop_events(store, [staged])
    return applied


async def adopt_legacy_outboxes(store: Store, now: datetime) -> int:
    """Move events still in the outbox of cases stored before the outbox collection into it
    (then published like any other); returns how many cases had some."""
    moved = 0
    async for doc in store.cases.find(
        {"outbox.0": {"$exists": True}}, {"submission_id": 1, "outbox": 1}
    ):
        events = [CaseEvent.model_validate(raw) for raw in doc["outbox"]]
        await stage_events(store, events, now)
        await store.cases.update_one(
            {"submission_id": doc["submission_id"], "outbox": doc["outbox"]},
            {
                "$unset": {"outbox": ""},
                "$push": {"event_ids": {"$each": [e.event_id for e in events]}},
            },
        )
        moved += 1
    return moved


async def mark_overdue(store: Store, now: datetime) -> int:
    """Set ``overdue`` on running cases whose deadline has passed; returns how many."""
    result = await store.cases.update_many(
        {
            "status": {"$in": status_values(RUNNING_STATUSES)},
            "due_at": {"$ne": None, "$lte": now},
            "overdue": {"$ne": True},
        },
        # Open cases (running), so overdue in the report's sense too.
        {"$set": {"overdue": True, REPORT_OVERDUE: 1}},
    )
    return result.modified_count


# --- report facts of cases stored without them --------------------------------------------


async def backfill_report_facts(
    store: Store, calendar: WorkCalendar, *, batch: int = BACKFILL_BATCH
) -> int:
    """Write the report facts of every case stored without current ones (written before
    they existed, or with an older FACTS_VERSION), in batches; returns how many.

    Each write is guarded by what the facts were computed from (status, overdue flag, last
    change), so a case the router changed meanwhile keeps the facts its own write set (and is
    read again and tried again: see ``_write_facts``). A document that is not a readable
    Case is logged and left (the Department's report counts it as received without facts).
    Resumable: a restart finds only what is left. Once a pass leaves nothing (unreadable
    documents aside: reading them again would not help), it is recorded in ``backfills``
    and later starts do not read the cases again until FACTS_VERSION changes.
    """
    done = await store.backfills.find_one({"_id": FACTS_BACKFILL})
    if done is not None and done.get("version") == FACTS_VERSION:
        return 0
    written = left = 0
    # One cursor, read a batch at a time: one pass over the collection (the store has no
    # index to find them by, and a query per batch would read it again each time).
    cursor = store.cases.find({f"{REPORT}.v": {"$ne": FACTS_VERSION}}, batch_size=batch)
    docs: list[Document] = []
    async for doc in cursor:
        docs.append(doc)
        if len(docs) == batch:
            wrote, remaining = await _write_facts(store, calendar, docs)
            written, left, docs = written + wrote, left + remaining, []
    wrote, remaining = await _write_facts(store, calendar, docs)
    written, left = written + wrote, left + remaining
    if not left:
        await store.backfills.replace_one(
            {"_id": FACTS_BACKFILL},
            {"_id": FACTS_BACKFILL, "version": FACTS_VERSION, "written": written},
            upsert=True,
        )
    return written


async def _write_facts(
    store: Store, calendar: WorkCalendar, docs: Sequence[Document]
) -> tuple[int, int]:
    """Write the facts of ``docs``; those changed since they were read (the sweeper's start-up
    sweep marking them overdue, say) are read again and tried again, a few times. Returns
    (how many were written, how many are still without current facts)."""
    written = 0
    for _attempt in range(BACKFILL_ATTEMPTS):
        if not docs:
            break
        wrote, unreadable = await _write_facts_once(store, calendar, docs)
        written += len(wrote)
        left = [doc["_id"] for doc in docs if doc["_id"] not in wrote | unreadable]
        query = {"_id": {"$in": left}, f"{REPORT}.v": {"$ne": FACTS_VERSION}}
        docs = await store.cases.find(query).to_list() if left else []
    return written, len(docs)


async def _write_facts_once(
    store: Store, calendar: WorkCalendar, docs: Sequence[Document]
) -> tuple[set[Any], set[Any]]:
    """(ids of the documents whose facts were written, guarded by what they were computed
    from; ids of those that are not a readable Case: logged and left)."""
    wrote: set[Any] = set()
    unreadable: set[Any] = set()
    for doc in docs:
        try:
            facts = report_facts(case_from_document(doc), calendar)
        except (ValidationError, ValueError) as exc:
            log.warning("case %s has no report facts: %s", doc.get("tracking_code"), exc)
            unreadable.add(doc["_id"])
            continue
        guard = {key: doc.get(key) for key in ("status", "overdue", "updated_at")}
        result = await store.cases.update_one(
            {"_id": doc["_id"], **guard}, {"$set": {REPORT: facts}}
        )
        if result.modified_count:
            wrote.add(doc["_id"])
    return wrote, unreadable
