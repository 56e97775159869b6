"""The monitor's pages (Vietnamese, server-rendered): every action is a plain form that works
without JavaScript, and every page shows what a JSON endpoint of api.py also answers."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
import jinja2
from aiohttp import web
from multidict import MultiDictProxy

from pakn.auth import messages as auth_messages
from pakn.auth.users import AGENCY_ROLES
from pakn.auth.web import LOGOUT_PATH, require, staff_of
from pakn.ids import format_tracking_code
from pakn.phone import dial_phone, display_phone
from pakn.schema import FIELD_NAMES, FIELDS, Status
from pakn.territory import Agency
from pakn_router.monitor import dead_letters as dl
from pakn_router.monitor import messages as t
from pakn_router.monitor import queries
from pakn_router.monitor.actions import (
    DECIDABLE,
    REASSIGNABLE,
    REDIRECTABLE,
    ActionError,
    Problem,
)
from pakn_router.monitor.api import (
    assign_case,
    discard_letter,
    overview_of,
    redirect_case,
    replay_letters,
    soon_until,
)
from pakn_router.monitor.charts import bar_chart
from pakn_router.monitor.common import (
    ACTORS,
    READERS,
    can_act,
    names_of,
    scope_of,
    tracking_code_of,
)
from pakn_router.monitor.context import Monitor, monitor_of
from pakn_router.monitor.views import (
    agencies_by_field,
    case_detail,
    case_summary,
    commune_agency,
    local_time,
    triage_item,
)

JINJA = web.AppKey("pakn_monitor_jinja", jinja2.Environment)

#: No third party, no framing; scripts and styles only from this service.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
AGENCY_KIND_ORDER = tuple(t.AGENCY_KINDS)
REDIRECT_KINDS = ("reception", "inspectorate")


def _size(value: int | None) -> str:
    if value is None:
        return t.NONE
    if value < 1024:
        return t.BYTES.format(size=value)
    if value < 1024 * 1024:
        return t.KILOBYTES.format(size=round(value / 1024))
    return t.MEGABYTES.format(size=f"{value / 1024 / 1024:.1f}".replace(".", ","))


def _when(value: str | datetime | None) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return local_time(value)


def _code(value: str) -> str:
    return format_tracking_code(value)


def _number(value: float | None) -> str:
    """Vietnamese writes a decimal comma: 2,5."""
    if value is None:
        return t.NONE
    return f"{value:g}".replace(".", ",")


def _percent(value: float | None) -> str:
    return f"{round((value or 0) * 100)}%"


FILTERS: dict[str, Callable[..., str]] = {
    "phone": display_phone,
    "dial": dial_phone,
    "when": _when,
    "size": _size,
    "code": _code,
    "percent": _percent,
    "number": _number,
}


# --- rendering ------------------------------------------------------------------------------


def _nav(staff_can_act: bool) -> list[tuple[str, str, str]]:
    items = [("dashboard", "/", t.NAV["dashboard"])]
    if staff_can_act:
        items.append(("triage", "/phan-loai", t.NAV["triage"]))
    items += [
        ("search", "/ho-so", t.NAV["search"]),
        ("deadlines", "/han-xu-ly", t.NAV["deadlines"]),
        ("ping_pong", "/chuyen-qua-lai", t.NAV["ping_pong"]),
        ("reports", "/bao-cao", t.NAV["reports"]),
    ]
    if staff_can_act:
        items.append(("dead_letters", "/tin-loi", t.NAV["dead_letters"]))
    return items


def render(
    request: web.Request,
    template: str,
    context: Mapping[str, Any],
    *,
    title: str,
    active: str,
    status: int = 200,
    notice: str | None = None,
    errors: Sequence[Problem] = (),
) -> web.Response:
    staff = staff_of(request)
    acting = can_act(staff)
    nav = _nav(acting)
    if staff.role in AGENCY_ROLES or acting:
        # The agency workspace (router/pakn_router/agency): the agency's own queue.
        nav.insert(1, ("agency", "/co-quan", t.NAV_AGENCY))
    page = {
        "t": t,
        "title": title,
        "active": active,
        "nav": nav,
        "staff": staff,
        "user_label": t.LOGGED_IN_AS.format(
            name=staff.user.display_name, role=auth_messages.ROLE_NAMES[staff.role.value]
        ),
        "csrf_token": staff.csrf_token,
        "logout_path": LOGOUT_PATH,
        "can_act": acting,
        "notice": notice,
        "errors": list(errors),
        "search_q": request.query.get("q", "") if active == "search" else "",
        **context,
    }
    response = aiohttp_jinja2.render_template(template, request, page, app_key=JINJA, status=status)
    response.headers.update(PAGE_HEADERS)
    return response


def not_found(request: web.Request, message: str) -> web.Response:
    return render(
        request, "error.html", {"message": message}, title=t.ERROR_TITLE, active="", status=404
    )


def see_other(path: str, **query: str | int | None) -> web.Response:
    params = {k.replace("_", "-"): str(v) for k, v in query.items() if v is not None}
    location = f"{path}?{urlencode(params)}" if params else path
    return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})


#: The query parameter of a page number in every paged list.
PAGE_PARAM = "trang"
#: The dashboard shows fewer recent decisions per page, so the counters stay in sight.
RECENT_PER_PAGE = 10


def _page_request(request: web.Request, size: int = queries.PAGE_SIZE) -> queries.PageRequest:
    return queries.PageRequest.parse(request.query.get(PAGE_PARAM), size)


def pager(request: web.Request, paged: queries.Paged) -> dict[str, Any]:
    """Links to the previous and next page, keeping every other filter of the query."""

    def href(number: int) -> str:
        params = [(k, v) for k, v in request.query.items() if k not in (PAGE_PARAM, "xong", "ma")]
        if number > 1:
            params.append((PAGE_PARAM, str(number)))
        return f"{request.path}?{urlencode(params)}" if params else request.path

    return {
        "number": paged.number,
        "previous": href(paged.number - 1) if paged.has_previous else None,
        "next": href(paged.number + 1) if paged.has_next else None,
    }


def _agency_groups(agencies: Sequence[Agency]) -> list[tuple[str, list[Agency]]]:
    groups: dict[str, list[Agency]] = {kind: [] for kind in AGENCY_KIND_ORDER}
    for agency in agencies:
        groups.setdefault(agency.kind, []).append(agency)
    return [
        (t.AGENCY_KINDS.get(kind, kind), sorted(items, key=lambda a: a.name))
        for kind, items in groups.items()
        if items
    ]


def _field_agencies(monitor: Monitor) -> dict[str, list[str]]:
    """Field → agency codes, for the triage form's narrowed agency list (and its script)."""
    return {field: sorted(codes) for field, codes in agencies_by_field(monitor.config).items()}


