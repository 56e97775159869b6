"""`POST /api/v1/calls` against the real store: Bearer key, reasons for bad bodies, one draft
per call id, the agent's typing kept, the transcript kept with the report."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pakn.store import Store
from pakn_hotline.drafts import COLLECTION as CALLS
from tests.pakn_hotline.conftest import API_KEY, Agent, Client, metric

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def call_body(call_id: str, **overrides: Any) -> dict[str, Any]:
    started = datetime.now(UTC) - timedelta(minutes=30)
    body: dict[str, Any] = {
        "call_id": call_id,
        "caller_number": "0905123456",
        "agent": "tdv01",
        "started_at": started.isoformat(),
        "ended_at": (started + timedelta(minutes=3)).isoformat(),
        "recording_ref": f"rec/{call_id}.wav",
        "transcript": [
            {"speaker": "agent", "start": 0, "end": 2, "text": "Tổng đài 1900 1023 xin nghe."},
            {
                "speaker": "caller",
                "start": 2.5,
                "end": 15,
                "text": "Tôi là Trần Văn Bình, đèn đường trước số 12 Lê Lợi, phường Nha Trang "
                "tắt từ tối qua lúc 9h.",
            },
        ],
    }
    body.update(overrides)
    return body


async def test_the_phone_system_must_show_its_key(hotline: Client, store: Store) -> None:
    body = call_body("pbx-auth")
    assert (await hotline.post("/api/v1/calls", json=body)).status == 401
    wrong = await hotline.post(
        "/api/v1/calls", json=body, headers={"Authorization": "Bearer not-the-key"}
    )
    assert wrong.status == 401 and "Bearer" in wrong.headers["WWW-Authenticate"]
    basic = await hotline.post(
        "/api/v1/calls", json=body, headers={"Authorization": f"Basic {API_KEY}"}
    )
    assert basic.status == 401
    assert await store.db[CALLS].count_documents({}) == 0


async def test_an_incomplete_record_gets_its_reasons(hotline: Client, store: Store) -> None:
    not_json = await hotline.post("/api/v1/calls", data=b"{nope", headers=AUTH)
    assert not_json.status == 400
    listed = await hotline.post("/api/v1/calls", json=[1, 2], headers=AUTH)
    assert listed.status == 400
    missing = await hotline.post(
        "/api/v1/calls", json={"call_id": "pbx-1", "transcript": []}, headers=AUTH
    )
    assert missing.status == 422
    fields = {e["field"] for e in (await missing.json())["errors"]}
    assert {"caller_number", "started_at"} <= fields
    bad = call_body("pbx#2", transcript=[{"speaker": "bot", "start": 0, "end": 1, "text": "x"}])
    answer = await hotline.post("/api/v1/calls", json=bad, headers=AUTH)
    assert answer.status == 422
    fields = {e["field"] for e in (await answer.json())["errors"]}
    assert {"call_id", "transcript.0.speaker"} <= fields
    assert await store.db[CALLS].count_documents({}) == 0


async def test_a_transcript_posted_twice_gives_one_draft(
    hotline: Client, agent: Agent, store: Store
) -> None:
    call_id = f"pbx-{uuid.uuid4().hex[:8]}"
    drafts_before = metric("pakn_hotline_telephony_drafts_total", {"outcome": "created"})
    first = await hotline.post("/api/v1/calls", json=call_body(call_id), headers=AUTH)
    assert first.status == 201, await first.text()
    created = await first.json()
    assert created["draft_id"] == call_id and created["status"] == "created"

    page = await agent.page(f"/cuoc-goi/{call_id}/1")
    assert 'value="Trần Văn Bình"' in page, "the name the caller gave"
    assert 'value="Phường Nha Trang"' in page, "the ward the caller named"
    assert "Lê Lợi" in page and "đèn đường trước số 12" in page
    assert "Hiểu là:" in page, "tối qua lúc 9h read against the call's start"
    assert "Tổng đài 1900 1023 xin nghe." in page, "the transcript beside the form"

    # The agent corrects the name while the phone system sends the final transcript.
    fields = {"name": "Trần Văn Bính", "content": "", "phone": "0905123456", "action": "save"}
    assert (await agent.post(f"/cuoc-goi/{call_id}/1", fields)).status == 200
    final = call_body(call_id)
    final["transcript"].append(
        {"speaker": "caller", "start": 16, "end": 20, "text": "Cả đoạn đường tối om."}
    )
    second = await hotline.post("/api/v1/calls", json=final, headers=AUTH)
    assert second.status == 200
    assert (await second.json()) | {"reports": None} == {
        "draft_id": call_id,
        "status": "updated",
        "reports": None,
        "console_url": f"/cuoc-goi/{call_id}/1",
    }

    assert await store.db[CALLS].count_documents({"_id": call_id}) == 1
    assert metric("pakn_hotline_telephony_drafts_total", {"outcome": "created"}) == (
        drafts_before + 1
    )
    doc = await store.db[CALLS].find_one({"_id": call_id})
    assert doc is not None
    assert len(doc["transcript"]) == 3 and doc["recording_ref"] == f"rec/{call_id}.wav"
    report = doc["reports"][0]
    assert report["fields"]["name"] == "Trần Văn Bính", "the agent's typing wins"
    assert "Cả đoạn đường tối om." in report["fields"]["content"], "empty fields are filled"
    assert len(doc["reports"]) == 1
