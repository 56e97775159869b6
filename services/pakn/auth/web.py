"""aiohttp pieces staff services mount unchanged: sessions, CSRF, role checks, login page, API.

A service calls ``mount_staff_auth(app, store_key=STORE, settings=settings)`` once and
decorates each of its own handlers with ``require(Role.…)`` (or ``public``). It then gets:

- ``session_middleware``: reads the ``pakn_session`` cookie, re-reads the user on every
  request (a disabled account or a new role counts at once), slides the idle timeout, refuses
  a state-changing request without the session's CSRF token, and writes every state change
  made by a logged-in user to the audit log;
- the session API of DESIGN.md §5 (``/api/v1/session``), the account API
  (``/api/v1/users``) and the login page (``/dang-nhap``, ``/dang-xuat``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from aiohttp import web
from pymongo.errors import PyMongoError

from pakn import http
from pakn.auth import audit, csrf, messages
from pakn.auth.sessions import (
    SessionRecord,
    SessionState,
    create_session,
    end_session,
    find_session,
    session_state,
    token_key,
    touch_session,
)
from pakn.auth.settings import AuthSettings
from pakn.auth.throttle import COLLECTION as FAILURES_COLLECTION
from pakn.auth.throttle import INDEXES as FAILURES_INDEXES
from pakn.auth.throttle import KNOWN_COLLECTION, KNOWN_INDEXES, LoginThrottle, Refused, account_key
from pakn.auth.users import (
    AGENCY_ROLES,
    AccountError,
    Actor,
    Passwords,
    Role,
    User,
    agency_codes,
    authenticate,
    change_role,
    create_user,
    get_user,
    list_users,
    set_active,
)
from pakn.settings import StaffServiceSettings
from pakn.store import Store
from pakn.worktime import Clock, utc_now

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SESSION_COOKIE = "pakn_session"
#: The login form's random value (see csrf.py); only the login page reads it.
LOGIN_NONCE_COOKIE = "pakn_login"
LOGIN_NONCE_MAX_AGE = 2 * 3600

LOGIN_PATH = "/dang-nhap"
LOGOUT_PATH = "/dang-xuat"
SESSION_API = "/api/v1/session"
USERS_API = "/api/v1/users"

#: Routes every service serves for its operators (http.py), outside staff authentication.
OPS_ROUTES = ("/healthz", "/metrics")

#: Longer cookies are not ours: not worth hashing or looking up.
MAX_TOKEN_LENGTH = 128

_ROLES_ATTR = "__pakn_roles__"
_CSRF_EXEMPT_ATTR = "__pakn_csrf_exempt__"

#: Pages that hold a password field: no framing, no caching, no third-party anything.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


@dataclass(frozen=True)
class Staff:
    """The logged-in user of this request, as re-read from the store."""

    user: User
    session: SessionRecord

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def role(self) -> Role:
        return self.user.role

    @property
    def agency(self) -> str | None:
        return self.user.agency

    @property
    def csrf_token(self) -> str:
        return self.session.csrf_token


@dataclass
class StaffAuth:
    """What the mounted pieces share, under ``AUTH`` in the application."""

    settings: AuthSettings
    store_key: web.AppKey[Store]
    passwords: Passwords
    clock: Clock
    #: Agency codes an account may name (None: any).
    agencies: frozenset[str] | None
    service: str | None
    _indexes_ready: bool = field(default=False, init=False)
    _indexes_lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)

    async def ensure_indexes(self, store: Store) -> None:
        """The indexes login needs beyond store.INDEXES, created once, at the first login."""
        if self._indexes_ready:
            return
        async with self._indexes_lock:
            if not self._indexes_ready:
                await store.db[FAILURES_COLLECTION].create_indexes(FAILURES_INDEXES)
                await store.db[KNOWN_COLLECTION].create_indexes(KNOWN_INDEXES)
                await store.sessions.create_index("user_id", name="user_id")
                self._indexes_ready = True


AUTH = web.AppKey("pakn_auth", StaffAuth)
STAFF: web.RequestKey[Staff | None] = web.RequestKey("pakn_staff")
_AUDITED = web.RequestKey("pakn_audited", bool)


# --- request helpers ------------------------------------------------------------------------


def current_staff(request: web.Request) -> Staff | None:
    """The logged-in user, or None (also None before session_middleware has run)."""
    return request.get(STAFF)


def staff_of(request: web.Request) -> Staff:
    """The logged-in user in a handler behind ``require``."""
    staff = current_staff(request)
    if staff is None:
        raise RuntimeError("staff_of() outside a require()d handler")
    return staff


def _auth(request: web.Request) -> StaffAuth:
    return request.config_dict[AUTH]


def _store(request: web.Request) -> Store:
    return request.config_dict[_auth(request).store_key]


def _json(
    body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(
        body,
        status=status,
        headers={"Cache-Control": "no-store", **(headers or {})},
        dumps=http.json_text,
    )


def _json_error(
    status: int, error: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    return _json({"error": error, "message": message}, status, headers)


def _wants_html(request: web.Request) -> bool:
    return not request.path.startswith("/api/") and http.wants_html(request)


def _retry_seconds(wait: timedelta) -> int:
    return max(1, math.ceil(wait.total_seconds()))


def _cross_site(request: web.Request) -> bool:
    """Browsers say where a request comes from; a login posted by another site is refused."""
    return request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site"


def _set_session_cookie(response: web.StreamResponse, auth: StaffAuth, token: str) -> None:
    # No Max-Age: closing the browser on a shared desk ends the session on that desk.
    response.set_cookie(
        SESSION_COOKIE,
        token,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=auth.settings.secure_cookies,
    )


def _clear_session_cookie(response: web.StreamResponse, auth: StaffAuth) -> None:
    response.del_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=auth.settings.secure_cookies,
    )


async def _audit(
    request: web.Request,
    action: str,
    outcome: audit.Outcome,
    *,
    user: User | None,
    target: str | None,
    detail: dict[str, audit.DetailValue] | None = None,
) -> None:
    auth = _auth(request)
    await audit.record(
        _store(request),
        audit.AuditEntry(
            at=auth.clock(),
            action=action,
            outcome=outcome,
            actor=user.username if user is not None else None,
            role=user.role.value if user is not None else None,
            agency=user.agency if user is not None else None,
            target=target,
            ip=http.client_address(request),
            user_agent=request.headers.get("User-Agent"),
            service=auth.service,
            detail=detail or {},
        ),
    )
    request[_AUDITED] = True


def _request_target(request: web.Request) -> str:
    return f"{request.method} {request.path}"


def _actor(request: web.Request, staff: Staff) -> Actor:
    return Actor.staff(
        staff.user,
        ip=http.client_address(request),
        user_agent=request.headers.get("User-Agent"),
        service=_auth(request).service,
    )


# --- route declarations ---------------------------------------------------------------------


def require(*roles: Role) -> Callable[[Handler], Handler]:
    """Only a logged-in user with one of ``roles`` reaches the handler.

    Without a session: 401 (JSON), or for a page a redirect to the login page and back.
    With another role: 403, written to the audit log. ``require(*Role)`` admits any staff.
    """
    if not roles:
        raise TypeError("require() needs the roles allowed; require(*Role) admits any staff")
    allowed = frozenset(Role(role) for role in roles)

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            staff = current_staff(request)
            if staff is None:
                return _unauthenticated(request)
            if staff.role not in allowed:
                required = ",".join(sorted(role.value for role in allowed))
                await _audit(
                    request,
                    audit.REQUEST,
                    "denied",
                    user=staff.user,
                    target=_request_target(request),
                    detail={"reason": "role", "required": required},
                )
                return _forbidden(request, staff)
            return await handler(request)

        setattr(guarded, _ROLES_ATTR, allowed)
        return guarded

    return decorate


def public(handler: Handler) -> Handler:
    """Declare a route open to anyone (so ``undeclared_routes`` does not list it)."""
    setattr(handler, _ROLES_ATTR, frozenset())
    return handler


def csrf_exempt(handler: Handler) -> Handler:
    """No session CSRF check: for routes with their own protection (login, a Bearer API)."""
    setattr(handler, _CSRF_EXEMPT_ATTR, True)
    return handler


def roles_of(handler: Callable[..., Any]) -> frozenset[Role] | None:
    """The roles a handler admits (empty: public), or None when it declares nothing."""
    roles: frozenset[Role] | None = getattr(handler, _ROLES_ATTR, None)
    return roles


def undeclared_routes(app: web.Application, *, ignore: Iterable[str] = OPS_ROUTES) -> list[str]:
    """ "METHOD /path" of every route that declares neither ``require`` nor ``public``:
    a service's tests assert this is empty, so no route is left open by omission."""
    skip = set(ignore)
    found: list[str] = []
    for route in app.router.routes():
        resource = route.resource
        if resource is None or isinstance(resource, web.StaticResource):
            continue
        if resource.canonical in skip or route.method == "HEAD":
            continue
        if roles_of(route.handler) is None:
            found.append(f"{route.method} {resource.canonical}")
    return found


