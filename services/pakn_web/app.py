"""`pakn web`: the factory, the wiring, and the handlers of the citizen's front door."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from pakn import http
from pakn.bus import Bus, BusError
from pakn.ids import (
    InvalidTrackingCode,
    body_sha256,
    format_tracking_code,
    parse_tracking_code,
    submission_id,
)
from pakn.intake import IdempotencyConflict, lookup_reservation, mark_published, reserve
from pakn.logs import configure_logging
from pakn.schema import Attachment, Channel, Consent, Location, Submission, Submitter
from pakn.store import Store, connect_store
from pakn.territory import ProvinceConfig
from pakn.territory import load as load_province
from pakn.worktime import local_text
from pakn_web import kept as kept_files
from pakn_web import messages, metrics, open311
from pakn_web.intake import MAX_BODY_BYTES, BadRequest, BodyTooLarge, read_submission
from pakn_web.intake import combined_limit_errors as kept_limit_errors
from pakn_web.kept import KeptFile
from pakn_web.public import AgencyNames, public_view, reserved_view
from pakn_web.ratelimit import RateLimiter
from pakn_web.settings import WebSettings
from pakn_web.uploads import MAX_FILE_BYTES, MAX_FILES, Upload
from pakn_web.validation import FieldError, ValidInput, validate_input

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", WebSettings)
STORE = web.AppKey("store", Store)
BUS = web.AppKey("bus", Bus)
SUBMIT_LIMITER = web.AppKey("submit_limiter", RateLimiter)
LOOKUP_LIMITER = web.AppKey("lookup_limiter", RateLimiter)
AGENCY_NAMES: web.AppKey[AgencyNames] = web.AppKey("agency_names")
PROVINCE = web.AppKey("province", ProvinceConfig)
#: The 65 communes and wards for the form's list, grouped by the pre-2025 area people know.
COMMUNES: web.AppKey[list[tuple[str, list[str]]]] = web.AppKey("communes")

HERE = Path(__file__).parent


class Unavailable(Exception):
    """The broker (or store) could not confirm in time: answered 503 with Retry-After."""


# --- the submission pipeline ------------------------------------------------------------


def _channel(request: web.Request) -> Channel:
    return Channel.APP if request.headers.get("X-Client", "").startswith("app/") else Channel.WEB


def _wants_html(request: web.Request) -> bool:
    """A browser's form post (Accept prefers text/html) gets pages; API clients get JSON."""
    accept = request.headers.get("Accept", "")
    html, json_ = accept.find("text/html"), accept.find("application/json")
    return html >= 0 and (json_ < 0 or html < json_)


def _body_hash(valid: ValidInput, uploads: list[Upload]) -> str:
    body: dict[str, Any] = asdict(valid)
    body["occurred_at"] = valid.occurred_at.isoformat() if valid.occurred_at else None
    body["attachments"] = sorted(upload.sha256 for upload in uploads)
    return body_sha256(body)


async def _store_uploads(
    store: Store, submission: str, uploads: list[Upload], *, retry: bool
) -> list[Attachment]:
    """Put the files in GridFS once: a retry reuses what a first attempt already stored."""
    stored: dict[str, str] = {}
    if retry and uploads:
        stored = {
            doc["metadata"]["sha256"]: str(doc["_id"])
            async for doc in store.db["attachments.files"].find(
                {"metadata.submission_id": submission}, {"metadata.sha256": 1}
            )
        }
    attachments: list[Attachment] = []
    for upload in uploads:
        ref = stored.get(upload.sha256) or await store.put_attachment(
            upload.data,
            filename=upload.filename,
            content_type=upload.content_type,
            metadata={"submission_id": submission, "sha256": upload.sha256},
        )
        metrics.UPLOAD_BYTES.labels(upload.content_type).observe(upload.size)
        attachments.append(
            Attachment(
                filename=upload.filename,
                content_type=upload.content_type,
                size=upload.size,
                sha256=upload.sha256,
                ref=ref,
                lat=upload.lat,
                lon=upload.lon,
            )
        )
    return attachments


def _location(valid: ValidInput, uploads: list[Upload]) -> Location:
    lat, lon = valid.lat, valid.lon
    if lat is None or lon is None:
        # The first photo with GPS tells routing where it was taken when the form did not.
        located = next((u for u in uploads if u.lat is not None and u.lon is not None), None)
        if located is not None:
            lat, lon = located.lat, located.lon
    return Location(address=valid.address, commune=valid.commune, lat=lat, lon=lon)


