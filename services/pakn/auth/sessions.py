"""Server-side staff sessions: a random token in the cookie, only its SHA-256 in the store."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from bson import ObjectId

from pakn.auth.settings import AuthSettings
from pakn.store import Store

#: 32 random bytes: the session token's entropy.
TOKEN_BYTES = 32


def new_token() -> str:
    """A fresh session token (URL-safe, for the cookie)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_key(token: str) -> str:
    """The stored key of a token: whoever reads the store cannot replay a session from it."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class SessionState(Enum):
    VALID = "valid"
    #: Valid, and last seen long enough ago that this request should refresh the idle timer.
    TOUCH = "touch"
    EXPIRED = "expired"


@dataclass(frozen=True)
class SessionRecord:
    """A stored session. The role is a snapshot for the record: each request re-reads the user."""

    key: str
    user_id: ObjectId
    role: str
    csrf_token: str
    created_at: datetime
    last_seen: datetime
    absolute_expires_at: datetime

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> SessionRecord:
        return cls(
            key=doc["_id"],
            user_id=doc["user_id"],
            role=doc["role"],
            csrf_token=doc["csrf_token"],
            created_at=doc["created_at"],
            last_seen=doc["last_seen"],
            absolute_expires_at=doc["absolute_expires_at"],
        )

    def expires_at(self, settings: AuthSettings) -> datetime:
        return expires_at(self.last_seen, self.absolute_expires_at, settings)


def expires_at(last_seen: datetime, absolute: datetime, settings: AuthSettings) -> datetime:
    """When the session ends unless used again: idle timeout, capped by the absolute one."""
    return min(last_seen + settings.idle_timeout, absolute)


def session_state(record: SessionRecord, now: datetime, settings: AuthSettings) -> SessionState:
    if now >= record.expires_at(settings):
        return SessionState.EXPIRED
    if now - record.last_seen >= settings.touch_interval:
        return SessionState.TOUCH
    return SessionState.VALID


async def create_session(
    store: Store,
    *,
    user_id: ObjectId,
    role: str,
    now: datetime,
    settings: AuthSettings,
    ip: str | None,
    user_agent: str | None,
) -> tuple[str, SessionRecord]:
    """A new session for a user who just logged in: (the cookie token, the record)."""
    token = new_token()
    absolute = now + settings.absolute_timeout
    record = SessionRecord(
        key=token_key(token),
        user_id=user_id,
        role=role,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen=now,
        absolute_expires_at=absolute,
    )
    await store.sessions.insert_one(
        {
            "_id": record.key,
            "user_id": user_id,
            "role": role,
            "csrf_token": record.csrf_token,
            "created_at": now,
            "last_seen": now,
            "absolute_expires_at": absolute,
            # The TTL index removes the document once this time has passed.
            "expires_at": record.expires_at(settings),
            "ip": ip,
            "user_agent": user_agent,
        }
    )
    return token, record


async def find_session(store: Store, token: str) -> SessionRecord | None:
    doc = await store.sessions.find_one({"_id": token_key(token)})
    return SessionRecord.from_document(doc) if doc is not None else None


async def touch_session(
    store: Store, record: SessionRecord, now: datetime, settings: AuthSettings
) -> None:
    """Slide the idle timeout forward (the caller limits this to once per touch_interval)."""
    await store.sessions.update_one(
        {"_id": record.key},
        {
            "$set": {
                "last_seen": now,
                "expires_at": expires_at(now, record.absolute_expires_at, settings),
            }
        },
    )


async def end_session(store: Store, key: str) -> bool:
    """Delete one session by its key; True when there was one."""
    result = await store.sessions.delete_one({"_id": key})
    return result.deleted_count > 0


async def end_user_sessions(store: Store, user_id: ObjectId) -> int:
    """Delete every session of a user (disabled, or a new password); how many there were."""
    result = await store.sessions.delete_many({"user_id": user_id})
    return result.deleted_count
