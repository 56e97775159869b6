"""The platforms' webhook formats, signatures and answers, as pure functions."""

from __future__ import annotations

import hashlib
import json

import pytest

from pakn_chatbot.platforms import (
    messenger_events,
    messenger_result,
    messenger_sign,
    messenger_signature_ok,
    split_text,
    zalo_events,
    zalo_mac,
    zalo_result,
    zalo_signature_ok,
)

SECRET = "app-secret"


def test_messenger_signature_is_the_hmac_of_the_raw_body() -> None:
    raw = '{"object":"page","entry":[{"messaging":[{"message":{"text":"Đèn hỏng"}}]}]}'.encode()
    header = messenger_sign(raw, SECRET)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert messenger_signature_ok(raw, header, SECRET)
    assert messenger_signature_ok(raw, header.upper().replace("SHA256=", "sha256="), SECRET)


@pytest.mark.parametrize(
    "header",
    [None, "", "sha1=abc", "sha256=" + "0" * 64, messenger_sign(b"other body", SECRET)],
)
def test_forged_messenger_signatures_are_refused(header: str | None) -> None:
    assert not messenger_signature_ok(b'{"object":"page"}', header, SECRET)


def test_a_signature_made_with_another_secret_is_refused() -> None:
    raw = b'{"object":"page"}'
    assert not messenger_signature_ok(raw, messenger_sign(raw, "not-the-secret"), SECRET)


def _zalo_body(**overrides: object) -> bytes:
    body = {
        "app_id": "123",
        "event_name": "user_send_text",
        "sender": {"id": "u1"},
        "recipient": {"id": "oa1"},
        "message": {"msg_id": "mid-1", "text": "Cây đổ"},
        "timestamp": "1764745200000",
        **overrides,
    }
    return json.dumps(body, ensure_ascii=False).encode()


def test_zalo_mac_is_sha256_of_app_id_body_timestamp_and_oa_secret() -> None:
    raw = _zalo_body()
    expected = hashlib.sha256(b"123" + raw + b"1764745200000" + b"oa-secret").hexdigest()
    assert zalo_mac(raw, "123", "1764745200000", "oa-secret") == expected
    assert zalo_signature_ok(raw, f"mac={expected}", "123", "oa-secret")
    assert zalo_signature_ok(raw, expected, None, "oa-secret")


@pytest.mark.parametrize(
    ("raw", "header", "app_id"),
    [
        (_zalo_body(), None, "123"),
        (_zalo_body(), "mac=" + "0" * 64, "123"),
        # Signed correctly, but for another app.
        (
            _zalo_body(app_id="999"),
            "mac=" + zalo_mac(_zalo_body(app_id="999"), "999", "1764745200000", "oa-secret"),
            "123",
        ),
        (b"not json", "mac=00", "123"),
    ],
)
def test_forged_zalo_signatures_are_refused(raw: bytes, header: str | None, app_id: str) -> None:
    assert not zalo_signature_ok(raw, header, app_id, "oa-secret")


def test_a_zalo_body_changed_after_signing_is_refused() -> None:
    raw = _zalo_body()
    mac = zalo_mac(raw, "123", "1764745200000", "oa-secret")
    tampered = raw.replace("Cây đổ".encode(), "Khác".encode())
    assert not zalo_signature_ok(tampered, f"mac={mac}", "123", "oa-secret")


def test_messenger_events_keep_citizen_messages_only() -> None:
    body = {
        "object": "page",
        "entry": [
            {
                "id": "page",
                "messaging": [
                    {
                        "sender": {"id": "psid-1"},
                        "recipient": {"id": "page"},
                        "timestamp": 1764745200000,
                        "message": {
                            "mid": "m_1",
                            "text": "Nắp cống mất",
                            "attachments": [
                                {"type": "image", "payload": {"url": "https://x/a.jpg"}},
                                {"type": "audio", "payload": {"url": "https://x/a.mp3"}},
                            ],
                        },
                    },
                    {"sender": {"id": "page"}, "message": {"mid": "m_2", "is_echo": True}},
                    {"sender": {"id": "psid-1"}, "delivery": {"mids": ["m_0"]}},
                    {"sender": {"id": "psid-1"}, "postback": {"mid": "m_3", "payload": "tra cứu"}},
                ],
            }
        ],
    }
    events = messenger_events(body)
    assert [(e.user_id, e.event_id, e.text) for e in events] == [
        ("psid-1", "m_1", "Nắp cống mất"),
        ("psid-1", "m_3", "tra cứu"),
    ]
    assert events[0].photo_urls == ("https://x/a.jpg",)
    assert events[0].at.year == 2025 or events[0].at.year >= 2025
    assert messenger_events({"object": "instagram", "entry": []}) == []