def _unauthenticated(request: web.Request) -> web.StreamResponse:
    if _wants_html(request) and request.method in ("GET", "HEAD"):
        location = f"{LOGIN_PATH}?{_next_query(request.path_qs)}"
        return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})
    return _json_error(401, "unauthenticated", messages.UNAUTHENTICATED)


def _forbidden(request: web.Request, staff: Staff) -> web.StreamResponse:
    if _wants_html(request):
        return _login_page(request, staff=staff, error=messages.FORBIDDEN, status=403)
    return _json_error(403, "forbidden", messages.FORBIDDEN)


def _next_query(path: str) -> str:
    return urlencode({"next": path})


# --- the middleware -------------------------------------------------------------------------


async def _load_staff(request: web.Request, auth: StaffAuth) -> tuple[Staff | None, bool]:
    """(the logged-in user, whether the browser holds a cookie to clear)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None, False
    if len(token) > MAX_TOKEN_LENGTH:
        return None, True
    store = _store(request)
    record = await find_session(store, token)
    if record is None:
        return None, True
    now = auth.clock()
    state = session_state(record, now, auth.settings)
    if state is SessionState.EXPIRED:
        await end_session(store, record.key)
        return None, True
    user = await get_user(store, record.user_id)
    if user is None or not user.active:
        # Disabled (or deleted) behind the application's back: this request is already out.
        await end_session(store, record.key)
        await _audit(
            request,
            audit.SESSION_REVOKED,
            "success",
            user=None,
            target=user.username if user is not None else str(record.user_id),
            detail={"reason": "deleted" if user is None else "disabled"},
        )
        return None, True
    if state is SessionState.TOUCH:
        await touch_session(store, record, now, auth.settings)
    return Staff(user, record), False


async def _submitted_csrf_token(request: web.Request) -> str | None:
    header = request.headers.get(csrf.HEADER)
    if header:
        return header
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        # request.post() keeps what it read: the handler's own post() gets the same form.
        value = (await request.post()).get(csrf.FIELD)
        return value if isinstance(value, str) else None
    return None


async def _csrf_passes(request: web.Request, staff: Staff) -> bool:
    """Safe methods pass; a state-changing request must echo the session's token."""
    if request.method not in csrf.UNSAFE_METHODS:
        return True
    if getattr(request.match_info.handler, _CSRF_EXEMPT_ATTR, False):
        return True
    return csrf.tokens_match(staff.csrf_token, await _submitted_csrf_token(request))


