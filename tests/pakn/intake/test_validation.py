"""Validation of what citizens send: every problem at once, in Vietnamese, never silent."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pakn.intake.validation import (
    FieldError,
    IntakePolicy,
    Report,
    check_report,
    parse_occurred_at,
    validate_report,
)

NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


def good(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Đèn đường không sáng",
        "content": "Đèn chiếu sáng trên đường Trần Phú đoạn trước số 120 bị tắt ba đêm liền, "
        "rất tối và nguy hiểm cho người đi đường.",
        "occurred_at": "2026-11-27T19:30:00+07:00",
        "location": {"address": "120 Trần Phú, phường Nha Trang"},
        "submitter": {"name": "Nguyễn Văn An", "phone": "0912 345 678"},
        "consent": True,
    }
    body.update(overrides)
    return body


def codes(result: Report | list[FieldError]) -> set[tuple[str, str]]:
    assert isinstance(result, list), "expected errors"
    return {(e.field, e.code) for e in result}


def test_a_clear_report_is_accepted_and_normalised() -> None:
    result = validate_report(good(), now=NOW)
    assert isinstance(result, Report)
    assert result.phone == "+84912345678"
    assert result.occurred_at == datetime(2026, 11, 27, 12, 30, tzinfo=UTC)
    assert result.notify_via == "phone"
    assert result.confidential is False


def test_an_empty_submission_reports_everything_missing_at_once() -> None:
    found = codes(validate_report({}, now=NOW))
    assert found == {
        ("content", "required"),
        ("occurred_at", "required"),
        ("location.address", "required"),
        ("submitter.name", "required"),
        ("submitter.contact", "required"),
        ("consent", "consent_required"),
    }


def test_every_message_is_vietnamese_and_says_how_to_fix() -> None:
    result = validate_report({"content": "ngan"}, now=NOW)
    assert isinstance(result, list)
    for error in result:
        assert error.message and error.message[0].isupper()
        assert any(
            ch in error.message
            for ch in "ạảãàáâậầấẩẫăắằặẳẵóòọõỏôộổỗồốơờớợởỡéèẻẹẽêếềệểễúùụủũưựữửừứíìịỉĩýỳỷỵỹđ"
        )


def test_content_without_diacritics_is_refused_with_an_example() -> None:
    body = good(
        title=None,
        content="Den duong tren duong Tran Phu bi tat ba dem lien, "
        "rat toi va nguy hiem cho nguoi di duong",
    )
    result = validate_report(body, now=NOW)
    assert codes(result) == {("content", "missing_diacritics")}
    assert isinstance(result, list)
    assert "có dấu" in result[0].message


def test_decomposed_input_counts_as_written_with_diacritics() -> None:
    body = good(content=unicodedata.normalize("NFD", good()["content"]))
    result = validate_report(body, now=NOW)
    assert isinstance(result, Report)
    assert result.content == unicodedata.normalize("NFC", result.content)


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"content": "Đường hư."}, ("content", "too_short")),
        ({"content": "Đường bị hư hỏng nặng. " * 500}, ("content", "too_long")),
        ({"title": "Tiêu đề " * 40}, ("title", "too_long")),
        ({"occurred_at": "hôm qua"}, ("occurred_at", "invalid_datetime")),
        ({"occurred_at": "2026-12-30T10:00:00+07:00"}, ("occurred_at", "in_future")),
        ({"location": {"address": "NT"}}, ("location.address", "too_short")),
        ({"submitter": {"name": "An", "phone": "12345"}}, ("submitter.phone", "invalid_phone")),
        ({"submitter": {"name": "An", "email": "an@"}}, ("submitter.email", "invalid_email")),
        ({"submitter": {"name": "An"}}, ("submitter.contact", "required")),
        ({"consent": False}, ("consent", "consent_required")),
        ({"in_reply_to": "123 456 7891"}, ("in_reply_to", "invalid_tracking_code")),
        (
            {"location": {"address": "Trần Phú", "lat": 123}},
            ("location.lat", "invalid_coordinates"),
        ),
    ],
)
def test_each_problem_has_its_code(override: dict[str, Any], expected: tuple[str, str]) -> None:
    assert expected in codes(validate_report(good(**override), now=NOW))


def test_english_is_told_to_write_in_vietnamese() -> None:
    body = good(
        title=None, content="The street light in front of my house has been broken for a week"
    )
    assert codes(validate_report(body, now=NOW)) == {("content", "not_vietnamese")}


def test_a_followup_needs_no_time_or_place() -> None:
    from pakn.ids import damm_check_digit

    code = "12345678" + "9"
    code = code + damm_check_digit(code)
    body = good(in_reply_to=f"{code[:3]} {code[3:6]} {code[6:]}")
    del body["occurred_at"], body["location"]
    result = validate_report(body, now=NOW)
    assert isinstance(result, Report)
    assert result.in_reply_to == code


def test_email_only_contact_is_enough_and_is_where_we_answer() -> None:
    result = validate_report(
        good(submitter={"name": "Trần Thị Bích", "email": "Bich@Gmail.com"}), now=NOW
    )
    assert isinstance(result, Report)
    assert result.email == "Bich@gmail.com"
    assert result.notify_via == "email"


def test_clock_skew_of_a_few_minutes_is_not_the_future() -> None:
    soon = (NOW + timedelta(minutes=5)).isoformat()
    assert isinstance(validate_report(good(occurred_at=soon), now=NOW), Report)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("28/11/2026 08:30", datetime(2026, 11, 28, 1, 30, tzinfo=UTC)),
        ("28/11/2026", datetime(2026, 11, 27, 17, 0, tzinfo=UTC)),
        ("2026-11-28T08:30", datetime(2026, 11, 28, 1, 30, tzinfo=UTC)),
        ("2026-11-28T08:30:00Z", datetime(2026, 11, 28, 8, 30, tzinfo=UTC)),
        ("5-1-2026 7h15", datetime(2026, 1, 5, 0, 15, tzinfo=UTC)),
    ],
)
def test_times_as_people_write_them(text: str, expected: datetime) -> None:
    assert parse_occurred_at(text) == expected


MAILBOX = IntakePolicy(
    consent_required=False,
    problems=frozenset(
        {
            ("location.address", "required"),
            ("occurred_at", "invalid_datetime"),
            ("submitter.phone", "invalid_phone"),
            ("content", "missing_diacritics"),
        }
    ),
)


def test_a_policy_turns_listed_findings_into_problems_and_leaves_their_values_out() -> None:
    body = good(
        location={},
        occurred_at="hôm qua",
        submitter={"name": "An", "phone": "12", "email": "an@example.vn"},
        consent=None,
    )
    checked = check_report(body, now=NOW, policy=MAILBOX)
    assert checked.errors == []
    assert checked.report is not None
    assert {(p.field, p.code) for p in checked.problems} == {
        ("location.address", "required"),
        ("occurred_at", "invalid_datetime"),
        ("submitter.phone", "invalid_phone"),
    }
    # Each problem keeps its Vietnamese message, for the reply that asks for it.
    assert all(p.message for p in checked.problems)
    report = checked.report
    assert (report.address, report.occurred_at, report.phone) == (None, None, None)
    assert report.email == "an@example.vn" and report.notify_via == "email"
    assert report.consent_version is None


def test_findings_a_policy_does_not_list_are_still_errors() -> None:
    checked = check_report(good(content="ngắn", consent=None), now=NOW, policy=MAILBOX)
    assert checked.report is None
    assert {(e.field, e.code) for e in checked.errors} == {("content", "too_short")}
    # The strict policy (the web's) refuses both, consent included.
    assert codes(validate_report(good(content="ngắn", consent=None), now=NOW)) == {
        ("content", "too_short"),
        ("consent", "consent_required"),
    }


def test_diacritics_as_a_problem_keep_the_content() -> None:
    body = good(title=None, content="Duong truoc nha toi bi ngap nuoc ba ngay nay roi, xin xu ly.")
    checked = check_report(body, now=NOW, policy=MAILBOX)
    assert checked.report is not None and checked.report.content == body["content"]
    assert [(p.field, p.code) for p in checked.problems] == [("content", "missing_diacritics")]
