"""Dead letters: drained from ``pakn.dead.q`` into the store, shown, replayed or discarded.

Each message is stored (idempotently: the same message dead at the same moment is one record),
then acked; a body too large to sit in the record (a document holds 16 MB) is kept in GridFS
and the record keeps its size, hash and a preview; a store outage holds the delivery and
retries, never requeues it. Nothing leaves the store except by an operator's action, and
even a discarded letter stays, marked.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aio_pika.abc import AbstractIncomingMessage
from gridfs import AsyncGridFSBucket
from pymongo import DESCENDING, IndexModel, ReturnDocument
from pymongo.errors import PyMongoError

from pakn.bus import (
    DEAD_EXCHANGE,
    DEAD_QUEUE,
    HEADER_DEAD_AT,
    HEADER_ERROR,
    HEADER_ORIGINAL_EXCHANGE,
    HEADER_ORIGINAL_ROUTING_KEY,
    HEADER_STAGE,
    TOPOLOGY,
    Bus,
    BusError,
    Consumer,
    delivery_channel_closed,
)
from pakn.store import Store
from pakn_router.monitor import messages as t

log = logging.getLogger(__name__)

STATUSES = ("new", "replayed", "discarded")
#: Set on a replayed message, so a letter that dies again links to the one it came from.
HEADER_REPLAYED_FROM = "x-pakn-replayed-from"
#: Headers that describe a death, not the message: not sent again on replay.
_DEATH_HEADER_PREFIXES = ("x-pakn-", "x-death", "x-first-death-", "x-last-death-")
#: Exchanges a letter may be replayed to: where messages come from, never the dead end.
REPLAYABLE_EXCHANGES = frozenset(e.name for e in TOPOLOGY.exchanges) - {DEAD_EXCHANGE}

#: Bodies above this are kept in GridFS, not in the record: a poison message of any size is
#: kept and acked, and the monitor's lists stay light.
INLINE_BODY_LIMIT = 1024**2
#: What the record keeps of an outsized body, for the monitor.
PREVIEW_BYTES = 4096
BODY_BUCKET = "dead_letter_bodies"

INDEXES = [
    IndexModel([("status", 1), ("received_at", DESCENDING)], name="status_received"),
    IndexModel([("received_at", DESCENDING)], name="received_at"),
]


class DeadLetterError(Exception):
    """A replay or discard refused: HTTP ``status``, a ``code``, a Vietnamese ``message``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def as_json(self) -> dict[str, str]:
        return {"error": self.code, "message": self.message}


# --- what a dead letter is (pure) -----------------------------------------------------------


@dataclass(frozen=True)
class Delivered:
    """The parts of a delivery from ``pakn.dead.q`` that make a dead letter."""

    body: bytes
    headers: Mapping[str, Any]
    message_id: str | None = None
    correlation_id: str | None = None
    content_type: str | None = None
    app_id: str | None = None
    routing_key: str | None = None

    @classmethod
    def from_message(cls, message: AbstractIncomingMessage) -> Delivered:
        return cls(
            body=message.body,
            headers=dict(message.headers or {}),
            message_id=message.message_id,
            correlation_id=message.correlation_id,
            content_type=message.content_type,
            app_id=message.app_id,
            routing_key=message.routing_key,
        )


def plain(value: Any) -> Any:
    """A header value as the store and JSON can keep it (AMQP tables hold bytes, decimals)."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return "base64:" + base64.b64encode(value).decode("ascii")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, Mapping):
        return {_key(str(k)): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


def _key(name: str) -> str:
    # Field names may not start with "$" nor contain "." in every MongoDB version.
    return name.replace(".", "_").lstrip("$") or "_"


def _text(value: Any) -> str | None:
    value = plain(value)
    return str(value) if value not in (None, "") else None


def _parse_time(value: Any, default: datetime) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, bytes | str):
        try:
            parsed = datetime.fromisoformat(plain(value))
        except ValueError:
            return default
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return default


def dead_letter_id(message_id: str | None, dead_at: datetime, body: bytes) -> str:
    """The same message dead at the same moment is one letter, however often it is delivered."""
    who = message_id or "sha256:" + hashlib.sha256(body).hexdigest()
    stamp = dead_at.astimezone(UTC).isoformat(timespec="milliseconds")
    return hashlib.sha256(f"{who}\x1f{stamp}".encode()).hexdigest()[:24]


def _submission_keys(body: bytes) -> dict[str, str]:
    """The submission's id and tracking code when the body still says them (for search)."""
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(parsed, dict):
        return {}
    found = {}
    for name, limit in (("submission_id", 100), ("tracking_code", 10)):
        value = parsed.get(name)
        if isinstance(value, str) and 0 < len(value) <= limit:
            found[name] = value
    return found


