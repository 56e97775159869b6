"""Telling the citizen by e-mail what happened to a case that came by e-mail.

The core's follower (`pakn.case_events`) hands over each event of an e-mail case once; this
handler writes a letter into the outbox under the event id (so a redelivery writes nothing
new), in the thread of the citizen's first message, for: assigned (agency and deadline),
needs_info (the agency's question), escalated, and published.
"""

from __future__ import annotations

import logging
from typing import Any

from pymongo import ReturnDocument

from pakn.schema import CaseEvent, EventKind
from pakn.territory import ProvinceConfig
from pakn_email import messages, metrics
from pakn_email.outbox import Outbox, Outgoing
from pakn_email.records import Records
from pakn_email.settings import EmailSettings

log = logging.getLogger(__name__)

TOLD = frozenset(
    {EventKind.ASSIGNED, EventKind.NEEDS_INFO, EventKind.ESCALATED, EventKind.PUBLISHED}
)


class CaseNews:
    def __init__(
        self, settings: EmailSettings, records: Records, outbox: Outbox, province: ProvinceConfig
    ) -> None:
        self.settings = settings
        self.records = records
        self.outbox = outbox
        self.province = province

    def agency_name(self, code: str | None) -> str:
        if code is None:
            return "cơ quan có thẩm quyền"
        try:
            return self.province.agency(code).name
        except KeyError:
            return code

    async def handle(self, event: CaseEvent) -> None:
        if event.event not in TOLD:
            return
        record = await self.records.by_tracking_code(event.tracking_code)
        if record is None or not record.get("reply_address"):
            return  # not a case opened by e-mail to this mailbox (or nobody to write to)
        if event.event == EventKind.NEEDS_INFO and await self._is_intake_question(record, event):
            return  # the acknowledgement already asked for exactly this
        letter = self._letter(event, record)
        thread = [record["_id"], *await self.outbox.thread_of(event.tracking_code)]
        created = await self.outbox.enqueue(
            Outgoing(
                key=f"event:{event.event_id}",
                kind=f"event:{event.event.value}",
                to=record["reply_address"],
                to_name=record.get("sender_name"),
                letter=letter,
                tracking_code=event.tracking_code,
                in_reply_to=record["_id"],
                references=tuple(dict.fromkeys([*record.get("references", []), *thread])),
                auto_submitted="auto-generated",
            )
        )
        if created:
            metrics.EVENTS_NOTIFIED.labels(event.event.value).inc()
            log.info("queued news %s for %s", event.event.value, event.tracking_code)

    async def _is_intake_question(self, record: dict[str, Any], event: CaseEvent) -> bool:
        """The first needs_info of a report accepted with problems is the router's echo of
        them, already answered by the acknowledgement; later ones are an agency's question."""
        if not record.get("problems"):
            return False
        claimed = await self.records.messages.find_one_and_update(
            {
                "_id": record["_id"],
                "$or": [
                    {"intake_question_event": {"$exists": False}},
                    {"intake_question_event": event.event_id},
                ],
            },
            {"$set": {"intake_question_event": event.event_id}},
            return_document=ReturnDocument.AFTER,
        )
        return claimed is not None

    def _letter(self, event: CaseEvent, record: dict[str, Any]) -> messages.Letter:
        name = record.get("sender_name")
        url = self.settings.public_url
        code = event.tracking_code
        if event.event == EventKind.ASSIGNED:
            return messages.assigned(
                tracking_code=code,
                name=name,
                agency=self.agency_name(event.lead_agency),
                due_at=event.due_at,
                public_url=url,
            )
        if event.event == EventKind.NEEDS_INFO:
            return messages.needs_info(
                tracking_code=code, name=name, question=event.note, public_url=url
            )
        if event.event == EventKind.ESCALATED:
            return messages.escalated(
                tracking_code=code, name=name, reason=event.note, public_url=url
            )
        return messages.published(tracking_code=code, name=name, public_url=url)
