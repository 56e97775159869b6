"""Supervised loops: a failure is logged with its traceback, shown on /healthz and in metrics,
and the loop runs again after a backoff."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import pytest
from aiohttp.test_utils import TestClient
from aiohttp.web import Application, Request

from pakn import http, loops

Client = TestClient[Request, Application]


class Flaky:
    """A loop body that fails while ``failing`` is set, and otherwise runs until cancelled."""

    def __init__(self) -> None:
        self.failing = asyncio.Event()
        self.starts = 0
        self.running = asyncio.Event()

    async def __call__(self) -> None:
        self.starts += 1
        if self.failing.is_set():
            raise KeyError("no such agency")
        self.running.set()
        while not self.failing.is_set():
            await asyncio.sleep(0.01)
        self.running.clear()
        raise KeyError("no such agency")


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while not await check():
            await asyncio.sleep(0.02)


def restarts(name: str) -> float:
    value: float = loops.LOOP_RESTARTS.labels(name)._value.get()
    return value


async def test_a_failing_loop_is_logged_reported_and_restarted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = Flaky()
    loop = loops.supervise("test.flaky", body, initial_backoff=0.3, max_backoff=0.3)
    try:
        await asyncio.wait_for(body.running.wait(), 5)
        assert loop.up and await loop.health() is None
        assert loops.LOOP_UP.labels("test.flaky")._value.get() == 1
        with caplog.at_level(logging.ERROR, logger="pakn.loops"):
            body.failing.set()

            async def down() -> bool:
                return not loop.up

            await eventually(down)
        reason = await loop.health()
        assert reason is not None and "test.flaky" in reason and "KeyError" in reason
        assert loops.LOOP_UP.labels("test.flaky")._value.get() == 0
        failed = [r for r in caplog.records if "test.flaky failed" in r.getMessage()]
        assert failed and failed[0].exc_info is not None  # the traceback is in the log
        body.failing.clear()
        await asyncio.wait_for(body.running.wait(), 5)
        assert loop.up and loop.restarts >= 1 and restarts("test.flaky") >= 1
    finally:
        await loop.stop()
    assert not loop.up


async def test_a_loop_that_ends_by_itself_is_restarted() -> None:
    runs = 0

    async def once() -> None:
        nonlocal runs
        runs += 1

    loop = loops.supervise("test.once", once, initial_backoff=0.05, max_backoff=0.05)
    try:

        async def ran_three_times() -> bool:
            return runs >= 3

        await eventually(ran_three_times)
    finally:
        await loop.stop()


async def test_healthz_names_a_loop_while_it_is_down(
    aiohttp_client: Callable[[Application], Awaitable[Client]],
) -> None:
    app = http.new_service_app("test")
    body = Flaky()
    loops.run_in_app(app, "test.app_loop", body, initial_backoff=1.0, max_backoff=1.0)
    client = await aiohttp_client(app)
    await asyncio.wait_for(body.running.wait(), 5)
    assert (await client.get("/healthz")).status == 200
    body.failing.set()

    async def unhealthy() -> bool:
        return (await client.get("/healthz")).status == 503

    await eventually(unhealthy)
    answer = await (await client.get("/healthz")).json()
    assert "KeyError" in answer["checks"]["loop:test.app_loop"]
    body.failing.clear()

    async def healthy() -> bool:
        return (await client.get("/healthz")).status == 200

    await eventually(healthy)