def _outcome(status: int) -> audit.Outcome:
    if status < 400:
        return "success"
    return "denied" if status in (401, 403) else "failure"


async def _audit_state_change(request: web.Request, status: int) -> None:
    """Every state-changing request by a logged-in user, unless its handler audited it."""
    staff = current_staff(request)
    if request.method not in csrf.UNSAFE_METHODS or staff is None or request.get(_AUDITED):
        return
    resource = request.match_info.route.resource
    try:
        await _audit(
            request,
            audit.REQUEST,
            _outcome(status),
            user=staff.user,
            target=_request_target(request),
            detail={
                "route": resource.canonical if resource is not None else None,
                "status": status,
            },
        )
    except PyMongoError:
        # The change itself is done; failing the answer now would only invite a retry.
        log.exception("audit of %s by %s not written", _request_target(request), staff.username)


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    auth = _auth(request)
    staff, stale_cookie = await _load_staff(request, auth)
    request[STAFF] = staff
    if staff is not None and not await _csrf_passes(request, staff):
        await _audit(
            request,
            audit.REQUEST,
            "denied",
            user=staff.user,
            target=_request_target(request),
            detail={"reason": "csrf"},
        )
        if _wants_html(request):
            return _login_page(request, staff=staff, error=messages.CSRF_FAILED, status=403)
        return _json_error(403, "csrf", messages.CSRF_FAILED)
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        await _audit_state_change(request, exc.status)
        raise
    except Exception:
        await _audit_state_change(request, 500)
        raise
    await _audit_state_change(request, response.status)
    if stale_cookie and not response.prepared and SESSION_COOKIE not in response.cookies:
        _clear_session_cookie(response, auth)
    return response


