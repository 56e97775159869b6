"""A three-node RabbitMQ cluster of the test's own: the node the services are on stops while
reports flow, and every accepted report still becomes exactly one case."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp.web import Application
from pydantic import SecretStr

from pakn.store import Store
from pakn_router.app import init_app as init_router
from pakn_router.settings import RouterSettings
from tests.fixtures.cluster import RabbitCluster
from tests.pakn_router.conftest import RouterClient
from tests.pakn_web.conftest import WebClient, WebClientFactory, report

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not RabbitCluster.available(), reason="needs rabbitmq-server, as root"),
]

REPORTS = 40


@pytest.fixture(scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RabbitCluster]:
    nodes = RabbitCluster(tmp_path_factory.mktemp("rabbit-cluster"))
    try:
        await nodes.start()
        yield nodes
    finally:
        await nodes.close()


async def submit_until_accepted(web: WebClient, body: dict[str, object], key: str) -> str:
    """A client that retries with the same key on 503, as the app does."""
    async with asyncio.timeout(120):
        while True:
            response = await web.post(
                "/api/v1/submissions",
                json=body,
                headers={"X-Client": "app/1.0", "Idempotency-Key": key},
            )
            if response.status == 202:
                code: str = (await response.json())["tracking_code"]
                return code
            assert response.status == 503, await response.text()
            await asyncio.sleep(0.5)


async def test_the_node_the_services_use_stops_and_nothing_is_lost_or_doubled(
    cluster: RabbitCluster,
    web_client_factory: WebClientFactory,
    router_settings: RouterSettings,
    aiohttp_client: Callable[[Application], Awaitable[RouterClient]],
    store: Store,
) -> None:
    url = SecretStr(cluster.url)
    router = await aiohttp_client(
        await init_router(router_settings.model_copy(update={"amqp_url": url}))
    )
    web = await web_client_factory(amqp=cluster.url, submit_burst=1000)
    assert (await web.get("/healthz")).status == 200
    assert (await router.get("/healthz")).status == 200

    keys = [str(uuid.uuid4()) for _ in range(REPORTS)]
    accepted: dict[str, str] = {}
    half = asyncio.Event()

    async def client(share: list[str]) -> None:
        for key in share:
            accepted[key] = await submit_until_accepted(web, report(), key)
            if len(accepted) >= REPORTS // 2:
                half.set()

    clients = [asyncio.create_task(client(keys[i::4])) for i in range(4)]
    halfway = asyncio.create_task(half.wait())
    await asyncio.wait([halfway, *clients], return_when=asyncio.FIRST_COMPLETED)
    for task in clients:
        if task.done():
            task.result()  # a client that failed says why, rather than a test that hangs
    # Both services made their first connection to the first node named.
    await cluster.stop_app(cluster.nodes[0])
    try:
        await asyncio.gather(*clients)
        async with asyncio.timeout(120):
            while await store.cases.count_documents({}) < REPORTS:
                await asyncio.sleep(0.2)
    finally:
        await cluster.start_app(cluster.nodes[0])

    assert len(accepted) == REPORTS
    cases = await store.cases.find({}, {"tracking_code": 1, "submission_id": 1}).to_list()
    assert sorted(c["tracking_code"] for c in cases) == sorted(accepted.values()), "0 lost"
    assert len({c["submission_id"] for c in cases}) == REPORTS, "0 doubled"
    # Both go back to healthy by themselves once the node is back, each reconnecting with its
    # own backoff (the web's can still be waiting the moment the last case is stored).
    async with asyncio.timeout(30):
        while (await web.get("/healthz")).status != 200:
            await asyncio.sleep(0.2)
    assert (await router.get("/healthz")).status == 200
