"""`pakn web`: the factory, the wiring, and the handlers of the citizen's front door."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from pymongo.errors import PyMongoError

from pakn import connections, http, loops, public
from pakn.connections import STORE
from pakn.ids import InvalidTrackingCode, format_tracking_code, parse_tracking_code
from pakn.intake import metrics as intake_metrics
from pakn.intake.messages import message_for
from pakn.intake.path import Accepted, IntakePath, IntakeUnavailable, SubmissionRejected
from pakn.intake.reservations import IdempotencyConflict, Reservations
from pakn.intake.uploads import MAX_FILE_BYTES, MAX_FILES, Upload, combined_limit_errors
from pakn.intake.validation import FieldError, Report, displayable, validate_report
from pakn.logs import configure_logging
from pakn.public import AgencyNames
from pakn.ratelimit import RateLimiter
from pakn.schema import Channel
from pakn.territory import ProvinceConfig
from pakn.territory import load as load_province
from pakn.worktime import local_text
from pakn_web import kept as kept_files
from pakn_web import messages, metrics, open311
from pakn_web.body import (
    MAX_BODY_BYTES,
    BadRequest,
    BodyTooLarge,
    InvalidIdempotencyKey,
    checked_idempotency_key,
    read_form,
    read_submission,
)
from pakn_web.kept import KeptFile
from pakn_web.scoreboard import add_scoreboard
from pakn_web.settings import WebSettings

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", WebSettings)
SUBMIT_LIMITER = web.AppKey("submit_limiter", RateLimiter)
LOOKUP_LIMITER = web.AppKey("lookup_limiter", RateLimiter)
AGENCY_NAMES: web.AppKey[AgencyNames] = web.AppKey("agency_names")
PROVINCE = web.AppKey("province", ProvinceConfig)
#: The 65 communes and wards for the form's list, grouped by the pre-2025 area people know.
COMMUNES: web.AppKey[list[tuple[str, list[str]]]] = web.AppKey("communes")
RESERVATIONS = web.AppKey("reservations", Reservations)
#: Web and app clients' keys are random per form or per app attempt; scoping them by client
#: address would turn a retry from another network (Wi-Fi → 4G) into a second report.
CLIENT = "public"

HERE = Path(__file__).parent


# --- the submission pipeline ------------------------------------------------------------


def _channel(request: web.Request) -> Channel:
    return Channel.APP if request.headers.get("X-Client", "").startswith("app/") else Channel.WEB


def _intake(app: web.Application) -> IntakePath:
    settings = app[SETTINGS]
    return IntakePath(
        app[STORE],
        app[connections.BUS],
        confirm_timeout=settings.confirm_timeout,
        retry_after=settings.retry_after,
        store_timeout=settings.store_timeout,
        reservations=app[RESERVATIONS],
    )


async def accept_report(
    app: web.Application,
    *,
    channel: Channel,
    report: Report,
    uploads: Sequence[Upload],
    idempotency_key: str | None,
) -> Accepted:
    """The web's call into the core intake path (the client is the public, the reference the
    form's or app's Idempotency-Key, the moment now)."""
    return await _intake(app).accept(
        channel=channel,
        client=CLIENT,
        channel_ref=idempotency_key or secrets.token_hex(16),
        received_at=datetime.now(UTC),
        report=report,
        uploads=uploads,
    )


def wait_text(seconds: int) -> str:
    """How long to wait, as people say it: "45 giây", "khoảng 2 phút"."""
    if seconds < 90:
        return messages.WAIT_SECONDS.format(n=seconds)
    return messages.WAIT_MINUTES.format(n=round(seconds / 60))


def _client_limit(request: web.Request, limiter: RateLimiter, route: str) -> None:
    wait = limiter.check(http.client_address(request))
    if wait is not None:
        metrics.RATE_LIMITED.labels(route).inc()
        text = messages.RATE_LIMITED.format(seconds=wait)
        if route == "submit":
            intake_metrics.count_refused(_channel(request).value, "rate_limited")
        if http.wants_html(request):
            # A browser gets a page that says how long to wait, not the API's JSON.
            page = aiohttp_jinja2.render_string(
                "rate_limited.html",
                request,
                {
                    "title": messages.RATE_LIMITED_TITLE,
                    "text": messages.RATE_LIMITED_PAGE.format(wait=wait_text(wait)),
                    "wait": wait,
                    "back": request.path if request.method == "GET" else "/",
                },
            )
            raise web.HTTPTooManyRequests(
                text=page, content_type="text/html", headers={"Retry-After": str(wait)}
            )
        raise web.HTTPTooManyRequests(
            text=http.json_text({"error": "rate_limited", "message": text}),
            content_type="application/json",
            headers={"Retry-After": str(wait)},
        )


async def _hold_for_retry(
    app: web.Application, uploads: list[Upload], now: datetime
) -> list[KeptFile]:
    """Keep the photos for the form shown again with 503; with the store away too, the form
    comes back without them rather than as an error page."""
    try:
        return await kept_files.keep(app[STORE], uploads, now)
    except PyMongoError:
        log.warning("photos not held for the retry (store unavailable)")
        return []


async def _release_kept(app: web.Application, kept: list[KeptFile]) -> None:
    """After the confirm: held copies are dropped at best; the hourly purge gets what is left."""
    try:
        await kept_files.release(app[STORE], kept)
    except Exception:  # the report is accepted; a store hiccup now must not answer 500
        intake_metrics.AFTER_CONFIRM_FAILURES.labels("release_kept").inc()
        log.warning("held photos not released (the purge will)", exc_info=True)


# --- handlers ---------------------------------------------------------------------------


async def post_submission(request: web.Request) -> web.StreamResponse:
    app = request.app
    channel = _channel(request)
    html = http.wants_html(request)
    _client_limit(request, app[SUBMIT_LIMITER], "submit")
    try:
        read = await read_submission(request)
    except BodyTooLarge:
        intake_metrics.count_refused(channel.value, "too_large")
        text = messages.BODY_TOO_LARGE.format(maximum_mb=MAX_BODY_BYTES // 2**20)
        raise web.HTTPRequestEntityTooLarge(
            max_size=MAX_BODY_BYTES,
            actual_size=request.content_length or MAX_BODY_BYTES + 1,
            text=http.json_text({"error": "too_large", "message": text}),
            content_type="application/json",
        ) from None
    except InvalidIdempotencyKey:
        intake_metrics.count_refused(channel.value, "bad_request")
        return http.json_error(400, "invalid_idempotency_key", messages.IDEMPOTENCY_KEY_INVALID)
    except BadRequest as exc:
        intake_metrics.count_refused(channel.value, "bad_request")
        return http.json_error(400, "bad_request", messages.BAD_REQUEST, detail=str(exc))

    now = datetime.now(UTC)
    kept = await kept_files.load(app[STORE], read.kept_tokens, now)
    uploads = [file.upload for file in kept] + read.uploads
    result = validate_report(read.fields, now=now)
    errors: list[FieldError] = list(read.errors)
    errors += combined_limit_errors([file.upload for file in kept], read.files)
    if isinstance(result, list):
        errors = result + errors
    if errors:
        intake_metrics.count_refused(channel.value, "invalid", errors)
        if html:
            held = kept + await kept_files.keep(app[STORE], read.uploads, now)
            return await _render_form(
                request, read.fields, errors, read.idempotency_key, 422, kept=held
            )
        return http.json_response({"errors": [error.as_json() for error in errors]}, status=422)
    assert not isinstance(result, list)

    try:
        accepted = await accept_report(
            app,
            channel=channel,
            report=result,
            uploads=uploads,
            idempotency_key=read.idempotency_key,
        )
    except IdempotencyConflict:
        return http.json_error(409, "idempotency_conflict", messages.CONFLICT)
    except SubmissionRejected as exc:
        refused = [FieldError(f, "invalid", message_for("invalid", f)) for f in exc.fields]
        if html:
            return await _render_form(request, read.fields, refused, read.idempotency_key, 422)
        return http.json_response({"errors": [e.as_json() for e in refused]}, status=422)
    except IntakeUnavailable as exc:
        retry_after = {"Retry-After": str(exc.retry_after)}
        if html:
            held = kept + await _hold_for_retry(app, read.uploads, now)
            response = await _render_form(
                request,
                read.fields,
                [],
                read.idempotency_key,
                503,
                notice=messages.BROKER_UNAVAILABLE,
                kept=held,
            )
            response.headers.update(retry_after)
            return response
        return http.json_error(503, "unavailable", messages.BROKER_UNAVAILABLE, headers=retry_after)
    await _release_kept(app, kept)
    code = accepted.tracking_code
    if html:
        raise web.HTTPSeeOther(f"/da-gui/{code}")
    return http.json_response(
        {
            "tracking_code": code,
            "tracking_code_display": format_tracking_code(code),
            "status": "received",
            "status_url": f"{app[SETTINGS].public_url.rstrip('/')}/api/v1/cases/{code}",
        },
        status=202,
    )


def _with_visit(view: dict[str, Any], province: ProvinceConfig) -> dict[str, Any]:
    """A redirected case says where to go in person: address and hours from agencies.yaml,
    each marked when its source did not confirm it."""
    redirect = view.get("redirect")
    if not redirect or not redirect.get("to"):
        return view
    try:
        agency = province.agency(redirect["to"])
    except KeyError:
        return view
    visit = {
        name: {"text": fact.text, "verified": fact.verified}
        for name, fact in (("address", agency.address), ("hours", agency.hours))
        if fact is not None
    }
    if agency.phone:
        visit["phone"] = {"text": agency.phone, "verified": agency.verified}
    return {**view, "redirect": {**redirect, "visit": visit}}


async def find_public_case(app: web.Application, code: str) -> dict[str, Any] | None:
    view = await public.find_public_case(app[STORE], app[AGENCY_NAMES], code)
    return _with_visit(view, app[PROVINCE]) if view is not None else None


async def get_case(request: web.Request) -> web.Response:
    _client_limit(request, request.app[LOOKUP_LIMITER], "lookup")
    try:
        code = parse_tracking_code(request.match_info["tracking_code"])
    except InvalidTrackingCode as exc:
        return http.json_error(
            400,
            "invalid_tracking_code",
            message_for("invalid_tracking_code", None),
            reason=exc.reason,
        )
    view = await find_public_case(request.app, code)
    if view is None:
        return http.json_error(404, "not_found", messages.CASE_NOT_FOUND)
    return http.json_response(view)


# --- HTML pages -------------------------------------------------------------------------


def _localtime(value: str | datetime | None) -> str:
    if value is None:
        return ""
    return local_text(datetime.fromisoformat(value) if isinstance(value, str) else value)


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _form_context(
    fields: dict[str, Any], errors: list[FieldError], idempotency_key: str | None
) -> dict[str, Any]:
    by_field: dict[str, list[str]] = {}
    for error in errors:
        by_field.setdefault(error.field, []).append(error.message)
    location = _mapping(fields.get("location"))
    submitter = _mapping(fields.get("submitter"))
    values = {
        "title": fields.get("title") or "",
        "content": fields.get("content") or "",
        "occurred_at": fields.get("occurred_at") or "",
        "address": location.get("address") or "",
        "commune": location.get("commune") or "",
        "name": submitter.get("name") or "",
        "phone": submitter.get("phone") or "",
        "email": submitter.get("email") or "",
        "organization": submitter.get("organization") or "",
        "in_reply_to": fields.get("in_reply_to") or "",
        "lat": location.get("lat") or "",
        "lon": location.get("lon") or "",
        "confidential": fields.get("confidential") is True,
        "consent": fields.get("consent") is True,
    }
    return {
        "values": values,
        "errors": errors,
        "errors_by_field": by_field,
        "error_heading": messages.ERRORS_HEADING.format(count=len(errors)),
        "idempotency_key": idempotency_key or secrets.token_hex(16),
        "emergency": messages.EMERGENCY_NOTICE,
        "consent_text": messages.CONSENT_TEXT,
        "max_files": MAX_FILES,
        "max_file_mb": MAX_FILE_BYTES // 2**20,
        "locate_button": messages.LOCATE_BUTTON,
    }


async def _render_form(
    request: web.Request,
    fields: dict[str, Any],
    errors: list[FieldError],
    idempotency_key: str | None,
    status: int,
    *,
    notice: str | None = None,
    kept: Sequence[KeptFile] = (),
) -> web.Response:
    context = _form_context(displayable(fields), errors, idempotency_key)
    context["notice"] = notice
    context["communes"] = request.app[COMMUNES]
    context["kept_files"] = [
        {"token": file.token, "filename": file.filename, "kb": max(1, file.size // 1024)}
        for file in kept
    ]
    return aiohttp_jinja2.render_template("form.html", request, context, status=status)


async def form_page(request: web.Request) -> web.Response:
    return await _render_form(request, {}, [], None, 200)


async def sent_page(request: web.Request) -> web.Response:
    try:
        code = parse_tracking_code(request.match_info["tracking_code"])
    except InvalidTrackingCode:
        raise web.HTTPNotFound() from None
    # Usually routed by now (the router takes well under a second): then the citizen sees
    # who has it and by when; otherwise what happens next.
    case = await find_public_case(request.app, code)
    status = (case or {}).get("status") or "received"
    context = {
        "code": code,
        "code_display": format_tracking_code(code),
        "received": messages.RECEIVED,
        "case": case,
        "labels": messages.STATUS_LABELS,
        "next_step": messages.NEXT_STEPS.get(status),
        "how_told": messages.HOW_TOLD,
        "unverified": messages.UNVERIFIED,
    }
    return aiohttp_jinja2.render_template("sent.html", request, context)


async def tracking_page(request: web.Request) -> web.Response:
    raw = request.query.get("ma", "").strip()
    context: dict[str, Any] = {
        "query": raw,
        "case": None,
        "error": None,
        "feedback_error": None,
        "feedback_done": request.query.get("danh-gia"),
        "labels": messages.STATUS_LABELS,
        "next_steps": messages.NEXT_STEPS,
        "steps": messages.TIMELINE_LABELS,
        "how_told": messages.HOW_TOLD,
        "unverified": messages.UNVERIFIED,
    }
    status = 200
    if raw:
        _client_limit(request, request.app[LOOKUP_LIMITER], "lookup")
        try:
            code = parse_tracking_code(raw)
        except InvalidTrackingCode:
            context["error"] = message_for("invalid_tracking_code", None)
            status = 400
        else:
            context["case"] = await find_public_case(request.app, code)
            if context["case"] is None:
                context["error"] = messages.CASE_NOT_FOUND
                status = 404
    return aiohttp_jinja2.render_template("tracking.html", request, context, status=status)


# --- Open311 GeoReport v2 --------------------------------------------------------------


def _open311_format(request: web.Request) -> open311.Format:
    return "xml" if request.match_info.get("format") == "xml" else "json"


async def open311_services(request: web.Request) -> web.Response:
    fmt = _open311_format(request)
    return open311.respond(open311.services(request.app[PROVINCE]), fmt, root="services")


async def open311_definition(request: web.Request) -> web.Response:
    fmt = _open311_format(request)
    found = open311.definition(request.app[PROVINCE], request.match_info["service_code"])
    if found is None:
        return open311.error(404, messages.OPEN311_UNKNOWN_SERVICE, fmt)
    return open311.respond(found, fmt, root="service_definition")


async def open311_post(request: web.Request) -> web.Response:
    app = request.app
    fmt = _open311_format(request)
    _client_limit(request, app[SUBMIT_LIMITER], "submit")
    try:
        form = dict((await read_form(request)).items())
    except (BadRequest, BodyTooLarge):
        return open311.error(400, messages.OPEN311_UNREADABLE, fmt)
    try:
        key = checked_idempotency_key(request.headers.get("Idempotency-Key"))
    except InvalidIdempotencyKey:
        return open311.error(400, messages.IDEMPOTENCY_KEY_INVALID, fmt)
    code = form.get("service_code", "")
    if open311.definition(app[PROVINCE], code) is None:
        return open311.error(400, messages.OPEN311_UNKNOWN_SERVICE, fmt)
    now = datetime.now(UTC)
    result = validate_report(open311.to_submission_fields(form, now), now=now)
    if isinstance(result, list):
        intake_metrics.count_refused(Channel.WEB.value, "invalid", result)
        return open311.error(400, " ".join(f"{e.field}: {e.message}" for e in result), fmt)
    try:
        accepted = await accept_report(
            app,
            channel=Channel.WEB,
            report=result,
            uploads=[],
            idempotency_key=key,
        )
    except IdempotencyConflict:
        return open311.error(409, messages.CONFLICT, fmt)
    except SubmissionRejected as exc:
        return open311.error(400, f"{messages.BAD_REQUEST} ({', '.join(exc.fields)})", fmt)
    except IntakeUnavailable as exc:
        response = open311.error(503, messages.BROKER_UNAVAILABLE, fmt)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    body = [{"service_request_id": accepted.tracking_code, "service_notice": messages.RECEIVED}]
    return open311.respond(body, fmt, root="service_requests")


async def _open311_found(request: web.Request, codes: list[str]) -> list[dict[str, Any]]:
    store, names = request.app[STORE], request.app[AGENCY_NAMES]
    found = {
        case["tracking_code"]: open311.request_view(case, names)
        async for case in store.cases.find({"tracking_code": {"$in": codes}})
    }
    return [found[code] for code in codes if code in found]


async def open311_request(request: web.Request) -> web.Response:
    fmt = _open311_format(request)
    _client_limit(request, request.app[LOOKUP_LIMITER], "lookup")
    codes = open311.parse_ids(request.match_info["service_request_id"])
    if not codes:
        return open311.error(400, messages.OPEN311_INVALID_ID, fmt)
    found = await _open311_found(request, codes)
    if not found:
        return open311.error(404, messages.CASE_NOT_FOUND, fmt)
    return open311.respond(found, fmt, root="service_requests")


async def open311_requests(request: web.Request) -> web.Response:
    """By ids (which override every other filter, as the spec says), or a list query."""
    fmt = _open311_format(request)
    _client_limit(request, request.app[LOOKUP_LIMITER], "lookup")
    if request.query.get("service_request_id"):
        codes = open311.parse_ids(request.query["service_request_id"])
        if not codes:
            return open311.error(400, messages.OPEN311_INVALID_ID, fmt)
        found = await _open311_found(request, codes[: open311.MAX_RESULTS])
        return open311.respond(found, fmt, root="service_requests")
    try:
        query = open311.parse_list_query(request.query, datetime.now(UTC))
    except open311.BadQuery as exc:
        return open311.error(400, str(exc), fmt)
    names = request.app[AGENCY_NAMES]
    cursor = (
        request.app[STORE]
        .cases.find(open311.list_filter(query))
        .sort("received_at", -1)
        .limit(open311.MAX_RESULTS)
    )
    listed = [open311.request_view(case, names) async for case in cursor]
    return open311.respond(listed, fmt, root="service_requests")


FAVICON = (HERE / "static" / "favicon.svg").read_bytes()


async def favicon(request: web.Request) -> web.Response:
    """Browsers ask for /favicon.ico whatever the page says; an SVG answers them all."""
    return web.Response(
        body=FAVICON,
        content_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


# --- wiring -----------------------------------------------------------------------------


async def _reservations(app: web.Application) -> AsyncIterator[None]:
    """One per process: reports arriving together share their reservation's write."""
    app[RESERVATIONS] = Reservations(app[STORE], timeout=app[SETTINGS].store_timeout)
    yield


