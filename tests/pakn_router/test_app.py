"""What the router's app prepares before it serves (no connection made)."""

from __future__ import annotations

from pakn import text
from pakn_router.app import init_app
from pakn_router.settings import RouterSettings


async def test_the_router_builds_what_masking_builds_before_its_first_case(
    router_settings: RouterSettings,
) -> None:
    # The table of every non-decimal digit: ~100 ms, which the first case paid before.
    text._spelled_candidate.cache_clear()
    await init_app(router_settings)
    assert text._spelled_candidate.cache_info().currsize == 1