def _field_choices(monitor: Monitor) -> dict[str, Any]:
    by_field = _field_agencies(monitor)
    fields_of: dict[str, list[str]] = {}
    for field, codes in by_field.items():
        for code in codes:
            fields_of.setdefault(code, []).append(field)
    return {
        "field_agencies": {f: set(codes) for f, codes in by_field.items()},
        "agency_fields": {code: " ".join(sorted(f)) for code, f in fields_of.items()},
    }


def _choices(monitor: Monitor) -> dict[str, Any]:
    """What the assign and redirect forms offer."""
    categories: dict[str, list[Any]] = {field: [] for field in FIELDS}
    for category in monitor.config.categories:
        categories.setdefault(category.field, []).append(category)
    return {
        "fields": [(code, FIELD_NAMES[code]) for code in FIELDS],
        "agency_groups": _agency_groups(monitor.agencies),
        "category_groups": [
            (FIELD_NAMES[field], items) for field, items in categories.items() if items
        ],
        "redirect_targets": [a for a in monitor.agencies if a.kind in REDIRECT_KINDS],
    }


# --- notices after a redirect (Post/Redirect/Get) -------------------------------------------


async def _notice(request: web.Request) -> str | None:
    done = request.query.get("xong")
    code = request.query.get("ma")
    monitor = monitor_of(request)
    if done in ("giao", "chuyen", "chuyen-huong") and code and code.isdigit():
        doc = await monitor.store.cases.find_one(
            {"tracking_code": code}, {"lead_agency": 1, "redirect": 1}
        )
        if doc is None:
            return None
        names = names_of(monitor)
        shown = _code(code)
        if done == "chuyen-huong":
            to = (doc.get("redirect") or {}).get("to")
            return t.REDIRECTED_OK.format(code=shown, agency=names.agency(to))
        template = t.ASSIGNED_OK if done == "giao" else t.REASSIGNED_OK
        return template.format(code=shown, agency=names.agency(doc.get("lead_agency")))
    if done == "phat-lai":
        text = t.REPLAYED_OK.format(count=_int(request.query.get("so")))
        failed = _int(request.query.get("loi"))
        return f"{text} {t.REPLAY_SOME_FAILED.format(count=failed)}" if failed else text
    if done == "loai-bo":
        return t.DISCARDED_OK.format(id=request.query.get("id", ""))
    return None


