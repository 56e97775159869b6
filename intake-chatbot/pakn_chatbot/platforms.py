"""The chat platforms: webhook formats, signatures, and their send APIs.

Pure parts (parsing, signatures, classifying a platform's answer) are plain functions; the
clients do the HTTP. Formats as documented by each platform (see the README's sources):

- **Messenger** (Meta Webhooks): ``GET`` with ``hub.mode=subscribe``, ``hub.verify_token`` and
  ``hub.challenge`` to subscribe; events ``{"object": "page", "entry": [{"messaging": [{
  "sender": {"id"}, "message": {"mid", "text", "attachments": [{"type": "image",
  "payload": {"url"}}]}}]}]}`` signed by ``X-Hub-Signature-256: sha256=<hex>``, the HMAC-SHA256
  of the raw body with the app secret. Send API ``POST /me/messages`` with the page token;
  ``messaging_type`` RESPONSE inside the 24-hour window, MESSAGE_TAG with a tag outside it.
- **Zalo OA** (Official Account API v3): events ``{"app_id", "event_name": "user_send_text"|
  "user_send_image"…, "sender": {"id"}, "message": {"msg_id", "text", "attachments": [{
  "type": "image", "payload": {"url"}}]}, "timestamp"}`` signed by ``X-ZEvent-Signature:
  mac=<hex>``, the SHA-256 of app id + raw body + timestamp + the OA secret key. Messages
  ``POST /v3.0/oa/message/cs`` with the ``access_token`` header; the access token lasts hours
  and is renewed with the single-use refresh token (``POST /v4/oa/access_token``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import aiohttp
from pymongo import ReturnDocument

from pakn.store import Store

log = logging.getLogger(__name__)

Platform = Literal["generic", "messenger", "zalo"]
#: Longest text one message may carry on either platform; longer replies are split.
MAX_TEXT = 2000
#: Messenger's standard messaging window (Meta policy): after it, only tagged updates.
MESSENGER_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class InboundEvent:
    """One citizen message as the platform delivered it."""

    platform: Platform
    user_id: str
    #: The platform's id of this delivery (Messenger ``mid``, Zalo ``msg_id``): a redelivery
    #: carries the same one.
    event_id: str
    text: str
    at: datetime
    photo_urls: tuple[str, ...] = ()


# --- Messenger --------------------------------------------------------------------------


def messenger_signature_ok(raw: bytes, header: str | None, app_secret: str) -> bool:
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header[len("sha256=") :].strip().lower(), expected)


def messenger_sign(raw: bytes, app_secret: str) -> str:
    """The header Meta would send (for tests and local tools)."""
    return "sha256=" + hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()


def messenger_events(body: Mapping[str, Any]) -> list[InboundEvent]:
    """The citizen messages in one webhook call; echoes, reads and deliveries left out."""
    events: list[InboundEvent] = []
    if body.get("object") != "page":
        return events
    for entry in body.get("entry") or []:
        for item in entry.get("messaging") or []:
            sender = str((item.get("sender") or {}).get("id") or "")
            stamp = item.get("timestamp")
            at = (
                datetime.fromtimestamp(stamp / 1000, UTC)
                if isinstance(stamp, int | float)
                else datetime.now(UTC)
            )
            message = item.get("message")
            postback = item.get("postback")
            if isinstance(message, Mapping) and not message.get("is_echo") and sender:
                photos = tuple(
                    str(a["payload"]["url"])
                    for a in message.get("attachments") or []
                    if a.get("type") == "image" and (a.get("payload") or {}).get("url")
                )
                events.append(
                    InboundEvent(
                        "messenger",
                        sender,
                        str(message.get("mid") or f"{sender}:{stamp}"),
                        str(message.get("text") or ""),
                        at,
                        photos,
                    )
                )
            elif isinstance(postback, Mapping) and sender:
                events.append(
                    InboundEvent(
                        "messenger",
                        sender,
                        str(postback.get("mid") or f"{sender}:{stamp}"),
                        str(postback.get("payload") or postback.get("title") or ""),
                        at,
                    )
                )
    return events


# --- Zalo OA ----------------------------------------------------------------------------


def zalo_mac(raw: bytes, app_id: str, timestamp: str, oa_secret: str) -> str:
    return hashlib.sha256(
        app_id.encode() + raw + timestamp.encode() + oa_secret.encode()
    ).hexdigest()


def zalo_signature_ok(raw: bytes, header: str | None, app_id: str | None, oa_secret: str) -> bool:
    """The MAC in ``X-ZEvent-Signature`` against the body's own app id and timestamp."""
    if not header:
        return False
    try:
        body = json.loads(raw)
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    sent_app = str(body.get("app_id") or "")
    timestamp = str(body.get("timestamp") or "")
    if not sent_app or not timestamp or (app_id and sent_app != app_id):
        return False
    supplied = header.strip()
    if supplied.lower().startswith("mac="):
        supplied = supplied[4:].strip()
    return hmac.compare_digest(supplied.lower(), zalo_mac(raw, sent_app, timestamp, oa_secret))


