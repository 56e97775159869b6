"""Working-time calendar (DESIGN.md §7): office hours on working days, deadlines in working time."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
from pydantic import BaseModel, ConfigDict, Field, model_validator

from pakn.province import load_model

VIETNAM_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

#: Where the time comes from: a service's default, a test's own moment.
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """Now, in UTC (the default clock of every service)."""
    return datetime.now(UTC)


def local_text(moment: datetime) -> str:
    """A moment as people in the province read it: ``08:30 28/11/2026`` (naive means UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(VIETNAM_TZ).strftime("%H:%M %d/%m/%Y")


HOLIDAYS_FILE = "holidays.yaml"
#: Saturday and Sunday: cán bộ, công chức work a 5-day week (QĐ 188/1999/QĐ-TTg, Điều 1).
WEEKEND = frozenset({5, 6})
#: A calendar with no working day for this long is misconfigured; stop instead of looping.
_MAX_IDLE_DAYS = 366
_ONE_DAY = timedelta(days=1)
_ZERO = timedelta(0)
#: How many days' office periods a calendar keeps worked out (a few years' worth).
_DAYS_KEPT = 4096


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must carry a time zone (naive datetime: {value.isoformat()})")


@dataclass(frozen=True)
class OfficeHours:
    """The office periods of one working day, in the province's time zone."""

    periods: tuple[tuple[time, time], ...] = (
        (time(7, 0), time(11, 30)),
        (time(13, 30), time(17, 0)),
    )
    tz: ZoneInfo = field(default=VIETNAM_TZ)

    def __post_init__(self) -> None:
        if not self.periods:
            raise ValueError("office hours need at least one period")
        previous_end: time | None = None
        for start, end in self.periods:
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError("office periods are wall-clock times without a time zone")
            if not start < end:
                raise ValueError(f"office period {start}-{end} ends before it starts")
            if previous_end is not None and start < previous_end:
                raise ValueError("office periods must be in order and must not overlap")
            previous_end = end

    @property
    def day_length(self) -> timedelta:
        """One day's office time (8 hours by default): the length of one working day."""
        return sum(
            (_seconds(end) - _seconds(start) for start, end in self.periods),
            start=_ZERO,
        )


def _seconds(value: time) -> timedelta:
    return timedelta(
        hours=value.hour, minutes=value.minute, seconds=value.second, microseconds=value.microsecond
    )


class CalendarCorrection(BaseModel):
    """One date where the `holidays` package is wrong or incomplete, with where we read it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    date: date
    reason: str = Field(min_length=1)
    source: str = Field(min_length=1)
    verified: bool


class HolidayCorrections(BaseModel):
    """``holidays.yaml``: what the public sector's calendar adds to or removes from the package."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Make-up working days ("làm bù"), usually Saturdays, that the package lacks.
    workdays: tuple[CalendarCorrection, ...] = ()
    #: Days off the package lacks (e.g. a weekday swapped for a make-up Saturday).
    days_off: tuple[CalendarCorrection, ...] = ()
    #: Days the package lists as holidays that are not days off for public bodies.
    not_days_off: tuple[CalendarCorrection, ...] = ()

    @model_validator(mode="after")
    def _each_date_once(self) -> HolidayCorrections:
        seen: dict[date, str] = {}
        for kind in ("workdays", "days_off", "not_days_off"):
            for entry in getattr(self, kind):
                if entry.date in seen:
                    raise ValueError(
                        f"{entry.date} is listed twice (in {seen[entry.date]} and {kind})"
                    )
                seen[entry.date] = kind
        for entry in self.workdays:
            if entry.date.weekday() not in WEEKEND:
                raise ValueError(
                    f"workdays: {entry.date} is a weekday; a weekday the package wrongly lists "
                    "as a holiday belongs in not_days_off"
                )
        return self


class WorkCalendar:
    """Working days (Mon–Fri minus Vietnamese holidays, corrected) and office time arithmetic.

    All methods take time-zone-aware datetimes and return UTC; arithmetic steps by office period
    and by whole day, never minute by minute, because the router computes a deadline per case.
    """

    def __init__(
        self,
        corrections: HolidayCorrections | None = None,
        hours: OfficeHours | None = None,
        years: Iterable[int] = (),
    ) -> None:
        self.corrections = corrections if corrections is not None else HolidayCorrections()
        self.hours = hours if hours is not None else OfficeHours()
        self._day_length = self.hours.day_length
        self._forced_on = {c.date for c in self.corrections.workdays}
        self._forced_off = {c.date for c in self.corrections.days_off}
        self._not_off = {c.date for c in self.corrections.not_days_off}
        # Years are loaded from the package on first use, so any year works without a restart.
        self._loaded_years: set[int] = set()
        self._package_off: set[date] = set()
        self._package_on: set[date] = set()
        self._day_periods: dict[date, tuple[tuple[datetime, datetime], ...]] = {}
        for year in years:
            self._load_year(year)

    @classmethod
    def from_config_dir(cls, path: Path, hours: OfficeHours | None = None) -> WorkCalendar:
        """The calendar of a province folder (its ``holidays.yaml``); ConfigError if invalid."""
        return cls(load_model(path / HOLIDAYS_FILE, HolidayCorrections), hours=hours)

    def _load_year(self, year: int) -> None:
        if year in self._loaded_years:
            return
        package = holidays.country_holidays("VN", years=year)
        self._package_off.update(d for d in package if d.year == year)
        self._package_on.update(d for d in package.weekend_workdays if d.year == year)
        self._loaded_years.add(year)

    def is_working_day(self, day: date) -> bool:
        """Whether public offices are open that day (corrections win over the package)."""
        if isinstance(day, datetime):
            raise TypeError("is_working_day takes a date; use .astimezone(tz).date() first")
        if day in self._forced_on:
            return True
        if day in self._forced_off:
            return False
        weekend = day.weekday() in WEEKEND
        if day in self._not_off:
            return not weekend
        self._load_year(day.year)
        if day in self._package_on:
            return True
        return not weekend and day not in self._package_off

    def redundant_corrections(self) -> list[str]:
        """Corrections that change nothing: the package already agrees (for `config check`)."""
        found: list[str] = []
        for entry in self.corrections.workdays:
            self._load_year(entry.date.year)
            if entry.date in self._package_on:
                found.append(f"workdays: {entry.date} is already a working day in the package")
        for entry in self.corrections.days_off:
            self._load_year(entry.date.year)
            if entry.date.weekday() in WEEKEND and entry.date not in self._package_on:
                found.append(f"days_off: {entry.date} is a weekend day anyway")
            elif entry.date in self._package_off:
                found.append(f"days_off: {entry.date} is already a holiday in the package")
        for entry in self.corrections.not_days_off:
            self._load_year(entry.date.year)
            if entry.date not in self._package_off:
                found.append(f"not_days_off: {entry.date} is not a holiday in the package")
        return found

    def _periods(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The office periods of ``day`` in UTC, worked out once per day (every deadline
        walks the same few days)."""
        periods = self._day_periods.get(day)
        if periods is None:
            tz = self.hours.tz
            periods = tuple(
                (
                    datetime.combine(day, start, tzinfo=tz).astimezone(UTC),
                    datetime.combine(day, end, tzinfo=tz).astimezone(UTC),
                )
                for start, end in self.hours.periods
            )
            if len(self._day_periods) < _DAYS_KEPT:
                self._day_periods[day] = periods
        return periods

    def _local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.hours.tz).date()

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime:
        """The moment ``duration`` of office time after ``start`` (UTC).

        Time outside office hours does not count, so a start after hours counts from the next
        office period. A result exactly at the end of a period stays there (17:00 of that day,
        not 07:00 of the next). A zero duration returns ``start`` itself.
        """
        _require_aware(start, "start")
        if duration < _ZERO:
            raise ValueError(f"duration must not be negative: {duration}")
        cursor = start.astimezone(UTC)
        if duration == _ZERO:
            return cursor
        remaining = duration
        day = self._local_date(cursor)
        idle = 0
        while True:
            if self.is_working_day(day):
                idle = 0
                periods = self._periods(day)
                # Strictly more than a day left: the whole day is consumed without looking inside,
                # and a remainder of exactly one day still ends at this day's closing time.
                if cursor <= periods[0][0] and remaining > self._day_length:
                    remaining -= self._day_length
                else:
                    for period_start, period_end in periods:
                        segment_start = max(cursor, period_start)
                        if segment_start >= period_end:
                            continue
                        available = period_end - segment_start
                        if remaining <= available:
                            return segment_start + remaining
                        remaining -= available
            else:
                idle += 1
                if idle > _MAX_IDLE_DAYS:
                    raise ValueError(f"no working day within a year after {day - idle * _ONE_DAY}")
            day += _ONE_DAY

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Office time from ``a`` to ``b``; negative when ``b`` is before ``a``."""
        _require_aware(a, "a")
        _require_aware(b, "b")
        if b < a:
            return -self.working_time_between(b, a)
        a, b = a.astimezone(UTC), b.astimezone(UTC)
        total = _ZERO
        day, last = self._local_date(a), self._local_date(b)
        while day <= last:
            if self.is_working_day(day):
                periods = self._periods(day)
                if a <= periods[0][0] and periods[-1][1] <= b:
                    total += self._day_length
                else:
                    for period_start, period_end in periods:
                        overlap = min(b, period_end) - max(a, period_start)
                        if overlap > _ZERO:
                            total += overlap
            day += _ONE_DAY
        return total

    def due_at(
        self,
        received_at: datetime,
        working_days: float,
        paused: Sequence[tuple[datetime, datetime | None]] = (),
        *,
        now: datetime | None = None,
    ) -> datetime:
        """The deadline (UTC) of ``working_days`` × one day's office time from receipt.

        Office time inside ``paused`` intervals (the case waiting for the citizen) does not
        count, so it extends the deadline; a pause that starts after the deadline changes
        nothing. An open pause (end ``None``) counts up to ``now`` (default: the current time),
        i.e. the deadline as it would be if the case resumed now.
        """
        _require_aware(received_at, "received_at")
        if not math.isfinite(working_days) or working_days < 0:
            raise ValueError(f"working_days must be a non-negative number: {working_days}")
        due = self.add_working_time(received_at, self._day_length * working_days)
        for start, end in self._normalised_pauses(received_at, paused, now):
            if start >= due or self.working_time_between(start, due) == _ZERO:
                # Pauses are sorted: the clock had already run out before this one and the rest.
                break
            paused_time = self.working_time_between(start, end)
            if paused_time > _ZERO:
                due = self.add_working_time(due, paused_time)
        return due

    @staticmethod
    def _normalised_pauses(
        received_at: datetime,
        paused: Sequence[tuple[datetime, datetime | None]],
        now: datetime | None,
    ) -> list[tuple[datetime, datetime]]:
        """Pauses clipped to after receipt, sorted and merged, so none is counted twice."""
        received = received_at.astimezone(UTC)
        intervals: list[tuple[datetime, datetime]] = []
        for start, end in paused:
            _require_aware(start, "pause start")
            if end is None:
                if now is None:
                    now = datetime.now(UTC)
                _require_aware(now, "now")
                end = max(now, start)
            _require_aware(end, "pause end")
            if end < start:
                raise ValueError(f"pause ends before it starts: {start} → {end}")
            start_utc, end_utc = max(start.astimezone(UTC), received), end.astimezone(UTC)
            if end_utc > start_utc:
                intervals.append((start_utc, end_utc))
        intervals.sort()
        merged: list[tuple[datetime, datetime]] = []
        for start_utc, end_utc in intervals:
            if merged and start_utc <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end_utc))
            else:
                merged.append((start_utc, end_utc))
        return merged
