"""The mailbox worker: every message in the inbox becomes exactly one outcome, then is moved.

For each new UID: fetch (BODY.PEEK[], INTERNALDATE), keep the raw message, parse, submit
through the core's intake path (a follow-up when it answers one of our letters), record the
outcome, queue the acknowledgement, and only then move it to the processed folder — or to
the failed one when it cannot be read. A crash anywhere in between leaves the message in the
inbox; the next pass finds its outcome by Message-ID (or submits again under the same
Message-ID, which the intake path answers with the same tracking code), so there is never a
second case, a lost message or a second acknowledgement.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aioimaplib.aioimaplib import AioImapException
from pymongo.errors import PyMongoError

from pakn.extract import PlaceFinder
from pakn.intake import IdempotencyConflict, IntakePath, IntakeUnavailable
from pakn.schema import Channel
from pakn.store import Store
from pakn_email import messages, metrics
from pakn_email.imap import Fetched, ImapError, ImapSession
from pakn_email.outbox import Outbox, Outgoing
from pakn_email.parse import ParsedMail, PoisonMail, parse_mail
from pakn_email.records import Outcome, Records
from pakn_email.report import build_report
from pakn_email.settings import EmailSettings

log = logging.getLogger(__name__)

#: Failures that pass: the mail server, the store or the broker away for a while.
TRANSIENT = (ImapError, AioImapException, OSError, TimeoutError, IntakeUnavailable, PyMongoError)

RAW_CONTENT_TYPE = "message/rfc822"


@dataclass(frozen=True)
class Handled:
    outcome: Outcome
    folder: str
    key: str


class MailboxWorker:
    def __init__(
        self,
        settings: EmailSettings,
        store: Store,
        intake: IntakePath,
        places: PlaceFinder,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.store = store
        self.intake = intake
        self.places = places
        self.records = Records(store)
        self.outbox = Outbox(store, settings)
        self.clock = clock
        self.sessions = 0
        #: Why the mailbox is not being read now (None while it is), for /healthz.
        self.down_reason: str | None = "not connected yet"
        # Test hook for the crash test: stop (SIGSTOP) right after the broker's confirm, so the
        # test can kill the process between the confirm and the move. Only with PAKN_ENV=test.
        self._stop_after_confirm = (
            settings.env == "test" and os.environ.get("PAKN_EMAIL_TEST_STOP_AFTER_CONFIRM") == "1"
        )

    @property
    def cursor_key(self) -> str:
        return self.settings.mailbox_address

    # --- the supervised loop -------------------------------------------------------------

    async def run(self) -> None:
        """Sync, then wait (IDLE or poll) and sync again, for ever; reconnect with backoff.

        A mail server, store or broker that is away is waited for here (the message stays in
        the inbox until it can be handled); anything else escapes to the supervising loop."""
        delay = 1.0
        while True:
            try:
                session = await ImapSession.open(self.settings)
            except TRANSIENT as exc:
                self.down_reason = f"IMAP: {type(exc).__name__}: {exc}"[:200]
                log.warning("cannot open the mailbox (%s); again in %.0f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.settings.reconnect_max_backoff)
                continue
            self.sessions += 1
            if self.sessions > 1:
                metrics.IMAP_RECONNECTS.inc()
            self.down_reason = None
            try:
                while True:
                    await self.sync(session)
                    delay = 1.0
                    wait = (
                        self.settings.imap_idle_renew
                        if session.supports_idle
                        else self.settings.imap_poll_interval
                    )
                    await session.wait_for_mail(wait)
            except TRANSIENT as exc:
                self.down_reason = f"{type(exc).__name__}: {exc}"[:200]
                log.warning("mailbox pass interrupted (%s); again in %.0f s", exc, delay)
            finally:
                await session.close()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.settings.reconnect_max_backoff)

    async def health(self) -> str | None:
        """For /healthz: None while the mailbox is being read, else why not."""
        return self.down_reason

    # --- one pass --------------------------------------------------------------------------

    async def sync(self, session: ImapSession) -> int:
        """Handle every message that arrived since the last pass; returns how many."""
        state = await session.select()
        cursor = await self.records.cursor(self.cursor_key)
        last_uid = 0
        if cursor is not None and cursor.uidvalidity == state.uidvalidity:
            last_uid = cursor.last_uid
        elif cursor is not None:
            # Old UIDs mean nothing now: rescan everything; outcomes are found by Message-ID.
            log.warning(
                "UIDVALIDITY of %s changed (%d → %d): rescanning",
                self.settings.imap_mailbox,
                cursor.uidvalidity,
                state.uidvalidity,
            )
            metrics.UIDVALIDITY_CHANGES.inc()
            await self.records.reset(self.cursor_key, state.uidvalidity)
        handled = 0
        for uid in await session.uids_after(last_uid):
            fetched = await session.fetch(uid)
            if fetched is not None:
                result = await self.handle(fetched)
                await session.move(uid, result.folder)
                await self.records.mark_moved(result.key, result.folder)
                handled += 1
            await self.records.advance(self.cursor_key, state.uidvalidity, uid)
        await self._measure_lag(session)
        return handled

    async def _measure_lag(self, session: ImapSession) -> None:
        dates = await session.internaldates()
        metrics.MAILBOX_LAG.set(
            max(0.0, (self.clock() - min(dates)).total_seconds()) if dates else 0.0
        )

    # --- one message ----------------------------------------------------------------------

    async def handle(self, fetched: Fetched) -> Handled:
        """The outcome of one message (already known, or decided now) and where it goes."""
        metrics.SEEN.inc()
        try:
            mail = parse_mail(fetched.raw, own_addresses=self.settings.own_addresses)
        except PoisonMail as exc:
            return await self._poison(fetched, exc.reason)
        existing = await self.records.find(mail.message_id)
        if existing is not None:
            # Seen before: a crash before the move, or a rescan. Finish what is left.
            if existing["outcome"] in (Outcome.CASE, Outcome.FOLLOWUP):
                await self._acknowledge(existing)
            folder = (
                self.settings.imap_failed
                if existing["outcome"] == Outcome.FAILED
                else self.settings.imap_processed
            )
            return Handled(Outcome(existing["outcome"]), folder, mail.message_id)
        raw_ref = await self._keep_raw(fetched, mail.message_id)
        if mail.ignore is not None:
            await self.records.record(
                mail.message_id,
                self._fields(mail, fetched, raw_ref, Outcome.IGNORED, reason=mail.ignore.value),
            )
            metrics.IGNORED.labels(mail.ignore.value).inc()
            log.info("ignored %s: %s", mail.message_id, mail.ignore.value)
            return Handled(Outcome.IGNORED, self.settings.imap_processed, mail.message_id)
        parent = await self._existing_case(mail.thread_code)
        report = build_report(
            mail, received_at=fetched.internaldate, places=self.places, in_reply_to=parent
        )
        assert report.checked.report is not None
        try:
            accepted = await self.intake.accept(
                channel=Channel.EMAIL,
                client=self.settings.mailbox_address,
                channel_ref=mail.message_id,
                received_at=fetched.internaldate,
                report=report.checked.report,
                uploads=report.uploads,
                problems=report.problems,
            )
        except IdempotencyConflict:
            # Another message under the same Message-ID with other words: kept for a person.
            return await self._poison(fetched, "message_id_conflict")
        if self._stop_after_confirm:
            os.kill(os.getpid(), signal.SIGSTOP)
        outcome = Outcome.FOLLOWUP if parent is not None else Outcome.CASE
        fields = self._fields(mail, fetched, raw_ref, outcome)
        fields.update(
            tracking_code=parent or accepted.tracking_code,
            submission_code=accepted.tracking_code,
            submission_id=accepted.submission_id,
            requests=report.requests,
            refused=[finding.message for finding in report.refused],
            problems=[p.model_dump() for p in report.problems],
        )
        await self.records.record(mail.message_id, fields)
        (metrics.FOLLOWUPS if parent is not None else metrics.SUBMITTED).inc()
        record = await self.records.find(mail.message_id)
        assert record is not None
        await self._acknowledge(record)
        return Handled(outcome, self.settings.imap_processed, mail.message_id)

    async def _existing_case(self, code: str | None) -> str | None:
        """The tracking code a reply names, if such a report exists (else it is a new one)."""
        if code is None:
            return None
        found = await self.store.intake_keys.find_one({"tracking_code": code}, {"_id": 1})
        return code if found is not None else None

    async def _poison(self, fetched: Fetched, reason: str) -> Handled:
        key = f"<pakn.raw.{hashlib.sha256(fetched.raw).hexdigest()[:32]}@pakn.invalid>"
        if await self.records.find(key) is None:
            raw_ref = await self._keep_raw(fetched, key)
            await self.records.record(
                key,
                {
                    "outcome": Outcome.FAILED.value,
                    "reason": reason,
                    "uid": fetched.uid,
                    "received_at": fetched.internaldate,
                    "raw_ref": raw_ref,
                },
            )
            metrics.FAILED.labels(reason).inc()
            log.warning("message UID %d could not be read (%s): moved aside", fetched.uid, reason)
        return Handled(Outcome.FAILED, self.settings.imap_failed, key)

    async def _keep_raw(self, fetched: Fetched, key: str) -> str:
        return await self.store.put_attachment(
            fetched.raw,
            filename="message.eml",
            content_type=RAW_CONTENT_TYPE,
            metadata={"kind": "email_raw", "message_id": key, "uid": fetched.uid},
        )

    def _fields(
        self,
        mail: ParsedMail,
        fetched: Fetched,
        raw_ref: str,
        outcome: Outcome,
        *,
        reason: str | None = None,
    ) -> dict[str, Any]:
        return {
            "outcome": outcome.value,
            "reason": reason,
            "uid": fetched.uid,
            "received_at": fetched.internaldate,
            "raw_ref": raw_ref,
            "sender_name": mail.sender_name,
            "reply_address": mail.reply_address,
            "title": mail.title,
            "references": [f"<{ident}>" for ident in mail.references],
            "phone_known": mail.phone is not None,
        }

    async def _acknowledge(self, record: dict[str, Any]) -> None:
        """Queue the answer to a case or a follow-up (once: keyed by the message)."""
        to = record.get("reply_address")
        if not to:
            return
        public_url = self.settings.public_url
        if record["outcome"] == Outcome.FOLLOWUP:
            letter = messages.followup_acknowledgement(
                parent_code=record["tracking_code"],
                name=record.get("sender_name"),
                received_at=record["received_at"],
                public_url=public_url,
            )
        else:
            letter = messages.acknowledgement(
                tracking_code=record["tracking_code"],
                name=record.get("sender_name"),
                received_at=record["received_at"],
                title=record.get("title"),
                requests=list(record.get("requests") or []),
                public_url=public_url,
                refused_files=list(record.get("refused") or []),
                phone_known=bool(record.get("phone_known")),
            )
        references = [*record.get("references", []), record["_id"]]
        await self.outbox.enqueue(
            Outgoing(
                key=f"ack:{record['_id']}",
                kind="ack" if record["outcome"] == Outcome.CASE else "followup_ack",
                to=to,
                to_name=record.get("sender_name"),
                letter=letter,
                tracking_code=record["tracking_code"],
                in_reply_to=record["_id"],
                references=tuple(dict.fromkeys(references)),
            )
        )
