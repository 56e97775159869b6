"""The agents' console: pages and form posts (HTML first; the script only saves as one types
and refreshes the side panels)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from pymongo import DESCENDING
from pymongo.errors import PyMongoError

from pakn import http
from pakn.auth.csrf import FIELD as CSRF_FIELD
from pakn.auth.users import Role
from pakn.auth.web import LOGOUT_PATH, require, staff_of
from pakn.ids import InvalidTrackingCode, format_tracking_code, parse_tracking_code
from pakn.safety import assess
from pakn.schema import FIELD_NAMES
from pakn_hotline import messages, metrics, queries
from pakn_hotline.calls import Call, ReportDraft, ReportFields
from pakn_hotline.context import AGENCY_NAMES, COMMUNES, PLACES, SAFETY, SETTINGS, services
from pakn_hotline.occurred import understood
from pakn_hotline.submit import Conflict, Submitted, Unavailable, submit_report

log = logging.getLogger(__name__)

#: Who may log calls: the hotline's agents, and operators and administrators who stand in.
AGENTS = (Role.HOTLINE_AGENT, Role.OPERATOR, Role.ADMIN)


@dataclass(frozen=True)
class AgentError:
    """A finding shown next to the form field the agent fixes."""

    field: str
    message: str


def fields_from_form(form: Mapping[str, Any]) -> ReportFields:
    def text(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    return ReportFields(
        name=text("name"),
        phone=text("phone"),
        content=text("content"),
        commune=text("commune"),
        street=text("street"),
        occurred=text("occurred"),
        confidential=bool(text("confidential")),
        consent=bool(text("consent")),
        in_reply_to=text("in_reply_to"),
    )


def _wants_json(request: web.Request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _base_context(request: web.Request, title: str, active: str) -> dict[str, Any]:
    staff = staff_of(request)
    return {
        "title": title,
        "active": active,
        "user_label": f"{staff.user.display_name or staff.username} ({staff.role.value})",
        "csrf_field": CSRF_FIELD,
        "csrf_token": staff.csrf_token,
        "logout_path": LOGOUT_PATH,
        "status_names": messages.STATUS_NAMES,
        "field_names": FIELD_NAMES,
        "agency_names": request.config_dict[AGENCY_NAMES],
        "format_code": format_tracking_code,
        "notice": None,
        "errors": [],
    }


# --- home: a new call, calls in progress --------------------------------------------------


@require(*AGENTS)
async def home(request: web.Request) -> web.Response:
    svc = services(request)
    context = _base_context(request, "Tổng đài 1900 1023 — cuộc gọi", "home")
    context["open_calls"] = await svc.drafts.open_calls()
    context["callbacks_open"] = len(await svc.callbacks.open_items())
    context["caller_number"] = request.query.get("so", "")
    return aiohttp_jinja2.render_template("home.html", request, context)


@require(*AGENTS)
async def new_call(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    number = str(form.get("caller_number") or "").strip()
    if not 3 <= len(number) <= 32:
        svc = services(request)
        context = _base_context(request, "Tổng đài 1900 1023 — cuộc gọi", "home")
        context["open_calls"] = await svc.drafts.open_calls()
        context["callbacks_open"] = len(await svc.callbacks.open_items())
        context["caller_number"] = number
        context["errors"] = [
            AgentError("caller_number", "Ghi số điện thoại người gọi (số tổng đài hiện lên).")
        ]
        return aiohttp_jinja2.render_template("home.html", request, context, status=422)
    call = await services(request).drafts.open_console_call(
        caller_number=number,
        agent=staff_of(request).username,
        now=datetime.now(UTC),
        fields=ReportFields(phone=number),
    )
    metrics.CALLS.labels("console").inc()
    raise web.HTTPSeeOther(f"/cuoc-goi/{call.call_id}/1")


# --- one report of one call ----------------------------------------------------------------


async def _load(request: web.Request) -> tuple[Call, ReportDraft]:
    call = await services(request).drafts.get(request.match_info["call_id"])
    report = call.report(int(request.match_info["n"])) if call is not None else None
    if call is None or report is None:
        raise web.HTTPNotFound(text=messages.NOT_FOUND)
    return call, report


async def _related(
    request: web.Request, call: Call, report: ReportDraft, fields: ReportFields
) -> dict[str, Any]:
    """The side panels: the caller's earlier cases, open cases that look like this one."""
    store = services(request).store
    settings = request.config_dict[SETTINGS]
    phone = queries.e164(fields.phone or call.caller_number)
    history: list[queries.HistoryRow] = []
    if phone is not None:
        docs = (
            await store.cases.find(queries.history_query(phone), queries.HISTORY_FIELDS)
            .sort("received_at", DESCENDING)
            .limit(queries.HISTORY_LIMIT)
            .to_list()
        )
        history = queries.history_rows(docs)
    similar: list[queries.SimilarCase] = []
    place = (
        request.config_dict[PLACES].resolver.resolve(address=fields.commune)
        if fields.commune
        else None
    )
    locality = place.locality if place is not None else None
    terms = queries.draft_terms(fields.content, fields.street)
    query = queries.similar_query(
        commune=locality.name if locality is not None else fields.commune or None,
        commune_code=locality.code if locality is not None else None,
        terms=terms,
        since=queries.since(datetime.now(UTC), settings.hotline_similar_days),
    )
    if query is not None and report.state == "draft":
        docs = (
            await store.cases.find(query, queries.SIMILAR_FIELDS)
            .sort("received_at", DESCENDING)
            .limit(queries.SIMILAR_SCAN)
            .to_list()
        )
        similar = queries.rank_similar(docs, terms)
    return {"history": history, "similar": similar, "phone_e164": phone}


