"""`pakn router`: wiring of the consumer, the classifier and the routing monitor on :8083."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

from aiohttp import web

from pakn import connections, http, loops, text
from pakn.auth.web import mount_staff_auth
from pakn.logs import configure_logging
from pakn.schema import Case, Submission
from pakn.worktime import WorkCalendar
from pakn_router.case_repository import backfill_report_facts
from pakn_router.classification import Classification
from pakn_router.classify import Classifier
from pakn_router.consumer import SubmissionRouter
from pakn_router.monitor.context import MonitorKeys
from pakn_router.monitor.mount import mount_monitor
from pakn_router.reports.pages import mount_reports
from pakn_router.settings import RouterSettings

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", RouterSettings)
STORE = connections.STORE
BUS = connections.BUS
CLASSIFIER = web.AppKey("classifier", Classifier)
ROUTER = web.AppKey("router", SubmissionRouter)


def classify_with(classifier: Classifier) -> Callable[[Submission | Case, str], Classification]:
    """The consumer's view of the classifier: what a submission says, where, with photos."""

    def classify(submission: Submission | Case, text: str) -> Classification:
        location = submission.location
        # Everything the citizen said about the place: the address box and the commune picked
        # from the list both count (a street name alone rarely names the ward).
        place = ", ".join(filter(None, [location.address, location.commune, location.legacy_area]))
        return classifier.classify(
            text,
            title=submission.title,
            address=place or None,
            lat=location.lat,
            lon=location.lon,
        )

    return classify


async def _routing(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    router = SubmissionRouter(
        store=app[STORE],
        bus=app[BUS],
        classify=classify_with(app[CLASSIFIER]),
        calendar=WorkCalendar.from_config_dir(settings.config_dir),
        prefetch=settings.router_prefetch,
        batch_size=settings.router_batch_size,
        batch_wait=settings.router_batch_wait,
        publish_timeout=settings.router_publish_timeout,
        reopen_window=timedelta(days=settings.reopen_days),
    )
    await router.start()
    app[ROUTER] = router
    app[http.HEALTH_CHECKS].append(("routing", router.health))
    log.info("routing with rules %s", app[CLASSIFIER].rules_version)
    try:
        yield
    finally:
        await router.stop()


async def backfill_then_rest(router: SubmissionRouter) -> None:
    """The report facts of cases stored without them (pakn.report_facts), once per start, in
    the background: the router routes meanwhile, and a report counts the cases still
    without facts as received only, saying how many."""
    written = await backfill_report_facts(router.store, router.calendar)
    if written:
        log.info("report facts written for %d stored case(s)", written)
    # Done until the next start; a loop that ended would be restarted as failed.
    await asyncio.Event().wait()


async def init_app(settings: RouterSettings) -> web.Application:
    app = http.new_service_app("router", trusted_proxies=settings.trusted_proxies)
    app[SETTINGS] = settings
    mount_staff_auth(app, store_key=STORE, settings=settings)
    # Loaded before anything connects: a broken province folder stops the start, loudly.
    app[CLASSIFIER] = Classifier.from_config_dir(settings.config_dir)
    # The router masks every case (the only service that does): its first case would wait.
    text.prepare()
    connections.connect(app, settings, name="pakn-router")
    app.cleanup_ctx.append(_routing)
    loops.run_in_app(
        app,
        "router.worker",
        lambda: app[ROUTER].run(),
        initial_backoff=settings.router_loop_backoff,
    )
    loops.run_in_app(
        app,
        "router.report_facts",
        lambda: backfill_then_rest(app[ROUTER]),
        initial_backoff=settings.router_loop_backoff,
    )
    # After the router: the monitor's start-up uses the store, bus and router connected above.
    mount_monitor(
        app,
        MonitorKeys(SETTINGS, STORE, BUS, CLASSIFIER, ROUTER),
        sweep_interval=settings.router_sweep_interval,
        loop_backoff=settings.router_loop_backoff,
    )
    mount_reports(app)
    return app


def main() -> None:
    settings = RouterSettings()
    configure_logging("router", settings.log_level)
    http.run_app(
        lambda: init_app(settings), settings.host, settings.router_port, variable="PAKN_ROUTER_PORT"
    )
