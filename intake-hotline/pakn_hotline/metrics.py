"""This service's metrics (bounded labels only)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

CALLS = Counter(
    "pakn_hotline_calls_logged",
    "Calls opened for logging, by source: console, telephony",
    ["source"],
)
TELEPHONY_DRAFTS = Counter(
    "pakn_hotline_telephony_drafts",
    "Records from the phone system, by outcome: created (a new draft), updated (the same call)",
    ["outcome"],
)
SUBMISSIONS = Counter(
    "pakn_hotline_submissions",
    "Reports submitted from the console, by outcome: case, followup, replayed, invalid,"
    " unavailable, conflict",
    ["outcome"],
)
FOLLOWUPS = Counter(
    "pakn_hotline_followups_attached",
    "Calls attached to an existing case as a follow-up instead of opening a new one",
)
VALIDATION_FAILURES = Counter(
    "pakn_hotline_validation_failures",
    "Findings of the core's rules on a submission attempt, by field and code",
    ["field", "code"],
)
END_TO_SUBMISSION = Histogram(
    "pakn_hotline_call_end_to_submission_seconds",
    "From the end of the call (as the phone system reported it) to the report's submission",
    buckets=(5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600),
)
CALLBACKS = Counter(
    "pakn_hotline_callbacks_added", "Cases put on the call-back list, by event", ["event"]
)
CALLBACKS_DONE = Counter("pakn_hotline_callbacks_done", "Call-backs marked done by an agent")
