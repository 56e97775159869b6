"""Identifiers: Damm tracking codes, submission ids, body hashes, event ids (DESIGN.md §4)."""

from __future__ import annotations

import itertools
import random
import re
import unicodedata
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pakn.ids import (
    InvalidTrackingCode,
    body_sha256,
    canonical_json,
    damm_check_digit,
    format_tracking_code,
    is_valid_tracking_code,
    new_event_id,
    new_tracking_code,
    parse_tracking_code,
    submission_id,
)
from pakn.schema import Submission

SUBMISSION_ID = re.compile(r"^[a-z]+:[0-9a-f]{32}$")

# Seeded so a failure names the codes it failed on; fresh random codes are tested separately.
_RNG = random.Random(20251005)
SAMPLE_CODES = [
    body + damm_check_digit(body) for body in (f"{_RNG.randrange(10**9):09d}" for _ in range(300))
] + ["0000000000", "9999999990", "1234567894"]


# --- Damm ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("digits", "check"),
    [
        ("572", "4"),  # the worked example of the algorithm's published description
        ("0", "0"),
        ("1", "3"),
        ("123456789", "4"),
        ("000000000", "0"),
    ],
)
def test_damm_check_digit_matches_known_values(digits: str, check: str) -> None:
    assert damm_check_digit(digits) == check
    assert is_valid_tracking_code(digits + check) == (len(digits) == 9)


@pytest.mark.parametrize("digits", ["", "12a", "１２３", "12 3", "٣٤٥", "-1"])
def test_damm_check_digit_rejects_anything_but_ascii_digits(digits: str) -> None:
    with pytest.raises(ValueError, match="ASCII digits"):
        damm_check_digit(digits)


def test_every_single_digit_substitution_is_rejected() -> None:
    for code in SAMPLE_CODES:
        assert is_valid_tracking_code(code)
        for position in range(10):
            for digit in "0123456789":
                if digit == code[position]:
                    continue
                wrong = code[:position] + digit + code[position + 1 :]
                assert not is_valid_tracking_code(wrong), (code, wrong)
                with pytest.raises(InvalidTrackingCode) as caught:
                    parse_tracking_code(wrong)
                assert caught.value.reason == "check_digit"


def test_every_adjacent_transposition_is_rejected() -> None:
    swaps = 0
    for code in SAMPLE_CODES:
        for position in range(9):
            first, second = code[position], code[position + 1]
            if first == second:
                continue
            swapped = code[:position] + second + first + code[position + 2 :]
            assert not is_valid_tracking_code(swapped), (code, swapped)
            swaps += 1
    assert swaps > 2000  # the sample really exercised the property


def test_every_adjacent_transposition_of_every_digit_pair_is_rejected() -> None:
    # All 90 ordered pairs of different digits at every position inside the body.
    filler = "314159265"
    for position in range(8):
        for first, second in itertools.permutations("0123456789", 2):
            body = filler[:position] + first + second + filler[position + 2 :]
            check = damm_check_digit(body)
            swapped = body[:position] + second + first + body[position + 2 :] + check
            assert not is_valid_tracking_code(swapped), (body + check, swapped)
    # And the last digit of the body swapped with the check digit.
    for prefix in ("31415926", "00000000", "98765432"):
        for last in "0123456789":
            code = prefix + last + damm_check_digit(prefix + last)
            if code[8] != code[9]:
                assert not is_valid_tracking_code(code[:8] + code[9] + code[8]), code


# --- Tracking codes -------------------------------------------------------------------------


def test_new_tracking_codes_are_valid_ten_digit_strings_and_differ() -> None:
    codes = [new_tracking_code() for _ in range(2000)]
    assert all(re.fullmatch(r"[0-9]{10}", code) for code in codes)
    assert all(is_valid_tracking_code(code) for code in codes)
    assert len(set(codes)) == len(codes)  # 10^9 space: a collision here means no randomness
    assert any(code.startswith("0") for code in codes + [new_tracking_code() for _ in range(3000)])


def test_new_tracking_codes_use_every_digit_in_every_position() -> None:
    codes = [new_tracking_code() for _ in range(3000)]
    for position in range(10):
        assert {code[position] for code in codes} == set("0123456789")


@pytest.mark.parametrize(
    "code",
    [
        "123456789",  # too short
        "12345678940",  # too long
        "123 456 7894",  # separators are for parse_tracking_code
        "１２３４５６７８９４",  # full-width
        "12345678a7",
        "",
    ],
)
def test_is_valid_tracking_code_is_strict(code: str) -> None:
    assert not is_valid_tracking_code(code)


