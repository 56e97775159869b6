"""A service's links to the store and the broker, opened and closed with its application.

app = http.new_service_app("email", trusted_proxies=settings.trusted_proxies)
connections.connect(app, settings, name="pakn-email")
# handlers and loops use app[connections.STORE] and app[connections.BUS]
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from pakn import http
from pakn.bus import Bus
from pakn.settings import CoreSettings
from pakn.store import Store, connect_store

log = logging.getLogger(__name__)

STORE = web.AppKey("store", Store)
BUS = web.AppKey("bus", Bus)


def connect(app: web.Application, settings: CoreSettings, *, name: str) -> None:
    """Connect the store and the bus when ``app`` starts, with /healthz checks ``store`` and
    ``broker``; close both when it stops, whatever failed in between (try/finally).

    Contexts appended to ``app.cleanup_ctx`` after this one find both connected, and are
    cleaned up before they close."""

    async def connections(app: web.Application) -> AsyncIterator[None]:
        store = await connect_store(settings, appname=name)
        try:
            bus = Bus(settings.amqp_url.get_secret_value(), name=name)
            try:
                await bus.start()
                app[STORE], app[BUS] = store, bus
                app[http.HEALTH_CHECKS].extend([("store", store.health), ("broker", bus.health)])
                yield
            finally:
                await bus.close()
        finally:
            await store.close()

    app.cleanup_ctx.append(connections)
