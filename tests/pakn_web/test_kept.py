"""Photos survive a form shown again with errors: the citizen does not choose them again."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import aiohttp

from pakn.bus import SUBMISSIONS_QUEUE
from pakn.schema import Submission
from pakn.store import Store
from pakn_web.kept import purge_expired
from tests.fixtures.broker import QueueInspector
from tests.pakn_web.conftest import WebClient, jpeg, report

HTML = {"Accept": "text/html,application/xhtml+xml"}
PENDING = {"metadata.pending": True}


def form(
    content: str | None, key: str, *, photo: bytes | None = None, kept: Sequence[str] = ()
) -> aiohttp.FormData:
    data = aiohttp.FormData()
    fields = {
        "occurred_at": "27/11/2026 17:45",
        "address": "45 Lê Thánh Tôn, phường Nha Trang",
        "name": "Lê Thị Hoa",
        "phone": "0905123456",
        "consent": "1",
        "idempotency_key": key,
    }
    if content is not None:
        fields["content"] = content
    for name, value in fields.items():
        data.add_field(name, value)
    for token in kept:
        data.add_field("kept_files", token)
    if photo is not None:
        data.add_field("files", photo, filename="ho-ga.jpg", content_type="image/jpeg")
    return data


async def test_a_photo_is_kept_across_an_error_and_sent_with_the_fixed_report(
    web: WebClient, store: Store, amqp_queues: QueueInspector
) -> None:
    photo, key = jpeg(), str(uuid.uuid4())
    first = await web.post("/api/v1/submissions", data=form(None, key, photo=photo), headers=HTML)
    assert first.status == 422
    page = await first.text()
    assert "ho-ga.jpg" in page
    tokens = re.findall(r'name="kept_files"[^>]*value="([^"]+)"', page)
    assert len(tokens) == 1
    assert await store.db["attachments.files"].count_documents(PENDING) == 1
    assert await amqp_queues.depth(SUBMISSIONS_QUEUE) == 0

    fixed = form(report()["content"], key, kept=tokens)
    second = await web.post("/api/v1/submissions", data=fixed, headers=HTML, allow_redirects=False)
    assert second.status == 303
    submission = Submission.model_validate_json((await amqp_queues.get_one(SUBMISSIONS_QUEUE)).body)
    (attachment,) = submission.attachments
    data, _ = await store.open_attachment(attachment.ref)
    assert data == photo
    assert await store.db["attachments.files"].count_documents(PENDING) == 0


async def test_a_forged_or_unknown_token_brings_nothing(
    web: WebClient, amqp_queues: QueueInspector
) -> None:
    fixed = form(report()["content"], str(uuid.uuid4()), kept=["not-a-real-token"])
    response = await web.post(
        "/api/v1/submissions", data=fixed, headers=HTML, allow_redirects=False
    )
    assert response.status == 303
    submission = Submission.model_validate_json((await amqp_queues.get_one(SUBMISSIONS_QUEUE)).body)
    assert submission.attachments == []


async def test_photos_of_abandoned_forms_are_deleted(web: WebClient, store: Store) -> None:
    response = await web.post(
        "/api/v1/submissions", data=form(None, str(uuid.uuid4()), photo=jpeg()), headers=HTML
    )
    assert response.status == 422
    assert await purge_expired(store, datetime.now(UTC)) == 0
    assert await purge_expired(store, datetime.now(UTC) + timedelta(days=2)) == 1
    assert await store.db["attachments.files"].count_documents(PENDING) == 0
