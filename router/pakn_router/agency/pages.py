"""The agency workspace's pages (placeholder until the pages land)."""

from __future__ import annotations

from aiohttp import web


def add_routes(app: web.Application) -> None:
    del app