async def accept_submission(
    app: web.Application,
    *,
    channel: Channel,
    valid: ValidInput,
    uploads: list[Upload],
    idempotency_key: str | None,
) -> tuple[str, bool]:
    """Reserve the code, keep the files, publish with confirm: (tracking code, replayed)."""
    settings, store, bus = app[SETTINGS], app[STORE], app[BUS]
    # Keys are random per form or per app attempt; scoping them by client address would turn
    # a retry from another network (Wi-Fi → 4G) into a second report.
    key = idempotency_key or secrets.token_hex(16)
    sid = submission_id(channel.value, "public", key)
    now = datetime.now(UTC)
    reservation = await reserve(
        store,
        submission_id=sid,
        channel=channel.value,
        body_sha256=_body_hash(valid, uploads),
        received_at=now,
    )
    try:
        attachments = await _store_uploads(store, sid, uploads, retry=not reservation.created)
    except Exception as exc:
        raise Unavailable("attachment store") from exc
    submission = Submission(
        submission_id=sid,
        tracking_code=reservation.tracking_code,
        channel=channel,
        channel_ref=key,
        received_at=reservation.received_at,
        submitter=Submitter(
            name=valid.name,
            phone=valid.phone,
            email=valid.email,
            address=valid.contact_address,
            organization=valid.organization,
        ),
        notify_via=valid.notify_via,
        consent=Consent(version=valid.consent_version, at=reservation.received_at),
        title=valid.title,
        content=valid.content,
        occurred_at=valid.occurred_at,
        location=_location(valid, uploads),
        attachments=attachments,
        confidential=valid.confidential,
        in_reply_to=valid.in_reply_to,
    )
    started = time.perf_counter()
    try:
        await bus.publish_submission(submission, timeout=settings.confirm_timeout)
    except BusError as exc:
        log.warning("publish of %s not confirmed: %s", sid, exc)
        raise Unavailable("broker") from exc
    metrics.CONFIRM_SECONDS.observe(time.perf_counter() - started)
    await mark_published(store, sid)
    log.info("accepted %s as %s (%s)", sid, reservation.tracking_code, channel.value)
    return reservation.tracking_code, not reservation.created


def _client_limit(request: web.Request, limiter: RateLimiter, route: str) -> None:
    wait = limiter.check(http.client_address(request))
    if wait is not None:
        metrics.RATE_LIMITED.labels(route).inc()
        text = messages.RATE_LIMITED.format(seconds=wait)
        if route == "submit":
            metrics.SUBMISSIONS.labels(_channel(request).value, "rate_limited").inc()
        raise web.HTTPTooManyRequests(
            text=_json_text({"error": "rate_limited", "message": text}),
            content_type="application/json",
            headers={"Retry-After": str(wait)},
        )


def _json_text(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False)


# --- handlers ---------------------------------------------------------------------------


