"""Fixtures for the chatbot: the real app on real servers, a stand-in for the platforms'
send APIs (a local aiohttp server that records what it is sent and can be told to fail),
and the router in-process to turn chat reports into cases."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image
from pydantic import SecretStr

from pakn.bus import SUBMISSIONS_QUEUE, declare_topology
from pakn.store import Store
from pakn_chatbot.app import init_app
from pakn_chatbot.settings import ChatbotSettings
from tests.fixtures.broker import QueueInspector
from tests.fixtures.store import settings_for_test, url_with_database
from tests.pakn_router.conftest import events, router, router_settings

__all__ = ["events", "router", "router_settings"]

ChatClient = TestClient[web.Request, web.Application]

MESSENGER_SECRET = "messenger-app-secret"
MESSENGER_VERIFY = "verify-me"
ZALO_APP_ID = "1234567890"
ZALO_OA_SECRET = "zalo-oa-secret"
ZALO_APP_SECRET = "zalo-app-secret"


def jpeg(size: int = 32) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (200, 30, 30)).save(out, format="JPEG")
    return out.getvalue()


@dataclass
class Platforms:
    """The platforms' APIs as the chatbot sees them: records sends, fails on request."""

    server: TestServer
    messenger: list[dict[str, Any]] = field(default_factory=list)
    zalo: list[dict[str, Any]] = field(default_factory=list)
    zalo_tokens: list[str] = field(default_factory=list)
    refreshes: list[dict[str, str]] = field(default_factory=list)
    attempts: int = 0
    #: The next sends answer 500 this many times.
    fail_next: int = 0
    #: Zalo answers "access token expired" while it is given this token.
    expired_token: str | None = None
    #: Messenger refuses tagged messages outside the window (as Meta does without a tag).
    refuse_tags: bool = False
    photos: dict[str, bytes] = field(default_factory=dict)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def wait_for(self, what: Callable[[], bool], *, within: float = 15.0) -> None:
        async with asyncio.timeout(within):
            while not what():
                self.arrived.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.arrived.wait(), 0.2)

    def texts(self, platform: str) -> list[str]:
        sent = self.messenger if platform == "messenger" else self.zalo
        return [item["message"]["text"] for item in sent]


@contextlib.asynccontextmanager
async def platform_server() -> AsyncIterator[Platforms]:
    """A local server standing in for Meta's and Zalo's APIs and the photos they host."""
    app = web.Application()
    state: dict[str, Platforms] = {}

    async def messenger_send(request: web.Request) -> web.Response:
        p = state["p"]
        p.attempts += 1
        if p.fail_next > 0:
            p.fail_next -= 1
            return web.json_response({"error": {"code": 2, "message": "temporary"}}, status=500)
        body = await request.json()
        if p.refuse_tags and body.get("messaging_type") == "MESSAGE_TAG":
            return web.json_response(
                {"error": {"code": 10, "error_subcode": 2018278, "message": "outside window"}},
                status=400,
            )
        body["access_token"] = request.query.get("access_token")
        p.messenger.append(body)
        p.arrived.set()
        return web.json_response({"recipient_id": body["recipient"]["id"], "message_id": "m1"})

    async def zalo_send(request: web.Request) -> web.Response:
        p = state["p"]
        p.attempts += 1
        if p.fail_next > 0:
            p.fail_next -= 1
            return web.Response(status=503)
        token = request.headers.get("access_token", "")
        if p.expired_token is not None and token == p.expired_token:
            return web.json_response({"error": -216, "message": "Access token is invalid"})
        body = await request.json()
        p.zalo.append(body)
        p.zalo_tokens.append(token)
        p.arrived.set()
        return web.json_response({"error": 0, "message": "Success", "data": {"message_id": "z1"}})

    async def zalo_refresh(request: web.Request) -> web.Response:
        p = state["p"]
        form = dict(await request.post())
        p.refreshes.append({**{k: str(v) for k, v in form.items()},
                            "secret_key": request.headers.get("secret_key", "")})  # fmt: skip
        n = len(p.refreshes)
        return web.json_response(
            {"access_token": f"access-{n}", "refresh_token": f"refresh-{n}", "expires_in": "90000"}
        )

    async def photo(request: web.Request) -> web.Response:
        data = state["p"].photos.get(request.match_info["name"])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="application/octet-stream")

    app.router.add_post("/graph/me/messages", messenger_send)
    app.router.add_post("/zalo/v3.0/oa/message/cs", zalo_send)
    app.router.add_post("/oauth/v4/oa/access_token", zalo_refresh)
    app.router.add_get("/photos/{name}", photo)
    server = TestServer(app)
    await server.start_server()
    state["p"] = Platforms(server)
    try:
        yield state["p"]
    finally:
        await server.close()


@pytest.fixture
async def platforms() -> AsyncIterator[Platforms]:
    async with platform_server() as platforms:
        yield platforms


def chatbot_test_settings(
    mongodb_url: str, amqp_url: str, var_dir: Path, platforms: Platforms
) -> ChatbotSettings:
    """The chatbot on this store and broker, talking to ``platforms``, with quick retries."""
    return settings_for_test(
        ChatbotSettings,
        mongodb_url,
        var_dir,
        amqp_url=SecretStr(amqp_url),
        confirm_timeout=3.0,
        messenger_verify_token=SecretStr(MESSENGER_VERIFY),
        messenger_app_secret=SecretStr(MESSENGER_SECRET),
        messenger_page_token=SecretStr("page-token"),
        messenger_api_base=platforms.url("/graph"),
        zalo_app_id=ZALO_APP_ID,
        zalo_app_secret=SecretStr(ZALO_APP_SECRET),
        zalo_oa_secret=SecretStr(ZALO_OA_SECRET),
        zalo_oa_token=SecretStr("access-0"),
        zalo_api_base=platforms.url("/zalo"),
        zalo_oauth_base=platforms.url("/oauth"),
        outbox_interval=0.2,
        outbox_first_backoff=0.2,
        outbox_max_backoff=1.0,
    )


@pytest.fixture
def chatbot_settings(
    mongodb_url: str,
    store_database: str,
    amqp_url: str,
    tmp_path: Path,
    platforms: Platforms,
) -> ChatbotSettings:
    return chatbot_test_settings(
        url_with_database(mongodb_url, store_database), amqp_url, tmp_path / "var", platforms
    )


ChatFactory = Callable[..., Awaitable[ChatClient]]


@pytest.fixture
async def chat_factory(
    aiohttp_client: Callable[[web.Application], Awaitable[ChatClient]],
    chatbot_settings: ChatbotSettings,
    amqp_queues: QueueInspector,
    store: Store,
) -> AsyncIterator[ChatFactory]:
    """``await chat_factory(**overrides)``: a chatbot on this test's database and vhost."""
    await declare_topology(await amqp_queues.channel())
    await amqp_queues.purge(SUBMISSIONS_QUEUE)

    async def make(**overrides: Any) -> ChatClient:
        settings = chatbot_settings.model_copy(update=overrides)
        return await aiohttp_client(await init_app(settings))

    yield make
    await amqp_queues.purge(SUBMISSIONS_QUEUE)


@pytest.fixture
async def chat(chat_factory: ChatFactory) -> ChatClient:
    return await chat_factory()


async def say(chat: ChatClient, user: str, text: str, **extra: Any) -> list[str]:
    response = await chat.post("/webhook/generic", json={"user_id": user, "text": text, **extra})
    assert response.status == 200, await response.text()
    replies: list[str] = (await response.json())["replies"]
    return replies
