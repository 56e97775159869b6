"""The agency workspace's pages (Vietnamese, server-rendered, usable without JavaScript and on
a phone): the agency's queue by deadline, and a case page whose every action is a plain form
posting to the same functions as the JSON API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from pakn.auth.users import AGENCY_ROLES
from pakn.auth.web import require, staff_of
from pakn.ids import format_tracking_code
from pakn.schema import Status
from pakn_router.agency import api
from pakn_router.agency import messages as t
from pakn_router.agency import transitions as tr
from pakn_router.agency.views import workspace_view
from pakn_router.agency.workspace import agency_has_leader, case_of
from pakn_router.monitor.actions import Problem
from pakn_router.monitor.common import names_of, scope_of, tracking_code_of
from pakn_router.monitor.context import monitor_of
from pakn_router.monitor.pages import not_found, render, see_other

WORKSPACE = "/co-quan"

#: Form slug → (the action shared with the API, who may post it).
ACTIONS: dict[str, api.Action] = {
    "tiep-nhan": api.accept_case,
    "tra-lai": api.return_case,
    "phoi-hop": api.contribute_case,
    "hoi": api.ask_case,
    "gia-han": api.extend_case,
    "quyet-dinh-gia-han": api.decide_extension_case,
    "du-thao": api.draft_case,
    "phe-duyet": api.approve_case,
    "cong-khai": api.edit_publication_case,
}


@require(*api.AGENCY, *api.OPERATORS)
async def queue_page(request: web.Request) -> web.StreamResponse:
    statuses = tuple(s.value for s in api.QUEUE_STATUSES)
    items = await api.queue_of(request, statuses)
    staff = staff_of(request)
    # Operators decide extensions: those waiting come first, on their own.
    extensions = (
        await api.queue_of(request, tuple(s.value for s in tr.EXTENDABLE), extension_pending=True)
        if staff.role in api.OPERATORS
        else []
    )
    done, code = request.query.get("xong"), request.query.get("ma", "")
    notice = (
        t.DONE_NOTICES[done].format(code=format_tracking_code(code))
        if done in t.DONE_NOTICES and code.isdigit() and len(code) == 10
        else None
    )
    return render(
        request,
        "agency_queue.html",
        {
            "items": items,
            "extensions": extensions,
            "a": t,
            "agency_name": names_of(monitor_of(request)).agency(staff.agency),
        },
        title=t.QUEUE_TITLE,
        active="agency",
        notice=notice,
    )


async def _case_page(
    request: web.Request,
    code: str,
    *,
    status: int = 200,
    error: tr.Refused | None = None,
    form: Mapping[str, str] | None = None,
) -> web.StreamResponse:
    monitor, staff = monitor_of(request), staff_of(request)
    scope = scope_of(staff)
    query: dict[str, Any] = {"tracking_code": code}
    if scope.agency is not None:
        query = {"$and": [query, scope.query()]}
    doc = await monitor.store.cases.find_one(query)
    if doc is None:
        return not_found(request, t.NOT_FOUND)
    case = case_of(doc)
    officer = api.officer_of(request)
    is_lead = officer.agency is not None and officer.agency == case.lead_agency
    is_co = officer.agency is not None and officer.agency in case.co_agencies
    operator = officer.role in api.OPERATORS
    has_leader = await agency_has_leader(monitor.store, case.lead_agency or "")
    automatic = tr.automatic_public_version(case)
    values = dict(form or {})
    may = {
        "accept": is_lead and case.status in tr.ACCEPTABLE,
        "give_back": is_lead and case.status in tr.RETURNABLE,
        "contribute": is_co and case.status in tr.CONTRIBUTABLE,
        "ask": is_lead and case.status in tr.ASKABLE,
        "extend": is_lead
        and case.status in tr.EXTENDABLE
        and not any(e.decision == "pending" for e in case.extensions),
        "decide": operator and any(e.decision == "pending" for e in case.extensions),
        "draft": is_lead and case.status in tr.DRAFTABLE,
        "approve": is_lead
        and case.status in tr.APPROVABLE
        and case.answer is not None
        and tr.may_approve(officer, agency_has_leader=has_leader),
        "edit": (is_lead or operator)
        and tr.is_public(case)
        and case.status is not Status.DUPLICATE,
    }
    notice = None
    done = request.query.get("xong")
    if done in t.DONE_NOTICES:
        notice = t.DONE_NOTICES[done].format(code=format_tracking_code(code))
    errors = []
    if error is not None:
        errors.append(Problem(error.field or "", error.code, error.message))
    return render(
        request,
        "agency_case.html",
        {
            "a": t,
            "case": workspace_view(case, names_of(monitor), monitor.calendar, monitor.clock()),
            "may": may,
            "form": values,
            "automatic": automatic,
            "attachments_base": f"/api/v1/cases/{code}/attachments",
        },
        title=t.CASE_TITLE.format(code=format_tracking_code(code)),
        active="agency",
        status=status,
        errors=errors,
        notice=notice,
    )


@require(*api.AGENCY, *api.OPERATORS)
async def case_page(request: web.Request) -> web.StreamResponse:
    code = tracking_code_of(request)
    if code is None:
        return not_found(request, t.INVALID_TRACKING_CODE)
    return await _case_page(request, code)


@require(*api.AGENCY, *api.OPERATORS)
async def action_form(request: web.Request) -> web.StreamResponse:
    """One action's form: 303 back to the case page, or the page again with the problem."""
    code = tracking_code_of(request)
    slug = request.match_info["action"]
    action = ACTIONS.get(slug)
    if code is None or action is None:
        return not_found(request, t.NOT_FOUND)
    staff = staff_of(request)
    # Who may post which form is the API's rule: agency forms for agencies, the extension
    # decision for operators (the page only shows what the user may do).
    operator_only = slug == "quyet-dinh-gia-han"
    if operator_only == (staff.role in AGENCY_ROLES) and slug != "cong-khai":
        return not_found(request, t.NOT_FOUND)
    posted = await request.post()
    form = {k: v for k, v in posted.items() if isinstance(v, str) and k != "csrf_token"}
    files = [
        (item.filename, item.file.read())
        for item in posted.getall("files", [])
        if isinstance(item, web.FileField) and item.filename
    ]
    try:
        if slug == "du-thao":
            attachments = await api.keep_answer_files(request, code, files) if files else None
            await api.draft_case(request, code, form, attachments)
        else:
            await action(request, code, form)
    except tr.Refused as exc:
        return await _case_page(request, code, status=exc.status, error=exc, form=form)
    if slug == "tra-lai" and staff.role in AGENCY_ROLES:
        # The case is no longer the agency's: back to the queue, with the notice.
        return see_other(WORKSPACE, xong=slug, ma=code)
    return see_other(f"{WORKSPACE}/ho-so/{code}", xong=slug)


def add_routes(app: web.Application) -> None:
    app.router.add_get(WORKSPACE, queue_page)
    app.router.add_get(f"{WORKSPACE}/ho-so/{{tracking_code}}", case_page)
    app.router.add_post(f"{WORKSPACE}/ho-so/{{tracking_code}}/{{action}}", action_form)
