"""The login page: a plain HTML form that works without JavaScript, in Vietnamese."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from pakn.auth.users import Role
from pakn.auth.web import LOGIN_NONCE_COOKIE, SESSION_COOKIE
from pakn.store import Store
from tests.pakn.auth.conftest import PASSWORD, Client, ClientFactory, add_user, audit_log

HTML = {"Accept": "text/html"}


class Forms(HTMLParser):
    """Each form's action and its inputs' values, as a browser would submit them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: dict[str, dict[str, str]] = {}
        self.labels: dict[str, str] = {}
        self._form: dict[str, str] | None = None
        self._label: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag == "form":
            assert attributes["method"] == "post"
            self._form = self.forms.setdefault(attributes["action"], {})
        elif tag == "input" and self._form is not None:
            self._form[attributes["name"]] = attributes.get("value", "")
        elif tag == "label":
            self._label = attributes["for"]

    def handle_data(self, data: str) -> None:
        if self._label is not None and data.strip():
            self.labels[self._label] = data.strip()

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "label":
            self._label = None


async def login_form(browser: Client, path: str = "/dang-nhap") -> dict[str, str]:
    page = await browser.get(path, headers=HTML)
    assert page.status == 200
    return Forms(await page.text()).forms["/dang-nhap"]


@pytest.fixture
async def browser(make_client: ClientFactory) -> Client:
    return await make_client(browser=True)


async def test_the_page_is_vietnamese_accessible_and_unframeable(browser: Client) -> None:
    page = await browser.get("/dang-nhap", headers=HTML)
    assert page.status == 200
    html = await page.text()
    assert '<html lang="vi">' in html
    assert "<title>Đăng nhập — Hệ thống tiếp nhận phản ánh, kiến nghị</title>" in html
    assert "Đăng nhập dành cho cán bộ" in html
    forms = Forms(html)
    assert forms.labels == {"username": "Tên đăng nhập", "password": "Mật khẩu"}
    assert set(forms.forms["/dang-nhap"]) == {"csrf_token", "next", "username", "password"}
    assert 'autocomplete="current-password"' in html
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    nonce = page.cookies[LOGIN_NONCE_COOKIE]
    assert nonce["httponly"] is True and nonce["samesite"] == "Lax"


async def test_logging_in_with_the_form_leads_back_to_the_page_asked_for(
    browser: Client, store: Store
) -> None:
    await add_user(store, "hoa.le", Role.HOTLINE_AGENT, display_name="Lê Thị Hoa")
    asked = await browser.get("/console", headers=HTML, allow_redirects=False)
    assert asked.status == 303
    form = await login_form(browser, asked.headers["Location"])
    assert form["next"] == "/console"

    response = await browser.post(
        "/dang-nhap",
        data={**form, "username": "hoa.le", "password": PASSWORD},
        allow_redirects=False,
    )
    assert response.status == 303
    assert response.headers["Location"] == "/console"
    assert response.cookies[SESSION_COOKIE]["httponly"] is True

    console = await browser.get("/console", headers=HTML)
    assert console.status == 200
    assert "Xin chào Lê Thị Hoa" in await console.text()
    [entry] = await audit_log(store, "login")
    assert (entry["outcome"], entry["actor"]) == ("success", "hoa.le")


@pytest.mark.parametrize(
    "next_path",
    ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"],
)
async def test_after_login_the_form_never_leaves_the_site(
    browser: Client, store: Store, next_path: str
) -> None:
    await add_user(store, "kim.vo", Role.OPERATOR)
    form = await login_form(browser)
    response = await browser.post(
        "/dang-nhap",
        data={**form, "next": next_path, "username": "kim.vo", "password": PASSWORD},
        allow_redirects=False,
    )
    assert response.status == 303
    assert response.headers["Location"] == "/"


