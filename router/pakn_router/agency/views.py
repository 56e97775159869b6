"""Pure views of a case for the agency workspace: the queue line and the whole case."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pakn.ids import format_tracking_code
from pakn.schema import Case
from pakn.worktime import VIETNAM_TZ, WorkCalendar
from pakn_router.monitor.views import Names, excerpt, local_time


def deadline(case: Case, calendar: WorkCalendar, now: datetime) -> dict[str, Any]:
    """Where the deadline stands, in working time (what is left, or how late it is)."""
    due = case.due_at
    if due is None:
        return {"due_at": None, "overdue": False, "due_today": False, "working_hours_left": None}
    left = calendar.working_time_between(now, due)
    paused = any(p.to is None for p in case.sla.paused)
    return {
        "due_at": due.isoformat(),
        "due_at_local": local_time(due),
        "overdue": due <= now and not paused,
        "due_today": now < due
        and due.astimezone(VIETNAM_TZ).date() == now.astimezone(VIETNAM_TZ).date(),
        "working_hours_left": round(left / timedelta(hours=1), 1),
        "paused": paused,
    }


def queue_item(
    case: Case, names: Names, calendar: WorkCalendar, now: datetime, agency: str | None
) -> dict[str, Any]:
    return {
        "tracking_code": case.tracking_code,
        "tracking_code_display": format_tracking_code(case.tracking_code),
        "status": case.status.value,
        "title": case.title,
        "excerpt": excerpt(case.content),
        "field": case.field,
        "field_name": names.field(case.field),
        "lead_agency": case.lead_agency,
        "lead_agency_name": names.agency(case.lead_agency),
        "role": "lead" if agency is None or case.lead_agency == agency else "co",
        "priority": case.priority.value,
        "received_at": case.received_at.isoformat(),
        "reopened": case.reopened,
        "confidential": case.confidential,
        "extension_pending": any(e.decision == "pending" for e in case.extensions),
        "answer_drafted": case.answer is not None and case.answer.approved_at is None,
        **deadline(case, calendar, now),
    }


def workspace_view(
    case: Case, names: Names, calendar: WorkCalendar, now: datetime
) -> dict[str, Any]:
    """The whole case for the agency: the report, attachments, follow-ups, history, the work."""
    doc = case.model_dump(
        mode="json", by_alias=True, exclude={"outbox", "event_ids", "search_terms", "fingerprint"}
    )
    return {
        **doc,
        "tracking_code_display": format_tracking_code(case.tracking_code),
        "field_name": names.field(case.field),
        "lead_agency_name": names.agency(case.lead_agency),
        "co_agency_names": [names.agency(c) for c in case.co_agencies],
        "deadline": deadline(case, calendar, now),
        "pending_extension": next(
            (e.model_dump(mode="json") for e in case.extensions if e.decision == "pending"), None
        ),
    }
