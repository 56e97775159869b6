"""The report's routes on the router: the printable page, the downloads and the JSON.

Thin handlers: the period and scope are read from the query (pure), the figures come from
pakn.reporting (one aggregation), the page from views.py and the files from export.py.
Agency staff see their own agency's report only, as in the monitor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from pakn import loops
from pakn.auth.users import AGENCY_ROLES
from pakn.auth.web import require, staff_of
from pakn.reporting import DIMENSIONS, FIGURES, Period, case_list, local_date, report_for
from pakn.scope import Scope
from pakn_router.monitor.common import READERS, json_response, scope_of
from pakn_router.monitor.context import MONITOR, Monitor, monitor_of
from pakn_router.monitor.pages import PAGE_HEADERS
from pakn_router.reports import export, views
from pakn_router.reports import messages as t
from pakn_router.reports.command import labels_for
from pakn_router.reports.keeping import MAX_AGE, keep_counting

HERE = Path(__file__).parent
JINJA = web.AppKey("pakn_reports_jinja", jinja2.Environment)
DOWNLOAD_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


class BadQuery(ValueError):
    """A period, agency, figure or breakdown that cannot be used (message in Vietnamese)."""


@dataclass(frozen=True)
class Asked:
    period: Period
    scope: Scope


def parse_day(text: str) -> date:
    text = text.strip()
    try:
        if "/" in text:
            day, month, year = (int(part) for part in text.split("/"))
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        raise BadQuery(t.BAD_DATE) from None


def parse_asked(query: dict[str, str], *, today: date, scope: Scope, agencies: set[str]) -> Asked:
    """The period (default: this month) and scope of a request (pure).

    An agency's staff are held to their agency whatever they ask; everyone else may ask for
    one agency by code."""
    start_text, end_text = query.get("tu", "").strip(), query.get("den", "").strip()
    default = Period.month(today.year, today.month)
    start = parse_day(start_text) if start_text else default.start
    end = parse_day(end_text) if end_text else (default.end if not start_text else today)
    try:
        period = Period(start, end)
    except ValueError:
        raise BadQuery(t.BAD_PERIOD) from None
    wanted = query.get("co-quan", "").strip() or None
    if scope.agency is not None:
        if wanted not in (None, scope.agency):
            raise BadQuery(t.OTHER_AGENCY)
        return Asked(period, scope)
    if wanted is not None and wanted not in agencies:
        raise BadQuery(t.BAD_FIGURE)
    return Asked(period, Scope(wanted))


def _asked(request: web.Request, monitor: Monitor) -> Asked:
    staff = staff_of(request)
    return parse_asked(
        dict(request.query),
        today=local_date(monitor.clock()),
        scope=scope_of(staff),
        agencies={agency.code for agency in monitor.agencies},
    )


def _bad(message: str) -> web.Response:
    return web.Response(status=400, text=message, headers=DOWNLOAD_HEADERS)


def _file(body: bytes, kind: str, name: str) -> web.Response:
    content_type = export.CSV_TYPE if kind == "csv" else export.XLSX_TYPE
    return web.Response(
        body=body,
        headers={
            **DOWNLOAD_HEADERS,
            "Content-Type": content_type,
            "Content-Disposition": f'attachment; filename="{name}.{kind}"',
        },
    )


def _render(request: web.Request, context: dict[str, object], status: int = 200) -> web.Response:
    response = aiohttp_jinja2.render_template(
        "report.html", request, context, app_key=JINJA, status=status
    )
    response.headers.update(PAGE_HEADERS)
    return response


@require(*READERS)
async def report_page(request: web.Request) -> web.StreamResponse:
    monitor, staff = monitor_of(request), staff_of(request)
    now = monitor.clock()
    try:
        asked = _asked(request, monitor)
    except BadQuery as exc:
        return _render(request, {"t": t, "error": str(exc)}, status=400)
    report = await report_for(
        monitor.store, asked.period, now=monitor.clock(), max_age=MAX_AGE, scope=asked.scope
    )
    context = views.report_page(
        report,
        labels_for(monitor.config),
        made_at=report.counted_at or now,
        today=local_date(now),
        agencies=[(agency.code, agency.name) for agency in monitor.agencies],
        can_choose_agency=staff.role not in AGENCY_ROLES,
    )
    return _render(request, {**context, "error": None})


def _name(asked: Asked, what: str) -> str:
    scope = f"-{asked.scope.agency}" if asked.scope.agency else ""
    return f"{what}-{asked.period.start.isoformat()}-{asked.period.end.isoformat()}{scope}"


@require(*READERS)
async def summary_download(request: web.Request) -> web.StreamResponse:
    monitor = monitor_of(request)
    kind = request.match_info["kind"]
    try:
        asked = _asked(request, monitor)
    except BadQuery as exc:
        return _bad(str(exc))
    report = await report_for(
        monitor.store, asked.period, now=monitor.clock(), max_age=MAX_AGE, scope=asked.scope
    )
    labels = labels_for(monitor.config)
    body = (
        export.report_csv(report, labels) if kind == "csv" else export.report_xlsx(report, labels)
    )
    return _file(body, kind, _name(asked, "bao-cao"))


@require(*READERS)
async def cases_download(request: web.Request) -> web.StreamResponse:
    monitor = monitor_of(request)
    kind = request.match_info["kind"]
    figure = request.query.get("chi-tieu", "received")
    dimension = request.query.get("nhom") or None
    try:
        asked = _asked(request, monitor)
        if figure not in FIGURES or (dimension is not None and dimension not in DIMENSIONS):
            raise BadQuery(t.BAD_FIGURE)
    except BadQuery as exc:
        return _bad(str(exc))
    rows = await case_list(
        monitor.store,
        asked.period,
        figure,
        scope=asked.scope,
        dimension=dimension,
        key=request.query.get("ma") or None,
    )
    body = export.cases_csv(rows) if kind == "csv" else export.cases_xlsx(rows)
    return _file(body, kind, _name(asked, f"ho-so-{figure}"))


@require(*READERS)
async def report_json(request: web.Request) -> web.StreamResponse:
    """``GET /api/v1/report?from=&to=&agency=``: what ``pakn report --format json`` prints."""
    monitor = monitor_of(request)
    query = {
        "tu": request.query.get("from", ""),
        "den": request.query.get("to", ""),
        "co-quan": request.query.get("agency", ""),
    }
    try:
        asked = parse_asked(
            query,
            today=local_date(monitor.clock()),
            scope=scope_of(staff_of(request)),
            agencies={agency.code for agency in monitor.agencies},
        )
    except BadQuery as exc:
        return json_response({"errors": [{"code": "invalid", "message": str(exc)}]}, status=400)
    report = await report_for(
        monitor.store, asked.period, now=monitor.clock(), max_age=MAX_AGE, scope=asked.scope
    )
    return json_response(report.as_json())


def mount_reports(app: web.Application) -> None:
    """The report's routes on the router (after mount_monitor: they use its context)."""
    aiohttp_jinja2.setup(
        app,
        app_key=JINJA,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
    )
    app.router.add_get("/bao-cao", report_page)
    app.router.add_get("/bao-cao/tong-hop.{kind:csv|xlsx}", summary_download)
    app.router.add_get("/bao-cao/ho-so.{kind:csv|xlsx}", cases_download)
    app.router.add_get("/api/v1/report", report_json)
    app.router.add_static("/bao-cao/static/", HERE / "static")
    loops.run_in_app(
        app,
        "router.kept_reports",
        lambda: keep_counting(app[MONITOR].store, app[MONITOR].clock),
    )
