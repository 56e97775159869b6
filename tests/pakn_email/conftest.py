"""Fixtures for the e-mail service: the real app against Dovecot, aiosmtpd, RabbitMQ, the store."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from aiohttp.web import Application, Request
from pydantic import SecretStr

from pakn.bus import Bus
from pakn.ids import submission_id
from pakn.schema import Channel, Location, Submission, Submitter
from pakn.store import Store
from pakn_email.settings import EmailSettings
from tests.fixtures.mail import Dovecot, SmtpSink
from tests.fixtures.store import settings_for_test, url_with_database
from tests.pakn_router.conftest import router_settings

__all__ = ["router_settings"]

EmailClient = TestClient[Request, Application]


def email_settings_for(
    dovecot: Dovecot,
    smtp: SmtpSink,
    *,
    mongodb_url: str,
    amqp_url: str,
    var_dir: Path,
    **overrides: Any,
) -> EmailSettings:
    values: dict[str, Any] = {
        "amqp_url": SecretStr(amqp_url),
        "imap_host": "127.0.0.1",
        "imap_port": dovecot.port,
        "imap_user": dovecot.user,
        "imap_password": SecretStr(dovecot.password),
        "imap_tls": "none",
        "imap_idle_renew": 30.0,
        "imap_poll_interval": 0.5,
        "imap_timeout": 10.0,
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp.port,
        "smtp_tls": "none",
        "confirm_timeout": 2.0,
        "outbox_interval": 0.2,
        "outbox_max_backoff": 1.0,
        "reconcile_interval": 3600.0,
        "reconnect_max_backoff": 2.0,
        "public_url": "https://pakn.khanhhoa.gov.vn",
    }
    values.update(overrides)
    return settings_for_test(EmailSettings, mongodb_url, var_dir, **values)


@pytest.fixture
def email_settings(
    bus: Bus,  # the submissions queue emptied before and after: no other test's leftovers
    dovecot: Dovecot,
    smtp_sink: SmtpSink,
    mongodb_url: str,
    store_database: str,
    amqp_url: str,
    tmp_path: Path,
) -> EmailSettings:
    return email_settings_for(
        dovecot,
        smtp_sink,
        mongodb_url=url_with_database(mongodb_url, store_database),
        amqp_url=amqp_url,
        var_dir=tmp_path / "var",
    )


@pytest.fixture
def start_email(
    aiohttp_client: Callable[[Application], Awaitable[EmailClient]],
) -> Callable[[EmailSettings], Awaitable[EmailClient]]:
    async def start(settings: EmailSettings) -> EmailClient:
        from pakn_email.app import init_app

        return await aiohttp_client(init_app(settings))

    return start


async def eventually(
    check: Callable[[], Awaitable[bool]], *, within: float = 30.0, what: str = "condition"
) -> None:
    """Wait until ``check()`` is true (the servers work at their own pace)."""
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def wait_inbox_empty(dovecot: Dovecot, *, within: float = 60.0) -> None:
    async def empty() -> bool:
        return await dovecot.count("INBOX") == 0

    await eventually(empty, within=within, what="the inbox to be emptied")


async def open_case(bus: Bus, store: Store, tracking_code: str, *, email: str) -> None:
    """A case the reply messages of the corpus answer, reserved and routed like any other."""
    sid = submission_id("web", "test", f"parent-{tracking_code}")
    received = datetime.now(UTC) - timedelta(days=1)
    await store.intake_keys.insert_one(
        {
            "_id": sid,
            "tracking_code": tracking_code,
            "channel": "web",
            "body_sha256": "0" * 64,
            "received_at": received,
        }
    )
    await bus.publish_submission(
        Submission(
            submission_id=sid,
            tracking_code=tracking_code,
            channel=Channel.WEB,
            channel_ref=f"parent-{tracking_code}",
            received_at=received,
            submitter=Submitter(name="Hà My", phone="+84932111555", email=email),
            title="Mất điện",
            content="Khu phố 3 phường Nam Nha Trang mất điện từ tối qua đến nay chưa có lại.",
            occurred_at=received - timedelta(hours=12),
            location=Location(address="Khu phố 3, phường Nam Nha Trang"),
        ),
        timeout=10,
    )