_ZALO_MESSAGE_EVENTS = frozenset(
    {"user_send_text", "user_send_image", "user_send_link", "user_send_location"}
)


def zalo_events(body: Mapping[str, Any]) -> list[InboundEvent]:
    name = body.get("event_name")
    if name not in _ZALO_MESSAGE_EVENTS:
        return []
    sender = str((body.get("sender") or {}).get("id") or "")
    message = body.get("message") or {}
    if not sender or not isinstance(message, Mapping):
        return []
    stamp = body.get("timestamp")
    try:
        at = datetime.fromtimestamp(int(str(stamp)) / 1000, UTC)
    except (TypeError, ValueError):
        at = datetime.now(UTC)
    photos = tuple(
        str(a["payload"]["url"])
        for a in message.get("attachments") or []
        if a.get("type") == "image" and (a.get("payload") or {}).get("url")
    )
    return [
        InboundEvent(
            "zalo",
            sender,
            str(message.get("msg_id") or f"{sender}:{stamp}"),
            str(message.get("text") or ""),
            at,
            photos,
        )
    ]


# --- sending ----------------------------------------------------------------------------


SendOutcome = Literal["sent", "retry", "refused", "token"]


@dataclass(frozen=True)
class SendResult:
    outcome: SendOutcome
    detail: str = ""
    platform_message_id: str | None = None


#: Graph API error codes that are worth trying again (temporary, throttling).
_MESSENGER_RETRY_CODES = frozenset({1, 2, 4, 17, 32, 341, 613})
_ZALO_TOKEN_ERRORS = frozenset({-216, -124, -14002})


def messenger_result(status: int, body: Any) -> SendResult:
    """What Meta's answer to a send means for the outbox."""
    error = body.get("error") if isinstance(body, Mapping) else None
    if 200 <= status < 300 and not error:
        message_id = body.get("message_id") if isinstance(body, Mapping) else None
        return SendResult("sent", platform_message_id=message_id)
    code = error.get("code") if isinstance(error, Mapping) else None
    detail = f"http {status}, code {code}"
    if status >= 500 or status == 429 or code in _MESSENGER_RETRY_CODES:
        return SendResult("retry", detail)
    if code == 190:
        return SendResult("token", detail)  # the page token expired or was revoked
    return SendResult("refused", detail)


