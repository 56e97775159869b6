"""Intake-key reservation: one tracking code per submission id, the same on every retry."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

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


async def lookup_reservation(store: Store, tracking_code: str) -> Reservation | None:
    """The reservation holding ``tracking_code`` (10 digits, no separators), if any."""
    doc = await store.intake_keys.find_one({"tracking_code": tracking_code})
    return None if doc is None else reservation_from_document(doc, created=False)
