"""Prometheus helpers shared by every service: bounded labels, common buckets, timers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Histogram, Info

#: Latencies from a millisecond to half a minute (confirm waits, store round trips).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
#: Sizes of batches the router writes at once.
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500)
#: Upload sizes, 1 kB to 25 MB.
BYTES_BUCKETS = (1e3, 1e4, 1e5, 5e5, 1e6, 2.5e6, 5e6, 1e7, 2.5e7)

BUILD_INFO = Info("pakn_build", "Version of the PAKN Gateway code this process runs")


@contextmanager
def observe_seconds(histogram: Histogram, **labels: str) -> Iterator[None]:
    """Time the block into ``histogram`` (with ``labels`` when it has any)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        target = histogram.labels(**labels) if labels else histogram
        target.observe(time.perf_counter() - start)
