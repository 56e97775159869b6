"""Supervised background loops: a long-running task that fails is logged with its traceback,
shown on /healthz (503, naming the loop) and in metrics, and started again with backoff.

Every long-running task of every service runs under this, so none can stop unnoticed::

    loops.run_in_app(app, "web.purge_kept_files", lambda: purge_forever(app[STORE]))
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from prometheus_client import Counter, Gauge

from pakn import http

log = logging.getLogger(__name__)

LoopFactory = Callable[[], Awaitable[None]]

LOOP_RESTARTS = Counter(
    "pakn_loop_restarts_total", "Times a background loop failed and was started again", ["loop"]
)
LOOP_UP = Gauge("pakn_loop_up", "1 while a background loop runs, 0 while it is down", ["loop"])

#: The first restart waits this long, each further one twice as long, up to MAX_BACKOFF.
INITIAL_BACKOFF = 1.0
MAX_BACKOFF = 60.0
#: A loop that ran this long before failing starts again after INITIAL_BACKOFF.
STABLE_AFTER = 60.0


class SupervisedLoop:
    """One named loop: ``factory()`` is awaited, and again after each failure (or end)."""

    def __init__(
        self,
        name: str,
        factory: LoopFactory,
        *,
        initial_backoff: float = INITIAL_BACKOFF,
        max_backoff: float = MAX_BACKOFF,
        stable_after: float = STABLE_AFTER,
    ) -> None:
        self.name = name
        self._factory = factory
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.stable_after = stable_after
        #: Failures so far (each one is followed by a restart).
        self.restarts = 0
        #: Why the loop is down now, or None while it runs.
        self.down_reason: str | None = "not started"
        self._task: asyncio.Task[None] | None = None

    @property
    def up(self) -> bool:
        return self.down_reason is None

    def start(self) -> asyncio.Task[None]:
        if self._task is not None:
            raise RuntimeError(f"loop {self.name} is started once")
        self._task = asyncio.create_task(self.run(), name=f"loop:{self.name}")
        return self._task

    async def stop(self) -> None:
        """Cancel the loop and wait for it to finish its clean-up."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def health(self) -> str | None:
        """For /healthz: None while the loop runs, else why it is down."""
        return self.down_reason

    async def run(self) -> None:
        """Run the loop until cancelled, restarting it after every failure."""
        delay = self.initial_backoff
        try:
            while True:
                started = time.monotonic()
                self._mark_up()
                try:
                    await self._factory()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    reason = f"{type(exc).__name__}: {exc}"[:200]
                    log.exception("loop %s failed; restarting in %.1f s", self.name, delay)
                else:
                    reason = "ended by itself"
                    log.error("loop %s ended by itself; restarting in %.1f s", self.name, delay)
                if time.monotonic() - started >= self.stable_after:
                    delay = self.initial_backoff
                self._mark_down(f"loop {self.name} down: {reason}")
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff)
                self.restarts += 1
                LOOP_RESTARTS.labels(self.name).inc()
                log.info("loop %s restarting (restart %d)", self.name, self.restarts)
        finally:
            self._mark_down("stopped")

    def _mark_up(self) -> None:
        self.down_reason = None
        LOOP_UP.labels(self.name).set(1)

    def _mark_down(self, reason: str) -> None:
        self.down_reason = reason
        LOOP_UP.labels(self.name).set(0)


async def every(
    interval: float, work: Callable[[], Awaitable[object]], wake: asyncio.Event | None = None
) -> None:
    """Forever: ``work``, then wait ``interval`` or until ``wake`` is set (a loop's body to
    run under supervision; an outbox woken when something was added, say)."""
    while True:
        await work()
        if wake is None:
            await asyncio.sleep(interval)
            continue
        wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), interval)


def supervise(name: str, factory: LoopFactory, **options: float) -> SupervisedLoop:
    """Start ``factory`` as a supervised loop now (outside an aiohttp application)."""
    loop = SupervisedLoop(name, factory, **options)
    loop.start()
    return loop


def run_in_app(
    app: web.Application, name: str, factory: LoopFactory, **options: float
) -> SupervisedLoop:
    """Run ``factory`` under supervision while ``app`` runs, with a /healthz check ``loop:name``.

    Registered on ``app.cleanup_ctx``: the loop starts after the contexts appended before (so
    the factory may use the store and bus they connected) and stops before they close."""
    loop = SupervisedLoop(name, factory, **options)
    app[http.HEALTH_CHECKS].append((f"loop:{name}", loop.health))

    async def running(app: web.Application) -> AsyncIterator[None]:
        loop.start()
        try:
            yield
        finally:
            await loop.stop()

    app.cleanup_ctx.append(running)
    return loop
