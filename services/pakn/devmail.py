"""A development mailbox: a private Dovecot (IMAP in) and an aiosmtpd sink (SMTP out).

`pakn up` runs both when no PAKN_IMAP_HOST is set, so `pakn email` works locally like the
other channels; the test fixtures (tests/fixtures/mail.py) run the same classes. Dovecot runs
with a config of its own in a folder of its own (DESIGN.md §9), never the system service.
"""

from __future__ import annotations

import contextlib
import dataclasses
import grp
import imaplib
import json
import logging
import mailbox
import os
import pwd
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Self

import aioimaplib
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from pydantic import Field

from pakn.embedded import pid_alive
from pakn.settings import CoreSettings

DOVECOT_START_WAIT = 20.0
#: Where Debian puts it: /usr/sbin is not on every user's PATH.
DOVECOT_PATHS = ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot")
DEV_USER = "pakn"
DEV_ADDRESS = "pakn@khanhhoa.gov.vn"
#: The service the development mailbox is for.
EMAIL_SERVICE = "email"
LOOPBACK = "127.0.0.1"


class DevMailSettings(CoreSettings):
    """Where `pakn up` puts the development mailbox (PAKN_DEVMAIL_*)."""

    devmail_imap_port: int = Field(default=1143, ge=1, le=65535)
    devmail_smtp_port: int = Field(default=2525, ge=1, le=65535)

    @property
    def mail_dir(self) -> Path:
        return self.var_dir / "mail"


def dovecot_binary() -> str | None:
    """The dovecot program, or None when `dovecot-imapd` is not installed."""
    found = shutil.which("dovecot")
    if found is not None:
        return found
    return next((path for path in DOVECOT_PATHS if os.access(path, os.X_OK)), None)


def listening(port: int, host: str = LOOPBACK) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class Accounts:
    """Which system accounts Dovecot's processes and the mail files run as.

    As root, §9's: the `dovecot`/`dovenull` users Debian's package creates. As anyone else,
    that user for everything: Dovecot cannot change to another uid then, and must not chroot.
    """

    internal_user: str
    internal_group: str
    login_user: str
    mail_uid: str
    mail_gid: str
    privileged: bool

    @classmethod
    def for_current_process(cls) -> Accounts:
        if os.geteuid() == 0:
            return cls("dovecot", "dovecot", "dovenull", "dovecot", "dovecot", privileged=True)
        me = pwd.getpwuid(os.geteuid()).pw_name
        group = grp.getgrgid(os.getegid()).gr_name
        uid, gid = str(os.geteuid()), str(os.getegid())
        return cls(me, group, me, uid, gid, privileged=False)


@dataclass(frozen=True)
class ServerTls:
    """A certificate for a test server: PEM files of the chain and its key, and the port of
    implicit TLS (IMAPS); the plain port then offers STARTTLS."""

    cert: Path
    key: Path
    port: int


def dovecot_config(root: Path, port: int, accounts: Accounts, tls: ServerTls | None = None) -> str:
    """Dovecot's whole configuration: IMAP on 127.0.0.1:``port``, plaintext logins from the
    passwd-file in ``root``, Maildir mail under ``root``/home, nothing else listening; with
    ``tls``, STARTTLS on that port and IMAPS on ``tls.port``."""
    ssl_lines = (
        f"ssl = yes\nssl_cert = <{tls.cert}\nssl_key = <{tls.key}"
        if tls is not None
        else "ssl = no"
    )
    unprivileged = (
        ""
        if accounts.privileged
        else """
service imap-login {
  chroot =
}
service anvil {
  chroot =
}
"""
    )
    return f"""
protocols = imap
listen = {LOOPBACK}
base_dir = {root / "run"}
state_dir = {root / "state"}
{ssl_lines}
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {accounts.internal_user}
default_internal_group = {accounts.internal_group}
default_login_user = {accounts.login_user}
first_valid_uid = 1
mail_location = maildir:~/Maildir
log_path = {root / "dovecot.log"}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root / "users"}
}}
userdb {{
  driver = static
  args = uid={accounts.mail_uid} gid={accounts.mail_gid} home={root / "home"}/%u
}}
service imap-login {{
  inet_listener imap {{
    address = {LOOPBACK}
    port = {port}
  }}
  inet_listener imaps {{
    address = {LOOPBACK}
    port = {tls.port if tls is not None else 0}
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
service submission-login {{
  inet_listener submission {{
    port = 0
  }}
}}
service lmtp {{
  unix_listener lmtp {{
    mode = 0666
  }}
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
{unprivileged}"""


def users_line(user: str, password: str) -> str:
    return f"{user}:{{PLAIN}}{password}::::::\n"


