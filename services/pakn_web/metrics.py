"""The web intake's metrics (bounded labels only: channel, outcome, code, route)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from pakn.metrics import BYTES_BUCKETS, LATENCY_BUCKETS

SUBMISSIONS = Counter(
    "pakn_web_submissions_total",
    "Submissions answered, by channel and outcome",
    ["channel", "outcome"],  # accepted, replayed, invalid, conflict, unavailable, rate_limited
)
VALIDATION_FAILURES = Counter(
    "pakn_web_validation_failures_total", "Validation errors reported, by code", ["code"]
)
CONFIRM_SECONDS = Histogram(
    "pakn_web_confirm_seconds",
    "Time from publish to the broker's confirm",
    buckets=LATENCY_BUCKETS,
)
RATE_LIMITED = Counter(
    "pakn_web_rate_limited_total", "Requests refused by the rate limiter", ["route"]
)
UPLOAD_BYTES = Histogram(
    "pakn_web_upload_bytes", "Size of accepted uploads", ["content_type"], buckets=BYTES_BUCKETS
)
