"""`pakn chatbot`: the factory, the wiring and the webhook handlers (DESIGN.md §5)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pakn import connections, http, loops
from pakn.case_events import CaseEventFollower
from pakn.extract import PlaceFinder
from pakn.intake import IntakePath
from pakn.logs import configure_logging
from pakn.ratelimit import RateLimiter
from pakn.schema import Channel
from pakn.territory import ProvinceConfig
from pakn.territory import load as load_province
from pakn.worktime import Clock, utc_now
from pakn_chatbot import inbox, messages, metrics, outbox, sessions
from pakn_chatbot.conversation import Chatbot
from pakn_chatbot.notify import CaseNotifier
from pakn_chatbot.outbox import OutboxSender, Sender
from pakn_chatbot.platforms import (
    InboundEvent,
    MessengerClient,
    ZaloClient,
    ZaloTokens,
    messenger_events,
    messenger_signature_ok,
    zalo_events,
    zalo_signature_ok,
)
from pakn_chatbot.safety import EmergencyAdvisor
from pakn_chatbot.settings import ChatbotSettings
from pakn_chatbot.submit import Reporter

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", ChatbotSettings)
PROVINCE = web.AppKey("province", ProvinceConfig)
CHATBOT = web.AppKey("chatbot", Chatbot)
INBOX = web.AppKey("inbox", inbox.InboxWorker)
SENDER = web.AppKey("sender", OutboxSender)
#: The widget's budgets: per widget user id (tight) and per client address (generous).
USER_LIMITER = web.AppKey("user_limiter", RateLimiter)
ADDRESS_LIMITER = web.AppKey("address_limiter", RateLimiter)
#: The moment a citizen's message is read at ("sáng nay", "lúc 3 giờ" are read against it).
CLOCK: web.AppKey[Clock] = web.AppKey("clock")

#: A webhook body larger than this is no chat message (Meta batches, but not megabytes).
MAX_WEBHOOK_BYTES = 1024 * 1024
#: Longest message the widget may send (the web form's content limit).
MAX_TEXT = 10_000


class GenericMessage(BaseModel):
    """What the portal's widget posts."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    user_id: str = Field(min_length=1, max_length=128, pattern=r"^[\w.:@-]+$")
    text: str = Field(default="", max_length=MAX_TEXT)
    attachments: list[str | dict[str, str]] = Field(default_factory=list, max_length=5)
    #: Optional id of this message: the widget sending it again gets the same answer.
    message_id: str | None = Field(default=None, max_length=128)

    def photo_urls(self) -> tuple[str, ...]:
        urls = [a if isinstance(a, str) else a.get("url", "") for a in self.attachments]
        return tuple(u for u in urls if u.startswith(("http://", "https://")))


# --- handlers ---------------------------------------------------------------------------


async def generic_webhook(request: web.Request) -> web.Response:
    try:
        message = GenericMessage.model_validate(await request.json())
    except (ValueError, ValidationError):
        return http.json_error(
            400, "bad_request", "Tin nhắn không đúng định dạng: cần user_id và text."
        )
    if not message.text and not message.attachments:
        return http.json_error(400, "bad_request", "Tin nhắn trống.")
    refused = _widget_limit(request, message.user_id)
    if refused is not None:
        return refused
    event = InboundEvent(
        "generic",
        message.user_id,
        f"{message.user_id}:{message.message_id}" if message.message_id else "",
        message.text,
        datetime.now(UTC),
        message.photo_urls(),
    )
    result = await request.app[CHATBOT].handle(event)
    return http.json_response({"replies": result.replies})


def _widget_limit(request: web.Request, user_id: str) -> web.Response | None:
    """The 429 for a widget message over its budget (nothing of it stored), else None.

    The user id is checked first and alone can refuse: one abusive id then spends only its
    own budget, not that of everyone behind the same carrier NAT. Only a message its id
    allows takes a token from the address, which stops a client that makes up a new id for
    every message; that budget is generous, as one address can be many citizens.
    """
    app = request.app
    for key, limiter, client in (
        ("user", app[USER_LIMITER], user_id),
        ("address", app[ADDRESS_LIMITER], http.client_address(request)),
    ):
        wait = limiter.check(client)
        if wait is not None:
            metrics.RATE_LIMITED.labels(key).inc()
            text = messages.RATE_LIMITED.format(seconds=wait)
            # The widget shows "replies" as it shows any answer; programs read "error".
            return http.json_error(
                429, "rate_limited", text, headers={"Retry-After": str(wait)}, replies=[text]
            )
    return None


