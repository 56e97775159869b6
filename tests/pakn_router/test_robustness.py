"""The router tells the truth about its health and never stops for good: an unexpected
failure while routing or sweeping is seen on /healthz, the loop restarts, the submission
that caused it is dead-lettered with its reason, and the next ones are routed. Stored cases
stay readable after the schema version moves on."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.web import Application
from pydantic import ValidationError

from pakn.auth.users import Role
from pakn.schema import SCHEMA_VERSION, Submission
from pakn.store import Store
from pakn_router.app import CLASSIFIER, ROUTER, init_app
from pakn_router.classification import Classification
from pakn_router.classify import Classifier
from pakn_router.monitor.sweeper import ESCALATE_TO, Sweeper
from pakn_router.settings import RouterSettings
from tests.fixtures.broker import QueueInspector
from tests.pakn_router.conftest import RouterClient, make_submission, wait_for_case
from tests.pakn_router.test_monitor_api import (
    BUILDING,
    CITY_LIGHTS,
    LIGHTS,
    assigned_to,
    insert_case,
    post_json,
    sign_in,
)

ClientFactory = Callable[[Application], Awaitable[RouterClient]]
#: A word no report uses: the classifier below breaks on it.
BREAKING = "xyzzy-hỏng"
GOOD_TEXT = (
    "Đèn đường trên đường Trần Phú trước số 120 không sáng ba đêm nay, rất tối và nguy hiểm."
)


class BreaksOnOneText(Classifier):
    """The real classifier, except that one text raises an unexpected error (a KeyError, as a
    broken province folder would): a fault injected at the seam the router is built with."""

    def classify(
        self,
        text: str,
        *,
        title: str | None = None,
        address: str | None = None,
        lat: float | None = None,
        lon: float | None = None,
    ) -> Classification:
        if BREAKING in text:
            raise KeyError("agency 'so-khong-co' is not in routing.yaml")
        return super().classify(text, title=title, address=address, lat=lat, lon=lon)


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 30.0) -> None:
    async with asyncio.timeout(within):
        while not await check():
            await asyncio.sleep(0.05)


async def health(router: RouterClient) -> tuple[int, dict[str, Any]]:
    response = await router.get("/healthz")
    body: dict[str, Any] = await response.json()
    return response.status, body


@pytest.fixture
async def fast_router(
    aiohttp_client: ClientFactory,
    router_settings: RouterSettings,
    store: Store,
    events: QueueInspector,
) -> RouterClient:
    """The router with quick loop restarts and sweeps, and the breakable classifier."""
    settings = router_settings.model_copy(
        update={"router_loop_backoff": 0.3, "router_sweep_interval": 0.2}
    )
    app = await init_app(settings)
    real = app[CLASSIFIER]
    app[CLASSIFIER] = BreaksOnOneText(real.config, real.sla)
    return await aiohttp_client(app)


async def test_a_routing_failure_is_seen_dead_lettered_and_the_next_is_routed(
    fast_router: RouterClient,
    store: Store,
    publisher: Callable[[Submission], Awaitable[None]],
) -> None:
    router = fast_router
    assert (await health(router))[0] == 200
    broken = make_submission(f"Đèn đường {BREAKING} trước số 7 Lê Lợi không sáng mấy đêm nay.")
    await publisher(broken)

    seen: list[str] = []

    async def worker_down() -> bool:
        status, body = await health(router)
        seen.append(body["checks"]["loop:router.worker"])
        return status == 503 and seen[-1] != "ok"

    await eventually(worker_down)
    assert "KeyError" in seen[-1]

    following = make_submission(GOOD_TEXT)
    await publisher(following)
    case = await wait_for_case(store, {"submission_id": following.submission_id}, within=30)
    assert case["tracking_code"] == following.tracking_code

    async def dead_lettered() -> bool:
        return await store.dead_letters.count_documents({"message_id": broken.submission_id}) > 0

    await eventually(dead_lettered)
    letter = await store.dead_letters.find_one({"message_id": broken.submission_id})
    assert letter is not None
    assert letter["stage"] == "route"
    assert "routing failed 3 times" in letter["reason"] and "KeyError" in letter["reason"]
    assert await store.cases.count_documents({"submission_id": broken.submission_id}) == 0

    async def healthy() -> bool:
        return (await health(router))[0] == 200

    await eventually(healthy)
    # The restarts are counted.
    metrics = await (await router.get("/metrics")).text()
    assert 'pakn_loop_restarts_total{loop="router.worker"}' in metrics


async def test_a_tracking_code_taken_by_another_case_is_dead_lettered_not_dropped(
    fast_router: RouterClient,
    store: Store,
    publisher: Callable[[Submission], Awaitable[None]],
) -> None:
    first = make_submission(GOOD_TEXT)
    await publisher(first)
    await wait_for_case(store, {"submission_id": first.submission_id})
    # Another submission carrying the same tracking code (a broken channel).
    clash = make_submission(GOOD_TEXT + " Xin xử lý sớm.").model_copy(
        update={"tracking_code": first.tracking_code}
    )
    await publisher(clash)

    async def dead_lettered() -> bool:
        return await store.dead_letters.count_documents({"message_id": clash.submission_id}) > 0

    await eventually(dead_lettered)
    letter = await store.dead_letters.find_one({"message_id": clash.submission_id})
    assert letter is not None and letter["stage"] == "route"
    assert "CaseConflict" in letter["reason"] and "tracking_code" in letter["reason"]
    assert await store.cases.count_documents({"tracking_code": first.tracking_code}) == 1


async def test_a_sweep_failure_is_seen_and_the_sweeper_recovers(
    fast_router: RouterClient, store: Store
) -> None:
    router = fast_router
    long_ago = datetime.now(UTC) - timedelta(days=20)
    shared = dataclasses.replace(assigned_to(CITY_LIGHTS), co_agencies=(BUILDING,))
    late = await insert_case(router, store, shared, received_at=long_ago)
    assert (await health(router))[0] == 200
    # A stored case the sweep cannot read (written by hand, with a field that does not exist).
    broken = await insert_case(router, store, shared, received_at=long_ago)
    await store.cases.update_one(
        {"tracking_code": broken.tracking_code}, {"$set": {"field": "khong-co-linh-vuc"}}
    )

    async def sweeper_down() -> bool:
        status, body = await health(router)
        return status == 503 and body["checks"]["loop:router.sweeper"] != "ok"

    await eventually(sweeper_down)
    await store.cases.update_one(
        {"tracking_code": broken.tracking_code}, {"$set": {"field": LIGHTS}}
    )

    async def escalated() -> bool:
        doc = await store.cases.find_one({"tracking_code": late.tracking_code})
        return doc is not None and doc["escalation"] is not None

    await eventually(escalated)

    async def healthy() -> bool:
        return (await health(router))[0] == 200

    await eventually(healthy)


async def test_a_case_stored_at_an_older_version_is_followed_up_reassigned_and_escalated(
    router: RouterClient,
    store: Store,
    publisher: Callable[[Submission], Awaitable[None]],
) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=20)
    shared = dataclasses.replace(assigned_to(CITY_LIGHTS), co_agencies=(BUILDING,))
    sent = await insert_case(router, store, shared, received_at=long_ago)
    old = SCHEMA_VERSION - 1
    await store.cases.update_one(
        {"tracking_code": sent.tracking_code}, {"$set": {"schema_version": old}}
    )
    stored = await store.cases.find_one({"tracking_code": sent.tracking_code})
    assert stored is not None
    stored.pop("_id")
    # The bus no longer takes this version: only the store's own rule can read the case.
    with pytest.raises(ValidationError):
        Submission.model_validate({k: stored[k] for k in Submission.model_fields})

    followup = make_submission(
        "Bổ sung: đèn vẫn chưa sáng, thêm hai cột nữa cũng tắt.", in_reply_to=sent.tracking_code
    )
    await publisher(followup)
    await wait_for_case(store, {"followups.submission_id": followup.submission_id})

    operator = await sign_in(router, store, "dieu.phoi.cu", Role.OPERATOR)
    moved = await post_json(
        router,
        f"/api/v1/cases/{sent.tracking_code}/assign",
        operator,
        {"field": LIGHTS, "lead_agency": BUILDING, "co_agencies": [CITY_LIGHTS], "reason": "Đổi."},
    )
    assert moved["event"] == "reassigned"

    sweeper = Sweeper(store, router.app[ROUTER], clock=lambda: datetime.now(UTC))
    assert (await sweeper.sweep()).escalated == 1
    case = await store.cases.find_one({"tracking_code": sent.tracking_code})
    assert case is not None
    assert case["escalation"]["to"] == ESCALATE_TO
    assert case["lead_agency"] == BUILDING
    assert [f["submission_id"] for f in case["followups"]] == [followup.submission_id]
