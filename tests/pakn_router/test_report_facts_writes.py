"""The router stores each case's report facts in the write that changes it, and writes them
for cases stored before they existed (the backfill), so a report only adds them up."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import pytest
from aiohttp.web import Application

from pakn.ids import new_tracking_code
from pakn.report_facts import FACTS_VERSION, REPORT, report_facts
from pakn.reporting import REPORT_CACHE, build_report
from pakn.schema import Case, HistoryEntry, Status
from pakn.store import Store
from pakn.territory import ProvinceConfig
from pakn_router import case_repository as repository
from pakn_router.app import init_app
from pakn_router.monitor.sweeper import escalate_overdue
from pakn_router.reports import views
from pakn_router.reports.command import labels_for
from pakn_router.settings import RouterSettings
from tests.fixtures.broker import QueueInspector
from tests.pakn.reporting_cases import (
    CALENDAR,
    CASES,
    CONFIG,
    EXPECTED,
    NOW,
    PERIOD,
    ROADS,
    at,
    insert_cases,
)
from tests.pakn_router.conftest import RouterClient


async def test_the_backfill_gives_older_cases_their_facts_and_the_report_its_figures(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    await insert_cases(store, with_facts=False)
    await store.cases.insert_one({"submission_id": "web:broken", "received_at": at(2, 20, 9)})
    before = await build_report(store, PERIOD)
    # Counted as received, nothing else, and the report says so.
    assert before.totals["received"] == 11 and before.totals["resolved"] == 0
    assert before.without_facts == 11
    with caplog.at_level(logging.WARNING):
        written = await repository.backfill_report_facts(store, CALENDAR, batch=3)
    assert written == len(CASES)
    assert "has no report facts" in caplog.text
    after = await build_report(store, PERIOD)
    assert after.without_facts == 1
    assert {k: v for k, v in after.totals.items() if k != "received"} == {
        k: v for k, v in EXPECTED["totals"].items() if k != "received"
    }
    assert after.handling.median == pytest.approx(EXPECTED["handling"]["median"])
    # Done: a second run (the next start) finds nothing left to write.
    assert await repository.backfill_report_facts(store, CALENDAR) == 0


async def test_a_finished_backfill_is_not_run_again_at_the_next_start(store: Store) -> None:
    await insert_cases(store, leave_out=("before", "after"), with_facts=False)
    assert await repository.backfill_report_facts(store, CALENDAR) == 10
    done = await store.backfills.find_one({"_id": repository.FACTS_BACKFILL})
    assert done is not None and done["version"] == FACTS_VERSION and done["written"] == 10
    # A case without facts now could only come from an older router (a downgrade): the next
    # start does not read every case to find it; a new FACTS_VERSION (here: the record
    # gone) runs the pass again.
    legacy = CASES["c11"] | {
        "submission_id": "web:" + "f" * 32,
        "tracking_code": new_tracking_code(),
    }
    await store.cases.insert_one(dict(legacy))
    assert await repository.backfill_report_facts(store, CALENDAR) == 0
    await store.backfills.delete_many({})
    assert await repository.backfill_report_facts(store, CALENDAR) == 1


async def test_facts_of_an_older_version_are_written_again(store: Store) -> None:
    codes = await insert_cases(store, leave_out=("before", "after"))
    await store.cases.update_one(
        {"tracking_code": codes["c2"]}, {"$set": {REPORT: {"v": FACTS_VERSION - 1}}}
    )
    assert (await build_report(store, PERIOD)).without_facts == 1
    assert await repository.backfill_report_facts(store, CALENDAR) == 1
    report = await build_report(store, PERIOD)
    assert report.without_facts == 0 and report.totals == EXPECTED["totals"]


async def test_every_write_of_the_router_keeps_the_facts_of_the_case(store: Store) -> None:
    # A new case: stored with its facts.
    new = Case.model_validate(CASES["c11"])
    await repository.insert_new(store, [new], CALENDAR)
    stored = await store.cases.find_one({"tracking_code": new.tracking_code})
    assert stored is not None and stored[REPORT] == report_facts(new, CALENDAR)
    assert stored[REPORT]["open"] == 1 and stored[REPORT]["overdue"] == 0
    # Reading it back: the facts are not part of the Case.
    assert repository.case_from_document(stored) == new

    # The sweeper's flag: past its deadline (9/3 17:00), overdue in the report too.
    assert await repository.mark_overdue(store, at(3, 10, 9)) == 1
    stored = await store.cases.find_one({"tracking_code": new.tracking_code})
    assert stored is not None and stored[REPORT]["overdue"] == 1

    # An escalation (a case with co-agencies): escalated in the report in the same write.
    co_handled = Case.model_validate(CASES["c11"] | {"submission_id": "web:" + "e" * 32})
    co_handled.tracking_code = CASES["c4"]["tracking_code"]
    co_handled.co_agencies = [ROADS]
    await repository.insert_new(store, [co_handled], CALENDAR)
    assert await escalate_overdue(store, at(3, 10, 9)) == [co_handled.submission_id]
    stored = await store.cases.find_one({"submission_id": co_handled.submission_id})
    assert stored is not None and stored[REPORT]["escalated"] == 1
    assert stored[REPORT]["overdue"] == 1

    # A change (the agency resolves it): the facts of the changed case, set with it.
    case = repository.case_from_document(stored)
    history_before, outbox_before = len(case.history), len(case.outbox)
    case.status = Status.RESOLVED
    case.history.append(HistoryEntry(at=at(3, 10, 9), actor="agency", action="resolved"))
    update = repository.change_update(
        case,
        calendar=CALENDAR,
        fields=("status",),
        history_before=history_before,
        outbox_before=outbox_before,
    )
    assert await repository.update_case(store, {"submission_id": case.submission_id}, update)
    stored = await store.cases.find_one({"submission_id": case.submission_id})
    assert stored is not None
    facts = stored[REPORT]
    assert (facts["resolved"], facts["late"], facts["open"], facts["overdue"]) == (1, 1, 0, 0)
    assert facts["escalated"] == 1 and facts["resolved_at"] == at(3, 10, 9)
    # Fri 6/3 23:59 → Tue 10/3 09:00: Monday and two hours.
    assert facts["days"] == pytest.approx(10 / 8)


async def test_the_page_says_how_many_cases_still_wait_for_their_facts(store: Store) -> None:
    await insert_cases(store, leave_out=("before", "after"), with_facts=False)
    report = await build_report(store, PERIOD)
    config = ProvinceConfig.load(CONFIG)
    context = views.report_page(
        report,
        labels_for(config),
        made_at=NOW,
        today=NOW.date(),
        agencies=[],
        can_choose_agency=True,
    )
    assert context["without_facts"] is not None and context["without_facts"].startswith("10 hồ sơ")
    await repository.backfill_report_facts(store, CALENDAR)
    context = views.report_page(
        await build_report(store, PERIOD),
        labels_for(config),
        made_at=NOW,
        today=NOW.date(),
        agencies=[],
        can_choose_agency=True,
    )
    assert context["without_facts"] is None


async def test_the_router_writes_missing_facts_and_counts_the_kept_reports_at_its_start(
    aiohttp_client: Callable[[Application], Awaitable[RouterClient]],
    router_settings: RouterSettings,
    store: Store,
    events: QueueInspector,
) -> None:
    # c11 is past its deadline: the sweeper's start-up sweep marks it overdue while the
    # backfill runs, which must then read it again rather than leave it without facts.
    await insert_cases(store, with_facts=False)
    router = await aiohttp_client(await init_app(router_settings))
    async with asyncio.timeout(30):
        while await store.cases.count_documents({f"{REPORT}.v": FACTS_VERSION}) < len(CASES):
            await asyncio.sleep(0.1)
        while not await store.db[REPORT_CACHE].count_documents({}):
            await asyncio.sleep(0.1)
    # The sweep found c11 (assigned, due 9/3) overdue too, today.
    overdue = EXPECTED["totals"]["overdue"] + 1
    assert (await build_report(store, PERIOD)).totals == EXPECTED["totals"] | {"overdue": overdue}
    health = await router.get("/healthz")
    body = await health.json()
    assert health.status == 200, body
