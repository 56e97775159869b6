"""`pakn user`: add, disable, enable and list staff accounts, and set their passwords."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from datetime import UTC, datetime
from typing import TextIO

from pymongo.errors import PyMongoError

from pakn.auth import messages
from pakn.auth.settings import argon2_params_for
from pakn.auth.users import (
    AGENCY_ROLES,
    AccountError,
    Actor,
    Passwords,
    Role,
    User,
    agency_codes,
    create_user,
    list_users,
    normalize_username,
    set_active,
    set_password,
    unlock_logins,
)
from pakn.province import ConfigError
from pakn.settings import CoreSettings
from pakn.store import Store, connect_store

#: A refused operation (invalid, taken, unknown account) or an unreachable store.
EXIT_REFUSED = 1
#: Bad input, as argparse does.
EXIT_USAGE = 2


class _Usage(Exception):
    """The command cannot start: no password, an unreadable province folder."""


def _fail(message: str, code: int) -> int:
    print(f"pakn user: {message}", file=sys.stderr)
    return code


def read_password(args: argparse.Namespace, stdin: TextIO) -> str:
    """One line of ``stdin`` with --password-stdin (never argv: it shows in `ps`), else asked
    for twice on the terminal."""
    if args.password_stdin:
        password = stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(messages.CLI_PASSWORD_PROMPT)
        if getpass.getpass(messages.CLI_PASSWORD_AGAIN) != password:
            password = ""
    if not password:
        raise _Usage(messages.CLI_NO_PASSWORD)
    return password


def _known_agencies(settings: CoreSettings) -> frozenset[str]:
    try:
        return agency_codes(settings.config_dir)
    except ConfigError as exc:
        raise _Usage(
            messages.CLI_AGENCIES_UNREADABLE.format(path=settings.config_dir, problems=exc)
        ) from None


def _format_table(users: list[User]) -> list[str]:
    rows = [messages.CLI_LIST_HEADER]
    rows += [
        (
            user.username,
            user.role.value,
            user.agency or "-",
            messages.CLI_ACTIVE if user.active else messages.CLI_INACTIVE,
            user.display_name,
        )
        for user in users
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return ["  ".join([*(row[i].ljust(widths[i]) for i in range(4)), row[4]]) for row in rows]


async def _run(
    args: argparse.Namespace,
    store: Store,
    passwords: Passwords,
    password: str,
    known_agencies: frozenset[str] | None,
) -> int:
    actor = Actor.command_line()
    now = datetime.now(UTC)
    command: str = args.user_command
    if command == "list":
        users = await list_users(store, actor, agency=args.agency)
        for line in _format_table(users) if users else [messages.CLI_NO_USERS]:
            print(line)
        return 0
    if command == "add":
        user = await create_user(
            store,
            passwords,
            actor,
            username=args.username,
            password=password,
            role=args.role,
            agency=args.agency,
            display_name=args.display_name,
            known_agencies=known_agencies,
            now=now,
        )
        agency = f", {user.agency}" if user.agency else ""
        print(messages.CLI_USER_ADDED.format(username=user.username, role=user.role, agency=agency))
    elif command in ("disable", "enable"):
        user = await set_active(store, actor, args.username, command == "enable", now=now)
        done = messages.CLI_USER_ENABLED if command == "enable" else messages.CLI_USER_DISABLED
        print(done.format(username=user.username))
    elif command == "unlock":
        forgotten = await unlock_logins(store, actor, args.username, now=now)
        print(
            messages.CLI_USER_UNLOCKED.format(
                username=normalize_username(args.username), failures=forgotten
            )
        )
    else:
        user = await set_password(store, passwords, actor, args.username, password, now=now)
        print(messages.CLI_PASSWORD_CHANGED.format(username=user.username))
    return 0


async def execute(
    args: argparse.Namespace, settings: CoreSettings, *, stdin: TextIO | None = None
) -> int:
    """Run the parsed ``pakn user`` command against the store of ``settings``."""
    try:
        password = ""
        if args.user_command in ("add", "passwd"):
            password = read_password(args, stdin if stdin is not None else sys.stdin)
        known_agencies = None
        if args.user_command == "add" and Role(args.role) in AGENCY_ROLES:
            known_agencies = _known_agencies(settings)
    except _Usage as exc:
        return _fail(str(exc), EXIT_USAGE)
    try:
        store = await connect_store(settings, appname="pakn-user")
    except PyMongoError as exc:
        return _fail(messages.CLI_STORE_UNAVAILABLE.format(reason=type(exc).__name__), EXIT_REFUSED)
    try:
        passwords = Passwords(argon2_params_for(settings.env))
        return await _run(args, store, passwords, password, known_agencies)
    except AccountError as exc:
        return _fail(exc.message, EXIT_REFUSED)
    finally:
        await store.close()


def run(args: argparse.Namespace) -> int:
    return asyncio.run(execute(args, CoreSettings()))


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``pakn user`` on the top-level subparsers."""
    user = subparsers.add_parser(
        "user",
        help="staff accounts: hotline agents, operators, agency staff",
        description="Manage staff accounts (DESIGN.md §3). Every change is written to the "
        "audit log as cli:<your login name>.",
    )
    actions = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    roles = [role.value for role in Role]

    def password_option(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from the first line of standard input "
            "(without it, it is asked for on the terminal)",
        )

    add = actions.add_parser("add", help="create an active account")
    add.add_argument("--username", required=True, metavar="U")
    password_option(add)
    add.add_argument("--role", required=True, choices=roles)
    add.add_argument(
        "--agency", metavar="CODE", help="agency code (agencies.yaml); agency roles only"
    )
    add.add_argument("--display-name", metavar="NAME", help="default: the username")

    disable = actions.add_parser("disable", help="disable an account; its sessions end at once")
    disable.add_argument("--username", required=True, metavar="U")

    enable = actions.add_parser("enable", help="re-enable a disabled account")
    enable.add_argument("--username", required=True, metavar="U")

    unlock = actions.add_parser(
        "unlock", help="lift the login throttling of an account (after failed logins)"
    )
    unlock.add_argument("--username", required=True, metavar="U")

    passwd = actions.add_parser("passwd", help="set a new password; the account's sessions end")
    passwd.add_argument("--username", required=True, metavar="U")
    password_option(passwd)

    listing = actions.add_parser("list", help="print every account")
    listing.add_argument("--agency", metavar="CODE", help="only this agency's accounts")

    user.set_defaults(func=run)
