"""Chat sessions in MongoDB: one document per citizen and platform, with a time to live.

The dialogue state is saved together with the ids of the platform events it has answered,
in one conditional write (``version``), so a redelivered event is recognised after any
restart, and two processes answering the same citizen at once cannot both win.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from pakn.store import Store
from pakn_chatbot.dialogue import State

COLLECTION = "chatbot_sessions"
#: Platform event ids remembered per citizen (redeliveries come within minutes or hours).
SEEN_EVENTS = 200

INDEXES = [
    # Each session carries its own expiry; the server deletes it when reached.
    IndexModel([("expires_at", ASCENDING)], name="expires_at_ttl", expireAfterSeconds=0),
    # The sweeper looks for drafts left untouched.
    IndexModel(
        [("draft_touched_at", ASCENDING)],
        name="open_drafts",
        partialFilterExpression={"has_draft": True},
    ),
]


class SessionConflict(Exception):
    """Someone else saved this session since it was loaded: load it again and redo the turn."""


@dataclass
class Session:
    key: str
    platform: str
    user_id: str
    state: State
    version: int
    seen: list[str] = field(default_factory=list)
    #: Replies of the last event answered, for a generic client that sends it again.
    last_event: str | None = None
    last_replies: list[str] = field(default_factory=list)
    last_inbound_at: datetime | None = None


def session_key(platform: str, user_id: str) -> str:
    return f"{platform}:{user_id}"


async def ensure_indexes(store: Store) -> None:
    await store.db[COLLECTION].create_indexes(INDEXES)


async def load(store: Store, platform: str, user_id: str) -> Session:
    key = session_key(platform, user_id)
    doc = await store.db[COLLECTION].find_one({"_id": key})
    if doc is None:
        return Session(key, platform, user_id, State(), 0)
    return Session(
        key,
        platform,
        user_id,
        State.model_validate(doc["state"]),
        int(doc.get("version", 0)),
        list(doc.get("seen") or []),
        doc.get("last_event"),
        list(doc.get("last_replies") or []),
        doc.get("last_inbound_at"),
    )


async def save(
    store: Store,
    session: Session,
    state: State,
    *,
    now: datetime,
    retention: timedelta,
    event_id: str | None,
    replies: list[str],
) -> None:
    """Saves the new state if nobody saved since ``session`` was loaded (SessionConflict)."""
    seen = session.seen
    if event_id is not None:
        seen = [*seen, event_id][-SEEN_EVENTS:]
    doc: dict[str, Any] = {
        "platform": session.platform,
        "user_id": session.user_id,
        "state": state.model_dump(mode="python"),
        "version": session.version + 1,
        "seen": seen,
        "last_event": event_id,
        "last_replies": replies,
        "last_inbound_at": now,
        "updated_at": now,
        "has_draft": state.draft is not None,
        "draft_touched_at": now if state.draft is not None else None,
        # Consent and the codes of earlier reports are kept this long after the last message.
        "expires_at": now + retention,
    }
    collection = store.db[COLLECTION]
    if session.version == 0:
        try:
            await collection.insert_one({"_id": session.key, **doc})
        except DuplicateKeyError:
            raise SessionConflict(session.key) from None
        return
    result = await collection.update_one(
        {"_id": session.key, "version": session.version}, {"$set": doc}
    )
    if result.matched_count == 0:
        raise SessionConflict(session.key)


async def abandoned(store: Store, *, before: datetime, limit: int = 100) -> list[dict[str, Any]]:
    """Sessions whose draft nobody touched since ``before``."""
    cursor = (
        store.db[COLLECTION]
        .find({"has_draft": True, "draft_touched_at": {"$lt": before}})
        .limit(limit)
    )
    return [doc async for doc in cursor]


async def close_draft(store: Store, doc: dict[str, Any], state: State, *, now: datetime) -> bool:
    """Saves ``state`` (its draft dropped) unless the citizen wrote meanwhile."""
    result = await store.db[COLLECTION].update_one(
        {"_id": doc["_id"], "version": doc.get("version", 0)},
        {
            "$set": {
                "state": state.model_dump(mode="python"),
                "has_draft": False,
                "draft_touched_at": None,
                "updated_at": now,
            },
            "$inc": {"version": 1},
        },
    )
    return result.modified_count == 1
