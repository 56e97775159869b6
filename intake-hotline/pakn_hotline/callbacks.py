"""The call-back list: hotline cases whose citizen should hear news, fed by the hotline's
follower of ``pakn.cases`` (pakn.case_events), marked done by the agent who called."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Final

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection

from pakn.schema import CaseEvent, EventKind
from pakn.store import Store
from pakn_hotline import metrics

log = logging.getLogger(__name__)

COLLECTION: Final = "hotline_callbacks"
INDEXES: Final = [
    IndexModel([("state", ASCENDING), ("at", DESCENDING)], name="state_at"),
]
#: Events after which the agent calls the citizen (DESIGN.md §6 event names).
CALLBACK_EVENTS: Final = frozenset(
    {EventKind.NEEDS_INFO, EventKind.PUBLISHED, EventKind.REDIRECTED}
)


def callbacks(store: Store) -> AsyncCollection[dict[str, Any]]:
    return store.db[COLLECTION]


def callback_document(event: CaseEvent, case: dict[str, Any] | None) -> dict[str, Any]:
    """One line of the list: who to call, about which case, and why (pure)."""
    submitter = (case or {}).get("submitter") or {}
    result = (case or {}).get("result") or {}
    return {
        "tracking_code": event.tracking_code,
        "event": event.event.value,
        "at": event.at,
        "note": event.note,
        "name": submitter.get("name"),
        "phone": submitter.get("phone"),
        "channel_ref": event.channel_ref or (case or {}).get("channel_ref"),
        "result": result.get("text"),
        "state": "open",
    }


class CallbackList:
    """The case-event handler and the list's writes."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def on_case_event(self, event: CaseEvent) -> None:
        """Handler for pakn.case_events: an upsert keyed by the event id, so handling the
        same event again (a redelivery before its receipt) changes nothing."""
        if event.event not in CALLBACK_EVENTS:
            return
        case = await self.store.cases.find_one(
            {"tracking_code": event.tracking_code},
            {"submitter": 1, "result": 1, "channel_ref": 1},
        )
        result = await callbacks(self.store).update_one(
            {"_id": event.event_id},
            {"$setOnInsert": callback_document(event, case)},
            upsert=True,
        )
        if result.upserted_id is not None:
            metrics.CALLBACKS.labels(event.event.value).inc()
            log.info("call back %s: %s", event.tracking_code, event.event.value)

    async def open_items(self, limit: int = 200) -> list[dict[str, Any]]:
        return (
            await callbacks(self.store)
            .find({"state": "open"})
            .sort("at", ASCENDING)
            .limit(limit)
            .to_list()
        )

    async def recent_done(self, limit: int = 20) -> list[dict[str, Any]]:
        return (
            await callbacks(self.store)
            .find({"state": "done"})
            .sort("done_at", DESCENDING)
            .limit(limit)
            .to_list()
        )

    async def mark_done(self, item_id: str, *, by: str, now: datetime, note: str | None) -> bool:
        result = await callbacks(self.store).update_one(
            {"_id": item_id, "state": "open"},
            {"$set": {"state": "done", "done_by": by, "done_at": now, "done_note": note}},
        )
        if result.modified_count:
            metrics.CALLBACKS_DONE.inc()
        return bool(result.modified_count)
