"""The one intake call every channel makes, on the real store and broker, with store outages
cut in by a TCP proxy at the moment that matters."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Awaitable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PIL import Image
from pymongo import AsyncMongoClient
from pymongo.monitoring import (
    CommandFailedEvent,
    CommandListener,
    CommandStartedEvent,
    CommandSucceededEvent,
)

from pakn.bus import SUBMISSIONS_QUEUE, Bus
from pakn.intake import metrics
from pakn.intake.path import Accepted, IntakePath, IntakeUnavailable, SubmissionRejected
from pakn.intake.reservations import IdempotencyConflict, Reservations
from pakn.intake.uploads import Upload, check_upload
from pakn.intake.validation import IntakePolicy, Report, check_report
from pakn.schema import Channel, Problem, Submission
from pakn.store import Document, Store
from tests.fixtures.broker import QueueInspector, TcpProxy
from tests.fixtures.store import proxied_store_url

NOW = datetime.now(UTC)


def raw_report(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Cống thoát nước bị tắc",
        "content": "Cống thoát nước trước chợ Xóm Mới bị tắc, nước tràn lên mặt đường mỗi khi"
        " mưa, người dân đi lại rất khó khăn.",
        "occurred_at": (NOW - timedelta(hours=2)).isoformat(),
        "location": {"address": "Chợ Xóm Mới, phường Nha Trang"},
        "submitter": {"name": "Trần Văn Bình", "phone": "0912 345 678"},
        "consent": True,
    }
    body.update(overrides)
    return body


def a_report(**overrides: Any) -> Report:
    checked = check_report(raw_report(**overrides), now=NOW)
    assert checked.report is not None, checked.errors
    return checked.report


def a_photo() -> Upload:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 120, 200)).save(out, format="JPEG")
    upload = check_upload("cong.jpg", out.getvalue(), 1)
    assert upload is not None
    return upload


class CutAfter(CommandListener):
    """Cuts the store proxy as soon as the store acknowledged a given command: an outage at
    exactly that point of the intake, on a real server."""

    def __init__(self, proxy: TcpProxy, command: str, collection: str) -> None:
        self.proxy = proxy
        self.command = command
        self.collection = collection
        self.armed = False
        self._pending: set[int] = set()

    def started(self, event: CommandStartedEvent) -> None:
        named = event.command_name == self.command
        if self.armed and named and event.command.get(self.command) == self.collection:
            self._pending.add(event.request_id)

    def succeeded(self, event: CommandSucceededEvent) -> None:
        if event.request_id in self._pending:
            self._pending.clear()
            self.armed = False
            self.proxy.cut()

    def failed(self, event: CommandFailedEvent) -> None:
        self._pending.discard(event.request_id)


@pytest.fixture
async def proxied_store(
    store_proxy: TcpProxy, mongodb_url: str, store: Store
) -> AsyncIterator[tuple[Store, CutAfter]]:
    """A Store on this test's database through the proxy, with a listener that can cut it
    right after the reservation is written."""
    listener = CutAfter(store_proxy, "insert", "intake_keys")
    client: AsyncMongoClient[Document] = AsyncMongoClient(
        proxied_store_url(store_proxy, mongodb_url, store.db.name),
        tz_aware=True,
        tzinfo=UTC,
        serverSelectionTimeoutMS=1000,
        connectTimeoutMS=1000,
        event_listeners=[listener],
    )
    proxied = Store(client, store.db.name)
    try:
        yield proxied, listener
    finally:
        await proxied.close()


def counter(metric: Any, *labels: str) -> float:
    value: float = metric.labels(*labels)._value.get()
    return value


async def only_submission(queues: QueueInspector) -> Submission:
    messages = await queues.drain(SUBMISSIONS_QUEUE)
    assert len(messages) == 1
    return Submission.model_validate_json(messages[0].body)


def intake_on(store: Store, bus: Bus) -> IntakePath:
    return IntakePath(store, bus, confirm_timeout=5.0, retry_after=7, store_timeout=1.0)


async def test_a_report_is_accepted_once_the_broker_confirmed(
    store: Store, bus: Bus, amqp_queues: QueueInspector
) -> None:
    intake = intake_on(store, bus)
    received = datetime(2026, 11, 30, 7, 45, 12, 345678, tzinfo=UTC)
    accepted = await intake.accept(
        channel=Channel.EMAIL,
        client="pakn@khanhhoa.gov.vn",
        channel_ref="<abc@mail.example.vn>",
        received_at=received,
        report=a_report(),
        uploads=[a_photo()],
    )
    assert not accepted.replayed
    # The channel's moment is kept (to the millisecond the store keeps), not "now".
    assert accepted.received_at == received.replace(microsecond=345000)
    submission = await only_submission(amqp_queues)
    assert submission.tracking_code == accepted.tracking_code
    assert submission.submission_id == accepted.submission_id
    assert submission.channel is Channel.EMAIL
    assert submission.channel_ref == "<abc@mail.example.vn>"
    assert submission.received_at == accepted.received_at
    assert [a.filename for a in submission.attachments] == ["cong.jpg"]
    reservation = await store.intake_keys.find_one({"_id": accepted.submission_id})
    assert reservation is not None and reservation["tracking_code"] == accepted.tracking_code


async def test_a_retry_gets_the_first_answer_and_another_body_is_a_conflict(
    store: Store, bus: Bus, amqp_queues: QueueInspector
) -> None:
    intake = intake_on(store, bus)
    where: dict[str, Any] = {"channel": Channel.HOTLINE, "client": "pbx", "channel_ref": "c-77"}
    first = await intake.accept(**where, received_at=NOW, report=a_report())
    again = await intake.accept(**where, received_at=NOW + timedelta(minutes=3), report=a_report())
    assert again.replayed and again.tracking_code == first.tracking_code
    assert again.received_at == first.received_at
    before = counter(metrics.SUBMISSIONS, "hotline", "conflict")
    with pytest.raises(IdempotencyConflict):
        await intake.accept(
            **where,
            received_at=NOW,
            report=a_report(content="Đèn đường trước trường học tắt suốt một tuần, rất tối."),
        )
    assert counter(metrics.SUBMISSIONS, "hotline", "conflict") == before + 1
    # The retry was published again (consumers are idempotent); both say the same.
    messages = await amqp_queues.drain(SUBMISSIONS_QUEUE)
    codes = {Submission.model_validate_json(m.body).tracking_code for m in messages}
    assert codes == {first.tracking_code}


async def test_problems_travel_with_the_accepted_report(
    store: Store, bus: Bus, amqp_queues: QueueInspector
) -> None:
    # An e-mail-like policy: a missing place or time is asked back for, not refused.
    policy = IntakePolicy(
        consent_required=False,
        problems=frozenset({("location.address", "required"), ("occurred_at", "required")}),
    )
    raw = raw_report(consent=None, location={}, occurred_at=None)
    checked = check_report(raw, now=NOW, policy=policy)
    assert checked.report is not None and checked.errors == []
    assert {(p.field, p.code) for p in checked.problems} == {
        ("location.address", "required"),
        ("occurred_at", "required"),
    }
    accepted = await intake_on(store, bus).accept(
        channel=Channel.EMAIL,
        client="pakn@khanhhoa.gov.vn",
        channel_ref="<no-place@mail.example.vn>",
        received_at=NOW,
        report=checked.report,
        problems=[p.as_problem() for p in checked.problems],
    )
    submission = await only_submission(amqp_queues)
    assert submission.tracking_code == accepted.tracking_code
    assert sorted(submission.problems, key=lambda p: p.field) == [
        Problem(field="location.address", code="required"),
        Problem(field="occurred_at", code="required"),
    ]
    assert submission.consent is None and submission.location.address is None


async def test_a_store_outage_before_the_reservation_is_unavailable_with_a_retry_hint(
    proxied_store: tuple[Store, CutAfter],
    store_proxy: TcpProxy,
    bus: Bus,
    amqp_queues: QueueInspector,
) -> None:
    store, _ = proxied_store
    intake = intake_on(store, bus)
    where: dict[str, Any] = {"channel": Channel.WEB, "client": "public", "channel_ref": "k-1"}
    store_proxy.cut()
    before = counter(metrics.SUBMISSIONS, "web", "unavailable")
    with pytest.raises(IntakeUnavailable) as raised:
        await intake.accept(**where, received_at=NOW, report=a_report())
    assert raised.value.part == "store" and raised.value.retry_after == 7
    assert counter(metrics.SUBMISSIONS, "web", "unavailable") == before + 1
    assert await amqp_queues.depth(SUBMISSIONS_QUEUE) == 0
    store_proxy.restore()
    accepted = await intake.accept(**where, received_at=NOW, report=a_report())
    assert (await only_submission(amqp_queues)).tracking_code == accepted.tracking_code


async def test_a_store_outage_after_the_reservation_keeps_the_code_for_the_retry(
    proxied_store: tuple[Store, CutAfter],
    store_proxy: TcpProxy,
    store: Store,
    bus: Bus,
    amqp_queues: QueueInspector,
) -> None:
    proxied, cut_after_reservation = proxied_store
    intake = intake_on(proxied, bus)
    where: dict[str, Any] = {"channel": Channel.APP, "client": "public", "channel_ref": "k-2"}
    cut_after_reservation.armed = True
    with pytest.raises(IntakeUnavailable) as raised:
        await intake.accept(**where, received_at=NOW, report=a_report(), uploads=[a_photo()])
    assert raised.value.part == "attachments"
    assert store_proxy.is_cut and await amqp_queues.depth(SUBMISSIONS_QUEUE) == 0
    reserved = await store.intake_keys.find_one({})
    assert reserved is not None

    store_proxy.restore()
    retried = await intake.accept(**where, received_at=NOW, report=a_report(), uploads=[a_photo()])
    assert retried.tracking_code == reserved["tracking_code"]
    submission = await only_submission(amqp_queues)
    assert submission.tracking_code == reserved["tracking_code"]
    assert len(submission.attachments) == 1


async def test_the_store_going_away_once_the_code_is_reserved_does_not_take_it_back(
    proxied_store: tuple[Store, CutAfter],
    store_proxy: TcpProxy,
    store: Store,
    bus: Bus,
    amqp_queues: QueueInspector,
) -> None:
    """The reservation is the report's only store write: nothing after it needs the store."""
    proxied, cut_after_reservation = proxied_store
    intake = intake_on(proxied, bus)
    cut_after_reservation.armed = True
    accepted = await intake.accept(
        channel=Channel.WEB,
        client="public",
        channel_ref="k-3",
        received_at=NOW,
        report=a_report(),
    )
    assert store_proxy.is_cut
    assert (await only_submission(amqp_queues)).tracking_code == accepted.tracking_code
    reservation = await store.intake_keys.find_one({"_id": accepted.submission_id})
    assert reservation is not None and reservation["tracking_code"] == accepted.tracking_code


