"""The router's stored cases: every read and write of ``cases`` by the consumer, the sweeper
and operators' actions, turning a document into a ``Case`` and a changed ``Case`` into an
update. (The monitor's read-only lists are built as pure queries in monitor/queries.py.)

A stored case is readable for as long as it is kept: ``case_from_document`` upgrades a
document written at an older schema version step by step, whatever versions the bus still
accepts for new submissions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from pymongo import UpdateOne
from pymongo.errors import BulkWriteError

from pakn.report_facts import FACTS_VERSION, REPORT, REPORT_OVERDUE, report_facts
from pakn.schema import (
    OPEN_STATUSES,
    RUNNING_STATUSES,
    SCHEMA_VERSION,
    Case,
    CaseEvent,
    status_values,
)
from pakn.store import Document, Store
from pakn.worktime import WorkCalendar

log = logging.getLogger(__name__)

#: How a stored case document of version v becomes one of version v + 1. Version 1 is the
#: first; a schema bump adds its step here (stored cases are never rewritten in bulk).
UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}
DUPLICATE_KEY = 11000
#: Cases the report-facts backfill reads and writes at a time: small enough that the
#: router's own writes interleave with it.
BACKFILL_BATCH = 500


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
    return case.model_dump(mode="python", by_alias=True)


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
    entries and events it appended pushed (``pushed_history`` first), so entries written by
    others meanwhile stay; the report facts of the changed case set in the same write."""
    stored = case_document(case)
    history = [*pushed_history, *stored["history"][history_before:]]
    update: Document = {
        "$set": {key: stored[key] for key in fields} | {REPORT: report_facts(case, calendar)}
    }
    push: Document = {}
    if history:
        push["history"] = {"$each": history}
    if stored["outbox"][outbox_before:]:
        push["outbox"] = {"$each": stored["outbox"][outbox_before:]}
    if push:
        update["$push"] = push
    return update


# --- reads ----------------------------------------------------------------------------------


async def find_case(store: Store, tracking_code: str) -> Case | None:
    doc = await store.cases.find_one({"tracking_code": tracking_code})
    return None if doc is None else case_from_document(doc)


async def routed_submission_ids(store: Store, ids: Sequence[str]) -> set[str]:
    """Which of these submissions are already a case, or a follow-up on one."""
    done = {
        doc["submission_id"]
        async for doc in store.cases.find({"submission_id": {"$in": ids}}, {"submission_id": 1})
    }
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


async def pending_outboxes(
    store: Store, query: Mapping[str, Any]
) -> list[tuple[str, list[Document]]]:
    """(submission id, outbox as stored) of the matching cases with events not yet sent."""
    return [
        (doc["submission_id"], doc["outbox"])
        async for doc in store.cases.find(
            {**query, "outbox.0": {"$exists": True}}, {"submission_id": 1, "outbox": 1}
        )
    ]


def outbox_events(outboxes: Sequence[tuple[str, list[Document]]]) -> list[CaseEvent]:
    return [CaseEvent.model_validate(raw) for _, outbox in outboxes for raw in outbox]


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


async def insert_new(store: Store, cases: Iterable[Case], calendar: WorkCalendar) -> None:
    """Insert each case unless its submission is already a case (idempotent by
    ``submission_id``). Any other duplicate key is a CaseConflict, never "already done"."""
    operations = [
        UpdateOne(
            {"submission_id": case.submission_id},
            {"$setOnInsert": stored_document(case, calendar)},
            upsert=True,
        )
        for case in cases
    ]
    if not operations:
        return
    try:
        await store.cases.bulk_write(operations, ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        conflicts = [e for e in errors if not _duplicate_submission(e)]
        if conflicts:
            raise CaseConflict("; ".join(str(e.get("errmsg", e))[:200] for e in conflicts)) from exc


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


async def clear_outboxes(store: Store, outboxes: Sequence[tuple[str, list[Document]]]) -> None:
    """Empty each outbox if unchanged since read: an event added meanwhile (an operator's
    action) keeps the whole outbox, so it is published next time and none is lost. ($set on
    an exact match is also far cheaper than $pull on the embedded store.)"""
    if not outboxes:
        return
    await store.cases.bulk_write(
        [
            UpdateOne({"submission_id": submission, "outbox": outbox}, {"$set": {"outbox": []}})
            for submission, outbox in outboxes
        ],
        ordered=False,
    )


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
    change), so a case the router changed meanwhile keeps the facts its own write set. A
    document that is not a readable Case is logged and left (the Department's report counts
    it as received without facts). Resumable: a restart finds only what is left.
    """
    written = 0
    # One cursor, read a batch at a time: one pass over the collection (the store has no
    # index to find them by, and a query per batch would read it again each time).
    cursor = store.cases.find({f"{REPORT}.v": {"$ne": FACTS_VERSION}}, batch_size=batch)
    docs: list[Document] = []
    async for doc in cursor:
        docs.append(doc)
        if len(docs) == batch:
            written += await _write_facts(store, calendar, docs)
            docs = []
    return written + await _write_facts(store, calendar, docs)


async def _write_facts(store: Store, calendar: WorkCalendar, docs: Sequence[Document]) -> int:
    operations = []
    for doc in docs:
        try:
            facts = report_facts(case_from_document(doc), calendar)
        except (ValidationError, ValueError) as exc:
            log.warning("case %s has no report facts: %s", doc.get("tracking_code"), exc)
            continue
        guard = {key: doc.get(key) for key in ("status", "overdue", "updated_at")}
        operations.append(UpdateOne({"_id": doc["_id"], **guard}, {"$set": {REPORT: facts}}))
    if not operations:
        return 0
    result = await store.cases.bulk_write(operations, ordered=False)
    return result.modified_count
