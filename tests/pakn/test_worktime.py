"""Working-time calendar: holidays, office hours, deadlines, pauses (DESIGN.md §7)."""

from __future__ import annotations

import math
import time as clock
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from pakn.province import ConfigError
from pakn.worktime import (
    VIETNAM_TZ,
    CalendarCorrection,
    HolidayCorrections,
    OfficeHours,
    WorkCalendar,
)

SHIPPED_CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "config" / "khanh-hoa"
HOUR = timedelta(hours=1)
DAY = timedelta(hours=8)

#: The package alone, without any correction (module-level: it caches the years it loads).
PACKAGE_ONLY = WorkCalendar(HolidayCorrections())
SHIPPED = WorkCalendar.from_config_dir(SHIPPED_CONFIG)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=VIETNAM_TZ)


def due_local(
    calendar: WorkCalendar,
    received: datetime,
    working_days: float,
    paused: Sequence[tuple[datetime, datetime | None]] = (),
    now: datetime | None = None,
) -> datetime:
    """``due_at`` in local time, which is how the expected values are written."""
    return calendar.due_at(received, working_days, paused, now=now).astimezone(VIETNAM_TZ)


def write_holidays(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "holidays.yaml").write_text(text, encoding="utf-8")
    return folder


# --- office hours ---------------------------------------------------------------------------


def test_default_office_hours_make_an_eight_hour_day() -> None:
    hours = OfficeHours()
    assert hours.day_length == DAY
    assert hours.tz.key == "Asia/Ho_Chi_Minh"


def test_custom_office_hours_change_the_day_length() -> None:
    hours = OfficeHours(periods=((time(8), time(12)), (time(13), time(16, 30))))
    assert hours.day_length == timedelta(hours=7, minutes=30)
    calendar = WorkCalendar(HolidayCorrections(), hours=hours)
    # Mon 9 Feb 2026 from opening: one working day ends at that day's closing time.
    assert due_local(calendar, local(2026, 2, 9, 8), 1) == local(2026, 2, 9, 16, 30)


@pytest.mark.parametrize(
    "periods",
    [
        (),
        ((time(11), time(7)),),
        ((time(13, 30), time(17)), (time(7), time(11, 30))),
        ((time(7), time(12)), (time(11), time(17))),
    ],
)
def test_invalid_office_hours_are_rejected(periods: tuple[tuple[time, time], ...]) -> None:
    with pytest.raises(ValueError, match="period"):
        OfficeHours(periods=periods)


# --- working days ---------------------------------------------------------------------------


def test_tet_2026_is_off_monday_to_friday() -> None:
    for day in range(16, 21):
        assert not SHIPPED.is_working_day(date(2026, 2, day)), day
    assert SHIPPED.is_working_day(date(2026, 2, 13))
    assert SHIPPED.is_working_day(date(2026, 2, 23))
    assert not SHIPPED.is_working_day(date(2026, 2, 14))  # an ordinary Saturday


def test_make_up_saturday_of_26_april_2025_is_a_working_day() -> None:
    assert SHIPPED.is_working_day(date(2025, 4, 26))
    assert not SHIPPED.is_working_day(date(2025, 5, 2))  # the Friday it was swapped for
    assert not SHIPPED.is_working_day(date(2025, 4, 30))
    assert not SHIPPED.is_working_day(date(2025, 5, 1))


def test_is_working_day_refuses_a_datetime() -> None:
    with pytest.raises(TypeError):
        SHIPPED.is_working_day(local(2026, 2, 9, 9))


def test_years_far_from_today_are_loaded_on_demand() -> None:
    calendar = WorkCalendar(HolidayCorrections(), years=[2026])
    assert not calendar.is_working_day(date(2031, 1, 1))
    assert calendar.is_working_day(date(2031, 1, 2))


# --- deadlines ------------------------------------------------------------------------------


