"""The agency workspace's JSON API (DESIGN.md §5): the agency's queue and one endpoint per
action on a case. Every action is audited and publishes its ``case.<event>.<agency>``; a case
of another agency answers 404, exactly like a case that does not exist."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from aiohttp import web

from pakn.auth.users import AGENCY_ROLES, Role
from pakn.auth.web import require, staff_of
from pakn.intake.uploads import MAX_FILE_BYTES, MAX_FILES, check_upload
from pakn.schema import Attachment, Case, Status
from pakn_router.agency import messages as t
from pakn_router.agency import transitions as tr
from pakn_router.agency.views import queue_item, workspace_view
from pakn_router.agency.workspace import (
    Done,
    agency_has_leader,
    case_of,
    perform,
    publish_photos,
)
from pakn_router.monitor.common import audit_action, json_response, names_of, scope_of
from pakn_router.monitor.common import tracking_code_of as code_of
from pakn_router.monitor.context import monitor_of
from pakn_router.monitor.queries import Scope

API = "/api/v1"
AGENCY = tuple(sorted(AGENCY_ROLES))
OPERATORS = (Role.OPERATOR, Role.ADMIN)
#: The public copy may be corrected by an operator or by the agency itself.
EDITORS = (*OPERATORS, *AGENCY)
#: Open statuses an agency's queue shows by default (deadline first).
QUEUE_STATUSES = (Status.ASSIGNED, Status.IN_PROGRESS, Status.NEEDS_INFO)
QUEUE_LIMIT = 200

Body = Mapping[str, object]
Action = Callable[[web.Request, str, Body], Awaitable[Done]]


def officer_of(request: web.Request) -> tr.Officer:
    staff = staff_of(request)
    return tr.Officer(staff.username, staff.role, staff.agency)


def _agency_name(request: web.Request, code: str | None) -> str:
    return names_of(monitor_of(request)).agency(code) or (code or "")


async def _run(
    request: web.Request, code: str, change: Callable[[Case, datetime], tr.Transition]
) -> Done:
    monitor = monitor_of(request)
    done = await perform(
        monitor.store,
        monitor.router,
        code,
        scope_of(staff_of(request)),
        change,
        clock=monitor.clock,
    )
    transition = done.transition
    await audit_action(
        request,
        transition.audit,
        code,
        {
            **transition.detail,
            "events": ",".join(e.event.value for e in transition.events) or None,
            "status": transition.case.status.value,
            "event_pending": done.event_pending,
        },
    )
    return done


# --- the actions, shared by the API and the pages -------------------------------------------


async def accept_case(request: web.Request, code: str, body: Body) -> Done:
    officer = officer_of(request)
    return await _run(request, code, lambda case, now: tr.accept(case, officer, now))


async def return_case(request: web.Request, code: str, body: Body) -> Done:
    officer = officer_of(request)
    reason = tr.required_text(body.get("reason"), "reason", tr.MAX_REASON)
    name = _agency_name(request, officer.agency)
    return await _run(
        request,
        code,
        lambda case, now: tr.give_back(case, officer, reason, now, agency_name=name),
    )


async def contribute_case(request: web.Request, code: str, body: Body) -> Done:
    officer = officer_of(request)
    text = tr.required_text(body.get("text"), "text")
    return await _run(request, code, lambda case, now: tr.contribute(case, officer, text, now))


async def ask_case(request: web.Request, code: str, body: Body) -> Done:
    officer = officer_of(request)
    question = tr.required_text(body.get("question"), "question", tr.MAX_REASON)
    return await _run(request, code, lambda case, now: tr.ask_citizen(case, officer, question, now))


async def extend_case(request: web.Request, code: str, body: Body) -> Done:
    officer = officer_of(request)
    days = tr.working_days_of(body.get("working_days"))
    reason = tr.required_text(body.get("reason"), "reason", tr.MAX_REASON)
    return await _run(
        request,
        code,
        lambda case, now: tr.request_extension(case, officer, days, reason, now),
    )


async def decide_extension_case(request: web.Request, code: str, body: Body) -> Done:
    operator = officer_of(request)
    approve = tr.flag(body.get("approve"))
    if approve is None:
        raise tr.Refused(422, "required", t.APPROVE_INVALID, "approve")
    calendar = monitor_of(request).calendar
    return await _run(
        request,
        code,
        lambda case, now: tr.decide_extension(case, operator, approve, now, calendar),
    )


async def draft_case(
    request: web.Request,
    code: str,
    body: Body,
    attachments: Sequence[Attachment] | None = None,
) -> Done:
    officer = officer_of(request)
    text = tr.required_text(body.get("text"), "text")
    secret = tr.flag(body.get("state_secret"))
    return await _run(
        request,
        code,
        lambda case, now: tr.draft_answer(
            case, officer, text, now, state_secret=secret, attachments=attachments
        ),
    )


async def keep_answer_files(
    request: web.Request, code: str, files: Sequence[tuple[str | None, bytes]]
) -> list[Attachment]:
    """The answer's files, checked by their bytes like a citizen's (pakn.intake.uploads),
    stored in GridFS; Refused 422 for a file that is no photo or PDF, or too large."""
    kept = []
    store = monitor_of(request).store
    if len(files) > MAX_FILES:
        raise tr.Refused(422, "too_many_files", t.TOO_MANY_FILES.format(max=MAX_FILES), "files")
    for index, (name, data) in enumerate(files, start=1):
        if len(data) > MAX_FILE_BYTES:
            raise tr.Refused(422, "file_too_large", t.FILE_TOO_LARGE.format(name=name), "files")
        upload = check_upload(name, data, index)
        if upload is None:
            raise tr.Refused(422, "file_type", t.FILE_TYPE.format(name=name), "files")
        ref = await store.put_attachment(
            upload.data,
            filename=upload.filename,
            content_type=upload.content_type,
            metadata={"sha256": upload.sha256, "answer_of": code},
        )
        kept.append(
            Attachment(
                filename=upload.filename,
                content_type=upload.content_type,
                size=upload.size,
                sha256=upload.sha256,
                ref=ref,
            )
        )
    return kept


def _corrected(body: Body, case: Case) -> tr.PublicVersion | None:
    content = tr.optional_text(body.get("public_content"), "public_content")
    answer = tr.optional_text(body.get("public_answer"), "public_answer")
    if content is None and answer is None:
        return None
    automatic = tr.automatic_public_version(case)
    return tr.PublicVersion(content or automatic.content, answer or automatic.answer)


async def _visible_case(request: web.Request, code: str) -> Case:
    monitor = monitor_of(request)
    scope = scope_of(staff_of(request))
    query: dict[str, Any] = {"tracking_code": code}
    if scope.agency is not None:
        query = {"$and": [query, scope.query()]}
    doc = await monitor.store.cases.find_one(query)
    if doc is None:
        raise tr.Refused(404, "not_found", t.NOT_FOUND)
    return case_of(doc)


async def approve_case(request: web.Request, code: str, body: Body) -> Done:
    officer = officer_of(request)
    monitor = monitor_of(request)
    seen = await _visible_case(request, code)
    has_leader = await agency_has_leader(monitor.store, seen.lead_agency or "")
    # Refused before any photo is copied: the pure rule decides who approves.
    if not tr.may_approve(officer, agency_has_leader=has_leader):
        raise tr.Refused(403, "not_approver", t.NOT_APPROVER)
    corrected = _corrected(body, seen)
    photos = (
        await publish_photos(monitor.store, seen)
        if tr.is_public(seen) and seen.lead_agency == officer.agency
        else []
    )
    return await _run(
        request,
        code,
        lambda case, now: tr.approve(
            case,
            officer,
            now,
            agency_has_leader=has_leader,
            corrected=corrected,
            photos=photos,
        ),
    )


async def edit_publication_case(request: web.Request, code: str, body: Body) -> Done:
    editor = officer_of(request)
    content = tr.optional_text(body.get("public_content"), "public_content")
    answer = tr.optional_text(body.get("public_answer"), "public_answer")
    if editor.role in AGENCY_ROLES:
        seen = await _visible_case(request, code)
        if seen.lead_agency != editor.agency:
            raise tr.Refused(403, "not_lead", t.NOT_LEAD)
    return await _run(
        request,
        code,
        lambda case, now: tr.edit_publication(case, editor, now, content=content, answer=answer),
    )


# --- HTTP -----------------------------------------------------------------------------------


async def _body(request: web.Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


async def _answer(request: web.Request, action: Action) -> web.StreamResponse:
    code = code_of(request)
    if code is None:
        return json_response(
            {"error": "invalid_tracking_code", "message": t.INVALID_TRACKING_CODE}, 400
        )
    body = await _body(request) if request.can_read_body else {}
    if body is None:
        return json_response({"error": "bad_request", "message": t.BAD_REQUEST}, 400)
    try:
        done = await action(request, code, body)
    except tr.Refused as exc:
        return json_response(exc.as_json(), exc.status)
    monitor = monitor_of(request)
    return json_response(
        {
            "events": [e.event.value for e in done.transition.events],
            "event_pending": done.event_pending,
            "case": workspace_view(done.case, names_of(monitor), monitor.calendar, monitor.clock()),
        }
    )


@require(*AGENCY)
async def post_accept(request: web.Request) -> web.StreamResponse:
    """→ ``in_progress`` (the lead agency takes the case on)."""
    return await _answer(request, accept_case)


@require(*AGENCY)
async def post_return(request: web.Request) -> web.StreamResponse:
    """``{"reason"}``: not competent → back to triage, the deadline kept."""
    return await _answer(request, return_case)


@require(*AGENCY)
async def post_contribution(request: web.Request) -> web.StreamResponse:
    """``{"text"}``: a co-agency's part of the answer."""
    return await _answer(request, contribute_case)