@dataclass
class Dovecot:
    """One Dovecot master process on 127.0.0.1:``port``, users in a passwd-file."""

    root: Path
    port: int
    user: str = DEV_USER
    password: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    accounts: Accounts = field(default_factory=Accounts.for_current_process)
    tls: ServerTls | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @classmethod
    def in_temporary_folder(cls, port: int, **kwargs: Any) -> Self:
        """A Dovecot in a fresh folder of /tmp. Not under the project or pytest's folders:
        the dovecot user must traverse every parent (§9), and /root, a home or pytest's base
        folder (made 0700 at each session start) may not let it."""
        root = Path(tempfile.mkdtemp(prefix="pakn-dovecot-"))
        root.chmod(0o755)
        server = cls(root=root, port=port, **kwargs)
        server.write_config()
        return server

    @property
    def config(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def log_text(self) -> str:
        log = self.root / "dovecot.log"
        return log.read_text(errors="replace") if log.exists() else ""

    def write_config(self) -> None:
        home = self.root / "home"
        for path in (self.root, self.root / "run", self.root / "state", home):
            path.mkdir(parents=True, exist_ok=True)
            # The dovecot user must traverse these (§9).
            path.chmod(0o755)
        if self.accounts.privileged:
            shutil.chown(home, self.accounts.mail_uid, self.accounts.mail_gid)
        (self.root / "users").write_text(users_line(self.user, self.password))
        self.config.write_text(dovecot_config(self.root, self.port, self.accounts, self.tls))

    def add_user(self, user: str) -> None:
        """One more mailbox with the same password; `reload` makes Dovecot see it."""
        with (self.root / "users").open("a") as users:
            users.write(users_line(user, self.password))

    def start(self) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        binary = dovecot_binary()
        if binary is None:
            raise RuntimeError("dovecot is not installed: `apt-get install dovecot-imapd`")
        self.process = subprocess.Popen(
            [binary, "-F", "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + DOVECOT_START_WAIT
        while time.monotonic() < deadline:
            if listening(self.port):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"dovecot did not start on port {self.port}: {self.log_text[-2000:]}")

    def reload(self) -> None:
        """Make the auth process read the users file again (SIGHUP to the master)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGHUP)
        # Until the new auth process is up, logins fail "temporarily": wait for a good one.
        deadline = time.monotonic() + DOVECOT_START_WAIT
        while True:
            try:
                with imaplib.IMAP4(LOOPBACK, self.port, timeout=5) as probe:
                    probe.login(self.user, self.password)
                    return
            except (imaplib.IMAP4.error, OSError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        """Stop the master (by its pid) and wait until the port is free again."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        deadline = time.monotonic() + 10
        while listening(self.port) and time.monotonic() < deadline:
            time.sleep(0.1)

    def remove(self) -> None:
        """Stop, and delete the folder with its mail."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def reset_mail(self) -> None:
        """Delete the user's mail (and with it the UIDVALIDITY): a fresh mailbox."""
        home = self.root / "home" / self.user
        if home.exists():
            shutil.rmtree(home)

    async def client(self) -> aioimaplib.IMAP4:
        return await imap_login(LOOPBACK, self.port, self.user, self.password)

    async def append(self, raw: bytes, mailbox: str = "INBOX", date: Any = None) -> None:
        """Deliver a message the way a mail server would put it there (IMAP APPEND)."""
        await imap_append(LOOPBACK, self.port, self.user, self.password, raw, mailbox, date)


async def imap_login(host: str, port: int, user: str, password: str) -> aioimaplib.IMAP4:
    client = aioimaplib.IMAP4(host=host, port=port, timeout=10)
    await client.wait_hello_from_server()
    response = await client.login(user, password)
    if response.result != "OK":
        raise RuntimeError(f"IMAP login refused: {response.lines!r}")
    return client


async def imap_append(
    host: str,
    port: int,
    user: str,
    password: str,
    raw: bytes,
    mailbox: str = "INBOX",
    date: Any = None,
) -> None:
    client = await imap_login(host, port, user, password)
    try:
        if mailbox != "INBOX":
            await client.create(mailbox)
        response = await client.append(raw, mailbox=mailbox, date=date)
        if response.result != "OK":
            raise RuntimeError(f"IMAP APPEND refused: {response.lines!r}")
    finally:
        await client.logout()


# --- SMTP ------------------------------------------------------------------------------------


@dataclass
class ReceivedMail:
    sender: str
    recipients: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


def _accept_all(address: str) -> bool:
    return False


class _Sink:
    """Keeps every message (in memory, and in a Maildir when given one); refuses for good
    (550) a recipient ``refuse`` names, as a real server refuses an unknown address."""

    def __init__(self, maildir: Path | None, refuse: Callable[[str], bool]) -> None:
        self.received: list[ReceivedMail] = []
        self.maildir = mailbox.Maildir(maildir, create=True) if maildir is not None else None
        self.refuse = refuse

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.refuse(address):
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = bytes(envelope.original_content or b"")
        self.received.append(
            ReceivedMail(envelope.mail_from or "", list(envelope.rcpt_tos), content)
        )
        if self.maildir is not None:
            self.maildir.add(content)
        return "250 OK"


class SmtpSink:
    """An aiosmtpd server on 127.0.0.1:``port`` that keeps what it is sent; it can be stopped
    and started again on the same port."""

    def __init__(
        self,
        port: int,
        *,
        maildir: Path | None = None,
        refuse: Callable[[str], bool] = _accept_all,
        tls: ssl.SSLContext | None = None,
        implicit_tls: bool = False,
    ) -> None:
        """With ``tls``: STARTTLS required before any mail, or (``implicit_tls``) TLS from
        the first byte, as on port 465."""
        self.port = port
        self._tls = tls
        self._implicit_tls = implicit_tls
        self._handler = _Sink(maildir, refuse)
        self._controller: Controller | None = None

    @property
    def received(self) -> list[ReceivedMail]:
        return self._handler.received

    def start(self) -> None:
        # aiosmtpd logs every connection at INFO (its own ready check included): in the
        # console of `pakn up` that is noise; refusals and errors still show.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        if self._controller is None:
            options: dict[str, Any] = {}
            if self._tls is not None and self._implicit_tls:
                options["ssl_context"] = self._tls
            elif self._tls is not None:
                options.update(tls_context=self._tls, require_starttls=True)
            self._controller = Controller(
                self._handler, hostname=LOOPBACK, port=self.port, **options
            )
            self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


# --- the development mailbox of `pakn up` ----------------------------------------------------

STATE_FILE = "devmail.json"
SENT_FOLDER = "sent"
#: The mail Dovecot received, kept between runs (its folder in /tmp goes at every stop).
RECEIVED_FOLDER = "received"


def keep_received(home: Path, kept: Path) -> None:
    """Copy a stopped Dovecot's mail home of the user (Maildir, UIDs and UIDVALIDITY with it)
    to ``kept``, replacing the last copy only once the new one is whole."""
    if not home.exists():
        return
    staging = kept.with_name(f"{kept.name}.new")
    previous = kept.with_name(f"{kept.name}.old")
    for leftover in (staging, previous):
        shutil.rmtree(leftover, ignore_errors=True)
    shutil.copytree(home, staging, symlinks=True)
    # Citizens' letters: for this user only, like the sent ones.
    staging.chmod(0o700)
    if kept.exists():
        kept.rename(previous)
    staging.rename(kept)
    shutil.rmtree(previous, ignore_errors=True)


def restore_received(kept: Path, home: Path, accounts: Accounts) -> None:
    """Put the kept mail back as the user's home before Dovecot starts: the same messages
    with the same UIDs, so the email service's place in the mailbox still holds."""
    if not kept.exists():
        return
    shutil.copytree(kept, home, symlinks=True, dirs_exist_ok=True)
    home.chmod(0o700)
    if accounts.privileged:
        for path in (home, *home.rglob("*")):
            shutil.chown(path, accounts.mail_uid, accounts.mail_gid)


@dataclass(frozen=True)
class DevMailState:
    """What `pakn up` tells `pakn demo` (and a developer) about its mailbox."""

    imap_port: int
    user: str
    password: str
    address: str
    smtp_port: int
    sent: Path
    #: Dovecot's master and folder once started: what a run killed with -9 leaves behind.
    dovecot_pid: int | None = None
    dovecot_root: str | None = None

    def email_environment(self) -> dict[str, str]:
        """The variables that point `pakn email` at this mailbox."""
        return {
            "PAKN_IMAP_HOST": LOOPBACK,
            "PAKN_IMAP_PORT": str(self.imap_port),
            "PAKN_IMAP_USER": self.user,
            "PAKN_IMAP_PASSWORD": self.password,
            "PAKN_IMAP_TLS": "none",
            "PAKN_SMTP_HOST": LOOPBACK,
            "PAKN_SMTP_PORT": str(self.smtp_port),
            "PAKN_SMTP_TLS": "none",
        }

    def to_json(self) -> str:
        return json.dumps({**self.__dict__, "sent": str(self.sent)}, indent=2)

    @classmethod
    def from_json(cls, text: str) -> DevMailState:
        values = json.loads(text)
        return cls(**{**values, "sent": Path(values["sent"])})


def read_state(mail_dir: Path) -> DevMailState | None:
    """The running dev mailbox's state, or None when `pakn up` runs none."""
    path = mail_dir / STATE_FILE
    try:
        return DevMailState.from_json(path.read_text())
    except (OSError, ValueError, TypeError, KeyError):
        return None


def sent_mail(sent: Path) -> list[EmailMessage]:
    """Every letter the sink kept, oldest first."""
    if not sent.exists():
        return []
    folder = mailbox.Maildir(sent, factory=None, create=False)
    letters = []
    for key in sorted(folder.keys()):
        with contextlib.suppress(FileNotFoundError):
            parsed = message_from_bytes(folder.get_bytes(key), policy=policy.default)
            assert isinstance(parsed, EmailMessage)
            letters.append(parsed)
    return letters


class DevMailbox:
    """Dovecot and the SMTP sink for `pakn up`, with the state file `pakn demo` reads.

    Made without I/O (the password is drawn here, so the email service's environment is
    known before anything starts); `start` creates Dovecot's folder and both servers."""

    def __init__(self, settings: DevMailSettings) -> None:
        self.mail_dir = settings.mail_dir
        self.state = DevMailState(
            imap_port=settings.devmail_imap_port,
            user=DEV_USER,
            password=secrets.token_urlsafe(12),
            address=DEV_ADDRESS,
            smtp_port=settings.devmail_smtp_port,
            sent=(self.mail_dir / SENT_FOLDER).absolute(),
        )
        self.dovecot: Dovecot | None = None
        self.sink: SmtpSink | None = None

    def ports(self) -> list[tuple[int, str]]:
        """Each port with the variable that moves it (for the busy-port line)."""
        return [
            (self.state.imap_port, "PAKN_DEVMAIL_IMAP_PORT"),
            (self.state.smtp_port, "PAKN_DEVMAIL_SMTP_PORT"),
        ]

    def start(self) -> DevMailState:
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.dovecot = Dovecot.in_temporary_folder(
                self.state.imap_port, user=self.state.user, password=self.state.password
            )
            restore_received(
                self.mail_dir / RECEIVED_FOLDER,
                self.dovecot.root / "home" / self.state.user,
                self.dovecot.accounts,
            )
            self.dovecot.start()
            self.sink = SmtpSink(self.state.smtp_port, maildir=self.state.sent)
            self.sink.start()
        except BaseException:
            self.stop()
            raise
        assert self.dovecot.process is not None
        self.state = dataclasses.replace(
            self.state, dovecot_pid=self.dovecot.process.pid, dovecot_root=str(self.dovecot.root)
        )
        state_file = self.mail_dir / STATE_FILE
        state_file.touch(mode=0o600)
        state_file.write_text(self.state.to_json())
        return self.state

    def stop(self) -> None:
        # Never skipped: the servers below must stop even if the state file cannot go.
        with contextlib.suppress(OSError):
            (self.mail_dir / STATE_FILE).unlink(missing_ok=True)
        if self.sink is not None:
            self.sink.stop()
        if self.dovecot is not None:
            self.dovecot.stop()
            try:
                keep_received(
                    self.dovecot.root / "home" / self.state.user, self.mail_dir / RECEIVED_FOLDER
                )
            finally:
                self.dovecot.remove()


def stop_left_behind(mail_dir: Path) -> int | None:
    """Stop the Dovecot an earlier `pakn up` left running (killed with -9, so it could not
    stop it), by the pid its state file names; that pid, or None when there was none.

    Only a live process that is dovecot running that run's own config is stopped: a pid
    reused since by another program is left alone.
    """
    state = read_state(mail_dir)
    if state is None or state.dovecot_pid is None or state.dovecot_root is None:
        return None
    with contextlib.suppress(OSError):
        (mail_dir / STATE_FILE).unlink(missing_ok=True)
    pid, root = state.dovecot_pid, Path(state.dovecot_root)
    if not pid_alive(pid) or str(root / "dovecot.conf") not in _cmdline(pid):
        shutil.rmtree(root, ignore_errors=True)
        return None
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if pid_alive(pid):
        os.kill(pid, signal.SIGKILL)
    try:
        keep_received(root / "home" / state.user, mail_dir / RECEIVED_FOLDER)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return pid


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def dev_mailbox_wanted(*, imap_host: str | None, is_dev: bool, email_installed: bool) -> bool:
    """Whether `pakn up` should run the development mailbox: only in dev, only for an
    installed `pakn email`, and never in place of a mailbox someone configured."""
    return is_dev and email_installed and not imap_host
