"""The embedded-store launcher: start once, share, survive kill -9, wait for the old process."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import bson
import pytest

import pakn
from pakn.embedded import (
    EmbeddedStoreError,
    StorePaths,
    answers,
    ensure_embedded_store,
    parse_pidfile,
    pid_alive,
    ping_message,
    ping_reply_ok,
    read_pidfile,
    secantus_command,
    serve_embedded_store,
    stop_embedded_store,
    store_url,
)
from pakn.store import open_store
from tests.fixtures.store import free_port

SERVICES_DIR = Path(pakn.__file__).resolve().parents[1]


@dataclass(frozen=True)
class Spot:
    """A fresh port and store folder for one launcher test."""

    port: int
    data_dir: Path


@pytest.fixture
async def spot(tmp_path: Path) -> AsyncIterator[Spot]:
    here = Spot(port=free_port(), data_dir=tmp_path / "var" / "db")
    yield here
    # Whatever a test left running on this folder goes, even when the test failed.
    await stop_embedded_store(here.data_dir, grace=2)


def secantus_pids(data_dir: Path) -> list[int]:
    """Every running SecantusDB process serving ``data_dir``."""
    needle = str(data_dir.absolute()).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"secantus" in cmdline and needle in cmdline.split(b"\0") and pid_alive(int(entry.name)):
            found.append(int(entry.name))
    return found


# --- Pure parts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("123\n27018\n", (123, 27018)),
        ("123", (123, None)),
        ("", None),
        ("abc\n", None),
        ("0\n27018\n", None),
        ("-5\n", None),
    ],
)
def test_parse_pidfile(text: str, expected: tuple[int, int | None] | None) -> None:
    assert parse_pidfile(text) == expected


def test_files_sit_beside_the_store_folder() -> None:
    paths = StorePaths.beside(Path("/srv/pakn/var/db"))
    assert paths.lock == Path("/srv/pakn/var/db.lock")
    assert paths.pidfile == Path("/srv/pakn/var/db.pid")
    assert paths.log == Path("/srv/pakn/var/db.log")


def test_command_names_its_own_config_file() -> None:
    paths = StorePaths.beside(Path("/srv/pakn/var/db"))
    command = secantus_command(27018, paths)
    assert command[:4] == [sys.executable, "-m", "pakn.secantus_server", "--standalone"]
    assert command[command.index("--config") + 1] == str(paths.config)
    assert command[command.index("--storage-path") + 1] == "/srv/pakn/var/db"
    assert command[command.index("--port") + 1] == "27018"
    assert store_url(27018) == "mongodb://127.0.0.1:27018/?directConnection=true&retryWrites=false"


def _reply(response_to: int, doc: dict[str, object], opcode: int = 2013) -> tuple[bytes, bytes]:
    body = b"\x00\x00\x00\x00\x00" + bson.encode(doc)
    return struct.pack("<iiii", 16 + len(body), 99, response_to, opcode), body


def test_ping_message_is_an_op_msg_to_admin() -> None:
    message = ping_message(7)
    length, request_id, response_to, opcode = struct.unpack_from("<iiii", message)
    assert (length, request_id, response_to, opcode) == (len(message), 7, 0, 2013)
    assert bson.decode(message[21:]) == {"ping": 1, "$db": "admin"}


@pytest.mark.parametrize(
    ("reply", "ok"),
    [
        (_reply(7, {"ok": 1.0}), True),
        (_reply(7, {"ok": 0.0, "errmsg": "no"}), False),
        (_reply(8, {"ok": 1.0}), False),
        (_reply(7, {"ok": 1.0}, opcode=1), False),
        ((struct.pack("<iiii", 20, 99, 7, 2013), b"\x00\x00\x00\x00"), False),
        ((struct.pack("<iiii", 30, 99, 7, 2013), b"\x00" * 5 + b"\x05\x00\x00\x00\x07"), False),
    ],
)
def test_ping_reply_ok(reply: tuple[bytes, bytes], ok: bool) -> None:
    assert ping_reply_ok(7, *reply) is ok


async def test_a_server_that_hangs_up_does_not_answer() -> None:
    async def hang_up(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        started = asyncio.get_running_loop().time()
        assert not await answers(port)
        assert asyncio.get_running_loop().time() - started < 1
    finally:
        server.close()
        await server.wait_closed()


def test_pid_alive_counts_a_zombie_as_gone() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    with contextlib.suppress(ChildProcessError):
        # Wait for exit without reaping: the child stays a zombie.
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
    assert pid_alive(os.getpid())
    assert not pid_alive(child.pid)
    child.wait()


# --- Against real SecantusDB processes -----------------------------------------------------


async def test_starts_once_then_connects(spot: Spot) -> None:
    first = await ensure_embedded_store(spot.port, spot.data_dir)
    assert first.started_by_us
    assert first.url == store_url(spot.port)
    assert read_pidfile(StorePaths.beside(spot.data_dir)) == (first.pid, spot.port)

    again = await ensure_embedded_store(spot.port, spot.data_dir)
    assert not again.started_by_us
    assert again.pid == first.pid
    assert secantus_pids(spot.data_dir) == [first.pid]

    await again.stop()  # not the owner: a no-op
    assert await answers(spot.port)

    await first.stop()
    assert not await answers(spot.port)
    assert not StorePaths.beside(spot.data_dir).pidfile.exists()
    assert secantus_pids(spot.data_dir) == []


SERVICE_SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys
    from pathlib import Path
    from pakn.embedded import ensure_embedded_store
    from pakn.store import open_store

    async def main() -> None:
        embedded = await ensure_embedded_store(int(sys.argv[1]), Path(sys.argv[2]))
        store = open_store(embedded.url)
        await store.ping()
        await store.close()
        print(json.dumps({"pid": embedded.pid, "started_by_us": embedded.started_by_us}))

    asyncio.run(main())
    """
)


