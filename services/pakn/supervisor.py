"""`pakn up`: the embedded store, then every service as its own process, restarted if it dies."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import aio_pika

from pakn.brokers import broker_urls, node_name
from pakn.embedded import EmbeddedStore, ensure_embedded_store
from pakn.service import ServiceSpec
from pakn.settings import CoreSettings

log = logging.getLogger("pakn.up")

#: A service that ran this long before dying is restarted at once; a quicker death backs off.
STABLE_AFTER = 60.0
MAX_BACKOFF = 30.0
STOP_GRACE = 10.0


@dataclass
class _Child:
    spec: ServiceSpec
    process: asyncio.subprocess.Process | None = None
    started_at: float = 0.0
    backoff: float = 1.0
    restarts: int = 0
    stopping: bool = field(default=False)


async def broker_problem(amqp_url: str) -> str | None:
    """Why no broker node can be reached, or None when one answers."""
    problems: list[str] = []
    for url in broker_urls(amqp_url):
        try:
            connection = await asyncio.wait_for(aio_pika.connect(url), 5)
        except Exception as exc:
            problems.append(f"{node_name(url)}: {type(exc).__name__}: {exc}")
            continue
        await connection.close()
        return None
    return "; ".join(problems)


async def _spawn(child: _Child) -> None:
    child.process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pakn", child.spec.name, env=os.environ.copy()
    )
    child.started_at = time.monotonic()
    log.info("started %s (pid %d)", child.spec.name, child.process.pid)


async def _watch(child: _Child) -> None:
    """Keep one service running: restart on death with backoff against crash loops."""
    while not child.stopping:
        await _spawn(child)
        assert child.process is not None
        code = await child.process.wait()
        if child.stopping:
            return
        lived = time.monotonic() - child.started_at
        child.backoff = 1.0 if lived >= STABLE_AFTER else min(child.backoff * 2, MAX_BACKOFF)
        child.restarts += 1
        log.error(
            "%s exited with %s after %.0f s; restarting in %.0f s",
            child.spec.name,
            code,
            lived,
            child.backoff,
        )
        await asyncio.sleep(child.backoff)


async def _stop(children: Sequence[_Child]) -> None:
    for child in children:
        child.stopping = True
        if child.process is not None and child.process.returncode is None:
            child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    for child in children:
        if child.process is None:
            continue
        remaining = max(0.1, deadline - time.monotonic())
        try:
            await asyncio.wait_for(child.process.wait(), remaining)
        except TimeoutError:
            log.warning("%s did not stop in %.0f s; killing it", child.spec.name, STOP_GRACE)
            child.process.kill()
            await child.process.wait()


async def run_up(settings: CoreSettings, services: dict[str, ServiceSpec]) -> int:
    """Run the whole stack in the foreground until Ctrl-C or SIGTERM."""
    problem = await broker_problem(settings.amqp_url.get_secret_value())
    if problem is not None:
        print(
            "RabbitMQ is not reachable at PAKN_AMQP_URL "
            f"({problem}).\nStart it with `rabbitmq-server -detached` "
            "(or `docker compose up -d rabbitmq`), or point PAKN_AMQP_URL at one.",
            file=sys.stderr,
        )
        return 1

    store: EmbeddedStore | None = None
    if settings.mongodb_url is None:
        store = await ensure_embedded_store(settings.db_port, settings.db_dir)
        origin = "started" if store.started_by_us else "already running"
        print(f"  store     {store.url} (embedded SecantusDB, {origin}, data in {settings.db_dir})")
    else:
        print("  store     PAKN_MONGODB_URL")

    children: list[_Child] = []
    for spec in services.values():
        reason = spec.skip_reason()
        if reason is not None:
            print(f"  {spec.name:<9} not started: {reason}")
            continue
        children.append(_Child(spec))
        url = spec.url()
        print(f"  {spec.name:<9} {url or ''}  {spec.summary}")
    print("Ctrl-C stops everything.", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    watchers = [asyncio.create_task(_watch(child)) for child in children]
    try:
        await stop.wait()
    finally:
        print("Stopping…", flush=True)
        # Watchers first, so none restarts a service we are about to stop.
        for child in children:
            child.stopping = True
        for task in watchers:
            task.cancel()
        for task in watchers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await _stop(children)
        if store is not None and store.started_by_us:
            await store.stop()
    return 0
