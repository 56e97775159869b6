"""The due-soon window includes its end: at the close of a working day, a case due at 17:00 on
the next working day is exactly one working day away and must be listed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pakn.ids import damm_check_digit
from pakn.store import Store
from pakn.worktime import WorkCalendar
from pakn_router.monitor import queries
from pakn_router.monitor.api import due_soon_until

CONFIG_DIR = Path(__file__).resolve().parents[2] / "deploy" / "config" / "khanh-hoa"
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
#: Thursday 3 December 2026, after office hours.
NOW = datetime(2026, 12, 3, 17, 30, tzinfo=LOCAL).astimezone(UTC)
FRIDAY_CLOSE = datetime(2026, 12, 4, 17, 0, tzinfo=LOCAL).astimezone(UTC)


def _case(n: int, due_at: datetime, status: str = "assigned") -> dict[str, Any]:
    code = f"20000000{n}" + damm_check_digit(f"20000000{n}")
    return {
        "submission_id": f"web:due-soon-{n}",
        "tracking_code": code,
        "status": status,
        "lead_agency": "ubnd-phuong-nha-trang",
        "received_at": NOW - timedelta(days=1),
        "updated_at": NOW,
        "due_at": due_at,
    }


def test_the_window_ends_at_the_next_working_days_close() -> None:
    calendar = WorkCalendar.from_config_dir(CONFIG_DIR)
    assert due_soon_until(calendar, NOW) == FRIDAY_CLOSE


async def test_a_case_due_exactly_at_the_windows_end_is_due_soon(store: Store) -> None:
    until = due_soon_until(WorkCalendar.from_config_dir(CONFIG_DIR), NOW)
    at_end = _case(1, FRIDAY_CLOSE)
    after = _case(2, FRIDAY_CLOSE + timedelta(seconds=1))
    late = _case(3, NOW - timedelta(hours=2))
    due_now = _case(4, NOW)  # due this very moment: not yet overdue, due soon
    await store.cases.insert_many([at_end, after, late, due_now])
    everyone = queries.Scope()

    counts = await queries.counts(store, now=NOW, soon_until=until, scope=everyone, operator=True)
    assert (counts.overdue, counts.due_soon) == (1, 2)

    listed = await queries.due_cases(store, soon_until=until, scope=everyone, agency=None, limit=50)
    assert [c["tracking_code"] for c in listed] == [
        late["tracking_code"],
        due_now["tracking_code"],
        at_end["tracking_code"],
    ]

    (row,) = await queries.deadlines_by_agency(store, now=NOW, soon_until=until, scope=everyone)
    assert (row.agency, row.overdue, row.due_soon) == ("ubnd-phuong-nha-trang", 1, 2)
