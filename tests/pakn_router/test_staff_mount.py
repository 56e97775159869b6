"""Staff login is mounted on the router's port, where the monitor lives."""

from __future__ import annotations

from pakn.auth.web import LOGIN_PATH, undeclared_routes
from tests.pakn_router.conftest import RouterClient


async def test_the_router_serves_the_login_page_and_the_session_api(router: RouterClient) -> None:
    page = await router.get(LOGIN_PATH)
    assert page.status == 200
    text = await page.text()
    assert "<form" in text and 'name="password"' in text
    assert (await router.get("/api/v1/session")).status == 401
    response = await router.post(
        "/api/v1/session", json={"username": "khong-ai", "password": "sai-mat-khau"}
    )
    assert response.status == 401
    assert undeclared_routes(router.app) == [], "every route declares who may reach it"
