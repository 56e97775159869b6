"""`pakn up` for real: the store and the services start, a killed service comes back,
Ctrl-C stops everything."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from pakn.devmail import dovecot_binary, listening
from pakn.embedded import answers, ensure_embedded_store, pid_alive
from pakn.http import EXIT_PORT_BUSY, port_busy_line, port_in_use
from tests.fixtures.stack import up_environment
from tests.fixtures.store import free_port

pytestmark = pytest.mark.slow

Stack = tuple[asyncio.subprocess.Process, dict[str, str]]


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    # A zombie waiting for a parent that does not reap it holds nothing: it counts as gone.
    return pid_alive(pid)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


async def _healthy(url: str, *, within: float) -> bool:
    async with aiohttp.ClientSession() as session:
        deadline = asyncio.get_running_loop().time() + within
        while asyncio.get_running_loop().time() < deadline:
            try:
                async with session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as response:
                    if response.status == 200:
                        return True
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    return False


def _env(tmp_path: Path, amqp_url: str) -> dict[str, str]:
    return up_environment(tmp_path, amqp_url)


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in _children(todo.pop()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


@pytest.fixture
async def stack(
    tmp_path: Path, amqp_url: str
) -> AsyncIterator[tuple[asyncio.subprocess.Process, dict[str, str]]]:
    env = _env(tmp_path, amqp_url)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pakn",
        "up",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    yield process, env
    if process.returncode is None:
        # A failed test must not leave the services behind (they would hold ports and pipes).
        children = _descendants(process.pid)
        process.kill()
        await process.wait()
        for pid in children:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


async def test_up_runs_restarts_and_stops_everything(
    stack: Stack,
) -> None:
    process, env = stack
    web = f"http://127.0.0.1:{env['PAKN_WEB_PORT']}/healthz"
    assert await _healthy(web, within=60), "the web service never became healthy"
    db_port = int(env["PAKN_DB_PORT"])
    assert await answers(db_port)

    (web_pid,) = [pid for pid in _children(process.pid) if "pakn web" in _cmdline(pid)]
    os.kill(web_pid, signal.SIGKILL)
    await asyncio.sleep(0.5)
    assert await _healthy(web, within=30), "the killed service was not restarted"
    (new_pid,) = [pid for pid in _children(process.pid) if "pakn web" in _cmdline(pid)]
    assert new_pid != web_pid

    process.send_signal(signal.SIGINT)
    assert await asyncio.wait_for(process.wait(), 30) == 0
    assert process.stdout is not None
    output = (await process.stdout.read()).decode()
    assert "web" in output and "exited with" in output and "restarting" in output
    assert not _alive(new_pid)
    assert not await answers(db_port), "the store pakn up started is still running"


async def test_the_terminal_closing_stops_everything(stack: Stack) -> None:
    """SIGHUP: the services, in sessions of their own, do not hear the terminal go."""
    process, env = stack
    web = f"http://127.0.0.1:{env['PAKN_WEB_PORT']}/healthz"
    assert await _healthy(web, within=60), "the web service never became healthy"
    services = _children(process.pid)
    assert services
    process.send_signal(signal.SIGHUP)
    assert await asyncio.wait_for(process.wait(), 30) == 0
    still = [pid for pid in services if _alive(pid)]
    assert not still, [_cmdline(pid) for pid in still]
    assert not await answers(int(env["PAKN_DB_PORT"]))


async def test_ctrl_c_with_stdout_to_a_closed_reader_leaves_no_process(
    tmp_path: Path, amqp_url: str
) -> None:
    """`pakn up | tee out.log`, Ctrl-C: tee dies first, and "Stopping…" hits a closed pipe."""
    env = _env(tmp_path, amqp_url)
    read_end, write_end = os.pipe()
    log = (tmp_path / "stderr.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pakn",
        "up",
        env=env,
        stdout=write_end,
        stderr=log,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    log.close()
    os.close(write_end)
    try:
        output = b""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 90
        while b"ready" not in output:
            assert loop.time() < deadline, f"no ready line; got {output!r}"
            chunk = await asyncio.to_thread(os.read, read_end, 4096)
            assert chunk, f"stdout closed before the ready line; got {output!r}"
            output += chunk
        ready = output.decode().splitlines()[-1]
        assert f"127.0.0.1:{env['PAKN_WEB_PORT']}" in ready
        assert f"127.0.0.1:{env['PAKN_ROUTER_PORT']}" in ready
        assert f"127.0.0.1:{env['PAKN_DB_PORT']}" in ready
        services = _descendants(process.pid)
        pidfile = tmp_path / "var" / "db.pid"
        store_pid = int(pidfile.read_text().split()[0])
        assert len(services) >= 2 and _alive(store_pid)
    finally:
        os.close(read_end)  # the reader goes away before Ctrl-C reaches the stack
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: the whole foreground group
    assert await asyncio.wait_for(process.wait(), 60) == 0
    still = [pid for pid in [*services, store_pid] if _alive(pid)]
    assert not still, [_cmdline(pid) for pid in still]
    assert not await answers(int(env["PAKN_DB_PORT"]))
    assert not pidfile.exists()
    # Each service stopped cleanly: it heard `pakn up`'s one signal, not the group's too.
    stderr = (tmp_path / "stderr.log").read_text(errors="replace")
    assert "Traceback" not in stderr, stderr[-3000:]


async def _run_to_end(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pakn",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def _busy(host: str = "127.0.0.1") -> socket.socket:
    taken = socket.socket()
    taken.bind((host, 0))
    taken.listen()
    return taken


async def test_a_busy_port_gives_one_clear_line_and_no_restart_loop(
    tmp_path: Path, amqp_url: str
) -> None:
    env = _env(tmp_path, amqp_url)
    with _busy() as taken:
        env["PAKN_WEB_PORT"] = str(taken.getsockname()[1])
        code, _out, err = await _run_to_end(env, "up")
    assert code == EXIT_PORT_BUSY
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "PAKN_WEB_PORT" in lines[0] and env["PAKN_WEB_PORT"] in lines[0]
    assert "Cổng" in lines[0] and "Traceback" not in err
    # Nothing was started: no store, no service left behind.
    assert not await answers(int(env["PAKN_DB_PORT"]))
    assert not (tmp_path / "var" / "db.pid").exists()


async def test_a_service_alone_on_a_busy_port_says_which_variable(
    tmp_path: Path, amqp_url: str, mongodb_url: str
) -> None:
    """The race `pakn up`'s check cannot see: the port is taken when the service binds."""
    env = {**_env(tmp_path, amqp_url), "PAKN_MONGODB_URL": mongodb_url}
    with _busy() as taken:
        env["PAKN_ROUTER_PORT"] = str(taken.getsockname()[1])
        code, _out, err = await _run_to_end(env, "router")
    assert code == EXIT_PORT_BUSY
    assert "Traceback" not in err
    (line,) = [line for line in err.splitlines() if "PAKN_ROUTER_PORT" in line]
    assert env["PAKN_ROUTER_PORT"] in line