async def test_a_wrong_password_shows_the_form_again_with_the_one_generic_error(
    browser: Client, store: Store
) -> None:
    await add_user(store, "long.ta", Role.OPERATOR)
    form = await login_form(browser)
    response = await browser.post(
        "/dang-nhap", data={**form, "username": "long.ta", "password": "sai mật khẩu rồi"}
    )
    assert response.status == 401
    html = await response.text()
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in html
    assert 'role="alert"' in html
    assert "<title>Lỗi: Đăng nhập" in html
    again = Forms(html).forms["/dang-nhap"]
    assert again["username"] == "long.ta"
    assert again["password"] == ""  # never sent back
    assert "sai mật khẩu" not in html
    assert SESSION_COOKIE not in response.cookies


async def test_a_form_without_its_token_is_refused(browser: Client, store: Store) -> None:
    """What another site could post: the visitor's cookie, but not the matching field."""
    await add_user(store, "mai.dinh", Role.OPERATOR)
    await login_form(browser)  # the browser holds a nonce cookie
    forged = await browser.post("/dang-nhap", data={"username": "mai.dinh", "password": PASSWORD})
    assert forged.status == 403
    assert "Trang đăng nhập đã hết hạn" in await forged.text()
    assert SESSION_COOKIE not in forged.cookies

    form = await login_form(browser)
    browser.session.cookie_jar.clear()  # the field without the cookie it was made for
    stale = await browser.post(
        "/dang-nhap", data={**form, "username": "mai.dinh", "password": PASSWORD}
    )
    assert stale.status == 403
    assert await store.sessions.count_documents({}) == 0
    refused = await audit_log(store, "login")
    assert [(e["outcome"], e["detail"]["reason"]) for e in refused] == [("denied", "csrf")] * 2


async def test_the_logout_button_ends_the_session(browser: Client, store: Store) -> None:
    await add_user(store, "nam.phan", Role.OPERATOR, display_name="Phan Văn Nam")
    form = await login_form(browser)
    await browser.post("/dang-nhap", data={**form, "username": "nam.phan", "password": PASSWORD})
    page = await browser.get("/dang-nhap", headers=HTML)
    html = await page.text()
    assert "Bạn đang đăng nhập với tài khoản Phan Văn Nam (cán bộ vận hành)." in html
    logout = Forms(html).forms["/dang-xuat"]

    refused = await browser.post("/dang-xuat", data={}, allow_redirects=False)
    assert refused.status == 403
    assert (await browser.get("/console", headers=HTML)).status == 200

    done = await browser.post("/dang-xuat", data=logout, allow_redirects=False)
    assert done.status == 303 and done.headers["Location"] == "/dang-nhap"
    assert await store.sessions.count_documents({}) == 0
    after = await browser.get("/console", headers=HTML, allow_redirects=False)
    assert after.status == 303
    assert [e["outcome"] for e in await audit_log(store, "logout")] == ["success"]


async def test_too_many_failures_on_the_form_say_when_to_come_back(
    make_client: ClientFactory, store: Store
) -> None:
    browser = await make_client(browser=True, max_failures_per_account_address=2)
    await add_user(store, "oanh.ly", Role.OPERATOR)
    statuses = []
    for password in ("thử lần một", "thử lần hai", PASSWORD):
        form = await login_form(browser)
        response = await browser.post(
            "/dang-nhap", data={**form, "username": "oanh.ly", "password": password}
        )
        statuses.append(response.status)
    assert statuses == [401, 401, 429]
    assert int(response.headers["Retry-After"]) > 14 * 60
    assert re.search(r"thử lại sau 15 phút", await response.text())


async def test_a_forbidden_page_offers_to_log_in_as_someone_else(
    browser: Client, store: Store
) -> None:
    await add_user(store, "phuong.ha", Role.HOTLINE_AGENT)
    form = await login_form(browser)
    await browser.post("/dang-nhap", data={**form, "username": "phuong.ha", "password": PASSWORD})
    page = await browser.get("/cai-dat", headers=HTML)
    assert page.status == 403
    html = await page.text()
    assert "Tài khoản của bạn không có quyền thực hiện thao tác này." in html
    assert set(Forms(html).forms) == {"/dang-xuat", "/dang-nhap"}
    # The API answers JSON, even to a browser.
    users = await browser.get("/api/v1/users", headers=HTML)
    assert users.status == 403
    assert (await users.json())["error"] == "forbidden"
