"""`pakn demo`: a realistic mixed load through the running services, so a newcomer sees
cases flow from submission to agency."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import uuid
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from typing import Any

import aiohttp
import yaml

from pakn.ids import format_tracking_code
from pakn.settings import CoreSettings
from pakn.worktime import local_text


def demo_reports() -> list[dict[str, Any]]:
    raw = files("pakn").joinpath("data/demo.yaml").read_text(encoding="utf-8")
    reports: list[dict[str, Any]] = yaml.safe_load(raw)["reports"]
    return reports


def demo_chats() -> list[list[str]]:
    raw = files("pakn").joinpath("data/demo.yaml").read_text(encoding="utf-8")
    chats: list[list[str]] = yaml.safe_load(raw).get("chats", [])
    return chats


#: A tracking code as the chatbot writes it (123 456 7890).
_SPOKEN_CODE = re.compile(r"\b(\d{3}) (\d{3}) (\d{4})\b")


async def _chat(session: aiohttp.ClientSession, url: str, turns: list[str]) -> str | None:
    """One conversation through the widget's webhook; the tracking code it ends with."""
    user = f"demo-{uuid.uuid4().hex[:8]}"
    replies: list[str] = []
    for text in turns:
        async with session.post(url, json={"user_id": user, "text": text}) as response:
            if response.status != 200:
                print(f"  ✗ chatbot answered {response.status}: {await response.text()}")
                return None
            replies = [str(r) for r in (await response.json())["replies"]]
    for reply in reversed(replies):
        if match := _SPOKEN_CODE.search(reply):
            code = "".join(match.groups())
            print(f"  → {format_tracking_code(code)}  (chat) {turns[0][:60]}…")
            return code
    print(f"  ✗ the chat ended without a tracking code: {replies[-1:]}")
    return None


async def _chats(session: aiohttp.ClientSession, chatbot: str) -> list[str]:
    try:
        async with session.get(f"{chatbot}/healthz") as response:
            if response.status != 200:
                raise aiohttp.ClientConnectionError(f"healthz {response.status}")
    except aiohttp.ClientError as exc:
        print(f"Chatbot not reachable at {chatbot} ({exc}): no chats sent.")
        return []
    print(f"Chatting {len(demo_chats())} reports through {chatbot}/webhook/generic (chatbot):")
    return [
        code
        for turns in demo_chats()
        if (code := await _chat(session, f"{chatbot}/webhook/generic", turns)) is not None
    ]


def _body(report: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "title": report["title"],
        "content": report["content"],
        "occurred_at": (now - timedelta(hours=3)).isoformat(),
        "location": {"address": report["address"]},
        "submitter": {
            "name": report["name"],
            "phone": report.get("phone"),
            "email": report.get("email"),
        },
        "consent": True,
    }


async def _send(session: aiohttp.ClientSession, base: str, report: dict[str, Any]) -> str | None:
    headers = {"X-Client": "app/demo", "Idempotency-Key": str(uuid.uuid4())}
    body = _body(report, datetime.now(UTC))
    for _ in range(10):
        async with session.post(
            f"{base}/api/v1/submissions", json=body, headers=headers
        ) as response:
            answer = await response.json()
            # As a well-behaved app does: wait as told, retry with the same key.
            if response.status in {429, 503} and "Retry-After" in response.headers:
                await asyncio.sleep(int(response.headers["Retry-After"]))
                continue
            return _report_sent(report, response.status, answer)
    return None


def _report_sent(report: dict[str, Any], status: int, body: dict[str, Any]) -> str | None:
    if status != 202:
        print(f"  ✗ {report['title']}: {status} {json.dumps(body, ensure_ascii=False)}")
        return None
    code: str = body["tracking_code"]
    print(f"  → {format_tracking_code(code)}  {report['title']}")
    return code


async def _follow(session: aiohttp.ClientSession, base: str, codes: list[str], wait: float) -> None:
    deadline = asyncio.get_running_loop().time() + wait
    pending = set(codes)
    while pending and asyncio.get_running_loop().time() < deadline:
        for code in sorted(pending):
            async with session.get(f"{base}/api/v1/cases/{code}") as response:
                view = await response.json()
            if view.get("status") != "received":
                pending.discard(code)
                who = view.get("lead_agency_name") or (view.get("redirect") or {}).get("to_name")
                due = _local(view.get("due_at"))
                print(
                    f"  ✓ {format_tracking_code(code)}  {view['status']:<10} "
                    f"{view.get('field') or '':<18} {who or ''}  hạn: {due}"
                )
        await asyncio.sleep(0.5)
    for code in sorted(pending):
        print(f"  … {format_tracking_code(code)} not routed yet (is `pakn router` running?)")


def _local(moment: str | None) -> str:
    if moment is None:
        return "-"
    return local_text(datetime.fromisoformat(moment))


async def run_demo(base: str, wait: float, chatbot: str | None = None) -> int:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        print(f"Sending {len(demo_reports())} reports to {base} (web/app intake):")
        codes = [c for r in demo_reports() if (c := await _send(session, base, r)) is not None]
        if chatbot is not None:
            codes += await _chats(session, chatbot)
        print("Routing:")
        await _follow(session, base, codes, wait)
        print(f"Follow any of them at {base}/tra-cuu?ma=<code>")
    return 0 if codes else 1


def run(args: argparse.Namespace) -> int:
    base = (args.url or CoreSettings().public_url).rstrip("/")
    chatbot = args.chatbot_url or f"http://127.0.0.1:{os.environ.get('PAKN_CHATBOT_PORT', '8082')}"
    try:
        return asyncio.run(run_demo(base, args.wait, None if args.no_chat else chatbot.rstrip("/")))
    except aiohttp.ClientConnectionError as exc:
        print(f"Cannot reach the web intake at {base} ({exc}); start the stack with `make run`.")
        return 1


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = subparsers.add_parser("demo", help="send realistic reports and watch them routed")
    demo.add_argument("--url", default=None, help="the web intake (default: PAKN_PUBLIC_URL)")
    demo.add_argument("--wait", type=float, default=20.0, help="seconds to wait for routing")
    demo.add_argument(
        "--chatbot-url",
        default=None,
        help="the chatbot (default: http://127.0.0.1:$PAKN_CHATBOT_PORT, 8082)",
    )
    demo.add_argument("--no-chat", action="store_true", help="send nothing through the chatbot")
    demo.set_defaults(func=run)
