"""The e-mail service's metrics (bounded labels only)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

SEEN = Counter("pakn_email_messages_seen_total", "Messages read from the mailbox")
SUBMITTED = Counter("pakn_email_submitted_total", "Messages submitted as new reports")
FOLLOWUPS = Counter("pakn_email_followups_total", "Messages submitted as follow-ups of a case")
IGNORED = Counter(
    "pakn_email_ignored_total", "Messages recorded but not answered, by reason", ["reason"]
)
FAILED = Counter(
    "pakn_email_failed_total", "Messages moved to the failed folder, by reason", ["reason"]
)
ACKS_SENT = Counter("pakn_email_outbox_sent_total", "Outgoing mails sent, by kind", ["kind"])
ACKS_FAILED = Counter(
    "pakn_email_outbox_failures_total", "Failed tries to send an outgoing mail (retried)", ["kind"]
)
ACKS_REJECTED = Counter(
    "pakn_email_outbox_rejected_total", "Outgoing mails the server refused for good", ["kind"]
)
OUTBOX_PENDING = Gauge("pakn_email_outbox_pending", "Outgoing mails waiting to be sent")
MAILBOX_LAG = Gauge(
    "pakn_email_mailbox_lag_seconds", "Age of the oldest message still waiting in the mailbox"
)
IMAP_RECONNECTS = Counter(
    "pakn_email_imap_reconnects_total", "Times the IMAP connection was made again"
)
UIDVALIDITY_CHANGES = Counter(
    "pakn_email_uidvalidity_changes_total", "Times the mailbox's UIDVALIDITY changed (full rescan)"
)
RECONCILE_UNACCOUNTED = Gauge(
    "pakn_email_reconcile_unaccounted", "Messages of the last reconciliation with no outcome"
)
EVENTS_NOTIFIED = Counter(
    "pakn_email_case_events_notified_total", "Case events written to citizens, by event", ["event"]
)
