"""Pre-filling a report from the caller's segments of a transcript (pure).

What the caller said becomes the content; phone, time, place and name are read from it by
the core's Vietnamese extraction (`pakn.extract`, the chatbot's own). The number the phone
system saw is the phone to call back unless the caller dictated another one.
"""

from __future__ import annotations

from pakn.extract import PlaceFinder, extract
from pakn.worktime import VIETNAM_TZ
from pakn_hotline.calls import CallRecord, ReportFields, caller_words
from pakn_hotline.occurred import LOCAL_FORMAT


def prefill(record: CallRecord, places: PlaceFinder) -> ReportFields:
    """The fields a record fills before the agent touches them."""
    said = caller_words(record.transcript)
    if not said:
        return ReportFields(phone=record.caller_number)
    found = extract(said, now=record.started_at, places=places)
    return ReportFields(
        name=found.name.name if found.name is not None else "",
        phone=found.phone.e164 if found.phone is not None else record.caller_number,
        content=said[:20_000],
        commune=(found.place.commune or "") if found.place is not None else "",
        street=found.place.address[:500] if found.place is not None else "",
        occurred=(
            found.time.at.astimezone(VIETNAM_TZ).strftime(LOCAL_FORMAT)
            if found.time is not None
            else ""
        ),
    )
