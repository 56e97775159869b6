"""`pakn demo`: a realistic mixed load through the running services, so a newcomer sees
cases flow from submission to agency."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from importlib.resources import files
from typing import Any

import aiohttp
import yaml
from pymongo.errors import PyMongoError

from pakn import devmail
from pakn.ids import format_tracking_code
from pakn.settings import CoreSettings
from pakn.worktime import local_text

#: Who sent each followed case in: the channel as the citizen used it.
Sent = dict[str, str]
#: Gives the demo agent's (username, password), making the account when needed.
AgentLogin = Callable[[], Awaitable[tuple[str, str]]]

DEMO_AGENT = "demo.tongdai"


def _demo_data() -> dict[str, Any]:
    raw = files("pakn").joinpath("data/demo.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(raw)
    return data


def demo_reports() -> list[dict[str, Any]]:
    reports: list[dict[str, Any]] = _demo_data()["reports"]
    return reports


def demo_chats() -> list[list[str]]:
    chats: list[list[str]] = _demo_data().get("chats", [])
    return chats


def demo_calls() -> list[dict[str, str]]:
    calls: list[dict[str, str]] = _demo_data().get("calls", [])
    return calls


def demo_mails() -> list[dict[str, str]]:
    mails: list[dict[str, str]] = _demo_data().get("mails", [])
    return mails


#: A tracking code as the chatbot and the e-mail acknowledgement write it (123 456 7890).
_SPOKEN_CODE = re.compile(r"\b(\d{3}) (\d{3}) (\d{4})\b")
#: The code on the hotline's read-back page.
_READ_BACK_CODE = re.compile(r'id="ma-ho-so">([\d ]+)</p>')


def code_in(text: str) -> str | None:
    """The first tracking code written as people read it, as ten digits."""
    match = _SPOKEN_CODE.search(text)
    return "".join(match.groups()) if match else None


async def _healthy(session: aiohttp.ClientSession, url: str, what: str) -> bool:
    try:
        async with session.get(f"{url}/healthz") as response:
            if response.status != 200:
                raise aiohttp.ClientConnectionError(f"healthz {response.status}")
    except aiohttp.ClientError as exc:
        print(f"{what} not reachable at {url} ({exc}): nothing sent there.")
        return False
    return True


# --- chatbot ---------------------------------------------------------------------------------


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
        if (code := code_in(reply)) is not None:
            print(f"  → {format_tracking_code(code)}  (chat) {turns[0][:60]}…")
            return code
    print(f"  ✗ the chat ended without a tracking code: {replies[-1:]}")
    return None


async def _chats(session: aiohttp.ClientSession, chatbot: str) -> Sent:
    if not await _healthy(session, chatbot, "Chatbot"):
        return {}
    print(f"Chatting {len(demo_chats())} reports through {chatbot}/webhook/generic (chatbot):")
    return {
        code: "chatbot"
        for turns in demo_chats()
        if (code := await _chat(session, f"{chatbot}/webhook/generic", turns)) is not None
    }


# --- hotline ---------------------------------------------------------------------------------


def demo_agent(settings: CoreSettings) -> AgentLogin:
    """The demo's hotline agent in the store of ``settings``: made on first use, and given a
    new random password each run (so no password is written anywhere). Dev stores only."""

    async def login() -> tuple[str, str]:
        from pakn.auth.settings import argon2_params_for
        from pakn.auth.users import (
            AccountError,
            Actor,
            Passwords,
            Role,
            create_user,
            find_user,
            set_password,
        )
        from pakn.store import connect_store

        if not settings.is_dev:
            raise RuntimeError("the demo makes no account in production")
        password = secrets.token_urlsafe(18)
        store = await connect_store(settings, appname="pakn-demo", ensure_indexes=False)
        try:
            passwords = Passwords(argon2_params_for(settings.env))
            actor = Actor.command_line()
            now = datetime.now(UTC)
            # Looked up first, so a first run leaves no refused password change in the audit.
            if await find_user(store, DEMO_AGENT) is not None:
                await set_password(store, passwords, actor, DEMO_AGENT, password, now=now)
            else:
                await create_user(
                    store,
                    passwords,
                    actor,
                    username=DEMO_AGENT,
                    password=password,
                    role=Role.HOTLINE_AGENT.value,
                    agency=None,
                    display_name="Tổng đài viên (demo)",
                    known_agencies=None,
                    now=now,
                )
        except AccountError as exc:
            raise RuntimeError(exc.message) from exc
        finally:
            await store.close()
        return DEMO_AGENT, password

    return login


def call_form(call: dict[str, str], csrf_token: str) -> dict[str, str]:
    """What the agent types in the console's report form while the caller speaks."""
    fields = ("name", "phone", "content", "commune", "street", "occurred")
    return {
        "csrf_token": csrf_token,
        **{name: call[name] for name in fields if call.get(name)},
        "consent": "1",
        "action": "submit",
    }


