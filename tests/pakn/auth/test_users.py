"""Accounts in the store: hashing, authentication and the account operations."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime

import pytest

from pakn.auth.settings import CHEAP_ARGON2, Argon2Params
from pakn.auth.users import (
    AccountError,
    Actor,
    Passwords,
    Role,
    authenticate,
    change_role,
    list_users,
)
from pakn.store import Store
from tests.pakn.auth.conftest import PASSWORD, add_user


async def test_hashes_are_argon2id_and_salted() -> None:
    passwords = Passwords(CHEAP_ARGON2)
    first, second = await passwords.hash(PASSWORD), await passwords.hash(PASSWORD)
    assert first.startswith("$argon2id$") and first != second
    assert await passwords.verify(first, PASSWORD)
    assert not await passwords.verify(first, PASSWORD + " ")
    assert not await passwords.verify("not a hash", PASSWORD)
    assert passwords.needs_rehash("not a hash")
    assert not passwords.needs_rehash(first)


async def test_an_unknown_user_costs_a_full_hash_like_a_known_one(store: Store) -> None:
    # Costly enough (16 MiB) that a shortcut for unknown names would stand out by far.
    params = Argon2Params(time_cost=3, memory_cost=16 * 1024, parallelism=1)
    passwords = Passwords(params)
    await store.users.insert_one(
        {
            "username": "real.user",
            "display_name": "Real",
            "role": "operator",
            "active": True,
            "password_hash": await passwords.hash(PASSWORD),
            "created_at": datetime.now(UTC),
        }
    )

    async def seconds(username: str) -> float:
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            result = await authenticate(store, passwords, username, "wrong password")
            runs.append(time.perf_counter() - start)
            assert not result.ok
        return statistics.median(runs)

    known, unknown = await seconds("real.user"), await seconds("nobody.at.all")
    assert unknown > known / 3, (known, unknown)


async def test_an_administrator_can_promote_within_an_agency_and_move_accounts(
    store: Store,
) -> None:
    await add_user(store, "tuan", Role.AGENCY_STAFF, "so-y-te")
    admin = Actor(name="root", role=Role.ADMIN)
    now = datetime.now(UTC)
    promoted = await change_role(store, admin, "tuan", "agency_admin", now=now)
    assert (promoted.role, promoted.agency) == (Role.AGENCY_ADMIN, "so-y-te")
    operator = await change_role(store, admin, "tuan", "operator", now=now)
    assert (operator.role, operator.agency) == (Role.OPERATOR, None)
    back = await change_role(store, admin, "tuan", "agency_staff", "so-xay-dung", now=now)
    assert (back.role, back.agency) == (Role.AGENCY_STAFF, "so-xay-dung")


async def test_only_administrators_list_accounts(store: Store) -> None:
    await add_user(store, "hotline1", Role.HOTLINE_AGENT)
    for role in (Role.OPERATOR, Role.HOTLINE_AGENT, Role.AGENCY_STAFF):
        with pytest.raises(AccountError) as refused:
            await list_users(store, Actor(name="x", role=role, agency="so-y-te"))
        assert refused.value.code == "forbidden"
    everyone = await list_users(store, Actor(name="root", role=Role.ADMIN))
    assert [user.username for user in everyone] == ["hotline1"]
    assert "password_hash" not in everyone[0].as_json()
