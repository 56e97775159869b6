"""The pure rules of staff authentication, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from bson import ObjectId
from pydantic import SecretStr

from pakn.auth.csrf import local_target, login_form_token, login_form_token_valid, tokens_match
from pakn.auth.sessions import SessionRecord, SessionState, session_state, token_key
from pakn.auth.settings import CHEAP_ARGON2, STRONG_ARGON2, AuthSettings
from pakn.auth.throttle import account_key, address_key, pair_key, progressive_delay, retry_after
from pakn.auth.users import (
    AccountError,
    Actor,
    Role,
    agency_codes,
    check_agency,
    check_display_name,
    check_username,
    may_manage,
)
from pakn.auth.web import public, require, undeclared_routes
from pakn.settings import StaffServiceSettings
from tests.pakn.auth.conftest import SECRET

SHIPPED_CONFIG = Path(__file__).resolve().parents[3] / "deploy" / "config" / "khanh-hoa"
T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def actor(role: Role | None, agency: str | None = None) -> Actor:
    return Actor(name="someone", role=role, agency=agency)


@pytest.mark.parametrize(
    ("who", "role", "agency", "allowed"),
    [
        (actor(None), Role.ADMIN, None, True),  # the command line on the server
        (actor(Role.ADMIN), Role.AGENCY_ADMIN, "so-y-te", True),
        (actor(Role.AGENCY_ADMIN, "so-y-te"), Role.AGENCY_STAFF, "so-y-te", True),
        (actor(Role.AGENCY_ADMIN, "so-y-te"), Role.AGENCY_ADMIN, "so-y-te", True),
        (actor(Role.AGENCY_ADMIN, "so-y-te"), Role.AGENCY_STAFF, "so-xay-dung", False),
        (actor(Role.AGENCY_ADMIN, "so-y-te"), Role.OPERATOR, None, False),
        (actor(Role.AGENCY_ADMIN, "so-y-te"), Role.ADMIN, None, False),
        (actor(Role.AGENCY_ADMIN, "so-y-te"), Role.HOTLINE_AGENT, None, False),
        (actor(Role.OPERATOR), Role.HOTLINE_AGENT, None, False),
        (actor(Role.AGENCY_STAFF, "so-y-te"), Role.AGENCY_STAFF, "so-y-te", False),
    ],
)
def test_who_may_manage_which_accounts(
    who: Actor, role: Role, agency: str | None, allowed: bool
) -> None:
    assert may_manage(who, role, agency) is allowed


@pytest.mark.parametrize("name", ["an", "-an.nguyen", "an.", "nguyễn.an", "an nguyen", "a" * 65])
def test_bad_usernames_are_refused(name: str) -> None:
    with pytest.raises(AccountError) as refused:
        check_username(name)
    assert refused.value.code == "invalid_username"


def test_usernames_are_stored_in_lower_case_and_names_tidied() -> None:
    assert check_username("  An.Nguyen_2 ") == "an.nguyen_2"
    assert check_display_name("  Nguyễn   Văn  An ") == "Nguyễn Văn An"
    with pytest.raises(AccountError):
        check_display_name("   ")


def test_only_agency_roles_carry_an_agency_and_it_must_exist() -> None:
    known = {"so-y-te"}
    assert check_agency(Role.AGENCY_STAFF, " so-y-te ", known) == "so-y-te"
    assert check_agency(Role.OPERATOR, None, known) is None
    for role, agency, code in [
        (Role.AGENCY_ADMIN, None, "agency_required"),
        (Role.AGENCY_STAFF, "so-khong-co", "unknown_agency"),
        (Role.HOTLINE_AGENT, "so-y-te", "agency_not_allowed"),
    ]:
        with pytest.raises(AccountError) as refused:
            check_agency(role, agency, known)
        assert refused.value.code == code


def test_the_shipped_province_names_the_agencies_accounts_may_belong_to() -> None:
    codes = agency_codes(SHIPPED_CONFIG)
    assert {"so-y-te", "so-xay-dung", "cong-an-tinh"} <= codes


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/console?tab=2", "/console?tab=2"),
        ("/", "/"),
        (None, "/"),
        ("", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("console", "/"),
        ("/\tevil", "/"),
    ],
)
def test_redirects_after_login_stay_on_the_site(given: str | None, expected: str) -> None:
    assert local_target(given) == expected


def test_tokens_are_compared_whole() -> None:
    assert tokens_match("abc", "abc")
    assert not tokens_match("abc", "abd")
    assert not tokens_match("abc", None)
    assert not tokens_match("abc", "")
    assert not tokens_match("abc", "ab\udcff")  # undecodable input does not crash


def test_the_login_form_token_binds_the_cookie_to_the_secret() -> None:
    field = login_form_token(SECRET, "nonce-1")
    assert login_form_token_valid(SECRET, "nonce-1", field)
    assert not login_form_token_valid(SECRET, "nonce-2", field)
    assert not login_form_token_valid("another secret", "nonce-1", field)
    assert not login_form_token_valid(SECRET, None, field)


def settings(**overrides: object) -> AuthSettings:
    return AuthSettings(session_secret=SecretStr(SECRET), **overrides)


def record(created: datetime, last_seen: datetime) -> SessionRecord:
    return SessionRecord(
        key=token_key("t"),
        user_id=ObjectId(),
        role="operator",
        csrf_token="c",
        created_at=created,
        last_seen=last_seen,
        absolute_expires_at=created + timedelta(hours=12),
    )


@pytest.mark.parametrize(
    ("last_seen", "now", "state"),
    [
        (T0, T0 + timedelta(seconds=59), SessionState.VALID),
        (T0, T0 + timedelta(minutes=1), SessionState.TOUCH),
        (T0, T0 + timedelta(minutes=29, seconds=59), SessionState.TOUCH),
        (T0, T0 + timedelta(minutes=30), SessionState.EXPIRED),
        # Busy all day: the absolute limit ends it all the same.
        (T0 + timedelta(hours=11, minutes=59), T0 + timedelta(hours=12), SessionState.EXPIRED),
    ],
)
def test_session_states(last_seen: datetime, now: datetime, state: SessionState) -> None:
    assert session_state(record(T0, last_seen), now, settings()) is state


def test_a_session_expires_at_its_idle_or_absolute_limit_whichever_comes_first() -> None:
    assert record(T0, T0).expires_at(settings()) == T0 + timedelta(minutes=30)
    late = record(T0, T0 + timedelta(hours=11, minutes=50))
    assert late.expires_at(settings()) == T0 + timedelta(hours=12)


def test_the_store_never_holds_the_token_itself() -> None:
    assert token_key("abc") != "abc" and len(token_key("abc")) == 64


def test_retry_after_waits_for_the_oldest_attempt_that_counts() -> None:
    window = timedelta(minutes=15)
    recent = [T0 - timedelta(minutes=m) for m in (1, 2, 10)]  # newest first
    assert retry_after(recent, 3, window, T0) == timedelta(minutes=5)
    assert retry_after(recent, 2, window, T0) == timedelta(minutes=13)
    assert retry_after(recent, 4, window, T0) == timedelta(0)
    assert retry_after(recent, 1, timedelta(seconds=30), T0) == timedelta(seconds=1)


def test_throttling_keys() -> None:
    assert account_key("An.Nguyen") == account_key(" an.nguyen")
    assert "an.nguyen" not in account_key("an.nguyen")
    assert address_key("203.0.113.7") == "address:203.0.113.7"
    assert address_key("2001:db8:1:2::5") == address_key("2001:db8:1:2:ffff::1")
    assert address_key("2001:db8:1:2::5") != address_key("2001:db8:1:3::5")


def test_hashing_is_memory_hard_except_in_tests(tmp_path: Path) -> None:
    def auth_for(env: str) -> AuthSettings:
        service = StaffServiceSettings(
            env=env,
            session_secret=SecretStr(SECRET),
            var_dir=tmp_path,
        )
        return AuthSettings.from_settings(service)

    production, dev, test = auth_for("production"), auth_for("dev"), auth_for("test")
    assert production.argon2 == dev.argon2 == STRONG_ARGON2
    assert STRONG_ARGON2.memory_cost >= 64 * 1024 and STRONG_ARGON2.time_cost >= 3
    assert test.argon2 == CHEAP_ARGON2
    assert production.secure_cookies and not dev.secure_cookies and not test.secure_cookies
    assert production.idle_timeout == timedelta(minutes=30)
    assert production.absolute_timeout == timedelta(hours=12)
    assert production.session_secret.get_secret_value() == SECRET


def test_require_needs_the_roles_spelt_out() -> None:
    with pytest.raises(TypeError):
        require()


def test_undeclared_routes_are_found() -> None:
    async def forgotten(request: web.Request) -> web.Response:
        return web.Response()

    async def open_on_purpose(request: web.Request) -> web.Response:
        return web.Response()

    async def guarded(request: web.Request) -> web.Response:
        return web.Response()

    app = web.Application()
    app.router.add_get("/forgotten", forgotten)
    app.router.add_get("/open", public(open_on_purpose))
    app.router.add_post("/guarded", require(Role.OPERATOR)(guarded))
    assert undeclared_routes(app) == ["GET /forgotten"]


def test_the_account_wide_delay_doubles_and_is_capped() -> None:
    cap = timedelta(minutes=5)
    assert progressive_delay(3, 4, T0, cap, T0) == timedelta(0)
    assert progressive_delay(4, 4, T0, cap, T0) == timedelta(seconds=1)
    assert progressive_delay(7, 4, T0, cap, T0) == timedelta(seconds=8)
    assert progressive_delay(40, 4, T0, cap, T0) == cap
    # Counted from the newest failure: waited out, no delay is left.
    assert progressive_delay(7, 4, T0 - timedelta(seconds=9), cap, T0) == timedelta(0)
    assert pair_key(account_key("an"), address_key("203.0.113.7")).endswith(":203.0.113.7")
