"""`pakn sla`: print the deadline the router would set for a case received at a given time."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from pakn.province import ConfigError
from pakn.settings import CoreSettings
from pakn.sla import SlaPolicy
from pakn.worktime import WorkCalendar

#: Bad input (a time, a number or a category that cannot be used), as argparse does.
EXIT_USAGE = 2


def _fail(message: str) -> int:
    print(f"pakn sla: {message}", file=sys.stderr)
    return EXIT_USAGE


def run(args: argparse.Namespace) -> int:
    """Print ``due_at`` as ISO 8601 with the local offset; 2 with a message on bad input."""
    config_dir: Path = args.config_dir if args.config_dir is not None else CoreSettings().config_dir
    try:
        calendar = WorkCalendar.from_config_dir(config_dir)
    except ConfigError as exc:
        return _fail(f"cannot use {config_dir}:\n{exc}")
    tz = calendar.hours.tz
    try:
        received = datetime.fromisoformat(args.received)
    except ValueError:
        return _fail(f"--received {args.received!r} is not an ISO 8601 date and time")
    if received.tzinfo is None:
        # An operator at a shell in Khánh Hòa means local time.
        received = received.replace(tzinfo=tz)

    if args.category is not None:
        try:
            policy = SlaPolicy.from_config_dir(config_dir)
            working_days = policy.working_days_for_category(args.category)
        except ConfigError as exc:
            return _fail(f"cannot use {config_dir}:\n{exc}")
        except KeyError as exc:
            return _fail(str(exc.args[0]))
        except ValueError as exc:
            return _fail(str(exc))
    else:
        working_days = args.working_days
        if not 0 < working_days <= 366:
            return _fail(f"--working-days must be more than 0 (and at most 366): {working_days}")

    due = calendar.due_at(received, working_days)
    print(due.astimezone(tz).isoformat())
    return 0


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``pakn sla`` on the top-level subparsers."""
    sla = subparsers.add_parser(
        "sla",
        help="print the due_at the router would set (ISO 8601, +07:00)",
        description=(
            "Print the deadline of a case received at --received: N working days of office "
            "time (07:00–11:30, 13:30–17:00, working days only), as the router computes it."
        ),
    )
    sla.add_argument(
        "--received",
        required=True,
        metavar="ISO8601",
        help="when the case was received, e.g. 2026-02-13T16:00; without an offset: local time",
    )
    amount = sla.add_mutually_exclusive_group(required=True)
    amount.add_argument("--working-days", type=float, metavar="N", help="e.g. 1, 0.5, 7")
    amount.add_argument(
        "--category", metavar="CODE", help="a category code in sla.yaml, e.g. chieu-sang.den-hong"
    )
    sla.add_argument(
        "--config-dir",
        type=Path,
        default=None,
        help="province folder (default: PAKN_CONFIG_DIR or deploy/config/khanh-hoa)",
    )
    sla.set_defaults(func=run)