# --- logging in -----------------------------------------------------------------------------


async def _login(
    request: web.Request, username: str, password: str
) -> tuple[str, Staff] | Refused | None:
    """(cookie token, staff) on success, Refused when throttled, None when not recognised."""
    auth, store = _auth(request), _store(request)
    await auth.ensure_indexes(store)
    now = auth.clock()
    throttle = LoginThrottle(store, auth.settings)
    attempt = await throttle.begin(username, http.client_address(request), now)
    if isinstance(attempt, Refused):
        await _audit(
            request,
            audit.LOGIN,
            "denied",
            user=None,
            target=None,
            detail={
                "reason": "throttled",
                "account": account_key(username),
                "retry_after": _retry_seconds(attempt.retry_after),
            },
        )
        return attempt
    result = await authenticate(store, auth.passwords, username, password)
    if result.user is None or not result.ok:
        # The username goes to the log only when it names an account: what people type in
        # that box is sometimes their password.
        await _audit(
            request,
            audit.LOGIN,
            "failure",
            user=None,
            target=result.user.username if result.user is not None else None,
            detail={"reason": result.failure, "account": account_key(username)},
        )
        return None
    await throttle.succeeded(attempt, now)
    previous = request.cookies.get(SESSION_COOKIE)
    if previous and len(previous) <= MAX_TOKEN_LENGTH:
        # A new id at every login: an id planted in the browser beforehand is worth nothing.
        await end_session(store, token_key(previous))
    token, record = await create_session(
        store,
        user_id=result.user.id,
        role=result.user.role.value,
        now=now,
        settings=auth.settings,
        ip=http.client_address(request),
        user_agent=request.headers.get("User-Agent", "")[: audit.MAX_USER_AGENT] or None,
    )
    await _audit(request, audit.LOGIN, "success", user=result.user, target=result.user.username)
    return token, Staff(result.user, record)


async def _logout(request: web.Request) -> None:
    staff = current_staff(request)
    if staff is None:
        return
    await end_session(_store(request), staff.session.key)
    await _audit(request, audit.LOGOUT, "success", user=staff.user, target=staff.username)
    request[STAFF] = None


