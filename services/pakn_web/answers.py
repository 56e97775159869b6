"""The public side of an answered case: /ket-qua (search, filters, pages), the public copies
of photos, and the citizen's feedback (``POST /api/v1/cases/{code}/feedback``), which reaches
the router as a follow-up of the case on ``pakn.intake`` (the router writes, not us)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from pakn import http
from pakn.bus import BusError
from pakn.connections import BUS, STORE
from pakn.ids import InvalidTrackingCode, body_sha256, parse_tracking_code, submission_id
from pakn.intake.messages import message_for
from pakn.intake.reservations import IdempotencyConflict, reserve
from pakn.public import public_view
from pakn.schema import FIELD_NAMES, Channel, FeedbackInput, Submission, Submitter
from pakn.store import AttachmentNotFound
from pakn_web import messages
from pakn_web.app import AGENCY_NAMES, LOOKUP_LIMITER, PROVINCE, SETTINGS, _client_limit
from pakn_web.feedback import (
    FeedbackError,
    contact_matches,
    parse_feedback,
    would_reopen,
)
from pakn_web.results import BadFilter, Filters, page_count, parse_filters

log = logging.getLogger(__name__)


def _json(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(
        body, status=status, dumps=lambda value: json.dumps(value, ensure_ascii=False)
    )


# --- /ket-qua -------------------------------------------------------------------------------


async def results_page(request: web.Request) -> web.Response:
    """Published results, newest first: words (accents optional), field, agency, commune,
    period, 20 a page. Searches the public copy only."""
    app = request.app
    error = None
    try:
        filters = parse_filters(request.query)
    except BadFilter:
        filters, error = Filters(), messages.RESULTS_BAD_DATE
    query = filters.query()
    store = app[STORE]
    total = await store.cases.count_documents(query)
    cursor = store.cases.find(query).sort("result.published_at", -1).skip(filters.skip).limit(20)
    cases = [public_view(case, app[AGENCY_NAMES]) async for case in cursor]
    province = app[PROVINCE]
    pages = page_count(total)
    context = {
        "cases": cases,
        "labels": messages.STATUS_LABELS,
        "filters": filters,
        "error": error,
        "total": total,
        "page": filters.page,
        "pages": pages,
        "previous": filters.link(filters.page - 1) if filters.page > 1 else None,
        "next": filters.link(filters.page + 1) if filters.page < pages else None,
        "fields": sorted(FIELD_NAMES.items(), key=lambda item: item[1]),
        "agencies": sorted(
            ((a.code, a.name) for a in province.agencies if a.kind != "reception"),
            key=lambda item: item[1],
        ),
        "communes": sorted(((c.code, c.name) for c in province.localities), key=lambda c: c[1]),
    }
    return aiohttp_jinja2.render_template(
        "results.html", request, context, status=400 if error else 200
    )


# --- public photos --------------------------------------------------------------------------


async def public_photo(request: web.Request) -> web.StreamResponse:
    """A photo of a published case, as copied without EXIF on approval (never the original)."""
    try:
        code = parse_tracking_code(request.match_info["tracking_code"])
    except InvalidTrackingCode:
        raise web.HTTPNotFound() from None
    ref = request.match_info["ref"]
    case = await request.app[STORE].cases.find_one(
        {"tracking_code": code, "public_attachments.ref": ref}, {"_id": 0}
    )
    # Served only while the public view shows it: published, neither confidential nor secret.
    shown = public_view(case, request.app[AGENCY_NAMES])["photos"] if case is not None else []
    if not any(photo["url"].endswith(f"/{ref}") for photo in shown):
        raise web.HTTPNotFound()
    try:
        data, info = await request.app[STORE].open_attachment(ref)
    except AttachmentNotFound:
        raise web.HTTPNotFound() from None
    return web.Response(
        body=data,
        content_type=str(info.get("content_type") or "application/octet-stream"),
        headers={
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "public, max-age=3600",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


# --- the citizen's feedback -----------------------------------------------------------------


async def _feedback_body(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise FeedbackError(400, "bad_request", None, messages.FEEDBACK_SOLVED_REQUIRED)
        return body
    form = await request.post()
    return {k: v for k, v in form.items() if isinstance(v, str)}


async def submit_feedback(request: web.Request) -> web.StreamResponse:
    """``{"contact", "rating" (1–5), "solved", "comment"?}`` → 202 ``{"status": "received",
    "reopens"}``: published as a follow-up of the case, with confirms, before answering."""
    app = request.app
    _client_limit(request, app[LOOKUP_LIMITER], "lookup")
    html = http.wants_html(request)
    try:
        code = parse_tracking_code(request.match_info["tracking_code"])
    except InvalidTrackingCode:
        return _json(
            {
                "error": "invalid_tracking_code",
                "message": message_for("invalid_tracking_code", None),
            },
            400,
        )
    now = datetime.now(UTC)
    settings = app[SETTINGS]
    window = timedelta(days=settings.reopen_days)
    try:
        raw = await _feedback_body(request)
        wanted = parse_feedback(raw)
        case = await app[STORE].cases.find_one({"tracking_code": code})
        if case is None:
            raise FeedbackError(404, "not_found", None, messages.CASE_NOT_FOUND)
        # The same answer for a wrong contact as for any other: nobody learns whose case it is.
        if not contact_matches(wanted.contact, case.get("submitter") or {}):
            raise FeedbackError(
                403, "contact_mismatch", "contact", messages.FEEDBACK_CONTACT_MISMATCH
            )
        if case.get("status") not in ("published", "resolved"):
            raise FeedbackError(409, "not_answered", None, messages.FEEDBACK_NOT_OPEN)
    except FeedbackError as exc:
        if html:
            return await _tracking_with(request, code, error=exc.message, status=exc.status)
        return _json(exc.as_json(), exc.status)
    reopens = would_reopen(case, wanted.solved, now, window)
    key = str(raw.get("idempotency_key") or request.headers.get("Idempotency-Key") or "")
    body = {
        "code": code,
        "rating": wanted.rating,
        "solved": wanted.solved,
        "comment": wanted.comment,
    }
    key = key[:100] or body_sha256({**body, "day": now.date().isoformat()})
    sid = submission_id(Channel.WEB.value, "feedback", f"{code}:{key}")
    try:
        reservation = await reserve(
            app[STORE],
            submission_id=sid,
            channel=Channel.WEB.value,
            body_sha256=body_sha256(body),
            received_at=now,
        )
    except IdempotencyConflict:
        return _json({"error": "idempotency_conflict", "message": messages.FEEDBACK_NOT_OPEN}, 409)
    submitter = case.get("submitter") or {}
    submission = Submission(
        submission_id=sid,
        tracking_code=reservation.tracking_code,
        channel=Channel.WEB,
        channel_ref=f"feedback:{code}:{key}",
        received_at=reservation.received_at,
        # The contact the citizen proved, so the follow-up is theirs like the report.
        submitter=Submitter(phone=submitter.get("phone"), email=submitter.get("email")),
        content=wanted.comment or messages.FEEDBACK_DEFAULT_COMMENT,
        in_reply_to=code,
        feedback=FeedbackInput(rating=wanted.rating, solved=wanted.solved),
    )
    try:
        await app[BUS].publish_submission(submission, timeout=settings.confirm_timeout)
    except BusError as exc:
        log.warning("feedback %s on %s not confirmed: %s", sid, code, exc)
        return web.json_response(
            {"error": "unavailable", "message": messages.BROKER_UNAVAILABLE},
            status=503,
            headers={"Retry-After": str(settings.retry_after)},
        )
    log.info("feedback %s on %s (reopens: %s)", sid, code, reopens)
    if wanted.solved:
        notice = messages.FEEDBACK_THANKS
    elif reopens:
        notice = messages.FEEDBACK_REOPENS
    else:
        notice = messages.FEEDBACK_TOO_LATE.format(days=settings.reopen_days)
    if html:
        raise web.HTTPSeeOther(f"/tra-cuu?ma={code}&danh-gia={'mo-lai' if reopens else 'xong'}")
    return _json({"status": "received", "reopens": reopens, "message": notice}, 202)


async def _tracking_with(
    request: web.Request, code: str, *, error: str, status: int
) -> web.Response:
    from pakn_web.app import find_public_case

    context = {
        "query": code,
        "case": await find_public_case(request.app, code),
        "error": None,
        "feedback_error": error,
        "feedback_done": None,
        "labels": messages.STATUS_LABELS,
    }
    return aiohttp_jinja2.render_template("tracking.html", request, context, status=status)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/ket-qua", results_page)
    app.router.add_get("/anh/{tracking_code}/{ref}", public_photo)
    app.router.add_post("/api/v1/cases/{tracking_code}/feedback", submit_feedback)
