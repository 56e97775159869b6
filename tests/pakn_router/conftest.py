"""Fixtures for the router: the real app on real servers, and submissions to feed it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aio_pika
import pytest
from aiohttp.test_utils import TestClient
from aiohttp.web import Application, Request
from pydantic import SecretStr

from pakn.bus import CASES_EXCHANGE, DEAD_QUEUE, SUBMISSIONS_QUEUE, Bus, declare_topology
from pakn.ids import new_tracking_code, submission_id
from pakn.intake.reservations import to_store_precision
from pakn.schema import Channel, Location, Problem, Submission, Submitter
from pakn.store import Store
from pakn_router import case_repository as repository
from pakn_router.app import init_app
from pakn_router.settings import RouterSettings
from tests.fixtures.broker import QueueInspector
from tests.fixtures.store import settings_for_test, url_with_database

RouterClient = TestClient[Request, Application]
EVENTS_QUEUE = "test.case-events"


def make_submission(
    content: str,
    *,
    address: str | None = "Trần Phú, phường Nha Trang",
    ref: str | None = None,
    phone: str | None = "+84905123456",
    in_reply_to: str | None = None,
    problems: list[Problem] | None = None,
    received_at: datetime | None = None,
    title: str | None = None,
) -> Submission:
    reference = ref or new_tracking_code()
    return Submission(
        submission_id=submission_id("web", "test", reference),
        tracking_code=new_tracking_code(),
        channel=Channel.WEB,
        channel_ref=reference,
        # Cut to the millisecond as every channel's is (intake.to_store_precision): a due_at
        # computed from it in working hours then equals the stored one.
        received_at=to_store_precision(received_at or datetime.now(UTC) - timedelta(minutes=1)),
        submitter=Submitter(name="Nguyễn Thị Mai", phone=phone),
        title=title,
        content=content,
        occurred_at=datetime.now(UTC) - timedelta(hours=2),
        location=Location(address=address),
        in_reply_to=in_reply_to,
        problems=problems or [],
    )


@pytest.fixture
async def events(amqp_queues: QueueInspector) -> AsyncIterator[QueueInspector]:
    """A queue bound to every case event, emptied before and after the test."""
    channel = await amqp_queues.channel()
    await declare_topology(channel)
    queue = await channel.declare_queue(EVENTS_QUEUE, durable=False, auto_delete=False)
    await queue.bind(CASES_EXCHANGE, "case.#")
    await amqp_queues.purge(EVENTS_QUEUE, SUBMISSIONS_QUEUE, DEAD_QUEUE)
    yield amqp_queues
    await amqp_queues.purge(EVENTS_QUEUE, SUBMISSIONS_QUEUE, DEAD_QUEUE)


@pytest.fixture
def router_settings(
    mongodb_url: str, store_database: str, amqp_url: str, tmp_path: Path
) -> RouterSettings:
    return settings_for_test(
        RouterSettings,
        url_with_database(mongodb_url, store_database),
        tmp_path / "var",
        amqp_url=SecretStr(amqp_url),
        router_batch_wait=0.01,
        # Tests sweep when they mean to; the background sweep would race them.
        router_sweep_interval=3600,
    )


@pytest.fixture
async def router(
    aiohttp_client: Callable[[Application], Awaitable[RouterClient]],
    router_settings: RouterSettings,
    store: Store,
    events: QueueInspector,
) -> RouterClient:
    """The router consuming this run's vhost and writing this test's database."""
    return await aiohttp_client(await init_app(router_settings))


@pytest.fixture
async def publisher(bus: Bus) -> Callable[[Submission], Awaitable[None]]:
    async def publish(submission: Submission) -> None:
        await bus.publish_submission(submission, timeout=5)

    return publish


async def wait_for_case(
    store: Store, query: dict[str, Any], *, within: float = 10.0
) -> dict[str, Any]:
    async with asyncio.timeout(within):
        while True:
            doc = await store.cases.find_one(query)
            if doc is not None and not await waiting_events(store, doc):
                return doc
            await asyncio.sleep(0.05)


async def waiting_events(store: Store, case: Mapping[str, Any]) -> int:
    """How many events of the stored ``case`` wait in the outbox (the broker has not
    confirmed them yet)."""
    sid = case["submission_id"]
    return sum(
        1
        for entry in await repository.pending_outbox(store, submission_ids=[sid])
        if entry.event.submission_id == sid
    )


async def raw_publish(amqp_url: str, body: bytes, routing_key: str = "submission.web") -> None:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange("pakn.intake")
        await exchange.publish(
            aio_pika.Message(body, content_type="application/json", message_id="poison"),
            routing_key,
        )
