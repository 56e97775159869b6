"""The 34 corpus messages delivered to a real Dovecot by IMAP APPEND, read by the running
service, routed by the real router: each one has exactly the outcome its sidecar says."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.web import Application

from pakn.bus import Bus
from pakn.store import Store
from pakn_email.parse import PoisonMail, parse_mail
from pakn_email.records import MESSAGES
from pakn_email.settings import EmailSettings
from pakn_router.app import init_app as init_router
from pakn_router.settings import RouterSettings
from tests.fixtures.mail import Dovecot, SmtpSink
from tests.pakn_email.conftest import EmailClient, eventually, open_case, wait_inbox_empty
from tests.pakn_email.corpus import OUR_ADDRESS, load_corpus
from tests.pakn_router.conftest import RouterClient, wait_for_case

pytestmark = pytest.mark.slow

CORPUS = load_corpus()
PARENT_CODE = "1234567894"
SUBJECT_CODE = "2468013572"


async def test_every_corpus_message_gets_its_outcome(
    dovecot: Dovecot,
    smtp_sink: SmtpSink,
    email_settings: EmailSettings,
    start_email: Callable[[EmailSettings], Awaitable[EmailClient]],
    router_settings: RouterSettings,
    aiohttp_client: Callable[[Application], Awaitable[RouterClient]],
    store: Store,
    bus: Bus,
) -> None:
    await aiohttp_client(await init_router(router_settings))
    for code in (PARENT_CODE, SUBJECT_CODE):
        await open_case(bus, store, code, email="hamy.2001@icloud.com")
        await wait_for_case(store, {"tracking_code": code})
    for mail in CORPUS:
        # INTERNALDATE = the Date header, as a server that received it then would have it:
        # the times the texts mention ("tối qua") are read against it.
        try:
            date = parse_mail(mail.raw).date
        except PoisonMail:
            date = None
        await dovecot.append(mail.raw, date=date)
    client = await start_email(email_settings)
    await wait_inbox_empty(dovecot, within=120)

    failed = [m for m in CORPUS if m.outcome == "failed"]
    assert await dovecot.count(email_settings.imap_failed) == len(failed)
    assert await dovecot.count(email_settings.imap_processed) == len(CORPUS) - len(failed)

    answered: dict[str, str] = {}  # Message-ID of the citizen's mail → tracking code
    for mail in CORPUS:
        if mail.outcome in ("failed",):
            continue
        parsed = parse_mail(mail.raw, own_addresses=[OUR_ADDRESS])
        record = await store.db[MESSAGES].find_one({"_id": parsed.message_id})
        assert record is not None, mail.name
        expected = mail.expected
        if mail.outcome == "ignored":
            assert (record["outcome"], record["reason"]) == ("ignored", expected["ignore"])
            continue
        if mail.outcome == "followup":
            assert record["outcome"] == "followup", mail.name
            parent = await wait_for_case(store, {"tracking_code": record["tracking_code"]})
            added = [
                f for f in parent["followups"] if f["submission_id"] == record["submission_id"]
            ]
            assert [f["content"] for f in added] == [expected["content"]], mail.name
            answered[parsed.message_id] = record["tracking_code"]
            continue
        assert record["outcome"] == "case", mail.name
        case = await wait_for_case(store, {"submission_id": record["submission_id"]})
        assert case["channel"] == "email" and case["channel_ref"] == parsed.message_id
        assert case["content"] == expected["content"], mail.name
        submitter = expected["submitter"]
        assert case["submitter"]["email"] == submitter["email"], mail.name
        assert case["submitter"]["phone"] == submitter["phone"], mail.name
        assert case["submitter"]["name"] == submitter["name"], mail.name
        problems = [{"field": p["field"], "code": p["code"]} for p in case["problems"]]
        assert problems == expected.get("problems", []), mail.name
        assert (case["status"] == "needs_info") == (mail.outcome == "needs_info"), mail.name
        if "attachments" in expected:
            assert [
                {"filename": a["filename"], "content_type": a["content_type"]}
                for a in case["attachments"]
            ] == expected["attachments"], mail.name
        answered[parsed.message_id] = case["tracking_code"]

    # Every case and follow-up is answered once, in its thread; nothing else is answered.
    async def all_acknowledged() -> bool:
        acks = [r for r in smtp_sink.received if r.message["Auto-Submitted"] == "auto-replied"]
        return len(acks) >= len(answered)

    await eventually(all_acknowledged, within=60, what="every acknowledgement")
    acks = [r.message for r in smtp_sink.received if r.message["Auto-Submitted"] == "auto-replied"]
    by_thread: dict[str, list[Any]] = {}
    for ack in acks:
        by_thread.setdefault(str(ack["In-Reply-To"]), []).append(ack)
    assert sorted(by_thread) == sorted(answered)
    for message_id, code in answered.items():
        (ack,) = by_thread[message_id]
        spoken = f"{code[:3]} {code[3:6]} {code[6:]}"
        assert spoken in str(ack["Subject"])
        body = ack.get_content()
        assert f"https://pakn.khanhhoa.gov.vn/tra-cuu?ma={code}" in body
        assert message_id in str(ack["References"])
    ignored_senders = {
        parse_mail(m.raw, own_addresses=[OUR_ADDRESS]).reply_address
        for m in CORPUS
        if m.outcome == "ignored"
    }
    assert not {r.recipients[0] for r in smtp_sink.received} & ignored_senders

    health = await client.get("/healthz")
    assert health.status == 200, await health.text()