def _session_body(staff: Staff, settings: AuthSettings) -> dict[str, Any]:
    return {
        "username": staff.username,
        "display_name": staff.user.display_name,
        "role": staff.role.value,
        "agency": staff.agency,
        "csrf_token": staff.csrf_token,
        "expires_at": staff.session.expires_at(settings).isoformat(),
    }


@public
@csrf_exempt
async def post_session(request: web.Request) -> web.StreamResponse:
    """Log in: ``{"username", "password"}`` → cookie + ``{"csrf_token", "role", "agency"}``.

    Exempt from the session token (there is none yet); instead only JSON is accepted, which
    another site cannot send without a CORS preflight this service never answers.
    """
    if _cross_site(request):
        return _json_error(403, "cross_site", messages.CROSS_SITE)
    if request.content_type != "application/json":
        return _json_error(415, "unsupported_media_type", messages.JSON_REQUIRED)
    try:
        body = await request.json()
    except ValueError:
        return _json_error(400, "bad_request", messages.BAD_REQUEST)
    username = body.get("username") if isinstance(body, dict) else None
    password = body.get("password") if isinstance(body, dict) else None
    if not isinstance(username, str) or not isinstance(password, str) or not username.strip():
        return _json_error(400, "missing_credentials", messages.MISSING_CREDENTIALS)
    outcome = await _login(request, username, password)
    if isinstance(outcome, Refused):
        wait = _retry_seconds(outcome.retry_after)
        return _json_error(
            429,
            "throttled",
            messages.THROTTLED.format(minutes=math.ceil(wait / 60)),
            {"Retry-After": str(wait)},
        )
    if outcome is None:
        return _json_error(401, "invalid_credentials", messages.INVALID_CREDENTIALS)
    token, staff = outcome
    response = _json(_session_body(staff, _auth(request).settings))
    _set_session_cookie(response, _auth(request), token)
    return response


@require(*Role)
async def get_session(request: web.Request) -> web.StreamResponse:
    return _json(_session_body(staff_of(request), _auth(request).settings))


@public
async def delete_session(request: web.Request) -> web.StreamResponse:
    """Log out (idempotent: without a session there is nothing to end, and 204 all the same)."""
    await _logout(request)
    response = web.Response(status=204, headers={"Cache-Control": "no-store"})
    _clear_session_cookie(response, _auth(request))
    return response


# --- the login page -------------------------------------------------------------------------


