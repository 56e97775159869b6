"""The MongoDB store every service shares: collections, indexes, attachments, health."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC
from typing import Any

import pymongo
from bson import ObjectId
from bson.errors import InvalidId
from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from pakn.embedded import EmbeddedStore, ensure_embedded_store
from pakn.settings import CoreSettings

log = logging.getLogger(__name__)

Document = dict[str, Any]

#: The database when the URL names none (DESIGN.md §4).
DEFAULT_DATABASE = "pakn"
#: GridFS bucket of citizens' uploads.
ATTACHMENTS_BUCKET = "attachments"
#: Short enough that a request or /healthz fails fast while the store is away.
SERVER_SELECTION_TIMEOUT_MS = 5_000
CONNECT_TIMEOUT_MS = 5_000
#: /healthz answers within this, store or no store (Store.health_timeout).
HEALTH_TIMEOUT_SECONDS = 2.0

#: How long a channel remembers it handled a case event (case_event_receipts).
RECEIPT_RETENTION_SECONDS = 180 * 24 * 3600

#: Every index the system relies on, by collection. Named, so that a changed definition
#: fails loudly at start (IndexOptionsConflict) instead of silently keeping the old one.
INDEXES: dict[str, list[IndexModel]] = {
    "intake_keys": [
        IndexModel([("tracking_code", ASCENDING)], name="tracking_code", unique=True),
    ],
    "cases": [
        IndexModel([("submission_id", ASCENDING)], name="submission_id", unique=True),
        IndexModel([("tracking_code", ASCENDING)], name="tracking_code", unique=True),
        IndexModel([("status", ASCENDING), ("received_at", ASCENDING)], name="status_received"),
        IndexModel(
            [("lead_agency", ASCENDING), ("status", ASCENDING), ("due_at", ASCENDING)],
            name="agency_status_due",
        ),
        # Multikey over accent-folded words: the search the embedded store can serve
        # (it has no text indexes) and real MongoDB serves just as well (DESIGN.md §9).
        IndexModel([("search_terms", ASCENDING)], name="search_terms"),
        # Reports (pakn.reporting): a period's cases, everyone's or one agency's (lead or co,
        # from the report facts: one multikey range instead of an $or of two indexes).
        IndexModel([("received_at", ASCENDING)], name="received"),
        IndexModel(
            [("report.agencies", ASCENDING), ("received_at", ASCENDING)],
            name="report_agencies_received",
        ),
        # The monitor's lists of one agency's cases ($or of lead, served by agency_status_due,
        # and co-agencies).
        IndexModel(
            [("co_agencies", ASCENDING), ("received_at", ASCENDING)], name="co_agencies_received"
        ),
        # The monitor's search by a contact; the hotline's history of a caller.
        IndexModel([("submitter.phone", ASCENDING)], name="submitter_phone"),
        IndexModel([("submitter.email", ASCENDING)], name="submitter_email"),
        # The router: exact repeats; follow-ups already applied (also the tracking page and
        # the mail reconciler finding a follow-up's case). Every index here has its query
        # (audited for issue 18): each one costs every case insert its entries.
        IndexModel(
            [("fingerprint", ASCENDING), ("received_at", ASCENDING)], name="fingerprint_received"
        ),
        IndexModel([("followups.submission_id", ASCENDING)], name="followup_submission"),
        # Small partial indexes: cases stored before the outbox collection with events still
        # in them (none is added: moved out at the router's start; drop once none is left),
        # and cases bounced between agencies (the monitor's list).
        IndexModel(
            [("updated_at", ASCENDING)],
            name="pending_outbox",
            partialFilterExpression={"outbox.0": {"$exists": True}},
        ),
        IndexModel(
            [("updated_at", ASCENDING)],
            name="ping_pong",
            partialFilterExpression={"ping_pong": True},
        ),
    ],
    "attachments.files": [
        # A retried submission finds its stored files; a form shown again finds held photos.
        IndexModel([("metadata.submission_id", ASCENDING)], name="submission_id", sparse=True),
        IndexModel([("metadata.token", ASCENDING)], name="kept_token", sparse=True),
    ],
    "dead_letters": [
        IndexModel([("status", ASCENDING), ("received_at", DESCENDING)], name="status_received"),
        IndexModel([("received_at", DESCENDING)], name="received_at"),
    ],
    "sessions": [
        # Each session carries its own expiry time; the server deletes it when reached.
        IndexModel([("expires_at", ASCENDING)], name="expires_at_ttl", expireAfterSeconds=0),
    ],
    "users": [
        IndexModel([("username", ASCENDING)], name="username", unique=True),
    ],
    "audit": [
        IndexModel([("at", ASCENDING)], name="at"),
    ],
    # A channel's follower of pakn.cases: one receipt per event it handled (pakn.case_events).
    "case_event_receipts": [
        IndexModel(
            [("channel", ASCENDING), ("event_id", ASCENDING)], name="channel_event", unique=True
        ),
        # Long past any redelivery or replay of a dead letter that anyone would still do.
        IndexModel(
            [("handled_at", ASCENDING)],
            name="handled_at_ttl",
            expireAfterSeconds=RECEIPT_RETENTION_SECONDS,
        ),
    ],
}


class AttachmentNotFound(LookupError):
    """No stored attachment has this reference."""


class Store:
    """One client, one database: the collections, the attachment bucket and health."""

    def __init__(
        self,
        client: AsyncMongoClient[Document],
        database: str,
        *,
        embedded: EmbeddedStore | None = None,
    ) -> None:
        self._client = client
        self._db: AsyncDatabase[Document] = client[database]
        self._gridfs = AsyncGridFSBucket(self._db, bucket_name=ATTACHMENTS_BUCKET)
        #: The embedded store behind this client, when there is one (None with a real URL).
        self.embedded = embedded
        #: How long ``health()`` waits for an answer.
        self.health_timeout = HEALTH_TIMEOUT_SECONDS

    @property
    def client(self) -> AsyncMongoClient[Document]:
        return self._client

    @property
    def db(self) -> AsyncDatabase[Document]:
        return self._db

    @property
    def cases(self) -> AsyncCollection[Document]:
        return self._db["cases"]

    @property
    def intake_keys(self) -> AsyncCollection[Document]:
        return self._db["intake_keys"]

    @property
    def users(self) -> AsyncCollection[Document]:
        return self._db["users"]

    @property
    def sessions(self) -> AsyncCollection[Document]:
        return self._db["sessions"]

    @property
    def audit(self) -> AsyncCollection[Document]:
        return self._db["audit"]

    @property
    def case_event_receipts(self) -> AsyncCollection[Document]:
        return self._db["case_event_receipts"]

    @property
    def backfills(self) -> AsyncCollection[Document]:
        """One document per backfill that finished (pakn_router.case_repository): what the
        next start need not do again."""
        return self._db["backfills"]

    @property
    def outbox(self) -> AsyncCollection[Document]:
        """Case events written before the write that makes them, one entry per write, until
        the broker confirmed them (pakn_router.case_repository): small, no index but _id."""
        return self._db["outbox"]

    @property
    def dead_letters(self) -> AsyncCollection[Document]:
        return self._db["dead_letters"]

    @property
    def gridfs(self) -> AsyncGridFSBucket:
        return self._gridfs

    async def ping(self) -> None:
        """Round-trip to the server; raises PyMongoError when it does not answer."""
        await self._db.command("ping")

    async def health(self) -> str | None:
        """None when the store answers, else a short reason for /healthz."""
        try:
            with pymongo.timeout(self.health_timeout):
                await self.ping()
        except PyMongoError as exc:
            # The full message names hosts; it goes to the log, not to the HTTP answer.
            log.warning("store health check failed: %s", exc)
            return f"store unreachable ({type(exc).__name__})"
        return None

    async def ensure_indexes(self) -> None:
        """Create the indexes in INDEXES; a no-op round-trip per collection when present."""
        await asyncio.gather(
            *(self._db[name].create_indexes(models) for name, models in INDEXES.items())
        )

    async def close(self) -> None:
        await self._client.close()

    async def put_attachment(
        self, data: bytes, *, filename: str, content_type: str, metadata: Document
    ) -> str:
        """Store an upload in GridFS; returns its reference (the file id as a string)."""
        # The GridFS spec deprecates the top-level contentType: it lives in metadata.
        file_id = await self._gridfs.upload_from_stream(
            filename, data, metadata={**metadata, "content_type": content_type}
        )
        return str(file_id)

    async def open_attachment(self, ref: str) -> tuple[bytes, Document]:
        """The bytes of an attachment and its metadata.

        The metadata is what ``put_attachment`` was given, plus ``filename``,
        ``content_type``, ``length`` and ``uploaded_at`` (UTC). Raises AttachmentNotFound.
        """
        try:
            file_id = ObjectId(ref)
        except (InvalidId, TypeError):
            raise AttachmentNotFound(ref) from None
        try:
            grid_out = await self._gridfs.open_download_stream(file_id)
        except NoFile:
            raise AttachmentNotFound(ref) from None
        data = await grid_out.read()
        info: Document = dict(grid_out.metadata or {})
        info.update(
            filename=grid_out.filename,
            content_type=info.get("content_type", "application/octet-stream"),
            length=grid_out.length,
            uploaded_at=grid_out.upload_date,
        )
        return data, info


def open_store(
    url: str,
    *,
    database: str | None = None,
    appname: str = "pakn",
    embedded: EmbeddedStore | None = None,
) -> Store:
    """A Store on ``url`` (no I/O yet); the database is ``database``, the URL's, or ``pakn``."""
    client: AsyncMongoClient[Document] = AsyncMongoClient(
        url,
        appname=appname,
        tz_aware=True,
        tzinfo=UTC,
        serverSelectionTimeoutMS=SERVER_SELECTION_TIMEOUT_MS,
        connectTimeoutMS=CONNECT_TIMEOUT_MS,
        # Acknowledged means journaled: the embedded store otherwise keeps the last
        # second of writes in memory and loses them to a kill -9, and what callers do
        # after a write (answer a citizen, ack a delivery) assumes it is kept.
        journal=True,
    )
    name = database or client.get_default_database(DEFAULT_DATABASE).name
    return Store(client, name, embedded=embedded)


async def connect_store(
    settings: CoreSettings, *, appname: str = "pakn", ensure_indexes: bool = True
) -> Store:
    """The store for this process: ``PAKN_MONGODB_URL``, else the embedded store.

    With no URL the embedded store on ``settings.db_port`` is reached or started on
    ``settings.db_dir``. Indexes are ensured unless ``ensure_indexes`` is False.
    """
    if settings.mongodb_url is not None:
        store = open_store(settings.mongodb_url.get_secret_value(), appname=appname)
    else:
        embedded = await ensure_embedded_store(settings.db_port, settings.db_dir)
        store = open_store(embedded.url, appname=appname, embedded=embedded)
    if ensure_indexes:
        try:
            await store.ensure_indexes()
        except BaseException:
            await store.close()
            raise
    return store
