"""The session API (DESIGN.md §5) through a real app on the real store: login, logout, CSRF,
roles, throttling, expiry — and the audit entries each of them leaves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp import ClientResponse

from pakn.auth.sessions import token_key
from pakn.auth.settings import CHEAP_ARGON2, Argon2Params
from pakn.auth.users import Actor, Role, set_active
from pakn.auth.web import SESSION_COOKIE, undeclared_routes
from pakn.settings import StaffServiceSettings
from pakn.store import Store
from tests.pakn.auth.conftest import (
    PASSWORD,
    Client,
    ClientFactory,
    FakeClock,
    add_user,
    audit_log,
    log_in,
    via,
)

# --- login and logout -----------------------------------------------------------------------


async def test_login_then_logout(client: Client, store: Store) -> None:
    await add_user(store, "an.nguyen", Role.OPERATOR, display_name="Nguyễn Văn An")

    response = await client.post(
        "/api/v1/session",
        json={"username": "An.Nguyen ", "password": PASSWORD},
        headers={"User-Agent": "Firefox/140"},
    )
    assert response.status == 200
    body = await response.json()
    assert body["role"] == "operator" and body["agency"] is None
    assert body["username"] == "an.nguyen" and body["display_name"] == "Nguyễn Văn An"
    assert len(body["csrf_token"]) >= 32
    token = response.cookies[SESSION_COOKIE].value
    # Only the token's hash is stored: a copy of the database opens no session.
    assert await store.sessions.find_one({"_id": token}) is None
    stored = await store.sessions.find_one({"_id": token_key(token)})
    assert stored is not None and stored["expires_at"] > stored["created_at"]

    me = await client.get("/api/v1/session", cookies={SESSION_COOKIE: token})
    assert me.status == 200
    assert (await me.json())["csrf_token"] == body["csrf_token"]

    out = await client.delete(
        "/api/v1/session",
        cookies={SESSION_COOKIE: token},
        headers={"X-CSRF-Token": body["csrf_token"]},
    )
    assert out.status == 204
    assert out.cookies[SESSION_COOKIE].value == ""  # the browser is told to drop it
    assert await store.sessions.count_documents({}) == 0
    after = await client.get("/api/v1/session", cookies={SESSION_COOKIE: token})
    assert after.status == 401
    assert (await after.json())["error"] == "unauthenticated"

    login, logout = await audit_log(store, "login"), await audit_log(store, "logout")
    assert [(e["outcome"], e["actor"], e["target"]) for e in login] == [
        ("success", "an.nguyen", "an.nguyen")
    ]
    assert login[0]["ip"] == "127.0.0.1" and login[0]["user_agent"] == "Firefox/140"
    assert login[0]["service"] == "auth-test" and login[0]["role"] == "operator"
    assert [(e["outcome"], e["actor"]) for e in logout] == [("success", "an.nguyen")]


def test_every_mounted_route_declares_who_may_use_it(client: Client) -> None:
    assert client.app is not None
    assert undeclared_routes(client.app) == []


async def test_without_a_session_the_api_answers_401(client: Client) -> None:
    assert (await client.get("/api/v1/session")).status == 401
    forged = await client.get("/api/v1/session", cookies={SESSION_COOKIE: "x" * 43})
    assert forged.status == 401
    # Logging out twice is not an error.
    assert (await client.delete("/api/v1/session")).status == 204


async def test_wrong_password_unknown_user_and_disabled_account_get_one_answer(
    client: Client, store: Store
) -> None:
    await add_user(store, "binh.tran", Role.HOTLINE_AGENT)
    await add_user(store, "cuong.le", Role.HOTLINE_AGENT)
    await set_active(store, Actor.command_line(), "cuong.le", False, now=datetime.now(UTC))

    answers = []
    for username, password in [
        ("binh.tran", "not the password"),
        ("nobody.here", "not the password"),
        ("cuong.le", PASSWORD),  # right password, disabled account
    ]:
        response = await client.post(
            "/api/v1/session", json={"username": username, "password": password}
        )
        assert SESSION_COOKIE not in response.cookies
        answers.append((response.status, await response.json()))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 401
    assert answers[0][1] == {
        "error": "invalid_credentials",
        "message": "Tên đăng nhập hoặc mật khẩu không đúng.",
    }

    failures = await audit_log(store, "login")
    assert [(e["outcome"], e["target"], e["detail"]["reason"]) for e in failures] == [
        ("failure", "binh.tran", "bad_password"),
        # What was typed is not kept when it names no account: it may be a password.
        ("failure", None, "unknown_user"),
        ("failure", "cuong.le", "disabled"),
    ]
    assert all(e["actor"] is None for e in failures)


async def test_the_session_api_takes_only_json_from_this_site(client: Client, store: Store) -> None:
    await add_user(store, "dung.pham", Role.OPERATOR)
    credentials = {"username": "dung.pham", "password": PASSWORD}
    # A plain form post is what another site could make a browser send without asking.
    form = await client.post("/api/v1/session", data=credentials)
    assert form.status == 415
    cross = await client.post(
        "/api/v1/session", json=credentials, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert cross.status == 403
    blank = await client.post("/api/v1/session", json={"username": "dung.pham"})
    assert blank.status == 400
    assert await store.sessions.count_documents({}) == 0


# --- cookies and session ids ----------------------------------------------------------------


async def test_the_cookie_is_httponly_samesite_lax_and_not_secure_in_tests(
    client: Client, store: Store
) -> None:
    await add_user(store, "em.vo", Role.OPERATOR)
    response = await client.post(
        "/api/v1/session", json={"username": "em.vo", "password": PASSWORD}
    )
    cookie = response.cookies[SESSION_COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert not cookie["secure"]
    assert not cookie["max-age"]  # ends with the browser


async def test_the_cookie_is_secure_in_production(
    make_client: ClientFactory, store: Store, staff_settings: StaffServiceSettings
) -> None:
    production = staff_settings.model_copy(update={"env": "production"})
    client = await make_client(settings=production, argon2=CHEAP_ARGON2)
    await add_user(store, "giang.ho", Role.OPERATOR)
    response = await client.post(
        "/api/v1/session", json={"username": "giang.ho", "password": PASSWORD}
    )
    assert response.status == 200
    header = response.headers["Set-Cookie"]
    assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header


async def test_a_login_gets_a_new_session_id_and_ends_the_one_the_browser_had(
    client: Client, store: Store
) -> None:
    await add_user(store, "hai.dang", Role.OPERATOR)
    first = await log_in(client, "hai.dang")
    second = await log_in(client, "hai.dang", cookies=first.cookies)
    assert second.token != first.token and second.csrf_token != first.csrf_token
    assert (await client.get("/api/v1/session", cookies=first.cookies)).status == 401
    assert (await client.get("/api/v1/session", cookies=second.cookies)).status == 200
    assert await store.sessions.count_documents({}) == 1


# --- CSRF -----------------------------------------------------------------------------------


async def test_a_state_change_without_or_with_a_wrong_csrf_token_is_refused(
    client: Client, store: Store
) -> None:
    await add_user(store, "khanh.bui", Role.OPERATOR)
    agent = await log_in(client, "khanh.bui")

    missing = await client.post("/api/v1/assign", cookies=agent.cookies)
    wrong = await client.post(
        "/api/v1/assign", cookies=agent.cookies, headers={"X-CSRF-Token": "x" * 43}
    )
    for response in (missing, wrong):
        assert response.status == 403
        assert (await response.json())["error"] == "csrf"
    # Logging out is a state change too.
    logout = await client.delete("/api/v1/session", cookies=agent.cookies)
    assert logout.status == 403

    by_header = await client.post("/api/v1/assign", cookies=agent.cookies, headers=agent.headers)
    assert by_header.status == 200
    by_field = await client.post(
        "/api/v1/assign", cookies=agent.cookies, data={"csrf_token": agent.csrf_token}
    )
    assert by_field.status == 200

    entries = await audit_log(store, "request")
    assert [(e["outcome"], e["detail"].get("reason"), e["target"]) for e in entries] == [
        ("denied", "csrf", "POST /api/v1/assign"),
        ("denied", "csrf", "POST /api/v1/assign"),
        ("denied", "csrf", "DELETE /api/v1/session"),
        # Every state change a console makes is logged, without code of its own.
        ("success", None, "POST /api/v1/assign"),
        ("success", None, "POST /api/v1/assign"),
    ]
    assert all(e["actor"] == "khanh.bui" for e in entries)
    assert entries[-1]["detail"] == {"route": "/api/v1/assign", "status": 200}


async def test_another_users_csrf_token_does_not_pass(client: Client, store: Store) -> None:
    await add_user(store, "lan.ngo", Role.OPERATOR)
    await add_user(store, "minh.do", Role.OPERATOR)
    lan, minh = await log_in(client, "lan.ngo"), await log_in(client, "minh.do")
    response = await client.post("/api/v1/assign", cookies=lan.cookies, headers=minh.headers)
    assert response.status == 403


# --- roles ----------------------------------------------------------------------------------


async def test_a_role_that_may_not_reach_a_route_is_refused(client: Client, store: Store) -> None:
    await add_user(store, "nga.ly", Role.HOTLINE_AGENT)
    await add_user(store, "oanh.mai", Role.AGENCY_STAFF, "so-y-te")
    agent = await log_in(client, "nga.ly")
    staff = await log_in(client, "oanh.mai")

    assigned = await client.post("/api/v1/assign", cookies=agent.cookies, headers=agent.headers)
    assert assigned.status == 403
    assert await assigned.json() == {
        "error": "forbidden",
        "message": "Tài khoản của bạn không có quyền thực hiện thao tác này.",
    }
    accounts = await client.get("/api/v1/users", cookies=staff.cookies)
    assert accounts.status == 403
    assert (await client.post("/api/v1/assign")).status == 401  # nobody logged in

    denied = [e for e in await audit_log(store, "request") if e["outcome"] == "denied"]
    assert [(e["actor"], e["target"], e["detail"]) for e in denied] == [
        ("nga.ly", "POST /api/v1/assign", {"reason": "role", "required": "admin,operator"}),
        ("oanh.mai", "GET /api/v1/users", {"reason": "role", "required": "admin,agency_admin"}),
    ]


async def test_a_page_without_a_session_sends_the_browser_to_the_login_page(
    client: Client,
) -> None:
    response = await client.get(
        "/console?tab=1", headers={"Accept": "text/html"}, allow_redirects=False
    )
    assert response.status == 303
    assert response.headers["Location"] == "/dang-nhap?next=%2Fconsole%3Ftab%3D1"


async def test_a_role_change_applies_at_the_next_request(client: Client, store: Store) -> None:
    await add_user(store, "phuc.admin", Role.ADMIN)
    await add_user(store, "quan.ta", Role.OPERATOR)
    admin, operator = await log_in(client, "phuc.admin"), await log_in(client, "quan.ta")
    assert (
        await client.post("/api/v1/assign", cookies=operator.cookies, headers=operator.headers)
    ).status == 200

    changed = await client.post(
        "/api/v1/users/quan.ta/role",
        json={"role": "hotline_agent"},
        cookies=admin.cookies,
        headers=admin.headers,
    )
    assert changed.status == 200, await changed.text()

    refused = await client.post(
        "/api/v1/assign", cookies=operator.cookies, headers=operator.headers
    )
    assert refused.status == 403
    me = await client.get("/api/v1/session", cookies=operator.cookies)
    assert (await me.json())["role"] == "hotline_agent"
    [entry] = await audit_log(store, "user.role")
    assert entry["actor"] == "phuc.admin" and entry["target"] == "quan.ta"
    assert entry["detail"]["from_role"] == "operator" and entry["detail"]["role"] == "hotline_agent"


# --- disabling ------------------------------------------------------------------------------


async def test_a_disabled_account_is_logged_out_at_once(client: Client, store: Store) -> None:
    await add_user(store, "son.admin", Role.AGENCY_ADMIN, "so-xay-dung")
    await add_user(store, "tam.cao", Role.AGENCY_STAFF, "so-xay-dung")
    admin = await log_in(client, "son.admin")
    staff = await log_in(client, "tam.cao")
    await log_in(client, "tam.cao")  # a second browser
    assert (await client.get("/api/v1/session", cookies=staff.cookies)).status == 200

    disabled = await client.post(
        "/api/v1/users/tam.cao/disable", cookies=admin.cookies, headers=admin.headers
    )
    assert disabled.status == 200
    assert (await disabled.json())["active"] is False

    assert (await client.get("/api/v1/session", cookies=staff.cookies)).status == 401
    assert await store.sessions.count_documents({}) == 1  # the administrator's own
    [entry] = await audit_log(store, "user.disable")
    assert (entry["actor"], entry["target"], entry["outcome"]) == (
        "son.admin",
        "tam.cao",
        "success",
    )
    assert entry["detail"] == {"sessions": 2}
    again = await client.post("/api/v1/session", json={"username": "tam.cao", "password": PASSWORD})
    assert again.status == 401


async def test_an_account_disabled_in_the_store_directly_is_out_at_its_next_request(
    client: Client, store: Store
) -> None:
    await add_user(store, "uyen.la", Role.OPERATOR)
    agent = await log_in(client, "uyen.la")
    await store.users.update_one({"username": "uyen.la"}, {"$set": {"active": False}})

    response = await client.post("/api/v1/assign", cookies=agent.cookies, headers=agent.headers)
    assert response.status == 401
    assert await store.sessions.count_documents({}) == 0
    [entry] = await audit_log(store, "session.revoked")
    assert entry["target"] == "uyen.la" and entry["detail"] == {"reason": "disabled"}


# --- agency administrators ------------------------------------------------------------------


async def test_an_agency_administrator_manages_only_their_own_agency(
    client: Client, store: Store
) -> None:
    await add_user(store, "viet.admin", Role.AGENCY_ADMIN, "so-xay-dung")
    await add_user(store, "xuan.yte", Role.AGENCY_STAFF, "so-y-te")
    await add_user(store, "yen.op", Role.OPERATOR)
    admin = await log_in(client, "viet.admin")

    async def post(path: str, body: dict[str, str] | None = None) -> tuple[int, str]:
        response = await client.post(path, json=body, cookies=admin.cookies, headers=admin.headers)
        return response.status, (await response.json()).get("error", "")

    new = {"username": "anh.xd", "password": PASSWORD, "role": "agency_staff"}
    # Without an agency, an agency administrator's new account is of their own agency.
    assert await post("/api/v1/users", new) == (201, "")
    assert await post("/api/v1/users", {**new, "username": "b.yte", "agency": "so-y-te"}) == (
        403,
        "forbidden",
    )
    assert await post("/api/v1/users", {**new, "username": "c.op", "role": "operator"}) == (
        403,
        "forbidden",
    )
    assert await post("/api/v1/users", {**new, "username": "d.ad", "role": "admin"}) == (
        403,
        "forbidden",
    )
    assert await post("/api/v1/users/xuan.yte/disable") == (403, "forbidden")
    assert await post("/api/v1/users/yen.op/disable") == (403, "forbidden")
    assert await post("/api/v1/users/xuan.yte/role", {"role": "agency_admin"}) == (
        403,
        "forbidden",
    )
    assert await post("/api/v1/users/anh.xd/disable") == (200, "")
    assert await post("/api/v1/users/viet.admin/disable") == (403, "self")

    listing = await client.get("/api/v1/users", cookies=admin.cookies)
    assert [u["username"] for u in (await listing.json())["items"]] == ["anh.xd", "viet.admin"]
    other = await client.get("/api/v1/users?agency=so-y-te", cookies=admin.cookies)
    assert other.status == 403

    xuan = await store.users.find_one({"username": "xuan.yte"})
    assert xuan is not None and xuan["active"] is True and xuan["role"] == "agency_staff"
    assert await store.users.find_one({"username": "b.yte"}) is None
    refusals = [
        (e["action"], e["target"], e["detail"]["code"])
        for e in await audit_log(store)
        if e["outcome"] == "denied"
    ]
    assert refusals == [
        ("user.create", "b.yte", "forbidden"),
        ("user.create", "c.op", "forbidden"),
        ("user.create", "d.ad", "forbidden"),
        ("user.disable", "xuan.yte", "forbidden"),
        ("user.disable", "yen.op", "forbidden"),
        ("user.role", "xuan.yte", "forbidden"),
        ("user.disable", "viet.admin", "self"),
    ]
    created = await audit_log(store, "user.create")
    assert (created[-4]["actor"], created[-4]["outcome"], created[-4]["detail"]) == (
        "viet.admin",
        "success",
        {"role": "agency_staff", "agency": "so-xay-dung"},
    )


async def test_the_account_api_says_what_is_wrong(client: Client, store: Store) -> None:
    await add_user(store, "admin", Role.ADMIN)
    admin = await log_in(client, "admin")

    async def create(**body: str) -> tuple[int, str]:
        account = {"username": "moi.tao", "password": PASSWORD, "role": "agency_staff"}
        response = await client.post(
            "/api/v1/users", json={**account, **body}, cookies=admin.cookies, headers=admin.headers
        )
        return response.status, (await response.json()).get("error", "")

    assert await create(agency="so-khong-co") == (422, "unknown_agency")
    assert await create() == (422, "agency_required")
    assert await create(role="operator", agency="so-y-te") == (422, "agency_not_allowed")
    assert await create(agency="so-y-te", password="ngắn") == (422, "weak_password")
    assert await create(agency="so-y-te", username="Có Dấu") == (422, "invalid_username")
    assert await create(role="mayor") == (422, "invalid_role")
    assert await create(agency="so-y-te") == (201, "")
    assert await create(agency="so-y-te") == (409, "username_taken")
    disabled = await client.post(
        "/api/v1/users/khong.co/disable", cookies=admin.cookies, headers=admin.headers
    )
    assert disabled.status == 404


# --- throttling -----------------------------------------------------------------------------


async def test_an_account_is_throttled_after_repeated_failures(
    make_client: ClientFactory, store: Store, clock: FakeClock
) -> None:
    client = await make_client(max_failures_per_account_address=3)
    await add_user(store, "vinh.ha", Role.OPERATOR)

    async def attempt(username: str, password: str) -> int:
        response = await client.post(
            "/api/v1/session", json={"username": username, "password": password}
        )
        return response.status

    assert [await attempt("vinh.ha", "guess number one") for _ in range(3)] == [401, 401, 401]
    locked = await client.post(
        "/api/v1/session", json={"username": "vinh.ha", "password": PASSWORD}
    )
    assert locked.status == 429
    assert 14 * 60 < int(locked.headers["Retry-After"]) <= 15 * 60
    body = await locked.json()
    assert body["error"] == "throttled" and "15 phút" in body["message"]

    # An unknown name is throttled exactly alike: the 429 tells nothing about accounts.
    assert [await attempt("khong.ai", "guess number one") for _ in range(4)] == [
        401,
        401,
        401,
        429,
    ]

    clock.advance(minutes=15, seconds=1)
    assert await attempt("vinh.ha", PASSWORD) == 200
    throttled = [e for e in await audit_log(store, "login") if e["outcome"] == "denied"]
    assert len(throttled) == 2 and throttled[0]["detail"]["reason"] == "throttled"


async def test_a_successful_login_clears_the_accounts_failures(
    make_client: ClientFactory, store: Store
) -> None:
    client = await make_client(max_failures_per_account_address=3)
    await add_user(store, "xuan.le", Role.OPERATOR)

    async def attempt(password: str) -> int:
        response = await client.post(
            "/api/v1/session", json={"username": "xuan.le", "password": password}
        )
        return response.status

    assert [await attempt("wrong password") for _ in range(2)] == [401, 401]
    assert await attempt(PASSWORD) == 200
    assert [await attempt("wrong password") for _ in range(3)] == [401, 401, 401]
    assert await attempt(PASSWORD) == 429


async def test_an_address_is_throttled_across_accounts(
    make_client: ClientFactory, store: Store
) -> None:
    client = await make_client(max_failures_per_address=4)
    await add_user(store, "yen.vu", Role.OPERATOR)

    async def attempt(username: str, address: str, password: str = "wrong password") -> int:
        response = await client.post(
            "/api/v1/session",
            json={"username": username, "password": password},
            headers=via(address),
        )
        return response.status

    attacker = "203.0.113.7"
    assert [await attempt(f"user{n}", attacker) for n in range(4)] == [401] * 4
    assert await attempt("yen.vu", attacker, PASSWORD) == 429
    assert await attempt("yen.vu", "198.51.100.20", PASSWORD) == 200
    # An IPv6 subscriber's whole /64 counts as one address.
    assert [await attempt(f"user{n}", f"2001:db8:1:2::{n}") for n in range(1, 6)] == [
        401,
        401,
        401,
        401,
        429,
    ]
    assert await attempt("yen.vu", "2001:db8:1:3::1", PASSWORD) == 200


async def test_a_stranger_cannot_lock_an_officer_out(
    make_client: ClientFactory, store: Store
) -> None:
    """Failures at one address lock that address out of the account, not the officer."""
    client = await make_client(max_failures_per_account_address=3)
    await add_user(store, "an.tran", Role.OPERATOR)

    async def attempt(address: str, password: str = "wrong password") -> int:
        response = await client.post(
            "/api/v1/session",
            json={"username": "an.tran", "password": password},
            headers=via(address),
        )
        return response.status

    stranger = "203.0.113.50"
    assert [await attempt(stranger) for _ in range(4)] == [401, 401, 401, 429]
    assert await attempt(stranger, PASSWORD) == 429
    assert await attempt("198.51.100.9", PASSWORD) == 200


async def test_guesses_from_many_addresses_slow_the_account_but_not_its_owner(
    make_client: ClientFactory, store: Store, clock: FakeClock
) -> None:
    client = await make_client(max_failures_per_account=4, max_account_delay=timedelta(seconds=30))
    await add_user(store, "binh.le", Role.OPERATOR)

    async def attempt(address: str, password: str = "wrong password") -> ClientResponse:
        return await client.post(
            "/api/v1/session",
            json={"username": "binh.le", "password": password},
            headers=via(address),
        )

    office = "198.51.100.30"
    assert (await attempt(office, PASSWORD)).status == 200  # the owner's usual address
    botnet = [f"203.0.113.{n}" for n in range(1, 5)]
    assert [(await attempt(a)).status for a in botnet] == [401] * 4
    slowed = await attempt("203.0.113.99")
    assert slowed.status == 429
    # A delay of seconds that doubles, not a quarter-hour lock.
    assert 1 <= int(slowed.headers["Retry-After"]) <= 30
    assert (await attempt(office, PASSWORD)).status == 200
    clock.advance(seconds=31)
    assert (await attempt("203.0.113.100")).status == 401


# --- expiry ---------------------------------------------------------------------------------


async def test_a_session_ends_after_30_idle_minutes_and_slides_while_used(
    client: Client, store: Store, clock: FakeClock
) -> None:
    await add_user(store, "zung.ha", Role.OPERATOR)
    agent = await log_in(client, "zung.ha")
    created = await store.sessions.find_one({})
    assert created is not None

    clock.advance(seconds=30)
    assert (await client.get("/api/v1/session", cookies=agent.cookies)).status == 200
    unchanged = await store.sessions.find_one({})
    assert unchanged is not None and unchanged["last_seen"] == created["last_seen"]

    for _ in range(3):  # used every 29 minutes: well past 30 minutes in all
        clock.advance(minutes=29)
        assert (await client.get("/api/v1/session", cookies=agent.cookies)).status == 200
    touched = await store.sessions.find_one({})
    assert touched is not None and touched["expires_at"] > created["expires_at"]

    clock.advance(minutes=30)
    assert (await client.get("/api/v1/session", cookies=agent.cookies)).status == 401
    assert await store.sessions.count_documents({}) == 0


async def test_a_session_ends_after_12_hours_however_busy(
    client: Client, store: Store, clock: FakeClock
) -> None:
    await add_user(store, "an.ho", Role.HOTLINE_AGENT)
    agent = await log_in(client, "an.ho")
    for _ in range(35):  # every 20 minutes, 11 h 40 min
        clock.advance(minutes=20)
        assert (await client.get("/api/v1/session", cookies=agent.cookies)).status == 200
    clock.advance(minutes=20)
    assert (await client.get("/api/v1/session", cookies=agent.cookies)).status == 401


# --- hashes and the audit log ---------------------------------------------------------------


async def test_a_login_upgrades_a_hash_made_with_older_parameters(
    make_client: ClientFactory, store: Store
) -> None:
    await add_user(store, "binh.ly", Role.OPERATOR)  # hashed with the cheapest parameters
    stronger = Argon2Params(time_cost=2, memory_cost=16, parallelism=1)
    client = await make_client(argon2=stronger)
    await log_in(client, "binh.ly")
    doc = await store.users.find_one({"username": "binh.ly"})
    assert doc is not None and doc["password_hash"].startswith("$argon2id$v=19$m=16,t=2,p=1$")
    await log_in(client, "binh.ly")  # and the new hash verifies


async def test_no_password_ever_reaches_the_audit_log(client: Client, store: Store) -> None:
    await add_user(store, "chi.admin", Role.ADMIN)
    admin = await log_in(client, "chi.admin")
    await client.post("/api/v1/session", json={"username": "chi.admin", "password": "typo"})
    # Someone typing their password into the username box:
    await client.post("/api/v1/session", json={"username": PASSWORD, "password": "x"})
    await client.post(
        "/api/v1/users",
        json={"username": "dao.moi", "password": "Mật khẩu mới tinh 99", "role": "operator"},
        cookies=admin.cookies,
        headers=admin.headers,
    )
    text = str(await audit_log(store))
    assert "typo" not in text and PASSWORD not in text and "Mật khẩu mới" not in text
    assert "dao.moi" in text
