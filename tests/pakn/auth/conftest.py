"""A bare service app with staff login mounted and a few protected routes, on the real store."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pydantic import SecretStr

from pakn import http
from pakn.auth.settings import CHEAP_ARGON2, AuthSettings
from pakn.auth.users import Actor, Passwords, Role, User, create_user
from pakn.auth.web import SESSION_COOKIE, mount_staff_auth, require, staff_of
from pakn.settings import StaffServiceSettings
from pakn.store import Store
from tests.fixtures.store import settings_for_test, url_with_database

Client = TestClient[web.Request, web.Application]
ClientFactory = Callable[..., Awaitable[Client]]

STORE = web.AppKey("store", Store)
AGENCIES = frozenset({"so-xay-dung", "so-y-te"})
#: Long enough for the policy, and not ASCII: what staff really type.
PASSWORD = "Nha Trang mùa mưa 2026"
SECRET = "test-session-secret-0123456789abcdef"


class FakeClock:
    """Now, until a test moves it (stored times keep milliseconds only, like MongoDB)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@require(Role.OPERATOR, Role.ADMIN)
async def assign(request: web.Request) -> web.Response:
    """Stands for a monitor action: operators and administrators only."""
    return web.json_response({"assigned": True, "by": staff_of(request).username})


@require(*Role)
async def console(request: web.Request) -> web.Response:
    """Stands for a console page any staff may open."""
    return web.Response(
        text=f"<p>Xin chào {staff_of(request).user.display_name}</p>", content_type="text/html"
    )


@require(Role.ADMIN)
async def settings_page(request: web.Request) -> web.Response:
    """Stands for a page only administrators may open."""
    return web.Response(text="<p>Cài đặt</p>", content_type="text/html")


def build_app(
    store: Store, settings: StaffServiceSettings, auth: AuthSettings, clock: FakeClock
) -> web.Application:
    app = http.new_service_app("auth-test", trusted_proxies=settings.trusted_proxies)
    app[STORE] = store
    mount_staff_auth(
        app,
        store_key=STORE,
        settings=settings,
        auth_settings=auth,
        agencies=AGENCIES,
        clock=clock,
    )
    app.router.add_post("/api/v1/assign", assign)
    app.router.add_get("/console", console)
    app.router.add_get("/cai-dat", settings_page)
    return app


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def staff_settings(mongodb_url: str, store_database: str, tmp_path: Path) -> StaffServiceSettings:
    # The test client connects from 127.0.0.1: trusting it lets X-Forwarded-For pick the
    # address a request comes from.
    return settings_for_test(
        StaffServiceSettings,
        url_with_database(mongodb_url, store_database),
        tmp_path / "var",
        session_secret=SecretStr(SECRET),
        trusted_proxies="127.0.0.1/32",
    )


@pytest.fixture
def make_client(
    aiohttp_client: Callable[..., Awaitable[Client]],
    store: Store,
    staff_settings: StaffServiceSettings,
    clock: FakeClock,
) -> ClientFactory:
    """``await make_client(browser=False, settings=…, **auth_overrides)``.

    API clients keep no cookies (each request names its session); a browser client does.
    """

    async def make(
        *,
        browser: bool = False,
        settings: StaffServiceSettings | None = None,
        **overrides: Any,
    ) -> Client:
        service = settings or staff_settings
        auth = AuthSettings.from_settings(service, **overrides)
        app = build_app(store, service, auth, clock)
        if browser:
            return await aiohttp_client(app)
        return await aiohttp_client(app, cookie_jar=aiohttp.DummyCookieJar())

    return make


@pytest.fixture
async def client(make_client: ClientFactory) -> Client:
    return await make_client()


async def add_user(
    store: Store,
    username: str,
    role: Role,
    agency: str | None = None,
    *,
    password: str = PASSWORD,
    display_name: str | None = None,
) -> User:
    return await create_user(
        store,
        Passwords(CHEAP_ARGON2),
        Actor.command_line(),
        username=username,
        password=password,
        role=role.value,
        agency=agency,
        display_name=display_name,
        now=datetime.now(UTC),
    )


@dataclass(frozen=True)
class Agent:
    """One logged-in user of the API: the session cookie and CSRF token to send."""

    token: str
    csrf_token: str

    @property
    def cookies(self) -> dict[str, str]:
        return {SESSION_COOKIE: self.token}

    @property
    def headers(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf_token}


def via(address: str) -> dict[str, str]:
    """Headers making a request come from ``address`` (through the trusted local proxy)."""
    return {"X-Forwarded-For": address}


async def log_in(client: Client, username: str, password: str = PASSWORD, **kwargs: Any) -> Agent:
    response = await client.post(
        "/api/v1/session", json={"username": username, "password": password}, **kwargs
    )
    assert response.status == 200, await response.text()
    body = await response.json()
    return Agent(response.cookies[SESSION_COOKIE].value, body["csrf_token"])


async def audit_log(store: Store, action: str | None = None) -> list[dict[str, Any]]:
    query = {} if action is None else {"action": action}
    # Insertion order: the fake clock gives many entries the same time.
    return await store.audit.find(query).sort("_id", 1).to_list()