def _login_page(
    request: web.Request,
    *,
    staff: Staff | None,
    error: str | None = None,
    username: str = "",
    next_path: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> web.Response:
    auth = _auth(request)
    nonce = request.cookies.get(LOGIN_NONCE_COOKIE)
    if not nonce or len(nonce) > 64:
        nonce = csrf.new_login_nonce()
    secret = auth.settings.session_secret.get_secret_value()
    target = next_path if next_path is not None else csrf.local_target(request.query.get("next"))
    html = _templates.get_template("login.html").render(
        t=messages,
        error=error,
        username=username,
        next=target,
        csrf_token=csrf.login_form_token(secret, nonce),
        login_path=LOGIN_PATH,
        logout_path=LOGOUT_PATH,
        staff=staff,
        logged_in_as=(
            messages.LOGGED_IN_AS.format(
                name=staff.user.display_name, role=messages.ROLE_NAMES[staff.role.value]
            )
            if staff is not None
            else None
        ),
    )
    response = web.Response(
        text=html,
        status=status,
        content_type="text/html",
        headers={**PAGE_HEADERS, **(headers or {})},
    )
    response.set_cookie(
        LOGIN_NONCE_COOKIE,
        nonce,
        path=LOGIN_PATH,
        max_age=LOGIN_NONCE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=auth.settings.secure_cookies,
    )
    return response


@public
async def login_page(request: web.Request) -> web.StreamResponse:
    return _login_page(request, staff=current_staff(request))


@public
@csrf_exempt
async def login_form(request: web.Request) -> web.StreamResponse:
    """The login form's POST: works without JavaScript, answers with a page or a redirect."""
    form = await request.post()
    next_path = csrf.local_target(_field(form, "next"))
    username = _field(form, "username")
    page = functools.partial(
        _login_page, request, staff=current_staff(request), next_path=next_path
    )
    secret = _auth(request).settings.session_secret.get_secret_value()
    nonce = request.cookies.get(LOGIN_NONCE_COOKIE)
    if _cross_site(request) or not csrf.login_form_token_valid(
        secret, nonce, _field(form, csrf.FIELD)
    ):
        await _audit(
            request, audit.LOGIN, "denied", user=None, target=None, detail={"reason": "csrf"}
        )
        return page(error=messages.LOGIN_FORM_EXPIRED, username=username, status=403)
    password = _field(form, "password")
    if not username.strip() or not password:
        return page(error=messages.MISSING_CREDENTIALS, username=username, status=400)
    outcome = await _login(request, username, password)
    if isinstance(outcome, Refused):
        wait = _retry_seconds(outcome.retry_after)
        return page(
            error=messages.THROTTLED.format(minutes=math.ceil(wait / 60)),
            username=username,
            status=429,
            headers={"Retry-After": str(wait)},
        )
    if outcome is None:
        return page(error=messages.INVALID_CREDENTIALS, username=username, status=401)
    token, _staff = outcome
    response = web.Response(
        status=303, headers={"Location": next_path, "Cache-Control": "no-store"}
    )
    _set_session_cookie(response, _auth(request), token)
    response.del_cookie(LOGIN_NONCE_COOKIE, path=LOGIN_PATH)
    return response


@public
async def logout_form(request: web.Request) -> web.StreamResponse:
    """The logout button's POST (the middleware has checked its CSRF field)."""
    await _logout(request)
    response = web.Response(
        status=303, headers={"Location": LOGIN_PATH, "Cache-Control": "no-store"}
    )
    _clear_session_cookie(response, _auth(request))
    return response


def _field(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


# --- the account API ------------------------------------------------------------------------

_ACCOUNT_ERROR_STATUS = {"forbidden": 403, "self": 403, "not_found": 404, "username_taken": 409}


def _account_error(exc: AccountError) -> web.Response:
    return _json_error(_ACCOUNT_ERROR_STATUS.get(exc.code, 422), exc.code, exc.message)


async def _json_body(request: web.Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


@require(Role.ADMIN, Role.AGENCY_ADMIN)
async def get_users(request: web.Request) -> web.StreamResponse:
    """``{"items": [...]}``: every account for an administrator, an agency's own otherwise."""
    actor = _actor(request, staff_of(request))
    try:
        users = await list_users(_store(request), actor, agency=request.query.get("agency"))
    except AccountError as exc:
        return _account_error(exc)
    return _json({"items": [user.as_json() for user in users]})


@require(Role.ADMIN, Role.AGENCY_ADMIN)
async def post_user(request: web.Request) -> web.StreamResponse:
    """``{"username", "password", "role", "display_name"?, "agency"?}`` → 201 and the account.

    An agency administrator's accounts are of their own agency unless they name another
    (which is refused).
    """
    staff = staff_of(request)
    body = await _json_body(request)
    if body is None:
        return _json_error(400, "bad_request", messages.BAD_REQUEST)
    username, password = _optional_str(body.get("username")), _optional_str(body.get("password"))
    role = _optional_str(body.get("role"))
    if username is None or password is None or role is None:
        return _json_error(400, "bad_request", messages.BAD_REQUEST)
    agency = _optional_str(body.get("agency"))
    if agency is None and staff.role is Role.AGENCY_ADMIN and role in AGENCY_ROLES:
        agency = staff.agency
    auth = _auth(request)
    request[_AUDITED] = True  # create_user writes its own entry, success or refusal
    try:
        user = await create_user(
            _store(request),
            auth.passwords,
            _actor(request, staff),
            username=username,
            password=password,
            role=role,
            agency=agency,
            display_name=_optional_str(body.get("display_name")),
            known_agencies=auth.agencies,
            now=auth.clock(),
        )
    except AccountError as exc:
        return _account_error(exc)
    return _json(user.as_json(), status=201)


async def _set_active(request: web.Request, active: bool) -> web.StreamResponse:
    request[_AUDITED] = True  # set_active writes its own entry, success or refusal
    try:
        user = await set_active(
            _store(request),
            _actor(request, staff_of(request)),
            request.match_info["username"],
            active,
            now=_auth(request).clock(),
        )
    except AccountError as exc:
        return _account_error(exc)
    return _json(user.as_json())


@require(Role.ADMIN, Role.AGENCY_ADMIN)
async def disable_user(request: web.Request) -> web.StreamResponse:
    """Disable an account: its sessions end now."""
    return await _set_active(request, False)


@require(Role.ADMIN, Role.AGENCY_ADMIN)
async def enable_user(request: web.Request) -> web.StreamResponse:
    return await _set_active(request, True)


@require(Role.ADMIN, Role.AGENCY_ADMIN)
async def post_user_role(request: web.Request) -> web.StreamResponse:
    """``{"role", "agency"?}``: takes effect at the account's next request."""
    body = await _json_body(request)
    role = _optional_str(body.get("role")) if body is not None else None
    if body is None or role is None:
        return _json_error(400, "bad_request", messages.BAD_REQUEST)
    auth = _auth(request)
    request[_AUDITED] = True  # change_role writes its own entry
    try:
        user = await change_role(
            _store(request),
            _actor(request, staff_of(request)),
            request.match_info["username"],
            role,
            _optional_str(body.get("agency")),
            known_agencies=auth.agencies,
            now=auth.clock(),
        )
    except AccountError as exc:
        return _account_error(exc)
    return _json(user.as_json())


# --- mounting -------------------------------------------------------------------------------


def mount_staff_auth(
    app: web.Application,
    *,
    store_key: web.AppKey[Store],
    settings: StaffServiceSettings,
    auth_settings: AuthSettings | None = None,
    agencies: Collection[str] | None = None,
    clock: Clock = utc_now,
) -> StaffAuth:
    """Add staff login to ``app`` (made by http.new_service_app): the middleware, the session
    and account APIs, the login page. Call once, before the app starts.

    ``app[store_key]`` must hold the Store by the first request (set it in a cleanup_ctx).
    ``agencies`` are the codes accounts may name; by default the province folder's.
    """
    resolved = auth_settings or AuthSettings.from_settings(settings)
    auth = StaffAuth(
        settings=resolved,
        store_key=store_key,
        passwords=Passwords(
            resolved.argon2,
            min_length=resolved.min_password_length,
            max_length=resolved.max_password_length,
            concurrency=resolved.hash_concurrency,
        ),
        clock=clock,
        agencies=frozenset(agencies) if agencies is not None else agency_codes(settings.config_dir),
        service=app.get(http.SERVICE_NAME),
    )
    app[AUTH] = auth
    if http.TRUSTED_PROXIES not in app:
        app[http.TRUSTED_PROXIES] = tuple(settings.trusted_proxies)
    app.middlewares.append(session_middleware)
    app.router.add_post(SESSION_API, post_session)
    app.router.add_get(SESSION_API, get_session)
    app.router.add_delete(SESSION_API, delete_session)
    app.router.add_get(USERS_API, get_users)
    app.router.add_post(USERS_API, post_user)
    app.router.add_post(USERS_API + "/{username}/disable", disable_user)
    app.router.add_post(USERS_API + "/{username}/enable", enable_user)
    app.router.add_post(USERS_API + "/{username}/role", post_user_role)
    app.router.add_get(LOGIN_PATH, login_page)
    app.router.add_post(LOGIN_PATH, login_form)
    app.router.add_post(LOGOUT_PATH, logout_form)
    return auth