def describe(delivered: Delivered, now: datetime) -> dict[str, Any]:
    """The stored record of a dead letter: why, where from, when, and the message itself.

    Two sources: the router's own (reason in ``x-pakn-*`` headers) and the broker's
    (``x-death``, e.g. the delivery limit of ``router.submissions`` reached in a crash loop).
    """
    headers = delivered.headers
    error = _text(headers.get(HEADER_ERROR))
    if error is not None:
        source = "router"
        reason = error
        stage = _text(headers.get(HEADER_STAGE)) or "unknown"
        exchange = _text(headers.get(HEADER_ORIGINAL_EXCHANGE))
        routing_key = _text(headers.get(HEADER_ORIGINAL_ROUTING_KEY))
        queue = None
        dead_at = _parse_time(headers.get(HEADER_DEAD_AT), now)
    else:
        source = "broker"
        deaths = headers.get("x-death")
        death: Mapping[str, Any] = (
            deaths[0]
            if isinstance(deaths, list) and deaths and isinstance(deaths[0], Mapping)
            else {}
        )
        why = _text(headers.get("x-first-death-reason")) or _text(death.get("reason"))
        queue = _text(headers.get("x-first-death-queue")) or _text(death.get("queue"))
        reason = f"dead-lettered by the broker: {why or 'unknown'}" + (
            f" (queue {queue})" if queue else ""
        )
        stage = "broker"
        exchange = _text(headers.get("x-first-death-exchange")) or _text(death.get("exchange"))
        keys = death.get("routing-keys")
        routing_key = _text(keys[0]) if isinstance(keys, list) and keys else None
        dead_at = _parse_time(death.get("time"), now)
    body = delivered.body
    letter_id = dead_letter_id(delivered.message_id, dead_at, body)
    preview: str | None = None
    text: str | None
    if len(body) > INLINE_BODY_LIMIT:
        text, encoding = None, "gridfs"
        preview = body[:PREVIEW_BYTES].decode("utf-8", errors="replace")
    else:
        try:
            text, encoding = body.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = base64.b64encode(body).decode("ascii"), "base64"
    return {
        "_id": letter_id,
        "status": "new",
        "received_at": now,
        "dead_at": dead_at,
        "source": source,
        "reason": reason,
        "stage": stage,
        "exchange": exchange,
        "routing_key": routing_key or delivered.routing_key,
        "queue": queue,
        "message_id": delivered.message_id,
        "correlation_id": delivered.correlation_id,
        "content_type": delivered.content_type,
        "app_id": delivered.app_id,
        "headers": plain(headers),
        "body": text,
        "body_encoding": encoding,
        "body_preview": preview,
        "body_size": len(body),
        "body_sha256": hashlib.sha256(body).hexdigest(),
        "replayed_from": _text(headers.get(HEADER_REPLAYED_FROM)),
        "replays": 0,
        "history": [],
        **_submission_keys(body),
    }


def original_body(letter: Mapping[str, Any]) -> bytes:
    """The message as it arrived, for a body kept in the record (see ``letter_body``)."""
    body = letter.get("body") or ""
    if letter.get("body_encoding") == "base64":
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return b""
    return str(body).encode("utf-8")


def replay_headers(letter: Mapping[str, Any]) -> dict[str, Any]:
    """The message's own headers, without the record of its death, marked as a replay."""
    headers = {
        name: value
        for name, value in (letter.get("headers") or {}).items()
        if not name.startswith(_DEATH_HEADER_PREFIXES)
    }
    headers[HEADER_REPLAYED_FROM] = letter["_id"]
    return headers


# --- the consumer ---------------------------------------------------------------------------


