"""Fixtures for the web intake: the real app, built by its own factory, on real servers."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from aiohttp.web import Application, Request
from PIL import Image
from pydantic import SecretStr

from pakn.bus import SUBMISSIONS_QUEUE, declare_topology
from pakn_web.app import init_app
from pakn_web.settings import WebSettings
from tests.fixtures.broker import QueueInspector
from tests.fixtures.store import settings_for_test, url_with_database

WebClient = TestClient[Request, Application]
WebClientFactory = Callable[..., Awaitable[WebClient]]


@pytest.fixture
async def web_client_factory(
    aiohttp_client: Callable[[Application], Awaitable[WebClient]],
    mongodb_url: str,
    store_database: str,
    amqp_url: str,
    amqp_queues: QueueInspector,
    tmp_path: Path,
) -> AsyncIterator[WebClientFactory]:
    """``await web_client_factory(amqp=…, store=…, **settings)``: the app on this test's
    database (``store``: another URL for it, e.g. through a proxy)."""
    await declare_topology(await amqp_queues.channel())
    await amqp_queues.purge(SUBMISSIONS_QUEUE)

    async def make(
        *, amqp: str | None = None, store: str | None = None, **overrides: Any
    ) -> WebClient:
        overrides.setdefault("confirm_timeout", 2.0)
        settings = settings_for_test(
            WebSettings,
            store or url_with_database(mongodb_url, store_database),
            tmp_path / "var",
            amqp_url=SecretStr(amqp or amqp_url),
            **overrides,
        )
        return await aiohttp_client(await init_app(settings))

    yield make
    await amqp_queues.purge(SUBMISSIONS_QUEUE)


@pytest.fixture
async def web(web_client_factory: WebClientFactory, store: Any) -> WebClient:
    """The web app on this test's database (``store`` opens the same one, and drops it)."""
    return await web_client_factory()


def report(**overrides: Any) -> dict[str, Any]:
    """A clear, complete report as the app sends it."""
    occurred = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
    body: dict[str, Any] = {
        "title": "Nắp hố ga bị mất",
        "content": "Nắp hố ga trước nhà số 45 đường Lê Thánh Tôn bị mất từ chiều qua, xe máy "
        "đi qua rất dễ sụp bánh, đề nghị cơ quan chức năng xử lý gấp.",
        "occurred_at": occurred,
        "location": {"address": "45 Lê Thánh Tôn, phường Nha Trang"},
        "submitter": {
            "name": "Lê Thị Hoa",
            "phone": "0905 123 456",
            "email": "hoa.le@example.vn",
        },
        "consent": True,
    }
    body.update(overrides)
    return body


def jpeg(gps: tuple[float, float] | None = (12.2451, 109.1943), size: int = 64) -> bytes:
    image = Image.new("RGB", (size, size), (30, 120, 200))
    exif = Image.Exif()
    if gps is not None:

        def dms(value: float) -> tuple[float, float, float]:
            degrees = int(value)
            minutes = int((value - degrees) * 60)
            return (
                float(degrees),
                float(minutes),
                round(((value - degrees) * 60 - minutes) * 60, 4),
            )

        exif[0x8825] = {1: "N", 2: dms(gps[0]), 3: "E", 4: dms(gps[1])}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()