async def test_two_services_started_at_once_share_one_store(spot: Spot) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SERVICES_DIR), str(Path.cwd())])}
    services = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            SERVICE_SCRIPT,
            str(spot.port),
            str(spot.data_dir),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outputs = await asyncio.wait_for(asyncio.gather(*(s.communicate() for s in services)), 60)
    for service, (_, err) in zip(services, outputs, strict=True):
        assert service.returncode == 0, err.decode()
    results = [json.loads(out) for out, _ in outputs]

    assert sorted(r["started_by_us"] for r in results) == [False, True]
    store_pid = results[0]["pid"]
    assert results[1]["pid"] == store_pid
    # Both services have exited; the store they share outlives them.
    assert secantus_pids(spot.data_dir) == [store_pid]
    assert await answers(spot.port)


async def test_restart_after_kill_9_reopens_the_folder(spot: Spot) -> None:
    first = await ensure_embedded_store(spot.port, spot.data_dir)
    store = open_store(first.url, database="pakn")
    try:
        await store.intake_keys.insert_one({"_id": "web:kept", "tracking_code": "1234567890"})
    finally:
        await store.close()
    assert first.pid is not None
    os.kill(first.pid, signal.SIGKILL)

    # The pidfile still names the dead process; the launcher must see it is gone. The
    # write above was acknowledged, so it is journaled and must be there after the restart.
    second = await ensure_embedded_store(spot.port, spot.data_dir, timeout=15)
    assert second.started_by_us
    assert second.pid != first.pid
    store = open_store(second.url, database="pakn")
    try:
        kept = await store.intake_keys.find_one({"_id": "web:kept"})
    finally:
        await store.close()
    assert kept is not None
    assert kept["tracking_code"] == "1234567890"
    await second.stop()


async def test_restart_waits_until_the_previous_process_has_exited(spot: Spot) -> None:
    old_port = free_port()
    old = await ensure_embedded_store(old_port, spot.data_dir)
    store = open_store(old.url, database="pakn")
    try:
        await store.audit.insert_one({"_id": "before"})
    finally:
        await store.close()

    # The old process still holds the folder; a start on the new port has to wait for it.
    restart = asyncio.create_task(ensure_embedded_store(spot.port, spot.data_dir, timeout=15))
    await asyncio.sleep(0.5)
    assert not restart.done()
    await old.stop()
    new = await restart

    assert new.started_by_us
    store = open_store(new.url, database="pakn")
    try:
        assert await store.audit.find_one({"_id": "before"}) is not None
    finally:
        await store.close()
    await new.stop()


async def test_a_folder_held_by_a_store_on_another_port_is_a_clear_error(spot: Spot) -> None:
    other = await ensure_embedded_store(free_port(), spot.data_dir)
    with pytest.raises(EmbeddedStoreError, match=rf"still holds .*started for port {other.port}"):
        await ensure_embedded_store(spot.port, spot.data_dir, timeout=0.5)
    assert secantus_pids(spot.data_dir) == [other.pid]
    await other.stop()


async def test_a_port_taken_by_something_else_fails_with_the_store_log(spot: Spot) -> None:
    with socket.socket() as squatter:
        # Bound but not listening: connections are refused at once, yet the port is taken.
        squatter.bind(("127.0.0.1", 0))
        port = squatter.getsockname()[1]
        with pytest.raises(EmbeddedStoreError, match="Address already in use"):
            await ensure_embedded_store(port, spot.data_dir, timeout=15)
    assert secantus_pids(spot.data_dir) == []
    assert not StorePaths.beside(spot.data_dir).pidfile.exists()


async def test_serve_runs_until_cancelled_then_stops_its_store(spot: Spot) -> None:
    serving = asyncio.create_task(serve_embedded_store(spot.port, spot.data_dir))
    for _ in range(200):
        if await answers(spot.port):
            break
        await asyncio.sleep(0.05)
    assert await answers(spot.port)
    serving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await serving
    assert secantus_pids(spot.data_dir) == []
    assert not await answers(spot.port)


@pytest.fixture
def sleeper() -> Iterator[int]:
    process = subprocess.Popen(["sleep", "30"])
    yield process.pid
    process.kill()
    process.wait()


async def test_a_pidfile_naming_an_unrelated_process_is_ignored(spot: Spot, sleeper: int) -> None:
    paths = StorePaths.beside(spot.data_dir)
    paths.pidfile.parent.mkdir(parents=True)
    paths.pidfile.write_text(f"{sleeper}\n{spot.port}\n")
    started = await ensure_embedded_store(spot.port, spot.data_dir, timeout=10)
    assert started.started_by_us
    assert started.pid != sleeper
    await started.stop()
