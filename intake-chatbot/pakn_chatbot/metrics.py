"""The chatbot's metrics (bounded labels only: platform, slot, outcome)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

CONVERSATIONS_STARTED = Counter(
    "pakn_chatbot_conversations_started_total", "Reports begun in a chat", ["platform"]
)
CONVERSATIONS_COMPLETED = Counter(
    "pakn_chatbot_conversations_completed_total",
    "Reports submitted from a chat (the broker confirmed)",
    ["platform"],
)
CONVERSATIONS_ABANDONED = Counter(
    "pakn_chatbot_conversations_abandoned_total",
    "Reports dropped after the citizen went quiet",
    ["platform"],
)
CONVERSATIONS_CANCELLED = Counter(
    "pakn_chatbot_conversations_cancelled_total", "Reports the citizen cancelled", ["platform"]
)
REASKS = Counter(
    "pakn_chatbot_reasks_total", "Questions asked again because the answer was unclear", ["slot"]
)
TURNS_PER_REPORT = Histogram(
    "pakn_chatbot_turns_per_report",
    "Citizen messages from the first to the confirmation, per submitted report",
    buckets=(1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30),
)
TURNS = Counter("pakn_chatbot_turns_total", "Messages answered", ["platform"])
DUPLICATE_EVENTS = Counter(
    "pakn_chatbot_duplicate_events_total",
    "Platform events delivered again and not answered twice",
    ["platform"],
)
#: Like pakn_web_rate_limited_total; not in pakn_intake_submissions_total{outcome="rate_limited"},
#: as a chat message is one turn of a report, not a report (the web counts lookups so too).
RATE_LIMITED = Counter(
    "pakn_chatbot_rate_limited_total",
    "Widget messages refused by the rate limiter (nothing stored), by the budget that ran out",
    ["key"],  # user (one widget user id), address (one client address)
)
REJECTED_SIGNATURES = Counter(
    "pakn_chatbot_rejected_signatures_total", "Webhook calls refused: bad signature", ["platform"]
)
EMERGENCIES = Counter(
    "pakn_chatbot_emergencies_total", "Messages answered first with emergency numbers", ["platform"]
)
SENDS = Counter(
    "pakn_chatbot_platform_sends_total",
    "Messages handed to a platform's send API, by outcome",
    ["platform", "outcome"],  # sent, failed (will retry), refused (platform said no), gave_up
)
SEND_FAILURES = Counter(
    "pakn_chatbot_platform_send_failures_total",
    "Platform send attempts that failed (each retry counts)",
    ["platform"],
)
TOKEN_REFRESHES = Counter(
    "pakn_chatbot_token_refreshes_total",
    "Platform access tokens refreshed",
    ["platform", "outcome"],
)
CASE_UPDATES = Counter(
    "pakn_chatbot_case_updates_total", "Case events told to citizens, by event", ["event"]
)
