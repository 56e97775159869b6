"""The hotline's pure parts: the phone system's record, pre-fill, read-back, queries, times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from pakn.extract import PlaceFinder
from pakn.territory import load as load_province
from pakn.worktime import VIETNAM_TZ
from pakn_hotline.bearer import bearer_matches
from pakn_hotline.calls import (
    CallRecord,
    ReportFields,
    address_of,
    caller_words,
    channel_ref,
    merge_prefill,
    report_body,
)
from pakn_hotline.messages import agent_hint, read_back
from pakn_hotline.occurred import resolve_occurred, understood
from pakn_hotline.prefill import prefill
from pakn_hotline.queries import e164, rank_similar, similar_query

CONFIG = Path("deploy/config/khanh-hoa")
#: 08:00 on 3 December 2026 in Khánh Hòa.
CALL_START = datetime(2026, 12, 3, 8, 0, tzinfo=VIETNAM_TZ).astimezone(UTC)


@pytest.fixture(scope="module")
def places() -> PlaceFinder:
    return PlaceFinder(load_province(CONFIG))


def record(**overrides: object) -> CallRecord:
    body: dict[str, object] = {
        "call_id": "pbx-2026-12-03-0001",
        "caller_number": "0905123456",
        "agent": "tdv01",
        "started_at": CALL_START.isoformat(),
        "ended_at": (CALL_START + timedelta(minutes=4)).isoformat(),
        "recording_ref": "rec/2026/12/03/0001.wav",
        "transcript": [
            {"speaker": "agent", "start": 0, "end": 3, "text": "Tổng đài 1900 1023 xin nghe."},
            {
                "speaker": "caller",
                "start": 3.5,
                "end": 20,
                "text": "Tôi là Trần Văn Bình, ống nước bị vỡ ở 45 Trần Phú, phường Nha Trang "
                "từ tối qua lúc 9h, nước chảy lênh láng ra đường.",
            },
            {"speaker": "caller", "start": 21, "end": 25, "text": "Số tôi là 0914 222 333."},
        ],
    }
    body.update(overrides)
    return CallRecord.model_validate(body)


def test_a_call_record_is_checked_with_reasons() -> None:
    assert record().call_id == "pbx-2026-12-03-0001"
    with pytest.raises(ValidationError, match="call_id"):
        record(call_id="abc#2")
    with pytest.raises(ValidationError, match="ended_at is before started_at"):
        record(ended_at=(CALL_START - timedelta(minutes=1)).isoformat())
    with pytest.raises(ValidationError, match="time zone"):
        record(started_at="2026-12-03T08:00:00")
    with pytest.raises(ValidationError, match="speaker"):
        record(transcript=[{"speaker": "robot", "start": 0, "end": 1, "text": "x"}])
    with pytest.raises(ValidationError, match="Field required"):
        CallRecord.model_validate({"call_id": "x1"})


def test_only_the_caller_s_words_fill_the_report(places: PlaceFinder) -> None:
    call = record()
    said = caller_words(call.transcript)
    assert "Tổng đài" not in said and said.startswith("Tôi là Trần Văn Bình")
    fields = prefill(call, places)
    assert fields.name == "Trần Văn Bình"
    assert fields.phone == "+84914222333", "the number the caller dictated, not the line's"
    assert fields.commune == "Phường Nha Trang"
    assert "Trần Phú" in fields.street
    assert fields.occurred == "02/12/2026 21:00", "tối qua lúc 9h, counted from the call"
    assert prefill(record(transcript=[]), places) == ReportFields(phone="0905123456")


def test_the_agent_s_typing_wins_over_a_later_pre_fill() -> None:
    typed = ReportFields(name="Bình", content="")
    merged = merge_prefill(typed, ReportFields(name="Trần Văn Bình", content="ống nước vỡ"))
    assert merged.name == "Bình" and merged.content == "ống nước vỡ"


def test_a_report_is_shaped_for_the_core_s_rules() -> None:
    fields = ReportFields(
        name="An", phone="0905123456", content="x", commune="Phường Nha Trang", street="45 Trần Phú"
    )
    assert address_of(fields) == "45 Trần Phú, Phường Nha Trang"
    body = report_body(fields, address=address_of(fields), occurred_at=None)
    assert body["location"] == {
        "address": "45 Trần Phú, Phường Nha Trang",
        "commune": "Phường Nha Trang",
    }
    assert body["submitter"] == {"name": "An", "phone": "0905123456"}
    assert body["in_reply_to"] is None and body["consent"] is False
    assert channel_ref("pbx-1", 2) == "pbx-1#2"


def test_times_are_read_from_the_call_s_start() -> None:
    assert resolve_occurred("sáng nay", reference=CALL_START) == "03/12/2026 08:00"
    assert resolve_occurred("tối qua lúc 9h", reference=CALL_START) == "02/12/2026 21:00"
    assert resolve_occurred("  ", reference=CALL_START) is None
    # What nobody can read goes to the rules as typed, so they say what is wrong.
    assert resolve_occurred("hồi đó", reference=CALL_START) == "hồi đó"
    assert understood("hồi đó", reference=CALL_START) is None


def test_the_code_is_read_back_in_groups_of_three() -> None:
    assert read_back("1234567890") == [
        ["một", "hai", "ba"],
        ["bốn", "năm", "sáu"],
        ["bảy", "tám", "chín"],
        ["không"],
    ]


def test_the_core_s_findings_are_phrased_for_an_agent() -> None:
    hint = agent_hint("content", "too_short", "fallback", minimum=20)
    assert "ít nhất 20" in hint and "hỏi thêm" in hint
    assert agent_hint("nothing", "unknown", "the core's own") == "the core's own"


def test_the_api_key_is_checked_whole() -> None:
    assert bearer_matches("Bearer s3cret-key", "s3cret-key")
    assert bearer_matches("bearer s3cret-key", "s3cret-key")
    assert not bearer_matches("Bearer s3cret-ke", "s3cret-key")
    assert not bearer_matches("Basic s3cret-key", "s3cret-key")
    assert not bearer_matches(None, "s3cret-key")
    assert not bearer_matches("Bearer ", "s3cret-key")
    assert not bearer_matches("Bearer x", "")


def test_phone_numbers_are_compared_as_stored() -> None:
    assert e164("0905 123 456") == "+84905123456"
    assert e164("+84 905-123-456") == "+84905123456"
    assert e164("12") is None


def test_the_same_incident_needs_a_place_and_shared_words() -> None:
    since = CALL_START - timedelta(days=3)
    assert similar_query(commune=None, commune_code=None, terms=["ong"], since=since) is None
    assert (
        similar_query(commune="Phường Nha Trang", commune_code=None, terms=[], since=since) is None
    )
    query = similar_query(
        commune="Phường Nha Trang", commune_code="22333", terms=["vo", "ong nuoc"], since=since
    )
    assert query is not None
    assert query["$or"] == [
        {"location.commune": "Phường Nha Trang"},
        {"location.commune_code": "22333"},
    ]
    assert query["search_terms"] == {"$in": ["ong nuoc", "vo"]}

    def doc(code: str, terms: list[str], hours: int) -> dict[str, object]:
        return {
            "tracking_code": code,
            "status": "assigned",
            "received_at": CALL_START - timedelta(hours=hours),
            "search_terms": terms,
            "public_content": "Ống nước vỡ",
        }

    ranked = rank_similar(
        [
            doc("a", ["ong", "nuoc", "vo", "ong nuoc"], 5),
            doc("b", ["ong", "nuoc"], 1),
            doc("c", ["den"], 1),
            doc("d", ["ong", "nuoc", "vo", "ong nuoc"], 2),
        ],
        ["ong", "nuoc", "vo", "ong nuoc", "tran phu"],
    )
    assert [c.tracking_code for c in ranked] == ["d", "a", "b"]
