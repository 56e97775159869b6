"""Phone numbers as people read them: stored as E.164, shown in the national format."""

from __future__ import annotations

import phonenumbers

#: Numbers without a country code are Vietnamese.
REGION = "VN"


def display_phone(value: str | None) -> str:
    """``+84905123456`` → ``0905 123 456`` (a landline: ``0258 3822 123``; the hotline:
    ``1900 1023``). A foreign number keeps its country code (``+1 415-555-0100``); what is not
    a phone number at all comes back as it was, so nothing a citizen gave is hidden."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, REGION)
    except phonenumbers.NumberParseException:
        return value
    if not phonenumbers.is_possible_number(number):
        return value
    if phonenumbers.region_code_for_number(number) == REGION or number.country_code == 84:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def dial_phone(value: str | None) -> str:
    """What a ``tel:`` link carries: E.164 when it is a number, else the text as given."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, REGION)
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
