"""The web intake's own metrics (bounded labels only); what every channel counts — reports by
outcome, validation failures, confirm time, upload sizes — is pakn.intake.metrics."""

from __future__ import annotations

from prometheus_client import Counter

RATE_LIMITED = Counter(
    "pakn_web_rate_limited_total", "Requests refused by the rate limiter", ["route"]
)
