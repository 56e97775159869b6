"""Intake-key reservation: one code per submission id, retries, conflicts, collisions."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pymongo.errors import PyMongoError

from pakn.ids import damm_check_digit, is_valid_tracking_code
from pakn.intake.reservations import (
    MAX_CODE_ATTEMPTS,
    IdempotencyConflict,
    Reservation,
    Reservations,
    TrackingCodesExhausted,
    lookup_reservation,
    reserve,
    settle_existing,
    to_store_precision,
)
from pakn.store import Store, open_store

ICT = timezone(timedelta(hours=7))
RECEIVED = datetime(2025, 9, 2, 9, 15, 30, 123456, tzinfo=UTC)
BODY = "a" * 64
OTHER_BODY = "b" * 64
SUBMISSION = "web:" + "0" * 32


def code(nine_digits: str) -> str:
    return nine_digits + damm_check_digit(nine_digits)


def codes(*values: str) -> Callable[[], str]:
    """A code generator that hands out ``values`` in order."""
    remaining: Iterator[str] = iter(values)
    return lambda: next(remaining)


# --- Pure parts ----------------------------------------------------------------------------


def test_store_precision_is_utc_milliseconds() -> None:
    local = datetime(2025, 9, 2, 16, 15, 30, 123456, tzinfo=ICT)
    assert to_store_precision(local) == datetime(2025, 9, 2, 9, 15, 30, 123000, tzinfo=UTC)
    assert to_store_precision(local).tzinfo is UTC


def test_store_precision_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="time zone"):
        to_store_precision(datetime(2025, 9, 2, 9, 15))


def test_settle_existing_same_body_is_the_original() -> None:
    existing = {
        "_id": SUBMISSION,
        "tracking_code": code("123456789"),
        "channel": "web",
        "body_sha256": BODY,
        "received_at": RECEIVED,
    }
    settled = settle_existing(existing, BODY)
    assert settled.tracking_code == code("123456789")
    assert settled.created is False
    with pytest.raises(IdempotencyConflict) as conflict:
        settle_existing(existing, OTHER_BODY)
    assert conflict.value.submission_id == SUBMISSION


# --- Against the store ---------------------------------------------------------------------


async def test_reserve_stores_a_fresh_valid_code(store: Store) -> None:
    reservation = await reserve(
        store, submission_id=SUBMISSION, channel="web", body_sha256=BODY, received_at=RECEIVED
    )
    assert reservation.created
    assert is_valid_tracking_code(reservation.tracking_code)
    assert reservation.received_at == to_store_precision(RECEIVED)
    doc = await store.intake_keys.find_one({"_id": SUBMISSION})
    assert doc == {
        "_id": SUBMISSION,
        "tracking_code": reservation.tracking_code,
        "channel": "web",
        "body_sha256": BODY,
        "received_at": reservation.received_at,
    }


async def test_a_retry_with_the_same_body_gets_the_same_code(store: Store) -> None:
    first = await reserve(
        store, submission_id=SUBMISSION, channel="web", body_sha256=BODY, received_at=RECEIVED
    )
    retry = await reserve(
        store,
        submission_id=SUBMISSION,
        channel="web",
        body_sha256=BODY,
        received_at=RECEIVED + timedelta(minutes=5),
    )
    assert retry.created is False
    assert retry.tracking_code == first.tracking_code
    assert retry.received_at == first.received_at
    assert await store.intake_keys.count_documents({}) == 1


async def test_the_same_key_with_another_body_is_a_conflict(store: Store) -> None:
    await reserve(
        store, submission_id=SUBMISSION, channel="web", body_sha256=BODY, received_at=RECEIVED
    )
    with pytest.raises(IdempotencyConflict):
        await reserve(
            store,
            submission_id=SUBMISSION,
            channel="web",
            body_sha256=OTHER_BODY,
            received_at=RECEIVED,
        )
    doc = await store.intake_keys.find_one({"_id": SUBMISSION})
    assert doc is not None
    assert doc["body_sha256"] == BODY


async def test_concurrent_retries_share_one_code(store: Store) -> None:
    results = await asyncio.gather(
        *(
            reserve(
                store,
                submission_id=SUBMISSION,
                channel="web",
                body_sha256=BODY,
                received_at=RECEIVED + timedelta(seconds=i),
            )
            for i in range(20)
        )
    )
    assert len({r.tracking_code for r in results}) == 1
    assert len({r.received_at for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert await store.intake_keys.count_documents({}) == 1


async def test_a_code_collision_draws_another(store: Store) -> None:
    taken, fresh = code("111111111"), code("222222222")
    await reserve(
        store,
        submission_id="web:" + "1" * 32,
        channel="web",
        body_sha256=BODY,
        received_at=RECEIVED,
        new_code=codes(taken),
    )
    reservation = await reserve(
        store,
        submission_id=SUBMISSION,
        channel="web",
        body_sha256=BODY,
        received_at=RECEIVED,
        new_code=codes(taken, taken, fresh),
    )
    assert reservation.created
    assert reservation.tracking_code == fresh


async def test_endless_collisions_give_up(store: Store) -> None:
    taken = code("111111111")
    await reserve(
        store,
        submission_id="web:" + "1" * 32,
        channel="web",
        body_sha256=BODY,
        received_at=RECEIVED,
        new_code=codes(taken),
    )
    drawn: list[str] = []

    def always_taken() -> str:
        drawn.append(taken)
        return taken

    with pytest.raises(TrackingCodesExhausted):
        await reserve(
            store,
            submission_id=SUBMISSION,
            channel="web",
            body_sha256=BODY,
            received_at=RECEIVED,
            new_code=always_taken,
        )
    assert len(drawn) == MAX_CODE_ATTEMPTS
    assert await store.intake_keys.find_one({"_id": SUBMISSION}) is None


async def test_lookup_finds_a_reservation_by_code(store: Store) -> None:
    reservation = await reserve(
        store, submission_id=SUBMISSION, channel="email", body_sha256=BODY, received_at=RECEIVED
    )
    found = await lookup_reservation(store, reservation.tracking_code)
    assert found is not None
    assert (found.submission_id, found.channel, found.received_at) == (
        SUBMISSION,
        "email",
        reservation.received_at,
    )
    assert await lookup_reservation(store, code("999999999")) is None


# --- Reservations written together -----------------------------------------------------------


def counting_codes(*first: str) -> Callable[[], str]:
    """``first`` in order, then fresh codes that collide with nothing."""
    queue = list(first)
    drawn = iter(range(300_000_000, 400_000_000))

    def new_code() -> str:
        return queue.pop(0) if queue else code(str(next(drawn)))

    return new_code


async def test_reports_arriving_together_share_one_write(store: Store) -> None:
    reservations = Reservations(store, timeout=5.0)
    ids = [f"web:{n:032x}" for n in range(40)]
    results = await asyncio.gather(
        *(
            reservations.reserve(
                submission_id=sid, channel="web", body_sha256=BODY, received_at=RECEIVED
            )
            for sid in ids
        )
    )
    assert all(r.created for r in results)
    assert [r.submission_id for r in results] == ids
    assert len({r.tracking_code for r in results}) == len(ids)
    assert reservations.written == len(ids)
    assert reservations.writes <= 2, "the ones that waited went out together"
    stored = {doc["_id"]: doc["tracking_code"] async for doc in store.intake_keys.find()}
    assert stored == {r.submission_id: r.tracking_code for r in results}


async def test_in_a_shared_write_each_report_gets_what_it_would_alone(store: Store) -> None:
    """A retry, a concurrent retry, a conflict and a taken code in the same write: each is
    answered as ``reserve`` answers it on its own."""
    taken = code("111111111")
    first = await reserve(
        store,
        submission_id=SUBMISSION,
        channel="web",
        body_sha256=BODY,
        received_at=RECEIVED,
        new_code=codes(taken),
    )
    reservations = Reservations(store, timeout=5.0, new_code=counting_codes(taken))
    other = "web:" + "2" * 32

    def reserving(sid: str, body: str = BODY) -> Awaitable[Reservation]:
        return reservations.reserve(
            submission_id=sid, channel="web", body_sha256=body, received_at=RECEIVED
        )

    collided, retried, conflict, twice, again = await asyncio.gather(
        reserving("web:" + "1" * 32),  # draws the taken code
        reserving(SUBMISSION),
        reserving(SUBMISSION, OTHER_BODY),
        reserving(other),
        reserving(other),
        return_exceptions=True,
    )
    assert isinstance(collided, Reservation) and collided.created
    assert collided.tracking_code != taken
    assert isinstance(retried, Reservation) and not retried.created
    assert retried.tracking_code == first.tracking_code == taken
    assert isinstance(conflict, IdempotencyConflict)
    assert isinstance(twice, Reservation) and isinstance(again, Reservation)
    assert twice.tracking_code == again.tracking_code
    assert sorted([twice.created, again.created]) == [False, True]
    assert await store.intake_keys.count_documents({}) == 3


async def test_a_store_away_fails_each_waiting_report_and_the_next_write_is_tried() -> None:
    away = open_store("mongodb://127.0.0.1:1/")
    reservations = Reservations(away, timeout=0.3)
    try:
        outcomes = await asyncio.gather(
            *(
                reservations.reserve(
                    submission_id=f"web:{n:032x}",
                    channel="web",
                    body_sha256=BODY,
                    received_at=RECEIVED,
                )
                for n in range(3)
            ),
            return_exceptions=True,
        )
        assert all(isinstance(outcome, PyMongoError) for outcome in outcomes)
        with pytest.raises(PyMongoError):
            await reservations.reserve(
                submission_id=SUBMISSION, channel="web", body_sha256=BODY, received_at=RECEIVED
            )
    finally:
        await away.close()