def _bodies(store: Store) -> AsyncGridFSBucket:
    return AsyncGridFSBucket(store.db, bucket_name=BODY_BUCKET)


async def letter_body(store: Store, letter: Mapping[str, Any]) -> bytes:
    """The message as it arrived, wherever its body is kept."""
    if letter.get("body_encoding") != "gridfs":
        return original_body(letter)
    stream = await _bodies(store).open_download_stream(letter["_id"])
    return await stream.read()


async def ensure_indexes(store: Store) -> None:
    await store.dead_letters.create_indexes(INDEXES)


async def keep(store: Store, letter: Mapping[str, Any], body: bytes | None = None) -> bool:
    """Store ``letter`` unless it is there already; True when it is new.

    An outsized ``body`` goes to GridFS first, under the letter's id, so the record never
    points at a body that is not there; a redelivery finds it and does not store it twice.
    """
    if letter.get("body_encoding") == "gridfs":
        if body is None:
            raise ValueError("an outsized dead letter needs its body")
        files = store.db[f"{BODY_BUCKET}.files"]
        if await files.find_one({"_id": letter["_id"]}, {"_id": 1}) is None:
            await _bodies(store).upload_from_stream_with_id(
                letter["_id"], str(letter["_id"]), body, metadata={"sha256": letter["body_sha256"]}
            )
    result = await store.dead_letters.update_one(
        {"_id": letter["_id"]}, {"$setOnInsert": dict(letter)}, upsert=True
    )
    return result.upserted_id is not None


class DeadLetterKeeper:
    """Drains ``pakn.dead.q`` into ``dead_letters``: store, then ack; hold while the store is
    away (a requeue would count against the quorum queue's delivery limit)."""

    def __init__(
        self,
        store: Store,
        bus: Bus,
        *,
        clock: Callable[[], datetime],
        on_new: Callable[[Mapping[str, Any]], None] | None = None,
        prefetch: int = 20,
    ) -> None:
        self.store = store
        self.bus = bus
        self.clock = clock
        self.on_new = on_new
        self.prefetch = prefetch
        self.last_error: str | None = None
        self._consumer: Consumer | None = None
        self._inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()

    async def start(self) -> None:
        await ensure_indexes(self.store)
        self._consumer = await self.bus.consume(DEAD_QUEUE, self._inbox.put, prefetch=self.prefetch)

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.cancel()
            self._consumer = None

    async def health(self) -> str | None:
        return self.last_error

    async def run(self) -> None:
        """Keep each dead letter as it comes; run under supervision (pakn.loops)."""
        while True:
            await self._handle(await self._inbox.get())

    async def _handle(self, message: AbstractIncomingMessage) -> None:
        delivered = Delivered.from_message(message)
        letter = describe(delivered, self.clock())
        backoff = 0.2
        while True:
            try:
                new = await keep(self.store, letter, delivered.body)
                self.last_error = None
                break
            except PyMongoError as exc:
                self.last_error = f"dead letters not stored: {type(exc).__name__}"
                if delivery_channel_closed(message):
                    return  # the broker has it back and delivers it again
                log.warning("dead letter %s not stored, retrying: %s", letter["_id"], exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 15.0)
        log.error(
            "dead letter %s kept (%s at %s, message %s)",
            letter["_id"],
            letter["source"],
            letter["stage"],
            letter["message_id"],
        )
        try:
            await message.ack()
        except Exception as exc:  # the channel died: redelivered, and keep() is idempotent
            log.warning("ack of dead letter %s failed: %s", letter["_id"], exc)
        if new and self.on_new is not None:
            self.on_new(letter)


# --- operators' actions ---------------------------------------------------------------------


async def list_letters(
    store: Store, *, status: str | None = "new", limit: int = 100, skip: int = 0
) -> list[dict[str, Any]]:
    """Dead letters, newest first (``status`` None: all)."""
    query = {} if status is None else {"status": status}
    cursor = store.dead_letters.find(query).sort("received_at", DESCENDING).skip(skip).limit(limit)
    return [doc async for doc in cursor]


async def count_new(store: Store) -> int:
    return await store.dead_letters.count_documents({"status": "new"})


async def get_letter(store: Store, letter_id: str) -> dict[str, Any] | None:
    return await store.dead_letters.find_one({"_id": letter_id})


