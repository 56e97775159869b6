"""The agency workspace's I/O: read the case in the user's scope, apply a pure transition,
store it in one write guarded by the state it was read in, publish its events, audit."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.errors import PyMongoError

from pakn.auth.users import Role
from pakn.images import strip_metadata
from pakn.schema import Attachment, Case
from pakn.store import AttachmentNotFound, Store
from pakn_router import case_repository as repository
from pakn_router.agency import messages as t
from pakn_router.agency.transitions import Refused, Transition
from pakn_router.consumer import SubmissionRouter
from pakn_router.monitor.actions import publish
from pakn_router.monitor.queries import Scope

log = logging.getLogger(__name__)

#: Re-reads after a concurrent write (a follow-up arriving) before giving up with a 409.
MAX_ATTEMPTS = 3
#: Appended to, never replaced: each write pushes only what the transition added.
APPENDED = ("history", "outbox", "event_ids")
CONFLICT = "Hồ sơ vừa được cập nhật bởi người khác; vui lòng tải lại và thử lại."

Change = Callable[[Case, datetime], Transition]


@dataclass(frozen=True)
class Done:
    transition: Transition
    #: The change is stored but its events wait in the outbox (the broker did not confirm).
    event_pending: bool

    @property
    def case(self) -> Case:
        return self.transition.case


def case_of(doc: Mapping[str, Any]) -> Case:
    return repository.case_from_document(doc)


def changed_fields(before: Case, after: Case) -> tuple[str, ...]:
    """The top-level keys a transition changed (history and outbox are pushed, never set,
    so what another writer appended meanwhile stays)."""
    old, new = repository.case_document(before), repository.case_document(after)
    return tuple(k for k, v in new.items() if k not in APPENDED and old.get(k) != v)


async def perform(
    store: Store,
    router: SubmissionRouter,
    tracking_code: str,
    scope: Scope,
    change: Change,
    *,
    clock: Callable[[], datetime],
) -> Done:
    """Apply ``change`` to the case as stored; Refused(404) when the user may not see it."""
    for _attempt in range(MAX_ATTEMPTS):
        query: dict[str, Any] = {"tracking_code": tracking_code}
        if scope.agency is not None:
            query = {"$and": [query, scope.query()]}
        doc = await store.cases.find_one(query)
        if doc is None:
            raise Refused(404, "not_found", t.NOT_FOUND)
        case = case_of(doc)
        transition = change(case, clock())
        fields = changed_fields(case, transition.case)
        if not fields and len(transition.case.history) == len(case.history):
            return Done(transition, False)
        update = repository.change_update(
            transition.case,
            calendar=router.calendar,
            fields=fields,
            history_before=len(case.history),
            outbox_before=len(case.outbox),
        )
        guard = {
            "tracking_code": tracking_code,
            "status": case.status.value,
            "updated_at": case.updated_at,
        }
        made = transition.case.outbox[len(case.outbox) :]
        if await repository.update_with_events(store, guard, update, made, clock()):
            pending = not await publish(router, tracking_code, made)
            return Done(transition, pending)
    raise Refused(409, "conflict", CONFLICT)


async def agency_has_leader(store: Store, agency: str) -> bool:
    """Whether the agency has an active leader account (else its administrator approves)."""
    doc = await store.users.find_one(
        {"role": Role.AGENCY_LEADER.value, "agency": agency, "active": True}, {"_id": 1}
    )
    return doc is not None


async def publish_photos(store: Store, case: Case) -> list[Attachment]:
    """Copies of the case's photos without EXIF, for the public, made when it is approved
    (a PDF or anything unreadable is not copied: only staff see it)."""
    originals = [*case.attachments, *(case.answer.attachments if case.answer else [])]
    copies: list[Attachment] = []
    for original in originals:
        try:
            data, _info = await store.open_attachment(original.ref)
            clean = strip_metadata(data, original.content_type)
        except (AttachmentNotFound, PyMongoError, OSError, ValueError) as exc:
            log.warning("photo %s of %s not copied: %s", original.ref, case.tracking_code, exc)
            continue
        if clean is None:
            continue
        body, content_type = clean
        ref = await store.put_attachment(
            body,
            filename=original.filename,
            content_type=content_type,
            metadata={"public_copy_of": original.sha256, "tracking_code": case.tracking_code},
        )
        copies.append(
            Attachment(
                filename=original.filename,
                content_type=content_type,
                size=len(body),
                sha256=hashlib.sha256(body).hexdigest(),
                ref=ref,
            )
        )
    return copies
