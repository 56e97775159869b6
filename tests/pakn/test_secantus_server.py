"""The embedded store's process (pakn.secantus_server): SecantusDB standalone, with the fix
for its per-document index catalogue reads carried — and inserts behaving exactly as before."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import ASCENDING, AsyncMongoClient, IndexModel
from pymongo.errors import BulkWriteError, DuplicateKeyError
from secantus.storage import Storage

from pakn.secantus_server import FIXED_RELEASE, apply_fixes
from tests.fixtures.store import TEST_MONGODB_URL_ENV, unique_database_name

embedded_only = pytest.mark.skipif(
    bool(os.environ.get(TEST_MONGODB_URL_ENV)), reason="about the embedded store"
)

INDEXES = [
    IndexModel([("code", ASCENDING)], name="code", unique=True),
    IndexModel([("words", ASCENDING)], name="words"),
    IndexModel([("place", ASCENDING), ("at", ASCENDING)], name="place_at"),
    IndexModel(
        [("mail", ASCENDING)],
        name="mail",
        unique=True,
        partialFilterExpression={"mail": {"$type": "string"}},
    ),
    IndexModel([("name", ASCENDING)], name="name_ci", collation={"locale": "vi", "strength": 1}),
]


def document(n: int, **fields: Any) -> dict[str, Any]:
    return {
        "code": f"C{n:05d}",
        "words": [f"w{n % 7}", f"w{n % 11}", "chung"],
        "place": f"P{n % 3}",
        "at": n,
        "name": f"Người {n}",
        **fields,
    }


# --- the fix itself, on a Storage in this process ------------------------------------------


@pytest.fixture(autouse=True)
def unfixed_in_this_process() -> Iterator[None]:
    """Each test starts with SecantusDB's own Storage and leaves it so (the fix patches the
    class, process-wide)."""
    saved = {name: Storage.__dict__[name] for name in ("_insert_chunk", "_index_options_map")}
    marked = Storage.__dict__.get("_pakn_fixed")
    yield
    for name, method in saved.items():
        setattr(Storage, name, method)
    if marked is None and "_pakn_fixed" in Storage.__dict__:
        del Storage._pakn_fixed


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[Storage]:
    opened = Storage(str(tmp_path / "wt"), enable_oplog=False)
    for model in INDEXES:
        spec = dict(model.document)
        name, key = spec.pop("name"), spec.pop("key")
        opened.create_index("db", "coll", name, dict(key), spec)
    try:
        yield opened
    finally:
        opened.close()


def catalogue_reads_during(storage: Storage, docs: list[dict[str, Any]]) -> int:
    """How many times inserting ``docs`` in one batch reads the collection's index list."""
    reads = 0
    original = Storage._iter_indexes

    def counting(self: Storage, db: str, coll: str) -> Any:
        nonlocal reads
        reads += 1
        return original(self, db, coll)

    Storage._iter_indexes = counting
    try:
        inserted, errors = storage.insert("db", "coll", docs, ordered=False)
    finally:
        Storage._iter_indexes = original
    assert (inserted, errors) == (len(docs), [])
    return reads


def test_a_batch_reads_the_index_catalogue_once_not_per_document(storage: Storage) -> None:
    unfixed = catalogue_reads_during(storage, [document(n) for n in range(0, 100)])
    assert apply_fixes()
    fixed = catalogue_reads_during(storage, [document(n) for n in range(100, 200)])
    # Unfixed: three reads per document (the options for unique checks, geo checks and the
    # index entries), on top of the batch's own; fixed: the batch's own and one more.
    assert unfixed >= 3 * 100
    assert fixed <= 8
    assert len(storage.find_matching("db", "coll", {"words": "chung"})) == 200


def test_another_release_runs_unchanged() -> None:
    before = Storage._insert_chunk
    assert apply_fixes("0.8.0") is False
    assert Storage._insert_chunk is before


def test_the_fixed_release_is_the_one_the_project_pins() -> None:
    pyproject = Path(__file__).parents[2] / "pyproject.toml"
    assert f'"secantusdb=={FIXED_RELEASE}"' in pyproject.read_text()


# --- the running store, through the wire: what inserts guarantee is unchanged ---------------


@pytest.fixture
async def coll(mongodb_url: str) -> AsyncIterator[Any]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url)
    name = unique_database_name()
    collection = client[name]["things"]
    await collection.create_indexes(INDEXES)
    try:
        yield collection
    finally:
        await client.drop_database(name)
        await client.close()


@embedded_only
async def test_the_embedded_store_runs_standalone_without_an_oplog(mongodb_url: str) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url)
    try:
        hello = await client.admin.command("hello")
        assert hello.get("setName") is None  # no replica set: no oplog written
        assert hello["isWritablePrimary"] is True
    finally:
        await client.close()


async def test_unique_indexes_refuse_repeats_inside_one_batch_and_across(coll: Any) -> None:
    docs = [document(n) for n in range(50)] + [document(7, at=999)]
    with pytest.raises(BulkWriteError) as refused:
        await coll.insert_many(docs, ordered=False)
    errors = refused.value.details["writeErrors"]
    assert [(e["index"], e["code"], e["keyPattern"]) for e in errors] == [(50, 11000, {"code": 1})]
    assert await coll.count_documents({}) == 50
    with pytest.raises(DuplicateKeyError):
        await coll.insert_one(document(3))


async def test_partial_and_collation_options_apply_to_every_document_of_a_batch(
    coll: Any,
) -> None:
    await coll.insert_many(
        [document(n, mail=f"a{n}@x.vn") for n in range(20)] + [document(n) for n in range(20, 40)]
    )
    # The partial unique index counts only strings: documents without a mail never collide.
    await coll.insert_many([document(n) for n in range(40, 60)])
    with pytest.raises(BulkWriteError):
        await coll.insert_many([document(60, mail="a5@x.vn")])
    folded = coll.find({"name": "NGƯỜI 12"}).collation({"locale": "vi", "strength": 1})
    assert [d["code"] async for d in folded] == ["C00012"]
    assert await coll.count_documents({"words": "chung"}) == 60
    assert await coll.count_documents({"place": "P1", "at": {"$gte": 30}}) == 10


async def test_an_index_made_between_two_batches_holds_for_the_next(coll: Any) -> None:
    await coll.insert_many([document(n) for n in range(10)])
    await coll.create_index([("at", ASCENDING)], name="at_unique", unique=True)
    with pytest.raises(BulkWriteError) as refused:
        await coll.insert_many([document(100, at=3), document(101, at=200)], ordered=False)
    assert [e["keyPattern"] for e in refused.value.details["writeErrors"]] == [{"at": 1}]
    assert await coll.count_documents({"at": 200}) == 1
