"""The monitor's staff JSON API (DESIGN.md §5): search, case, triage, assign, dead letters, stream.

Every handler declares its roles; every case id is checked against the user's scope (an
agency's staff get 404 for another agency's case, as for a case that does not exist).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web

from pakn.auth.web import require, staff_of
from pakn.schema import FIELD_NAMES, FIELDS, Status
from pakn.store import AttachmentNotFound
from pakn.worktime import WorkCalendar
from pakn_router.learning import corrections_by_field
from pakn_router.monitor import dead_letters as dl
from pakn_router.monitor import messages as t
from pakn_router.monitor import queries
from pakn_router.monitor.actions import (
    DECIDABLE,
    ActionError,
    Outcome,
    assign,
    field_name,
    parse_assign,
    parse_redirect,
    perform,
    redirect,
)
from pakn_router.monitor.common import (
    ACTORS,
    DEAD_LETTER_DISCARD,
    DEAD_LETTER_REPLAY,
    READERS,
    action_audit_name,
    audit_action,
    can_act,
    json_response,
    names_of,
    rules_of,
    scope_of,
    tracking_code_of,
)
from pakn_router.monitor.context import Monitor, monitor_of
from pakn_router.monitor.stream import Hub
from pakn_router.monitor.views import (
    attachment_refs,
    case_detail,
    case_summary,
    triage_item,
)

log = logging.getLogger(__name__)

API = "/api/v1"
HUB = web.AppKey("pakn_monitor_hub", Hub)
#: A comment line this often keeps proxies from closing an idle stream.
STREAM_KEEPALIVE = 15.0


def error(status: int, code: str, message: str) -> web.Response:
    return json_response({"error": code, "message": message}, status)


async def json_body(request: web.Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def soon_until(monitor: Monitor, now: datetime) -> datetime:
    """The end of "due soon": one working day of office time from now (included)."""
    return due_soon_until(monitor.calendar, now)


def due_soon_until(calendar: WorkCalendar, now: datetime) -> datetime:
    return calendar.add_working_time(now, calendar.hours.day_length)


# --- operators' actions, shared with the pages ------------------------------------------------


@dataclass(frozen=True)
class Done:
    outcome: Outcome
    #: True for a triage decision (or a corrected redirect), False for a reassignment.
    decided: bool
    previous_lead: str | None

    def as_json(self, monitor: Monitor) -> dict[str, Any]:
        case = self.outcome.case
        doc = case.model_dump(mode="python", by_alias=True)
        # The events this action made wait in the outbox only when not confirmed yet.
        doc["outbox"] = case.outbox if self.outcome.event_pending else []
        return {
            "event": self.outcome.kind.value,
            "event_pending": self.outcome.event_pending,
            "case": case_detail(doc, names_of(monitor), monitor.config, monitor.clock()),
        }


async def assign_case(request: web.Request, tracking_code: str, body: Mapping[str, object]) -> Done:
    """Parse, decide, write, publish, audit: one operator's assign (ActionError otherwise)."""
    monitor, staff = monitor_of(request), staff_of(request)
    wanted = parse_assign(body, monitor.config)
    rules = rules_of(monitor)
    seen: dict[str, Any] = {}

    def change(case: Any, now: datetime) -> Any:
        seen.update(decided=case.status in DECIDABLE, lead=case.lead_agency)
        return assign(case, wanted, actor=staff.username, now=now, rules=rules)

    outcome = await perform(
        monitor.store, monitor.router, tracking_code, change, clock=monitor.clock
    )
    done = Done(outcome, bool(seen["decided"]), seen["lead"])
    case = outcome.case
    await audit_action(
        request,
        action_audit_name(outcome.kind.value, done.decided),
        tracking_code,
        {
            "event": outcome.kind.value,
            "from": done.previous_lead,
            "to": case.lead_agency,
            "co_agencies": ",".join(case.co_agencies) or None,
            "field": case.field,
            "reason": wanted.reason,
            "reassignments": case.reassignments,
            "ping_pong": case.ping_pong,
            "event_pending": outcome.event_pending,
        },
    )
    return done


