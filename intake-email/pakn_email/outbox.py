"""Outgoing mail kept in MongoDB and sent with retry and backoff, so SMTP never blocks intake.

Every letter is written to ``email_outbox`` under a key that says why it exists (the message
it answers, or the case event it reports), so writing it twice keeps one letter. A sender
loop takes the letters that are due, sends them with aiosmtplib and marks them sent; a failed
try is tried again later with a growing pause, a permanent refusal (5xx) is recorded.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import aiosmtplib
from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from pakn.store import Store
from pakn_email import metrics
from pakn_email.messages import SENDER_NAME, Letter
from pakn_email.parse import ack_message_id
from pakn_email.settings import EmailSettings

log = logging.getLogger(__name__)

OUTBOX = "email_outbox"
BATCH = 50
FIRST_BACKOFF = 5.0


@dataclass(frozen=True)
class Outgoing:
    key: str
    kind: str
    to: str
    to_name: str | None
    letter: Letter
    tracking_code: str
    #: The citizen's message this answers, and the thread so far (for In-Reply-To/References).
    in_reply_to: str | None
    references: tuple[str, ...]
    #: auto-replied for answers to a mail, auto-generated for news of a case (RFC 3834).
    auto_submitted: str = "auto-replied"


def backoff(attempts: int, maximum: float) -> float:
    """Seconds before try ``attempts + 1``: 5 s, 10 s, 20 s … up to ``maximum``."""
    return float(min(FIRST_BACKOFF * 2 ** max(attempts - 1, 0), maximum))


def domain_of(address: str) -> str:
    return address.rpartition("@")[2] or "localhost"


class Outbox:
    def __init__(self, store: Store, settings: EmailSettings) -> None:
        self.store = store
        self.settings = settings
        self.collection = store.db[OUTBOX]

    async def ensure_indexes(self) -> None:
        await self.collection.create_index(
            [("state", ASCENDING), ("next_at", ASCENDING)], name="due"
        )
        await self.collection.create_index([("tracking_code", ASCENDING)], name="tracking_code")

    async def enqueue(self, item: Outgoing, *, now: datetime | None = None) -> bool:
        """Keep the letter for sending; False when a letter with this key exists already."""
        moment = now or datetime.now(UTC)
        message_id = ack_message_id(
            item.tracking_code, secrets.token_hex(8), domain_of(self.settings.smtp_from)
        )
        document: dict[str, Any] = {
            "_id": item.key,
            "kind": item.kind,
            "to": item.to,
            "to_name": item.to_name,
            "subject": item.letter.subject,
            "text": item.letter.text,
            "tracking_code": item.tracking_code,
            "message_id": message_id,
            "in_reply_to": item.in_reply_to,
            "references": list(item.references),
            "auto_submitted": item.auto_submitted,
            "state": "pending",
            "attempts": 0,
            "next_at": moment,
            "created_at": moment,
            "last_error": None,
            "sent_at": None,
        }
        try:
            await self.collection.insert_one(document)
        except DuplicateKeyError:
            return False
        return True

    def build(self, document: dict[str, Any]) -> EmailMessage:
        message = EmailMessage()
        sender = self.settings.smtp_from
        message["From"] = Address(SENDER_NAME, addr_spec=sender)
        message["To"] = (
            Address(document["to_name"], addr_spec=document["to"])
            if document.get("to_name")
            else document["to"]
        )
        message["Subject"] = document["subject"]
        message["Date"] = format_datetime(document["created_at"].astimezone(UTC))
        message["Message-ID"] = document["message_id"]
        if document.get("in_reply_to"):
            message["In-Reply-To"] = document["in_reply_to"]
        if document.get("references"):
            message["References"] = " ".join(document["references"])
        # RFC 3834: tells the citizen's client (and its vacation responder) not to answer.
        message["Auto-Submitted"] = document.get("auto_submitted") or "auto-replied"
        message["X-Auto-Response-Suppress"] = "All"
        message["Content-Language"] = "vi"
        message.set_content(document["text"])
        return message

    async def _send(self, message: EmailMessage) -> None:
        settings = self.settings
        assert settings.smtp_host is not None
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_user,
            password=(
                settings.smtp_password.get_secret_value() if settings.smtp_password else None
            ),
            use_tls=settings.smtp_tls == "tls",
            start_tls=settings.smtp_tls == "starttls",
            tls_context=settings.tls_context() if settings.smtp_tls != "none" else None,
            timeout=settings.smtp_timeout,
        )

    async def send_due(self, *, now: datetime | None = None) -> int:
        """Send what is due; returns how many were sent. Never raises for one bad letter."""
        if not self.settings.smtp_host:
            return 0
        moment = now or datetime.now(UTC)
        sent = 0
        due = self.collection.find({"state": "pending", "next_at": {"$lte": moment}}).sort(
            "next_at", ASCENDING
        )
        for document in await due.to_list(BATCH):
            kind = str(document.get("kind", "other")).partition(":")[0]
            try:
                await self._send(self.build(document))
            except aiosmtplib.SMTPRecipientsRefused as exc:
                await self._rejected(document, f"recipient refused: {exc}"[:300], kind)
                continue
            except aiosmtplib.SMTPResponseException as exc:
                if 500 <= exc.code < 600:
                    await self._rejected(document, f"{exc.code} {exc.message}"[:300], kind)
                else:
                    await self._retry(document, f"{exc.code} {exc.message}"[:300], kind)
                continue
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                await self._retry(document, f"{type(exc).__name__}: {exc}"[:300], kind)
                # The server is down: the rest would fail the same way.
                break
            await self.collection.update_one(
                {"_id": document["_id"]},
                {"$set": {"state": "sent", "sent_at": datetime.now(UTC), "last_error": None}},
            )
            metrics.ACKS_SENT.labels(kind).inc()
            log.info("sent %s for %s", document["_id"], document["tracking_code"])
            sent += 1
        metrics.OUTBOX_PENDING.set(await self.collection.count_documents({"state": "pending"}))
        return sent

    async def _retry(self, document: dict[str, Any], error: str, kind: str) -> None:
        attempts = int(document.get("attempts", 0)) + 1
        pause = backoff(attempts, self.settings.outbox_max_backoff)
        await self.collection.update_one(
            {"_id": document["_id"]},
            {
                "$set": {
                    "attempts": attempts,
                    "last_error": error,
                    "next_at": datetime.now(UTC) + timedelta(seconds=pause),
                }
            },
        )
        metrics.ACKS_FAILED.labels(kind).inc()
        log.warning(
            "sending %s failed (try %d, next in %.0f s): %s",
            document["_id"],
            attempts,
            pause,
            error,
        )

    async def _rejected(self, document: dict[str, Any], error: str, kind: str) -> None:
        await self.collection.update_one(
            {"_id": document["_id"]},
            {"$set": {"state": "rejected", "last_error": error}},
        )
        metrics.ACKS_REJECTED.labels(kind).inc()
        log.warning("the mail server refused %s for good: %s", document["_id"], error)

    async def thread_of(self, tracking_code: str) -> list[str]:
        """Message-IDs of the letters already sent about a case, oldest first."""
        cursor = self.collection.find({"tracking_code": tracking_code}, {"message_id": 1}).sort(
            "created_at", ASCENDING
        )
        return [doc["message_id"] for doc in await cursor.to_list(20)]