def phone_system_record(call: dict[str, str], call_id: str, now: datetime) -> dict[str, Any]:
    """What the phone system posts once a call ended: who called, when, what was said."""
    return {
        "call_id": call_id,
        "caller_number": call["caller_number"],
        "started_at": (now - timedelta(minutes=4)).isoformat(),
        "ended_at": now.isoformat(),
        "transcript": [
            {"speaker": "agent", "start": 0, "end": 2, "text": "Tổng đài 1900 1023 xin nghe."},
            {
                "speaker": "caller",
                "start": 2,
                "end": 30,
                "text": f"Tôi là {call['name']}. {call['content']}",
            },
        ],
    }


async def _opened_by_console(
    session: aiohttp.ClientSession, hotline: str, csrf: str, call: dict[str, str]
) -> str | None:
    """The agent types the caller's number: the path of the call's first report."""
    async with session.post(
        f"{hotline}/cuoc-goi",
        data={"csrf_token": csrf, "caller_number": call["caller_number"]},
        headers={"Accept": "text/html"},
        allow_redirects=False,
    ) as response:
        if response.status != 303:
            print(f"  ✗ the console did not open a call: {response.status}")
            return None
        return response.headers["Location"]


async def _opened_by_phone_system(
    session: aiohttp.ClientSession, hotline: str, api_key: str, call: dict[str, str]
) -> str | None:
    """The phone system sends the call's record and transcript: the draft's console path."""
    record = phone_system_record(call, f"demo-{uuid.uuid4().hex[:12]}", datetime.now(UTC))
    async with session.post(
        f"{hotline}/api/v1/calls", json=record, headers={"Authorization": f"Bearer {api_key}"}
    ) as response:
        if response.status != 201:
            print(f"  ✗ the phone system's record was refused: {response.status}")
            return None
        return str((await response.json())["console_url"])


async def _call(
    session: aiohttp.ClientSession,
    hotline: str,
    csrf: str,
    call: dict[str, str],
    api_key: str | None,
) -> str | None:
    """One call logged as an agent does — opened by the agent, or by the phone system's
    record — then the report's form and the code read back to the caller."""
    by_phone_system = call.get("via") == "phone-system"
    if by_phone_system and api_key is None:
        print("  ✗ no PAKN_HOTLINE_API_KEY nor var/hotline_api_key: the phone system is skipped")
        return None
    if by_phone_system and api_key is not None:
        report = await _opened_by_phone_system(session, hotline, api_key, call)
    else:
        report = await _opened_by_console(session, hotline, csrf, call)
    if report is None:
        return None
    html = {"Accept": "text/html"}
    async with session.post(
        f"{hotline}{report}", data=call_form(call, csrf), headers=html, allow_redirects=False
    ) as response:
        if response.status != 303:
            print(f"  ✗ the console refused the report: {response.status}")
            return None
        read_back = response.headers["Location"]
    async with session.get(f"{hotline}{read_back}", headers=html) as response:
        match = _READ_BACK_CODE.search(await response.text())
    if match is None:
        print("  ✗ the console showed no code to read back")
        return None
    code = match.group(1).replace(" ", "")
    how = "phone system" if by_phone_system else "call"
    print(
        f"  → {format_tracking_code(code)}  ({how} {call['caller_number']}) {call['content'][:50]}…"
    )
    return code


