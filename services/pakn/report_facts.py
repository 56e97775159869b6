"""What the reports read of a case, decided once when the case is written (pure).

A report over a province's year reads a million cases. Working out each one's handling time
in working days, its latest rating or whether it was ever returned inside the store, per
report, took minutes on the embedded store (it evaluates aggregation expressions in
Python). So the router stores these facts on the case, in the same write that changes it
(``pakn_router.case_repository``), as the subdocument ``report``; a report then only counts
and groups stored numbers (``pakn.reporting``).

Every fact is a function of the case alone and the working-time calendar, never of the
moment the report is made: a resolved case's handling time does not change afterwards, and
a case still open has none. The two facts that change without the case being rewritten
through a ``Case`` — ``overdue`` (the sweeper's bulk flag) and ``escalated`` — are set
beside their fields by the same update (``REPORT_OVERDUE``, ``REPORT_ESCALATED``).

Flags are stored as 0 or 1 so that a report adds them up with ``$sum`` of a field, the
cheapest thing the store can do per case.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pakn.schema import OPEN_STATUSES, Case, Status
from pakn.worktime import VIETNAM_TZ, WorkCalendar

#: Bumped whenever a fact is added or counted differently: cases stored with an older
#: version are written again by the router's backfill (``backfill_report_facts``).
FACTS_VERSION = 1
#: The subdocument of a stored case that holds its facts.
REPORT = "report"
#: Key for cases without a field, commune or channel in the breakdowns (as the routing key
#: says ``none`` for a case without an agency).
NONE = "none"
#: Statuses in which an agency's answer is done (approved; perhaps published since).
RESOLVED_STATUSES = frozenset({Status.RESOLVED, Status.PUBLISHED})
#: The counted figures, each a 0/1 fact of one case (``received`` is every case).
FLAGS = (
    "resolved",
    "on_time",
    "late",
    "open",
    "overdue",
    "escalated",
    "returned",
    "reopened",
    "published",
    "redirected",
    "duplicate",
    "rated",
    "solved",
)
#: Paths the sweeper sets beside ``overdue`` and ``escalation`` (the cases it touches are
#: running, so open).
REPORT_OVERDUE = f"{REPORT}.overdue"
REPORT_ESCALATED = f"{REPORT}.escalated"

Facts = dict[str, Any]


def resolved_at(case: Case) -> datetime | None:
    """When the agency's answer was done: its last ``resolved`` history entry (a reopened
    case counts from its last resolution), else the publication, else the last change."""
    if case.status not in RESOLVED_STATUSES:
        return None
    resolutions = [entry.at for entry in case.history if entry.action == Status.RESOLVED.value]
    if resolutions:
        return max(resolutions)
    if case.result is not None and case.result.published_at is not None:
        return case.result.published_at
    return case.updated_at


def handling_days(case: Case, calendar: WorkCalendar, done: datetime) -> float:
    """Working days from receipt to ``done``, the waits for the citizen (``sla.paused``, an
    open one up to ``done``) left out, as for the deadline; never below zero."""
    pauses = [
        (pause.from_, pause.to if pause.to is not None else done) for pause in case.sla.paused
    ]
    paused = sum(
        (
            calendar.working_time_between(start, end)
            for start, end in _clipped(pauses, case.received_at, done)
        ),
        start=timedelta(0),
    )
    worked = calendar.working_time_between(case.received_at, done) - paused
    return max(worked, timedelta(0)) / calendar.hours.day_length


def _clipped(
    pauses: Sequence[tuple[datetime, datetime]], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The pauses inside [start, end], merged, so no office hour is left out twice."""
    inside = sorted((max(a, start), min(b, end)) for a, b in pauses if min(b, end) > max(a, start))
    merged: list[tuple[datetime, datetime]] = []
    for a, b in inside:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _latest(values: Sequence[Any]) -> Any:
    """The latest value given (the citizen may say "not solved" again without stars)."""
    given = [value for value in values if value is not None]
    return given[-1] if given else None


def report_facts(case: Case, calendar: WorkCalendar) -> Facts:
    """The facts a report counts for this case (stored as ``report`` on the case)."""
    done = resolved_at(case)
    days = None if done is None else handling_days(case, calendar, done)
    on_time = done is not None and (case.due_at is None or done <= case.due_at)
    actions = {entry.action for entry in case.history}
    rating = _latest([said.rating for said in case.citizen_feedback])
    solved = _latest([said.solved for said in case.citizen_feedback])
    is_open = case.status in OPEN_STATUSES
    flags = {
        "resolved": done is not None,
        "on_time": on_time,
        "late": done is not None and not on_time,
        "open": is_open,
        "overdue": is_open and case.overdue,
        "escalated": case.escalation is not None,
        "returned": "returned" in actions,
        "reopened": "reopened" in actions,
        "published": case.status == Status.PUBLISHED,
        "redirected": case.status == Status.REDIRECTED,
        "duplicate": case.status == Status.DUPLICATE,
        "rated": rating is not None,
        "solved": solved is True,
    }
    return {
        "v": FACTS_VERSION,
        # The day of receipt in the province: the trend groups by it.
        "day": case.received_at.astimezone(VIETNAM_TZ).date().isoformat(),
        "channel": case.channel.value,
        "field": case.field or NONE,
        "agency": case.lead_agency,
        # Who may see it in their report (Scope: the lead and the co-agencies), as one
        # multikey field so that an agency's report is one index range.
        "agencies": sorted({*case.co_agencies, *filter(None, [case.lead_agency])}),
        "commune": case.location.commune or NONE,
        "resolved_at": done,
        "days": days,
        "rating": rating,
        **{name: int(value) for name, value in flags.items()},
    }
