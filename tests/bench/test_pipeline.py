"""The pipeline benchmark still runs every stage and prints every ratio: CI runs it small
(PAKN_BENCH_SMALL=1), so a change that breaks it shows here. Its figures are read by people
on a quiet machine, never asserted: bench/ is not a test."""

from __future__ import annotations

import re

from tests.bench.running import run_bench

#: Each figure of issue 18, as the benchmark prints it (a ratio to its raw stage, or a
#: latency against the target).
EXPECTED = [
    r"raw aiohttp JSON echo\s+\d+ req/s",
    r"raw confirmed publish \(quorum\)\s+\d+ msg/s",
    r"raw journaled insert_one\s+\d+/s",
    r"intake at saturation\s+[\d.]+ × raw single insert",
    r"intake at 100 req/s offered\s+p50\s+[\d.]+ ms\s+p99\s+[\d.]+ ms = [\d.]+ × 50 ms",
    r"raw bulk insert, case documents\s+\d+/s",
    r"router draining a backlog\s+[\d.]+ × raw bulk of case documents",
    r"whole road, web \+ router loaded\s+[\d.]+ × raw single insert",
    r"[\d.]+ × raw store work per case",
    r"CPU per case on the road \(ms\)\s+web [\d.]+, router [\d.]+, store [\d.]+",
    r"[\d.]+ × what \d+ cores allow",
    r"peak RSS: web \d+ MB, router \d+ MB",
]


def test_the_pipeline_benchmark_runs_every_stage_and_prints_its_ratios() -> None:
    done = run_bench("bench.pipeline", {"PAKN_BENCH_SMALL": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    missing = [pattern for pattern in EXPECTED if not re.search(pattern, done.stdout)]
    assert not missing, f"{missing}\n{done.stdout}"
