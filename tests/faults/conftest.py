"""Fault drills reuse the web intake's and the router's own fixtures."""

from tests.pakn_router.conftest import events, router_settings
from tests.pakn_web.conftest import web, web_client_factory

__all__ = ["events", "router_settings", "web", "web_client_factory"]
