"""Fixtures for the hotline: the real app from its own factory, the router beside it, agents."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from aiohttp.web import Application, Request
from prometheus_client import REGISTRY
from pydantic import SecretStr

from pakn.auth.users import Role
from pakn.bus import SUBMISSIONS_QUEUE, case_events_queue, declare_topology
from pakn.store import Store
from pakn_hotline.app import init_app
from pakn_hotline.settings import HotlineSettings
from pakn_router.app import init_app as init_router
from pakn_router.settings import RouterSettings
from tests.fixtures.broker import QueueInspector
from tests.fixtures.store import settings_for_test, url_with_database
from tests.pakn.auth.conftest import PASSWORD, add_user
from tests.pakn_router.conftest import router_settings

__all__ = ["router_settings"]

Client = TestClient[Request, Application]
API_KEY = "test-hotline-key-0123456789"
SECRET = "test-session-secret-0123456789abcdef"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def hotline_settings(
    mongodb_url: str, store_database: str, amqp_url: str, tmp_path: Path
) -> HotlineSettings:
    return settings_for_test(
        HotlineSettings,
        url_with_database(mongodb_url, store_database),
        tmp_path / "var",
        amqp_url=SecretStr(amqp_url),
        session_secret=SecretStr(SECRET),
        hotline_api_key=SecretStr(API_KEY),
        hotline_confirm_timeout=5.0,
    )


@pytest.fixture
async def hotline(
    aiohttp_client: Callable[[Application], Awaitable[Client]],
    hotline_settings: HotlineSettings,
    store: Store,
    amqp_queues: QueueInspector,
) -> AsyncIterator[Client]:
    """The hotline on this test's database and this run's vhost (cookies kept, as a browser)."""
    await declare_topology(await amqp_queues.channel())
    await amqp_queues.purge(SUBMISSIONS_QUEUE)
    client = await aiohttp_client(await init_app(hotline_settings))
    yield client
    await amqp_queues.purge(SUBMISSIONS_QUEUE, case_events_queue("hotline"))


@pytest.fixture
async def router(
    aiohttp_client: Callable[[Application], Awaitable[Client]],
    router_settings: RouterSettings,
    store: Store,
) -> Client:
    """The router consuming what the hotline publishes, writing the same database."""
    return await aiohttp_client(await init_router(router_settings))


@dataclass
class Agent:
    client: Client
    csrf_token: str

    async def page(self, path: str, *, status: int = 200) -> str:
        response = await self.client.get(path, headers={"Accept": "text/html"})
        text = await response.text()
        assert response.status == status, text
        return text

    async def post(self, path: str, data: dict[str, Any], **kwargs: Any) -> Any:
        return await self.client.post(
            path,
            data={"csrf_token": self.csrf_token, **data},
            headers={"Accept": "text/html"},
            allow_redirects=False,
            **kwargs,
        )

    async def open_call(self, caller_number: str = "0905123456") -> str:
        """A new console call; returns the path of its first report."""
        response = await self.post("/cuoc-goi", {"caller_number": caller_number})
        assert response.status == 303, await response.text()
        location: str = response.headers["Location"]
        return location


async def log_in_as(
    client: Client, store: Store, username: str, role: Role, agency: str | None = None
) -> Agent:
    await add_user(store, username, role, agency)
    response = await client.post(
        "/api/v1/session", json={"username": username, "password": PASSWORD}
    )
    assert response.status == 200, await response.text()
    return Agent(client, (await response.json())["csrf_token"])


@pytest.fixture
async def agent(hotline: Client, store: Store) -> Agent:
    return await log_in_as(hotline, store, "tdv01", Role.HOTLINE_AGENT)


def metric(name: str, labels: dict[str, str] | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


def report_form(**overrides: str) -> dict[str, str]:
    """A complete report as an agent would type it while the caller speaks."""
    form = {
        "name": "Trần Văn Bình",
        "phone": "0905123456",
        "content": "Ống nước bị vỡ trước nhà số 45 Trần Phú, nước chảy lênh láng ra đường, "
        "cả khu phố mất nước từ tối qua.",
        "commune": "Phường Nha Trang",
        "street": "45 Trần Phú",
        "occurred": "tối qua lúc 9h",
        "consent": "1",
        "action": "submit",
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v != ""}
