"""The facts a report counts, decided from one case and the calendar (pure, no store)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from pakn.report_facts import FACTS_VERSION, FLAGS, handling_days, report_facts, resolved_at
from pakn.schema import Case
from tests.pakn.reporting_cases import CALENDAR, CASES, LIGHTS, ROADS, WARD, at, case


def facts_of(doc: dict[str, Any]) -> dict[str, Any]:
    return report_facts(Case.model_validate(doc), CALENDAR)


def test_handling_days_across_tet_count_office_time_only() -> None:
    # Fri 13/2 16:00 → Mon 23/2 08:00: one hour before Tết, one after (offices closed 14–22/2).
    assert facts_of(CASES["c1"])["days"] == pytest.approx(0.25)
    # Thu 12/2 09:00 → Fri 27/2 11:30: 6 + 8 + 4 × 8 + 4.5 hours.
    assert facts_of(CASES["c2"])["days"] == pytest.approx(50.5 / 8)
    # Midnight receipt: counted from 07:00.
    assert facts_of(CASES["c12"])["days"] == pytest.approx(4.5 / 8)


def test_a_reopened_case_counts_to_its_last_resolution() -> None:
    c3 = Case.model_validate(CASES["c3"])
    assert resolved_at(c3) == at(3, 4, 8)
    assert facts_of(CASES["c3"])["days"] == pytest.approx(14 / 8)


def test_the_waits_for_the_citizen_are_left_out_once() -> None:
    # 16 office hours, 8 of them waiting (c5): one working day.
    assert facts_of(CASES["c5"])["days"] == pytest.approx(1.0)
    # The same wait given twice, overlapping, and one over before receipt: still 8 h.
    doubled = case(
        "twice",
        at(2, 10, 14),
        status="resolved",
        lead=LIGHTS,
        paused=(
            (at(2, 10, 15), at(2, 11, 12)),
            (at(2, 10, 16), at(2, 11, 15)),
            (at(2, 10, 9), at(2, 10, 13)),
        ),
        history=(("resolved", at(2, 12, 14)),),
    )
    assert facts_of(doubled)["days"] == pytest.approx(1.0)


def test_an_open_wait_counts_up_to_the_resolution() -> None:
    resolved = case(
        "open-wait",
        at(3, 2, 8),
        status="resolved",
        lead=ROADS,
        history=(("resolved", at(3, 3, 8)),),
    )
    resolved["sla"]["paused"] = [{"from": at(3, 2, 12), "to": None}]
    model = Case.model_validate(resolved)
    done = resolved_at(model)
    assert done == at(3, 3, 8)
    # 08:00 → 11:30 on 2/3 counts; the wait from 12:00 runs to the resolution.
    assert handling_days(model, CALENDAR, done) == pytest.approx(3.5 / 8)


def test_a_resolution_without_history_falls_back_to_publication_then_last_change() -> None:
    published = case("p", at(3, 2, 8), status="published", published_at=at(3, 2, 10))
    assert resolved_at(Case.model_validate(published)) == at(3, 2, 10)
    bare = case("b", at(3, 2, 8), status="resolved")
    assert resolved_at(Case.model_validate(bare)) == Case.model_validate(bare).updated_at
    assert resolved_at(Case.model_validate(CASES["c4"])) is None


def test_every_flag_of_each_case_is_zero_or_one_and_as_the_report_counts_it() -> None:
    c2, c4, c5 = facts_of(CASES["c2"]), facts_of(CASES["c4"]), facts_of(CASES["c5"])
    for facts in (c2, c4, c5):
        assert facts["v"] == FACTS_VERSION
        assert {facts[name] for name in FLAGS} <= {0, 1}
    assert (c2["resolved"], c2["late"], c2["on_time"], c2["returned"]) == (1, 1, 0, 1)
    # Two stars, then "not solved" again without stars: the two stars stay the rating.
    assert (c2["rating"], c2["rated"], c2["solved"]) == (2, 1, 0)
    assert (c4["open"], c4["overdue"], c4["escalated"], c4["days"]) == (1, 1, 1, None)
    assert c4["resolved_at"] is None and c4["commune"] == "Phường Cam Ranh"
    assert (c5["on_time"], c5["published"], c5["rating"], c5["solved"]) == (1, 1, 4, 1)
    assert c5["agencies"] == sorted([LIGHTS, ROADS]) and c5["agency"] == LIGHTS
    assert c5["day"] == "2026-02-10" and c5["commune"] == WARD


def test_cases_without_an_agency_field_or_place_are_counted_under_none() -> None:
    c7 = facts_of(CASES["c7"])
    assert (c7["field"], c7["commune"], c7["agency"], c7["agencies"]) == ("none", "none", None, [])
    assert (c7["redirected"], c7["open"], c7["resolved"]) == (1, 0, 0)
    # Received at 23:59 province time on 6/3 is that day, not the UTC one.
    assert facts_of(CASES["c11"])["day"] == "2026-03-06"


def test_an_overdue_flag_on_a_resolved_case_is_not_overdue() -> None:
    late = case(
        "late",
        at(3, 2, 8),
        status="resolved",
        lead=ROADS,
        due_at=at(3, 2, 9),
        overdue=True,
        history=(("resolved", at(3, 2, 10)),),
    )
    facts = facts_of(late)
    assert (facts["overdue"], facts["open"], facts["late"]) == (0, 0, 1)
    assert facts["days"] == pytest.approx(timedelta(hours=2) / timedelta(hours=8))