@pytest.mark.parametrize(
    "typed",
    [
        "1234567894",
        "123 456 7894",
        "123.456.7894",
        "123-456-7894",
        "123 - 456 - 7894",
        "  1234567894\n",
        "123\u00a0456\u00a07894",  # NBSP from a word processor
        "１２３ ４５６ ７８９４",  # full-width digits and ideographic-width space from a phone IME
        "123\u200b456\u200b7894",  # zero-width spaces pasted from a chat
        "123–456–7894",  # en dash from autocorrect
        "1 2 3 4 5 6 7 8 9 4",  # read aloud digit by digit
    ],
)
def test_parse_tracking_code_accepts_what_people_type(typed: str) -> None:
    assert parse_tracking_code(typed) == "1234567894"


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "format"),
        ("123 456 789", "format"),
        ("123 456 78940", "format"),
        ("123/456/7894", "format"),
        ("12345678 94a", "format"),
        ("mã 1234567894", "format"),
        ("١٢٣٤٥٦٧٨٩٤", "format"),  # Arabic-Indic digits are digits, but not ours
        ("123 456 7890", "check_digit"),
        ("213 456 7894", "check_digit"),
    ],
)
def test_parse_tracking_code_rejects_with_a_reason(typed: str, reason: str) -> None:
    with pytest.raises(InvalidTrackingCode) as caught:
        parse_tracking_code(typed)
    assert caught.value.reason == reason
    assert isinstance(caught.value, ValueError)


def test_format_tracking_code_groups_three_three_four() -> None:
    assert format_tracking_code("1234567894") == "123 456 7894"
    assert format_tracking_code("123-456-7894") == "123 456 7894"
    assert format_tracking_code("0000000000") == "000 000 0000"
    with pytest.raises(InvalidTrackingCode):
        format_tracking_code("1234567890")


@given(st.integers(min_value=0, max_value=10**9 - 1), st.sampled_from([" ", ".", "-", ""]))
def test_format_and_parse_round_trip(body: int, separator: str) -> None:
    code = f"{body:09d}" + damm_check_digit(f"{body:09d}")
    shown = format_tracking_code(code)
    assert parse_tracking_code(shown) == code
    assert parse_tracking_code(shown.replace(" ", separator)) == code


def test_tracking_codes_pass_the_schema_validator() -> None:
    sid = submission_id("web", "web-form", "7f0c1a9e-idempotency")
    code = new_tracking_code()
    submission = Submission(
        submission_id=sid,
        tracking_code=code,
        channel="web",
        channel_ref="7f0c1a9e-idempotency",
        received_at=datetime(2025, 10, 5, 3, 0, tzinfo=UTC),
        content="Đèn đường trên đường Trần Phú không sáng.",
    )
    assert submission.tracking_code == code
    wrong = code[:9] + str((int(code[9]) + 1) % 10)
    with pytest.raises(ValueError, match="check digit"):
        Submission.model_validate({**submission.model_dump(), "tracking_code": wrong})


# --- Submission ids -------------------------------------------------------------------------


def test_submission_id_is_deterministic_and_well_formed() -> None:
    first = submission_id("email", "pakn@khanhhoa.gov.vn", "<abc@mail.example>")
    assert first == submission_id("email", "pakn@khanhhoa.gov.vn", "<abc@mail.example>")
    assert SUBMISSION_ID.fullmatch(first)
    assert first.startswith("email:")


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (("web", "a", "bc"), ("web", "ab", "c")),  # no ambiguity at the boundary
        (("web", "a:b", "c"), ("web", "a", "b:c")),
        (("web", '"a","b"', "c"), ("web", "a", '"b","c"')),  # nor through the encoding
        (("web", "client", "key"), ("app", "client", "key")),
        (("web", "client", "key"), ("web", "client", "key ")),
        (("web", "client", "key"), ("web", "client2", "key")),
        (("web", "", "ab"), ("web", "ab", "")),
    ],
)
def test_submission_ids_of_different_parts_differ(
    one: tuple[str, str, str], other: tuple[str, str, str]
) -> None:
    assert submission_id(*one).split(":")[1] != submission_id(*other).split(":")[1]


def test_submission_id_takes_any_unicode_reference() -> None:
    assert SUBMISSION_ID.fullmatch(submission_id("chatbot", "zalo", "người dùng 123"))
    assert SUBMISSION_ID.fullmatch(submission_id("web", "app/1.2", "\ud800"))  # lone surrogate