def test_zalo_events_read_text_and_images() -> None:
    text = zalo_events(json.loads(_zalo_body()))
    assert [(e.platform, e.user_id, e.event_id, e.text) for e in text] == [
        ("zalo", "u1", "mid-1", "Cây đổ")
    ]
    image = zalo_events(
        json.loads(
            _zalo_body(
                event_name="user_send_image",
                message={
                    "msg_id": "mid-2",
                    "text": "",
                    "attachments": [{"type": "image", "payload": {"url": "https://z/p.jpg"}}],
                },
            )
        )
    )
    assert image[0].photo_urls == ("https://z/p.jpg",)
    assert zalo_events(json.loads(_zalo_body(event_name="follow"))) == []


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (200, {"recipient_id": "1", "message_id": "m"}, "sent"),
        (500, {"error": {"code": 2}}, "retry"),
        (429, {}, "retry"),
        (400, {"error": {"code": 613}}, "retry"),
        (400, {"error": {"code": 10, "error_subcode": 2018278}}, "refused"),
        (400, {"error": {"code": 551}}, "refused"),
        (401, {"error": {"code": 190}}, "token"),
    ],
)
def test_what_metas_answer_means(status: int, body: object, outcome: str) -> None:
    assert messenger_result(status, body).outcome == outcome


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (200, {"error": 0, "data": {"message_id": "z"}}, "sent"),
        (200, {"error": -216, "message": "Access token is invalid"}, "token"),
        (200, {"error": -213, "message": "User has not followed OA"}, "refused"),
        (503, None, "retry"),
        (200, None, "retry"),
    ],
)
def test_what_zalos_answer_means(status: int, body: object, outcome: str) -> None:
    assert zalo_result(status, body).outcome == outcome


def test_long_replies_are_split_where_the_platform_accepts_them() -> None:
    text = "\n".join(f"Dòng số {i} của một câu trả lời rất dài" for i in range(200))
    pieces = split_text(text, 500)
    assert all(len(p) <= 500 for p in pieces)
    assert "\n".join(pieces) == text
    assert split_text("ngắn") == ["ngắn"]


def test_an_empty_secret_switches_a_platform_off() -> None:
    from pakn_chatbot.settings import ChatbotSettings

    settings = ChatbotSettings(messenger_app_secret="", zalo_oa_secret="  ", zalo_app_id="")
    assert settings.messenger_app_secret is None
    assert settings.zalo_oa_secret is None and settings.zalo_app_id is None


def test_news_of_a_case_is_told_in_the_citizens_words() -> None:
    from datetime import UTC, datetime

    from pakn.ids import new_event_id, new_tracking_code
    from pakn.schema import CaseEvent, EventKind, Status
    from pakn_chatbot.notify import missing_question, recipient_of, update_text

    assert recipient_of("zalo:84123:3") == ("zalo", "84123")
    assert recipient_of("generic:widget-a:1") == ("generic", "widget-a")
    assert recipient_of("web:abc") is None and recipient_of(None) is None
    code = new_tracking_code()
    event = CaseEvent(
        event_id=new_event_id(), event=EventKind.NEEDS_INFO, at=datetime.now(UTC),
        submission_id="chatbot:" + "1" * 32, tracking_code=code, status=Status.NEEDS_INFO,
        note="thiếu thông tin (occurred_at: required)",
    )  # fmt: skip
    question = missing_question([{"field": "occurred_at", "code": "required"}])
    assert question is not None and "lúc nào" in question
    text = update_text(event, None, "https://pakn.example.vn", question=question)
    assert "lúc nào" in text and "occurred_at" not in text
    published = update_text(
        event.model_copy(update={"event": EventKind.PUBLISHED}),
        {"result": {"text": "Đã thay bóng đèn."}},
        "https://pakn.example.vn",
    )
    assert "Đã thay bóng đèn." in published and f"ma={code}" in published