def _int(value: str | None) -> int:
    try:
        return max(0, int(value or "0"))
    except ValueError:
        return 0


# --- pages ----------------------------------------------------------------------------------


def _flow_charts(today: queries.Flow) -> list[Any]:
    channels = [(t.CHANNEL_NAMES.get(c, c), n) for c, n in today.by_channel.items()]
    fields = [(FIELD_NAMES.get(f, t.NO_FIELD), n) for f, n in today.by_field.items()]
    return [
        bar_chart("bieu-do-kenh", t.CHART_BY_CHANNEL, channels, t.CHART_EMPTY),
        bar_chart("bieu-do-linh-vuc", t.CHART_BY_FIELD, fields, t.CHART_EMPTY),
    ]


@require(*READERS)
async def dashboard(request: web.Request) -> web.StreamResponse:
    overview = await overview_of(request, _page_request(request, RECENT_PER_PAGE))
    return render(
        request,
        "dashboard.html",
        {
            "counts": overview.counts,
            "today": overview.today,
            "charts": _flow_charts(overview.today),
            "recent": overview.recent.items,
            "paging": pager(request, overview.recent),
        },
        title=t.DASHBOARD_TITLE,
        active="dashboard",
        notice=await _notice(request),
    )


@require(*ACTORS)
async def triage_page(request: web.Request) -> web.StreamResponse:
    monitor = monitor_of(request)
    now = monitor.clock()
    names = names_of(monitor)
    page = _page_request(request)
    docs = await queries.triage_queue(monitor.store, limit=page.fetch, skip=page.skip)
    items = []
    for doc in docs:
        item = triage_item(doc, names, monitor.config, now)
        item["commune_agency"] = commune_agency(doc, monitor.config)
        items.append(item)
    paged = queries.Paged.of(items, page)
    waiting = await monitor.store.cases.count_documents({"status": Status.TRIAGE.value})
    return render(
        request,
        "triage.html",
        {
            "items": paged.items,
            "waiting": waiting,
            "paging": pager(request, paged),
            **_field_choices(monitor),
            **_choices(monitor),
        },
        title=t.TRIAGE_TITLE,
        active="triage",
        notice=await _notice(request),
    )


