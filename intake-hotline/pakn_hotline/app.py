"""`pakn hotline`: the agents' console and the phone system's API on :8081 (wiring)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from pakn import connections, http
from pakn.auth.web import mount_staff_auth
from pakn.case_events import CaseEventFollower
from pakn.extract import PlaceFinder
from pakn.intake import IntakePath
from pakn.logs import configure_logging
from pakn.safety import load_safety
from pakn.schema import Channel
from pakn.territory import load as load_province
from pakn.worktime import local_text
from pakn_hotline import callbacks as callback_store
from pakn_hotline import console, telephony
from pakn_hotline.callbacks import CallbackList
from pakn_hotline.context import (
    AGENCY_NAMES,
    API_KEY,
    COMMUNES,
    PLACES,
    SAFETY,
    SERVICES,
    SETTINGS,
    Services,
)
from pakn_hotline.drafts import CallDrafts
from pakn_hotline.settings import HotlineSettings

log = logging.getLogger(__name__)

HERE = Path(__file__).parent


def _localtime(value: datetime | None) -> str:
    return local_text(value) if value is not None else ""


async def _hotline(app: web.Application) -> AsyncIterator[None]:
    """After the store and the bus are connected: drafts, call-backs and the case events."""
    store, bus = app[connections.STORE], app[connections.BUS]
    settings = app[SETTINGS]
    drafts = CallDrafts(store)
    await drafts.ensure_indexes()
    await callback_store.callbacks(store).create_indexes(callback_store.INDEXES)
    callback_list = CallbackList(store)
    follower = CaseEventFollower(
        channel=Channel.HOTLINE, store=store, bus=bus, handler=callback_list.on_case_event
    )
    await follower.start()
    app[SERVICES] = Services(
        store=store,
        bus=bus,
        drafts=drafts,
        callbacks=callback_list,
        intake=IntakePath(store, bus, confirm_timeout=settings.hotline_confirm_timeout),
    )
    app[http.HEALTH_CHECKS].append(("case-events", follower.health))
    try:
        yield
    finally:
        await follower.stop()


async def init_app(settings: HotlineSettings) -> web.Application:
    app = http.new_service_app("hotline", trusted_proxies=settings.trusted_proxies)
    app[SETTINGS] = settings
    # Loaded before anything connects: a broken province folder stops the start, loudly.
    province = load_province(settings.config_dir)
    app[PLACES] = PlaceFinder(province)
    app[COMMUNES] = sorted((loc.name for loc in province.localities), key=str.casefold)
    app[AGENCY_NAMES] = {agency.code: agency.name for agency in province.agencies}
    app[SAFETY] = load_safety(settings.config_dir)
    app[API_KEY] = settings.resolved_api_key()
    mount_staff_auth(app, store_key=connections.STORE, settings=settings)
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
    )
    env.filters["localtime"] = _localtime
    connections.connect(app, settings, name="pakn-hotline")
    app.cleanup_ctx.append(_hotline)
    console.add_routes(app)
    telephony.add_routes(app)
    app.router.add_static("/static", HERE / "static")
    return app


def main() -> None:
    settings = HotlineSettings()
    configure_logging("hotline", settings.log_level)
    http.run_app(
        lambda: init_app(settings),
        settings.host,
        settings.hotline_port,
        variable="PAKN_HOTLINE_PORT",
    )
