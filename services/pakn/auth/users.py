"""Staff accounts: roles, argon2id password hashes, and who may manage whose account."""

from __future__ import annotations

import asyncio
import getpass
import re
import secrets
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from pakn.auth import audit, messages
from pakn.auth.sessions import end_user_sessions
from pakn.auth.settings import MIN_PASSWORD_LENGTH, Argon2Params
from pakn.province import load_model
from pakn.store import Store
from pakn.territory import AGENCIES_FILE, AgenciesFile


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    HOTLINE_AGENT = "hotline_agent"
    AGENCY_STAFF = "agency_staff"
    #: Approves the agency's answers (DESIGN.md §3).
    AGENCY_LEADER = "agency_leader"
    AGENCY_ADMIN = "agency_admin"


#: Roles that belong to one agency (and only they carry an agency code).
AGENCY_ROLES = frozenset({Role.AGENCY_STAFF, Role.AGENCY_LEADER, Role.AGENCY_ADMIN})

#: 3–64 characters of a-z, 0-9 and . _ -; letters or digits at both ends.
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}[a-z0-9]$")
MAX_DISPLAY_NAME = 100


class AccountError(Exception):
    """An account operation refused; ``code`` for programs, ``message`` in Vietnamese."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


#: Codes of AccountError that mean "not allowed" rather than "not valid".
DENIED_CODES = frozenset({"forbidden", "self"})


def normalize_username(text: str) -> str:
    """How a username is stored and looked up: ``An.Nguyen `` and ``an.nguyen`` are one."""
    return text.strip().lower()


@dataclass(frozen=True, slots=True)
class User:
    """A staff account as the application sees it (never with its password hash)."""

    id: ObjectId
    username: str
    display_name: str
    role: Role
    agency: str | None
    active: bool
    created_at: datetime

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> User:
        return cls(
            id=doc["_id"],
            username=doc["username"],
            display_name=doc["display_name"],
            role=Role(doc["role"]),
            agency=doc.get("agency"),
            active=bool(doc.get("active")),
            created_at=doc["created_at"],
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role.value,
            "agency": self.agency,
            "active": self.active,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class Actor:
    """Who acts on accounts, and from where: for the permission check and the audit log."""

    name: str
    #: None for the system itself: `pakn user` run by someone with a shell on the server.
    role: Role | None
    agency: str | None = None
    user_id: ObjectId | None = None
    ip: str | None = None
    user_agent: str | None = None
    service: str | None = None

    @classmethod
    def command_line(cls) -> Actor:
        try:
            who = getpass.getuser()
        except (OSError, KeyError):  # a container user with no passwd entry and no $USER
            who = "unknown"
        return cls(name=f"cli:{who}", role=None, service="cli")

    @classmethod
    def staff(
        cls, user: User, *, ip: str | None, user_agent: str | None, service: str | None
    ) -> Actor:
        return cls(
            name=user.username,
            role=user.role,
            agency=user.agency,
            user_id=user.id,
            ip=ip,
            user_agent=user_agent,
            service=service,
        )


# --- pure rules -----------------------------------------------------------------------------


def may_manage(actor: Actor, role: Role, agency: str | None) -> bool:
    """Whether ``actor`` may create or change an account with this role and agency.

    Administrators (and the command line) manage everyone; an agency administrator manages
    the agency accounts of their own agency and nothing else; other roles manage nobody.
    """
    if actor.role is None or actor.role is Role.ADMIN:
        return True
    if actor.role is Role.AGENCY_ADMIN:
        return role in AGENCY_ROLES and agency is not None and agency == actor.agency
    return False


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        roles = ", ".join(role.value for role in Role)
        raise AccountError(
            "invalid_role", messages.ROLE_INVALID.format(role=value, roles=roles)
        ) from None


def check_username(text: str) -> str:
    username = normalize_username(text)
    if not USERNAME.fullmatch(username):
        raise AccountError("invalid_username", messages.USERNAME_INVALID)
    return username


def check_display_name(text: str) -> str:
    name = " ".join(text.split())
    if not 1 <= len(name) <= MAX_DISPLAY_NAME:
        raise AccountError("invalid_display_name", messages.DISPLAY_NAME_INVALID)
    return name


def check_agency(role: Role, agency: str | None, known: Collection[str] | None) -> str | None:
    """The agency an account with ``role`` carries: required for agency roles, else none."""
    agency = agency.strip() if agency else None
    if role in AGENCY_ROLES:
        if not agency:
            raise AccountError("agency_required", messages.AGENCY_REQUIRED)
        if known is not None and agency not in known:
            raise AccountError("unknown_agency", messages.AGENCY_UNKNOWN.format(agency=agency))
        return agency
    if agency:
        raise AccountError("agency_not_allowed", messages.AGENCY_NOT_ALLOWED)
    return None


def agency_codes(config_dir: Path) -> frozenset[str]:
    """The agency codes of the province folder (ConfigError when the file cannot be used)."""
    return frozenset(a.code for a in load_model(config_dir / AGENCIES_FILE, AgenciesFile).agencies)


def _forbidden() -> AccountError:
    return AccountError("forbidden", messages.NOT_YOUR_ACCOUNTS)


# --- password hashing -----------------------------------------------------------------------


class Passwords:
    """Argon2id hashing off the event loop, bounded so a login burst cannot exhaust memory."""

    def __init__(
        self,
        params: Argon2Params,
        *,
        min_length: int = MIN_PASSWORD_LENGTH,
        max_length: int = 1024,
        concurrency: int = 4,
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=params.time_cost,
            memory_cost=params.memory_cost,
            parallelism=params.parallelism,
            hash_len=32,
            salt_len=16,
            type=Type.ID,
        )
        self.min_length = min_length
        self.max_length = max_length
        self._slots = asyncio.Semaphore(concurrency)
        self._dummy: str | None = None

    def check_policy(self, password: str) -> None:
        """Length only (NIST SP 800-63B): composition rules make passwords worse, not better."""
        if len(password) < self.min_length:
            raise AccountError(
                "weak_password", messages.PASSWORD_TOO_SHORT.format(minimum=self.min_length)
            )
        if len(password) > self.max_length:
            raise AccountError(
                "weak_password", messages.PASSWORD_TOO_LONG.format(maximum=self.max_length)
            )

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches; with no hash (no such user) a dummy one is checked
        all the same, so the answer takes as long whether the account exists or not."""
        if stored_hash is None:
            if self._dummy is None:
                self._dummy = await self.hash(secrets.token_urlsafe(16))
            stored_hash = self._dummy
        if len(password) > self.max_length:
            password = ""  # no account has an empty password: a plain mismatch
        async with self._slots:
            try:
                return await asyncio.to_thread(self._hasher.verify, stored_hash, password)
            except (VerificationError, InvalidHashError):
                return False

    def needs_rehash(self, stored_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True


# --- the store ------------------------------------------------------------------------------


async def get_user(store: Store, user_id: ObjectId) -> User | None:
    doc = await store.users.find_one({"_id": user_id}, {"password_hash": 0})
    return User.from_document(doc) if doc is not None else None


async def find_user(store: Store, username: str) -> User | None:
    doc = await store.users.find_one(
        {"username": normalize_username(username)}, {"password_hash": 0}
    )
    return User.from_document(doc) if doc is not None else None


FailureReason = Literal["unknown_user", "bad_password", "disabled"]


@dataclass(frozen=True)
class Authentication:
    """The outcome of checking a username and password (the reason is for the audit only)."""

    user: User | None
    failure: FailureReason | None

    @property
    def ok(self) -> bool:
        return self.failure is None


async def authenticate(
    store: Store, passwords: Passwords, username: str, password: str
) -> Authentication:
    """Check credentials. A disabled account is checked in full too: timing says nothing."""
    doc = await store.users.find_one({"username": normalize_username(username)})
    stored = doc.get("password_hash") if doc is not None else None
    matches = await passwords.verify(stored, password)
    if doc is None:
        return Authentication(None, "unknown_user")
    user = User.from_document(doc)
    if not matches:
        return Authentication(user, "bad_password")
    if not user.active:
        return Authentication(user, "disabled")
    if stored is not None and passwords.needs_rehash(stored):
        # The cost parameters were raised since this hash was made: upgrade it now that we
        # hold the password, unless it was changed meanwhile.
        await store.users.update_one(
            {"_id": user.id, "password_hash": stored},
            {"$set": {"password_hash": await passwords.hash(password)}},
        )
    return Authentication(user, None)


async def _record(
    store: Store,
    actor: Actor,
    action: str,
    outcome: audit.Outcome,
    target: str,
    now: datetime,
    detail: dict[str, audit.DetailValue],
) -> None:
    await audit.record(
        store,
        audit.AuditEntry(
            at=now,
            action=action,
            outcome=outcome,
            actor=actor.name,
            role=actor.role.value if actor.role is not None else None,
            agency=actor.agency,
            target=target,
            ip=actor.ip,
            user_agent=actor.user_agent,
            service=actor.service,
            detail=detail,
        ),
    )


@asynccontextmanager
async def _audited_refusal(
    store: Store, actor: Actor, action: str, target: str, now: datetime
) -> AsyncIterator[None]:
    """Write a refused account operation to the audit log, then let the refusal through."""
    try:
        yield
    except AccountError as exc:
        outcome: audit.Outcome = "denied" if exc.code in DENIED_CODES else "failure"
        await _record(store, actor, action, outcome, target, now, {"code": exc.code})
        raise


async def _document(store: Store, username: str) -> dict[str, Any]:
    doc = await store.users.find_one({"username": normalize_username(username)})
    if doc is None:
        raise AccountError(
            "not_found", messages.USER_NOT_FOUND.format(username=normalize_username(username))
        )
    return doc


async def create_user(
    store: Store,
    passwords: Passwords,
    actor: Actor,
    *,
    username: str,
    password: str,
    role: str,
    agency: str | None = None,
    display_name: str | None = None,
    known_agencies: Collection[str] | None = None,
    now: datetime,
) -> User:
    """Create an active account. AccountError when invalid, taken or not the actor's to make."""
    async with _audited_refusal(store, actor, audit.USER_CREATE, username, now):
        name = check_username(username)
        account_role = parse_role(role)
        account_agency = check_agency(account_role, agency, known_agencies)
        if not may_manage(actor, account_role, account_agency):
            raise _forbidden()
        display = check_display_name(display_name if display_name is not None else name)
        passwords.check_policy(password)
        doc: dict[str, Any] = {
            "username": name,
            "display_name": display,
            "role": account_role.value,
            "agency": account_agency,
            "active": True,
            "password_hash": await passwords.hash(password),
            "created_at": now,
            "created_by": actor.name,
            "updated_at": now,
            "password_changed_at": now,
        }
        try:
            result = await store.users.insert_one(doc)
        except DuplicateKeyError:
            raise AccountError(
                "username_taken", messages.USERNAME_TAKEN.format(username=name)
            ) from None
    doc["_id"] = result.inserted_id
    user = User.from_document(doc)
    await _record(
        store,
        actor,
        audit.USER_CREATE,
        "success",
        name,
        now,
        {"role": account_role.value, "agency": account_agency},
    )
    return user


async def set_active(
    store: Store, actor: Actor, username: str, active: bool, *, now: datetime
) -> User:
    """Disable (ending every session at once) or re-enable an account."""
    action = audit.USER_ENABLE if active else audit.USER_DISABLE
    ended = 0
    async with _audited_refusal(store, actor, action, username, now):
        target = User.from_document(await _document(store, username))
        if not may_manage(actor, target.role, target.agency):
            raise _forbidden()
        if actor.user_id == target.id:
            raise AccountError("self", messages.NOT_YOURSELF)
        changes: dict[str, Any] = {"active": active, "updated_at": now}
        if not active:
            changes["disabled_at"] = now
        updated = await store.users.find_one_and_update(
            {"_id": target.id},
            {"$set": changes},
            projection={"password_hash": 0},
            return_document=ReturnDocument.AFTER,
        )
        if not active:
            ended = await end_user_sessions(store, target.id)
    await _record(store, actor, action, "success", target.username, now, {"sessions": ended})
    return User.from_document(updated) if updated is not None else target


async def unlock_logins(store: Store, actor: Actor, username: str, *, now: datetime) -> int:
    """Lift the login throttling of an account (an admin's unlock): the failures forgotten."""
    # Imported here: the throttle names accounts with this module's normalize_username.
    from pakn.auth.throttle import unlock_account

    async with _audited_refusal(store, actor, audit.USER_UNLOCK, username, now):
        target = User.from_document(await _document(store, username))
        if not may_manage(actor, target.role, target.agency):
            raise _forbidden()
        forgotten = await unlock_account(store, target.username)
    await _record(
        store, actor, audit.USER_UNLOCK, "success", target.username, now, {"failures": forgotten}
    )
    return forgotten


async def set_password(
    store: Store, passwords: Passwords, actor: Actor, username: str, password: str, *, now: datetime
) -> User:
    """Set a new password and end the account's sessions (whoever knew the old one is out)."""
    async with _audited_refusal(store, actor, audit.USER_PASSWORD, username, now):
        target = User.from_document(await _document(store, username))
        if not may_manage(actor, target.role, target.agency):
            raise _forbidden()
        passwords.check_policy(password)
        await store.users.update_one(
            {"_id": target.id},
            {
                "$set": {
                    "password_hash": await passwords.hash(password),
                    "password_changed_at": now,
                    "updated_at": now,
                }
            },
        )
        ended = await end_user_sessions(store, target.id)
    await _record(
        store, actor, audit.USER_PASSWORD, "success", target.username, now, {"sessions": ended}
    )
    return target


async def change_role(
    store: Store,
    actor: Actor,
    username: str,
    role: str,
    agency: str | None = None,
    *,
    known_agencies: Collection[str] | None = None,
    now: datetime,
) -> User:
    """Give an account another role (and agency: by default the one it has); its sessions
    see the change at their next request."""
    async with _audited_refusal(store, actor, audit.USER_ROLE, username, now):
        target = User.from_document(await _document(store, username))
        if not may_manage(actor, target.role, target.agency):
            raise _forbidden()
        new_role = parse_role(role)
        if agency is None and new_role in AGENCY_ROLES:
            agency = target.agency  # staff promoted to their agency's administrator, say
        new_agency = check_agency(new_role, agency, known_agencies)
        if not may_manage(actor, new_role, new_agency):
            raise _forbidden()
        if actor.user_id == target.id:
            raise AccountError("self", messages.NOT_YOURSELF)
        updated = await store.users.find_one_and_update(
            {"_id": target.id},
            {"$set": {"role": new_role.value, "agency": new_agency, "updated_at": now}},
            projection={"password_hash": 0},
            return_document=ReturnDocument.AFTER,
        )
    await _record(
        store,
        actor,
        audit.USER_ROLE,
        "success",
        target.username,
        now,
        {
            "from_role": target.role.value,
            "from_agency": target.agency,
            "role": new_role.value,
            "agency": new_agency,
        },
    )
    return User.from_document(updated) if updated is not None else target


async def list_users(store: Store, actor: Actor, *, agency: str | None = None) -> list[User]:
    """The accounts ``actor`` may see: all for administrators, their own agency's otherwise."""
    if actor.role is Role.AGENCY_ADMIN:
        if agency is not None and agency != actor.agency:
            raise _forbidden()
        agency = actor.agency
    elif actor.role is not None and actor.role is not Role.ADMIN:
        raise _forbidden()
    query: dict[str, Any] = {} if agency is None else {"agency": agency}
    docs = await store.users.find(query, {"password_hash": 0}).sort("username", 1).to_list()
    return [User.from_document(doc) for doc in docs]
