"""Every citizen page fits a 375 px phone: nothing makes the page scroll sideways."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser

from tests.pakn_web.conftest import WebClient

pytestmark = pytest.mark.browser

PAGES = ["/", "/tra-cuu", "/tra-cuu?ma=123", "/ket-qua", "/ket-qua?tu=hôm-qua"]

#: Elements wider than the viewport, for the failure message.
WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
  .slice(0, 5).map(e => e.tagName + (e.id ? '#' + e.id : '') + ' ' +
                   Math.round(e.getBoundingClientRect().right))"""


@pytest.mark.parametrize("path", PAGES)
async def test_no_citizen_page_scrolls_sideways_at_375_px(
    web: WebClient, browser: Browser, path: str
) -> None:
    context = await browser.new_context(viewport={"width": 375, "height": 740}, locale="vi-VN")
    page = await context.new_page()
    try:
        await page.goto(str(web.make_url(path)))
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} is {width} px wide: {await page.evaluate(WIDEST)}"
    finally:
        await context.close()