async def test_what_the_schema_refuses_is_refused_before_a_code_is_reserved(
    store: Store, bus: Bus, amqp_queues: QueueInspector
) -> None:
    """Defence in depth: a channel that skipped a content rule still leaves nothing behind."""
    long_commune = replace(a_report(), commune="Phường " + "Ạ" * 200)
    intake = intake_on(store, bus)
    cases = [("k" * 600, a_report(), "channel_ref"), ("k", long_commune, "location.commune")]
    for channel_ref, report, field in cases:
        with pytest.raises(SubmissionRejected) as refused:
            await intake.accept(
                channel=Channel.WEB,
                client="public",
                channel_ref=channel_ref,
                received_at=datetime.now(UTC),
                report=report,
            )
        assert refused.value.fields == [field]
    assert await store.intake_keys.count_documents({}) == 0
    assert await amqp_queues.depth(SUBMISSIONS_QUEUE) == 0


class Writes(CommandListener):
    """The write commands a client sent, as (command, collection)."""

    NAMES = frozenset({"insert", "update", "delete", "findAndModify"})

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def started(self, event: CommandStartedEvent) -> None:
        if event.command_name in self.NAMES:
            self.seen.append((event.command_name, str(event.command[event.command_name])))

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass


@pytest.fixture
async def watched_store(mongodb_url: str, store: Store) -> AsyncIterator[tuple[Store, Writes]]:
    """The test's database through a client that records every write it sends."""
    writes = Writes()
    client: AsyncMongoClient[Document] = AsyncMongoClient(
        mongodb_url, tz_aware=True, tzinfo=UTC, journal=True, event_listeners=[writes]
    )
    watched = Store(client, store.db.name)
    try:
        yield watched, writes
    finally:
        await watched.close()