def test_one_working_day_across_tet_2026() -> None:
    # Fri 13 Feb 16:00: one hour on Friday, Tết (16–20 Feb) and two weekends do not count,
    # then 4.5 h in the morning and 2.5 h in the afternoon of Mon 23 Feb.
    assert due_local(SHIPPED, local(2026, 2, 13, 16), 1) == local(2026, 2, 23, 16)


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        # 0.5 h before lunch, 3.5 h after it, 4 h the next morning.
        (local(2026, 2, 11, 11), local(2026, 2, 12, 11)),
        # In the lunch break: counting starts at 13:30; 3.5 h + 4.5 h ends at 11:30 next day.
        (local(2026, 2, 11, 11, 45), local(2026, 2, 12, 11, 30)),
        (local(2026, 2, 11, 13, 30), local(2026, 2, 12, 11, 30)),
        # Across Tết as well as lunch.
        (local(2026, 2, 13, 11), local(2026, 2, 23, 11)),
    ],
)
def test_lunch_break_does_not_count(received: datetime, expected: datetime) -> None:
    assert due_local(SHIPPED, received, 1) == expected


def test_receipt_after_office_hours_counts_from_next_morning() -> None:
    received = local(2026, 2, 11, 19)  # Wednesday evening
    assert SHIPPED.working_time_between(received, local(2026, 2, 12, 7)) == timedelta(0)
    assert due_local(SHIPPED, received, 1) == local(2026, 2, 12, 17)
    assert due_local(SHIPPED, received, 0.5) == local(2026, 2, 12, 11)
    assert due_local(SHIPPED, local(2026, 2, 12, 6, 59), 1) == local(2026, 2, 12, 17)


@pytest.mark.parametrize("received", [local(2026, 2, 7, 10), local(2026, 2, 8, 23, 59)])
def test_receipt_on_a_weekend_counts_from_monday(received: datetime) -> None:
    assert due_local(SHIPPED, received, 1) == local(2026, 2, 9, 17)
    assert due_local(SHIPPED, received, 2) == local(2026, 2, 10, 17)


def test_receipt_on_a_holiday_counts_from_the_next_working_day() -> None:
    assert due_local(SHIPPED, local(2026, 2, 17, 9), 1) == local(2026, 2, 23, 17)


def test_deadline_ending_at_closing_time_stays_on_that_day() -> None:
    assert due_local(SHIPPED, local(2026, 2, 9, 7), 1) == local(2026, 2, 9, 17)
    assert due_local(SHIPPED, local(2026, 2, 9, 7), 2) == local(2026, 2, 10, 17)
    # 4.5 h is exactly the morning: due at 11:30, not at 13:30 after lunch.
    assert due_local(SHIPPED, local(2026, 2, 9, 7), 4.5 / 8) == local(2026, 2, 9, 11, 30)
    assert due_local(SHIPPED, local(2026, 2, 9, 13, 30), 1) == local(2026, 2, 10, 11, 30)


def test_make_up_saturday_counts_in_a_deadline() -> None:
    # Fri 25 Apr 2025 16:00 → 1 h that day, 7 h on the make-up Saturday.
    assert due_local(SHIPPED, local(2025, 4, 25, 16), 1) == local(2025, 4, 26, 16)
    # Tue 29 Apr 2025 16:00 → 30/4, 1/5, the swapped Fri 2/5 and the weekend are all off.
    assert due_local(SHIPPED, local(2025, 4, 29, 16), 1) == local(2025, 5, 5, 16)


@pytest.mark.parametrize(
    ("received", "working_days", "expected"),
    [
        (local(2026, 2, 9, 9), 0.5, local(2026, 2, 9, 15)),  # 2.5 h + 1.5 h after lunch
        (local(2026, 2, 9, 7), 1.5, local(2026, 2, 10, 11)),
        (local(2026, 2, 9, 7), 0.25, local(2026, 2, 9, 9)),
        (local(2026, 2, 9, 16), 0.125, local(2026, 2, 9, 17)),
        (local(2026, 2, 9, 16, 30), 0.125, local(2026, 2, 10, 7, 30)),
    ],
)
def test_fractional_working_days(
    received: datetime, working_days: float, expected: datetime
) -> None:
    assert due_local(SHIPPED, received, working_days) == expected


def test_seven_working_days_skip_weekends_and_tet() -> None:
    # Wed 11 Feb 2026 10:00: days end Thu 12, Fri 13, then (after Tết) Mon 23 … Fri 27 at 10:00.
    assert due_local(SHIPPED, local(2026, 2, 11, 10), 7) == local(2026, 2, 27, 10)


