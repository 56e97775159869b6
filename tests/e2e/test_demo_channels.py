"""`make run` then `pakn demo`, for real: `pakn up` with its development mailbox, and the
demo's reports through all five channels, routed, stored and (e-mail) acknowledged."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pakn import devmail
from pakn.commands.demo import code_in, demo_calls, demo_chats, demo_mails, demo_reports
from pakn.embedded import answers
from pakn.store import open_store
from tests.fixtures.stack import up_environment

pytestmark = pytest.mark.slow

READY_WITHIN = 90.0


async def _pakn(env: dict[str, str], *args: str, stderr: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pakn", *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=stderr
    )


@pytest.fixture
async def stack(tmp_path: Path, amqp_url: str) -> AsyncIterator[dict[str, str]]:
    """`pakn up` until its ready line; Ctrl-C (SIGINT) after the test, which must stop it."""
    if devmail.dovecot_binary() is None:
        pytest.fail("dovecot is not installed: `apt-get install dovecot-imapd`")
    env = {**up_environment(tmp_path, amqp_url), "PAKN_OUTBOX_INTERVAL": "0.5"}
    up = await _pakn(env, "up", stderr=asyncio.subprocess.DEVNULL)
    assert up.stdout is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(READY_WITHIN):
            while not lines or "ready" not in lines[-1]:
                line = (await up.stdout.readline()).decode()
                assert line, f"pakn up ended before it was ready: {lines}"
                lines.append(line)
        assert f"mail imap://127.0.0.1:{env['PAKN_DEVMAIL_IMAP_PORT']}" in lines[-1]
        yield env
    finally:
        if up.returncode is None:
            up.send_signal(signal.SIGINT)
        rest = await asyncio.wait_for(up.stdout.read(), 30)
        assert await up.wait() == 0, rest.decode()
    mail_dir = Path(env["PAKN_VAR_DIR"]) / "mail"
    assert devmail.read_state(mail_dir) is None, "the mailbox's state outlived it"
    assert not devmail.listening(int(env["PAKN_DEVMAIL_IMAP_PORT"])), "Dovecot still runs"
    assert not await answers(int(env["PAKN_DB_PORT"]))


async def test_the_demo_goes_through_every_channel_and_each_case_is_routed(
    stack: dict[str, str],
) -> None:
    env = stack
    demo = await _pakn(env, "demo", "--wait", "45", stderr=asyncio.subprocess.STDOUT)
    out = (await asyncio.wait_for(demo.communicate(), 120))[0].decode()
    assert demo.returncode == 0, out
    assert "✗" not in out and "not routed yet" not in out, out

    routed = [line.split() for line in out.splitlines() if line.startswith("  ✓ ")]
    by_channel: dict[str, set[str]] = {}
    for parts in routed:
        by_channel.setdefault(parts[1], set()).add("".join(parts[2:5]))
    via_web = sum(1 for r in demo_reports() if r.get("via") == "web")
    assert {name: len(codes) for name, codes in by_channel.items()} == {
        "web": via_web,
        "app": len(demo_reports()) - via_web,
        "chatbot": len(demo_chats()),
        "hotline": len(demo_calls()),
        "email": len(demo_mails()),
    }

    store = open_store(f"mongodb://127.0.0.1:{env['PAKN_DB_PORT']}/?directConnection=true")
    try:
        cases = {
            case["tracking_code"]: case
            async for case in store.cases.find(
                {}, {"tracking_code": 1, "channel": 1, "status": 1, "lead_agency": 1}
            )
        }
    finally:
        await store.close()
    for channel, codes in by_channel.items():
        for code in codes:
            assert cases[code]["channel"] == channel
            assert cases[code]["status"] != "received"
    hotline_case = cases[next(iter(by_channel["hotline"]))]
    email_case = cases[next(iter(by_channel["email"]))]
    assert hotline_case["status"] == email_case["status"] == "assigned"
    assert hotline_case["lead_agency"] and email_case["lead_agency"]

    # The acknowledgement `pakn email` sent is in the sink's Maildir, naming that case.
    letters = devmail.sent_mail(Path(env["PAKN_VAR_DIR"]) / "mail" / devmail.SENT_FOLDER)
    (ack,) = [letter for letter in letters if letter["Auto-Submitted"] == "auto-replied"]
    assert demo_mails()[0]["address"] in str(ack["To"])
    assert code_in(str(ack["Subject"])) == email_case["tracking_code"]
