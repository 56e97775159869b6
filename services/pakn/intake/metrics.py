"""The intake's metrics, one family for every channel (bounded labels: channel, outcome, code),
so one dashboard and one alert serve the web, the app, e-mail, the hotline and the chatbot."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter, Histogram

from pakn.intake.validation import FieldError
from pakn.metrics import BYTES_BUCKETS, LATENCY_BUCKETS

SUBMISSIONS = Counter(
    "pakn_intake_submissions_total",
    "Reports answered at intake, by channel and outcome",
    # accepted, replayed, conflict, unavailable (the intake path); invalid, rate_limited,
    # too_large, bad_request (the channel, before the path is called)
    ["channel", "outcome"],
)
VALIDATION_FAILURES = Counter(
    "pakn_intake_validation_failures_total",
    "Findings of the content and attachment rules sent back as errors, by code",
    ["channel", "code"],
)
PROBLEMS = Counter(
    "pakn_intake_problems_total",
    "Findings a report was accepted with, to be asked back for (by code)",
    ["channel", "code"],
)
CONFIRM_SECONDS = Histogram(
    "pakn_intake_confirm_seconds",
    "Time from publish to the broker's confirm",
    ["channel"],
    buckets=LATENCY_BUCKETS,
)
UPLOAD_BYTES = Histogram(
    "pakn_intake_upload_bytes",
    "Size of accepted attachments",
    ["content_type"],
    buckets=BYTES_BUCKETS,
)
AFTER_CONFIRM_FAILURES = Counter(
    "pakn_intake_after_confirm_failures_total",
    "Book-keeping that failed after the broker confirmed (the citizen still got the code)",
    ["step"],
)


def count_refused(channel: str, outcome: str, errors: Iterable[FieldError] = ()) -> None:
    """A report the channel answered itself (invalid, rate limited, too large, unreadable)."""
    for error in errors:
        VALIDATION_FAILURES.labels(channel, error.code).inc()
    SUBMISSIONS.labels(channel, outcome).inc()
