"""`pakn demo`'s own pieces, without servers: its data, the letter, the form, the answers."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from pakn.auth.settings import argon2_params_for
from pakn.auth.users import Passwords, Role, authenticate, find_user
from pakn.commands.demo import (
    DEMO_AGENT,
    acknowledgement_of,
    call_form,
    channel_of,
    code_in,
    demo_agent,
    demo_calls,
    demo_letter,
    demo_mails,
    demo_reports,
    phone_system_key,
    phone_system_record,
    route_line,
)
from pakn.settings import CoreSettings
from pakn.store import Store


def test_the_demo_covers_the_web_the_app_the_hotline_and_the_mailbox() -> None:
    channels = {channel_of(report) for report in demo_reports()}
    assert channels == {"web", "app"}
    assert demo_calls() and demo_mails()


def test_a_tracking_code_is_read_as_people_write_it() -> None:
    assert code_in("[PAKN 279 557 8097] Đã tiếp nhận phản ánh") == "2795578097"
    assert code_in("Mã hồ sơ: 123 456 7890.") == "1234567890"
    assert code_in("gọi 0905 123 456") is None


def test_the_letter_is_what_a_mail_program_sends_and_its_answer_is_found_by_reply() -> None:
    mail = demo_mails()[0]
    letter = demo_letter(mail, "pakn@khanhhoa.gov.vn", datetime(2026, 12, 7, 8, tzinfo=UTC))
    parsed = message_from_bytes(letter.as_bytes(), policy=policy.default)
    assert mail["address"] in str(parsed["From"]) and parsed["To"] == "pakn@khanhhoa.gov.vn"
    assert str(parsed["Subject"]) == mail["subject"]
    body = parsed.get_body(("plain",))
    assert body is not None and "ĐT: 0935 246 810" in body.get_content()

    answer = demo_letter(mail, "x@example.vn", datetime.now(UTC))
    answer["In-Reply-To"] = letter["Message-ID"]
    other = demo_letter(mail, "x@example.vn", datetime.now(UTC))
    other["In-Reply-To"] = "<something-else@example.vn>"
    assert acknowledgement_of([other, answer], str(letter["Message-ID"])) is answer
    assert acknowledgement_of([other], str(letter["Message-ID"])) is None


def test_the_agent_submits_the_whole_report_with_the_callers_consent() -> None:
    form = call_form(demo_calls()[0], "token")
    assert form["csrf_token"] == "token" and form["action"] == "submit"
    assert form["consent"] == "1"
    assert {"name", "phone", "content", "commune", "street", "occurred"} <= form.keys()


def test_a_route_line_names_channel_code_status_agency_and_deadline() -> None:
    line = route_line(
        "2795578097",
        "email",
        {
            "status": "assigned",
            "field": "cap-thoat-nuoc",
            "lead_agency_name": "Công ty Cổ phần Cấp thoát nước Khánh Hòa",
            "due_at": "2026-12-08T10:00:00+00:00",
        },
    )
    assert line.split()[:6] == ["✓", "email", "279", "557", "8097", "assigned"]
    assert "Cấp thoát nước" in line and "hạn: 17:00 08/12/2026" in line
    redirected = route_line(
        "2795578097", "app", {"status": "redirected", "redirect": {"to_name": "Trụ sở"}}
    )
    assert "Trụ sở" in redirected and "hạn: -" in redirected


async def test_the_demo_agent_is_made_once_and_given_a_fresh_password_each_run(
    store: Store, core_settings: CoreSettings
) -> None:
    login = demo_agent(core_settings)
    first = await login()
    second = await login()
    assert first[0] == second[0] == DEMO_AGENT and first[1] != second[1]
    passwords = Passwords(argon2_params_for(core_settings.env))
    assert (await authenticate(store, passwords, *second)).ok
    assert (await authenticate(store, passwords, *first)).failure == "bad_password"
    user = await find_user(store, DEMO_AGENT)
    assert user is not None and user.role is Role.HOTLINE_AGENT
    outcomes = [entry["outcome"] async for entry in store.audit.find({"target": DEMO_AGENT})]
    assert outcomes == ["success", "success"], "a first run leaves no refusal in the audit"


async def test_the_demo_makes_no_account_in_production(core_settings: CoreSettings) -> None:
    production = core_settings.model_copy(update={"env": "production"})
    with pytest.raises(RuntimeError):
        await demo_agent(production)()


def test_the_phone_systems_record_is_one_the_hotline_takes() -> None:
    from pakn_hotline.calls import CallRecord

    (call,) = [c for c in demo_calls() if c.get("via") == "phone-system"]
    record = phone_system_record(call, "demo-0001", datetime(2026, 12, 7, 8, tzinfo=UTC))
    parsed = CallRecord.model_validate(record)
    assert parsed.caller_number == call["caller_number"]
    assert parsed.ended_at is not None and parsed.ended_at > parsed.started_at
    assert call["content"] in parsed.transcript[-1].text


def test_the_phone_systems_key_is_the_configured_one_or_the_generated_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = CoreSettings(var_dir=tmp_path)
    monkeypatch.delenv("PAKN_HOTLINE_API_KEY", raising=False)
    assert phone_system_key(settings) is None
    (tmp_path / "hotline_api_key").write_text("generated-key\n")
    assert phone_system_key(settings) == "generated-key"
    monkeypatch.setenv("PAKN_HOTLINE_API_KEY", "configured-key")
    assert phone_system_key(settings) == "configured-key"
