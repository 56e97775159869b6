"""Reconciliation: every message in the processed window has an outcome — a case, a
follow-up, ignored with a reason, or failed — and says which have none (`pakn email
reconcile`, and periodically in the service)."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pakn.store import Store, connect_store
from pakn_email import metrics
from pakn_email.imap import ImapSession
from pakn_email.parse import PoisonMail, parse_mail
from pakn_email.records import Outcome, Records
from pakn_email.settings import EmailSettings

#: The router needs a moment to write a case; younger submissions are not yet "missing".
ROUTING_GRACE = timedelta(minutes=10)


@dataclass
class Unaccounted:
    folder: str
    uid: int
    message_id: str
    why: str


@dataclass
class Summary:
    since: str
    checked: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    unaccounted: list[Unaccounted] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def message_key(raw: bytes, own: frozenset[str]) -> str:
    """The key a message's outcome is recorded under (as the mailbox worker computes it)."""
    try:
        return parse_mail(raw, own_addresses=own).message_id
    except PoisonMail:
        return f"<pakn.raw.{hashlib.sha256(raw).hexdigest()[:32]}@pakn.invalid>"


async def _why_unaccounted(
    store: Store, record: dict[str, Any] | None, folder: str, settings: EmailSettings, now: datetime
) -> str | None:
    if record is None:
        return "no outcome recorded"
    outcome = record.get("outcome")
    if outcome == Outcome.IGNORED and not record.get("reason"):
        return "ignored without a reason"
    if outcome == Outcome.FAILED:
        return None if folder == settings.imap_failed else "failed but not in the failed folder"
    if outcome in (Outcome.CASE, Outcome.FOLLOWUP):
        if folder != settings.imap_processed:
            return f"{outcome} but in {folder}"
        submission = record.get("submission_id")
        routed = await store.cases.find_one(
            {"$or": [{"submission_id": submission}, {"followups.submission_id": submission}]},
            {"_id": 1},
        )
        if routed is None and now - record["received_at"] > ROUTING_GRACE:
            return f"{outcome} submitted as {record.get('submission_code')} but no case has it"
        return None
    return None if outcome == Outcome.IGNORED else f"unknown outcome {outcome!r}"


async def reconcile(
    settings: EmailSettings, store: Store, *, now: datetime | None = None
) -> Summary:
    moment = now or datetime.now(UTC)
    since = moment - timedelta(days=settings.reconcile_window_days)
    records = Records(store)
    summary = Summary(since=since.isoformat())
    session = await ImapSession.open(settings)
    try:
        for folder in (settings.imap_processed, settings.imap_failed):
            await session.select(folder)
            for uid in await session.uids_since(since):
                fetched = await session.fetch(uid)
                if fetched is None:
                    continue
                summary.checked += 1
                key = message_key(fetched.raw, settings.own_addresses)
                record = await records.find(key)
                outcome = str(record.get("outcome")) if record else "none"
                summary.outcomes[outcome] = summary.outcomes.get(outcome, 0) + 1
                why = await _why_unaccounted(store, record, folder, settings, moment)
                if why is not None:
                    summary.unaccounted.append(Unaccounted(folder, uid, key, why))
    finally:
        await session.close()
    metrics.RECONCILE_UNACCOUNTED.set(len(summary.unaccounted))
    return summary


async def _run(settings: EmailSettings) -> int:
    store = await connect_store(settings, appname="pakn-email-reconcile")
    try:
        summary = await reconcile(settings, store)
    finally:
        await store.close()
    json.dump(summary.as_json(), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 1 if summary.unaccounted else 0


def run_command(args: argparse.Namespace) -> int:
    """`pakn email reconcile`: prints the summary as JSON; exit 1 when any is unaccounted."""
    settings = EmailSettings()
    if not settings.imap_host:
        print("pakn email reconcile: PAKN_IMAP_HOST is not set", file=sys.stderr)
        return 2
    return asyncio.run(_run(settings))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="email_command", metavar="SUBCOMMAND")
    check = sub.add_parser(
        "reconcile",
        help="check that every message of the processed window has an outcome",
    )
    check.set_defaults(func=run_command)
