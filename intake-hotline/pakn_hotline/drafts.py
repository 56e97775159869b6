"""Calls and their report drafts in MongoDB (``hotline_calls``): every keystroke the agent
saved and every record the phone system sent survive a reload, a crash or a restart."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Final

from pymongo import DESCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from pakn.schema import dump_for_store
from pakn.store import Store
from pakn_hotline.calls import (
    MAX_REPORTS,
    Call,
    CallRecord,
    ReportDraft,
    ReportFields,
    merge_prefill,
    new_call,
)

COLLECTION: Final = "hotline_calls"
INDEXES: Final = [
    IndexModel([("reports.state", DESCENDING), ("updated_at", DESCENDING)], name="open_updated"),
]
#: A concurrent writer changed the call between read and write this many times in a row.
MAX_ATTEMPTS: Final = 5


class CallChanged(RuntimeError):
    """The call kept changing under us (another agent or the phone system)."""


def calls(store: Store) -> AsyncCollection[dict[str, Any]]:
    return store.db[COLLECTION]


def _document(call: Call) -> dict[str, Any]:
    return {"_id": call.call_id, **dump_for_store(call)}


def _call(doc: dict[str, Any]) -> Call:
    doc = dict(doc)
    doc.pop("_id", None)
    return Call.model_validate(doc)


class CallDrafts:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def ensure_indexes(self) -> None:
        await calls(self.store).create_indexes(INDEXES)

    async def get(self, call_id: str) -> Call | None:
        doc = await calls(self.store).find_one({"_id": call_id})
        return None if doc is None else _call(doc)

    async def open_console_call(
        self, *, caller_number: str, agent: str, now: datetime, fields: ReportFields
    ) -> Call:
        """A call the agent logs by hand: it starts now, as far as the console can tell."""
        call = Call(
            call_id=f"console-{uuid.uuid4().hex[:16]}",
            source="console",
            caller_number=caller_number,
            agent=agent,
            started_at=now,
            reports=[ReportDraft(n=1, fields=fields)],
            created_at=now,
            updated_at=now,
            created_by=agent,
        )
        await calls(self.store).insert_one(_document(call))
        return call

    async def record_from_telephony(
        self, record: CallRecord, *, prefill: ReportFields, now: datetime
    ) -> tuple[Call, bool]:
        """Create the call's draft, or update it with what the phone system sends again
        (the same call id is the same draft). The agent's typing is never overwritten: the
        pre-fill fills only what a draft report still leaves empty. Returns (call, created)."""
        for _ in range(MAX_ATTEMPTS):
            existing = await calls(self.store).find_one({"_id": record.call_id})
            if existing is None:
                call = new_call(record, now=now, fields=prefill)
                try:
                    await calls(self.store).insert_one(_document(call))
                except DuplicateKeyError:
                    continue  # the same record twice at once: update the one that won
                return call, True
            call = _call(existing)
            updated = call.model_copy(
                update={
                    "caller_number": record.caller_number,
                    "agent": record.agent or call.agent,
                    "started_at": record.started_at,
                    "ended_at": record.ended_at or call.ended_at,
                    "recording_ref": record.recording_ref or call.recording_ref,
                    "transcript": list(record.transcript) or call.transcript,
                    "reports": [
                        r.model_copy(update={"fields": merge_prefill(r.fields, prefill)})
                        if r.n == 1 and r.state == "draft"
                        else r
                        for r in call.reports
                    ],
                    "updated_at": now,
                }
            )
            result = await calls(self.store).replace_one(
                {"_id": call.call_id, "updated_at": existing["updated_at"]}, _document(updated)
            )
            if result.matched_count:
                return updated, False
        raise CallChanged(record.call_id)

    async def save_fields(
        self, call_id: str, n: int, fields: ReportFields, *, now: datetime, by: str
    ) -> bool:
        """Keep what the agent typed; False when the report is gone or already submitted."""
        result = await calls(self.store).update_one(
            {"_id": call_id, "reports": {"$elemMatch": {"n": n, "state": "draft"}}},
            {
                "$set": {
                    "reports.$.fields": fields.model_dump(),
                    "updated_at": now,
                    "agent": by,
                }
            },
        )
        return bool(result.matched_count)

    async def add_report(self, call_id: str, *, now: datetime) -> int | None:
        """A further report in the same call (the caller reports a second thing): its number,
        with the caller's name and phone carried over."""
        for _ in range(MAX_ATTEMPTS):
            call = await self.get(call_id)
            if call is None:
                return None
            n = max((r.n for r in call.reports), default=0) + 1
            if n > MAX_REPORTS:
                return None
            first = call.reports[0].fields if call.reports else ReportFields()
            report = ReportDraft(
                n=n,
                fields=ReportFields(name=first.name, phone=first.phone, consent=first.consent),
            )
            result = await calls(self.store).update_one(
                {"_id": call_id, "reports.n": {"$ne": n}},
                {"$push": {"reports": report.model_dump()}, "$set": {"updated_at": now}},
            )
            if result.matched_count:
                return n
        raise CallChanged(call_id)

    async def note_sent(self, call_id: str, n: int, fields: ReportFields) -> None:
        """Remember what is being handed to the intake path, before it is."""
        await calls(self.store).update_one(
            {"_id": call_id, "reports.n": n},
            {"$set": {"reports.$.sent_fields": fields.model_dump()}},
        )

    async def mark_submitted(
        self,
        call_id: str,
        n: int,
        *,
        tracking_code: str,
        submission_id: str,
        attached_to: str | None,
        by: str,
        now: datetime,
    ) -> None:
        await calls(self.store).update_one(
            {"_id": call_id, "reports.n": n},
            {
                "$set": {
                    "reports.$.state": "submitted",
                    "reports.$.tracking_code": tracking_code,
                    "reports.$.submission_id": submission_id,
                    "reports.$.attached_to": attached_to,
                    "reports.$.submitted_at": now,
                    "reports.$.submitted_by": by,
                    "updated_at": now,
                }
            },
        )

    async def open_calls(self, limit: int = 50) -> list[Call]:
        """Calls with a report still in draft, the most recently touched first."""
        docs = (
            await calls(self.store)
            .find({"reports.state": "draft"})
            .sort("updated_at", DESCENDING)
            .limit(limit)
            .to_list()
        )
        return [_call(doc) for doc in docs]
