"""An overdue case handled by several agencies is escalated to the provincial People's
Committee, once, and the reason is shown publicly (Quy chế phối hợp 2022)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY

from pakn.public import public_view
from pakn.store import Store
from pakn_router.app import ROUTER
from pakn_router.monitor.sweeper import ESCALATE_TO, Sweeper
from tests.fixtures.broker import QueueInspector
from tests.pakn_router.conftest import RouterClient, waiting_events
from tests.pakn_router.test_monitor_api import (
    BUILDING,
    CITY_LIGHTS,
    assigned_to,
    case_events,
    insert_case,
    left_in_triage,
)


async def test_an_overdue_multi_agency_case_is_escalated_once_with_a_public_reason(
    router: RouterClient, store: Store, events: QueueInspector
) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=20)
    shared = dataclasses.replace(assigned_to(CITY_LIGHTS), co_agencies=(BUILDING,))
    late_shared = await insert_case(router, store, shared, received_at=long_ago)
    late_alone = await insert_case(router, store, assigned_to(CITY_LIGHTS), received_at=long_ago)
    on_time = await insert_case(router, store, shared)

    sweeper = Sweeper(store, router.app[ROUTER], clock=lambda: datetime.now(UTC))
    assert (await sweeper.sweep()).escalated == 1
    assert (await sweeper.sweep()).escalated == 0

    case = await store.cases.find_one({"tracking_code": late_shared.tracking_code})
    assert case is not None
    assert case["escalation"]["to"] == ESCALATE_TO
    assert "nhiều cơ quan" in case["escalation"]["reason"]
    assert case["overdue"] is True
    assert case["history"][-1]["action"] == "escalated"
    assert await waiting_events(store, case) == 0
    ((key, escalated),) = await case_events(events, late_shared.tracking_code)
    assert key == f"case.escalated.{CITY_LIGHTS}"
    assert escalated.event == "escalated"

    view = public_view(case, {"ubnd-tinh": "Ủy ban nhân dân tỉnh Khánh Hòa"}.get)
    assert view["escalation"]["to_name"] == "Ủy ban nhân dân tỉnh Khánh Hòa"
    assert view["escalation"]["reason"] == case["escalation"]["reason"]

    for untouched in (late_alone, on_time):
        doc = await store.cases.find_one({"tracking_code": untouched.tracking_code})
        assert doc is not None and doc["escalation"] is None


async def test_the_sweep_measures_what_waits_for_people(router: RouterClient, store: Store) -> None:
    await insert_case(router, store, left_in_triage())
    await insert_case(router, store, left_in_triage())
    await insert_case(
        router, store, assigned_to(CITY_LIGHTS), received_at=datetime.now(UTC) - timedelta(days=9)
    )
    await Sweeper(store, router.app[ROUTER], clock=lambda: datetime.now(UTC)).sweep()
    waiting = REGISTRY.get_sample_value("pakn_router_cases_waiting", {"status": "triage"})
    assert waiting == 2
    assert REGISTRY.get_sample_value("pakn_router_overdue_cases") == 1
    assert REGISTRY.get_sample_value("pakn_router_dead_letters_waiting") == 0
