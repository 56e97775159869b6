"""When a citizen's "not solved" reopens a case: one rule, read by the web form (to tell the
citizen at once) and applied by the router (the only writer of cases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

#: Statuses with an answer the citizen may say did not solve it.
ANSWERED = frozenset({"resolved", "published"})


def reopens(
    status: str, answered_at: datetime | None, solved: bool, now: datetime, window: timedelta
) -> bool:
    """True when "not solved" comes within ``window`` of the answer (approval or publication)."""
    if solved or status not in ANSWERED or answered_at is None:
        return False
    if answered_at.tzinfo is None:  # as read back from a store that drops the zone
        answered_at = answered_at.replace(tzinfo=UTC)
    return now - answered_at <= window
