"""The store against a real server: indexes, uniqueness, time zones, GridFS, health, connect."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from pakn.settings import CoreSettings
from pakn.store import DEFAULT_DATABASE, AttachmentNotFound, Store, connect_store, open_store
from tests.fixtures.store import free_port, make_test_settings, url_with_database

ICT = timezone(timedelta(hours=7))


async def _indexes(store: Store, collection: str) -> dict[str, dict[str, Any]]:
    return dict(await store.db[collection].index_information())


def _keys(index: dict[str, Any]) -> list[str]:
    return [name for name, _direction in index["key"]]


async def test_indexes_exist_with_their_options(store: Store) -> None:
    intake = await _indexes(store, "intake_keys")
    cases = await _indexes(store, "cases")
    sessions = await _indexes(store, "sessions")
    users = await _indexes(store, "users")
    audit = await _indexes(store, "audit")

    assert intake["tracking_code"]["unique"] is True
    assert cases["submission_id"]["unique"] is True
    assert cases["tracking_code"]["unique"] is True
    assert _keys(cases["status_received"]) == ["status", "received_at"]
    assert _keys(cases["agency_status_due"]) == ["lead_agency", "status", "due_at"]
    assert _keys(cases["search_terms"]) == ["search_terms"]
    assert _keys(cases["submitter_phone"]) == ["submitter.phone"]
    assert _keys(cases["submitter_email"]) == ["submitter.email"]
    assert sessions["expires_at_ttl"]["expireAfterSeconds"] == 0
    assert users["username"]["unique"] is True
    assert _keys(audit["at"]) == ["at"]


async def test_ensure_indexes_again_changes_nothing(store: Store) -> None:
    before = {name: await _indexes(store, name) for name in ("cases", "intake_keys", "sessions")}
    await store.ensure_indexes()
    after = {name: await _indexes(store, name) for name in ("cases", "intake_keys", "sessions")}
    assert after == before


async def test_unique_indexes_are_enforced(store: Store) -> None:
    await store.cases.insert_one({"submission_id": "web:1", "tracking_code": "1234567890"})
    with pytest.raises(DuplicateKeyError):
        await store.cases.insert_one({"submission_id": "web:2", "tracking_code": "1234567890"})
    with pytest.raises(DuplicateKeyError):
        await store.cases.insert_one({"submission_id": "web:1", "tracking_code": "0987654321"})


async def test_search_terms_match_any_element(store: Store) -> None:
    await store.cases.insert_many(
        [
            {"submission_id": "web:a", "tracking_code": "1", "search_terms": ["ngap", "nuoc"]},
            {"submission_id": "web:b", "tracking_code": "2", "search_terms": ["den", "hong"]},
        ]
    )
    found = [doc["submission_id"] async for doc in store.cases.find({"search_terms": "nuoc"})]
    assert found == ["web:a"]


async def test_datetimes_come_back_as_utc(store: Store) -> None:
    local = datetime(2025, 7, 1, 8, 30, 15, 123456, tzinfo=ICT)
    await store.audit.insert_one({"_id": "t", "at": local})
    doc = await store.audit.find_one({"_id": "t"})
    assert doc is not None
    assert doc["at"].tzinfo is not None
    assert doc["at"].utcoffset() == timedelta(0)
    # BSON keeps milliseconds.
    assert doc["at"] == local.replace(microsecond=123000)


async def test_attachment_roundtrip(store: Store) -> None:
    data = bytes(range(256)) * 1200  # several GridFS chunks
    ref = await store.put_attachment(
        data, filename="ổ gà.jpg", content_type="image/jpeg", metadata={"sha256": "abc"}
    )
    got, meta = await store.open_attachment(ref)
    assert got == data
    assert meta["filename"] == "ổ gà.jpg"
    assert meta["content_type"] == "image/jpeg"
    assert meta["sha256"] == "abc"
    assert meta["length"] == len(data)
    assert meta["uploaded_at"].utcoffset() == timedelta(0)
    assert await store.db["attachments.files"].count_documents({}) == 1


@pytest.mark.parametrize("ref", ["not-an-id", str(ObjectId())])
async def test_unknown_attachment_is_not_found(store: Store, ref: str) -> None:
    with pytest.raises(AttachmentNotFound):
        await store.open_attachment(ref)


async def test_health_is_none_when_the_store_answers(store: Store) -> None:
    assert await store.health() is None


async def test_health_gives_a_short_reason_quickly_when_the_store_is_away() -> None:
    away = open_store(f"mongodb://127.0.0.1:{free_port()}/?directConnection=true")
    away.health_timeout = 0.3
    try:
        started = time.monotonic()
        reason = await away.health()
        assert time.monotonic() - started < 1.5
    finally:
        await away.close()
    assert reason is not None
    assert reason.startswith("store unreachable")
    assert "127.0.0.1" not in reason


async def test_database_is_the_one_in_the_url_or_pakn(mongodb_url: str) -> None:
    named = open_store(url_with_database(mongodb_url, "elsewhere"))
    unnamed = open_store(url_with_database(mongodb_url, ""))
    try:
        assert named.db.name == "elsewhere"
        assert unnamed.db.name == DEFAULT_DATABASE
    finally:
        await named.close()
        await unnamed.close()


async def test_connect_store_uses_the_url_and_ensures_indexes(
    core_settings: CoreSettings, store: Store
) -> None:
    connected = await connect_store(core_settings, appname="pakn-test")
    try:
        assert connected.db.name == store.db.name
        assert connected.embedded is None
        assert "tracking_code" in await _indexes(connected, "intake_keys")
    finally:
        await connected.close()


async def test_connect_store_without_url_starts_the_embedded_store(tmp_path: Path) -> None:
    settings = make_test_settings("unused", tmp_path / "var").model_copy(
        update={"mongodb_url": None, "db_port": free_port()}
    )
    connected = await connect_store(settings)
    assert connected.embedded is not None
    try:
        assert connected.embedded.started_by_us
        assert connected.db.name == DEFAULT_DATABASE
        await connected.intake_keys.insert_one({"_id": "x", "tracking_code": "1"})
        assert (tmp_path / "var" / "db").is_dir()
    finally:
        await connected.close()
        await connected.embedded.stop()