async def _render_call(
    request: web.Request,
    call: Call,
    report: ReportDraft,
    fields: ReportFields,
    *,
    errors: list[AgentError] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> web.Response:
    context = _base_context(request, f"Cuộc gọi từ {call.caller_number}", "call")
    try:
        context.update(await _related(request, call, report, fields))
    except PyMongoError:
        log.warning("side panels of %s not loaded", call.call_id, exc_info=True)
        context.update({"history": [], "similar": [], "phone_e164": None})
    context.update(
        call=call,
        report=report,
        fields=fields,
        errors=errors or [],
        notice=notice,
        communes=request.config_dict[COMMUNES],
        consent_script=messages.CONSENT_SCRIPT,
        occurred_understood=understood(fields.occurred, reference=call.started_at),
        # The router's own detector: the agent tells the caller the number while on the line.
        safety=assess(fields.content, request.config_dict[SAFETY]) if fields.content else None,
    )
    return aiohttp_jinja2.render_template("call.html", request, context, status=status)


@require(*AGENTS)
async def call_page(request: web.Request) -> web.StreamResponse:
    call, report = await _load(request)
    if report.state == "submitted":
        raise web.HTTPSeeOther(f"/cuoc-goi/{call.call_id}/{report.n}/ma")
    return await _render_call(request, call, report, report.fields)


@require(*AGENTS)
async def call_post(request: web.Request) -> web.StreamResponse:
    call, report = await _load(request)
    form = await request.post()
    action = str(form.get("action") or "save")
    staff = staff_of(request)
    now = datetime.now(UTC)
    fields = fields_from_form(form)
    if report.state == "submitted":
        if _wants_json(request):
            return http.json_response({"saved": False, "reason": "submitted"}, status=409)
        raise web.HTTPSeeOther(f"/cuoc-goi/{call.call_id}/{report.n}/ma")
    await services(request).drafts.save_fields(
        call.call_id, report.n, fields, now=now, by=staff.username
    )
    if action == "save":
        if _wants_json(request):
            return http.json_response({"saved": True})
        return await _render_call(request, call, report, fields, notice=messages.DRAFT_SAVED)

    attach_to: str | None = None
    if action.startswith("attach:"):
        try:
            attach_to = parse_tracking_code(action.removeprefix("attach:"))
        except InvalidTrackingCode:
            attach_to = None
        if attach_to is None:
            error = AgentError(
                "in_reply_to", messages.AGENT_HINTS[("in_reply_to", "invalid_tracking_code")]
            )
            return await _render_call(request, call, report, fields, errors=[error], status=422)
    outcome = await submit_report(
        services(request),
        call,
        report,
        fields,
        attach_to=attach_to,
        places=request.config_dict[PLACES],
        by=staff.username,
        now=now,
    )
    if isinstance(outcome, Submitted):
        raise web.HTTPSeeOther(f"/cuoc-goi/{call.call_id}/{report.n}/ma")
    if isinstance(outcome, Conflict):
        await services(request).drafts.save_fields(
            call.call_id, report.n, outcome.sent, now=now, by=staff.username
        )
        error = AgentError("", outcome.message)
        return await _render_call(request, call, report, outcome.sent, errors=[error], status=409)
    if isinstance(outcome, Unavailable):
        return await _render_call(
            request,
            call,
            report,
            fields,
            errors=[AgentError("", outcome.message)],
            status=outcome.status,
        )
    errors = [AgentError(e.field, e.message) for e in outcome]
    return await _render_call(request, call, report, fields, errors=errors, status=422)


@require(*AGENTS)
async def add_report(request: web.Request) -> web.StreamResponse:
    call_id = request.match_info["call_id"]
    n = await services(request).drafts.add_report(call_id, now=datetime.now(UTC))
    if n is None:
        raise web.HTTPNotFound(text=messages.NOT_FOUND)
    raise web.HTTPSeeOther(f"/cuoc-goi/{call_id}/{n}")


@require(*AGENTS)
async def code_page(request: web.Request) -> web.StreamResponse:
    call, report = await _load(request)
    if report.state != "submitted" or report.code_for_caller is None:
        raise web.HTTPSeeOther(f"/cuoc-goi/{call.call_id}/{report.n}")
    code = report.code_for_caller
    context = _base_context(request, "Đọc mã hồ sơ cho người gọi", "call")
    context.update(
        call=call,
        report=report,
        code=code,
        groups=[code[i : i + 3] for i in range(0, len(code), 3)],
        words=messages.read_back(code),
    )
    return aiohttp_jinja2.render_template("code.html", request, context)


# --- calling back --------------------------------------------------------------------------


@require(*AGENTS)
async def callbacks_page(request: web.Request) -> web.Response:
    svc = services(request)
    context = _base_context(request, "Gọi lại cho người dân", "callbacks")
    context["items"] = await svc.callbacks.open_items()
    context["done"] = await svc.callbacks.recent_done()
    context["reasons"] = messages.CALLBACK_REASONS
    context["notice"] = messages.CALLBACK_DONE if request.query.get("xong") else None
    return aiohttp_jinja2.render_template("callbacks.html", request, context)


@require(*AGENTS)
async def callback_done(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    note = str(form.get("note") or "").strip()[:500] or None
    await services(request).callbacks.mark_done(
        request.match_info["item_id"],
        by=staff_of(request).username,
        now=datetime.now(UTC),
        note=note,
    )
    raise web.HTTPSeeOther("/goi-lai?xong=1")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", home)
    app.router.add_post("/cuoc-goi", new_call)
    app.router.add_post("/cuoc-goi/{call_id}/bao-cao-moi", add_report)
    app.router.add_get(r"/cuoc-goi/{call_id}/{n:\d{1,2}}", call_page)
    app.router.add_post(r"/cuoc-goi/{call_id}/{n:\d{1,2}}", call_post)
    app.router.add_get(r"/cuoc-goi/{call_id}/{n:\d{1,2}}/ma", code_page)
    app.router.add_get("/goi-lai", callbacks_page)
    app.router.add_post("/goi-lai/{item_id}/xong", callback_done)
