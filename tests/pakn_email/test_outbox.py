"""The outbox against a real SMTP server (aiosmtpd) and the store: once, threaded, retried."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pakn.store import Store
from pakn_email.messages import Letter
from pakn_email.outbox import Outbox, Outgoing, backoff
from pakn_email.settings import EmailSettings
from tests.fixtures.mail import SmtpSink

CODE = "1234567894"


def _settings(smtp: SmtpSink, tmp_path: Path) -> EmailSettings:
    return EmailSettings(
        env="test",
        var_dir=tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_tls="none",
        smtp_timeout=5,
        outbox_max_backoff=1,
    )


def _item(key: str = "ack:<m1@example.vn>", to: str = "an@example.vn") -> Outgoing:
    return Outgoing(
        key=key,
        kind="ack",
        to=to,
        to_name="Nguyễn Văn An",
        letter=Letter("[PAKN 123 456 7894] Đã tiếp nhận phản ánh", "Kính gửi ông/bà An,\n…"),
        tracking_code=CODE,
        in_reply_to="<m1@example.vn>",
        references=("<m0@example.vn>", "<m1@example.vn>"),
    )


def test_backoff_grows_to_its_ceiling() -> None:
    assert [backoff(n, 60) for n in (1, 2, 3, 10)] == [5, 10, 20, 60]


async def test_a_letter_is_kept_once_and_sent_once_in_its_thread(
    store: Store, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    outbox = Outbox(store, _settings(smtp_sink, tmp_path))
    await outbox.ensure_indexes()
    assert await outbox.enqueue(_item())
    assert not await outbox.enqueue(_item())
    assert await outbox.send_due() == 1
    assert await outbox.send_due() == 0
    (received,) = smtp_sink.received
    message = received.message
    assert received.recipients == ["an@example.vn"]
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["In-Reply-To"] == "<m1@example.vn>"
    assert message["References"] == "<m0@example.vn> <m1@example.vn>"
    assert str(message["Message-ID"]).startswith(f"<pakn.{CODE}.")
    assert str(message["Subject"]) == "[PAKN 123 456 7894] Đã tiếp nhận phản ánh"
    assert "Nguyễn Văn An" in str(message["To"])
    assert message.get_content().startswith("Kính gửi ông/bà An,")


async def test_a_server_down_delays_and_never_loses_a_letter(
    store: Store, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    outbox = Outbox(store, _settings(smtp_sink, tmp_path))
    await outbox.enqueue(_item())
    smtp_sink.stop()
    assert await outbox.send_due() == 0
    doc = await outbox.collection.find_one({})
    assert doc is not None and doc["state"] == "pending" and doc["attempts"] == 1
    assert doc["next_at"] > datetime.now(UTC)
    smtp_sink.start()
    assert await outbox.send_due(now=datetime.now(UTC) + timedelta(seconds=2)) == 1
    assert len(smtp_sink.received) == 1


async def test_a_refused_address_is_recorded_not_retried(
    store: Store, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    outbox = Outbox(store, _settings(smtp_sink, tmp_path))
    await outbox.enqueue(_item(key="ack:<m2@example.vn>", to="refused@example.vn"))
    await outbox.send_due()
    doc = await outbox.collection.find_one({})
    assert doc is not None and doc["state"] == "rejected" and "550" in doc["last_error"]
    assert smtp_sink.received == []