async def redirect_case(
    request: web.Request, tracking_code: str, body: Mapping[str, object]
) -> Done:
    monitor, staff = monitor_of(request), staff_of(request)
    wanted = parse_redirect(body, monitor.config)
    rules = rules_of(monitor)
    seen: dict[str, Any] = {}

    def change(case: Any, now: datetime) -> Any:
        seen.update(lead=case.lead_agency)
        return redirect(case, wanted, actor=staff.username, now=now, rules=rules)

    outcome = await perform(
        monitor.store, monitor.router, tracking_code, change, clock=monitor.clock
    )
    case = outcome.case
    assert case.redirect is not None
    await audit_action(
        request,
        action_audit_name(outcome.kind.value, False),
        tracking_code,
        {
            "event": outcome.kind.value,
            "from": seen["lead"],
            "to": case.redirect.to,
            "reason": case.redirect.reason,
            "event_pending": outcome.event_pending,
        },
    )
    return Done(outcome, False, seen["lead"])


async def replay_letters(request: web.Request, letter_ids: list[str]) -> list[dl.ReplayResult]:
    monitor, staff = monitor_of(request), staff_of(request)
    results = await dl.replay_many(
        monitor.store,
        monitor.bus,
        letter_ids,
        actor=staff.username,
        now=monitor.clock(),
        publish_timeout=monitor.publish_timeout,
    )
    for result in results:
        await audit_action(
            request,
            DEAD_LETTER_REPLAY,
            result.letter_id,
            {"error": result.error.code if result.error else None},
            "success" if result.ok else "failure",
        )
    return results


async def discard_letter(request: web.Request, letter_id: str, reason: str) -> dict[str, Any]:
    monitor, staff = monitor_of(request), staff_of(request)
    letter = await dl.discard(
        monitor.store, letter_id, actor=staff.username, reason=reason, now=monitor.clock()
    )
    await audit_action(request, DEAD_LETTER_DISCARD, letter_id, {"reason": reason})
    return letter


# --- cases ----------------------------------------------------------------------------------


@require(*READERS)
async def get_cases(request: web.Request) -> web.StreamResponse:
    """``?q=&status=&agency=&limit=`` → ``{"items": [...], "limit"}``, newest first."""
    monitor, staff = monitor_of(request), staff_of(request)
    try:
        query = queries.search_query(
            request.query.get("q"),
            status=request.query.get("status"),
            agency=request.query.get("agency") or None,
            scope=scope_of(staff),
        )
    except queries.InvalidQuery as exc:
        return error(400, "invalid_query", str(exc))
    limit = queries.clamp_limit(request.query.get("limit"))
    docs = await queries.search_cases(monitor.store, query, limit=limit)
    names, now = names_of(monitor), monitor.clock()
    return json_response({"items": [case_summary(d, names, now) for d in docs], "limit": limit})


@require(*READERS)
async def get_case(request: web.Request) -> web.StreamResponse:
    monitor, staff = monitor_of(request), staff_of(request)
    code = tracking_code_of(request)
    if code is None:
        return error(400, "invalid_tracking_code", t.INVALID_TRACKING_CODE)
    doc = await queries.find_case(monitor.store, code, scope_of(staff))
    if doc is None:
        return error(404, "not_found", t.CASE_NOT_FOUND)
    body = case_detail(doc, names_of(monitor), monitor.config, monitor.clock())
    body["can_act"] = can_act(staff)
    return json_response(body)


async def _case_action(
    request: web.Request,
    action: Callable[[web.Request, str, Mapping[str, object]], Awaitable[Done]],
) -> web.StreamResponse:
    """The shape every operator action on a case shares: code, JSON body, action, answer."""
    code = tracking_code_of(request)
    if code is None:
        return error(400, "invalid_tracking_code", t.INVALID_TRACKING_CODE)
    body = await json_body(request)
    if body is None:
        return error(400, "bad_request", t.BAD_REQUEST)
    try:
        done = await action(request, code, body)
    except ActionError as exc:
        return json_response(exc.as_json(), exc.status)
    return json_response(done.as_json(monitor_of(request)))