async def test_a_report_costs_one_store_write(
    watched_store: tuple[Store, Writes], bus: Bus, amqp_queues: QueueInspector
) -> None:
    """The reservation is the only write: no "published" mark after the confirm."""
    watched, writes = watched_store
    accepted = await intake_on(watched, bus).accept(
        channel=Channel.WEB, client="public", channel_ref="k-1", received_at=NOW, report=a_report()
    )
    assert (await only_submission(amqp_queues)).tracking_code == accepted.tracking_code
    assert writes.seen == [("insert", "intake_keys")]


async def test_reports_accepted_together_share_their_reservation_write(
    watched_store: tuple[Store, Writes], bus: Bus, amqp_queues: QueueInspector
) -> None:
    watched, writes = watched_store
    reservations = Reservations(watched, timeout=5.0)
    intake = IntakePath(watched, bus, confirm_timeout=5.0, reservations=reservations)
    refs = [f"k-{n}" for n in range(12)]

    def accepting(ref: str, content: str) -> Awaitable[Accepted]:
        return intake.accept(
            channel=Channel.WEB,
            client="public",
            channel_ref=ref,
            received_at=NOW,
            report=a_report(content=content),
        )

    accepted = await asyncio.gather(*(accepting(ref, a_report().content) for ref in refs))
    assert not any(a.replayed for a in accepted)
    assert len({a.tracking_code for a in accepted}) == len(refs)
    published = await amqp_queues.drain(SUBMISSIONS_QUEUE)
    codes = {Submission.model_validate_json(m.body).tracking_code for m in published}
    assert codes == {a.tracking_code for a in accepted}
    assert len(writes.seen) < len(refs), writes.seen
    assert reservations.written == len(refs)
    # Idempotency as without sharing: the same key again is the same code, another body 409.
    again, conflict = await asyncio.gather(
        accepting(refs[0], a_report().content),
        accepting(refs[1], a_report().content + " Xin cảm ơn."),
        return_exceptions=True,
    )
    assert isinstance(again, Accepted) and again.replayed
    assert again.tracking_code == accepted[0].tracking_code
    assert isinstance(conflict, IdempotencyConflict)
    assert await watched.intake_keys.count_documents({}) == len(refs)
