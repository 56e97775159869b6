"""The public scoreboard (``/thong-ke``, ``/api/v1/thong-ke``): per agency and per field, the
published cases of the last 12 months, their on-time rate and median time to answer.

The figures are the report's (pakn.reporting, published cases only), so the scoreboard
never says anything the Department's report does not. The public page is cached for a few
minutes: anyone may load it, and each computation is one aggregation over a year of cases;
that aggregation is one the router keeps counting in the background (pakn.reporting
``report_for``), so the web reads it as last counted, up to ``KEPT_MAX_AGE`` old.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from pakn.report_facts import NONE
from pakn.reporting import Period, Report, local_date, report_for
from pakn.schema import FIELD_NAMES
from pakn.store import Store
from pakn.worktime import Clock, utc_now
from pakn_web import messages

#: How long one computation is shown before the next.
CACHE_SECONDS = 300
#: The router counts the scoreboard's year every 10 minutes or so: older, the web counts it.
KEPT_MAX_AGE = timedelta(hours=1)


@dataclass
class Scoreboard:
    store_key: web.AppKey[Store]
    agency_name: Callable[[str], str | None]
    clock: Clock = utc_now
    _cached: tuple[datetime, Report] | None = field(default=None, repr=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    async def report(self, app: web.Application) -> Report:
        now = self.clock()
        async with self._lock:
            if self._cached is not None and now - self._cached[0] < timedelta(
                seconds=CACHE_SECONDS
            ):
                return self._cached[1]
            period = Period.last_twelve_months(local_date(now))
            report = await report_for(
                app[self.store_key],
                period,
                now=now,
                max_age=KEPT_MAX_AGE,
                published_only=True,
            )
            self._cached = (now, report)
            return report


SCOREBOARD = web.AppKey("scoreboard", Scoreboard)


def scoreboard_json(report: Report, agency_name: Callable[[str], str | None]) -> dict[str, Any]:
    """What the page shows, as data (pure)."""

    def rows(lines: Any, name: Callable[[str], str | None]) -> list[dict[str, Any]]:
        return [
            {
                "code": row.key,
                "name": messages.SCOREBOARD_NONE if row.key == NONE else (name(row.key) or row.key),
                "received": row.received,
                "on_time_rate": row.on_time_rate,
                "median_days": row.handling.median,
            }
            for row in lines
        ]

    return {
        "from": report.period.start.isoformat(),
        "to": report.period.end.isoformat(),
        "by_agency": rows(report.by_agency, agency_name),
        "by_field": rows(report.by_field, FIELD_NAMES.get),
    }


def _number(value: float | None, suffix: str = "") -> str:
    if value is None:
        return "—"
    return f"{value:.1f}".replace(".", ",") + suffix


async def scoreboard_page(request: web.Request) -> web.Response:
    board = request.app[SCOREBOARD]
    body = scoreboard_json(await board.report(request.app), board.agency_name)
    for rows in (body["by_agency"], body["by_field"]):
        for row in rows:
            rate = row["on_time_rate"]
            row["rate_text"] = _number(None if rate is None else rate * 100, " %")
            row["median_text"] = _number(row["median_days"])
    period_text = messages.SCOREBOARD_PERIOD.format(
        start=datetime.fromisoformat(body["from"]).strftime("%d/%m/%Y"),
        end=datetime.fromisoformat(body["to"]).strftime("%d/%m/%Y"),
    )
    response = aiohttp_jinja2.render_template(
        "scoreboard.html", request, {"board": body, "period_text": period_text, "t": messages}
    )
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return response


async def scoreboard_api(request: web.Request) -> web.Response:
    board = request.app[SCOREBOARD]
    body = scoreboard_json(await board.report(request.app), board.agency_name)
    return web.json_response(body, headers={"Cache-Control": f"public, max-age={CACHE_SECONDS}"})


def add_scoreboard(
    app: web.Application,
    *,
    store_key: web.AppKey[Store],
    agency_name: Callable[[str], str | None],
) -> Scoreboard:
    board = Scoreboard(store_key, agency_name)
    app[SCOREBOARD] = board
    app.router.add_get("/thong-ke", scoreboard_page)
    app.router.add_get("/api/v1/thong-ke", scoreboard_api)
    return board
