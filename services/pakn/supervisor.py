"""`pakn up`: the embedded store, then every service as its own process, restarted if it dies."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import aio_pika
import aiohttp

from pakn import devmail
from pakn.brokers import broker_urls, node_name
from pakn.embedded import EmbeddedStore, ensure_embedded_store
from pakn.http import EXIT_PORT_BUSY, port_busy_line, port_in_use
from pakn.service import ServiceSpec
from pakn.settings import CoreSettings

log = logging.getLogger("pakn.up")

#: A service that ran this long before dying is restarted at once; a quicker death backs off.
STABLE_AFTER = 60.0
MAX_BACKOFF = 30.0
STOP_GRACE = 10.0
#: After this long without every /healthz answering 200, `pakn up` says who is not ready.
READY_WITHIN = 60.0


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
    # A session of its own: a terminal's Ctrl-C goes to the foreground group, and a service in
    # it got that SIGINT and then `pakn up`'s SIGTERM in the middle of its clean-up, which
    # then failed with a traceback (a consumer cancelled on a channel being torn down). Out
    # of the group, each service hears one signal: `pakn up`'s.
    child.process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pakn", child.spec.name, env=os.environ.copy(), start_new_session=True
    )
    child.started_at = time.monotonic()
    log.info("started %s (pid %d)", child.spec.name, child.process.pid)


@dataclass
class _Outcome:
    """How `pakn up` ends: 0 after Ctrl-C, or why it had to stop on its own."""

    code: int = 0


async def _watch(child: _Child, stop: asyncio.Event, outcome: _Outcome) -> None:
    """Keep one service running: restart on death with backoff against crash loops."""
    while not child.stopping:
        await _spawn(child)
        assert child.process is not None
        code = await child.process.wait()
        if child.stopping:
            return
        if code == EXIT_PORT_BUSY:
            # It said which variable to set; restarting cannot free the port.
            log.error("%s could not listen on its port; stopping the stack", child.spec.name)
            outcome.code = EXIT_PORT_BUSY
            stop.set()
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


class Console:
    """What `pakn up` tells people on stdout, surviving a reader that went away.

    `pakn up | tee out.log` then Ctrl-C kills tee first: the next print raises
    BrokenPipeError, and a print in the shutdown path must never skip stopping the store
    and the services. After the first broken write, stdout points at /dev/null.
    """

    def __init__(self) -> None:
        self.broken = False

    def say(self, text: str) -> None:
        if self.broken:
            return
        try:
            print(text, flush=True)
        except (BrokenPipeError, ValueError, OSError):
            self.broken = True
            with contextlib.suppress(OSError, ValueError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                os.close(devnull)


def _busy_ports(children: Sequence[_Child]) -> list[str]:
    lines = []
    for child in children:
        where = child.spec.listen()
        if where is not None and port_in_use(where.host, where.port):
            lines.append(port_busy_line(where.host, where.port, where.variable))
    return lines


async def _wait_ready(
    children: Sequence[_Child],
    store: str,
    console: Console,
    *,
    extra: Sequence[str] = (),
    within: float = READY_WITHIN,
) -> None:
    """Say "ready" once, with every URL, when each service answers its /healthz with 200."""
    pending = {
        child.spec.name: where.health_url
        for child in children
        if (where := child.spec.listen()) is not None
    }
    deadline = time.monotonic() + within
    warned = False
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        while pending:
            for name, url in list(pending.items()):
                try:
                    async with session.get(url) as response:
                        if response.status == 200:
                            del pending[name]
                except (aiohttp.ClientError, TimeoutError):
                    pass
            if pending and not warned and time.monotonic() > deadline:
                warned = True
                log.warning("not ready after %.0f s: %s", within, ", ".join(sorted(pending)))
            if pending:
                await asyncio.sleep(0.25)
    urls = [f"{child.spec.name} {child.spec.url() or '-'}" for child in children]
    console.say(f"Sẵn sàng / ready: {' · '.join([*urls, f'store {store}', *extra])}")


def _dev_mailbox(
    settings: CoreSettings, services: dict[str, ServiceSpec]
) -> devmail.DevMailbox | None:
    """The development mailbox to run, or None (a mailbox is configured, production, no
    `pakn email`, or no Dovecot — the email service's own skip reason says that one)."""
    wanted = devmail.dev_mailbox_wanted(
        imap_host=os.environ.get("PAKN_IMAP_HOST"),
        is_dev=settings.is_dev,
        email_installed=devmail.EMAIL_SERVICE in services,
    )
    if not wanted or devmail.dovecot_binary() is None:
        return None
    return devmail.DevMailbox(devmail.DevMailSettings())


async def _start_mailbox(mailbox: devmail.DevMailbox, console: Console) -> str | None:
    """Start the development mailbox and say where it is; its part of the ready line, or
    None when it could not start (then `pakn email` is not started either)."""
    try:
        state = await asyncio.to_thread(mailbox.start)
    except (RuntimeError, OSError) as exc:
        log.error("the development mailbox did not start: %s", exc)
        console.say(f"  {devmail.EMAIL_SERVICE:<9} not started: the development mailbox failed")
        return None
    console.say(
        f"  mail      imap://{state.user}@{devmail.LOOPBACK}:{state.imap_port} "
        f"(password in {mailbox.mail_dir / devmail.STATE_FILE}), "
        f"smtp {devmail.LOOPBACK}:{state.smtp_port}  development mailbox "
        f"(Dovecot); what `pakn email` sends is kept in {state.sent}"
    )
    return f"mail imap://{devmail.LOOPBACK}:{state.imap_port} → {state.sent}"


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


async def run_up(settings: CoreSettings, services: dict[str, ServiceSpec]) -> int:
    """Run the whole stack in the foreground until Ctrl-C, SIGTERM or SIGHUP (the terminal
    closed: the services, in sessions of their own, would not hear of it).

    Returns 0 after Ctrl-C, 1 when the broker is unreachable, EXIT_PORT_BUSY when a port is
    taken (before anything starts, or by a service that could not bind later).
    """
    console = Console()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # First: a Ctrl-C while the store starts must still reach the clean-up below.
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    try:
        return await _run(settings, services, console, stop)
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)


