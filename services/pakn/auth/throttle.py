"""Login throttling that slows guessing without letting a stranger lock staff out.

Every attempt is written before the password is checked and counted right after, so parallel
guesses cannot slip past a limit while a hash is being computed. Three counters, each within
``failure_window``:

- per **account and address** pair: a few failures lock *that pair* for the window — the
  guesser at one address is stopped, the officer at another address is not;
- per **address**, across accounts: one address trying many names is stopped;
- per **account**, from every address: past a high limit each further attempt waits a delay
  that doubles (up to ``max_account_delay``), instead of a lock a botnet could hold forever;
  an address the account logged in from recently (``known_address_ttl``) is exempt, so the
  owner keeps working while strangers are slowed.

The counts are kept per *submitted* name, so an unknown name is throttled exactly like a real
one and a 429 says nothing about whether an account exists. Admins lift an account's
counters with ``pakn user unlock``.
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
KNOWN_COLLECTION = "login_known_addresses"

INDEXES = [
    IndexModel([("key", ASCENDING), ("at", ASCENDING)], name="key_at"),
    IndexModel([("account", ASCENDING)], name="account"),
    IndexModel([("expires_at", ASCENDING)], name="expires_at_ttl", expireAfterSeconds=0),
]
KNOWN_INDEXES = [
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


def pair_key(account: str, address: str) -> str:
    """The counter of one account at one address (both already keys)."""
    return f"pair:{account.removeprefix('account:')}:{address.removeprefix('address:')}"


def retry_after(recent: list[datetime], limit: int, window: timedelta, now: datetime) -> timedelta:
    """How long until fewer than ``limit`` of the ``recent`` attempts (newest first) remain
    within ``window`` of the clock: at least one second once the limit is reached."""
    if len(recent) < limit:
        return timedelta(0)
    return max(recent[limit - 1] + window - now, timedelta(seconds=1))


def progressive_delay(
    failures: int, limit: int, newest: datetime | None, cap: timedelta, now: datetime
) -> timedelta:
    """The wait before the next attempt once ``failures`` exceed ``limit``: one second for
    the first one over, doubling with each further failure, at most ``cap``, counted from
    the newest failure."""
    if failures < limit or newest is None:
        return timedelta(0)
    delay = min(timedelta(seconds=2 ** min(failures - limit, 30)), cap)
    return max(newest + delay - now, timedelta(0))


@dataclass(frozen=True)
class Attempt:
    """An attempt under way: counted as a failure unless ``succeeded`` is called."""

    ids: tuple[ObjectId, ...]
    account: str
    address: str


@dataclass(frozen=True)
class Refused:
    retry_after: timedelta


class LoginThrottle:
    def __init__(self, store: Store, settings: AuthSettings) -> None:
        self._collection = store.db[COLLECTION]
        self._known = store.db[KNOWN_COLLECTION]
        self._settings = settings

    async def _known_address(self, account: str, address: str) -> bool:
        return (
            await self._known.find_one({"_id": pair_key(account, address)}, {"_id": 1}) is not None
        )

    async def _recent(self, key: str, since: datetime, exclude: list[ObjectId]) -> list[datetime]:
        query: dict[str, Any] = {"key": key, "at": {"$gt": since}, "_id": {"$nin": exclude}}
        return [d["at"] async for d in self._collection.find(query, {"at": 1}).sort("at", -1)]

    async def begin(self, username: str, address: str, now: datetime) -> Attempt | Refused:
        """Record an attempt, or refuse it (and forget it) when a limit is already reached."""
        settings = self._settings
        window = settings.failure_window
        account, where = account_key(username), address_key(address)
        locks = [
            (pair_key(account, where), settings.max_failures_per_account_address),
            (where, settings.max_failures_per_address),
        ]
        keys = [key for key, _ in locks] + [account]
        result = await self._collection.insert_many(
            [
                {"key": key, "account": account, "at": now, "expires_at": now + window}
                for key in keys
            ]
        )
        ids = list(result.inserted_ids)
        since = now - window
        waits: list[timedelta] = []
        for key, limit in locks:
            if await self._collection.count_documents({"key": key, "at": {"$gt": since}}) > limit:
                recent = await self._recent(key, since, ids)
                waits.append(retry_after(recent[:limit], limit, window, now))
        if not waits:
            limit = settings.max_failures_per_account
            if await self._collection.count_documents(
                {"key": account, "at": {"$gt": since}}
            ) > limit and not await self._known_address(account, where):
                recent = await self._recent(account, since, ids)
                wait = progressive_delay(
                    len(recent),
                    limit,
                    recent[0] if recent else None,
                    settings.max_account_delay,
                    now,
                )
                if wait > timedelta(0):
                    waits.append(max(wait, timedelta(seconds=1)))
        if waits:
            await self._collection.delete_many({"_id": {"$in": ids}})
            return Refused(max(waits))
        return Attempt(tuple(ids), account, where)

    async def succeeded(self, attempt: Attempt, now: datetime) -> None:
        """The right password: the pair's failures are forgotten and the address is known to
        the account from now on (the address's and the account's own counts stay)."""
        await self._collection.delete_many({"key": pair_key(attempt.account, attempt.address)})
        await self._collection.delete_many({"_id": {"$in": list(attempt.ids)}})
        await self._known.replace_one(
            {"_id": pair_key(attempt.account, attempt.address)},
            {"expires_at": now + self._settings.known_address_ttl},
            upsert=True,
        )


async def unlock_account(store: Store, username: str) -> int:
    """Forget every failure counted against ``username`` (an admin's unlock): how many."""
    result = await store.db[COLLECTION].delete_many({"account": account_key(username)})
    return result.deleted_count
