"""Parsing real-shaped mail: every message of the corpus, and the rules one by one."""

from __future__ import annotations

import unicodedata
from email.message import EmailMessage

import pytest

from pakn.ids import damm_check_digit
from pakn_email.html import html_to_text
from pakn_email.legacy import decode_legacy, repair_legacy_font
from pakn_email.parse import (
    IgnoreReason,
    PoisonMail,
    ack_message_id,
    decode_bytes,
    parse_mail,
    tracking_code_in_ids,
    tracking_code_in_subject,
)
from pakn_email.reply import find_phone, split_reply
from tests.pakn_email.corpus import OUR_ADDRESS, CorpusMail, load_corpus

CORPUS = load_corpus()


def test_corpus_is_large_and_varied() -> None:
    assert len(CORPUS) >= 30
    outcomes = {mail.outcome for mail in CORPUS}
    assert outcomes == {"case", "needs_info", "followup", "ignored", "failed"}
    ignored = {mail.expected["ignore"] for mail in CORPUS if mail.outcome == "ignored"}
    assert ignored == {"auto_reply", "bounce", "mailing_list", "bulk", "own_address"}


@pytest.mark.parametrize("mail", CORPUS, ids=lambda mail: mail.name)
def test_corpus_message(mail: CorpusMail) -> None:
    expected = mail.expected
    if mail.outcome == "failed":
        with pytest.raises(PoisonMail) as raised:
            parse_mail(mail.raw, own_addresses=[OUR_ADDRESS])
        assert raised.value.reason == expected["poison"]
        return
    parsed = parse_mail(mail.raw, own_addresses=[OUR_ADDRESS])
    if mail.outcome == "ignored":
        assert parsed.ignore == IgnoreReason(expected["ignore"])
        return
    assert parsed.ignore is None
    assert parsed.content == expected["content"]
    submitter = expected["submitter"]
    assert parsed.sender_name == submitter["name"]
    assert parsed.sender_address == submitter["email"]
    assert parsed.phone == submitter["phone"]
    for key in (
        "legacy_font",
        "charset_repaired",
        "html_only",
        "reply_to_code",
        "subject_code",
        "message_id_generated",
        "reply_address",
        "subject",
    ):
        if key in expected:
            assert getattr(parsed, key) == expected[key], key
    if "attachments" in expected:
        assert [
            {"filename": a.filename, "content_type": a.content_type} for a in parsed.attachments
        ] == expected["attachments"]
    if mail.outcome == "followup":
        assert parsed.thread_code is not None
    else:
        assert parsed.thread_code is None
    # The content is what the router reads: never a quoted line, never mojibake.
    assert ">" not in parsed.content.split("\n")[0][:1]
    assert "đã viết:" not in parsed.content


def test_a_message_without_message_id_gets_the_same_id_every_time() -> None:
    (mail,) = [m for m in CORPUS if m.name.startswith("26-")]
    first = parse_mail(mail.raw)
    assert first.message_id_generated
    assert first.message_id == parse_mail(mail.raw).message_id
    changed = parse_mail(mail.raw.replace(b"88", b"89"))
    assert changed.message_id != first.message_id


# --- Legacy fonts -------------------------------------------------------------------------


def test_tcvn3_example_of_the_cited_source() -> None:
    # The example given with the table in data/legacy_fonts.yaml's source.
    assert decode_legacy("hép møt tÕt", "tcvn3") == "hộp mứt tết"


def test_vni_example() -> None:
    assert decode_legacy("Xin chaøo caùc baïn", "vni") == "Xin chào các bạn"


@pytest.mark.parametrize(
    "text",
    [
        "Un café à Paris avec José et Zoë",
        "Đường Trần Phú bị ngập nước",
        "Giá 100.000 đ, chất lượng ổn",
        "Müller wohnt in Köln",
    ],
)
def test_text_that_is_not_legacy_stays(text: str) -> None:
    assert repair_legacy_font(text).font is None
    assert repair_legacy_font(text).text == text