@pytest.mark.parametrize("channel", ["", "Web", "web1", "we b", "web:", "thư"])
def test_submission_id_refuses_a_channel_that_breaks_the_pattern(channel: str) -> None:
    with pytest.raises(ValueError, match="channel"):
        submission_id(channel, "client", "ref")


# --- Body hashes ----------------------------------------------------------------------------

REPORT: dict[str, Any] = {
    "title": "Ngập nước",
    "content": "Đường Phạm Văn Đồng bị ngập sâu.",
    "location": {"address": "Vĩnh Hải", "lat": 12.2851, "lon": 109.1967},
    "confidential": False,
    "attachments": [{"sha256": "ab" * 32, "size": 1024}],
    "occurred_at": None,
}


def _reorder(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _reorder(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [_reorder(item) for item in value]
    return value


def _decompose(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFD", value)
    if isinstance(value, dict):
        return {_decompose(key): _decompose(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decompose(item) for item in value]
    return value


def test_body_sha256_is_hex_and_stable() -> None:
    digest = body_sha256(REPORT)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest == body_sha256(dict(REPORT))


def test_body_sha256_ignores_key_order_and_unicode_form() -> None:
    assert body_sha256(_reorder(REPORT)) == body_sha256(REPORT)
    decomposed = _decompose(REPORT)
    assert decomposed["content"] != REPORT["content"]
    assert body_sha256(decomposed) == body_sha256(REPORT)


def test_body_sha256_treats_integral_floats_as_integers() -> None:
    assert body_sha256({"size": 1024.0}) == body_sha256({"size": 1024})
    assert body_sha256({"lat": 12.5}) != body_sha256({"lat": 12})


@pytest.mark.parametrize(
    "change",
    [
        {"content": "Đường Phạm Văn Đồng bị ngập sâu!"},
        {"confidential": True},
        {"occurred_at": "2025-10-05T07:00:00+07:00"},
        {"location": {"address": "Vĩnh Hải", "lat": 12.2851}},
        {"attachments": []},
        {"extra": None},
    ],
)
def test_body_sha256_sees_every_change(change: dict[str, Any]) -> None:
    assert body_sha256({**REPORT, **change}) != body_sha256(REPORT)


def test_body_sha256_keeps_list_order() -> None:
    assert body_sha256({"a": [1, 2]}) != body_sha256({"a": [2, 1]})


def test_body_sha256_of_text_and_bytes() -> None:
    text = "Đèn đường hư"
    assert body_sha256(text) == body_sha256(text.encode())
    assert body_sha256(unicodedata.normalize("NFD", text)) == body_sha256(text)
    assert body_sha256(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    # Bytes are hashed as they are: the caller decides what a raw body means.
    assert body_sha256(unicodedata.normalize("NFD", text).encode()) != body_sha256(text)


def test_canonical_json_is_compact_sorted_and_readable() -> None:
    assert canonical_json({"b": 1, "a": ["ệ", 2.0, None, True]}) == (
        '{"a":["ệ",2,null,true],"b":1}'.encode()
    )


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"lat": float("nan")}, ValueError),
        ({"lat": float("inf")}, ValueError),
        ({"when": datetime(2025, 1, 1, tzinfo=UTC)}, TypeError),
        ({1: "a"}, TypeError),
        ({"e\u0302": 1, "ê": 2}, ValueError),  # two keys that are one key once normalised
    ],
)
def test_body_sha256_refuses_what_json_cannot_say(body: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        body_sha256(body)


@given(
    st.dictionaries(
        st.text(max_size=8),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
            max_leaves=8,
        ),
        max_size=6,
    )
)
def test_body_sha256_is_order_independent_for_any_json(body: dict[str, Any]) -> None:
    nfc_keys = {unicodedata.normalize("NFC", key) for key in body}
    if len(nfc_keys) != len(body):
        return  # keys that collide after normalisation are refused (tested above)
    assert body_sha256(_reorder(body)) == body_sha256(body)


# --- Event ids ------------------------------------------------------------------------------


def test_new_event_ids_are_unique_uuid4_hex() -> None:
    ids = {new_event_id() for _ in range(1000)}
    assert len(ids) == 1000
    for event_id in ids:
        assert re.fullmatch(r"[0-9a-f]{32}", event_id)
        assert event_id[12] == "4"  # uuid version nibble
