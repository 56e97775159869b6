"""When it happened: what the agent typed, read against the call's start (pure)."""

from __future__ import annotations

from datetime import datetime

from pakn.extract import find_time
from pakn.worktime import VIETNAM_TZ

#: The form the core's rules read back (dd/mm/yyyy hh:mm, province time).
LOCAL_FORMAT = "%d/%m/%Y %H:%M"


def understood(text: str, *, reference: datetime) -> datetime | None:
    """The moment ``text`` names ("sáng nay", "tối qua lúc 9h", "8 giờ 25/11"), counted from
    ``reference`` (the call's start, not the moment the agent presses the button)."""
    if not text.strip():
        return None
    found = find_time(text, now=reference)
    return found.at if found is not None else None


def resolve_occurred(text: str, *, reference: datetime) -> str | None:
    """The value handed to the core's rules: the moment understood, else the text as typed
    (so the rules report what they cannot read, with their own message)."""
    moment = understood(text, reference=reference)
    if moment is not None:
        return moment.astimezone(VIETNAM_TZ).strftime(LOCAL_FORMAT)
    return text.strip() or None
