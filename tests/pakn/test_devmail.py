"""The development mailbox: its config and decisions as plain functions, the sink for real."""

from __future__ import annotations

import os
import smtplib
from email.message import EmailMessage
from pathlib import Path

import pytest

from pakn import devmail
from pakn.devmail import Accounts, DevMailSettings, DevMailState, SmtpSink
from pakn.embedded import pid_alive
from tests.fixtures.store import free_port

ROOT = Accounts("dovecot", "dovecot", "dovenull", "dovecot", "dovecot", privileged=True)
USER = Accounts("dev", "devs", "dev", "1000", "1000", privileged=False)


def test_the_config_listens_on_loopback_only_and_runs_as_the_accounts_given() -> None:
    config = devmail.dovecot_config(Path("/tmp/x"), 31143, ROOT)
    assert "listen = 127.0.0.1" in config and "port = 31143" in config
    assert "default_internal_user = dovecot" in config
    assert "uid=dovecot gid=dovecot home=/tmp/x/home/%u" in config
    assert "chroot =" not in config
    # Nothing else listens: no IMAPS, POP3 or submission port of its own.
    assert config.count("port = 0") == 3

    mine = devmail.dovecot_config(Path("/tmp/x"), 31143, USER)
    assert "default_internal_user = dev" in mine and "default_login_user = dev" in mine
    assert "default_internal_group = devs" in mine
    assert "uid=1000 gid=1000" in mine
    # Without root Dovecot cannot chroot its login processes.
    assert mine.count("chroot =") == 2


def test_the_mailbox_runs_only_in_dev_for_the_email_service_and_without_a_configured_one() -> None:
    assert devmail.dev_mailbox_wanted(imap_host=None, is_dev=True, email_installed=True)
    assert devmail.dev_mailbox_wanted(imap_host="", is_dev=True, email_installed=True)
    assert not devmail.dev_mailbox_wanted(
        imap_host="mail.khanhhoa.gov.vn", is_dev=True, email_installed=True
    )
    assert not devmail.dev_mailbox_wanted(imap_host=None, is_dev=False, email_installed=True)
    assert not devmail.dev_mailbox_wanted(imap_host=None, is_dev=True, email_installed=False)


def test_the_state_file_round_trips_and_points_the_email_service_at_the_mailbox(
    tmp_path: Path,
) -> None:
    settings = DevMailSettings(var_dir=tmp_path, devmail_imap_port=1, devmail_smtp_port=2)
    state = devmail.DevMailbox(settings).state
    assert state.sent == (tmp_path / "mail" / "sent").absolute()
    assert DevMailState.from_json(state.to_json()) == state
    env = state.email_environment()
    assert env["PAKN_IMAP_HOST"] == env["PAKN_SMTP_HOST"] == "127.0.0.1"
    assert (env["PAKN_IMAP_PORT"], env["PAKN_SMTP_PORT"]) == ("1", "2")
    assert env["PAKN_IMAP_TLS"] == env["PAKN_SMTP_TLS"] == "none"
    assert env["PAKN_IMAP_PASSWORD"] == state.password
    # No running mailbox, or a damaged file: none.
    assert devmail.read_state(tmp_path) is None
    (tmp_path / devmail.STATE_FILE).write_text("{")
    assert devmail.read_state(tmp_path) is None


def test_the_sink_keeps_each_letter_in_its_maildir_and_refuses_what_it_is_told(
    tmp_path: Path,
) -> None:
    sink = SmtpSink(free_port(), maildir=tmp_path / "sent", refuse=lambda a: a.startswith("no"))
    sink.start()
    try:
        letter = EmailMessage()
        letter["From"] = "pakn@khanhhoa.gov.vn"
        letter["To"] = "an@example.vn"
        letter["Subject"] = "[PAKN 123 456 7890] Đã tiếp nhận phản ánh"
        letter.set_content("Mã hồ sơ: 123 456 7890")
        with smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as client:
            client.send_message(letter)
            refused = client.sendmail(
                "pakn@khanhhoa.gov.vn", ["no@example.vn", "an@example.vn"], b"x"
            )
    finally:
        sink.stop()
    assert refused == {"no@example.vn": (550, b"5.1.1 No such user")}
    (kept, _second) = devmail.sent_mail(tmp_path / "sent")
    assert kept["Subject"] == "[PAKN 123 456 7890] Đã tiếp nhận phản ánh"
    assert [r.recipients for r in sink.received] == [["an@example.vn"], ["an@example.vn"]]
    assert devmail.sent_mail(tmp_path / "nothing") == []