async def _calls(hotline: str, agent: AgentLogin, api_key: str | None) -> Sent:
    # A session of its own: its cookie jar keeps the login, also from a bare IP address.
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(
        timeout=timeout, cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as session:
        if not await _healthy(session, hotline, "Hotline"):
            return {}
        try:
            username, password = await agent()
        except (PyMongoError, ValueError, RuntimeError) as exc:
            print(f"No demo agent for the hotline ({type(exc).__name__}: {exc}): no calls logged.")
            return {}
        async with session.post(
            f"{hotline}/api/v1/session", json={"username": username, "password": password}
        ) as response:
            if response.status != 200:
                print(f"  ✗ the hotline refused the demo agent: {response.status}")
                return {}
            csrf = str((await response.json())["csrf_token"])
        print(f"Logging {len(demo_calls())} calls through {hotline}/ as {username} (hotline):")
        return {
            code: "hotline"
            for call in demo_calls()
            if (code := await _call(session, hotline, csrf, call, api_key)) is not None
        }


# --- e-mail ----------------------------------------------------------------------------------


def demo_letter(mail: dict[str, str], to: str, now: datetime) -> EmailMessage:
    """A citizen's letter to pakn@, as their mail program would send it."""
    letter = EmailMessage()
    letter["From"] = formataddr((mail["name"], mail["address"]))
    letter["To"] = to
    letter["Subject"] = mail["subject"]
    letter["Date"] = format_datetime(now)
    letter["Message-ID"] = make_msgid("demo", domain="example.vn")
    letter.set_content(mail["body"])
    return letter


def acknowledgement_of(letters: Iterable[EmailMessage], message_id: str) -> EmailMessage | None:
    """Our answer to ``message_id`` among the letters the sink kept."""
    for letter in letters:
        if (letter["In-Reply-To"] or "").strip() == message_id:
            return letter
    return None


def _letter_text(letter: EmailMessage) -> str:
    body = letter.get_body(preferencelist=("plain",))
    content = body.get_content() if body is not None else ""
    return f"{letter['Subject'] or ''}\n{content}"


async def _mail(state: devmail.DevMailState, mail: dict[str, str], wait: float) -> str | None:
    letter = demo_letter(mail, state.address, datetime.now(UTC))
    message_id = str(letter["Message-ID"])
    await devmail.imap_append(
        devmail.LOOPBACK, state.imap_port, state.user, state.password, letter.as_bytes()
    )
    print(f"  ✉ {mail['address']}: {mail['subject']}")
    deadline = asyncio.get_running_loop().time() + wait
    while asyncio.get_running_loop().time() < deadline:
        answer = await asyncio.to_thread(
            lambda: acknowledgement_of(devmail.sent_mail(state.sent), message_id)
        )
        if answer is not None:
            code = code_in(_letter_text(answer))
            print(f"    acknowledgement to {answer['To']}: «{answer['Subject']}» (in {state.sent})")
            if code is None:
                print("  ✗ the acknowledgement names no tracking code")
                return None
            print(f"  → {format_tracking_code(code)}  (e-mail) {mail['subject']}")
            return code
        await asyncio.sleep(0.5)
    print(f"  ✗ no acknowledgement in {state.sent} after {wait:.0f} s (is `pakn email` running?)")
    return None


async def _mails(state: devmail.DevMailState, wait: float) -> Sent:
    print(
        f"Mailing {len(demo_mails())} letter to {state.address} through the development "
        f"mailbox imap://{devmail.LOOPBACK}:{state.imap_port} (e-mail):"
    )
    try:
        return {
            code: "email"
            for mail in demo_mails()
            if (code := await _mail(state, mail, wait)) is not None
        }
    except (OSError, RuntimeError, TimeoutError) as exc:
        print(f"  ✗ the development mailbox did not take the letter ({exc})")
        return {}


# --- web and app -----------------------------------------------------------------------------


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


def channel_of(report: dict[str, Any]) -> str:
    return "web" if report.get("via") == "web" else "app"


async def _send(session: aiohttp.ClientSession, base: str, report: dict[str, Any]) -> str | None:
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    if channel_of(report) == "app":
        headers["X-Client"] = "app/demo"
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
    print(f"  → {format_tracking_code(code)}  ({channel_of(report)}) {report['title']}")
    return code


# --- following the cases ---------------------------------------------------------------------


def route_line(code: str, channel: str, view: dict[str, Any]) -> str:
    """One routed case as the demo prints it: channel, code, status, field, agency, deadline."""
    who = view.get("lead_agency_name") or (view.get("redirect") or {}).get("to_name")
    return (
        f"  ✓ {channel:<8} {format_tracking_code(code)}  {view['status']:<10} "
        f"{view.get('field') or '':<18} {who or ''}  hạn: {_local(view.get('due_at'))}"
    )


async def _follow(session: aiohttp.ClientSession, base: str, sent: Sent, wait: float) -> None:
    """Print each case once the router has it, in the order sent."""
    deadline = asyncio.get_running_loop().time() + wait
    pending = dict(sent)
    while pending and asyncio.get_running_loop().time() < deadline:
        for code, channel in list(pending.items()):
            async with session.get(f"{base}/api/v1/cases/{code}") as response:
                view = await response.json()
            if view.get("status") != "received":
                del pending[code]
                print(route_line(code, channel, view))
        await asyncio.sleep(0.5)
    for code, channel in list(pending.items()):
        print(
            f"  … {channel:<8} {format_tracking_code(code)} not routed yet "
            "(is `pakn router` running?)"
        )


def _local(moment: str | None) -> str:
    if moment is None:
        return "-"
    return local_text(datetime.fromisoformat(moment))


async def run_demo(
    base: str,
    wait: float,
    chatbot: str | None = None,
    *,
    hotline: str | None = None,
    agent: AgentLogin | None = None,
    hotline_api_key: str | None = None,
    mailbox: devmail.DevMailState | None = None,
) -> int:
    """Send the demo through every channel given and show where each case went; 0 when
    something was sent (a case not routed within ``wait`` seconds is said, not an error)."""
    sent: Sent = {}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        print(f"Sending {len(demo_reports())} reports to {base} (web/app intake):")
        for report in demo_reports():
            if (code := await _send(session, base, report)) is not None:
                sent[code] = channel_of(report)
        if chatbot is not None:
            sent |= await _chats(session, chatbot)
        if hotline is not None and agent is not None:
            sent |= await _calls(hotline, agent, hotline_api_key)
        if mailbox is not None:
            sent |= await _mails(mailbox, wait)
        print("Routing:")
        await _follow(session, base, sent, wait)
        print(f"Follow any of them at {base}/tra-cuu?ma=<code>")
    return 0 if sent else 1


def phone_system_key(settings: CoreSettings) -> str | None:
    """The phone system's Bearer key as a local simulator finds it: PAKN_HOTLINE_API_KEY, or
    the one `pakn hotline` generated in dev into the var folder."""
    configured = os.environ.get("PAKN_HOTLINE_API_KEY")
    if configured:
        return configured
    try:
        return (settings.var_dir / "hotline_api_key").read_text().strip() or None
    except OSError:
        return None


def _local_url(variable: str, default_port: int) -> str:
    return f"http://127.0.0.1:{os.environ.get(variable, str(default_port))}"


def run(args: argparse.Namespace) -> int:
    settings = CoreSettings()
    base = (args.url or settings.public_url).rstrip("/")
    chatbot = (args.chatbot_url or _local_url("PAKN_CHATBOT_PORT", 8082)).rstrip("/")
    hotline = (args.hotline_url or _local_url("PAKN_HOTLINE_PORT", 8081)).rstrip("/")
    mailbox = None
    if not args.no_mail:
        mailbox = devmail.read_state(devmail.DevMailSettings().mail_dir)
        if mailbox is None:
            print(
                "No development mailbox (`pakn up` runs one when Dovecot is installed and "
                "PAKN_IMAP_HOST is unset): no e-mail sent."
            )
    try:
        return asyncio.run(
            run_demo(
                base,
                args.wait,
                None if args.no_chat else chatbot,
                hotline=None if args.no_call else hotline,
                agent=demo_agent(settings),
                hotline_api_key=phone_system_key(settings),
                mailbox=mailbox,
            )
        )
    except aiohttp.ClientConnectionError as exc:
        print(f"Cannot reach the web intake at {base} ({exc}); start the stack with `make run`.")
        return 1


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = subparsers.add_parser("demo", help="send realistic reports and watch them routed")
    demo.add_argument("--url", default=None, help="the web intake (default: PAKN_PUBLIC_URL)")
    demo.add_argument("--wait", type=float, default=30.0, help="seconds to wait for routing")
    demo.add_argument(
        "--chatbot-url",
        default=None,
        help="the chatbot (default: http://127.0.0.1:$PAKN_CHATBOT_PORT, 8082)",
    )
    demo.add_argument(
        "--hotline-url",
        default=None,
        help="the hotline console (default: http://127.0.0.1:$PAKN_HOTLINE_PORT, 8081)",
    )
    demo.add_argument("--no-chat", action="store_true", help="send nothing through the chatbot")
    demo.add_argument("--no-call", action="store_true", help="log no call at the hotline")
    demo.add_argument("--no-mail", action="store_true", help="mail nothing to the mailbox")
    demo.set_defaults(func=run)
