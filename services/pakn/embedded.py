"""The embedded store: connect to SecantusDB if it answers, else start it (DESIGN.md §3, §9)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import signal
import struct
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import bson
import bson.errors

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
#: How often the launcher looks again while it waits (lock, old process, new process).
POLL_SECONDS = 0.05
#: How long a stopping store gets after SIGTERM before SIGKILL.
STOP_GRACE_SECONDS = 10.0
#: A ping reply is tiny; anything claiming to be larger is not a MongoDB server.
MAX_REPLY_BYTES = 1 << 20
#: How much of the store's log an error message quotes.
LOG_TAIL_BYTES = 2000

_CONFIG_TEXT = (
    "# Written by pakn: the embedded store gets every option as a flag. This file exists\n"
    "# so that SecantusDB never picks up a stray secantusd.toml from the working directory\n"
    "# or the home directory.\n"
)


class EmbeddedStoreError(RuntimeError):
    """The embedded store could not be reached or started."""


@dataclass(frozen=True)
class StorePaths:
    """The files beside a store folder: ``var/db`` → ``var/db.lock``, ``.pid``, ``.log``."""

    data_dir: Path

    @classmethod
    def beside(cls, data_dir: Path) -> StorePaths:
        # Absolute, because the store runs with the folder's parent as working directory.
        return cls(data_dir.absolute())

    @property
    def lock(self) -> Path:
        return self.data_dir.with_name(self.data_dir.name + ".lock")

    @property
    def pidfile(self) -> Path:
        return self.data_dir.with_name(self.data_dir.name + ".pid")

    @property
    def log(self) -> Path:
        return self.data_dir.with_name(self.data_dir.name + ".log")

    @property
    def config(self) -> Path:
        return self.data_dir.with_name(self.data_dir.name + ".secantusd.toml")


def store_url(port: int) -> str:
    """The connection string of the embedded store on ``port``.

    Retryable writes are off for the embedded store only: SecantusDB scans and sorts its
    list of recent retryable writes (kept 30 minutes) on every write, which takes a steady
    load from ~600 to ~100 inserts/s (issue 18). Nothing is lost by it: every write the
    project makes is idempotent by its key (submission id, tracking code, case), and what
    a failed write means is decided by its caller (503 and retry, or redelivery). A real
    MongoDB (PAKN_MONGODB_URL) keeps PyMongo's default."""
    return f"mongodb://{HOST}:{port}/?directConnection=true&retryWrites=false"


def secantus_command(port: int, paths: StorePaths) -> list[str]:
    """The command line that starts the store (``--config`` always explicit).

    SecantusDB's own server through :mod:`pakn.secantus_server`, which carries a fix for its
    index catalogue reads. ``--standalone``: by default SecantusDB poses as a one-node replica
    set and writes an oplog entry (the whole document, BSON-encoded) beside every write, for
    change streams; nothing here opens one (no change streams, no transactions), and the
    oplog was a third of the store's time per case (issue 18)."""
    return [
        sys.executable,
        "-m",
        "pakn.secantus_server",
        "--standalone",
        "--host",
        HOST,
        "--port",
        str(port),
        "--storage-path",
        str(paths.data_dir),
        "--config",
        str(paths.config),
    ]


def parse_pidfile(text: str) -> tuple[int, int | None] | None:
    """``"<pid>\\n<port>\\n"`` → (pid, port); None when the file is not ours or is damaged."""
    parts = text.split()
    try:
        pid = int(parts[0])
        port = int(parts[1]) if len(parts) > 1 else None
    except (IndexError, ValueError):
        return None
    return (pid, port) if pid > 0 else None


def read_pidfile(paths: StorePaths) -> tuple[int, int | None] | None:
    try:
        return parse_pidfile(paths.pidfile.read_text())
    except FileNotFoundError:
        return None


def pid_alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie counts as gone (it holds no files or sockets)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        # No /proc (not Linux): fall back to a signal probe, which sees zombies as alive.
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    # The state letter follows the command name, which may itself contain ") ".
    return stat.rpartition(")")[2].split()[0] not in {"Z", "X"}