@pytest.fixture
def settings(tmp_path: Path) -> DevMailSettings:
    """A development mailbox's settings in a folder of the test, on free ports."""
    if devmail.dovecot_binary() is None:
        pytest.fail("dovecot is not installed: `apt-get install dovecot-imapd`")
    return DevMailSettings(
        var_dir=tmp_path, devmail_imap_port=free_port(), devmail_smtp_port=free_port()
    )


def test_a_dovecot_a_killed_run_left_behind_is_stopped_by_the_next_one(
    settings: DevMailSettings,
) -> None:
    crashed = devmail.DevMailbox(settings)
    state = crashed.start()
    # `pakn up` killed with -9: the sink (a thread of it) is gone, its Dovecot is not.
    assert crashed.sink is not None
    crashed.sink.stop()
    assert state.dovecot_pid is not None and state.dovecot_root is not None
    assert devmail.read_state(settings.mail_dir) == state

    assert devmail.stop_left_behind(settings.mail_dir) == state.dovecot_pid
    assert not pid_alive(state.dovecot_pid)
    assert not devmail.listening(settings.devmail_imap_port)
    assert not Path(state.dovecot_root).exists()
    assert devmail.read_state(settings.mail_dir) is None
    assert devmail.stop_left_behind(settings.mail_dir) is None

    again = devmail.DevMailbox(settings)
    again.start()
    again.stop()


def test_a_pid_reused_by_another_program_is_left_alone(tmp_path: Path) -> None:
    state = devmail.DevMailState(
        imap_port=1,
        user="pakn",
        password="x",
        address="pakn@khanhhoa.gov.vn",
        smtp_port=2,
        sent=tmp_path / "sent",
        dovecot_pid=os.getpid(),
        dovecot_root=str(tmp_path / "gone"),
    )
    (tmp_path / devmail.STATE_FILE).write_text(state.to_json())
    assert devmail.stop_left_behind(tmp_path) is None
    assert pid_alive(os.getpid())
    assert devmail.read_state(tmp_path) is None


def letter(subject: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = (
        "dan@example.org",
        devmail.DEV_ADDRESS,
        subject,
    )
    message.set_content("Đèn đường trước nhà số 5 Lê Lợi không sáng.")
    return bytes(message)


async def inbox(state: DevMailState) -> tuple[str, list[str]]:
    """The INBOX's UIDVALIDITY and the subjects in it, over IMAP."""
    client = await devmail.imap_login(devmail.LOOPBACK, state.imap_port, state.user, state.password)
    try:
        selected = await client.select("INBOX")
        validity = next(
            line.split("UIDVALIDITY ")[1].split("]")[0]
            for line in map(str, selected.lines)
            if "UIDVALIDITY" in line
        )
        fetched = await client.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        subjects = [
            line.decode().strip()
            for line in fetched.lines
            if isinstance(line, bytes | bytearray) and line.startswith(b"Subject:")
        ]
        return validity, subjects
    finally:
        await client.logout()


async def test_the_mail_received_stays_from_one_run_to_the_next(settings: DevMailSettings) -> None:
    first = devmail.DevMailbox(settings)
    state = first.start()
    try:
        await devmail.imap_append(
            devmail.LOOPBACK, state.imap_port, state.user, state.password, letter("PAKN 1")
        )
        validity, subjects = await inbox(state)
        assert subjects == ["Subject: PAKN 1"]
    finally:
        first.stop()  # Ctrl-C
    assert (settings.mail_dir / devmail.RECEIVED_FOLDER).is_dir()

    # The next run: a new folder, a new password, the same messages with the same UIDs.
    second = devmail.DevMailbox(settings)
    state = second.start()
    try:
        assert await inbox(state) == (validity, ["Subject: PAKN 1"])
        await devmail.imap_append(
            devmail.LOOPBACK, state.imap_port, state.user, state.password, letter("PAKN 2")
        )
        # Killed with -9: the next run stops its Dovecot, and keeps what it had received.
        assert second.sink is not None
        second.sink.stop()
        second.sink = None
        assert devmail.stop_left_behind(settings.mail_dir) == state.dovecot_pid
    finally:
        second.dovecot = None  # stopped above, as a killed run's would be

    third = devmail.DevMailbox(settings)
    state = third.start()
    try:
        assert await inbox(state) == (validity, ["Subject: PAKN 1", "Subject: PAKN 2"])
    finally:
        third.stop()
