"""The outbox's crash windows: the router killed after writing a batch's outbox entries but
before its cases, or after its cases but before publishing. What the kill leaves is written
here with the router's own code, in the order it writes, and a router then starts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiohttp.web import Application

from pakn.schema import Case, CaseEvent, Submission
from pakn.store import Store
from pakn.worktime import WorkCalendar
from pakn_router import case_repository as repository
from pakn_router.app import classify_with, init_app
from pakn_router.cases import apply_classification, combined_text, mark_needs_info, open_case
from pakn_router.classify import Classifier
from pakn_router.settings import RouterSettings
from tests.fixtures.broker import QueueInspector
from tests.pakn_router.conftest import EVENTS_QUEUE, RouterClient, make_submission, wait_for_case

Publish = Callable[[Submission], Awaitable[None]]
StartRouter = Callable[[Application], Awaitable[RouterClient]]

LIGHT = "Đèn đường trên đường Trần Phú trước số 120 không sáng ba đêm nay, rất nguy hiểm."
POTHOLE = "Đường Lê Hồng Phong có nhiều ổ gà lớn, xe máy té ngã liên tục, đề nghị sửa chữa."


async def staged_as_the_router_does(
    store: Store, settings: RouterSettings, submission: Submission
) -> Case:
    """The first of the router's writes for a new case: its events into the outbox."""
    classify = classify_with(Classifier.from_config_dir(settings.config_dir))
    calendar = WorkCalendar.from_config_dir(settings.config_dir)
    now = datetime.now(UTC)
    case = open_case(submission, now)
    apply_classification(case, classify(case, combined_text(case)), calendar, now)
    repository.name_events(case, case.submission_id)
    await repository.stage_events(store, case.outbox, now)
    return case


async def published(queues: QueueInspector) -> list[CaseEvent]:
    return [CaseEvent.model_validate_json(m.body) for m in await queues.drain(EVENTS_QUEUE)]


async def outbox_emptied(store: Store) -> None:
    async with asyncio.timeout(10):
        while await store.outbox.count_documents({}):
            await asyncio.sleep(0.05)


async def test_killed_after_the_cases_before_publishing_the_restart_publishes_them_as_stored(
    aiohttp_client: StartRouter,
    router_settings: RouterSettings,
    store: Store,
    events: QueueInspector,
    publisher: Publish,
) -> None:
    submission = make_submission(LIGHT)
    case = await staged_as_the_router_does(store, router_settings, submission)
    calendar = WorkCalendar.from_config_dir(router_settings.config_dir)
    assert await repository.insert_new(store, [case], calendar) == set()
    stored = [e.event for e in await repository.pending_outbox(store)]
    assert [e.event_id for e in stored] == [e.event_id for e in case.outbox]

    await aiohttp_client(await init_app(router_settings))
    await outbox_emptied(store)
    assert await published(events) == stored, "exactly the events stored, once"

    # The submission, never acked, comes again: nothing more is written or published.
    await publisher(submission)
    after = make_submission(POTHOLE)
    await publisher(after)
    await wait_for_case(store, {"submission_id": after.submission_id})
    assert await store.cases.count_documents({"submission_id": submission.submission_id}) == 1
    assert {e.submission_id for e in await published(events)} == {after.submission_id}


async def test_killed_after_the_outbox_before_the_cases_the_redelivery_routes_it_once(
    aiohttp_client: StartRouter,
    router_settings: RouterSettings,
    store: Store,
    events: QueueInspector,
    publisher: Publish,
) -> None:
    submission = make_submission(LIGHT)
    staged = await staged_as_the_router_does(store, router_settings, submission)

    await aiohttp_client(await init_app(router_settings))
    # Its case is not stored: the entry waits for the submission, and nothing is published.
    assert len(await repository.pending_outbox(store)) == len(staged.outbox)
    assert await published(events) == []

    await publisher(submission)
    await wait_for_case(store, {"submission_id": submission.submission_id})
    await outbox_emptied(store)
    assert await store.cases.count_documents({"submission_id": submission.submission_id}) == 1
    # The same ids as the entries the first try wrote: a consumer that saw one dedupes.
    assert [e.event_id for e in await published(events)] == [e.event_id for e in staged.outbox]


def test_the_routers_event_ids_are_the_same_on_every_try_and_differ_between_events() -> None:
    first, again = make_submission(LIGHT), make_submission(POTHOLE)
    now = datetime.now(UTC)
    cases = [open_case(first, now), open_case(first, now), open_case(again, now)]
    for case in cases:
        mark_needs_info(case, now)
        mark_needs_info(case, now)
        repository.name_events(case, case.submission_id)
    ids = [[e.event_id for e in case.outbox] for case in cases]
    assert ids[0] == ids[1], "a retry writes the same entries"
    assert len({*ids[0], *ids[2]}) == 4, "one id per event and per submission"
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids[0])
    assert repository.case_document(cases[0])["event_ids"] == ids[0]