@require(*AGENCY)
async def post_needs_info(request: web.Request) -> web.StreamResponse:
    """``{"question"}``: → ``needs_info``, the clock paused until the citizen adds to it."""
    return await _answer(request, ask_case)


@require(*AGENCY)
async def post_extension(request: web.Request) -> web.StreamResponse:
    """``{"working_days", "reason"}``: more time, for an operator to decide."""
    return await _answer(request, extend_case)


@require(*OPERATORS)
async def post_extension_decision(request: web.Request) -> web.StreamResponse:
    """``{"approve": bool}``: an operator's decision on the pending extension."""
    return await _answer(request, decide_extension_case)


@require(*AGENCY)
async def post_answer(request: web.Request) -> web.StreamResponse:
    """``{"text", "state_secret"?}``: the draft answer, for the leader to approve."""
    return await _answer(request, draft_case)


@require(*AGENCY)
async def post_approve(request: web.Request) -> web.StreamResponse:
    """``{"public_content"?, "public_answer"?}`` (corrections of the automatic masking):
    → ``resolved``, then ``published`` unless confidential or a state secret."""
    return await _answer(request, approve_case)


@require(*EDITORS)
async def get_publication(request: web.Request) -> web.StreamResponse:
    """The public version as it stands (or would be built now), for review."""
    code = code_of(request)
    if code is None:
        return json_response(
            {"error": "invalid_tracking_code", "message": t.INVALID_TRACKING_CODE}, 400
        )
    try:
        case = await _visible_case(request, code)
    except tr.Refused as exc:
        return json_response(exc.as_json(), exc.status)
    automatic = tr.automatic_public_version(case)
    return json_response(
        {
            "public": tr.is_public(case),
            "published": case.status is Status.PUBLISHED,
            "public_content": case.public_content,
            "public_answer": case.result.text if case.result else None,
            "automatic": {"public_content": automatic.content, "public_answer": automatic.answer},
        }
    )