def test_result_is_utc_and_independent_of_the_input_zone() -> None:
    in_local = local(2026, 2, 13, 16)
    in_utc = in_local.astimezone(UTC)
    due = SHIPPED.due_at(in_utc, 1)
    assert due.tzinfo is UTC
    assert due == SHIPPED.due_at(in_local, 1)
    assert due == datetime(2026, 2, 23, 9, tzinfo=UTC)


def test_zero_working_days_is_the_moment_of_receipt() -> None:
    received = local(2026, 2, 9, 19)
    assert SHIPPED.due_at(received, 0) == received


@pytest.mark.parametrize("bad", [-1, -0.001, math.nan, math.inf])
def test_invalid_working_days_are_rejected(bad: float) -> None:
    with pytest.raises(ValueError, match="working_days"):
        SHIPPED.due_at(local(2026, 2, 9, 9), bad)


def test_naive_datetimes_are_rejected() -> None:
    naive = datetime(2026, 2, 9, 9)
    aware = local(2026, 2, 9, 9)
    with pytest.raises(ValueError, match="time zone"):
        SHIPPED.due_at(naive, 1)
    with pytest.raises(ValueError, match="time zone"):
        SHIPPED.add_working_time(naive, HOUR)
    with pytest.raises(ValueError, match="time zone"):
        SHIPPED.working_time_between(aware, naive)
    with pytest.raises(ValueError, match="time zone"):
        SHIPPED.due_at(aware, 1, paused=[(naive, None)], now=aware)


def test_add_working_time_rejects_negative_durations() -> None:
    with pytest.raises(ValueError, match="negative"):
        SHIPPED.add_working_time(local(2026, 2, 9, 9), -HOUR)


def test_working_time_between() -> None:
    assert SHIPPED.working_time_between(local(2026, 2, 13, 16), local(2026, 2, 23, 16)) == DAY
    assert SHIPPED.working_time_between(local(2026, 2, 23, 16), local(2026, 2, 13, 16)) == -DAY
    assert SHIPPED.working_time_between(local(2026, 3, 2), local(2026, 3, 9)) == 5 * DAY
    assert SHIPPED.working_time_between(local(2026, 3, 2, 11), local(2026, 3, 2, 14)) == HOUR
    assert SHIPPED.working_time_between(local(2026, 3, 2, 12), local(2026, 3, 2, 13)) == timedelta()


# --- pauses (case waiting for the citizen) ---------------------------------------------------

MONDAY = local(2026, 2, 9, 7)  # 1 working day from here ends Mon 9 Feb 17:00


@pytest.mark.parametrize(
    ("pause", "expected"),
    [
        ((local(2026, 2, 9, 9), local(2026, 2, 9, 10)), local(2026, 2, 10, 8)),
        # Across lunch only 0.5 h + 0.5 h of office time is paused.
        ((local(2026, 2, 9, 11), local(2026, 2, 9, 14)), local(2026, 2, 10, 8)),
        # Over the night: no office time, no extension.
        ((local(2026, 2, 9, 18), local(2026, 2, 10, 6)), local(2026, 2, 9, 17)),
        # Spanning the deadline: 1 h on Monday + 2 h on Tuesday are paused; 1 h was left.
        ((local(2026, 2, 9, 16), local(2026, 2, 10, 9)), local(2026, 2, 10, 10)),
        # After the deadline: the case was already late; the pause does not rescue it.
        ((local(2026, 2, 10, 8), local(2026, 2, 11, 8)), local(2026, 2, 9, 17)),
        # Begun before receipt: only the part after receipt counts.
        ((local(2026, 2, 6, 9), local(2026, 2, 9, 8)), local(2026, 2, 10, 8)),
    ],
)
def test_pause_extends_the_deadline_by_its_office_time(
    pause: tuple[datetime, datetime], expected: datetime
) -> None:
    assert due_local(SHIPPED, MONDAY, 1, paused=[pause]) == expected


def test_overlapping_pauses_are_counted_once() -> None:
    pauses: list[tuple[datetime, datetime | None]] = [
        (local(2026, 2, 9, 8), local(2026, 2, 9, 10)),
        (local(2026, 2, 9, 9), local(2026, 2, 9, 11)),
        (local(2026, 2, 9, 14), local(2026, 2, 9, 15)),
    ]
    # 3 h (8–11) + 1 h (14–15) paused.
    assert due_local(SHIPPED, MONDAY, 1, paused=pauses) == local(2026, 2, 10, 11)
    assert due_local(SHIPPED, MONDAY, 1, paused=pauses[::-1]) == local(2026, 2, 10, 11)


