"""Login throttling: attempts counted per account and per address, in the store (all processes).

Every attempt is written before the password is checked and counted right after, so parallel
guesses cannot slip past the limit while a hash is being computed; a success removes the
account's record. Over the limit the answer is 429 with Retry-After, whatever the username:
the count is kept per *submitted* name, so an unknown name is throttled exactly like a real one
and the 429 says nothing about whether an account exists. Locking a known username out for a
quarter of an hour is the price (the per-address limit bounds who can do that at scale).
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, IndexModel

from pakn.auth.settings import AuthSettings
from pakn.auth.users import normalize_username
from pakn.store import Store

COLLECTION = "login_failures"

INDEXES = [
    IndexModel([("key", ASCENDING), ("at", ASCENDING)], name="key_at"),
    IndexModel([("expires_at", ASCENDING)], name="expires_at_ttl", expireAfterSeconds=0),
]


def account_key(username: str) -> str:
    # Hashed: people type their password into the username box, and this is kept for a while.
    digest = hashlib.sha256(normalize_username(username).encode()).hexdigest()
    return f"account:{digest[:32]}"


def address_key(address: str) -> str:
    """IPv6 clients are counted per /64: one subscriber usually holds the whole block."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"address:{address[:64]}"
    if ip.version == 6:
        return f"address:{ipaddress.ip_network((ip, 64), strict=False)}"
    return f"address:{ip}"


def retry_after(recent: list[datetime], limit: int, window: timedelta, now: datetime) -> timedelta:
    """How long until fewer than ``limit`` of the ``recent`` attempts (newest first) remain
    within ``window`` of the clock: at least one second once the limit is reached."""
    if len(recent) < limit:
        return timedelta(0)
    return max(recent[limit - 1] + window - now, timedelta(seconds=1))


@dataclass(frozen=True)
class Attempt:
    """An attempt under way: counted as a failure unless ``succeeded`` is called."""

    ids: tuple[ObjectId, ...]
    account: str


@dataclass(frozen=True)
class Refused:
    retry_after: timedelta


class LoginThrottle:
    def __init__(self, store: Store, settings: AuthSettings) -> None:
        self._collection = store.db[COLLECTION]
        self._settings = settings

    async def begin(self, username: str, address: str, now: datetime) -> Attempt | Refused:
        """Record an attempt, or refuse it (and forget it) when a limit is already reached."""
        window = self._settings.failure_window
        limits = [
            (account_key(username), self._settings.max_failures_per_account),
            (address_key(address), self._settings.max_failures_per_address),
        ]
        result = await self._collection.insert_many(
            [{"key": key, "at": now, "expires_at": now + window} for key, _ in limits]
        )
        ids = tuple(result.inserted_ids)
        waits: list[timedelta] = []
        for key, limit in limits:
            recent: dict[str, Any] = {"key": key, "at": {"$gt": now - window}}
            if await self._collection.count_documents(recent) > limit:
                others = {**recent, "_id": {"$nin": list(ids)}}
                docs = await self._collection.find(others, {"at": 1}).sort("at", -1).to_list(limit)
                waits.append(retry_after([d["at"] for d in docs], limit, window, now))
        if waits:
            await self._collection.delete_many({"_id": {"$in": list(ids)}})
            return Refused(max(waits))
        return Attempt(ids, limits[0][0])

    async def succeeded(self, attempt: Attempt) -> None:
        """The right password: the account's failures are forgotten (the address's are not)."""
        await self._collection.delete_many({"key": attempt.account})
        await self._collection.delete_many({"_id": {"$in": list(attempt.ids)}})