async def _purge_kept_files(app: web.Application) -> None:
    """Hourly: delete photos held for forms that were never sent again (supervised: a store
    away makes the round fail, and the supervisor tries again with backoff)."""
    while True:
        purged = await kept_files.purge_expired(app[STORE], datetime.now(UTC))
        if purged:
            log.info("deleted %d photo(s) held for abandoned forms", purged)
        await asyncio.sleep(app[SETTINGS].purge_interval)


def _communes(province: ProvinceConfig) -> list[tuple[str, list[str]]]:
    groups: dict[str, list[str]] = {}
    for locality in province.localities:
        groups.setdefault(locality.legacy_areas[0], []).append(locality.name)
    return [(area, sorted(names)) for area, names in sorted(groups.items())]


def _agency_names(province: ProvinceConfig) -> AgencyNames:
    names = {agency.code: agency.name for agency in province.agencies}
    return names.get


async def init_app(settings: WebSettings) -> web.Application:
    app = http.new_service_app(
        "web", trusted_proxies=settings.trusted_proxies, client_max_size=MAX_BODY_BYTES
    )
    app[SETTINGS] = settings
    app[PROVINCE] = load_province(settings.config_dir)
    app[AGENCY_NAMES] = _agency_names(app[PROVINCE])
    app[COMMUNES] = _communes(app[PROVINCE])
    app[SUBMIT_LIMITER] = RateLimiter(
        capacity=settings.submit_burst, per_minute=settings.submit_per_minute
    )
    app[LOOKUP_LIMITER] = RateLimiter(
        capacity=settings.lookup_burst, per_minute=settings.lookup_per_minute
    )
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True),
    )
    env.filters["localtime"] = _localtime
    connections.connect(app, settings, name="pakn-web")
    app.cleanup_ctx.append(_reservations)
    loops.run_in_app(app, "web.purge_kept_files", lambda: _purge_kept_files(app))
    app.router.add_post("/api/v1/submissions", post_submission)
    app.router.add_get("/api/v1/cases/{tracking_code}", get_case)
    app.router.add_get("/", form_page)
    app.router.add_get("/da-gui/{tracking_code}", sent_page)
    app.router.add_get("/tra-cuu", tracking_page)
    # Late import: the answers' handlers use this module's keys and helpers.
    from pakn_web import answers

    answers.add_routes(app)
    # GeoReport names the format in the path: services.json or services.xml.
    fmt = "{format:json|xml}"
    app.router.add_get(f"/open311/v2/services.{fmt}", open311_services)
    app.router.add_get(f"/open311/v2/services/{{service_code}}.{fmt}", open311_definition)
    app.router.add_post(f"/open311/v2/requests.{fmt}", open311_post)
    app.router.add_get(f"/open311/v2/requests.{fmt}", open311_requests)
    app.router.add_get(f"/open311/v2/requests/{{service_request_id}}.{fmt}", open311_request)
    app.router.add_get("/favicon.ico", favicon)
    add_scoreboard(app, store_key=STORE, agency_name=app[AGENCY_NAMES])
    app.router.add_static("/static", HERE / "static")
    return app


def main() -> None:
    settings = WebSettings()
    configure_logging("web", settings.log_level)
    http.run_app(
        lambda: init_app(settings), settings.host, settings.web_port, variable="PAKN_WEB_PORT"
    )
