"""Telling chat citizens what happened to their case: case events → the outbox.

The core's follower (pakn.case_events) gives this handler the events of cases that came by
chat, once each; the handler writes one outbox entry keyed by the event id, so a repeat
writes nothing new. The text comes from the case's public view (what the tracking page
shows), never from the staff view.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from pakn.ids import format_tracking_code
from pakn.intake.messages import message_for
from pakn.schema import CaseEvent, EventKind
from pakn.store import Store
from pakn.worktime import local_text
from pakn_chatbot import messages, metrics, outbox

#: The events a citizen hears of (the others are the administration's own steps).
TOLD: frozenset[EventKind] = frozenset(
    {EventKind.ASSIGNED, EventKind.NEEDS_INFO, EventKind.ESCALATED, EventKind.PUBLISHED}
)

#: How the router's note of an incomplete arrival begins (pakn_router.cases.mark_needs_info).
ROUTER_NOTE = "thiếu thông tin"

PublicView = Callable[[str], Awaitable[dict[str, Any] | None]]


def recipient_of(channel_ref: str | None) -> tuple[str, str] | None:
    """(platform, user id) from ``<platform>:<user>:<conversation>``."""
    if not channel_ref:
        return None
    platform, _, rest = channel_ref.partition(":")
    user, _, _conversation = rest.rpartition(":")
    if platform not in {"generic", "messenger", "zalo"} or not user:
        return None
    return platform, user


def missing_question(problems: list[dict[str, Any]]) -> str | None:
    """What a case that arrived incomplete lacks, in the core's Vietnamese words."""
    texts = [
        message_for(str(p.get("code")), str(p.get("field")))
        for p in problems
        if p.get("code") and p.get("field")
    ]
    return " ".join(dict.fromkeys(texts)) or None


def update_text(
    event: CaseEvent, view: dict[str, Any] | None, public_url: str, *, question: str | None = None
) -> str:
    """The message for one event, from the event and the case's public view."""
    view = view or {}
    code = format_tracking_code(event.tracking_code)
    agency = view.get("lead_agency_name") or event.lead_agency or messages.UPDATE_NO_DETAIL
    due = event.due_at or _moment(view.get("due_at"))
    url = f"{public_url.rstrip('/')}/tra-cuu?ma={event.tracking_code}"
    if event.event is EventKind.ESCALATED:
        escalation = view.get("escalation") or {}
        agency = escalation.get("to_name") or escalation.get("to") or agency
    result = (view.get("result") or {}).get("text") or messages.UPDATE_NO_DETAIL
    return messages.UPDATES[event.event.value].format(
        code=code,
        agency=agency,
        due=local_text(due) if due else messages.UPDATE_NO_DETAIL,
        question=question or event.note or messages.UPDATE_NO_DETAIL,
        result=result,
        url=url,
        portal=public_url.rstrip("/"),
    )


def _moment(value: Any) -> datetime | None:
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return value if isinstance(value, datetime) else None


class CaseNotifier:
    def __init__(
        self,
        store: Store,
        public_view: PublicView,
        public_url: str,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.public_view = public_view
        self.public_url = public_url
        self.wake = wake

    async def __call__(self, event: CaseEvent) -> None:
        if event.event not in TOLD:
            return
        recipient = recipient_of(event.channel_ref)
        if recipient is None:
            return
        platform, user = recipient
        view = await self.public_view(event.tracking_code)
        question = None
        # The router's own note lists codes ("thiếu thông tin (content: …)"): say it in words.
        if event.event is EventKind.NEEDS_INFO and (event.note or "").startswith(ROUTER_NOTE):
            case = await self.store.cases.find_one(
                {"tracking_code": event.tracking_code}, {"problems": 1}
            )
            question = missing_question(list((case or {}).get("problems") or []))
        text = update_text(event, view, self.public_url, question=question)
        await outbox.enqueue(
            self.store,
            [outbox.OutgoingMessage(f"case:{event.event_id}", platform, user, text, "update")],
            now=datetime.now(UTC),
        )
        metrics.CASE_UPDATES.labels(event.event.value).inc()
        self.wake()