@require(*EDITORS)
async def post_publication(request: web.Request) -> web.StreamResponse:
    """``{"public_content"?, "public_answer"?}``: correct the public copy (audited; after
    publication flagged as such)."""
    return await _answer(request, edit_publication_case)


async def queue_of(
    request: web.Request, statuses: tuple[str, ...], *, extension_pending: bool = False
) -> list[dict[str, Any]]:
    monitor, staff = monitor_of(request), staff_of(request)
    scope: Scope = scope_of(staff)
    query: dict[str, Any] = {"status": {"$in": list(statuses)}}
    if extension_pending:
        query["extensions.decision"] = "pending"
    if scope.agency is not None:
        query = {"$and": [query, scope.query()]}
    cursor = monitor.store.cases.find(
        query, {"search_terms": 0, "fingerprint": 0, "outbox": 0, "event_ids": 0}
    )
    docs = [doc async for doc in cursor.sort("due_at", 1).limit(QUEUE_LIMIT)]
    now = monitor.clock()
    names = names_of(monitor)
    items = [queue_item(case_of(d), names, monitor.calendar, now, staff.agency) for d in docs]
    # Cases without a deadline (rare: an operator's decision without SLA) go last.
    return sorted(items, key=lambda item: (item["due_at"] is None, item["due_at"] or ""))


@require(*AGENCY, *OPERATORS)
async def get_agency_cases(request: web.Request) -> web.StreamResponse:
    """``?status=`` → ``{"items": [...]}``, the user's agency's cases by deadline."""
    wanted = request.query.get("status")
    if wanted:
        if wanted not in {s.value for s in Status}:
            return json_response({"error": "invalid_query", "message": t.BAD_REQUEST}, 400)
        statuses: tuple[str, ...] = (wanted,)
    else:
        statuses = tuple(s.value for s in QUEUE_STATUSES)
    return json_response({"items": await queue_of(request, statuses)})


@require(*OPERATORS)
async def get_extensions(request: web.Request) -> web.StreamResponse:
    """``{"items": [...]}``: cases whose agency asks for more time, for an operator to decide."""
    statuses = tuple(s.value for s in tr.EXTENDABLE)
    return json_response({"items": await queue_of(request, statuses, extension_pending=True)})


def add_routes(app: web.Application) -> None:
    router = app.router
    case = f"{API}/cases/{{tracking_code}}"
    router.add_get(f"{API}/agency/cases", get_agency_cases)
    router.add_get(f"{API}/extensions", get_extensions)
    router.add_post(f"{case}/accept", post_accept)
    router.add_post(f"{case}/return", post_return)
    router.add_post(f"{case}/contributions", post_contribution)
    router.add_post(f"{case}/needs-info", post_needs_info)
    router.add_post(f"{case}/extension", post_extension)
    router.add_post(f"{case}/extension/decision", post_extension_decision)
    router.add_post(f"{case}/answer", post_answer)
    router.add_post(f"{case}/approve", post_approve)
    router.add_get(f"{case}/publication", get_publication)
    router.add_post(f"{case}/publication", post_publication)
