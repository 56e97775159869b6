"""Intake-key reservation: one tracking code per submission id, the same on every retry."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pymongo
from pymongo.errors import BulkWriteError, DuplicateKeyError

from pakn.ids import new_tracking_code
from pakn.store import Store

log = logging.getLogger(__name__)

#: Nine random digits make a collision rare; eight in a row mean something else is wrong.
MAX_CODE_ATTEMPTS = 8
#: MongoDB's duplicate key error: the id already reserved, or the code taken.
DUPLICATE_KEY = 11000
#: Reservations written together at most (a burst beyond it waits for the next write).
MAX_BATCH = 200


class IdempotencyConflict(Exception):
    """The submission id was already used with a different body (HTTP 409)."""

    def __init__(self, submission_id: str) -> None:
        super().__init__(f"submission {submission_id} was already received with another body")
        self.submission_id = submission_id


class TrackingCodesExhausted(RuntimeError):
    """Every fresh tracking code collided with an existing one."""


@dataclass(frozen=True, slots=True)
class Reservation:
    """A reserved tracking code; ``created`` is False when a retry found the original."""

    submission_id: str
    tracking_code: str
    channel: str
    received_at: datetime
    created: bool


def to_store_precision(moment: datetime) -> datetime:
    """``moment`` in UTC, cut to the millisecond BSON keeps.

    A first answer and a retry must carry the same ``received_at``, and the retry's
    comes back from the store, so the first one is cut the same way.
    """
    if moment.tzinfo is None:
        raise ValueError("received_at must carry a time zone")
    utc = moment.astimezone(UTC)
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)


def reservation_from_document(doc: Mapping[str, Any], *, created: bool) -> Reservation:
    return Reservation(
        submission_id=str(doc["_id"]),
        tracking_code=str(doc["tracking_code"]),
        channel=str(doc["channel"]),
        received_at=to_store_precision(doc["received_at"]),
        created=created,
    )


def settle_existing(existing: Mapping[str, Any], body_sha256: str) -> Reservation:
    """A retry gets the original reservation; a different body under the same id is a conflict."""
    if existing.get("body_sha256") != body_sha256:
        raise IdempotencyConflict(str(existing["_id"]))
    return reservation_from_document(existing, created=False)


async def reserve(
    store: Store,
    *,
    submission_id: str,
    channel: str,
    body_sha256: str,
    received_at: datetime,
    new_code: Callable[[], str] = new_tracking_code,
) -> Reservation:
    """Reserve a tracking code for ``submission_id`` (DESIGN.md §4).

    The same id with the same body returns the original code and ``received_at``
    (``created`` False); with a different body it raises IdempotencyConflict.
    """
    doc = new_reservation_document(submission_id, channel, body_sha256, received_at, "")
    # Insert first: a new submission, the common case, costs one round-trip.
    for _ in range(MAX_CODE_ATTEMPTS):
        doc["tracking_code"] = new_code()
        try:
            await store.intake_keys.insert_one(doc)
        except DuplicateKeyError:
            # Either this id is already reserved (a retry, maybe a concurrent one) or
            # the code is taken. Looking the id up tells which on any server.
            existing = await store.intake_keys.find_one({"_id": submission_id})
            if existing is not None:
                return settle_existing(existing, body_sha256)
            log.info("tracking code collision for %s; drawing another", submission_id)
            continue
        return reservation_from_document(doc, created=True)
    raise TrackingCodesExhausted(
        f"{MAX_CODE_ATTEMPTS} tracking codes in a row were taken for {submission_id}"
    )


def new_reservation_document(
    submission_id: str, channel: str, body_sha256: str, received_at: datetime, tracking_code: str
) -> dict[str, Any]:
    return {
        "_id": submission_id,
        "channel": channel,
        "body_sha256": body_sha256,
        "received_at": to_store_precision(received_at),
        "tracking_code": tracking_code,
    }


@dataclass(slots=True)
class _Waiting:
    doc: dict[str, Any]
    #: True once the document is durable; False when a key was taken (the caller sorts out
    #: which, as ``reserve`` does); an exception when the write failed.
    done: asyncio.Future[bool]


class Reservations:
    """Reservations of reports that arrive together written in one ``insert_many``.

    Group commit without a wait: a reservation that finds no write in flight goes out at
    once, alone; those arriving while one is in flight go out together when it returns.
    A quiet intake pays nothing, a busy one one journaled write (one commit, one pass over
    the index) for many reports instead of one each. Every caller still returns only once
    its own document is durable, and gets what ``reserve`` gives: a retry its original
    code, another body under the same id IdempotencyConflict, a taken code a fresh one.
    """

    def __init__(
        self,
        store: Store,
        *,
        timeout: float,
        max_batch: int = MAX_BATCH,
        new_code: Callable[[], str] = new_tracking_code,
    ) -> None:
        self.store = store
        #: How long one batched write may take (the store's timeout for a reservation).
        self.timeout = timeout
        self.max_batch = max_batch
        self.new_code = new_code
        self._queue: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None
        #: Writes made and documents they carried (their ratio is the batching achieved).
        self.writes = 0
        self.written = 0

    async def reserve(
        self, *, submission_id: str, channel: str, body_sha256: str, received_at: datetime
    ) -> Reservation:
        """``reserve`` for one report, its insert shared with the reports arriving with it."""
        doc = new_reservation_document(
            submission_id, channel, body_sha256, received_at, self.new_code()
        )
        waiting = _Waiting(doc, asyncio.get_running_loop().create_future())
        self._queue.append(waiting)
        if self._writer is None or self._writer.done():
            # A fresh context: the writer serves every caller, so no caller's pymongo.timeout
            # (a context variable) may end it.
            self._writer = asyncio.create_task(self._write(), context=contextvars.Context())
        # Shielded: a caller that gives up must not cancel the write the others wait for.
        if await asyncio.shield(waiting.done):
            return reservation_from_document(doc, created=True)
        # The id or the code was taken: rare (a retry, a collision), so sorted out alone.
        return await reserve(
            self.store,
            submission_id=submission_id,
            channel=channel,
            body_sha256=body_sha256,
            received_at=received_at,
            new_code=self.new_code,
        )

    async def _write(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            self.writes += 1
            self.written += len(batch)
            try:
                with pymongo.timeout(self.timeout):
                    taken = await self._insert([waiting.doc for waiting in batch])
            except asyncio.CancelledError:
                # Shutting down: nobody is left to write for those still waiting.
                for waiting in batch + self._queue:
                    waiting.done.cancel()
                self._queue = []
                raise
            except Exception as exc:  # each caller answers 503 for its own failed write
                for waiting in batch:
                    if not waiting.done.done():
                        waiting.done.set_exception(exc)
                continue
            for index, waiting in enumerate(batch):
                if not waiting.done.done():
                    error = taken.get(index)
                    if error is None:
                        waiting.done.set_result(True)
                    elif error.get("code") == DUPLICATE_KEY:
                        waiting.done.set_result(False)
                    else:
                        waiting.done.set_exception(BulkWriteError({"writeErrors": [error]}))

    async def _insert(self, docs: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
        """Insert ``docs`` (unordered: one taken key does not hold the others back); the
        write errors by the document's index."""
        try:
            await self.store.intake_keys.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if exc.details.get("writeConcernErrors") or not errors:
                raise
            return {int(error["index"]): error for error in errors}
        return {}


async def lookup_reservation(store: Store, tracking_code: str) -> Reservation | None:
    """The reservation holding ``tracking_code`` (10 digits, no separators), if any."""
    doc = await store.intake_keys.find_one({"tracking_code": tracking_code})
    return None if doc is None else reservation_from_document(doc, created=False)
