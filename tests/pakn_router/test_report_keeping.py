"""The Department's long reports are counted in the background and kept; a reader gets the
one last counted (with its time), an agency's or a short period's is counted when asked."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pakn.reporting import Period, kept, report_for
from pakn.scope import Scope
from pakn.store import Store
from pakn_router.reports.keeping import REFRESH_SECONDS, count_kept, kept_periods, pause_after
from tests.pakn.reporting_cases import CASES, NOW, ROADS, at, case, insert_cases, stored

YEAR = Period.year(2026)


def test_only_long_reports_of_every_agency_are_kept() -> None:
    assert kept(YEAR, Scope()) and kept(Period.quarter(2026, 1), Scope())
    assert not kept(Period.month(2026, 2), Scope())
    assert not kept(YEAR, Scope(ROADS))
    assert kept_periods(date(2026, 3, 10)) == [Period.quarter(2026, 1), YEAR]


def test_the_store_is_not_kept_busy_counting() -> None:
    assert pause_after(5.0) == REFRESH_SECONDS
    # A round of 5 minutes (a province's year on the embedded store): 20 minutes of rest.
    assert pause_after(300.0) == 1200.0


async def test_a_kept_report_is_served_as_counted_until_it_is_too_old(store: Store) -> None:
    await insert_cases(store)
    assert await count_kept(store, NOW) == [Period.quarter(2026, 1), YEAR]
    await store.cases.insert_one(stored(case("later", at(3, 9, 9), status="triage")))
    hour = timedelta(hours=1)
    served = await report_for(store, YEAR, now=NOW + timedelta(minutes=5), max_age=hour)
    assert served.counted_at == NOW
    assert datetime.fromisoformat(served.as_json()["counted_at"]) == NOW
    assert served.totals["received"] == len(CASES)  # as counted: not the case written since
    recounted = await report_for(store, YEAR, now=NOW + 2 * hour, max_age=hour)
    assert recounted.counted_at is None
    assert recounted.totals["received"] == len(CASES) + 1
    # An agency's report is counted when asked.
    agency = await report_for(store, YEAR, now=NOW, max_age=hour, scope=Scope(ROADS))
    assert agency.counted_at is None and agency.totals["received"] == 5
