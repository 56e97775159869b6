"""``mount_monitor(app, keys)``: the monitor's routes, pages and background work on the router."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from pakn import http, loops
from pakn.worktime import utc_now
from pakn_router.agency import api as agency_api
from pakn_router.agency import pages as agency_pages
from pakn_router.monitor import api, pages
from pakn_router.monitor.context import MONITOR, Monitor, MonitorKeys
from pakn_router.monitor.dead_letters import DeadLetterKeeper
from pakn_router.monitor.stream import Hub, dead_letter_update
from pakn_router.monitor.sweeper import DEFAULT_INTERVAL, Sweeper

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
KEEPER = web.AppKey("pakn_monitor_dead_letters", DeadLetterKeeper)
SWEEPER = web.AppKey("pakn_monitor_sweeper", Sweeper)


def mount_monitor(
    app: web.Application,
    keys: MonitorKeys,
    *,
    clock: Callable[[], datetime] = utc_now,
    sweep_interval: float = DEFAULT_INTERVAL,
    loop_backoff: float = loops.INITIAL_BACKOFF,
) -> Monitor:
    """Add the monitor to the router's ``app``: after ``mount_staff_auth`` (its middleware
    guards every route here) and after the clean-up context that connects the store, the bus
    and the router (the monitor's own start-up uses them)."""
    classifier = app[keys.classifier]
    monitor = Monitor(keys=keys, config=classifier.config, sla=classifier.sla, clock=clock)
    app[MONITOR] = monitor
    app[api.HUB] = Hub(monitor.agency_name)
    aiohttp_jinja2.setup(
        app,
        app_key=pages.JINJA,
        # The agency workspace's pages share the monitor's base and filters.
        loader=jinja2.FileSystemLoader([HERE / "templates", HERE.parent / "agency" / "templates"]),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
        filters=pages.FILTERS,
    )
    api.add_routes(app)
    pages.add_routes(app)
    # The agency workspace beside the monitor: same login, same guards, same pages' look.
    agency_api.add_routes(app)
    agency_pages.add_routes(app)
    app.router.add_static("/static/", HERE / "static")

    async def running(app: web.Application) -> AsyncIterator[None]:
        monitor.app = app
        hub = app[api.HUB]
        keeper = DeadLetterKeeper(
            monitor.store,
            monitor.bus,
            clock=clock,
            on_new=lambda letter: hub.publish(dead_letter_update(letter)),
        )
        sweeper = Sweeper(
            monitor.store,
            monitor.router,
            clock=clock,
            interval=sweep_interval,
            agency_name=monitor.agency_name,
        )
        await keeper.start()
        try:
            await hub.start(monitor.bus)
            try:
                # Events a crash left behind go out, and overdue cases are flagged, before
                # the service answers its first request.
                await sweeper.sweep()
            except Exception:  # the supervised sweeper tries again; the service still starts
                log.exception("start-up sweep failed, the next is in %.0f s", sweep_interval)
            app[KEEPER], app[SWEEPER] = keeper, sweeper
            app[http.HEALTH_CHECKS].append(("dead_letters", keeper.health))
            yield
        finally:
            await hub.close()
            await keeper.stop()

    async def close_streams(app: web.Application) -> None:
        # Open event streams would hold the shutdown until their clients leave.
        await app[api.HUB].close()

    app.cleanup_ctx.append(running)
    # After ``running``: the loops find the keeper and the sweeper it made, and stop first.
    loops.run_in_app(
        app, "router.dead_letters", lambda: app[KEEPER].run(), initial_backoff=loop_backoff
    )
    loops.run_in_app(
        app, "router.sweeper", lambda: app[SWEEPER].run(), initial_backoff=loop_backoff
    )
    app.on_shutdown.append(close_streams)
    return monitor