def test_a_unicode_greeting_above_a_pasted_tcvn3_paragraph() -> None:
    text = "Kính gửi quý cơ quan,\n\nB·i r¸c bèc mïi h«i thèi suèt tuÇn qua."
    repaired = repair_legacy_font(text)
    assert repaired.font == "tcvn3"
    assert repaired.text == "Kính gửi quý cơ quan,\n\nBãi rác bốc mùi hôi thối suốt tuần qua."


# --- Charsets -----------------------------------------------------------------------------


def test_utf8_labelled_latin1_is_read_as_utf8() -> None:
    assert decode_bytes("Đường ngập".encode(), "iso-8859-1") == ("Đường ngập", True)


def test_genuine_latin1_stays_latin1() -> None:
    assert decode_bytes("Café Müller".encode("latin-1"), "iso-8859-1") == ("Café Müller", False)


def test_invalid_utf8_falls_back_to_windows_1258() -> None:
    # "Đà" in windows-1258: Đ (0xD0), a, combining grave (0xCC); not valid UTF-8.
    text, repaired = decode_bytes(b"\xd0a\xcc L\xe2m", "utf-8")
    assert repaired
    assert unicodedata.normalize("NFC", text) == "Đà Lâm"


def test_unknown_charset_label() -> None:
    assert decode_bytes(b"Nha Trang", "x-made-up") == ("Nha Trang", True)


# --- HTML, quotes, signatures -------------------------------------------------------------


def test_outlook_html_history_is_cut() -> None:
    html = (
        "<html><body><p>Đã sửa xong chưa ạ?</p>"
        '<div id="appendonsend"></div><hr><div id="divRplyFwdMsg"><b>From:</b> PAKN</div>'
        "<p>Phản ánh của bạn đã được tiếp nhận</p></body></html>"
    )
    assert html_to_text(html) == ("Đã sửa xong chưa ạ?", True)


def test_blockquote_is_history() -> None:
    html = "<div>Thêm ảnh ạ</div><blockquote type=cite><div>cũ</div></blockquote>"
    assert html_to_text(html) == ("Thêm ảnh ạ", True)


def test_english_attribution_and_quote() -> None:
    reply = split_reply("More photos attached.\n\nOn Tue, 1 Dec 2026, PAKN wrote:\n> old\n")
    assert reply.content == "More photos attached."
    assert reply.quoted


def test_rfc3676_signature() -> None:
    reply = split_reply("Đèn không sáng.\n-- \nAn\n0905 123 456")
    assert (reply.content, reply.signature) == ("Đèn không sáng.", "An\n0905 123 456")


def test_phone_in_the_story_is_not_the_senders() -> None:
    text = (
        "Tờ rơi của cửa hàng ở số 5 Lê Lợi, gọi 0905 111 222, bị dán lên cột điện khắp cả "
        "đoạn đường từ chợ Đầm đến tận bến xe phía Nam của thành phố, rất mất mỹ quan."
    )
    assert find_phone(None, text) is None


# --- Threading ----------------------------------------------------------------------------


def test_our_message_id_names_the_case() -> None:
    code = "123456789" + damm_check_digit("123456789")
    ident = ack_message_id(code, "abc123", "khanhhoa.gov.vn")
    assert tracking_code_in_ids(["x@y", ident.strip("<>")]) == code


def test_a_wrong_check_digit_in_the_subject_is_no_code() -> None:
    assert tracking_code_in_subject("Hồ sơ 123 456 7890") is None
    assert tracking_code_in_subject("Hồ sơ 123.456.7894") == "1234567894"


def test_our_own_acknowledgement_coming_back_is_ignored() -> None:
    message = EmailMessage()
    message["From"] = "Someone <fwd@example.vn>"
    message["Message-ID"] = ack_message_id("1234567894", "t0k", "khanhhoa.gov.vn")
    message.set_content("x")
    assert parse_mail(message.as_bytes()).ignore == IgnoreReason.OWN_ADDRESS


def test_empty_is_poison() -> None:
    with pytest.raises(PoisonMail):
        parse_mail(b"\r\n")
