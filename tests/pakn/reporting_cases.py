"""A generated set of cases with known report figures: 9 February – 6 March 2026 crosses Tết
(offices closed 14–22 February) and the end of February.

Each case is written straight into ``cases`` as the router and the agency workspace leave
it (status, history actions of DESIGN.md §6, ``citizen_feedback``), so the figures can be worked out
by hand; the answers are in ``EXPECTED`` and the comments beside each case.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from pakn.ids import new_tracking_code, submission_id
from pakn.report_facts import REPORT, report_facts
from pakn.reporting import Period
from pakn.schema import Case
from pakn.store import Store
from pakn.worktime import VIETNAM_TZ, WorkCalendar

CONFIG = Path(__file__).parents[2] / "deploy" / "config" / "khanh-hoa"
CALENDAR = WorkCalendar.from_config_dir(CONFIG)

PERIOD = Period(date(2026, 2, 9), date(2026, 3, 6))
#: When the report is made: after every case below was resolved.
NOW = datetime(2026, 3, 10, 10, 0, tzinfo=VIETNAM_TZ)
WARD = "Phường Nha Trang"
LIGHTS = "moi-truong-do-thi-nha-trang"
ROADS = "so-xay-dung"


def at(month: int, day: int, hour: int = 0, minute: int = 0, *, year: int = 2026) -> datetime:
    """A moment in province time."""
    return datetime(year, month, day, hour, minute, tzinfo=VIETNAM_TZ)


def case(
    name: str,
    received_at: datetime,
    *,
    channel: str = "web",
    status: str,
    field: str | None = None,
    lead: str | None = None,
    co: tuple[str, ...] = (),
    commune: str | None = WARD,
    due_at: datetime | None = None,
    history: tuple[tuple[str, datetime], ...] = (),
    overdue: bool = False,
    escalated: bool = False,
    paused: tuple[tuple[datetime, datetime], ...] = (),
    published_at: datetime | None = None,
    feedback: tuple[dict[str, Any], ...] = (),
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "submission_id": submission_id(channel, "report-test", name),
        "tracking_code": new_tracking_code(),
        "channel": channel,
        "channel_ref": name,
        "received_at": received_at,
        "submitter": {"name": "Nguyễn Văn An", "phone": "+84905123456", "email": "an@example.vn"},
        "content": f"Nội dung phản ánh {name} có số điện thoại 0905123456",
        "location": {"address": "12 Trần Phú", "commune": commune},
        "status": status,
        "field": field,
        "lead_agency": lead,
        "co_agencies": list(co),
        "due_at": due_at,
        "overdue": overdue,
        "sla": {"working_days": 1, "paused": [{"from": a, "to": b} for a, b in paused]},
        "history": [{"at": received_at, "actor": "router", "action": "received"}]
        + [{"at": when, "actor": "agency", "action": action} for action, when in history],
        "updated_at": NOW,
    }
    if escalated:
        doc["escalation"] = {"to": "ubnd-tinh", "reason": "Quá hạn", "at": at(3, 4, 8)}
    if published_at is not None:
        doc["result"] = {"text": "Đã sửa.", "published_at": published_at, "by": "lanh.dao"}
    if feedback:
        doc["citizen_feedback"] = [
            {"at": NOW, "submission_id": f"web:{i:032x}", "comment": None, "reopened": False} | said
            for i, said in enumerate(feedback)
        ]
    return doc


CASES: dict[str, dict[str, Any]] = {
    # Fri 13/2 16:00 → Mon 23/2 08:00 across Tết: 1 h + 1 h = 0.25 working days. On time.
    "c1": case(
        "c1",
        at(2, 13, 16),
        status="published",
        field="chieu-sang",
        lead=LIGHTS,
        due_at=at(2, 23, 16),
        history=(("assigned", at(2, 13, 16)), ("resolved", at(2, 23, 8))),
        published_at=at(2, 23, 9),
        feedback=({"rating": 5, "solved": True},),
    ),
    # Thu 12/2 09:00 → Fri 27/2 11:30: 6 + 8 + 4×8 + 4.5 = 50.5 h = 6.3125 days. Late.
    "c2": case(
        "c2",
        at(2, 12, 9),
        channel="email",
        status="resolved",
        field="giao-thong",
        lead=ROADS,
        due_at=at(2, 25, 17),
        history=(("returned", at(2, 12, 10)), ("resolved", at(2, 27, 11, 30))),
        # Not solved, with two stars; then "not solved" again without stars: 2 still counts.
        feedback=({"rating": 2, "solved": False}, {"rating": None, "solved": False}),
    ),
    # Mon 2/3 10:00, resolved, reopened, resolved again Wed 4/3 08:00: 5 + 8 + 1 = 14 h =
    # 1.75 days from receipt. Late (due 3/3 10:00).
    "c3": case(
        "c3",
        at(3, 2, 10),
        channel="app",
        status="published",
        field="chieu-sang",
        lead=ROADS,
        due_at=at(3, 3, 10),
        history=(
            ("resolved", at(3, 2, 15)),
            ("reopened", at(3, 3, 8)),
            ("resolved", at(3, 4, 8)),
        ),
        published_at=at(3, 4, 9),
    ),
    # Sat 28/2, still in progress, overdue and escalated.
    "c4": case(
        "c4",
        at(2, 28, 9),
        channel="hotline",
        status="in_progress",
        field="moi-truong",
        lead=ROADS,
        commune="Phường Cam Ranh",
        due_at=at(3, 3, 17),
        overdue=True,
        escalated=True,
    ),
    # Tue 10/2 14:00 → Thu 12/2 14:00 = 16 h, minus 8 h waiting for the citizen (10/2 15:00
    # → 11/2 15:00) = 8 h = 1 day. On time; co-handled by ROADS; the later rating counts.
    "c5": case(
        "c5",
        at(2, 10, 14),
        status="published",
        field="moi-truong",
        lead=LIGHTS,
        co=(ROADS,),
        due_at=at(2, 13, 17),
        paused=((at(2, 10, 15), at(2, 11, 15)),),
        history=(("needs_info", at(2, 10, 15)), ("resolved", at(2, 12, 14))),
        published_at=at(2, 12, 15),
        feedback=({"rating": 1, "solved": False}, {"rating": 4, "solved": True}),
    ),
    # Waiting in triage: open, no field, no agency.
    "c6": case("c6", at(3, 5, 10), channel="chatbot", status="triage", commune=None),
    # A complaint received during Tết, redirected.
    "c7": case("c7", at(2, 20, 10), status="redirected", commune=None),
    "c8": case("c8", at(2, 26, 10), channel="email", status="duplicate", commune=None),
    # The last minute of the period: counted.
    "c11": case(
        "c11",
        at(3, 6, 23, 59),
        status="assigned",
        field="giao-thong",
        lead=LIGHTS,
        due_at=at(3, 9, 17),
    ),
    # The first instant of the period, at midnight: counted. 07:00 → 13:30 = 4.5 h = 0.5625.
    "c12": case(
        "c12",
        at(2, 9, 0),
        channel="app",
        status="resolved",
        field="giao-thong",
        lead=ROADS,
        due_at=at(2, 10, 17),
        history=(("resolved", at(2, 9, 13, 30)),),
    ),
    # Outside the period by a minute on each side: never counted.
    "before": case("before", at(2, 8, 23, 59), status="published", field="khac", lead=LIGHTS),
    "after": case("after", at(3, 7, 0), status="triage"),
}

EXPECTED: dict[str, Any] = {
    "totals": {
        "received": 10,
        "resolved": 5,
        "on_time": 3,
        "late": 2,
        "open": 3,
        "overdue": 1,
        "escalated": 1,
        "returned": 1,
        "reopened": 1,
        "published": 3,
        "redirected": 1,
        "duplicate": 1,
        "rated": 3,
        "solved": 2,
    },
    "by_channel": {"web": 4, "app": 2, "email": 2, "chatbot": 1, "hotline": 1},
    "by_field": {"giao-thong": 3, "none": 3, "chieu-sang": 2, "moi-truong": 2},
    "by_commune": {WARD: 6, "none": 3, "Phường Cam Ranh": 1},
    "handling": {"median": 1.0, "p90": 1.75 + (6.3125 - 1.75) * 0.6},
    "by_agency": {
        # c1, c5 resolved on time; c11 open.
        LIGHTS: {
            "received": 3,
            "resolved": 2,
            "on_time": 2,
            "late": 0,
            "open": 1,
            "overdue": 0,
            "escalated": 0,
            "returned": 0,
            "reopened": 0,
            "published": 2,
            "median": (0.25 + 1.0) / 2,
            "p90": 0.25 + (1.0 - 0.25) * 0.9,
        },
        # c12 on time; c2, c3 late; c4 open, overdue, escalated.
        ROADS: {
            "received": 4,
            "resolved": 3,
            "on_time": 1,
            "late": 2,
            "open": 1,
            "overdue": 1,
            "escalated": 1,
            "returned": 1,
            "reopened": 1,
            "published": 1,
            "median": 1.75,
            "p90": 1.75 + (6.3125 - 1.75) * 0.8,
        },
    },
    "trend": {
        date(2026, 2, 9): 1,
        date(2026, 2, 10): 1,
        date(2026, 2, 12): 1,
        date(2026, 2, 13): 1,
        date(2026, 2, 20): 1,
        date(2026, 2, 26): 1,
        date(2026, 2, 28): 1,
        date(2026, 3, 2): 1,
        date(2026, 3, 5): 1,
        date(2026, 3, 6): 1,
    },
    "ratings": {"count": 3, "average": 11 / 3, "by_stars": {5: 1, 2: 1, 4: 1}},
}


def stored(doc: dict[str, Any]) -> dict[str, Any]:
    """A case as the router stores it: with its report facts (pakn.report_facts)."""
    return doc | {REPORT: report_facts(Case.model_validate(doc), CALENDAR)}


async def insert_cases(
    store: Store, *, leave_out: tuple[str, ...] = (), with_facts: bool = True
) -> dict[str, str]:
    """Writes every case (but those left out), with its report facts unless told not to (as
    a case stored before them); returns each name's tracking code."""
    chosen = {name: doc for name, doc in CASES.items() if name not in leave_out}
    await store.cases.insert_many(
        [stored(doc) if with_facts else dict(doc) for doc in chosen.values()]
    )
    return {name: doc["tracking_code"] for name, doc in chosen.items()}