def is_secantus(pid: int) -> bool:
    """Whether ``pid`` is a SecantusDB process (guards against a recycled pid in a pidfile)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False
    except OSError:
        return pid_alive(pid)
    return b"secantus" in cmdline


def _store_pid_alive(pid: int) -> bool:
    return pid_alive(pid) and is_secantus(pid)


def log_tail(path: Path, start: int = 0, limit: int = LOG_TAIL_BYTES) -> str:
    """The end of the store's log written since byte ``start`` (for error messages)."""
    try:
        with path.open("rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(start, size - limit))
            return f.read().decode(errors="replace").strip()
    except FileNotFoundError:
        return ""


#: The wire protocol's one opcode every MongoDB server (and SecantusDB) speaks.
OP_MSG = 2013
_HEADER = struct.Struct("<iiii")  # messageLength, requestID, responseTo, opCode


def ping_message(request_id: int) -> bytes:
    """An OP_MSG ``{ping: 1}`` on the admin database."""
    body = struct.pack("<I", 0) + b"\x00" + bson.encode({"ping": 1, "$db": "admin"})
    return _HEADER.pack(_HEADER.size + len(body), request_id, 0, OP_MSG) + body


def ping_reply_ok(request_id: int, header: bytes, body: bytes) -> bool:
    """Whether an OP_MSG reply (header, rest) answers our ping with ``ok: 1``."""
    _length, _their_id, response_to, opcode = _HEADER.unpack(header)
    if opcode != OP_MSG or response_to != request_id or len(body) < 9 or body[4] != 0:
        return False
    (doc_length,) = struct.unpack_from("<i", body, 5)
    try:
        reply = bson.decode(body[5 : 5 + doc_length])
    except (bson.errors.BSONError, ValueError):
        return False
    return bool(reply.get("ok") == 1)


async def answers(port: int, *, probe_seconds: float = 2.0) -> bool:
    """Whether a MongoDB-speaking server answers ``ping`` on 127.0.0.1:``port``."""
    # One ping over a raw socket rather than through the driver: the driver retries
    # until its server-selection timeout, so a store that is dying or refusing
    # connections would cost the whole timeout instead of failing at once.
    request_id = int.from_bytes(os.urandom(3), "big")
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(probe_seconds):
            reader, writer = await asyncio.open_connection(HOST, port)
            writer.write(ping_message(request_id))
            await writer.drain()
            header = await reader.readexactly(_HEADER.size)
            length = _HEADER.unpack(header)[0]
            if not _HEADER.size < length <= MAX_REPLY_BYTES:
                return False
            body = await reader.readexactly(length - _HEADER.size)
    except (OSError, TimeoutError, asyncio.IncompleteReadError):
        return False
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
    return ping_reply_ok(request_id, header, body)


@dataclass
class EmbeddedStore:
    """A running embedded store; ``stop()`` is for the process that started it."""

    port: int
    data_dir: Path
    pid: int | None
    started_by_us: bool

    @property
    def url(self) -> str:
        return store_url(self.port)

    def running(self) -> bool:
        """Whether the store process is still there (True when the pid is unknown)."""
        return self.pid is None or _store_pid_alive(self.pid)

    async def stop(self, *, grace: float = STOP_GRACE_SECONDS) -> None:
        """Stop the store this process started (SIGTERM, then SIGKILL); no-op otherwise."""
        if not self.started_by_us or self.pid is None:
            return
        await _terminate(self.pid, self.port, grace=grace)
        _remove_pidfile(StorePaths(self.data_dir), self.pid)


async def ensure_embedded_store(
    port: int,
    data_dir: Path,
    *,
    timeout: float = 30,  # noqa: ASYNC109 - one budget: the lock, an old process, the start
) -> EmbeddedStore:
    """Connect to the store on ``port`` if it answers, otherwise start it on ``data_dir``.

    An exclusive lock beside the folder makes concurrent callers (two services started at
    once) take turns, so exactly one of them starts the store and the others find it
    answering. The store runs detached, in its own session, and outlives its starter.
    """
    paths = StorePaths.beside(data_dir)
    paths.data_dir.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    if await answers(port):
        return _existing(port, paths)
    async with _locked(paths.lock, deadline):
        if await answers(port):
            return _existing(port, paths)
        await _wait_previous_exit(port, paths, deadline)
        if await answers(port):
            return _existing(port, paths)
        return await _start(port, paths, deadline)


async def serve_embedded_store(port: int, data_dir: Path) -> None:
    """Run the embedded store until cancelled (``pakn db``), then stop it if we started it."""
    starting = asyncio.ensure_future(ensure_embedded_store(port, data_dir))
    try:
        store = await asyncio.shield(starting)
    except asyncio.CancelledError:
        # Cancelled (Ctrl-C) while the store was still starting: let the start finish so the
        # process we launched is known, and stop it, instead of leaving it running.
        await (await starting).stop()
        raise
    if store.started_by_us:
        log.info("embedded store started: %s (pid %s, data %s)", store.url, store.pid, data_dir)
    else:
        log.info("embedded store already running: %s (pid %s)", store.url, store.pid)
    try:
        while True:
            await asyncio.sleep(1)
            if store.started_by_us and not store.running():
                raise EmbeddedStoreError(
                    f"the embedded store (pid {store.pid}) exited; "
                    f"last lines of {StorePaths(store.data_dir).log}:\n"
                    f"{log_tail(StorePaths(store.data_dir).log)}"
                )
    finally:
        await store.stop()


async def stop_embedded_store(data_dir: Path, *, grace: float = STOP_GRACE_SECONDS) -> bool:
    """Stop the store named by the pidfile beside ``data_dir``; False when none runs."""
    paths = StorePaths.beside(data_dir)
    entry = read_pidfile(paths)
    if entry is None:
        return False
    pid, port = entry
    if not _store_pid_alive(pid):
        _remove_pidfile(paths, pid)
        return False
    await _terminate(pid, port, grace=grace)
    _remove_pidfile(paths, pid)
    return True


def _existing(port: int, paths: StorePaths) -> EmbeddedStore:
    entry = read_pidfile(paths)
    pid = entry[0] if entry is not None and entry[1] in (None, port) else None
    return EmbeddedStore(port=port, data_dir=paths.data_dir, pid=pid, started_by_us=False)


@contextlib.asynccontextmanager
async def _locked(path: Path, deadline: float) -> AsyncIterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        # Polling a non-blocking flock keeps the event loop free and the wait cancellable.
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise EmbeddedStoreError(
                        f"timed out waiting for {path}: another process is starting the store"
                    ) from None
                await asyncio.sleep(POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


async def _wait_previous_exit(port: int, paths: StorePaths, deadline: float) -> None:
    # WiredTiger refuses a folder another process still holds ("Device or resource
    # busy"), so a restart waits for a store that is shutting down (or still coming up
    # after its starter died) to exit — or to answer, when it was only slow to start.
    entry = read_pidfile(paths)
    if entry is None:
        return
    pid, pid_port = entry
    while _store_pid_alive(pid):
        if pid_port == port and await answers(port):
            return
        if time.monotonic() > deadline:
            raise EmbeddedStoreError(
                f"the store process {pid} (from {paths.pidfile}) still holds {paths.data_dir} "
                f"but does not answer on port {port}"
                + (f" (it was started for port {pid_port})" if pid_port != port else "")
                + "; stop it or point PAKN_DB_PORT at it"
            )
        await asyncio.sleep(POLL_SECONDS)
    _remove_pidfile(paths, pid)


#: Started in between, so that the store is not our child: it outlives us, we never
#: have to reap it, and a store that dies does not linger as our zombie.
_DETACH = (
    "import subprocess, sys\n"
    "p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=2, stderr=2,"
    " start_new_session=True)\n"
    "print(p.pid)\n"
)


def _spawn(port: int, paths: StorePaths) -> tuple[int, int]:
    """Start the store detached; returns its pid and where its log starts."""
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    paths.config.write_text(_CONFIG_TEXT)
    with paths.log.open("ab") as logfile:
        start = logfile.seek(0, os.SEEK_END)
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        logfile.write(f"--- pakn: starting the store on port {port} at {stamp}\n".encode())
        logfile.flush()
        # A new session: Ctrl-C in the terminal of the service that started it must
        # not reach the store, which other services may still be using.
        done = subprocess.run(
            [sys.executable, "-I", "-c", _DETACH, *secantus_command(port, paths)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=logfile,
            cwd=paths.data_dir.parent,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            check=False,
            timeout=30,
        )
    pid = parse_pidfile(done.stdout.decode())
    if done.returncode != 0 or pid is None:
        raise EmbeddedStoreError(
            f"could not start the embedded store; {paths.log} says:\n{log_tail(paths.log, start)}"
        )
    return pid[0], start


async def _start(port: int, paths: StorePaths, deadline: float) -> EmbeddedStore:
    pid, log_start = await asyncio.to_thread(_spawn, port, paths)
    tmp = paths.pidfile.with_name(paths.pidfile.name + ".tmp")
    tmp.write_text(f"{pid}\n{port}\n")
    tmp.replace(paths.pidfile)
    log.info("starting the embedded store on port %d (pid %d)", port, pid)
    try:
        while not await answers(port, probe_seconds=1.0):
            if not _store_pid_alive(pid):
                _remove_pidfile(paths, pid)
                raise EmbeddedStoreError(
                    f"the embedded store exited while starting; "
                    f"{paths.log} says:\n{log_tail(paths.log, log_start)}"
                )
            if time.monotonic() > deadline:
                raise EmbeddedStoreError(
                    f"the embedded store did not answer on port {port} in time; "
                    f"{paths.log} says:\n{log_tail(paths.log, log_start)}"
                )
            await asyncio.sleep(POLL_SECONDS)
    except BaseException:
        # Never leave a half-started store behind; the pidfile stays until it has
        # exited, so the next launcher waits for the folder to be free.
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        raise
    return EmbeddedStore(port=port, data_dir=paths.data_dir, pid=pid, started_by_us=True)


async def _terminate(pid: int, port: int | None, *, grace: float) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    if port is not None:
        await _wake_accept_loop(port)
    deadline = time.monotonic() + grace
    while pid_alive(pid):
        if time.monotonic() > deadline:
            log.warning("the embedded store (pid %d) ignored SIGTERM; killing it", pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + grace
        await asyncio.sleep(POLL_SECONDS)


async def _wake_accept_loop(port: int) -> None:
    # SecantusDB's accept thread sits in accept() and notices the stop only when one
    # more connection arrives; without one, every stop takes two seconds longer.
    for _ in range(3):
        await asyncio.sleep(POLL_SECONDS)
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), 0.5)
        except (OSError, TimeoutError):
            return
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


def _remove_pidfile(paths: StorePaths, pid: int) -> None:
    # Only our own entry: another launcher may already have written its successor's pid.
    entry = read_pidfile(paths)
    if entry is not None and entry[0] == pid:
        paths.pidfile.unlink(missing_ok=True)
