"""Fault drills: one fault at a time while reports flow, each counting accepted against stored.

Clients behave like the app: a report that got no answer, or a 503, is sent again with the
same Idempotency-Key. Every drill must end with each accepted report exactly once as a case
(0 lost, 0 doubled) and with /healthz having told the truth during the fault. The router's
own kill -9 is tests/pakn_router/test_crash.py; the broker restart is issue 9's drill in
tests/pakn_router; a broker node of a cluster, test_cluster.py.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.web import Application
from pydantic import SecretStr

from pakn.embedded import EmbeddedStore, ensure_embedded_store, stop_embedded_store
from pakn.store import Store, open_store
from pakn_router.app import init_app as init_router
from pakn_router.settings import RouterSettings
from tests.fixtures.store import free_port, url_with_database
from tests.pakn_router.conftest import RouterClient
from tests.pakn_web.conftest import WebClientFactory, report

pytestmark = pytest.mark.slow

REPORTS = 120
CLIENTS = 4


class Clients:
    """App-like clients: each report retried with its key until a 202."""

    def __init__(self, base_url: str, count: int) -> None:
        self.base_url = base_url
        self.keys = [str(uuid.uuid4()) for _ in range(count)]
        self.accepted: dict[str, str] = {}
        self.answers: list[int] = []
        self.unanswered = 0

    async def _one(self, session: aiohttp.ClientSession, key: str) -> None:
        body = report()  # a retry sends the very same report
        async with asyncio.timeout(180):
            while True:
                try:
                    async with session.post(
                        f"{self.base_url}/api/v1/submissions",
                        json=body,
                        headers={"X-Client": "app/1.0", "Idempotency-Key": key},
                        timeout=aiohttp.ClientTimeout(total=15),
                    ) as response:
                        self.answers.append(response.status)
                        if response.status == 202:
                            code = (await response.json())["tracking_code"]
                            previous = self.accepted.setdefault(key, code)
                            assert previous == code, "a retry got another code"
                            return
                        assert response.status == 503, await response.text()
                except (aiohttp.ClientError, TimeoutError):
                    self.unanswered += 1  # the process died under the request: send again
                await asyncio.sleep(0.3)

    async def run(self, share: list[str]) -> None:
        async with aiohttp.ClientSession() as session:
            for key in share:
                await self._one(session, key)

    def start(self) -> list[asyncio.Task[None]]:
        return [asyncio.create_task(self.run(self.keys[i::CLIENTS])) for i in range(CLIENTS)]

    async def until(self, accepted: int, tasks: list[asyncio.Task[None]]) -> None:
        async with asyncio.timeout(120):
            while len(self.accepted) < accepted:
                for task in tasks:
                    if task.done():
                        task.result()
                await asyncio.sleep(0.05)


async def every_report_once(store: Store, clients: Clients) -> None:
    async with asyncio.timeout(120):
        while await store.cases.count_documents({}) < len(clients.accepted):
            await asyncio.sleep(0.2)
    assert len(clients.accepted) == len(clients.keys)
    per_code: dict[str, int] = {}
    async for case in store.cases.find({}, {"tracking_code": 1}):
        per_code[case["tracking_code"]] = per_code.get(case["tracking_code"], 0) + 1
    assert sorted(per_code) == sorted(clients.accepted.values()), "0 lost"
    assert set(per_code.values()) == {1}, "0 doubled"


async def healthz(url: str) -> int | None:
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{url}/healthz", timeout=aiohttp.ClientTimeout(total=5)) as response,
        ):
            return response.status
    except (aiohttp.ClientError, TimeoutError):
        return None


# --- the web intake killed with kill -9 -----------------------------------------------------


async def _start_web(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "pakn", "web", env=env, stdout=out, stderr=out
        )


async def _wait_ready(url: str) -> None:
    async with asyncio.timeout(60):
        while await healthz(url) != 200:
            await asyncio.sleep(0.2)


async def test_the_web_intake_killed_mid_flow_loses_and_doubles_nothing(
    store: Store,
    store_database: str,
    mongodb_url: str,
    amqp_url: str,
    router_settings: RouterSettings,
    aiohttp_client: Callable[[Application], Awaitable[RouterClient]],
    tmp_path: Path,
) -> None:
    await aiohttp_client(await init_router(router_settings))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PAKN_ENV": "dev",
        "PAKN_AMQP_URL": amqp_url,
        "PAKN_MONGODB_URL": url_with_database(mongodb_url, store_database),
        "PAKN_WEB_PORT": str(port),
        "PAKN_VAR_DIR": str(tmp_path / "var"),
        "PAKN_SUBMIT_BURST": "100000",
    }
    log = tmp_path / "web.log"
    first = await _start_web(env, log)
    second: asyncio.subprocess.Process | None = None
    try:
        await _wait_ready(url)
        clients = Clients(url, REPORTS)
        tasks = clients.start()
        await clients.until(REPORTS // 3, tasks)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        assert await healthz(url) is None, "a dead intake answers nothing"
        second = await _start_web(env, log)
        await _wait_ready(url)
        await asyncio.gather(*tasks)
    finally:
        for process in (first, second):
            if process is not None and process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.wait(), 30)
    assert clients.unanswered > 0, "the kill must land while requests were in flight"
    await every_report_once(store, clients)


# --- the store killed with kill -9 ----------------------------------------------------------


@pytest.fixture
async def own_store(tmp_path: Path) -> AsyncIterator[EmbeddedStore]:
    """A store of this test's own, so killing it touches no other test; whatever runs on its
    folder at the end (the restarted one) is stopped."""
    started = await ensure_embedded_store(free_port(), tmp_path / "db")
    yield started
    await stop_embedded_store(tmp_path / "db")


async def test_the_store_killed_mid_flow_loses_and_doubles_nothing(
    own_store: EmbeddedStore,
    web_client_factory: WebClientFactory,
    router_settings: RouterSettings,
    aiohttp_client: Callable[[Application], Awaitable[RouterClient]],
    tmp_path: Path,
) -> None:
    database = "drill_store"
    store_url = url_with_database(own_store.url, database)
    router = await aiohttp_client(
        await init_router(router_settings.model_copy(update={"mongodb_url": SecretStr(store_url)}))
    )
    web = await web_client_factory(
        store=store_url, submit_burst=100_000, store_timeout=1.0, confirm_timeout=2.0
    )
    base = str(web.make_url("")).rstrip("/")
    clients = Clients(base, REPORTS)
    tasks = clients.start()
    await clients.until(REPORTS // 3, tasks)

    assert own_store.pid is not None
    os.kill(own_store.pid, signal.SIGKILL)
    statuses: dict[str, Any] = {}
    async with asyncio.timeout(30):
        while statuses.get("web") != 503 or statuses.get("router") != 503:
            statuses["web"] = (await web.get("/healthz")).status
            statuses["router"] = (await router.get("/healthz")).status
            await asyncio.sleep(0.2)
    await asyncio.sleep(2)  # reports keep coming in while the store is away
    restarted = await ensure_embedded_store(own_store.port, tmp_path / "db", timeout=30)
    assert restarted.pid != own_store.pid
    await asyncio.gather(*tasks)
    assert 503 in clients.answers, "the intake said 'try again', it did not fail or hang"

    store = open_store(store_url, database=database)
    try:
        await every_report_once(store, clients)
        async with asyncio.timeout(30):
            while (await web.get("/healthz")).status != 200:
                await asyncio.sleep(0.2)
        assert (await router.get("/healthz")).status == 200
    finally:
        await store.close()
