"""The report benchmark still runs and prints its ratios: CI runs it small, so a change that
breaks it shows here (its figures are read by people, never asserted: bench/ is not a test)."""

from __future__ import annotations

import re

from tests.bench.running import run_bench

RATIO = re.compile(r"^report:\s+[\d.]+ × one aggregation pass", re.MULTILINE)


def test_the_report_benchmark_runs_and_prints_its_ratio() -> None:
    done = run_bench("bench.reports", {"PAKN_BENCH_REPORT_CASES": "400"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert RATIO.search(done.stdout), done.stdout
    # Every measure of the issue is there: one agency, the kept year, the exports, the
    # backfill of the cases written without facts (a tenth of them).
    for measure in ("one agency:", "kept:", "late cases CSV+XLSX:", "backfill of 40 cases:"):
        assert measure in done.stdout
    assert "(cases without facts: 0)" in done.stdout