async def messenger_verify(request: web.Request) -> web.Response:
    """Meta's subscription handshake: echo hub.challenge when the verify token matches."""
    settings = request.app[SETTINGS]
    token = settings.messenger_verify_token
    query = request.query
    if (
        token is not None
        and query.get("hub.mode") == "subscribe"
        and query.get("hub.verify_token") == token.get_secret_value()
    ):
        return web.Response(text=query.get("hub.challenge", ""))
    return http.json_error(403, "forbidden", "Mã xác minh không đúng.")


async def messenger_webhook(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    secret = settings.messenger_app_secret
    if secret is None:
        return http.json_error(503, "not_configured", "Kênh Messenger chưa được cấu hình.")
    raw = await request.read()
    header = request.headers.get("X-Hub-Signature-256")
    if not messenger_signature_ok(raw, header, secret.get_secret_value()):
        metrics.REJECTED_SIGNATURES.labels("messenger").inc()
        return http.json_error(403, "bad_signature", "Chữ ký không hợp lệ.")
    try:
        body = json.loads(raw)
    except ValueError:
        return http.json_error(400, "bad_request", "Nội dung không phải JSON.")
    await _keep(request.app, messenger_events(body) if isinstance(body, dict) else [])
    return web.Response(text="EVENT_RECEIVED")


async def zalo_webhook(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    secret = settings.zalo_oa_secret
    if secret is None:
        return http.json_error(503, "not_configured", "Kênh Zalo chưa được cấu hình.")
    raw = await request.read()
    header = request.headers.get("X-ZEvent-Signature")
    if not zalo_signature_ok(raw, header, settings.zalo_app_id, secret.get_secret_value()):
        metrics.REJECTED_SIGNATURES.labels("zalo").inc()
        return http.json_error(403, "bad_signature", "Chữ ký không hợp lệ.")
    try:
        body = json.loads(raw)
    except ValueError:
        return http.json_error(400, "bad_request", "Nội dung không phải JSON.")
    await _keep(request.app, zalo_events(body) if isinstance(body, dict) else [])
    return http.json_response({"error": 0})


async def _keep(app: web.Application, events: list[InboundEvent]) -> None:
    """Write the events down before answering; the worker answers the citizen."""
    now = datetime.now(UTC)
    fresh = [event for event in events if await inbox.keep(app[connections.STORE], event, now=now)]
    if fresh:
        app[INBOX].wake.set()


# --- wiring -----------------------------------------------------------------------------


def _senders(
    settings: ChatbotSettings, app: web.Application, http_session: aiohttp.ClientSession
) -> dict[str, Sender]:
    clients: dict[str, Sender] = {}
    if settings.messenger_page_token is not None:
        clients["messenger"] = MessengerClient(
            http_session,
            settings.messenger_api_base,
            settings.messenger_page_token.get_secret_value(),
            settings.messenger_update_tag,
        )
    if settings.zalo_oa_token is not None or settings.zalo_refresh_token is not None:
        tokens = ZaloTokens(
            app[connections.STORE],
            http_session,
            settings.zalo_oauth_base,
            settings.zalo_app_id or "",
            settings.zalo_app_secret.get_secret_value() if settings.zalo_app_secret else "",
            settings.zalo_oa_token.get_secret_value() if settings.zalo_oa_token else None,
            settings.zalo_refresh_token.get_secret_value() if settings.zalo_refresh_token else None,
        )
        clients["zalo"] = ZaloClient(http_session, settings.zalo_api_base, tokens)
    return clients


async def _chatbot(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    store, bus = app[connections.STORE], app[connections.BUS]
    await asyncio.gather(
        sessions.ensure_indexes(store), outbox.ensure_indexes(store), inbox.ensure_indexes(store)
    )
    timeout = aiohttp.ClientTimeout(total=settings.platform_timeout)
    async with aiohttp.ClientSession(timeout=timeout) as http_session:
        names = {agency.code: agency.name for agency in app[PROVINCE].agencies}
        intake = IntakePath(store, bus, confirm_timeout=settings.confirm_timeout)
        reporter = Reporter(store, intake, names.get, settings.public_url)

        async def last_inbound(platform: str, user_id: str) -> datetime | None:
            doc = await store.db[sessions.COLLECTION].find_one(
                {"_id": sessions.session_key(platform, user_id)}, {"last_inbound_at": 1}
            )
            value = (doc or {}).get("last_inbound_at")
            return value if isinstance(value, datetime) else None

        sender = OutboxSender(
            store,
            _senders(settings, app, http_session),
            max_attempts=settings.outbox_max_attempts,
            first_backoff=settings.outbox_first_backoff,
            max_backoff=settings.outbox_max_backoff,
            last_inbound=last_inbound,
        )
        chatbot = Chatbot(
            store=store,
            reporter=reporter,
            places=PlaceFinder(app[PROVINCE]),
            emergency=EmergencyAdvisor.from_config_dir(settings.config_dir),
            http=http_session,
            retention=timedelta(days=90),
            abandon_after=timedelta(hours=settings.session_idle_hours),
            wake=sender.wake.set,
            clock=app[CLOCK],
        )
        app[CHATBOT], app[SENDER] = chatbot, sender
        app[INBOX] = inbox.InboxWorker(store, chatbot.handle)
        app[NOTIFIER] = CaseNotifier(
            store, reporter.public_view, settings.public_url, sender.wake.set
        )
        yield


NOTIFIER = web.AppKey("notifier", CaseNotifier)


async def _follow_cases(app: web.Application) -> None:
    """The core's follower of ``chatbot.case-events``, watched: if its worker stops, this
    loop fails, and the supervisor restarts it (and /healthz says so meanwhile)."""
    follower = CaseEventFollower(
        channel=Channel.CHATBOT,
        store=app[connections.STORE],
        bus=app[connections.BUS],
        handler=app[NOTIFIER],
    )
    await follower.start()
    try:
        while True:
            await asyncio.sleep(1.0)
            problem = await follower.health()
            if problem is not None and "stopped" in problem:
                raise RuntimeError(problem)
    finally:
        await follower.stop()


async def _sweep(app: web.Application) -> None:
    interval = app[SETTINGS].sweep_interval
    while True:
        await app[CHATBOT].sweep()
        await asyncio.sleep(interval)


async def init_app(settings: ChatbotSettings, *, clock: Clock = utc_now) -> web.Application:
    """The chatbot; ``clock`` for a test that plays conversations at a set hour of the day."""
    app = http.new_service_app(
        "chatbot", trusted_proxies=settings.trusted_proxies, client_max_size=MAX_WEBHOOK_BYTES
    )
    app[SETTINGS] = settings
    app[CLOCK] = clock
    app[USER_LIMITER] = RateLimiter(
        capacity=settings.chatbot_user_burst, per_minute=settings.chatbot_user_per_minute
    )
    app[ADDRESS_LIMITER] = RateLimiter(
        capacity=settings.chatbot_address_burst, per_minute=settings.chatbot_address_per_minute
    )
    app[PROVINCE] = load_province(settings.config_dir)
    connections.connect(app, settings, name="pakn-chatbot")
    app.cleanup_ctx.append(_chatbot)
    loops.run_in_app(app, "chatbot.inbox", lambda: app[INBOX].run(settings.outbox_interval))
    loops.run_in_app(app, "chatbot.outbox", lambda: app[SENDER].run(settings.outbox_interval))
    loops.run_in_app(app, "chatbot.case_events", lambda: _follow_cases(app))
    loops.run_in_app(app, "chatbot.sweep", lambda: _sweep(app))
    app.router.add_post("/webhook/generic", generic_webhook)
    # Messenger and Zalo are not limited per client: every call is signed by the platform and
    # comes from its servers (one address for all their users), and is only written to the
    # inbox; a per-address budget would throttle a whole platform at once.
    app.router.add_get("/webhook/messenger", messenger_verify)
    app.router.add_post("/webhook/messenger", messenger_webhook)
    app.router.add_post("/webhook/zalo", zalo_webhook)
    return app


def main() -> None:
    settings = ChatbotSettings()
    configure_logging("chatbot", settings.log_level)
    http.run_app(
        lambda: init_app(settings),
        settings.host,
        settings.chatbot_port,
        variable="PAKN_CHATBOT_PORT",
    )
