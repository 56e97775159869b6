"""`POST /api/v1/submissions` and the public case view, against the real broker and store."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aio_pika.abc import DeliveryMode

from pakn.bus import SUBMISSIONS_QUEUE
from pakn.ids import damm_check_digit, is_valid_tracking_code
from pakn.schema import Submission
from pakn.store import Store
from tests.fixtures.broker import QueueInspector, TcpProxy
from tests.pakn_web.conftest import WebClient, WebClientFactory, jpeg, report

JSON = {"X-Client": "app/2.3.1"}


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def queued_submissions(queues: QueueInspector) -> list[Submission]:
    return [Submission.model_validate_json(m.body) for m in await queues.drain(SUBMISSIONS_QUEUE)]


async def test_a_json_report_is_published_with_confirm_then_answered(
    web: WebClient, amqp_queues: QueueInspector, store: Store
) -> None:
    response = await web.post("/api/v1/submissions", json=report(), headers={**JSON, **key()})
    assert response.status == 202, await response.text()
    body = await response.json()
    code = body["tracking_code"]
    assert is_valid_tracking_code(code)
    assert body["status"] == "received"
    assert body["status_url"].endswith(f"/api/v1/cases/{code}")

    message = await amqp_queues.get_one(SUBMISSIONS_QUEUE)
    assert message.content_type == "application/json"
    assert message.delivery_mode == DeliveryMode.PERSISTENT
    assert message.routing_key == "submission.app"
    submission = Submission.model_validate_json(message.body)
    assert message.message_id == message.correlation_id == submission.submission_id
    assert submission.tracking_code == code
    assert submission.channel == "app"
    assert submission.submitter.phone == "+84905123456"
    assert submission.consent is not None
    assert message.headers is not None and message.headers["schema_version"] == 1

    reservation = await store.intake_keys.find_one({"_id": submission.submission_id})
    assert reservation is not None and reservation["tracking_code"] == code


async def test_a_multipart_report_with_a_real_photo_keeps_it_and_its_location(
    web: WebClient, amqp_queues: QueueInspector, store: Store
) -> None:
    form = aiohttp.FormData()
    fields = {
        "content": report()["content"],
        "occurred_at": "27/11/2026 17:45",
        "address": "45 Lê Thánh Tôn, phường Nha Trang",
        "commune": "Phường Bắc Nha Trang",
        "name": "Lê Thị Hoa",
        "phone": "0905123456",
        "consent": "1",
        "idempotency_key": str(uuid.uuid4()),
    }
    for name, value in fields.items():
        form.add_field(name, value)
    photo = jpeg()
    form.add_field("files", photo, filename="../../IMG_2041.JPG", content_type="image/jpeg")
    response = await web.post("/api/v1/submissions", data=form)
    assert response.status == 202, await response.text()

    submission = (await queued_submissions(amqp_queues))[0]
    assert submission.channel == "web"
    assert submission.location.commune == "Phường Bắc Nha Trang"
    (attachment,) = submission.attachments
    assert attachment.filename == "IMG_2041.jpg"
    assert attachment.content_type == "image/jpeg"
    assert attachment.size == len(photo)
    assert submission.location.lat == pytest.approx(12.2451, abs=1e-4)
    assert submission.location.lon == pytest.approx(109.1943, abs=1e-4)
    data, _ = await store.open_attachment(attachment.ref)
    assert data == photo


async def test_a_spoofed_file_is_refused_and_nothing_is_published(
    web: WebClient, amqp_queues: QueueInspector
) -> None:
    form = aiohttp.FormData()
    for name, value in {
        "content": report()["content"],
        "occurred_at": "27/11/2026 17:45",
        "address": "45 Lê Thánh Tôn",
        "name": "Lê Thị Hoa",
        "phone": "0905123456",
        "consent": "1",
    }.items():
        form.add_field(name, value)
    form.add_field(
        "files", b"<?php system($_GET['c']); ?>", filename="anh.jpg", content_type="image/jpeg"
    )
    response = await web.post("/api/v1/submissions", data=form)
    assert response.status == 422
    errors = (await response.json())["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("attachments", "file_type")]
    assert "anh.jpg" in errors[0]["message"]
    assert await amqp_queues.depth(SUBMISSIONS_QUEUE) == 0


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"content": None}, ("content", "required")),
        (
            {
                "content": "Nap ho ga truoc nha so 45 duong Le Thanh Ton bi mat tu chieu qua",
                "title": None,
            },
            ("content", "missing_diacritics"),
        ),
        ({"content": "Mất nắp cống."}, ("content", "too_short")),
        ({"content": "Nắp hố ga bị mất, rất nguy hiểm. " * 400}, ("content", "too_long")),
        ({"submitter": {"name": "Hoa", "phone": "0123"}}, ("submitter.phone", "invalid_phone")),
        ({"submitter": {"name": "Hoa", "email": "hoa@@x"}}, ("submitter.email", "invalid_email")),
        (
            {
                "attachments": [
                    {"filename": "big.jpg", "data": _b64(b"\xff\xd8\xff" + b"0" * (10 * 2**20))}
                ]
            },
            ("attachments", "file_too_large"),
        ),
        (
            {"attachments": [{"filename": "x.exe", "data": _b64(b"MZ\x90\x00")}]},
            ("attachments", "file_type"),
        ),
        (
            {"attachments": [{"filename": f"{n}.jpg", "data": _b64(jpeg(None))} for n in range(6)]},
            ("attachments", "too_many_files"),
        ),
    ],
)
async def test_every_validation_code_is_reported(
    web: WebClient, amqp_queues: QueueInspector, body: dict[str, Any], expected: tuple[str, str]
) -> None:
    payload = {k: v for k, v in report(**body).items() if v is not None}
    response = await web.post("/api/v1/submissions", json=payload, headers=JSON)
    assert response.status == 422, await response.text()
    errors = (await response.json())["errors"]
    assert expected in {(e["field"], e["code"]) for e in errors}
    assert all(e["message"] for e in errors)
    assert await amqp_queues.depth(SUBMISSIONS_QUEUE) == 0


async def test_everything_missing_is_reported_in_one_answer(web: WebClient) -> None:
    response = await web.post("/api/v1/submissions", json={}, headers=JSON)
    assert response.status == 422
    fields = {e["field"] for e in (await response.json())["errors"]}
    assert fields == {
        "content",
        "occurred_at",
        "location.address",
        "submitter.name",
        "submitter.contact",
        "consent",
    }


async def test_an_oversize_body_is_413_before_it_is_read(web: WebClient) -> None:
    response = await web.post(
        "/api/v1/submissions",
        data=b"x" * (37 * 2**20),
        headers={"Content-Type": "multipart/form-data; boundary=zzz"},
    )
    assert response.status == 413
    assert "MB" in (await response.json())["message"]


async def test_unreadable_bodies_are_400(web: WebClient) -> None:
    response = await web.post(
        "/api/v1/submissions", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    response = await web.post(
        "/api/v1/submissions", data=b"x", headers={"Content-Type": "text/plain"}
    )
    assert response.status == 400


async def test_a_retry_with_the_same_key_gets_the_same_code(
    web: WebClient, amqp_queues: QueueInspector, store: Store
) -> None:
    headers, body = {**JSON, **key()}, report()
    first = await web.post("/api/v1/submissions", json=body, headers=headers)
    again = await web.post("/api/v1/submissions", json=body, headers=headers)
    assert first.status == again.status == 202
    code = (await first.json())["tracking_code"]
    assert (await again.json())["tracking_code"] == code
    assert await store.intake_keys.count_documents({}) == 1
    published = await queued_submissions(amqp_queues)
    # Re-published (the router keys by submission_id), never a second report.
    assert {s.submission_id for s in published} == {published[0].submission_id}
    assert {s.received_at for s in published} == {published[0].received_at}


async def test_the_same_key_with_another_body_is_a_conflict(web: WebClient) -> None:
    headers = {**JSON, **key()}
    assert (await web.post("/api/v1/submissions", json=report(), headers=headers)).status == 202
    other = report(content="Cây xanh trước trường tiểu học Phước Hải bị gãy cành lớn, nguy hiểm.")
    response = await web.post("/api/v1/submissions", json=other, headers=headers)
    assert response.status == 409
    assert (await response.json())["error"] == "idempotency_conflict"


async def test_a_flood_is_rate_limited_with_retry_after(
    web_client_factory: WebClientFactory, store: Store
) -> None:
    web = await web_client_factory(submit_burst=2, submit_per_minute=1)
    statuses = [
        (await web.post("/api/v1/submissions", json={}, headers=JSON)).status for _ in range(2)
    ]
    assert statuses == [422, 422]
    response = await web.post("/api/v1/submissions", json=report(), headers=JSON)
    assert response.status == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert "thử lại" in (await response.json())["message"]


async def test_broker_cut_gives_503_then_the_retry_succeeds_with_the_same_code(
    web_client_factory: WebClientFactory,
    broker_proxy: TcpProxy,
    amqp_url: str,
    amqp_queues: QueueInspector,
    store: Store,
) -> None:
    web = await web_client_factory(amqp=broker_proxy.url_for(amqp_url), confirm_timeout=1.0)
    headers, body = {**JSON, **key()}, report()
    broker_proxy.cut()
    response = await web.post("/api/v1/submissions", json=body, headers=headers)
    assert response.status == 503
    assert int(response.headers["Retry-After"]) >= 1
    assert "gửi lại" in (await response.json())["message"]
    assert await amqp_queues.depth(SUBMISSIONS_QUEUE) == 0
    health = await web.get("/healthz")
    assert health.status == 503

    broker_proxy.restore()
    for _ in range(50):  # the robust connection comes back on its own
        if (await web.get("/healthz")).status == 200:
            break
        await asyncio.sleep(0.1)
    response = await web.post("/api/v1/submissions", json=body, headers=headers)
    assert response.status == 202
    code = (await response.json())["tracking_code"]
    reservation = await store.intake_keys.find_one({})
    assert reservation is not None and reservation["tracking_code"] == code
    (submission,) = await queued_submissions(amqp_queues)
    assert submission.tracking_code == code


def _code(prefix: str) -> str:
    return prefix + damm_check_digit(prefix)


async def test_the_public_view_never_shows_personal_data(web: WebClient, store: Store) -> None:
    now = datetime.now(UTC)
    case = {
        "submission_id": "web:" + "a" * 32,
        "tracking_code": _code("123456789"),
        "status": "published",
        "field": "cap-thoat-nuoc",
        "lead_agency": "cap-thoat-nuoc-khanh-hoa",
        "received_at": now,
        "due_at": now,
        "overdue": False,
        "confidential": False,
        "content": "Tôi là Lê Thị Hoa, số 0905123456, nhà số 45 bị ngập.",
        "public_content": "Tôi là ***, số ***, nhà bị ngập.",
        "submitter": {"name": "Lê Thị Hoa", "phone": "+84905123456", "email": "hoa@example.vn"},
        "result": {"text": "Đã thông cống.", "published_at": now, "by": "cán bộ Nguyễn B"},
        "history": [{"at": now, "actor": "operator:an", "action": "assign"}],
    }
    await store.cases.insert_one(dict(case))
    response = await web.get(f"/api/v1/cases/{case['tracking_code']}")
    assert response.status == 200
    text = await response.text()
    view = json.loads(text)
    assert view["public_content"] == "Tôi là ***, số ***, nhà bị ngập."
    assert view["result"]["text"] == "Đã thông cống."
    assert view["lead_agency_name"].startswith("Công ty")
    assert view["field_name"] == "Cấp thoát nước"
    for secret in (
        "Lê Thị Hoa",
        "0905123456",
        "84905123456",
        "hoa@example.vn",
        "operator:an",
        "Nguyễn B",
    ):
        assert secret not in text
    assert "submitter" not in view and "history" not in view and "content" not in view

    secret_case = {**case, "submission_id": "web:" + "b" * 32, "tracking_code": _code("223456789")}
    secret_case["confidential"] = True
    await store.cases.insert_one(secret_case)
    view = await (await web.get(f"/api/v1/cases/{secret_case['tracking_code']}")).json()
    assert view["confidential"] is True
    assert view["public_content"] is None and view["result"] is None
    assert view["status"] == "published"


async def test_a_reserved_code_reads_received_and_a_bad_one_is_400(web: WebClient) -> None:
    response = await web.post("/api/v1/submissions", json=report(), headers={**JSON, **key()})
    code = (await response.json())["tracking_code"]
    spaced = f"{code[:3]} {code[3:6]} {code[6:]}"
    view = await (await web.get(f"/api/v1/cases/{spaced}")).json()
    assert view["status"] == "received" and view["tracking_code"] == code

    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    response = await web.get(f"/api/v1/cases/{wrong}")
    assert response.status == 400
    assert (await response.json())["error"] == "invalid_tracking_code"
    assert (await web.get(f"/api/v1/cases/{_code('987654321')}")).status == 404


async def test_metrics_count_outcomes(web: WebClient) -> None:
    await web.post("/api/v1/submissions", json={}, headers=JSON)
    text = await (await web.get("/metrics")).text()
    assert 'pakn_intake_submissions_total{channel="app",outcome="invalid"}' in text
    assert 'pakn_intake_validation_failures_total{channel="app",code="required"}' in text
    assert "pakn_intake_confirm_seconds_bucket" in text


async def test_a_retry_reuses_the_photos_the_first_attempt_stored(
    web: WebClient, amqp_queues: QueueInspector, store: Store
) -> None:
    headers = {**JSON, **key()}
    body = report(attachments=[{"filename": "ho-ga.jpg", "data": _b64(jpeg())}])
    for _ in range(2):
        response = await web.post("/api/v1/submissions", json=body, headers=headers)
        assert response.status == 202
    first, again = await queued_submissions(amqp_queues)
    assert first.attachments[0].ref == again.attachments[0].ref
    assert await store.db["attachments.files"].count_documents({}) == 1
