"""`POST /api/v1/calls`: the phone system's call records and transcripts become drafts."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from pydantic import ValidationError
from pymongo.errors import PyMongoError

from pakn import http
from pakn.auth.web import csrf_exempt, public
from pakn_hotline import metrics
from pakn_hotline.bearer import bearer_matches
from pakn_hotline.calls import CallRecord
from pakn_hotline.context import API_KEY, PLACES, services
from pakn_hotline.drafts import CallChanged
from pakn_hotline.prefill import prefill

log = logging.getLogger(__name__)

CALLS_API = "/api/v1/calls"
RETRY_AFTER = "5"


def validation_errors(exc: ValidationError) -> list[dict[str, str]]:
    """Pydantic's findings as the API's ``errors`` (field, code, message)."""
    return [
        {
            "field": ".".join(str(part) for part in error["loc"]) or "(body)",
            "code": str(error["type"]),
            "message": str(error["msg"]),
        }
        for error in exc.errors()
    ]


def _error(status: int, error: str, message: str, **extra: Any) -> web.Response:
    headers = {"Cache-Control": "no-store"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="pakn-hotline"'
    if status == 503:
        headers["Retry-After"] = RETRY_AFTER
    return http.json_error(status, error, message, headers=headers, **extra)


@public  # not a staff route: the phone system proves itself with the Bearer key
@csrf_exempt
async def post_call(request: web.Request) -> web.Response:
    if not bearer_matches(request.headers.get("Authorization"), request.config_dict[API_KEY]):
        return _error(401, "unauthorized", "Authorization: Bearer <PAKN_HOTLINE_API_KEY> needed")
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(400, "invalid_json", "the body is not JSON")
    if not isinstance(body, dict):
        return _error(400, "invalid_body", "the body must be a JSON object")
    try:
        record = CallRecord.model_validate(body)
    except ValidationError as exc:
        return _error(
            422,
            "invalid_call",
            "the call record is incomplete or wrong",
            errors=validation_errors(exc),
        )
    now = datetime.now(UTC)
    filled = prefill(record, request.config_dict[PLACES])
    try:
        call, created = await services(request).drafts.record_from_telephony(
            record, prefill=filled, now=now
        )
    except (PyMongoError, CallChanged) as exc:
        log.warning("call %s not recorded: %s", record.call_id, type(exc).__name__)
        return _error(503, "unavailable", "the store cannot take the call now; retry")
    metrics.TELEPHONY_DRAFTS.labels("created" if created else "updated").inc()
    if created:
        metrics.CALLS.labels("telephony").inc()
    log.info("call %s %s from the phone system", call.call_id, "drafted" if created else "updated")
    return http.json_response(
        {
            "draft_id": call.call_id,
            "status": "created" if created else "updated",
            "reports": [
                {"n": r.n, "state": r.state, "tracking_code": r.code_for_caller}
                for r in call.reports
            ],
            "console_url": f"/cuoc-goi/{call.call_id}/1",
        },
        status=201 if created else 200,
    )


def add_routes(app: web.Application) -> None:
    app.router.add_post(CALLS_API, post_call)