async def replay(
    store: Store, bus: Bus, letter_id: str, *, actor: str, now: datetime, publish_timeout: float
) -> dict[str, Any]:
    """Publish the original message to where it first went (confirmed), then mark it.

    Publish first: a crash in between leaves it unmarked, and replaying it again is harmless
    (the router keys everything by ``submission_id``); the opposite order could lose it.
    """
    letter = await get_letter(store, letter_id)
    if letter is None:
        raise DeadLetterError(404, "not_found", t.DEAD_LETTER_NOT_FOUND)
    if letter["status"] == "discarded":
        raise DeadLetterError(409, "discarded", t.ALREADY_DISCARDED)
    exchange, routing_key = letter.get("exchange"), letter.get("routing_key")
    if not exchange or exchange not in REPLAYABLE_EXCHANGES or routing_key is None:
        raise DeadLetterError(409, "no_origin", t.NO_ORIGIN)
    try:
        await bus.publish_raw(
            exchange,
            routing_key,
            await letter_body(store, letter),
            message_id=letter.get("message_id"),
            correlation_id=letter.get("correlation_id"),
            content_type=letter.get("content_type"),
            headers=replay_headers(letter),
            timeout=publish_timeout,
        )
    except BusError as exc:
        log.warning("replay of dead letter %s failed: %s", letter_id, exc)
        raise DeadLetterError(503, "broker", t.BROKER_UNAVAILABLE) from exc
    updated = await store.dead_letters.find_one_and_update(
        {"_id": letter_id},
        {
            "$set": {"status": "replayed", "replayed_at": now, "replayed_by": actor},
            "$inc": {"replays": 1},
            "$push": {"history": {"at": now, "actor": actor, "action": "replayed"}},
        },
        return_document=ReturnDocument.AFTER,
    )
    if updated is None:  # pragma: no cover - a letter is never deleted
        raise DeadLetterError(404, "not_found", t.DEAD_LETTER_NOT_FOUND)
    log.info("dead letter %s replayed to %s/%s by %s", letter_id, exchange, routing_key, actor)
    return updated


@dataclass(frozen=True)
class ReplayResult:
    letter_id: str
    ok: bool
    error: DeadLetterError | None = None

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.letter_id, "ok": self.ok}
        if self.error is not None:
            body.update(self.error.as_json())
        return body


async def replay_many(
    store: Store,
    bus: Bus,
    letter_ids: Iterable[str],
    *,
    actor: str,
    now: datetime,
    publish_timeout: float,
) -> list[ReplayResult]:
    """Each one replayed on its own: one that cannot be does not stop the others."""
    results = []
    for letter_id in dict.fromkeys(letter_ids):
        try:
            await replay(
                store, bus, letter_id, actor=actor, now=now, publish_timeout=publish_timeout
            )
        except DeadLetterError as exc:
            results.append(ReplayResult(letter_id, False, exc))
        else:
            results.append(ReplayResult(letter_id, True))
    return results


async def discard(
    store: Store, letter_id: str, *, actor: str, reason: str, now: datetime
) -> dict[str, Any]:
    """Mark a letter as dealt with, with the operator's reason; it is kept, never deleted."""
    updated = await store.dead_letters.find_one_and_update(
        {"_id": letter_id, "status": {"$ne": "discarded"}},
        {
            "$set": {
                "status": "discarded",
                "discarded_at": now,
                "discarded_by": actor,
                "discard_reason": reason,
            },
            "$push": {
                "history": {"at": now, "actor": actor, "action": "discarded", "note": reason}
            },
        },
        return_document=ReturnDocument.AFTER,
    )
    if updated is not None:
        return updated
    if await get_letter(store, letter_id) is None:
        raise DeadLetterError(404, "not_found", t.DEAD_LETTER_NOT_FOUND)
    raise DeadLetterError(409, "discarded", t.ALREADY_DISCARDED)


def letter_json(letter: Mapping[str, Any]) -> dict[str, Any]:
    """A dead letter for the API: datetimes as ISO 8601, everything else as stored."""
    body = {("id" if key == "_id" else key): _jsonable(value) for key, value in letter.items()}
    return body


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        stamp = value if value.tzinfo else value.replace(tzinfo=UTC)
        return stamp.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value
