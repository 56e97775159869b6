"""The running service on real servers: threads, loops, news, UIDVALIDITY, outages, crashes."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
from aiohttp.web import Application

from pakn.bus import Bus
from pakn.ids import new_event_id
from pakn.schema import CaseEvent, EventKind, Status
from pakn.store import Store
from pakn_email.reconcile import reconcile
from pakn_email.records import MESSAGES
from pakn_email.settings import EmailSettings
from pakn_router.app import init_app as init_router
from pakn_router.settings import RouterSettings
from tests.fixtures.broker import TcpProxy
from tests.fixtures.mail import Dovecot, ReceivedMail, SmtpSink
from tests.fixtures.store import free_port, url_with_database
from tests.pakn_email.conftest import (
    EmailClient,
    email_settings_for,
    eventually,
    wait_inbox_empty,
)
from tests.pakn_router.conftest import RouterClient, wait_for_case

pytestmark = pytest.mark.slow

StartEmail = Callable[[EmailSettings], Awaitable[EmailClient]]
StartRouter = Callable[[Application], Awaitable[RouterClient]]

REPORTS = [
    "Đèn chiếu sáng trên đường Trần Phú trước số 120, phường Nha Trang bị tắt từ tối qua, "
    "đoạn đường rất tối và nguy hiểm cho người đi bộ.",
    "Cống thoát nước trên đường Lê Hồng Phong, phường Nha Trang bị nghẹt rác, sáng nay mưa "
    "một chút mà nước đã tràn lên mặt đường.",
    "Đường Nguyễn Thị Minh Khai, phường Nha Trang có ổ gà lớn trước số 45, tối qua có người "
    "đi xe máy bị ngã.",
    "Rác thải để tràn ra lòng đường Hùng Vương trước chợ, phường Nha Trang, bốc mùi hôi thối "
    "từ sáng hôm qua.",
]


def report_mail(text: str, *, sender: str = "an.nguyen@example.vn", **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Nguyễn Văn An <{sender}>"
    message["To"] = "pakn@khanhhoa.gov.vn"
    message["Subject"] = headers.pop("Subject", "Phản ánh")
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = headers.pop("Message_ID", make_msgid(domain="example.vn"))
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(f"{text}\n\nTrân trọng,\nNguyễn Văn An\nĐT: 0905 123 456\n")
    return message


def acks(sink: SmtpSink) -> list[ReceivedMail]:
    return [r for r in sink.received if r.message["Auto-Submitted"] == "auto-replied"]


async def count_acks(sink: SmtpSink, n: int, *, within: float = 60) -> list[ReceivedMail]:
    async def enough() -> bool:
        return len(acks(sink)) >= n

    await eventually(enough, within=within, what=f"{n} acknowledgements")
    return acks(sink)


async def test_a_reply_to_the_acknowledgement_becomes_a_followup(
    dovecot: Dovecot,
    smtp_sink: SmtpSink,
    email_settings: EmailSettings,
    start_email: StartEmail,
    router_settings: RouterSettings,
    aiohttp_client: StartRouter,
    store: Store,
) -> None:
    await aiohttp_client(await init_router(router_settings))
    await start_email(email_settings)
    original = report_mail(REPORTS[0])
    await dovecot.append(original.as_bytes())
    (ack,) = await count_acks(smtp_sink, 1)
    code = str(ack.message["Message-ID"]).split(".")[1]
    case = await wait_for_case(store, {"tracking_code": code})
    assert case["channel_ref"] == original["Message-ID"]

    reply = report_mail(
        "Tối nay đèn vẫn chưa sáng, tôi gửi thêm ảnh sau.",
        Subject=f"Re: {ack.message['Subject']}",
        In_Reply_To=str(ack.message["Message-ID"]),
        References=f"{original['Message-ID']} {ack.message['Message-ID']}",
    )
    reply.set_content(
        "Tối nay đèn vẫn chưa sáng, tôi gửi thêm ảnh sau.\n\n"
        "Vào Th 4 lúc 09:01 Cổng PAKN Khánh Hòa <pakn@khanhhoa.gov.vn> đã viết:\n"
        "> Mã hồ sơ: ...\n"
    )
    await dovecot.append(reply.as_bytes())
    second = (await count_acks(smtp_sink, 2))[1]
    assert second.message["In-Reply-To"] == reply["Message-ID"]
    assert code in str(second.message["Message-ID"])

    async def followed_up() -> bool:
        doc = await store.cases.find_one({"tracking_code": code})
        return bool(doc and doc["followups"])

    await eventually(followed_up, within=60, what="the follow-up on the case")
    doc = await store.cases.find_one({"tracking_code": code})
    assert doc is not None
    assert [f["content"] for f in doc["followups"]] == [
        "Tối nay đèn vẫn chưa sáng, tôi gửi thêm ảnh sau."
    ]
    assert await store.cases.count_documents({}) == 1


async def test_an_auto_reply_to_our_acknowledgement_gets_no_answer(
    dovecot: Dovecot,
    smtp_sink: SmtpSink,
    email_settings: EmailSettings,
    start_email: StartEmail,
    store: Store,
) -> None:
    await start_email(email_settings)
    await dovecot.append(report_mail(REPORTS[1]).as_bytes())
    (ack,) = await count_acks(smtp_sink, 1)
    vacation = report_mail(
        "Tôi đang nghỉ phép đến hết tuần, sẽ trả lời khi trở lại.",
        Subject=f"Trả lời tự động: {ack.message['Subject']}",
        In_Reply_To=str(ack.message["Message-ID"]),
        Auto_Submitted="auto-replied",
    )
    await dovecot.append(vacation.as_bytes())
    await wait_inbox_empty(dovecot)
    record = await store.db[MESSAGES].find_one({"_id": vacation["Message-ID"]})
    assert record is not None and (record["outcome"], record["reason"]) == (
        "ignored",
        "auto_reply",
    )
    await asyncio.sleep(1.5)  # several outbox rounds: nothing more goes out
    assert len(smtp_sink.received) == 1
    assert await store.intake_keys.count_documents({}) == 1


async def test_the_citizen_hears_of_the_assignment_once_in_the_thread(
    dovecot: Dovecot,
    smtp_sink: SmtpSink,
    email_settings: EmailSettings,
    start_email: StartEmail,
    router_settings: RouterSettings,
    aiohttp_client: StartRouter,
    store: Store,
    bus: Bus,
) -> None:
    await aiohttp_client(await init_router(router_settings))
    await start_email(email_settings)
    original = report_mail(REPORTS[0])
    await dovecot.append(original.as_bytes())
    (ack,) = await count_acks(smtp_sink, 1)
    code = str(ack.message["Message-ID"]).split(".")[1]
    case = await wait_for_case(store, {"tracking_code": code})
    assert case["status"] == Status.ASSIGNED

    def news() -> list[ReceivedMail]:
        return [r for r in smtp_sink.received if r.message["Auto-Submitted"] == "auto-generated"]

    async def told() -> bool:
        return len(news()) >= 1

    await eventually(told, within=90, what="the news of the assignment")
    (letter,) = news()
    assert letter.message["In-Reply-To"] == original["Message-ID"]
    assert str(ack.message["Message-ID"]) in str(letter.message["References"])
    assert "Đã giao cho" in str(letter.message["Subject"])
    assert letter.recipients == ["an.nguyen@example.vn"]

    # The same event delivered again (at least once) writes no second letter.
    event = CaseEvent(
        event_id=new_event_id(),
        event=EventKind.PUBLISHED,
        at=datetime.now(UTC),
        submission_id=case["submission_id"],
        tracking_code=code,
        status=Status.PUBLISHED,
        lead_agency=case["lead_agency"],
    )
    for _ in range(2):
        await bus.publish_case_event(event, timeout=5)

    async def published() -> bool:
        return len(news()) >= 2

    await eventually(published, within=90, what="the news of the result")
    await asyncio.sleep(1.5)
    assert [str(r.message["Subject"]).split("] ")[1] for r in news()][1:] == ["Đã có kết quả xử lý"]


async def test_a_changed_uidvalidity_rescans_without_a_duplicate_or_a_loss(
    dovecot: Dovecot,
    smtp_sink: SmtpSink,
    email_settings: EmailSettings,
    start_email: StartEmail,
    store: Store,
    aiohttp_client: StartRouter,
) -> None:
    first = [report_mail(text) for text in REPORTS[:3]]
    for message in first:
        await dovecot.append(message.as_bytes())
    client = await start_email(email_settings)
    await count_acks(smtp_sink, 3)
    await wait_inbox_empty(dovecot)
    before = await dovecot.uidvalidity()
    await client.close()

    # The mailbox is rebuilt (a server move): new UIDVALIDITY, UIDs from 1 again, and the old
    # messages are back in the inbox with a new one among them.
    dovecot.stop()
    shutil.rmtree(dovecot.root / "home" / dovecot.user)
    dovecot.start()
    newcomer = report_mail(REPORTS[3])
    for message in [first[0], newcomer, first[1], first[2]]:
        await dovecot.append(message.as_bytes())
    assert await dovecot.uidvalidity() != before

    await start_email(email_settings)
    await wait_inbox_empty(dovecot)
    await count_acks(smtp_sink, 4)
    await asyncio.sleep(1.5)
    assert len(acks(smtp_sink)) == 4
    assert await store.intake_keys.count_documents({}) == 4
    assert await dovecot.count(email_settings.imap_processed) == 4


async def test_outages_of_imap_smtp_and_the_broker_lose_nothing(
    bus: Bus,
    dovecot: Dovecot,
    smtp_sink: SmtpSink,
    start_email: StartEmail,
    store: Store,
    mongodb_url: str,
    store_database: str,
    amqp_url: str,
    broker_proxy: TcpProxy,
    tmp_path: Path,
) -> None:
    settings = email_settings_for(
        dovecot,
        smtp_sink,
        mongodb_url=url_with_database(mongodb_url, store_database),
        amqp_url=broker_proxy.url_for(amqp_url),
        var_dir=tmp_path / "var",
    )
    client = await start_email(settings)
    sent = 0

    async def deliver(text: str) -> None:
        nonlocal sent
        await dovecot.append(report_mail(f"{text} (thư {sent + 1})").as_bytes())
        sent += 1

    await deliver(REPORTS[0])
    await count_acks(smtp_sink, 1)

    # IMAP server away: the loop reconnects with backoff, and takes up what arrived.
    dovecot.stop()

    async def imap_down() -> bool:
        return (await client.get("/healthz")).status == 503

    await eventually(imap_down, what="/healthz to say the mailbox is down")
    await asyncio.sleep(1)
    dovecot.start()
    await deliver(REPORTS[1])
    await count_acks(smtp_sink, 2, within=90)

    # SMTP server away: intake goes on, letters wait in the outbox and go out once.
    smtp_sink.stop()
    await deliver(REPORTS[2])
    await wait_inbox_empty(dovecot)
    await asyncio.sleep(1)
    smtp_sink.start()
    await count_acks(smtp_sink, 3, within=60)

    # Broker away: the message stays in the inbox until the broker confirms it.
    broker_proxy.cut()
    await deliver(REPORTS[3])
    await asyncio.sleep(3)
    assert await dovecot.count("INBOX") == 1
    broker_proxy.restore()
    await wait_inbox_empty(dovecot, within=90)
    await count_acks(smtp_sink, 4, within=60)

    await asyncio.sleep(1.5)
    received = acks(smtp_sink)
    assert len(received) == 4
    assert len({str(r.message["In-Reply-To"]) for r in received}) == 4
    assert await store.intake_keys.count_documents({}) == 4

    async def healthy() -> bool:
        return (await client.get("/healthz")).status == 200

    await eventually(healthy, within=60, what="/healthz to recover")


async def _start_service(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "pakn", "email", env=env, stdout=out, stderr=out
        )


def _stopped(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state == "T"


async def test_killed_between_confirm_and_move_then_restarted_gives_one_case(
    bus: Bus,
    dovecot: Dovecot,
    smtp_sink: SmtpSink,
    router_settings: RouterSettings,
    aiohttp_client: StartRouter,
    store: Store,
    mongodb_url: str,
    store_database: str,
    amqp_url: str,
    tmp_path: Path,
) -> None:
    await aiohttp_client(await init_router(router_settings))
    message = report_mail(REPORTS[0])
    await dovecot.append(message.as_bytes())
    env = {
        **os.environ,
        "PAKN_ENV": "test",
        "PAKN_AMQP_URL": amqp_url,
        "PAKN_MONGODB_URL": url_with_database(mongodb_url, store_database),
        "PAKN_VAR_DIR": str(tmp_path / "var"),
        "PAKN_EMAIL_PORT": str(free_port()),
        "PAKN_IMAP_HOST": "127.0.0.1",
        "PAKN_IMAP_PORT": str(dovecot.port),
        "PAKN_IMAP_USER": dovecot.user,
        "PAKN_IMAP_PASSWORD": dovecot.password,
        "PAKN_IMAP_TLS": "none",
        "PAKN_SMTP_HOST": "127.0.0.1",
        "PAKN_SMTP_PORT": str(smtp_sink.port),
        "PAKN_SMTP_TLS": "none",
        "PAKN_OUTBOX_INTERVAL": "0.2",
        "PAKN_CONFIRM_TIMEOUT": "2",
    }
    log = tmp_path / "email.log"
    first = await _start_service({**env, "PAKN_EMAIL_TEST_STOP_AFTER_CONFIRM": "1"}, log)
    try:
        async with asyncio.timeout(60):
            while not _stopped(first.pid):
                assert first.returncode is None, log.read_text()
                await asyncio.sleep(0.05)
        # The broker confirmed the submission; nothing else has happened yet.
        assert await store.intake_keys.count_documents({}) == 1
        first.send_signal(signal.SIGKILL)
        await first.wait()
    finally:
        if first.returncode is None:
            first.kill()
            await first.wait()
    assert await dovecot.count("INBOX") == 1
    assert smtp_sink.received == []

    second = await _start_service(env, log)
    try:
        await wait_inbox_empty(dovecot, within=60)
        await count_acks(smtp_sink, 1, within=60)
        await asyncio.sleep(1.5)
    finally:
        second.send_signal(signal.SIGTERM)
        await second.wait()
    assert len(acks(smtp_sink)) == 1
    assert await store.intake_keys.count_documents({}) == 1
    case = await wait_for_case(store, {"channel_ref": message["Message-ID"]})
    await asyncio.sleep(1)  # the replayed submission reached the router too
    assert await store.cases.count_documents({}) == 1
    assert case["tracking_code"] in str(acks(smtp_sink)[0].message["Subject"]).replace(" ", "")
    record = await store.db[MESSAGES].find_one({"_id": message["Message-ID"]})
    assert record is not None and record["outcome"] == "case"
    assert record["moved_to"] == "PAKN/Processed"


async def test_reconciliation_names_a_message_without_an_outcome(
    dovecot: Dovecot,
    smtp_sink: SmtpSink,
    email_settings: EmailSettings,
    start_email: StartEmail,
    store: Store,
) -> None:
    await start_email(email_settings)
    await dovecot.append(report_mail(REPORTS[0]).as_bytes())
    await count_acks(smtp_sink, 1)
    await wait_inbox_empty(dovecot)
    # Someone dragged a message into the processed folder by hand.
    stray = report_mail(REPORTS[1])
    await dovecot.append(stray.as_bytes(), mailbox=email_settings.imap_processed)
    summary = await reconcile(email_settings, store, now=datetime.now(UTC) + timedelta(minutes=1))
    assert summary.checked == 2
    assert [(u.message_id, u.why) for u in summary.unaccounted] == [
        (stray["Message-ID"], "no outcome recorded")
    ]
