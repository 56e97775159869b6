"""Intake-key reservation: one tracking code per submission id, the same on every retry."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from pakn import loops
from pakn.ids import new_tracking_code
from pakn.store import Store

log = logging.getLogger(__name__)

#: Nine random digits make a collision rare; eight in a row mean something else is wrong.
MAX_CODE_ATTEMPTS = 8


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
    doc: dict[str, Any] = {
        "_id": submission_id,
        "channel": channel,
        "body_sha256": body_sha256,
        "received_at": to_store_precision(received_at),
    }
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


async def mark_published(store: Store, submission_id: str) -> None:
    """Record that the broker confirmed the submission (the first confirmation counts).

    Reservations without ``published_at`` are the ones ops look at: reserved, never sent.
    """
    await store.intake_keys.update_one(
        {"_id": submission_id, "published_at": {"$exists": False}},
        {"$set": {"published_at": datetime.now(UTC)}},
    )


async def mark_published_many(store: Store, submission_ids: Sequence[str]) -> None:
    """``mark_published`` for many at once: one write for a batch of confirmations."""
    if submission_ids:
        await store.intake_keys.update_many(
            {"_id": {"$in": list(submission_ids)}, "published_at": {"$exists": False}},
            {"$set": {"published_at": datetime.now(UTC)}},
        )


class PublishedMarks:
    """Notes "the broker confirmed" on reservations in batches, off the citizen's path.

    The mark is book-keeping for ops (reservations never sent), and the router's case says
    the same; written inline it was a second journaled write on every request. Marks wait
    here at most ``interval``; a store that fails keeps them for the next round (up to
    ``limit``, the oldest dropped beyond that: a missing mark only makes ops look twice).
    """

    def __init__(self, store: Store, *, interval: float = 0.5, limit: int = 100_000) -> None:
        self.store = store
        self.interval = interval
        self.limit = limit
        self._pending: list[str] = []

    def note(self, submission_id: str) -> None:
        self._pending.append(submission_id)
        if len(self._pending) > self.limit:
            del self._pending[: len(self._pending) - self.limit]

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def flush(self) -> None:
        batch, self._pending = self._pending, []
        try:
            for first in range(0, len(batch), 1000):
                await mark_published_many(self.store, batch[first : first + 1000])
        except BaseException:
            self._pending[:0] = batch
            raise

    async def run(self) -> None:
        """Flush every ``interval`` (under supervision: a failure is seen and retried)."""
        try:
            await loops.every(self.interval, self.flush)
        finally:
            if self._pending:
                with contextlib.suppress(Exception):
                    await self.flush()


async def lookup_reservation(store: Store, tracking_code: str) -> Reservation | None:
    """The reservation holding ``tracking_code`` (10 digits, no separators), if any."""
    doc = await store.intake_keys.find_one({"tracking_code": tracking_code})
    return None if doc is None else reservation_from_document(doc, created=False)