async def post_submission(request: web.Request) -> web.StreamResponse:
    app = request.app
    channel = _channel(request)
    html = _wants_html(request)
    _client_limit(request, app[SUBMIT_LIMITER], "submit")
    try:
        read = await read_submission(request)
    except BodyTooLarge:
        metrics.SUBMISSIONS.labels(channel.value, "too_large").inc()
        text = messages.BODY_TOO_LARGE.format(maximum_mb=MAX_BODY_BYTES // 2**20)
        raise web.HTTPRequestEntityTooLarge(
            max_size=MAX_BODY_BYTES,
            actual_size=request.content_length or MAX_BODY_BYTES + 1,
            text=_json_text({"error": "too_large", "message": text}),
            content_type="application/json",
        ) from None
    except BadRequest as exc:
        metrics.SUBMISSIONS.labels(channel.value, "bad_request").inc()
        return web.json_response(
            {"error": "bad_request", "message": messages.BAD_REQUEST, "detail": str(exc)},
            status=400,
        )

    now = datetime.now(UTC)
    kept = await kept_files.load(app[STORE], read.kept_tokens, now)
    uploads = [file.upload for file in kept] + read.uploads
    result = validate_input(read.fields, now=now)
    errors: list[FieldError] = list(read.errors)
    errors += kept_limit_errors(read, [file.upload for file in kept])
    if isinstance(result, list):
        errors = result + errors
    if errors:
        for error in errors:
            metrics.VALIDATION_FAILURES.labels(error.code).inc()
        metrics.SUBMISSIONS.labels(channel.value, "invalid").inc()
        if html:
            held = kept + await kept_files.keep(app[STORE], read.uploads, now)
            return await _render_form(
                request, read.fields, errors, read.idempotency_key, 422, kept=held
            )
        return web.json_response(
            {"errors": [error.as_json() for error in errors]}, status=422, dumps=_json_text
        )
    assert not isinstance(result, list)

    try:
        code, replayed = await accept_submission(
            app,
            channel=channel,
            valid=result,
            uploads=uploads,
            idempotency_key=read.idempotency_key,
        )
    except IdempotencyConflict:
        metrics.SUBMISSIONS.labels(channel.value, "conflict").inc()
        return web.json_response(
            {"error": "idempotency_conflict", "message": messages.CONFLICT},
            status=409,
            dumps=_json_text,
        )
    except Unavailable:
        metrics.SUBMISSIONS.labels(channel.value, "unavailable").inc()
        retry_after = str(app[SETTINGS].retry_after)
        if html:
            held = kept + await kept_files.keep(app[STORE], read.uploads, now)
            response = await _render_form(
                request,
                read.fields,
                [],
                read.idempotency_key,
                503,
                notice=messages.BROKER_UNAVAILABLE,
                kept=held,
            )
            response.headers["Retry-After"] = retry_after
            return response
        return web.json_response(
            {"error": "unavailable", "message": messages.BROKER_UNAVAILABLE},
            status=503,
            headers={"Retry-After": retry_after},
            dumps=_json_text,
        )
    metrics.SUBMISSIONS.labels(channel.value, "replayed" if replayed else "accepted").inc()
    await kept_files.release(app[STORE], kept)
    if html:
        raise web.HTTPSeeOther(f"/da-gui/{code}")
    return web.json_response(
        {
            "tracking_code": code,
            "tracking_code_display": format_tracking_code(code),
            "status": "received",
            "status_url": f"{app[SETTINGS].public_url.rstrip('/')}/api/v1/cases/{code}",
        },
        status=202,
    )


async def find_public_case(app: web.Application, code: str) -> dict[str, Any] | None:
    store, names = app[STORE], app[AGENCY_NAMES]
    case = await store.cases.find_one({"tracking_code": code})
    if case is not None:
        return public_view(case, names)
    reservation = await lookup_reservation(store, code)
    if reservation is None:
        return None
    # A follow-up has its own code but lives on the case it added to: show that case.
    parent = await store.cases.find_one({"followups.submission_id": reservation.submission_id})
    if parent is not None:
        return {**public_view(parent, names), "added_to": parent["tracking_code"]}
    return reserved_view(code, reservation.received_at)


async def get_case(request: web.Request) -> web.Response:
    _client_limit(request, request.app[LOOKUP_LIMITER], "lookup")
    try:
        code = parse_tracking_code(request.match_info["tracking_code"])
    except InvalidTrackingCode as exc:
        return web.json_response(
            {
                "error": "invalid_tracking_code",
                "reason": exc.reason,
                "message": messages.message_for("invalid_tracking_code", None),
            },
            status=400,
            dumps=_json_text,
        )
    view = await find_public_case(request.app, code)
    if view is None:
        return web.json_response(
            {"error": "not_found", "message": messages.CASE_NOT_FOUND}, status=404, dumps=_json_text
        )
    return web.json_response(view, dumps=_json_text)


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
    context = _form_context(fields, errors, idempotency_key)
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
    context = {
        "code": code,
        "code_display": format_tracking_code(code),
        "received": messages.RECEIVED,
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
    }
    status = 200
    if raw:
        _client_limit(request, request.app[LOOKUP_LIMITER], "lookup")
        try:
            code = parse_tracking_code(raw)
        except InvalidTrackingCode:
            context["error"] = messages.message_for("invalid_tracking_code", None)
            status = 400
        else:
            context["case"] = await find_public_case(request.app, code)
            if context["case"] is None:
                context["error"] = messages.CASE_NOT_FOUND
                status = 404
    return aiohttp_jinja2.render_template("tracking.html", request, context, status=status)


# --- Open311 GeoReport v2 --------------------------------------------------------------


async def open311_services(request: web.Request) -> web.Response:
    return web.json_response(open311.services(request.app[PROVINCE]), dumps=_json_text)


async def open311_definition(request: web.Request) -> web.Response:
    found = open311.definition(request.app[PROVINCE], request.match_info["service_code"])
    if found is None:
        return open311.error(404, "service_code not found")
    return web.json_response(found, dumps=_json_text)


async def open311_post(request: web.Request) -> web.Response:
    app = request.app
    _client_limit(request, app[SUBMIT_LIMITER], "submit")
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    code = form.get("service_code", "")
    if open311.definition(app[PROVINCE], code) is None:
        return open311.error(400, "service_code not found")
    now = datetime.now(UTC)
    result = validate_input(open311.to_submission_fields(form, now), now=now)
    if isinstance(result, list):
        for error in result:
            metrics.VALIDATION_FAILURES.labels(error.code).inc()
        metrics.SUBMISSIONS.labels(Channel.WEB.value, "invalid").inc()
        return open311.error(400, " ".join(f"{e.field}: {e.message}" for e in result))
    try:
        tracking_code, replayed = await accept_submission(
            app,
            channel=Channel.WEB,
            valid=result,
            uploads=[],
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
    except IdempotencyConflict:
        metrics.SUBMISSIONS.labels(Channel.WEB.value, "conflict").inc()
        return open311.error(409, messages.CONFLICT)
    except Unavailable:
        metrics.SUBMISSIONS.labels(Channel.WEB.value, "unavailable").inc()
        response = open311.error(503, messages.BROKER_UNAVAILABLE)
        response.headers["Retry-After"] = str(app[SETTINGS].retry_after)
        return response
    metrics.SUBMISSIONS.labels(Channel.WEB.value, "replayed" if replayed else "accepted").inc()
    body = [{"service_request_id": tracking_code, "service_notice": messages.RECEIVED}]
    return web.json_response(body, dumps=_json_text)


async def _open311_found(request: web.Request, codes: list[str]) -> list[dict[str, Any]]:
    store, names = request.app[STORE], request.app[AGENCY_NAMES]
    found = {
        case["tracking_code"]: open311.request_view(case, names)
        async for case in store.cases.find({"tracking_code": {"$in": codes}})
    }
    return [found[code] for code in codes if code in found]


async def open311_request(request: web.Request) -> web.Response:
    _client_limit(request, request.app[LOOKUP_LIMITER], "lookup")
    codes = open311.parse_ids(request.match_info["service_request_id"])
    if not codes:
        return open311.error(400, "service_request_id is not a valid tracking code")
    found = await _open311_found(request, codes)
    if not found:
        return open311.error(404, "service_request_id not found")
    return web.json_response(found, dumps=_json_text)


async def open311_requests(request: web.Request) -> web.Response:
    _client_limit(request, request.app[LOOKUP_LIMITER], "lookup")
    codes = open311.parse_ids(request.query.get("service_request_id", ""))
    if not codes:
        return open311.error(400, "service_request_id is required (lists are not public)")
    return web.json_response(await _open311_found(request, codes[:50]), dumps=_json_text)


# --- wiring -----------------------------------------------------------------------------


async def _connections(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    store = await connect_store(settings)
    bus = Bus(settings.amqp_url.get_secret_value())
    try:
        await bus.start()
    except BaseException:
        await store.close()
        raise
    app[STORE], app[BUS] = store, bus
    app[http.HEALTH_CHECKS].extend([("store", store.health), ("broker", bus.health)])
    purger = asyncio.create_task(_purge_kept_files(store), name="purge-kept-files")
    yield
    purger.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await purger
    await bus.close()
    await store.close()


async def _purge_kept_files(store: Store) -> None:
    """Hourly: delete photos held for forms that were never sent again."""
    while True:
        try:
            purged = await kept_files.purge_expired(store, datetime.now(UTC))
            if purged:
                log.info("deleted %d photo(s) held for abandoned forms", purged)
        except Exception:  # the store may be away; the next round tries again
            log.warning("could not purge held photos", exc_info=True)
        await asyncio.sleep(3600)


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
    app.cleanup_ctx.append(_connections)
    app.router.add_post("/api/v1/submissions", post_submission)
    app.router.add_get("/api/v1/cases/{tracking_code}", get_case)
    app.router.add_get("/", form_page)
    app.router.add_get("/da-gui/{tracking_code}", sent_page)
    app.router.add_get("/tra-cuu", tracking_page)
    # Late import: the answers' handlers use this module's keys and helpers.
    from pakn_web import answers

    answers.add_routes(app)
    app.router.add_get("/open311/v2/services.json", open311_services)
    app.router.add_get("/open311/v2/services/{service_code}.json", open311_definition)
    app.router.add_post("/open311/v2/requests.json", open311_post)
    app.router.add_get("/open311/v2/requests.json", open311_requests)
    app.router.add_get("/open311/v2/requests/{service_request_id}.json", open311_request)
    app.router.add_static("/static", HERE / "static")
    return app


def main() -> None:
    settings = WebSettings()
    configure_logging("web", settings.log_level)
    http.run_app(lambda: init_app(settings), settings.host, settings.web_port)
