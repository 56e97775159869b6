"""The chatbot's side of the core intake path: a confirmed draft becomes a report.

The rules are the core's (pakn.intake): the dialogue has already asked for everything it
could, so what is still missing after that (content the citizen could not write with
diacritics, a place or time asked three times in vain) travels as a problem for the agency
to ask about, under the dialogue's ``CHAT_POLICY``; anything else the core refuses is an error the
dialogue asks again for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pakn.intake import FieldError, IntakePath, IntakeUnavailable, Upload, check_report
from pakn.public import AgencyNames, find_public_case
from pakn.schema import Channel
from pakn.store import Store
from pakn_chatbot.dialogue import CHAT_POLICY


class SubmitUnavailable(Exception):
    """The store or broker could not take the report now; the citizen sends "gửi" again."""


class SubmitRefused(Exception):
    def __init__(self, errors: Sequence[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.code}" for e in errors))
        self.errors = list(errors)


class Reporter:
    def __init__(
        self, store: Store, intake: IntakePath, names: AgencyNames, public_url: str
    ) -> None:
        self.store = store
        self.intake = intake
        self.names = names
        self.public_url = public_url

    async def submit(
        self,
        *,
        platform: str,
        channel_ref: str,
        confirmed_at: datetime,
        fields: dict[str, Any],
        uploads: Sequence[Upload],
    ) -> str:
        """The tracking code, once the broker confirmed the report."""
        checked = check_report(fields, now=confirmed_at, policy=CHAT_POLICY)
        if checked.report is None:
            raise SubmitRefused(checked.errors)
        # News about the case comes back through the chat it came from.
        report = dataclasses.replace(checked.report, notify_via=Channel.CHATBOT.value)
        try:
            accepted = await self.intake.accept(
                channel=Channel.CHATBOT,
                client=platform,
                channel_ref=channel_ref,
                received_at=confirmed_at,
                report=report,
                uploads=uploads,
                problems=[problem.as_problem() for problem in checked.problems],
            )
        except IntakeUnavailable as exc:
            raise SubmitUnavailable(exc.part) from exc
        return accepted.tracking_code

    async def public_view(self, tracking_code: str) -> dict[str, Any] | None:
        return await find_public_case(self.store, self.names, tracking_code)

    def status_url(self, tracking_code: str) -> str:
        return f"{self.public_url.rstrip('/')}/tra-cuu?ma={tracking_code}"
