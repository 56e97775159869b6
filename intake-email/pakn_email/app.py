"""`pakn email`: wiring of the mailbox worker, the outbox sender, the case-news follower and
the reconciliation, with /healthz and /metrics on PAKN_EMAIL_PORT (8084)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from pakn import connections, http, loops
from pakn.case_events import CaseEventFollower
from pakn.extract import PlaceFinder
from pakn.intake import IntakePath
from pakn.logs import configure_logging
from pakn.schema import Channel
from pakn.territory import load as load_province
from pakn_email.mailbox import TRANSIENT, MailboxWorker
from pakn_email.news import CaseNews
from pakn_email.outbox import Outbox
from pakn_email.reconcile import reconcile
from pakn_email.records import Records
from pakn_email.settings import EmailSettings

log = logging.getLogger(__name__)

WORKER = web.AppKey("mailbox_worker", MailboxWorker)
OUTBOX = web.AppKey("outbox", Outbox)


async def send_forever(outbox: Outbox, interval: float) -> None:
    """Send what is due, then wait a little; a letter that fails waits its own backoff."""
    while True:
        await outbox.send_due()
        await asyncio.sleep(interval)


async def reconcile_forever(worker: MailboxWorker, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            summary = await reconcile(worker.settings, worker.store)
        except TRANSIENT as exc:
            # The mailbox loop reports the server being away; the check waits for next time.
            log.warning("reconciliation skipped: %s", exc)
            continue
        if summary.unaccounted:
            log.error("reconciliation: %d messages without an outcome", len(summary.unaccounted))


def init_app(settings: EmailSettings) -> web.Application:
    app = http.new_service_app("email", trusted_proxies=settings.trusted_proxies)
    connections.connect(app, settings, name="pakn-email")
    province = load_province(settings.config_dir)

    async def components(app: web.Application) -> AsyncIterator[None]:
        store, bus = app[connections.STORE], app[connections.BUS]
        intake = IntakePath(store, bus, confirm_timeout=settings.confirm_timeout)
        worker = MailboxWorker(settings, store, intake, PlaceFinder(province))
        await Records(store).ensure_indexes()
        await worker.outbox.ensure_indexes()
        news = CaseNews(settings, worker.records, worker.outbox, province)
        follower = CaseEventFollower(
            channel=Channel.EMAIL, store=store, bus=bus, handler=news.handle
        )
        app[WORKER], app[OUTBOX] = worker, worker.outbox
        app[http.HEALTH_CHECKS].extend([("imap", worker.health), ("case-events", follower.health)])
        await follower.start()
        try:
            yield
        finally:
            await follower.stop()

    app.cleanup_ctx.append(components)
    loops.run_in_app(app, "email.mailbox", lambda: app[WORKER].run())
    loops.run_in_app(
        app, "email.outbox", lambda: send_forever(app[OUTBOX], settings.outbox_interval)
    )
    loops.run_in_app(
        app,
        "email.reconcile",
        lambda: reconcile_forever(app[WORKER], settings.reconcile_interval),
    )
    return app


def main() -> None:
    settings = EmailSettings()
    configure_logging("email", settings.log_level)

    async def factory() -> web.Application:
        return init_app(settings)

    http.run_app(factory, settings.host, settings.email_port, variable="PAKN_EMAIL_PORT")