async def _run(
    settings: CoreSettings,
    services: dict[str, ServiceSpec],
    console: Console,
    stop: asyncio.Event,
) -> int:
    problem = await broker_problem(settings.amqp_url.get_secret_value())
    if problem is not None:
        print(
            "RabbitMQ is not reachable at PAKN_AMQP_URL "
            f"({problem}).\nStart it with `rabbitmq-server -detached` "
            "(or `docker compose up -d rabbitmq`), or point PAKN_AMQP_URL at one.",
            file=sys.stderr,
        )
        return 1

    mailbox = _dev_mailbox(settings, services)
    if mailbox is not None:
        left = await asyncio.to_thread(devmail.stop_left_behind, mailbox.mail_dir)
        if left is not None:
            console.say(f"  mail      stopped the Dovecot an earlier run left behind (pid {left})")
        # Before the skip reasons are asked: `pakn email` then sees a mailbox to read, in
        # `pakn up` and in the process it spawns (which inherits this environment).
        os.environ.update(mailbox.state.email_environment())
    children: list[_Child] = []
    skipped: list[str] = []
    for spec in services.values():
        reason = spec.skip_reason()
        if reason is not None:
            skipped.append(f"  {spec.name:<9} not started: {reason}")
        else:
            children.append(_Child(spec))
    busy = _busy_ports(children)
    if mailbox is not None:
        busy += [
            port_busy_line(devmail.LOOPBACK, port, variable)
            for port, variable in mailbox.ports()
            if port_in_use(devmail.LOOPBACK, port)
        ]
    if busy:
        for line in busy:
            print(line, file=sys.stderr, flush=True)
        return EXIT_PORT_BUSY

    store: EmbeddedStore | None = None
    if settings.mongodb_url is None:
        store = await ensure_embedded_store(settings.db_port, settings.db_dir)
        origin = "started" if store.started_by_us else "already running"
        if not store.started_by_us and store.pid is not None:
            # Our own folder's pidfile names it: a store an earlier run (or `pakn web` alone)
            # left behind. `pakn up` owns the local stack, so it stops this one too on exit,
            # instead of adopting it and leaving it again.
            store = dataclasses.replace(store, started_by_us=True)
            origin = "left running earlier; stopped with the rest"
        store_url = store.url
        console.say(
            f"  store     {store.url} (embedded SecantusDB, {origin}, data in {settings.db_dir})"
        )
    else:
        store_url = "PAKN_MONGODB_URL"
        console.say("  store     PAKN_MONGODB_URL")
    for line in skipped:
        console.say(line)
    mail_ready: list[str] = []
    if mailbox is not None:
        started = await _start_mailbox(mailbox, console)
        if started is None:
            children = [c for c in children if c.spec.name != devmail.EMAIL_SERVICE]
            mailbox = None
        else:
            mail_ready = [started]
    for child in children:
        console.say(f"  {child.spec.name:<9} {child.spec.url() or ''}  {child.spec.summary}")
    console.say("Ctrl-C stops everything.")

    outcome = _Outcome()
    watchers = [asyncio.create_task(_watch(child, stop, outcome)) for child in children]
    ready = asyncio.create_task(_wait_ready(children, store_url, console, extra=mail_ready))
    try:
        if not stop.is_set():
            await stop.wait()
    finally:
        ready.cancel()
        console.say("Stopping…")
        # Watchers first, so none restarts a service we are about to stop.
        for child in children:
            child.stopping = True
        for task in [*watchers, ready]:
            task.cancel()
        for task in [*watchers, ready]:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await _stop(children)
        if mailbox is not None:
            await asyncio.to_thread(mailbox.stop)
        if store is not None and store.started_by_us:
            await store.stop()
        console.say("Stopped.")
    return outcome.code
