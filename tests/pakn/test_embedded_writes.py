"""The embedded store without the retryable-write cliff (issue 18).

SecantusDB remembers the reply of every write that carries a ``txnNumber`` (a retryable
write) for 30 minutes, and past 10 000 of them scans and sorts that list on every write: a
sustained load fell from ~600 to ~100 inserts/s. The embedded store's URL turns retryable
writes off, so the project's writes carry no ``txnNumber`` and the list never grows. Shown
here by the mechanism, not by timing: what the client sends, and what the store keeps.
"""

from __future__ import annotations

import asyncio
import struct
import uuid
from collections.abc import AsyncIterator
from datetime import UTC
from typing import Any

import bson
import pytest
from bson import Binary, Int64
from pymongo import AsyncMongoClient, InsertOne, UpdateOne
from pymongo.monitoring import (
    CommandFailedEvent,
    CommandListener,
    CommandStartedEvent,
    CommandSucceededEvent,
)

from pakn.embedded import HOST, EmbeddedStore
from pakn.store import Document, open_store

OP_MSG = 2013
_HEADER = struct.Struct("<iiii")


class TxnNumbers(CommandListener):
    """Every command sent, and those that carried a ``txnNumber``."""

    def __init__(self) -> None:
        self.commands: list[str] = []
        self.with_txn_number: list[str] = []

    def started(self, event: CommandStartedEvent) -> None:
        self.commands.append(event.command_name)
        if "txnNumber" in event.command:
            self.with_txn_number.append(event.command_name)

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass


@pytest.fixture
async def wire(embedded_store: EmbeddedStore) -> AsyncIterator[Any]:
    """Raw OP_MSG commands to the embedded store, as a driver would send them."""
    reader, writer = await asyncio.open_connection(HOST, embedded_store.port)
    request_ids = iter(range(1, 1_000_000))

    async def command(doc: dict[str, Any]) -> dict[str, Any]:
        request_id = next(request_ids)
        body = struct.pack("<I", 0) + b"\x00" + bson.encode(doc)
        writer.write(_HEADER.pack(_HEADER.size + len(body), request_id, 0, OP_MSG) + body)
        await writer.drain()
        length, _, response_to, opcode = _HEADER.unpack(await reader.readexactly(_HEADER.size))
        rest = await reader.readexactly(length - _HEADER.size)
        assert (response_to, opcode) == (request_id, OP_MSG)
        reply: dict[str, Any] = bson.decode(rest[5:])
        return reply

    try:
        yield command
    finally:
        writer.close()
        await writer.wait_closed()


def test_the_embedded_store_client_has_retryable_writes_off(
    embedded_store: EmbeddedStore,
) -> None:
    store = open_store(embedded_store.url)
    assert store.client.options.retry_writes is False


async def test_a_sustained_load_sends_no_retryable_write(
    embedded_store: EmbeddedStore, store_database: str
) -> None:
    """Every kind of write the services make, many times over: none carries a txnNumber,
    so none enters the store's list of retryable writes."""
    listener = TxnNumbers()
    client: AsyncMongoClient[Document] = AsyncMongoClient(
        embedded_store.url, tz_aware=True, tzinfo=UTC, journal=True, event_listeners=[listener]
    )
    collection = client[store_database]["writes"]
    try:
        for n in range(300):
            await collection.insert_one({"_id": n, "n": n})
            await collection.update_one({"_id": n}, {"$set": {"seen": True}})
        await collection.insert_many([{"_id": 1000 + n} for n in range(50)])
        await collection.bulk_write(
            [InsertOne({"_id": 2000}), UpdateOne({"_id": 1}, {"$inc": {"n": 1}}, upsert=True)]
        )
        await collection.find_one_and_update({"_id": 2}, {"$set": {"n": 0}})
        await collection.replace_one({"_id": 3}, {"n": 3})
        await collection.delete_one({"_id": 4})
        await collection.update_many({}, {"$set": {"all": True}})
        assert listener.commands.count("insert") == 302
        assert listener.with_txn_number == []
    finally:
        await client.drop_database(store_database)
        await client.close()


async def test_the_store_keeps_a_record_only_of_writes_with_a_txn_number(
    wire: Any, store_database: str
) -> None:
    """The bookkeeping the cliff came from, seen from the wire: the same insert sent twice
    with a txnNumber is answered from the store's record (no second write, no error);
    without one it runs again and meets its own first copy (nothing was recorded)."""
    session = {"id": Binary(uuid.uuid4().bytes, 4)}
    retryable = {
        "insert": "records",
        "documents": [{"_id": "retryable"}],
        "lsid": session,
        "txnNumber": Int64(1),
        "$db": store_database,
    }
    plain = {
        "insert": "records",
        "documents": [{"_id": "plain"}],
        "lsid": session,
        "$db": store_database,
    }
    try:
        first, replayed = await wire(retryable), await wire(retryable)
        assert (first["ok"], first["n"]) == (1.0, 1)
        assert (replayed["ok"], replayed["n"]) == (1.0, 1) and "writeErrors" not in replayed

        first, again = await wire(plain), await wire(plain)
        assert (first["ok"], first["n"]) == (1.0, 1)
        assert [error["code"] for error in again["writeErrors"]] == [11000]
    finally:
        await wire({"dropDatabase": 1, "$db": store_database})
