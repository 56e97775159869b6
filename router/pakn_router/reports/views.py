"""What the report page shows, from a Report (pure): formatted numbers, charts, tables, links."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup

from pakn.reporting import Period, Report, Row
from pakn.worktime import local_text
from pakn_router.reports import messages as t
from pakn_router.reports.charts import Bar, horizontal_bars, vertical_bars
from pakn_router.reports.export import Labels

#: Figures of the summary block, in the order the Department reads them.
SUMMARY = (
    "received",
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
)
CASES_PATH = "/bao-cao/ho-so"
SUMMARY_PATH = "/bao-cao/tong-hop"


def number(value: float | None, digits: int = 2) -> str:
    """Vietnamese decimals: a comma, thousands with dots."""
    if value is None:
        return "—"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}".replace(",", ".")
    return f"{value:.{digits}f}".rstrip("0").rstrip(".").replace(".", ",")


def percent(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.1f}".replace(".", ",") + " %"


def day_label(day: date, step: str) -> str:
    if step == "month":
        return f"{day.month:02d}/{day.year}"
    return f"{day.day:02d}/{day.month:02d}"


@dataclass(frozen=True)
class Links:
    """Addresses of the downloads for one period and scope."""

    period: Period
    agency: str | None

    def _query(self, **extra: str) -> str:
        params = {"tu": self.period.start.isoformat(), "den": self.period.end.isoformat()}
        if self.agency:
            params["co-quan"] = self.agency
        return urlencode(params | extra)

    def summary(self, kind: str) -> str:
        return f"{SUMMARY_PATH}.{kind}?{self._query()}"

    def cases(self, figure: str, kind: str = "csv", dimension: str = "", key: str = "") -> str:
        extra = {"chi-tieu": figure}
        if dimension:
            extra |= {"nhom": dimension, "ma": key}
        return f"{CASES_PATH}.{kind}?{self._query(**extra)}"

    def page(self, period: Period) -> str:
        params = {"tu": period.start.isoformat(), "den": period.end.isoformat()}
        if self.agency:
            params["co-quan"] = self.agency
        return "/bao-cao?" + urlencode(params)


def presets(today: date) -> list[tuple[str, Period]]:
    first_of_month = today.replace(day=1)
    last_month = Period.month(
        first_of_month.year - (first_of_month.month == 1),
        12 if first_of_month.month == 1 else first_of_month.month - 1,
    )
    return [
        ("week", Period.week_of(today)),
        ("month", Period.month(today.year, today.month)),
        ("last_month", last_month),
        ("quarter", Period.quarter(today.year, (today.month - 1) // 3 + 1)),
        ("year", Period.year(today.year)),
    ]


def _row_view(row: Row, name: str, links: Links, dimension: str) -> dict[str, Any]:
    return {
        "key": row.key,
        "name": name,
        "figures": [
            (figure, getattr(row, figure), links.cases(figure, "csv", dimension, row.key))
            for figure in ("received", "resolved", "on_time", "late", "open", "overdue")
        ],
        "rate": percent(row.on_time_rate),
        "median": number(row.handling.median),
        "p90": number(row.handling.p90),
    }


def report_page(
    report: Report,
    labels: Labels,
    *,
    made_at: datetime,
    today: date,
    agencies: list[tuple[str, str]],
    can_choose_agency: bool,
) -> dict[str, Any]:
    """The template's context for one report."""
    links = Links(report.period, report.agency)
    totals = report.totals
    step_name = t.TREND_STEP[report.trend_step]
    trend_labels = [day_label(p.start, report.trend_step) for p in report.trend]
    channels = [Bar(labels.channel(key), n, number(n)) for key, n in report.by_channel.items()]
    fields = [
        Bar(labels.field(row.key), row.received, number(row.received)) for row in report.by_field
    ]
    on_time = [
        Bar(
            labels.agency(row.key),
            1.0 if row.resolved else 0.0,
            f"{percent(row.on_time_rate)} ({row.on_time}/{row.resolved})",
            part=row.on_time_rate or 0.0,
        )
        for row in sorted(report.by_agency, key=lambda r: (-(r.on_time_rate or -1), r.key))
    ]
    charts: Mapping[str, Markup] = {
        "trend": vertical_bars(
            "bd-xu-huong",
            t.TREND.format(step=step_name),
            trend_labels,
            [p.received for p in report.trend],
        ),
        "channels": horizontal_bars("bd-kenh", t.BY_CHANNEL, channels),
        "fields": horizontal_bars("bd-linh-vuc", t.BY_FIELD, fields),
        "on_time": horizontal_bars(
            "bd-dung-han",
            t.ON_TIME_CHART,
            on_time,
            maximum=1.0,
            legend=(t.FIGURE_NAMES["on_time"], t.FIGURE_NAMES["late"]),
        ),
    }
    scope = (
        t.SCOPE_ALL
        if report.agency is None
        else t.SCOPE_AGENCY.format(name=labels.agency(report.agency))
    )
    return {
        "t": t,
        "period_text": t.PERIOD.format(
            start=report.period.start.strftime("%d/%m/%Y"),
            end=report.period.end.strftime("%d/%m/%Y"),
        ),
        "scope_text": scope,
        "made_at": t.MADE_AT.format(when=local_text(made_at)),
        "without_facts": (
            t.WITHOUT_FACTS.format(count=number(report.without_facts))
            if report.without_facts
            else None
        ),
        "start": report.period.start.isoformat(),
        "end": report.period.end.isoformat(),
        "agency": report.agency or "",
        "agencies": agencies,
        "can_choose_agency": can_choose_agency,
        "presets": [(t.PRESETS[key], links.page(period)) for key, period in presets(today)],
        "downloads": {
            "csv": links.summary("csv"),
            "xlsx": links.summary("xlsx"),
        },
        "empty": totals["received"] == 0,
        "summary": [
            (
                figure,
                t.FIGURE_NAMES[figure],
                number(totals[figure]),
                links.cases(figure, "csv"),
                links.cases(figure, "xlsx"),
            )
            for figure in SUMMARY
        ],
        "on_time_rate": percent(report.on_time_rate),
        "published_share": percent(report.published_share),
        "median": number(report.handling.median),
        "p90": number(report.handling.p90),
        "ratings": {
            "count": number(report.ratings.count),
            "average": number(report.ratings.average),
            "solved": number(report.ratings.solved),
            "stars": [(n, report.ratings.by_stars.get(n, 0)) for n in range(5, 0, -1)],
        },
        "charts": charts,
        "trend_rows": list(zip(trend_labels, report.trend, strict=True)),
        "trend_step": step_name,
        "channels": [
            (labels.channel(key), number(n), links.cases("received", "csv", "channel", key))
            for key, n in report.by_channel.items()
        ],
        "fields": [
            _row_view(row, labels.field(row.key), links, "field") for row in report.by_field
        ],
        "agency_rows": [
            _row_view(row, labels.agency(row.key), links, "agency") for row in report.by_agency
        ],
        "communes": [
            (labels.commune(key), number(n), links.cases("received", "csv", "commune", key))
            for key, n in report.by_commune.items()
        ],
        "row_figures": [
            t.FIGURE_NAMES[f]
            for f in ("received", "resolved", "on_time", "late", "open", "overdue")
        ],
    }