def test_the_busy_port_line_is_one_line_in_both_languages() -> None:
    line = port_busy_line("127.0.0.1", 8080, "PAKN_WEB_PORT")
    assert "\n" not in line
    assert "Cổng 127.0.0.1:8080" in line and "set PAKN_WEB_PORT" in line


def test_port_in_use_sees_a_listener_and_not_a_free_port() -> None:
    with _busy() as taken:
        assert port_in_use("127.0.0.1", taken.getsockname()[1])
    assert not port_in_use("127.0.0.1", free_port())


async def test_a_store_left_running_earlier_is_stopped_with_the_stack(
    tmp_path: Path, amqp_url: str
) -> None:
    """The next `make run` after one that left the store behind must not leave it again."""
    env = _env(tmp_path, amqp_url)
    left = await ensure_embedded_store(int(env["PAKN_DB_PORT"]), tmp_path / "var" / "db")
    assert left.started_by_us and left.pid is not None
    process = await _pakn_up(env)
    try:
        lines = await _until_ready(process)
        assert any("left running earlier" in line for line in lines)
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 60) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await left.stop()
    assert not _alive(left.pid)
    assert not await answers(int(env["PAKN_DB_PORT"]))


async def test_a_busy_port_of_the_development_mailbox_names_its_variable(
    tmp_path: Path, amqp_url: str
) -> None:
    if dovecot_binary() is None:
        pytest.fail("dovecot is not installed: `apt-get install dovecot-imapd`")
    env = _env(tmp_path, amqp_url)
    with _busy() as taken:
        env["PAKN_DEVMAIL_SMTP_PORT"] = str(taken.getsockname()[1])
        code, _out, err = await _run_to_end(env, "up")
    assert code == EXIT_PORT_BUSY
    (line,) = err.strip().splitlines()
    assert "PAKN_DEVMAIL_SMTP_PORT" in line and env["PAKN_DEVMAIL_SMTP_PORT"] in line
    assert not await answers(int(env["PAKN_DB_PORT"]))
    assert not listening(int(env["PAKN_DEVMAIL_IMAP_PORT"])), "Dovecot started anyway"


async def test_a_mailbox_that_cannot_start_leaves_the_rest_of_the_stack_running(
    tmp_path: Path, amqp_url: str
) -> None:
    if dovecot_binary() is None:
        pytest.fail("dovecot is not installed: `apt-get install dovecot-imapd`")
    env = _env(tmp_path, amqp_url)
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "mail").write_text("a file where the mailbox's folder should be")
    process = await _pakn_up(env)
    try:
        lines = await _until_ready(process)
    finally:
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 60) == 0
    assert any("email     not started: the development mailbox failed" in x for x in lines)
    assert "mail imap://" not in lines[-1] and "email http://" not in lines[-1]
    assert f"127.0.0.1:{env['PAKN_WEB_PORT']}" in lines[-1]
    assert not listening(int(env["PAKN_DEVMAIL_IMAP_PORT"]))


async def _pakn_up(env: dict[str, str]) -> asyncio.subprocess.Process:
    """`pakn up` with its stdout to read (its log on stderr dropped)."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pakn",
        "up",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def _until_ready(process: asyncio.subprocess.Process) -> list[str]:
    """What `pakn up` printed up to its ready line (failing when it ends before)."""
    assert process.stdout is not None
    lines: list[str] = []
    async with asyncio.timeout(90):
        while not lines or "ready" not in lines[-1]:
            line = (await process.stdout.readline()).decode()
            assert line, f"pakn up ended: {lines}"
            lines.append(line)
    return lines
