"""A report and its case lists as spreadsheets: CSV (UTF-8 with BOM, as Excel expects) and
XLSX (openpyxl). Pure: a Report or rows in, bytes out. Nothing personal is ever written: the
case lists carry only pakn.reporting.CASE_LIST_FIELDS."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from pakn.report_facts import NONE
from pakn.reporting import CASE_LIST_FIELDS, ROW_FIGURES, Report, Row
from pakn.worktime import VIETNAM_TZ
from pakn_router.reports import messages as t

Cell = str | int | float | None
Names = Callable[[str], str]
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _days(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def row_header(first: str) -> list[Cell]:
    return [
        t.CODE,
        first,
        *(t.FIGURE_NAMES[name] for name in ROW_FIGURES),
        t.RATE,
        f"{t.MEDIAN} ({t.HANDLING})",
        f"{t.P90} ({t.HANDLING})",
    ]


def row_cells(row: Row, name: str) -> list[Cell]:
    return [
        row.key,
        name,
        *(getattr(row, figure) for figure in ROW_FIGURES),
        _rate(row.on_time_rate),
        _days(row.handling.median),
        _days(row.handling.p90),
    ]


def agency_table(report: Report, agency_name: Names) -> list[list[Cell]]:
    """The summary most people reuse: one line per lead agency, then the whole period."""
    lines: list[list[Cell]] = [row_header(t.AGENCY)]
    lines += [row_cells(row, agency_name(row.key)) for row in report.by_agency]
    totals = report.totals
    lines.append(
        [
            "",
            t.TOTAL,
            *(totals[name] for name in ROW_FIGURES),
            _rate(report.on_time_rate),
            _days(report.handling.median),
            _days(report.handling.p90),
        ]
    )
    return lines


def summary_table(report: Report, agency_name: Names) -> list[list[Cell]]:
    """Every single figure of the report, one per line."""
    scope = (
        t.SCOPE_ALL
        if report.agency is None
        else t.SCOPE_AGENCY.format(name=agency_name(report.agency))
    )
    lines: list[list[Cell]] = [
        [t.FIGURE, t.VALUE],
        [t.FROM, report.period.start.isoformat()],
        [t.TO, report.period.end.isoformat()],
        [t.AGENCY, scope],
    ]
    lines += [[t.FIGURE_NAMES[name], value] for name, value in report.totals.items()]
    lines += [
        [t.RATE, _rate(report.on_time_rate)],
        [t.SHARE_PUBLISHED, _rate(report.published_share)],
        [f"{t.HANDLING}: {t.MEDIAN}", _days(report.handling.median)],
        [f"{t.HANDLING}: {t.P90}", _days(report.handling.p90)],
        [
            t.AVERAGE_STARS,
            None if report.ratings.average is None else round(report.ratings.average, 2),
        ],
    ]
    lines += [[t.STARS.format(n=n), report.ratings.by_stars.get(n, 0)] for n in range(1, 6)]
    return lines


def field_table(report: Report, field_name: Names) -> list[list[Cell]]:
    return [row_header(t.BY_FIELD)] + [
        row_cells(row, field_name(row.key)) for row in report.by_field
    ]


def count_table(counts: Mapping[str, int], heading: str, name: Names) -> list[list[Cell]]:
    header: list[Cell] = [t.CODE, heading, t.FIGURE_NAMES["received"]]
    return [header] + [[key, name(key), n] for key, n in counts.items()]


def trend_table(report: Report) -> list[list[Cell]]:
    names = t.FIGURE_NAMES
    header: list[Cell] = [t.PERIOD_START, names["received"], names["resolved"], names["on_time"]]
    return [header] + [
        [p.start.isoformat(), p.received, p.resolved, p.on_time] for p in report.trend
    ]


def _case_value(name: str, value: Any) -> Cell:
    if isinstance(value, datetime):
        return value.astimezone(VIETNAM_TZ).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, bool):
        return t.YES if value else t.NO
    if name == "rep_days":
        return _days(value)
    if isinstance(value, str | int | float) or value is None:
        return value
    return str(value)


def case_table(rows: Iterable[Mapping[str, Any]]) -> list[list[Cell]]:
    """A case list, one line per case, the columns named in Vietnamese; times in province time."""
    lines: list[list[Cell]] = [[t.CASE_COLUMNS[name] for name in CASE_LIST_FIELDS]]
    lines += [[_case_value(name, row.get(name)) for name in CASE_LIST_FIELDS] for row in rows]
    return lines


def to_csv(lines: Sequence[Sequence[Cell]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for line in lines:
        writer.writerow(["" if cell is None else cell for cell in line])
    # The byte-order mark makes Excel read the Vietnamese letters as UTF-8.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _sheet(sheet: Worksheet, lines: Sequence[Sequence[Cell]]) -> None:
    for line in lines:
        sheet.append(list(line))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for column in sheet.columns:
        width = max(len(str(c.value)) if c.value is not None else 0 for c in column)
        letter = getattr(column[0], "column_letter", None)
        if letter is None:  # a merged cell: none are written
            continue
        sheet.column_dimensions[letter].width = min(max(width + 2, 8), 60)


def to_xlsx(sheets: Sequence[tuple[str, Sequence[Sequence[Cell]]]]) -> bytes:
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for title, lines in sheets:
        _sheet(book.create_sheet(title), lines)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


class Labels:
    """Codes to the names a reader of a spreadsheet or the page wants."""

    def __init__(self, agency: Names, field: Names) -> None:
        self._agency, self._field = agency, field

    def agency(self, code: str) -> str:
        return t.NONE_KEY if code == NONE else self._agency(code)

    def field(self, code: str) -> str:
        return t.NONE_KEY if code == NONE else self._field(code)

    @staticmethod
    def channel(code: str) -> str:
        return t.NONE_KEY if code == NONE else t.CHANNEL_NAMES.get(code, code)

    @staticmethod
    def commune(code: str) -> str:
        return t.NONE_KEY if code == NONE else code


def report_csv(report: Report, labels: Labels) -> bytes:
    return to_csv(agency_table(report, labels.agency))


def report_xlsx(report: Report, labels: Labels) -> bytes:
    return to_xlsx(
        [
            (t.SHEETS["summary"], summary_table(report, labels.agency)),
            (t.SHEETS["agency"], agency_table(report, labels.agency)),
            (t.SHEETS["field"], field_table(report, labels.field)),
            (t.SHEETS["channel"], count_table(report.by_channel, t.BY_CHANNEL, labels.channel)),
            (t.SHEETS["commune"], count_table(report.by_commune, t.BY_COMMUNE, labels.commune)),
            (t.SHEETS["trend"], trend_table(report)),
        ]
    )


def cases_csv(rows: Iterable[Mapping[str, Any]]) -> bytes:
    return to_csv(case_table(rows))


def cases_xlsx(rows: Iterable[Mapping[str, Any]]) -> bytes:
    return to_xlsx([(t.SHEETS["cases"], case_table(rows))])