@require(*READERS)
async def search_page(request: web.Request) -> web.StreamResponse:
    monitor, staff = monitor_of(request), staff_of(request)
    q = request.query.get("q", "").strip()
    status = request.query.get("status", "")
    agency = request.query.get("agency", "")
    searched = bool(q or status or agency)
    items: list[dict[str, Any]] = []
    errors: list[Problem] = []
    page = _page_request(request)
    paging: dict[str, Any] | None = None
    total = 0
    if searched:
        try:
            query = queries.search_query(
                q, status=status or None, agency=agency or None, scope=scope_of(staff)
            )
        except queries.InvalidQuery:
            errors.append(Problem("status", "unknown", t.BAD_REQUEST))
        else:
            now, names = monitor.clock(), names_of(monitor)
            docs = await queries.search_cases(
                monitor.store, query, limit=page.fetch, skip=page.skip
            )
            paged = queries.Paged.of([case_summary(d, names, now) for d in docs], page)
            items, paging = paged.items, pager(request, paged)
            total = await monitor.store.cases.count_documents(query)
    return render(
        request,
        "search.html",
        {
            "q": q,
            "status": status,
            "agency": agency,
            "searched": searched,
            "items": items,
            "total": total,
            "paging": paging,
            "statuses": [(s.value, t.STATUS_NAMES[s.value]) for s in Status],
            "agency_groups": _agency_groups(monitor.agencies),
        },
        title=t.SEARCH_TITLE,
        active="search",
        status=400 if errors else 200,
        errors=errors,
    )


async def _case_page(
    request: web.Request,
    code: str,
    *,
    status: int = 200,
    errors: Sequence[Problem] = (),
    form: Mapping[str, Any] | None = None,
    notice: str | None = None,
) -> web.StreamResponse:
    monitor, staff = monitor_of(request), staff_of(request)
    doc = await queries.find_case(monitor.store, code, scope_of(staff))
    if doc is None:
        return not_found(request, t.CASE_NOT_FOUND)
    case = case_detail(doc, names_of(monitor), monitor.config, monitor.clock())
    case_status = Status(case["status"])
    suggested = case["routing"]["suggested_redirect"]
    values = dict(form or {})
    values.setdefault("field", case["field"] or "")
    values.setdefault("category", case["category"] or "")
    values.setdefault("lead_agency", case["lead_agency"] or "")
    values.setdefault("co_agencies", list(case["co_agencies"]))
    values.setdefault("reason", "")
    values.setdefault("to", (suggested or {}).get("to") or "")
    values.setdefault("redirect_reason", (suggested or {}).get("reason") or "")
    co = [*values["co_agencies"], "", "", ""]
    return render(
        request,
        "case.html",
        {
            "case": case,
            "form": values,
            "co_slots": co[: max(3, len(values["co_agencies"]))],
            "deciding": case_status in DECIDABLE,
            "may_assign": can_act(staff) and case_status in DECIDABLE | REASSIGNABLE,
            "may_redirect": can_act(staff) and case_status in REDIRECTABLE,
            "reason_required": case_status not in (Status.TRIAGE,),
            **_choices(monitor),
        },
        title=t.CASE_TITLE.format(code=_code(code)),
        active="search",
        status=status,
        errors=errors,
        notice=notice or await _notice(request),
    )


@require(*READERS)
async def case_page(request: web.Request) -> web.StreamResponse:
    code = tracking_code_of(request)
    if code is None:
        return not_found(request, t.INVALID_TRACKING_CODE)
    return await _case_page(request, code)