def test_open_pause_counts_up_to_now() -> None:
    pause: list[tuple[datetime, datetime | None]] = [(local(2026, 2, 9, 9), None)]
    now = local(2026, 2, 10, 9)  # paused 6 h on Monday and 2 h on Tuesday so far
    assert due_local(SHIPPED, MONDAY, 1, paused=pause, now=now) == local(2026, 2, 10, 17)
    # Still waiting later: the deadline keeps moving.
    later = local(2026, 2, 11, 9)
    assert due_local(SHIPPED, MONDAY, 1, paused=pause, now=later) == local(2026, 2, 11, 17)


def test_pause_ending_before_it_starts_is_rejected() -> None:
    with pytest.raises(ValueError, match="pause"):
        SHIPPED.due_at(MONDAY, 1, paused=[(local(2026, 2, 9, 10), local(2026, 2, 9, 9))])


# --- holidays.yaml corrections ----------------------------------------------------------------


def test_added_day_off_moves_the_deadline(tmp_path: Path) -> None:
    folder = write_holidays(
        tmp_path,
        """
days_off:
  - date: 2026-02-23
    reason: "Nghỉ thử nghiệm"
    source: "test"
    verified: false
""",
    )
    calendar = WorkCalendar.from_config_dir(folder)
    assert not calendar.is_working_day(date(2026, 2, 23))
    assert due_local(calendar, local(2026, 2, 13, 16), 1) == local(2026, 2, 24, 16)
    assert due_local(PACKAGE_ONLY, local(2026, 2, 13, 16), 1) == local(2026, 2, 23, 16)


def test_added_make_up_saturday_moves_the_deadline(tmp_path: Path) -> None:
    folder = write_holidays(
        tmp_path,
        """
workdays:
  - date: 2026-02-07
    reason: "Thứ Bảy làm bù thử nghiệm"
    source: "test"
    verified: false
""",
    )
    calendar = WorkCalendar.from_config_dir(folder)
    assert calendar.is_working_day(date(2026, 2, 7))
    assert due_local(calendar, local(2026, 2, 6, 16), 1) == local(2026, 2, 7, 16)
    assert due_local(PACKAGE_ONLY, local(2026, 2, 6, 16), 1) == local(2026, 2, 9, 16)


def test_not_a_day_off_reopens_a_package_holiday() -> None:
    # The package lists 24/11/2026 (Vietnam Cultural Day); the shipped file says offices are open.
    assert not PACKAGE_ONLY.is_working_day(date(2026, 11, 24))
    assert SHIPPED.is_working_day(date(2026, 11, 24))
    assert due_local(PACKAGE_ONLY, local(2026, 11, 23, 16), 1) == local(2026, 11, 25, 16)
    assert due_local(SHIPPED, local(2026, 11, 23, 16), 1) == local(2026, 11, 24, 16)


def test_shipped_holidays_yaml_fixes_the_2026_new_year_swap() -> None:
    assert PACKAGE_ONLY.is_working_day(date(2026, 1, 2))
    assert not SHIPPED.is_working_day(date(2026, 1, 2))
    assert SHIPPED.is_working_day(date(2026, 1, 10))
    # Wed 31 Dec 2025 16:00: 1 h, then 1/1 and the swapped 2/1 are off, the weekend too.
    assert due_local(SHIPPED, local(2025, 12, 31, 16), 1) == local(2026, 1, 5, 16)


def test_shipped_holidays_yaml_only_lists_real_corrections() -> None:
    assert SHIPPED.redundant_corrections() == []
    for entry in (
        *SHIPPED.corrections.workdays,
        *SHIPPED.corrections.days_off,
        *SHIPPED.corrections.not_days_off,
    ):
        assert entry.source
        assert entry.reason


def test_redundant_corrections_are_reported() -> None:
    def entry(day: date) -> CalendarCorrection:
        return CalendarCorrection(date=day, reason="r", source="s", verified=True)

    corrections = HolidayCorrections(
        workdays=(entry(date(2025, 4, 26)),),  # the package has it
        days_off=(entry(date(2026, 2, 16)), entry(date(2026, 3, 7))),  # Tết; a Saturday
        not_days_off=(entry(date(2026, 3, 10)),),  # not a holiday at all
    )
    found = WorkCalendar(corrections).redundant_corrections()
    assert len(found) == 4
    assert any("2026-03-07" in line and "weekend" in line for line in found)