@require(*ACTORS)
async def post_assign(request: web.Request) -> web.StreamResponse:
    """``{"field", "lead_agency", "co_agencies", "reason", "category"?}``: a triage decision
    (deadline from receipt) or a reassignment (reason required, deadline kept)."""
    return await _case_action(request, assign_case)


@require(*ACTORS)
async def post_redirect(request: web.Request) -> web.StreamResponse:
    """``{"to"?, "reason"?}``: confirm the router's suggested redirect, or make one."""
    return await _case_action(request, redirect_case)


@require(*READERS)
async def get_attachment(request: web.Request) -> web.StreamResponse:
    """A file the citizen sent, for staff who may see the case (downloaded, never rendered)."""
    monitor, staff = monitor_of(request), staff_of(request)
    code = tracking_code_of(request)
    if code is None:
        return error(400, "invalid_tracking_code", t.INVALID_TRACKING_CODE)
    doc = await queries.find_case(monitor.store, code, scope_of(staff))
    ref = request.match_info["ref"]
    if doc is None or ref not in attachment_refs(doc):
        return error(404, "not_found", t.ATTACHMENT_NOT_FOUND)
    try:
        data, info = await monitor.store.open_attachment(ref)
    except AttachmentNotFound:
        return error(404, "not_found", t.ATTACHMENT_NOT_FOUND)
    filename = str(info.get("filename") or ref).replace('"', "")
    return web.Response(
        body=data,
        content_type=str(info.get("content_type") or "application/octet-stream"),
        headers={
            "Content-Disposition": "attachment; filename*=UTF-8''" + quote(filename, safe=""),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


@require(*ACTORS)
async def get_triage(request: web.Request) -> web.StreamResponse:
    """``{"items": [...]}``: cases waiting for an operator, oldest first, with the evidence."""
    monitor = monitor_of(request)
    docs = await queries.triage_queue(monitor.store)
    names, now = names_of(monitor), monitor.clock()
    return json_response({"items": [triage_item(d, names, monitor.config, now) for d in docs]})


@require(*READERS)
async def get_deadlines(request: web.Request) -> web.StreamResponse:
    """Per agency: overdue and due within a working day; ``?agency=`` adds that agency's cases."""
    monitor, staff = monitor_of(request), staff_of(request)
    now = monitor.clock()
    until = soon_until(monitor, now)
    scope = scope_of(staff)
    rows = await queries.deadlines_by_agency(monitor.store, now=now, soon_until=until, scope=scope)
    names = names_of(monitor)
    body: dict[str, Any] = {
        "now": now.isoformat(),
        "due_soon_until": until.isoformat(),
        "agencies": [{**r.as_json(), "agency_name": names.agency(r.agency)} for r in rows],
    }
    agency = request.query.get("agency")
    if agency:
        docs = await queries.due_cases(
            monitor.store, soon_until=until, scope=scope, agency=agency, limit=queries.MAX_LIMIT
        )
        body["items"] = [case_summary(d, names, now) for d in docs]
    return json_response(body)


@require(*READERS)
async def get_corrections(request: web.Request) -> web.StreamResponse:
    """How often operators changed the router's field, per field the router proposed."""
    monitor = monitor_of(request)
    rows = corrections_by_field(await queries.operator_routed(monitor.store))
    decided = sum(r.decided for r in rows)
    corrected = sum(r.corrected for r in rows)
    return json_response(
        {
            "operator_decisions": decided,
            "corrected": corrected,
            "fields": [{**r.as_json(), "field_name": field_name(r.field)} for r in rows],
        }
    )


@require(*READERS)
async def get_ping_pong(request: web.Request) -> web.StreamResponse:
    monitor, staff = monitor_of(request), staff_of(request)
    docs = await queries.ping_pong_cases(monitor.store, scope_of(staff))
    names, now = names_of(monitor), monitor.clock()
    return json_response({"items": [case_summary(d, names, now) for d in docs]})


@dataclass(frozen=True)
class Overview:
    """The dashboard's numbers, today's flow and the latest decisions, in the user's scope."""

    counts: queries.Counts
    today: queries.Flow
    recent: queries.Paged

    def as_json(self) -> dict[str, Any]:
        return {
            "counts": {**self.counts.as_json(), "received_today": self.today.received},
            "today": self.today.as_json(),
            "recent": self.recent.items,
            "page": self.recent.number,
            "has_next": self.recent.has_next,
        }


async def overview_of(request: web.Request, page: queries.PageRequest | None = None) -> Overview:
    """The dashboard (page and API) from one set of queries."""
    monitor, staff = monitor_of(request), staff_of(request)
    page = page or queries.PageRequest(1, 30)
    now = monitor.clock()
    scope = scope_of(staff)
    numbers = await queries.counts(
        monitor.store,
        now=now,
        soon_until=soon_until(monitor, now),
        scope=scope,
        operator=can_act(staff),
    )
    today = await queries.flow_since(monitor.store, queries.start_of_day(now), scope)
    names = names_of(monitor)
    docs = await queries.recent_cases(monitor.store, scope, limit=page.fetch, skip=page.skip)
    recent = queries.Paged.of([case_summary(d, names, now) for d in docs], page)
    return Overview(numbers, today, recent)


@require(*READERS)
async def get_overview(request: web.Request) -> web.StreamResponse:
    """The dashboard: counts, today's flow and the latest decisions (the user's scope);
    ``?counts=1`` for the numbers alone (what the live counters refresh)."""
    page = queries.PageRequest.parse(request.query.get("page"), 30)
    overview = await overview_of(request, page)
    body = overview.as_json()
    if request.query.get("counts"):
        body = {"counts": body["counts"], "today": body["today"]}
    return json_response(body)


@require(*READERS)
async def get_reference(request: web.Request) -> web.StreamResponse:
    """Codes a client needs for the assign form: fields, categories, agencies, statuses."""
    monitor = monitor_of(request)
    return json_response(
        {
            "fields": [{"code": f, "name": FIELD_NAMES[f]} for f in FIELDS],
            "categories": [
                {"code": c.code, "field": c.field, "name": c.name, "incident": c.incident}
                for c in monitor.config.categories
            ],
            "agencies": [
                {"code": a.code, "name": a.name, "kind": a.kind} for a in monitor.agencies
            ],
            "statuses": [{"code": s.value, "name": t.STATUS_NAMES[s.value]} for s in Status],
        }
    )


# --- dead letters ---------------------------------------------------------------------------


@require(*ACTORS)
async def get_dead_letters(request: web.Request) -> web.StreamResponse:
    """``?status=new|replayed|discarded|all`` (default new) → ``{"items": [...]}``, newest first."""
    monitor = monitor_of(request)
    status = request.query.get("status", "new")
    if status not in (*dl.STATUSES, "all"):
        return error(400, "invalid_query", f"unknown status {status!r}")
    letters = await dl.list_letters(
        monitor.store,
        status=None if status == "all" else status,
        limit=queries.clamp_limit(request.query.get("limit"), 100),
    )
    return json_response({"items": [dl.letter_json(letter) for letter in letters]})


@require(*ACTORS)
async def get_dead_letter(request: web.Request) -> web.StreamResponse:
    letter = await dl.get_letter(monitor_of(request).store, request.match_info["id"])
    if letter is None:
        return error(404, "not_found", t.DEAD_LETTER_NOT_FOUND)
    return json_response(dl.letter_json(letter))


@require(*ACTORS)
async def post_replay(request: web.Request) -> web.StreamResponse:
    """Publish the original message again to where it first went (once the cause is fixed)."""
    (result,) = await replay_letters(request, [request.match_info["id"]])
    if result.error is not None:
        return json_response(result.error.as_json(), result.error.status)
    letter = await dl.get_letter(monitor_of(request).store, result.letter_id)
    assert letter is not None
    return json_response(dl.letter_json(letter))


@require(*ACTORS)
async def post_replay_many(request: web.Request) -> web.StreamResponse:
    """``{"ids": [...]}`` → ``{"results": [{"id", "ok", "error"?, "message"?}]}``."""
    body = await json_body(request)
    ids = body.get("ids") if body is not None else None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids) or not ids:
        return error(400, "bad_request", t.NOTHING_SELECTED)
    results = await replay_letters(request, ids)
    return json_response({"results": [r.as_json() for r in results]})


@require(*ACTORS)
async def post_discard(request: web.Request) -> web.StreamResponse:
    """``{"reason"}``: mark a letter as not to be replayed. It is kept, with who and why."""
    body = await json_body(request)
    reason = body.get("reason") if body is not None else None
    if not isinstance(reason, str) or not reason.strip():
        return json_response(
            {
                "error": "invalid",
                "message": t.REASON_REQUIRED,
                "errors": [{"field": "reason", "code": "required", "message": t.REASON_REQUIRED}],
            },
            422,
        )
    try:
        letter = await discard_letter(request, request.match_info["id"], reason.strip()[:1000])
    except dl.DeadLetterError as exc:
        return json_response(exc.as_json(), exc.status)
    return json_response(dl.letter_json(letter))


# --- live updates ---------------------------------------------------------------------------


@require(*READERS)
async def get_stream(request: web.Request) -> web.StreamResponse:
    """Server-sent events: ``case`` (an event on pakn.cases the user may see) and, for
    operators, ``dead_letter``; ``reload`` when this page fell too far behind."""
    staff = staff_of(request)
    hub = request.config_dict[HUB]
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    if hub.closed:
        return response
    scope = scope_of(staff)
    subscriber = await hub.subscribe(agency=scope.agency, operator=can_act(staff))
    try:
        await response.write(b"retry: 5000\n\n")
        while True:
            try:
                update = await asyncio.wait_for(subscriber.queue.get(), STREAM_KEEPALIVE)
            except TimeoutError:
                await response.write(b": keepalive\n\n")
                continue
            if update is None:
                break
            await response.write(update.encode())
            if subscriber.lagging:
                await response.write(b"event: reload\ndata: {}\n\n")
                break
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        hub.unsubscribe(subscriber)
    with contextlib.suppress(ConnectionResetError):
        await response.write_eof()
    return response


def add_routes(app: web.Application) -> None:
    router = app.router
    router.add_get(f"{API}/cases", get_cases)
    router.add_get(f"{API}/cases/{{tracking_code}}", get_case)
    router.add_post(f"{API}/cases/{{tracking_code}}/assign", post_assign)
    router.add_post(f"{API}/cases/{{tracking_code}}/redirect", post_redirect)
    router.add_get(f"{API}/cases/{{tracking_code}}/attachments/{{ref}}", get_attachment)
    router.add_get(f"{API}/triage", get_triage)
    router.add_get(f"{API}/deadlines", get_deadlines)
    router.add_get(f"{API}/ping-pong", get_ping_pong)
    router.add_get(f"{API}/corrections", get_corrections)
    router.add_get(f"{API}/overview", get_overview)
    router.add_get(f"{API}/reference", get_reference)
    router.add_get(f"{API}/dead-letters", get_dead_letters)
    router.add_post(f"{API}/dead-letters/replay", post_replay_many)
    router.add_get(f"{API}/dead-letters/{{id}}", get_dead_letter)
    router.add_post(f"{API}/dead-letters/{{id}}/replay", post_replay)
    router.add_post(f"{API}/dead-letters/{{id}}/discard", post_discard)
    router.add_get(f"{API}/stream", get_stream)