def zalo_result(status: int, body: Any) -> SendResult:
    """Zalo answers 200 with ``error`` 0 on success and a negative code otherwise."""
    if status >= 500 or status == 429:
        return SendResult("retry", f"http {status}")
    if not isinstance(body, Mapping):
        return SendResult("retry", f"http {status}, no JSON")
    error = body.get("error")
    if status == 200 and error in (0, "0"):
        data = body.get("data") or {}
        return SendResult("sent", platform_message_id=str(data.get("message_id") or "") or None)
    detail = f"http {status}, error {error}"
    if error in _ZALO_TOKEN_ERRORS:
        return SendResult("token", detail)
    if status >= 400 or (isinstance(error, int) and error < 0):
        # Policy refusals (the user unfollowed, the free-reply window closed…) are final;
        # the README says what happens then.
        return SendResult("refused" if status < 500 else "retry", detail)
    return SendResult("retry", detail)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """``text`` in pieces a platform accepts, cut at line ends or spaces."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    pieces.append(rest)
    return [p for p in pieces if p]


@dataclass
class MessengerClient:
    session: aiohttp.ClientSession
    api_base: str
    page_token: str
    update_tag: str

    async def send(self, user_id: str, text: str, *, in_window: bool) -> SendResult:
        body: dict[str, Any] = {"recipient": {"id": user_id}, "message": {"text": text}}
        if in_window:
            body["messaging_type"] = "RESPONSE"
        else:
            body["messaging_type"] = "MESSAGE_TAG"
            body["tag"] = self.update_tag
        url = f"{self.api_base.rstrip('/')}/me/messages"
        async with self.session.post(
            url, params={"access_token": self.page_token}, json=body
        ) as response:
            payload = await _json(response)
            return messenger_result(response.status, payload)


@dataclass
class ZaloTokens:
    """The OA access token, kept in the store so a restart uses the latest one (the refresh
    token is single-use: losing the new one would lock the chatbot out)."""

    store: Store
    session: aiohttp.ClientSession
    oauth_base: str
    app_id: str
    app_secret: str
    seed_access: str | None
    seed_refresh: str | None
    _cache: dict[str, Any] = field(default_factory=dict)

    COLLECTION = "chatbot_tokens"
    MARGIN = timedelta(minutes=5)

    async def access_token(self, *, now: datetime | None = None) -> str | None:
        now = now or datetime.now(UTC)
        doc = await self.store.db[self.COLLECTION].find_one({"_id": "zalo"})
        if doc is None:
            doc = {
                "_id": "zalo",
                "access_token": self.seed_access,
                "refresh_token": self.seed_refresh,
                # Unknown age: refresh at the first chance when a refresh token is at hand.
                "expires_at": now if self.seed_refresh else now + timedelta(days=3650),
            }
            await self.store.db[self.COLLECTION].update_one(
                {"_id": "zalo"}, {"$setOnInsert": doc}, upsert=True
            )
            doc = await self.store.db[self.COLLECTION].find_one({"_id": "zalo"}) or doc
        expires = doc.get("expires_at")
        if isinstance(expires, datetime) and expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        if doc.get("refresh_token") and (expires is None or expires - self.MARGIN <= now):
            refreshed = await self.refresh(doc, now=now)
            if refreshed is not None:
                return refreshed
        token = doc.get("access_token")
        return str(token) if token else None

    async def refresh(self, doc: Mapping[str, Any] | None = None, *, now: datetime) -> str | None:
        from pakn_chatbot import metrics

        if doc is None:
            doc = await self.store.db[self.COLLECTION].find_one({"_id": "zalo"})
        refresh_token = (doc or {}).get("refresh_token")
        if not refresh_token:
            return None
        url = f"{self.oauth_base.rstrip('/')}/v4/oa/access_token"
        try:
            async with self.session.post(
                url,
                headers={"secret_key": self.app_secret},
                data={
                    "refresh_token": refresh_token,
                    "app_id": self.app_id,
                    "grant_type": "refresh_token",
                },
            ) as response:
                payload = await _json(response)
        except (aiohttp.ClientError, TimeoutError) as exc:
            metrics.TOKEN_REFRESHES.labels("zalo", "failed").inc()
            log.warning("zalo token refresh failed: %s", type(exc).__name__)
            return None
        if not isinstance(payload, Mapping) or not payload.get("access_token"):
            metrics.TOKEN_REFRESHES.labels("zalo", "refused").inc()
            log.error("zalo refused the token refresh (error %s)", (payload or {}).get("error"))
            return None
        expires_in = int(str(payload.get("expires_in") or 3600))
        # Only the holder of the refresh token just used may store the pair it bought.
        await self.store.db[self.COLLECTION].find_one_and_update(
            {"_id": "zalo", "refresh_token": refresh_token},
            {
                "$set": {
                    "access_token": payload["access_token"],
                    "refresh_token": payload.get("refresh_token") or refresh_token,
                    "expires_at": now + timedelta(seconds=expires_in),
                    "refreshed_at": now,
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        metrics.TOKEN_REFRESHES.labels("zalo", "ok").inc()
        return str(payload["access_token"])


@dataclass
class ZaloClient:
    session: aiohttp.ClientSession
    api_base: str
    tokens: ZaloTokens

    async def send(self, user_id: str, text: str, *, in_window: bool) -> SendResult:
        token = await self.tokens.access_token()
        if token is None:
            return SendResult("retry", "no access token")
        result = await self._post(token, user_id, text)
        if result.outcome == "token":
            fresh = await self.tokens.refresh(now=datetime.now(UTC))
            if fresh is None:
                return SendResult("retry", result.detail)
            result = await self._post(fresh, user_id, text)
            if result.outcome == "token":
                return SendResult("retry", result.detail)
        return result

    async def _post(self, token: str, user_id: str, text: str) -> SendResult:
        url = f"{self.api_base.rstrip('/')}/v3.0/oa/message/cs"
        body = {"recipient": {"user_id": user_id}, "message": {"text": text}}
        async with self.session.post(url, headers={"access_token": token}, json=body) as response:
            return zalo_result(response.status, await _json(response))


async def _json(response: aiohttp.ClientResponse) -> Any:
    try:
        return await response.json(content_type=None)
    except (ValueError, aiohttp.ContentTypeError):
        return None
