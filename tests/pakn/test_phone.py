"""Phone numbers shown the way Vietnamese people read and dial them."""

from __future__ import annotations

import pytest

from pakn.phone import dial_phone, display_phone


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("+84905123456", "0905 123 456"),
        ("0905123456", "0905 123 456"),
        ("+842583822123", "0258 3822 123"),
        ("+842838221234", "028 3822 1234"),
        ("19001023", "1900 1023"),
        ("+14155550100", "+1 415-555-0100"),
        ("không có", "không có"),
        ("12", "12"),
        ("", ""),
        (None, ""),
    ],
)
def test_display_phone(stored: str | None, shown: str) -> None:
    assert display_phone(stored) == shown


def test_dial_phone_is_e164() -> None:
    assert dial_phone("0905 123 456") == "+84905123456"
    assert dial_phone("+84905123456") == "+84905123456"