def test_a_weekday_cannot_be_a_make_up_workday() -> None:
    with pytest.raises(ValidationError, match="not_days_off"):
        HolidayCorrections.model_validate(
            {"workdays": [{"date": "2026-03-10", "reason": "r", "source": "s", "verified": True}]}
        )


def test_a_date_cannot_be_corrected_twice() -> None:
    item = {"date": "2026-03-09", "reason": "r", "source": "s", "verified": True}
    with pytest.raises(ValidationError, match="twice"):
        HolidayCorrections.model_validate({"days_off": [item], "not_days_off": [item]})


def test_invalid_holidays_yaml_names_file_and_line(tmp_path: Path) -> None:
    folder = write_holidays(
        tmp_path,
        "days_off:\n  - date: 2026-03-09\n    reason: r\n    source: s\n    verifed: true\n",
    )
    with pytest.raises(ConfigError) as caught:
        WorkCalendar.from_config_dir(folder)
    text = str(caught.value)
    assert "holidays.yaml:5" in text
    assert "verifed" in text


def test_missing_holidays_yaml_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="missing"):
        WorkCalendar.from_config_dir(tmp_path)


# --- properties -----------------------------------------------------------------------------

receipts = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 11, 30), timezones=st.just(UTC)
)
amounts = st.floats(min_value=0, max_value=30, allow_nan=False)


def _inside_office_hours(calendar: WorkCalendar, moment: datetime) -> bool:
    local_moment = moment.astimezone(VIETNAM_TZ)
    if not calendar.is_working_day(local_moment.date()):
        return False
    wall = local_moment.time()
    return any(start < wall <= end for start, end in calendar.hours.periods)


@settings(max_examples=300, deadline=None)
@given(received=receipts, working_days=amounts)
def test_due_at_consumes_exactly_n_working_days(received: datetime, working_days: float) -> None:
    due = SHIPPED.due_at(received, working_days)
    assert SHIPPED.working_time_between(received, due) == DAY * working_days
    if DAY * working_days > timedelta(0):
        assert _inside_office_hours(SHIPPED, due)
        # Earliest such moment: one microsecond earlier is not enough.
        assert SHIPPED.working_time_between(received, due - timedelta(microseconds=1)) < (
            DAY * working_days
        )


@settings(max_examples=200, deadline=None)
@given(received=receipts, first=amounts, second=amounts)
def test_due_at_is_monotonic_in_working_days(
    received: datetime, first: float, second: float
) -> None:
    low, high = sorted((first, second))
    assert SHIPPED.due_at(received, low) <= SHIPPED.due_at(received, high)


@settings(max_examples=200, deadline=None)
@given(
    received=receipts,
    working_days=st.floats(min_value=0.125, max_value=10),
    offsets=st.lists(
        st.tuples(st.integers(0, 20 * 24 * 60), st.integers(0, 5 * 24 * 60)), max_size=3
    ),
)
def test_pauses_stop_the_clock_and_only_extend(
    received: datetime, working_days: float, offsets: list[tuple[int, int]]
) -> None:
    pauses: list[tuple[datetime, datetime | None]] = [
        (received + timedelta(minutes=start), received + timedelta(minutes=start + length))
        for start, length in offsets
    ]
    plain = SHIPPED.due_at(received, working_days)
    due = SHIPPED.due_at(received, working_days, paused=pauses)
    assert due >= plain
    # Running time = office time since receipt minus office time spent paused (merged).
    moments = sorted((s, e) for s, e in pauses if e is not None)
    paused_time = timedelta()
    cursor = received
    for start, end in moments:
        start = max(start, cursor)
        end = min(end, due)
        if end > start:
            paused_time += SHIPPED.working_time_between(start, end)
            cursor = end
    assert SHIPPED.working_time_between(received, due) - paused_time == DAY * working_days


def test_deadlines_are_cheap_enough_to_compute_per_case() -> None:
    received = local(2026, 2, 13, 16)
    started = clock.perf_counter()
    for _ in range(1000):
        SHIPPED.due_at(received, 30)
    # About 2 ms per 30-day deadline would already be 50x slower than it is.
    assert clock.perf_counter() - started < 2.0
