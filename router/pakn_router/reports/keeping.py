"""The Department's long reports (this quarter, this year…), counted again in the background
and kept in the store, so that the page, the API and ``pakn report`` answer them at once.

On the embedded store a report reads every case of its period; a province's year is a
million cases and minutes of the store's time, far too long for someone waiting at the page.
The router counts the periods people ask for most (the page's quick choices longer than
``pakn.reporting.KEPT_AFTER_DAYS``, and the web's public scoreboard) when it starts and
then every ``REFRESH_SECONDS``; a
reader gets the report as last counted, with the time it was counted shown. An agency's
report, a month, or any period not kept is counted when asked.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta

from pakn.reporting import EVERYONE, Period, count_and_keep, kept, local_date
from pakn.store import Store
from pakn_router.reports.views import presets

log = logging.getLogger(__name__)

#: How often the kept reports are counted again (at least: see ``pause_after``).
REFRESH_SECONDS = 600.0
#: A kept report older than this is counted again when asked (the refresher is behind).
MAX_AGE = timedelta(hours=1)
#: The store spends at most about a fifth of its time on counting kept reports.
_BUSY_SHARE = 0.2


def kept_periods(today: date) -> list[Period]:
    """The quick choices of the page that are kept (pure)."""
    return [period for _, period in presets(today) if kept(period, EVERYONE)]


def pause_after(took: float) -> float:
    """Seconds to wait after a round of counting that took ``took`` seconds (pure)."""
    return max(REFRESH_SECONDS, took * (1 - _BUSY_SHARE) / _BUSY_SHARE)


async def count_kept(store: Store, now: datetime) -> list[Period]:
    """Count every kept period of today now, and the web's public scoreboard (the published
    cases of the last 12 months); returns the periods of the page."""
    today = local_date(now)
    periods = kept_periods(today)
    for period in periods:
        await count_and_keep(store, period, now=now)
    await count_and_keep(store, Period.last_twelve_months(today), now=now, published_only=True)
    return periods


async def keep_counting(store: Store, clock: Callable[[], datetime]) -> None:
    """Forever: count the kept reports, then rest (a supervised loop of the router)."""
    while True:
        began = time.monotonic()
        periods = await count_kept(store, clock())
        took = time.monotonic() - began
        log.info("kept reports counted (%d periods) in %.1f s", len(periods), took)
        await asyncio.sleep(pause_after(took))
