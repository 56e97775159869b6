"""The one call every channel makes to accept a checked report: reserve its tracking code,
keep its attachments, publish it with confirm, and only then give the code (DESIGN.md §4)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pymongo
from pydantic import ValidationError
from pymongo.errors import PyMongoError

from pakn.bus import Bus, BusError
from pakn.ids import body_sha256, submission_id
from pakn.intake import metrics
from pakn.intake.reservations import (
    IdempotencyConflict,
    Reservation,
    Reservations,
    TrackingCodesExhausted,
    reserve,
)
from pakn.intake.uploads import Upload
from pakn.intake.validation import Report
from pakn.schema import Attachment, Channel, Consent, Location, Problem, Submission, Submitter
from pakn.store import Store

log = logging.getLogger(__name__)

#: Seconds a channel suggests before a retry when the store or broker could not take a report.
DEFAULT_RETRY_AFTER = 10
#: A store that has not answered a reservation in this long is treated as away (503), well
#: before a citizen's browser or an e-mail poll gives up on the answer.
DEFAULT_STORE_TIMEOUT = 5.0


class IntakeUnavailable(Exception):
    """The store or the broker could not take the report now; nothing was accepted.

    The same call again (same channel, client and reference) gets the same tracking code
    once they are back: the channel answers "try again in ``retry_after`` seconds"."""

    def __init__(self, part: str, retry_after: int) -> None:
        super().__init__(f"{part} unavailable; retry in {retry_after} s")
        #: Which part failed: "store", "attachments" or "broker" (for logs, never for people).
        self.part = part
        self.retry_after = retry_after


class SubmissionRejected(ValueError):
    """The report breaks a limit of the Submission schema that the content rules did not
    catch: refused before anything is reserved, so no code is held for a report never sent.
    ``fields`` are the dotted names at fault (a channel answers 422 naming them)."""

    def __init__(self, fields: list[str]) -> None:
        super().__init__(f"submission refused by the schema: {', '.join(fields)}")
        self.fields = fields


#: Stands in for the code and the stored files while a submission is checked before reserving.
_CHECK_CODE = "0000000000"
_CHECK_REF = "unstored"
_PARTS = {
    "Location": "location.",
    "Submitter": "submitter.",
    "Consent": "consent.",
    "Attachment": "attachments.",
}


@dataclass(frozen=True, slots=True)
class Accepted:
    """A report the broker confirmed: the code to give the citizen."""

    tracking_code: str
    submission_id: str
    #: True when this was a retry of a report already accepted (same code, same time).
    replayed: bool
    #: When the report was first received (a retry gets the first attempt's moment).
    received_at: datetime


def body_hash(report: Report, uploads: Sequence[Upload]) -> str:
    """What a retry must repeat to count as the same report (IdempotencyConflict otherwise)."""
    # The fields as they are (all plain values): asdict() would deep-copy each one first.
    body: dict[str, Any] = {f.name: getattr(report, f.name) for f in dataclasses.fields(report)}
    body["occurred_at"] = report.occurred_at.isoformat() if report.occurred_at else None
    body["attachments"] = sorted(upload.sha256 for upload in uploads)
    return body_sha256(body)


def location_of(report: Report, uploads: Sequence[Upload]) -> Location:
    """The place as reported; the first photo with GPS tells routing where it was when the
    report did not give coordinates."""
    lat, lon = report.lat, report.lon
    if lat is None or lon is None:
        located = next((u for u in uploads if u.lat is not None and u.lon is not None), None)
        if located is not None:
            lat, lon = located.lat, located.lon
    return Location(address=report.address, commune=report.commune, lat=lat, lon=lon)


def build_submission(
    reservation: Reservation,
    *,
    channel: Channel,
    channel_ref: str,
    report: Report,
    uploads: Sequence[Upload],
    attachments: list[Attachment],
    problems: Sequence[Problem],
) -> Submission:
    consent = (
        Consent(version=report.consent_version, at=reservation.received_at)
        if report.consent_version
        else None
    )
    return Submission(
        submission_id=reservation.submission_id,
        tracking_code=reservation.tracking_code,
        channel=channel,
        channel_ref=channel_ref,
        received_at=reservation.received_at,
        submitter=Submitter(
            name=report.name,
            phone=report.phone,
            email=report.email,
            address=report.contact_address,
            organization=report.organization,
        ),
        notify_via=report.notify_via,
        consent=consent,
        title=report.title,
        content=report.content,
        occurred_at=report.occurred_at,
        location=location_of(report, uploads),
        attachments=attachments,
        confidential=report.confidential,
        in_reply_to=report.in_reply_to,
        problems=list(problems),
    )


def _attachment(upload: Upload, ref: str) -> Attachment:
    return Attachment(
        filename=upload.filename,
        content_type=upload.content_type,
        size=upload.size,
        sha256=upload.sha256,
        ref=ref,
        lat=upload.lat,
        lon=upload.lon,
    )


class IntakePath:
    """The intake for one process: its store, its bus, and how long a citizen may wait."""

    def __init__(
        self,
        store: Store,
        bus: Bus,
        *,
        confirm_timeout: float = 5.0,
        retry_after: int = DEFAULT_RETRY_AFTER,
        store_timeout: float = DEFAULT_STORE_TIMEOUT,
        reservations: Reservations | None = None,
    ) -> None:
        self.store = store
        self.bus = bus
        self.confirm_timeout = confirm_timeout
        self.retry_after = retry_after
        self.store_timeout = store_timeout
        #: Shares the reservation's write with reports arriving together (a busy channel's
        #: one per process); without it each report writes its own.
        self.reservations = reservations

    async def accept(
        self,
        *,
        channel: Channel,
        client: str,
        channel_ref: str,
        received_at: datetime,
        report: Report,
        uploads: Sequence[Upload] = (),
        problems: Sequence[Problem] = (),
    ) -> Accepted:
        """Accept ``report`` and return its code once the broker confirmed it.

        ``client`` and ``channel_ref`` name the report for retries (ids.submission_id): the
        same three again return the first answer (``replayed``), with another body they raise
        IdempotencyConflict. ``received_at`` is the channel's moment of receipt (the form's
        arrival, the mail's INTERNALDATE, the call's start). Raises IntakeUnavailable when the
        store or the broker cannot take it now.
        """
        sid = submission_id(channel.value, client, channel_ref)
        self._check_before_reserving(
            sid, channel, channel_ref, received_at, report, uploads, problems
        )
        try:
            reservation = await self._reserve(sid, channel, report, uploads, received_at)
            attachments = await self._keep_attachments(sid, uploads, retry=not reservation.created)
            submission = build_submission(
                reservation,
                channel=channel,
                channel_ref=channel_ref,
                report=report,
                uploads=uploads,
                attachments=attachments,
                problems=problems,
            )
            await self._publish(submission)
        except IdempotencyConflict:
            metrics.SUBMISSIONS.labels(channel.value, "conflict").inc()
            raise
        except IntakeUnavailable:
            metrics.SUBMISSIONS.labels(channel.value, "unavailable").inc()
            raise
        # From here on the report is accepted: nothing may take the code from the citizen.
        # No "published" mark follows (one journaled write per report): the router's case
        # (cases.submission_id, or a follow-up's followups.submission_id) says the same, so
        # a reservation without one is a report never sent or not yet routed.
        replayed = not reservation.created
        metrics.SUBMISSIONS.labels(channel.value, "replayed" if replayed else "accepted").inc()
        for problem in problems:
            metrics.PROBLEMS.labels(channel.value, problem.code).inc()
        log.info("accepted %s as %s (%s)", sid, reservation.tracking_code, channel.value)
        return Accepted(
            tracking_code=reservation.tracking_code,
            submission_id=sid,
            replayed=replayed,
            received_at=reservation.received_at,
        )

    def _check_before_reserving(
        self,
        sid: str,
        channel: Channel,
        channel_ref: str,
        received_at: datetime,
        report: Report,
        uploads: Sequence[Upload],
        problems: Sequence[Problem],
    ) -> None:
        """Build the submission once with stand-ins for the code and the files: whatever
        the schema refuses is refused now, before a reservation exists to be left behind."""
        stand_in = Reservation(sid, _CHECK_CODE, channel.value, received_at, created=True)
        try:
            build_submission(
                stand_in,
                channel=channel,
                channel_ref=channel_ref,
                report=report,
                uploads=uploads,
                attachments=[_attachment(upload, _CHECK_REF) for upload in uploads],
                problems=problems,
            )
        except ValidationError as exc:
            # A part built on its own (Location, Submitter…) names its fields without a parent.
            parent = _PARTS.get(exc.title, "")
            fields = [parent + ".".join(str(p) for p in error["loc"]) for error in exc.errors()]
            metrics.SUBMISSIONS.labels(channel.value, "invalid").inc()
            log.warning("submission %s refused by the schema: %s", sid, fields)
            raise SubmissionRejected(fields) from exc

    async def _reserve(
        self,
        sid: str,
        channel: Channel,
        report: Report,
        uploads: Sequence[Upload],
        received_at: datetime,
    ) -> Reservation:
        body = body_hash(report, uploads)
        try:
            with pymongo.timeout(self.store_timeout):
                if self.reservations is None:
                    return await reserve(
                        self.store,
                        submission_id=sid,
                        channel=channel.value,
                        body_sha256=body,
                        received_at=received_at,
                    )
                # The shared write has its own timeout; this one bounds the wait for it too.
                async with asyncio.timeout(self.store_timeout):
                    return await self.reservations.reserve(
                        submission_id=sid,
                        channel=channel.value,
                        body_sha256=body,
                        received_at=received_at,
                    )
        except (PyMongoError, TrackingCodesExhausted, TimeoutError) as exc:
            log.warning("reservation of %s failed: %s", sid, type(exc).__name__)
            raise IntakeUnavailable("store", self.retry_after) from exc

    async def _keep_attachments(
        self, sid: str, uploads: Sequence[Upload], *, retry: bool
    ) -> list[Attachment]:
        """Put the files in GridFS once: a retry reuses what a first attempt already stored."""
        try:
            with pymongo.timeout(self.store_timeout):
                return await self._store_uploads(sid, uploads, retry=retry)
        except PyMongoError as exc:
            log.warning("attachments of %s not stored: %s", sid, type(exc).__name__)
            raise IntakeUnavailable("attachments", self.retry_after) from exc

    async def _store_uploads(
        self, sid: str, uploads: Sequence[Upload], *, retry: bool
    ) -> list[Attachment]:
        stored: dict[str, str] = {}
        if retry and uploads:
            stored = {
                doc["metadata"]["sha256"]: str(doc["_id"])
                async for doc in self.store.db["attachments.files"].find(
                    {"metadata.submission_id": sid}, {"metadata.sha256": 1}
                )
            }
        attachments: list[Attachment] = []
        for upload in uploads:
            ref = stored.get(upload.sha256) or await self.store.put_attachment(
                upload.data,
                filename=upload.filename,
                content_type=upload.content_type,
                metadata={"submission_id": sid, "sha256": upload.sha256},
            )
            metrics.UPLOAD_BYTES.labels(upload.content_type).observe(upload.size)
            attachments.append(_attachment(upload, ref))
        return attachments

    async def _publish(self, submission: Submission) -> None:
        started = time.perf_counter()
        try:
            await self.bus.publish_submission(submission, timeout=self.confirm_timeout)
        except BusError as exc:
            log.warning("publish of %s not confirmed: %s", submission.submission_id, exc)
            raise IntakeUnavailable("broker", self.retry_after) from exc
        metrics.CONFIRM_SECONDS.labels(submission.channel.value).observe(
            time.perf_counter() - started
        )
