"""I/O: one IMAP session with aioimaplib — TLS/STARTTLS/plain, UIDs, BODY.PEEK[], MOVE, IDLE."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime

import aioimaplib
from aioimaplib.aioimaplib import Command

from pakn_email.settings import EmailSettings

log = logging.getLogger(__name__)


class ImapError(Exception):
    """The server refused a command or the connection broke: reconnect and try again."""


@dataclass(frozen=True)
class MailboxState:
    uidvalidity: int
    exists: int


@dataclass(frozen=True)
class Fetched:
    uid: int
    internaldate: datetime
    raw: bytes


_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
_EXISTS = re.compile(rb"^(\d+) EXISTS")
_UID = re.compile(rb"UID (\d+)")
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')
_SEARCH_RESULT = re.compile(rb"^(?:SEARCH)?[\d ]*$")


def parse_internaldate(text: str) -> datetime:
    """``" 3-Dec-2026 13:58:42 +0000"`` → an aware datetime (RFC 3501 date-time)."""
    return datetime.strptime(text.strip(), "%d-%b-%Y %H:%M:%S %z")


def quote_mailbox(name: str) -> str:
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _check(response: aioimaplib.Response, what: str) -> aioimaplib.Response:
    if response.result != "OK":
        detail = b" ".join(line for line in response.lines if isinstance(line, bytes))[:200]
        raise ImapError(f"{what}: {response.result} {detail.decode(errors='replace')}")
    return response


class ImapSession:
    """A logged-in session with the configured mailbox selected."""

    def __init__(self, client: aioimaplib.IMAP4, settings: EmailSettings) -> None:
        self.client = client
        self.settings = settings
        #: Set when the server closes the connection (an IDLE would otherwise wait on).
        self.lost = asyncio.Event()
        client.protocol.conn_lost_cb = lambda _exc: self.lost.set()

    @classmethod
    async def open(cls, settings: EmailSettings) -> ImapSession:
        if not settings.imap_host or not settings.imap_user:
            raise ImapError("PAKN_IMAP_HOST and PAKN_IMAP_USER are not set")
        client: aioimaplib.IMAP4
        if settings.imap_tls == "tls":
            client = aioimaplib.IMAP4_SSL(
                host=settings.imap_host,
                port=settings.imap_port,
                timeout=settings.imap_timeout,
                ssl_context=settings.tls_context(),
            )
        else:
            client = aioimaplib.IMAP4(
                host=settings.imap_host, port=settings.imap_port, timeout=settings.imap_timeout
            )
        session = cls(client, settings)
        try:
            await client.wait_hello_from_server()
            if settings.imap_tls == "starttls":
                await session._starttls()
            password = settings.imap_password.get_secret_value() if settings.imap_password else ""
            _check(await client.login(settings.imap_user, password), "LOGIN")
            for folder in (settings.imap_processed, settings.imap_failed):
                await session.ensure_folder(folder)
        except BaseException:
            await session.close()
            raise
        return session

    async def _starttls(self) -> None:
        """Upgrade the plain connection (aioimaplib has no STARTTLS of its own)."""
        protocol = self.client.protocol
        if "STARTTLS" not in protocol.capabilities:
            raise ImapError("the server does not offer STARTTLS")
        _check(
            await protocol.execute(Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)),
            "STARTTLS",
        )
        loop = asyncio.get_running_loop()
        transport = await loop.start_tls(
            protocol.transport,
            protocol,
            self.settings.tls_context(),
            server_hostname=self.settings.imap_host,
        )
        protocol.transport = transport
        # Capabilities before TLS are not to be trusted (RFC 3501 §6.2.1).
        await protocol.capability()

    @property
    def supports_idle(self) -> bool:
        return "IDLE" in self.client.protocol.capabilities

    @property
    def supports_move(self) -> bool:
        return "MOVE" in self.client.protocol.capabilities

    async def ensure_folder(self, name: str) -> None:
        response = await self.client.create(quote_mailbox(name))
        if response.result != "OK" and not any(
            b"ALREADYEXISTS" in line or b"exists" in line.lower()
            for line in response.lines
            if isinstance(line, bytes)
        ):
            raise ImapError(f"cannot create folder {name!r}: {response.lines}")

    async def select(self, folder: str | None = None) -> MailboxState:
        """Select the mailbox (or ``folder``): its UIDVALIDITY and message count."""
        name = folder or self.settings.imap_mailbox
        response = _check(await self.client.select(quote_mailbox(name)), "SELECT")
        uidvalidity = exists = None
        for line in response.lines:
            if not isinstance(line, bytes | bytearray):
                continue
            if (match := _UIDVALIDITY.search(line)) is not None:
                uidvalidity = int(match.group(1))
            if (match := _EXISTS.match(line)) is not None:
                exists = int(match.group(1))
        if uidvalidity is None:
            raise ImapError("SELECT answered without UIDVALIDITY")
        return MailboxState(uidvalidity, exists or 0)

    async def uids_after(self, last_uid: int) -> list[int]:
        """UIDs in the mailbox greater than ``last_uid``, in order."""
        uids = await self._search(f"UID {last_uid + 1}:*")
        # "n:*" always includes the last message, even when its UID is below n.
        return [uid for uid in uids if uid > last_uid]

    async def _search(self, criteria: str) -> list[int]:
        response = _check(await self.client.uid_search(criteria, charset=None), "UID SEARCH")
        uids: set[int] = set()
        for line in response.lines:
            # aioimaplib hands the untagged "* SEARCH 1 2" over as b"1 2".
            if isinstance(line, bytes) and _SEARCH_RESULT.match(line):
                uids.update(int(part) for part in line.split() if part.isdigit())
        return sorted(uids)

    async def uids_since(self, day: datetime) -> list[int]:
        """UIDs of the selected folder's messages that arrived on or after ``day``."""
        return await self._search(f"SINCE {day:%d-%b-%Y}")

    async def fetch(self, uid: int) -> Fetched | None:
        """The message's bytes (BODY.PEEK[]: not marked read) and the server's INTERNALDATE."""
        response = _check(
            await self.client.uid("fetch", str(uid), "(UID INTERNALDATE BODY.PEEK[])"), "FETCH"
        )
        header = b""
        raw: bytes | None = None
        for line in response.lines:
            if isinstance(line, bytearray) and raw is None:
                raw = bytes(line)
            elif isinstance(line, bytes):
                header += b" " + line
        if raw is None:
            return None  # expunged meanwhile
        uid_match = _UID.search(header)
        date_match = _INTERNALDATE.search(header)
        if uid_match is None or date_match is None or int(uid_match.group(1)) != uid:
            raise ImapError(f"unexpected FETCH answer for UID {uid}")
        return Fetched(uid, parse_internaldate(date_match.group(1).decode()), raw)

    async def internaldates(self) -> list[datetime]:
        """When each message still in the mailbox arrived (for the lag gauge)."""
        response = await self.client.fetch("1:*", "(INTERNALDATE)")
        if response.result != "OK":
            return []
        found = []
        for line in response.lines:
            if isinstance(line, bytes) and (match := _INTERNALDATE.search(line)):
                found.append(parse_internaldate(match.group(1).decode()))
        return found

    async def move(self, uid: int, folder: str) -> None:
        """Move one message (MOVE, or COPY + \\Deleted + UID EXPUNGE where MOVE is missing)."""
        target = quote_mailbox(folder)
        if self.supports_move:
            _check(await self.client.uid("move", str(uid), target), "UID MOVE")
            return
        _check(await self.client.uid("copy", str(uid), target), "UID COPY")
        _check(await self.client.uid("store", str(uid), "+FLAGS.SILENT", r"(\Deleted)"), "STORE")
        if "UIDPLUS" in self.client.protocol.capabilities:
            _check(await self.client.uid("expunge", str(uid)), "UID EXPUNGE")
        else:
            _check(await self.client.expunge(), "EXPUNGE")

    async def wait_for_mail(self, seconds: float) -> None:
        """Return when the server tells of a change (IDLE), or after ``seconds`` (polling).

        Raises ImapError when the connection is lost meanwhile."""
        if not self.supports_idle:
            await self._unless_lost(asyncio.sleep(seconds), seconds + 1)
            return
        idle = await self.client.idle_start(timeout=seconds)
        try:
            await self._unless_lost(
                self.client.wait_server_push(timeout=seconds + self.settings.imap_timeout),
                seconds + self.settings.imap_timeout,
            )
        except TimeoutError:
            pass
        finally:
            if not self.lost.is_set():
                if self.client.has_pending_idle():
                    self.client.idle_done()
                await asyncio.wait_for(idle, self.settings.imap_timeout)
            else:
                idle.cancel()

    async def _unless_lost(self, waiting: Awaitable[object], seconds: float) -> None:
        task = asyncio.ensure_future(waiting)
        lost = asyncio.ensure_future(self.lost.wait())
        try:
            done, _ = await asyncio.wait(
                {task, lost}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for pending in (task, lost):
                if not pending.done():
                    pending.cancel()
        if lost in done:
            raise ImapError("the IMAP server closed the connection")
        if task in done:
            task.result()

    async def close(self) -> None:
        try:
            if self.client.get_state() in ("AUTH", "SELECTED"):
                await asyncio.wait_for(self.client.logout(), 5)
        except Exception as exc:  # closing a broken session: nothing left to save
            log.debug("IMAP logout failed: %s", exc)
        transport = getattr(self.client.protocol, "transport", None)
        if transport is not None:
            transport.close()
