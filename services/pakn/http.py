"""aiohttp pieces every service mounts: /healthz, /metrics, request metrics, client address,
security headers, Vietnamese answers where the framework would answer in English, JSON
answers, and telling a browser from an API client."""

from __future__ import annotations

import asyncio
import errno
import gc
import html
import ipaddress
import json
import logging
import secrets
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest

from pakn import messages
from pakn.metrics import LATENCY_BUCKETS
from pakn.text import without_surrogates

log = logging.getLogger(__name__)

#: A health check answers None when its link is up, or a short reason when it is not.
HealthCheck = Callable[[], Awaitable[str | None]]

SERVICE_NAME = web.AppKey("service_name", str)
HEALTH_CHECKS = web.AppKey("health_checks", list[tuple[str, HealthCheck]])
TRUSTED_PROXIES = web.AppKey(
    "trusted_proxies", Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]
)

HTTP_REQUESTS = Counter(
    "pakn_http_requests_total",
    "HTTP requests answered, by route template and status class",
    ["service", "route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "pakn_http_request_seconds",
    "Time to answer an HTTP request, by route template",
    ["service", "route"],
    buckets=LATENCY_BUCKETS,
)

#: A health check slower than this counts as down: /healthz must answer fast for probes.
HEALTH_CHECK_TIMEOUT = 2.0


def _route_label(request: web.Request) -> str:
    # The template, never the concrete path: /api/v1/cases/{code}, not one series per code.
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def metrics_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    service = request.app[SERVICE_NAME]
    route = _route_label(request)
    start = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        HTTP_REQUESTS.labels(service, route, request.method, f"{status // 100}xx").inc()
        HTTP_LATENCY.labels(service, route).observe(time.perf_counter() - start)


#: Sent with every answer. Scripts only from the service's own files (an injected <script>
#: or onclick= does not run); never framed (clickjacking of staff actions); inline styles
#: allowed, since they carry no code. The page itself may ask for the phone's location.
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; connect-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Tracking codes travel in query strings (/tra-cuu?ma=…): never to another site.
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "geolocation=(self), camera=(), microphone=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def wants_html(request: web.Request) -> bool:
    """A browser (Accept prefers text/html) gets pages; API clients get JSON."""
    accept = request.headers.get("Accept", "")
    html_at, json_at = accept.find("text/html"), accept.find("application/json")
    return html_at >= 0 and (json_at < 0 or html_at < json_at)


def _is_framework_default(exc: web.HTTPException) -> bool:
    """aiohttp's own bodies read "404: Not Found" (a body too large says so in English too);
    a handler's own body is left alone."""
    text = exc.text
    return (
        text is None
        or text == f"{exc.status}: {exc.reason}"
        or text.startswith("Maximum request body size")
    )


def error_response(
    request: web.Request,
    status: int,
    *,
    code: str | None = None,
    message: str | None = None,
    headers: dict[str, str] | None = None,
    reference: str | None = None,
) -> web.Response:
    """A Vietnamese error answer, as a page for a browser or ``{"error", "message"}``."""
    text = (
        message
        or messages.HTTP_ERRORS.get(status)
        or messages.HTTP_ERROR_OTHER.format(status=status)
    )
    error = code or f"http_{status}"
    if wants_html(request):
        note = (
            f"<p>{html.escape(messages.ERROR_REFERENCE.format(reference=reference))}</p>"
            if reference
            else ""
        )
        title = html.escape(messages.ERROR_PAGE_TITLE.format(status=status))
        page = (
            '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{title}</title></head><body><main><h1>{title}</h1>"
            f"<p>{html.escape(text)}</p>{note}"
            f'<p><a href="/">{html.escape(messages.ERROR_PAGE_HOME)}</a></p></main></body></html>'
        )
        return web.Response(
            status=status, text=page, content_type="text/html", charset="utf-8", headers=headers
        )
    body: dict[str, str] = {"error": error, "message": text}
    if reference:
        body["reference"] = reference
    return web.Response(
        status=status,
        text=json.dumps(body, ensure_ascii=False),
        content_type="application/json",
        charset="utf-8",
        headers=headers,
    )


@web.middleware
async def errors_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """No answer in English and no traceback to the client: the framework's default 4xx
    bodies become Vietnamese, and an unexpected exception a 500 with a reference to the log."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or not _is_framework_default(exc):
            raise
        keep = {k: v for k, v in exc.headers.items() if k in ("Allow", "Retry-After")}
        return error_response(request, exc.status, headers=keep)
    except Exception:
        reference = secrets.token_hex(6)
        log.exception(
            "unexpected error answering %s %s [%s]", request.method, request.path, reference
        )
        return error_response(request, 500, code="internal_error", reference=reference)


async def healthz(request: web.Request) -> web.Response:
    checks = request.app[HEALTH_CHECKS]

    async def run(name: str, check: HealthCheck) -> tuple[str, str | None]:
        try:
            return name, await asyncio.wait_for(check(), HEALTH_CHECK_TIMEOUT)
        except TimeoutError:
            return name, "timed out"
        except Exception as exc:  # a failing check is a finding, not a crash
            return name, f"{type(exc).__name__}: {exc}"[:200]

    results = await asyncio.gather(*(run(name, check) for name, check in checks))
    problems = {name: reason for name, reason in results if reason is not None}
    body = {
        "service": request.app[SERVICE_NAME],
        "status": "ok" if not problems else "unavailable",
        "checks": {name: reason or "ok" for name, reason in results},
    }
    return web.json_response(body, status=200 if not problems else 503)


async def metrics(request: web.Request) -> web.Response:
    payload = await asyncio.to_thread(generate_latest, REGISTRY)
    return web.Response(body=payload, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def freeze_startup_heap(app: web.Application) -> None:
    """Take what start-up built (the province's config, templates, clients) out of the
    collector's sight: it lives as long as the process, and a full collection that walked it
    again under load stalled the event loop for ~70 ms (a latency spike on every request in
    flight). Collections then scan only what requests left behind."""
    gc.collect()
    gc.freeze()


def new_service_app(
    service: str,
    *,
    trusted_proxies: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network] = (),
    middlewares: Sequence[Middleware] = (),
    client_max_size: int = 1024**2,
) -> web.Application:
    """An application with the ops routes every service serves (DESIGN.md §3)."""
    chain: list[Middleware] = [metrics_middleware, errors_middleware, *middlewares]
    app = web.Application(middlewares=chain, client_max_size=client_max_size)
    app.on_response_prepare.append(_security_headers)
    # After the cleanup contexts (connections) started: aiohttp runs those first.
    app.on_startup.append(freeze_startup_heap)
    app[SERVICE_NAME] = service
    app[HEALTH_CHECKS] = []
    app[TRUSTED_PROXIES] = tuple(trusted_proxies)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app


def client_address(request: web.Request) -> str:
    """The real client address: X-Forwarded-For is believed only from trusted proxies.

    Walks the header from the right, skipping trusted hops, so a client cannot forge
    its address by sending its own X-Forwarded-For through the proxy.
    """
    peer = request.remote or "unknown"
    trusted = request.app[TRUSTED_PROXIES]
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    hops = [h.strip() for h in request.headers.getall("X-Forwarded-For", []) for h in h.split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _is_trusted(hop, trusted):
            return hop
    return peer


def _is_trusted(
    address: str, trusted: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


#: Exit status of a service whose port is taken (EX_CONFIG): `pakn up` does not restart it,
#: as a restart cannot free the port; the person must choose another one.
EXIT_PORT_BUSY = 78


def port_busy_line(host: str, port: int, variable: str) -> str:
    """One line a person can act on, in Vietnamese and English, naming the variable to set."""
    return (
        f"Cổng {host}:{port} đang được chương trình khác dùng — đặt {variable} sang cổng khác. "
        f"/ Port {port} on {host} is already in use: set {variable} to a free port "
        f"(e.g. {variable}={port + 100})."
    )


def port_in_use(host: str, port: int) -> bool:
    """Whether binding ``host:port`` fails because something listens there already."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As aiohttp binds: SO_REUSEADDR, so a port in TIME_WAIT does not count as busy.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


def run_app(
    app_factory: Callable[[], Awaitable[web.Application]],
    host: str,
    port: int,
    *,
    variable: str,
) -> None:
    """Serve until SIGINT/SIGTERM, then run the app's clean-up (aiohttp's graceful exit).

    A busy port ends the process with one line naming ``variable`` and EXIT_PORT_BUSY,
    not a traceback.
    """
    log.info("listening on http://%s:%d", host, port)
    try:
        web.run_app(app_factory(), host=host, port=port, print=None, access_log=None)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        print(port_busy_line(host, port, variable), file=sys.stderr, flush=True)
        raise SystemExit(EXIT_PORT_BUSY) from None


def json_text(body: object) -> str:
    """JSON as people can read it in a log or a terminal: Vietnamese stays Vietnamese (and
    a lone surrogate that came in with a request cannot make the answer unsendable)."""
    return without_surrogates(json.dumps(body, ensure_ascii=False))


def json_response(
    body: object, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A JSON answer (UTF-8, not \\u-escaped)."""
    return web.json_response(body, status=status, headers=headers, dumps=json_text)


def json_error(
    status: int, error: str, message: str, *, headers: Mapping[str, str] | None = None, **extra: Any
) -> web.Response:
    """The error shape every service answers with: a code for programs, a message for people."""
    return json_response(
        {"error": error, "message": message, **extra}, status=status, headers=headers
    )
