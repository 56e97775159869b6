"""`pakn up` for real: the store and the services start, a killed service comes back,
Ctrl-C stops everything."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from pakn.embedded import answers
from tests.fixtures.store import free_port

pytestmark = pytest.mark.slow

Stack = tuple[asyncio.subprocess.Process, dict[str, str]]


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


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


@pytest.fixture
async def stack(
    tmp_path: Path, amqp_url: str
) -> AsyncIterator[tuple[asyncio.subprocess.Process, dict[str, str]]]:
    env = {
        **os.environ,
        "PAKN_ENV": "dev",
        "PAKN_AMQP_URL": amqp_url,
        "PAKN_VAR_DIR": str(tmp_path / "var"),
        "PAKN_DB_PORT": str(free_port()),
        "PAKN_WEB_PORT": str(free_port()),
        "PAKN_HOTLINE_PORT": str(free_port()),
        "PAKN_ROUTER_PORT": str(free_port()),
    }
    env.pop("PAKN_MONGODB_URL", None)
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
        children = _children(process.pid)
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
