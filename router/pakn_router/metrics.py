"""The router's metrics (bounded labels: field, method, decision, stage, event)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from pakn.metrics import BATCH_BUCKETS, LATENCY_BUCKETS
from pakn.schema import Case
from pakn_router.classification import Classification

DECISIONS = Counter(
    "pakn_router_decisions_total",
    "Routing decisions, by field, method and decision",
    ["field", "method", "decision"],
)
TRIAGED = Counter("pakn_router_triage_total", "Cases left for an operator to classify")
REDIRECTED = Counter(
    "pakn_router_redirected_total", "Complaints and denunciations sent to their own channel"
)
CONFIDENCE = Histogram(
    "pakn_router_confidence",
    "Classifier confidence of each decision",
    buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0),
)
LATENCY = Histogram(
    "pakn_router_batch_seconds",
    "Time to route one batch, from delivery to ack",
    buckets=LATENCY_BUCKETS,
)
BATCH_SIZE = Histogram("pakn_router_batch_size", "Deliveries per batch", buckets=BATCH_BUCKETS)
DEAD_LETTERS = Counter(
    "pakn_router_dead_letters_total",
    "Messages dead-lettered, by stage and reason",
    ["stage", "reason"],
)
RETRIES = Counter(
    "pakn_router_retries_total", "Batches held and retried after a transient failure", ["error"]
)
#: Set by the monitor's sweep (every 30 s): what waits for people, for dashboards and alerts.
ROUTING_FAILURES = Counter(
    "pakn_router_routing_failures_total",
    "Batches whose routing failed unexpectedly (retried one by one, then dead-lettered)",
    ["error"],
)
WAITING = Gauge("pakn_router_cases_waiting", "Cases waiting for people, by status", ["status"])
OVERDUE = Gauge("pakn_router_overdue_cases", "Running cases past their deadline")
DEAD_LETTERS_WAITING = Gauge(
    "pakn_router_dead_letters_waiting", "Dead letters no operator has replayed or discarded yet"
)
EVENTS = Counter("pakn_router_events_total", "Case events published (confirmed)", ["event"])


def record_decision(case: Case, classification: Classification) -> None:
    DECISIONS.labels(case.field or "none", case.routing.method, classification.decision).inc()
    CONFIDENCE.observe(classification.confidence)
    if classification.decision == "triage":
        TRIAGED.inc()
    elif classification.decision == "redirect":
        REDIRECTED.inc()