def _form_dict(form: MultiDictProxy[Any]) -> dict[str, Any]:
    def text(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    return {
        "field": text("field"),
        "lead_agency": text("lead_agency"),
        "co_agencies": [v for v in form.getall("co_agencies", []) if isinstance(v, str) and v],
        "category": text("category"),
        "reason": text("reason"),
        "to": text("to"),
        "redirect_reason": text("redirect_reason"),
    }


def _back_to_queue(form: MultiDictProxy[Any]) -> bool:
    return form.get("tu") == "phan-loai"


@require(*ACTORS)
async def assign_form(request: web.Request) -> web.StreamResponse:
    """The assign form (case page or triage queue): redirect on success, the page on errors."""
    code = tracking_code_of(request)
    if code is None:
        return not_found(request, t.INVALID_TRACKING_CODE)
    form = await request.post()
    values = _form_dict(form)
    body: dict[str, Any] = {k: v for k, v in values.items() if k not in ("to", "redirect_reason")}
    suggested = form.get("suggested_category")
    # The queue's quick form carries the router's category: kept when the field agrees, and
    # its co-agencies minus the lead the operator may have picked instead.
    if (
        not values["category"]
        and isinstance(suggested, str)
        and suggested.split(".", 1)[0] == values["field"]
    ):
        body["category"] = suggested
    if _back_to_queue(form):
        body["co_agencies"] = [c for c in values["co_agencies"] if c != values["lead_agency"]]
    try:
        done = await assign_case(request, code, body)
    except ActionError as exc:
        return await _case_page(
            request, code, status=exc.status, errors=exc.problems or [_general(exc)], form=values
        )
    kind = "giao" if done.decided else "chuyen"
    if _back_to_queue(form):
        return see_other("/phan-loai", xong=kind, ma=code)
    return see_other(f"/ho-so/{code}", xong=kind, ma=code)


@require(*ACTORS)
async def redirect_form(request: web.Request) -> web.StreamResponse:
    code = tracking_code_of(request)
    if code is None:
        return not_found(request, t.INVALID_TRACKING_CODE)
    form = await request.post()
    values = _form_dict(form)
    body = {"to": values["to"], "reason": values["redirect_reason"]}
    try:
        await redirect_case(request, code, body)
    except ActionError as exc:
        return await _case_page(
            request, code, status=exc.status, errors=exc.problems or [_general(exc)], form=values
        )
    if _back_to_queue(form):
        return see_other("/phan-loai", xong="chuyen-huong", ma=code)
    return see_other(f"/ho-so/{code}", xong="chuyen-huong", ma=code)


def _general(exc: ActionError | dl.DeadLetterError) -> Problem:
    return Problem("", exc.code, exc.message)


@require(*READERS)
async def deadlines_page(request: web.Request) -> web.StreamResponse:
    monitor, staff = monitor_of(request), staff_of(request)
    now = monitor.clock()
    until = soon_until(monitor, now)
    scope = scope_of(staff)
    names = names_of(monitor)
    rows = await queries.deadlines_by_agency(monitor.store, now=now, soon_until=until, scope=scope)
    agency = request.query.get("co-quan") or None
    items: list[dict[str, Any]] = []
    paging: dict[str, Any] | None = None
    if agency:
        page = _page_request(request)
        docs = await queries.due_cases(
            monitor.store,
            soon_until=until,
            scope=scope,
            agency=agency,
            limit=page.fetch,
            skip=page.skip,
        )
        paged = queries.Paged.of([case_summary(d, names, now) for d in docs], page)
        items, paging = paged.items, pager(request, paged)
    return render(
        request,
        "deadlines.html",
        {
            "rows": [(r, names.agency(r.agency)) for r in rows],
            "agency": agency,
            "agency_name": names.agency(agency),
            "items": items,
            "paging": paging,
        },
        title=t.DEADLINES_TITLE,
        active="deadlines",
    )


@require(*READERS)
async def ping_pong_page(request: web.Request) -> web.StreamResponse:
    monitor, staff = monitor_of(request), staff_of(request)
    now, names = monitor.clock(), names_of(monitor)
    page = _page_request(request)
    docs = await queries.ping_pong_cases(
        monitor.store, scope_of(staff), limit=page.fetch, skip=page.skip
    )
    paged = queries.Paged.of([case_summary(d, names, now) for d in docs], page)
    return render(
        request,
        "ping_pong.html",
        {"items": paged.items, "paging": pager(request, paged)},
        title=t.PING_PONG_TITLE,
        active="ping_pong",
    )


# --- dead letters ---------------------------------------------------------------------------


async def _dead_letters_page(
    request: web.Request, *, status: int = 200, errors: Sequence[Problem] = ()
) -> web.StreamResponse:
    monitor = monitor_of(request)
    shown = request.query.get("tinh-trang", "new")
    if shown not in (*dl.STATUSES, "all"):
        shown = "new"
    page = _page_request(request)
    letters = await dl.list_letters(
        monitor.store,
        status=None if shown == "all" else shown,
        limit=page.fetch,
        skip=page.skip,
    )
    paged = queries.Paged.of(letters, page)
    return render(
        request,
        "dead_letters.html",
        {
            "letters": paged.items,
            "paging": pager(request, paged),
            "shown": shown,
            "filters": [(s, t.DEAD_LETTER_STATUS_NAMES[s]) for s in dl.STATUSES] + [("all", t.ANY)],
        },
        title=t.DEAD_LETTERS_TITLE,
        active="dead_letters",
        status=status,
        errors=errors,
        notice=await _notice(request),
    )


@require(*ACTORS)
async def dead_letters_page(request: web.Request) -> web.StreamResponse:
    return await _dead_letters_page(request)


async def _dead_letter_page(
    request: web.Request,
    letter_id: str,
    *,
    status: int = 200,
    errors: Sequence[Problem] = (),
    reason: str = "",
) -> web.StreamResponse:
    letter = await dl.get_letter(monitor_of(request).store, letter_id)
    if letter is None:
        return not_found(request, t.DEAD_LETTER_NOT_FOUND)
    return render(
        request,
        "dead_letter.html",
        {"letter": letter, "headers": dl.letter_json(letter)["headers"], "reason": reason},
        title=t.DEAD_LETTER_TITLE.format(id=letter_id),
        active="dead_letters",
        status=status,
        errors=errors,
    )


@require(*ACTORS)
async def dead_letter_page(request: web.Request) -> web.StreamResponse:
    return await _dead_letter_page(request, request.match_info["id"])


@require(*ACTORS)
async def replay_selected_form(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    ids = [v for v in form.getall("ids", []) if isinstance(v, str) and v]
    if not ids:
        return await _dead_letters_page(
            request, status=400, errors=[Problem("ids", "required", t.NOTHING_SELECTED)]
        )
    results = await replay_letters(request, ids)
    ok = sum(1 for r in results if r.ok)
    return see_other("/tin-loi", xong="phat-lai", so=ok, loi=len(results) - ok or None)


@require(*ACTORS)
async def replay_form(request: web.Request) -> web.StreamResponse:
    letter_id = request.match_info["id"]
    (result,) = await replay_letters(request, [letter_id])
    if result.error is not None:
        return await _dead_letter_page(
            request, letter_id, status=result.error.status, errors=[_general(result.error)]
        )
    return see_other("/tin-loi", xong="phat-lai", so=1)


@require(*ACTORS)
async def discard_form(request: web.Request) -> web.StreamResponse:
    letter_id = request.match_info["id"]
    form = await request.post()
    reason = form.get("reason")
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        return await _dead_letter_page(
            request,
            letter_id,
            status=422,
            errors=[Problem("reason", "required", t.REASON_REQUIRED)],
        )
    try:
        await discard_letter(request, letter_id, reason[:1000])
    except dl.DeadLetterError as exc:
        return await _dead_letter_page(
            request, letter_id, status=exc.status, errors=[_general(exc)], reason=reason
        )
    return see_other("/tin-loi", xong="loai-bo", id=letter_id)


def add_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/", dashboard)
    router.add_get("/phan-loai", triage_page)
    router.add_get("/ho-so", search_page)
    router.add_get("/ho-so/{tracking_code}", case_page)
    router.add_post("/ho-so/{tracking_code}/giao", assign_form)
    router.add_post("/ho-so/{tracking_code}/chuyen-huong", redirect_form)
    router.add_get("/han-xu-ly", deadlines_page)
    router.add_get("/chuyen-qua-lai", ping_pong_page)
    router.add_get("/tin-loi", dead_letters_page)
    router.add_post("/tin-loi/phat-lai", replay_selected_form)
    router.add_get("/tin-loi/{id}", dead_letter_page)
    router.add_post("/tin-loi/{id}/phat-lai", replay_form)
    router.add_post("/tin-loi/{id}/loai-bo", discard_form)
