"""`pakn report` as the ops team runs it, against the store, and its CSV and XLSX contents."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from pakn.store import Store
from tests.fixtures.store import url_with_database
from tests.pakn.reporting_cases import EXPECTED, LIGHTS, ROADS, insert_cases

CONFIG = Path(__file__).parents[2] / "deploy" / "config" / "khanh-hoa"


def pakn_report(mongodb_url: str, database: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {
        **os.environ,
        "PAKN_ENV": "test",
        "PAKN_MONGODB_URL": url_with_database(mongodb_url, database),
        "PAKN_CONFIG_DIR": str(CONFIG),
    }
    return subprocess.run(
        [sys.executable, "-m", "pakn", "report", *args],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
async def stored(store: Store) -> Store:
    await insert_cases(store)
    return store


async def test_json_is_the_contract_shape(
    stored: Store, mongodb_url: str, store_database: str
) -> None:
    done = pakn_report(
        mongodb_url,
        store_database,
        *("--from", "2026-02-09", "--to", "2026-03-06", "--format", "json"),
    )
    assert done.returncode == 0, done.stderr.decode()
    printed = json.loads(done.stdout)
    assert list(printed)[:7] == [
        "from",
        "to",
        "received",
        "by_channel",
        "by_field",
        "by_agency",
        "on_time_rate",
    ]
    assert printed["from"] == "2026-02-09" and printed["to"] == "2026-03-06"
    assert printed["received"] == 10
    assert printed["by_channel"] == EXPECTED["by_channel"]
    assert printed["by_field"] == EXPECTED["by_field"]
    assert printed["on_time_rate"] == pytest.approx(0.6)
    rows = {row["agency"]: row for row in printed["by_agency"]}
    for agency in (LIGHTS, ROADS):
        expected = EXPECTED["by_agency"][agency]
        assert {k: rows[agency][k] for k in ("received", "resolved", "on_time", "late")} == {
            k: expected[k] for k in ("received", "resolved", "on_time", "late")
        }
        assert rows[agency]["open"] == expected["open"]
        assert rows[agency]["overdue"] == expected["overdue"]
    assert list(rows[ROADS])[:7] == [
        "agency",
        "received",
        "resolved",
        "on_time",
        "late",
        "open",
        "overdue",
    ]


async def test_an_agency_and_csv(stored: Store, mongodb_url: str, store_database: str) -> None:
    done = pakn_report(
        mongodb_url,
        store_database,
        *("--from", "2026-02-09", "--to", "2026-03-06", "--agency", ROADS, "--format", "csv"),
    )
    assert done.returncode == 0, done.stderr.decode()
    text = done.stdout.decode("utf-8")
    assert text.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert lines[0][:4] == ["Mã", "Cơ quan", "Tiếp nhận", "Đã giải quyết"]
    by_code = {line[0]: line for line in lines[1:]}
    assert by_code[ROADS][1] == "Sở Xây dựng tỉnh Khánh Hòa"
    assert by_code[ROADS][2:6] == ["4", "3", "1", "2"]
    assert by_code[LIGHTS][2] == "1"  # c5, which it co-handles
    total = lines[-1]
    assert total[1] == "Tổng cộng" and total[2] == "5"
    assert "Nguyễn" not in text and "0905123456" not in text


async def test_xlsx_reads_back_with_every_sheet(
    stored: Store, mongodb_url: str, store_database: str, tmp_path: Path
) -> None:
    target = tmp_path / "bao-cao.xlsx"
    done = pakn_report(
        mongodb_url,
        store_database,
        *("--from", "2026-02-09", "--to", "2026-03-06", "--format", "xlsx", "--output"),
        str(target),
    )
    assert done.returncode == 0, done.stderr.decode()
    book = openpyxl.load_workbook(target, read_only=True)
    assert book.sheetnames == [
        "Tổng hợp",
        "Theo cơ quan",
        "Theo lĩnh vực",
        "Theo kênh",
        "Theo xã phường",
        "Xu hướng",
    ]
    summary = {row[0]: row[1] for row in book["Tổng hợp"].iter_rows(min_row=2, values_only=True)}
    assert summary["Tiếp nhận"] == 10
    assert summary["Trễ hạn"] == 2
    assert summary["Quá hạn (đang xử lý)"] == 1
    assert summary["Mở lại"] == 1 and summary["Bị trả lại"] == 1
    assert summary["Tỉ lệ đúng hạn"] == 0.6
    assert summary["Thời gian giải quyết (ngày làm việc): Trung vị"] == 1.0
    assert summary["5 sao"] == 1 and summary["3 sao"] == 0
    channels = {row[0]: row[2] for row in book["Theo kênh"].iter_rows(min_row=2, values_only=True)}
    assert channels == EXPECTED["by_channel"]
    trend = list(book["Xu hướng"].iter_rows(min_row=2, values_only=True))
    assert len(trend) == 26 and sum(row[1] for row in trend if isinstance(row[1], int)) == 10
    agencies = list(book["Theo cơ quan"].iter_rows(min_row=2, values_only=True))
    assert agencies[-1][1] == "Tổng cộng" and agencies[-1][2] == 10


def test_bad_dates_are_refused_with_a_message() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pakn", "report", "--from", "2026-03-06", "--to", "2026-02-09"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert b"ends before it starts" in done.stderr
