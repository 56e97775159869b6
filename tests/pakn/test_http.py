"""The ops routes every service mounts, and the client address behind trusted proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, make_mocked_request

from pakn import http

ClientFactory = Callable[[web.Application], Awaitable[TestClient[web.Request, web.Application]]]


def _app(reason: str | None) -> web.Application:
    app = http.new_service_app("demo")

    async def check() -> str | None:
        return reason

    async def slow() -> str | None:
        import asyncio

        await asyncio.sleep(0)
        return None

    app[http.HEALTH_CHECKS].extend([("broker", check), ("store", slow)])

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="xin chào")

    app.router.add_get("/hello/{name}", hello)
    return app


async def test_healthz_is_200_when_every_link_is_up(aiohttp_client: ClientFactory) -> None:
    client = await aiohttp_client(_app(None))
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {
        "service": "demo",
        "status": "ok",
        "checks": {"broker": "ok", "store": "ok"},
    }


async def test_healthz_names_the_link_that_is_down(aiohttp_client: ClientFactory) -> None:
    client = await aiohttp_client(_app("broker connection down, reconnecting"))
    response = await client.get("/healthz")
    assert response.status == 503
    body = await response.json()
    assert body["checks"]["broker"] == "broker connection down, reconnecting"


async def test_metrics_count_requests_by_route_template(aiohttp_client: ClientFactory) -> None:
    client = await aiohttp_client(_app(None))
    for name in ("an", "binh", "chi"):
        assert (await client.get(f"/hello/{name}")).status == 200
    text = await (await client.get("/metrics")).text()
    line = next(
        line
        for line in text.splitlines()
        if line.startswith("pakn_http_requests_total{")
        and 'route="/hello/{name}"' in line
        and 'service="demo"' in line
    )
    assert float(line.rsplit(" ", 1)[1]) >= 3
    assert "/hello/an" not in text  # one series per template, never per path


def _request(peer: str, forwarded: str | None, trusted: list[str]) -> web.Request:
    app = web.Application()
    app[http.TRUSTED_PROXIES] = [ipaddress.ip_network(net) for net in trusted]
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return make_mocked_request("GET", "/", headers=headers, app=app).clone(remote=peer)


def test_forwarded_for_is_ignored_without_trusted_proxies() -> None:
    assert http.client_address(_request("203.0.113.9", "1.2.3.4", [])) == "203.0.113.9"


def test_forwarded_for_is_believed_from_a_trusted_proxy() -> None:
    request = _request("10.0.0.5", "198.51.100.7", ["10.0.0.0/8"])
    assert http.client_address(request) == "198.51.100.7"


def test_a_client_cannot_forge_its_address_through_the_proxy() -> None:
    # The client sent "X-Forwarded-For: 1.1.1.1"; the proxy appended the real address.
    request = _request("10.0.0.5", "1.1.1.1, 198.51.100.7", ["10.0.0.0/8"])
    assert http.client_address(request) == "198.51.100.7"


def test_an_untrusted_peer_cannot_claim_an_address() -> None:
    request = _request("198.51.100.7", "10.0.0.1", ["10.0.0.0/8"])
    assert http.client_address(request) == "198.51.100.7"


def _faulty_app() -> web.Application:
    app = http.new_service_app("demo", client_max_size=1024)

    async def broken(request: web.Request) -> web.Response:
        raise KeyError("a bug")

    async def upload(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="ok")

    async def own_error(request: web.Request) -> web.Response:
        raise web.HTTPBadRequest(text='{"error": "mine"}', content_type="application/json")

    app.router.add_get("/broken", broken)
    app.router.add_post("/upload", upload)
    app.router.add_get("/own", own_error)
    return app


async def test_an_unexpected_exception_is_a_vietnamese_500_with_a_reference(
    aiohttp_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    client = await aiohttp_client(_faulty_app())
    response = await client.get("/broken")
    assert response.status == 500
    body = await response.json()
    assert body["error"] == "internal_error" and "Hệ thống gặp lỗi" in body["message"]
    assert "KeyError" not in await response.text()
    assert body["reference"] in caplog.text and "KeyError" in caplog.text
    page = await client.get("/broken", headers={"Accept": "text/html"})
    assert page.status == 500 and page.content_type == "text/html"
    assert '<html lang="vi">' in await page.text()


@pytest.mark.parametrize(
    ("method", "path", "status", "words"),
    [
        ("GET", "/khong-co", 404, "Không tìm thấy"),
        ("DELETE", "/broken", 405, "Phương thức"),
        ("POST", "/upload", 413, "quá lớn"),
    ],
)
async def test_the_frameworks_own_errors_answer_in_vietnamese(
    aiohttp_client: ClientFactory, method: str, path: str, status: int, words: str
) -> None:
    client = await aiohttp_client(_faulty_app())
    response = await client.request(method, path, data=b"x" * 4096)
    assert response.status == status
    body = await response.json()
    assert words in body["message"] and "Not Found" not in body["message"]
    if status == 405:
        assert "GET" in response.headers["Allow"]


async def test_a_handlers_own_error_body_is_kept(aiohttp_client: ClientFactory) -> None:
    client = await aiohttp_client(_faulty_app())
    response = await client.get("/own")
    assert response.status == 400 and await response.json() == {"error": "mine"}


async def test_every_answer_carries_the_security_headers(aiohttp_client: ClientFactory) -> None:
    client = await aiohttp_client(_faulty_app())
    for path in ("/healthz", "/khong-co", "/broken", "/own"):
        response = await client.get(path)
        policy = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
