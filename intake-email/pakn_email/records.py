"""What the service remembers in MongoDB: each message's outcome, and the mailbox cursor.

``email_messages`` has one document per Message-ID (or the id derived for mail without one):
its outcome (case, followup, ignored, failed), the tracking code, where it was moved, and the
raw message's GridFS reference so it can be parsed again. A message found here is never
submitted twice, which is what makes a rescan after a UIDVALIDITY change safe.
``email_cursor`` keeps, per mailbox, the UIDVALIDITY and the last UID handled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pymongo import ASCENDING, DESCENDING

from pakn.store import Store

MESSAGES = "email_messages"
CURSORS = "email_cursor"


class Outcome(StrEnum):
    CASE = "case"
    FOLLOWUP = "followup"
    IGNORED = "ignored"
    FAILED = "failed"


@dataclass(frozen=True)
class Cursor:
    uidvalidity: int
    last_uid: int


class Records:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.messages = store.db[MESSAGES]
        self.cursors = store.db[CURSORS]

    async def ensure_indexes(self) -> None:
        await self.messages.create_index([("tracking_code", ASCENDING)], name="tracking_code")
        await self.messages.create_index(
            [("outcome", ASCENDING), ("received_at", DESCENDING)], name="outcome_received"
        )

    async def cursor(self, mailbox: str) -> Cursor | None:
        doc = await self.cursors.find_one({"_id": mailbox})
        return None if doc is None else Cursor(int(doc["uidvalidity"]), int(doc["last_uid"]))

    async def advance(self, mailbox: str, uidvalidity: int, uid: int) -> None:
        """Remember that every UID up to ``uid`` of this UIDVALIDITY was handled."""
        await self.cursors.update_one(
            {"_id": mailbox},
            {
                "$set": {"uidvalidity": uidvalidity, "updated_at": datetime.now(UTC)},
                "$max": {"last_uid": uid},
            },
            upsert=True,
        )

    async def reset(self, mailbox: str, uidvalidity: int) -> None:
        """A new UIDVALIDITY: old UIDs mean nothing any more, scan from the start."""
        await self.cursors.update_one(
            {"_id": mailbox},
            {"$set": {"uidvalidity": uidvalidity, "last_uid": 0, "updated_at": datetime.now(UTC)}},
            upsert=True,
        )

    async def find(self, message_id: str) -> dict[str, Any] | None:
        return await self.messages.find_one({"_id": message_id})

    async def record(self, message_id: str, fields: dict[str, Any]) -> None:
        """The message's outcome: written once, later writes only fill what is missing."""
        now = datetime.now(UTC)
        await self.messages.update_one(
            {"_id": message_id},
            {"$setOnInsert": {**fields, "created_at": now}, "$set": {"updated_at": now}},
            upsert=True,
        )

    async def mark_moved(self, message_id: str, folder: str) -> None:
        await self.messages.update_one(
            {"_id": message_id}, {"$set": {"moved_to": folder, "moved_at": datetime.now(UTC)}}
        )

    async def by_tracking_code(self, tracking_code: str) -> dict[str, Any] | None:
        """The message that opened a case (not a follow-up), for telling its sender news."""
        return await self.messages.find_one(
            {"tracking_code": tracking_code, "outcome": Outcome.CASE.value}
        )

    async def since(self, moment: datetime) -> list[dict[str, Any]]:
        cursor = self.messages.find({"received_at": {"$gte": moment}}).sort("received_at", 1)
        return await cursor.to_list(None)
