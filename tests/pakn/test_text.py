"""Vietnamese text: NFC, folding, the diacritics check, search terms, masking personal data."""

from __future__ import annotations

import itertools
import unicodedata
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from pakn.text import (
    MASK,
    MAX_SEARCH_TERMS,
    _fold_aligned,
    _mask_spelled_phones,
    _mask_spelled_runs,
    diacritics_report,
    fold,
    is_syllable,
    lacks_diacritics,
    mask_personal_data,
    nfc,
    query_terms,
    search_terms,
)

CORPUS_FILE = Path(__file__).resolve().parents[1] / "data" / "diacritics.yaml"
CORPUS: dict[str, list[str]] = yaml.safe_load(CORPUS_FILE.read_text(encoding="utf-8"))
CASES = [(verdict, text) for verdict, texts in CORPUS.items() for text in texts]


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


# --- NFC and folding ------------------------------------------------------------------------


def test_nfc_composes_decomposed_vietnamese() -> None:
    composed = "Nguyễn Thị Ánh Tuyết, phường Vĩnh Hải, đường 23 Tháng 10"
    decomposed = nfd(composed)
    assert decomposed != composed
    assert len(decomposed) > len(composed)
    assert nfc(decomposed) == composed
    assert nfc(composed) == composed
    assert len(nfc("ế")) == 1 and len(nfc(nfd("ế"))) == 1


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Đường Trần Phú", "duong tran phu"),
        ("ĐƯỜNG 23 THÁNG 10", "duong 23 thang 10"),
        ("Khánh Hòa", "khanh hoa"),
        ("Khánh Hoà", "khanh hoa"),  # old-style tone placement
        ("Thủy", "thuy"),
        ("Thuỷ", "thuy"),
        ("ngập   nước\n\tsâu ", "ngap nuoc sau"),
        ("Ðà Nẵng", "da nang"),  # Icelandic Eth used for Đ by legacy converters
        ("Ｎｈａ Ｔｒａｎｇ", "nha trang"),  # full-width
        ("ưu ươ ơ ô â ă ê", "uu uo o o a a e"),
        ("79A-123.45", "79a-123.45"),
        ("", ""),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded
    assert fold(nfd(text)) == folded


@given(st.text(max_size=40))
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)


@pytest.mark.parametrize(
    "word",
    ["duong", "nguoi", "nghieng", "quyen", "gi", "gin", "gieng", "khuya", "oan", "y", "uong"],
)
def test_is_syllable_accepts_vietnamese_shapes(word: str) -> None:
    assert is_syllable(word)


@pytest.mark.parametrize("word", ["street", "is", "key", "ge", "ce", "water", "ko", "fix"])
def test_is_syllable_rejects_other_shapes(word: str) -> None:
    assert not is_syllable(word)


# --- Diacritics -----------------------------------------------------------------------------


def test_corpus_is_large_and_covers_every_verdict() -> None:
    assert len(CASES) >= 60
    assert set(CORPUS) == {"ok", "missing_diacritics", "too_little_text", "not_vietnamese"}
    assert len(CORPUS["ok"]) >= 30 and len(CORPUS["missing_diacritics"]) >= 20


@pytest.mark.parametrize(("verdict", "text"), CASES, ids=[text[:40] for _, text in CASES])
def test_diacritics_verdict(verdict: str, text: str) -> None:
    report = diacritics_report(text)
    assert report.verdict == verdict, report
    assert lacks_diacritics(text) == (verdict == "missing_diacritics")


@pytest.mark.parametrize(("verdict", "text"), CASES, ids=[text[:40] for _, text in CASES])
def test_diacritics_verdict_of_decomposed_input(verdict: str, text: str) -> None:
    assert diacritics_report(nfd(text)).verdict == verdict


@pytest.mark.parametrize("text", CORPUS["ok"][:30])
def test_removing_the_marks_of_accented_prose_is_noticed(text: str) -> None:
    folded = fold(text)
    if diacritics_report(text).vietnamese_words >= 8:
        assert lacks_diacritics(folded), folded
    else:
        assert diacritics_report(folded).verdict in {"missing_diacritics", "too_little_text"}


def test_report_counts_add_up() -> None:
    report = diacritics_report("Đèn đường trên đường Trần Phú bi tắt, anh em trong khu rất lo.")
    assert report.vietnamese_words == (
        report.with_diacritics + report.without_diacritics + report.plain_words
    )
    assert report.without_diacritics == 1  # "bi"
    assert report.plain_words >= 3  # anh, em, trong, khu, lo
    assert report.ratio == round(
        report.with_diacritics / (report.with_diacritics + report.without_diacritics), 3
    )
    assert report.verdict == "ok"


def test_accented_text_with_a_few_unaccented_words_is_accepted() -> None:
    # A phone keyboard that drops marks on some words must not get a report rejected.
    text = "Nhà tôi ở hem 5 duong Hai Bà Trưng, nuoc thải chảy ra lòng đường, bốc mùi rat khó chịu."
    report = diacritics_report(text)
    assert report.without_diacritics == 4
    assert report.verdict == "ok"


def test_unaccented_text_with_pasted_accented_names_is_rejected() -> None:
    report = diacritics_report("cay xanh tren duong Lê Thánh Tôn bi nga, chan het loi di")
    assert report.with_diacritics == 0  # names inside a sentence do not count
    assert report.verdict == "missing_diacritics"


def test_a_long_unaccented_report_is_rejected_however_many_plain_words_it_has() -> None:
    text = " ".join(["anh em trong thon xin cho con duong"] * 10)
    assert lacks_diacritics(text)


def test_empty_and_symbol_only_text() -> None:
    for text in ("", " \n ", "!!!", "— … —", "123 456", "https://example.com/a-b"):
        report = diacritics_report(text)
        assert report.verdict == "too_little_text"
        assert report.vietnamese_words == 0


def test_combining_marks_that_nfc_cannot_compose_still_count() -> None:
    # a + acute + breve: the second mark is blocked and stays a separate code point.
    odd = "đường bị ngập, nước la\u0301\u0306n vào nhà"
    assert diacritics_report(odd).verdict == "ok"


# --- Search terms ---------------------------------------------------------------------------


def test_search_terms_fold_drop_stop_words_and_add_bigrams() -> None:
    terms = search_terms("Đường 23 Tháng 10 bị ngập nước, đèn đường không sáng.")
    assert terms == sorted(terms)
    assert len(terms) == len(set(terms))
    for expected in ("duong", "ngap", "nuoc", "ngap nuoc", "den", "den duong", "23", "thang 10"):
        assert expected in terms
    for stop in ("bi", "khong", "duong bi", "bi ngap"):
        assert stop not in terms
    assert "nuoc den" not in terms  # no bigram across a comma


def test_search_terms_keep_content_words_that_fold_like_stop_words() -> None:
    terms = search_terms("Cỏ mọc cao có rác. Đèn đến giờ vẫn hư.")
    assert "co" in terms  # cỏ (grass), although có was dropped
    assert "den" in terms  # đèn (lamp), although đến was dropped
    assert "co moc" in terms


def test_search_terms_of_unaccented_text_match_accented_text() -> None:
    accented = set(search_terms("Cây đổ đè lên dây điện trên đường Lê Thánh Tôn"))
    plain = set(search_terms("cay do de len day dien tren duong Le Thanh Ton"))
    assert {"cay", "day dien", "le thanh", "thanh ton"} <= accented & plain


def test_search_terms_unify_i_and_y_spellings() -> None:
    assert search_terms("kỹ thuật", "lý lịch", "quý") == search_terms("kĩ thuật", "lí lịch", "quí")


def test_search_terms_leave_out_personal_numbers_and_single_letters() -> None:
    terms = search_terms("Gọi 0912345678, CCCD 056090001234, nhà số 5, hẻm 12/3 Q. 1")
    assert "0912345678" not in terms and "056090001234" not in terms
    assert "12" in terms
    assert not any(len(term) < 2 for term in terms)


def test_search_terms_skip_missing_texts_and_merge_the_others() -> None:
    terms = search_terms(None, "Ngập nước", "", "Vĩnh Hải")
    assert {"ngap nuoc", "vinh hai"} <= set(terms)
    assert search_terms(None, "") == []


def test_search_terms_are_capped_keeping_words_before_bigrams() -> None:
    words = ("".join(letters) for letters in itertools.product("bcghklmnpqrstvx", repeat=3))
    text = " ".join(itertools.islice(words, MAX_SEARCH_TERMS + 50))
    long_text = "Đèn đường hư. " + text
    terms = search_terms(long_text)
    assert len(terms) == MAX_SEARCH_TERMS
    assert "den" in terms and "hu" in terms
    assert not any(" " in term for term in terms)  # unigrams filled the cap


def test_query_terms_forgive_mistyped_accents() -> None:
    document = set(search_terms("Đường Phạm Văn Đồng bị ngập nước sau mưa."))
    for query in ("ngập nước", "ngap nuoc", "ngâp nươc", "NGẬP NƯỚC", nfd("ngập nước")):
        terms = query_terms(query)
        assert terms == ["ngap", "nuoc"]
        assert set(terms) <= document


def test_query_terms_match_words_anywhere_and_phrases_adjacent() -> None:
    document = set(search_terms("Nước ngập ở phường Vĩnh Hải, đèn đường cũng hư."))
    assert set(query_terms("ngập Vĩnh Hải hư")) <= document
    assert set(query_terms('"vinh hai" den')) <= document
    assert "vinh hai" in query_terms('"vinh hai" den')
    assert not set(query_terms('"hai den"')) <= document


def test_query_terms_of_only_stop_words_is_empty() -> None:
    assert query_terms("có không được") == []
    assert query_terms("") == []


# --- Masking personal data ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Gọi tôi 0912 345 678 nhé", f"Gọi tôi {MASK} nhé"),
        ("SĐT 0912.345.678.", f"SĐT {MASK}."),
        ("SĐT:0905123456", f"SĐT:{MASK}"),
        ("số 091-234-5678", f"số {MASK}"),
        ("+84 912 345 678", MASK),
        ("(+84) 905123456", MASK),
        ("84912345678", MASK),
        ("0084 912 345 678", MASK),
        ("bàn (0258) 3822 123", f"bàn {MASK}"),
        ("0258.3822.123", MASK),
        (
            "Email: nguyen.van.an@gmail.com, hoặc an_99@yahoo.com.vn.",
            f"Email: {MASK}, hoặc {MASK}.",
        ),
        ("CCCD 056090001234", f"CCCD {MASK}"),
        ("số CMND 225123456 cấp năm 2010", f"số CMND {MASK} cấp năm 2010"),
        ("mã số BHXH: 7912345678", f"mã số BHXH: {MASK}"),
        ("STK 0071 0001 23456 Vietcombank", f"STK {MASK} Vietcombank"),
        ("mã số thuế là 4201234567-001", f"mã số thuế là {MASK}"),
        ("Xe 79A-123.45 đậu trên vỉa hè", f"Xe {MASK} đậu trên vỉa hè"),
        ("xe máy 79-A1 123.45 và 79A1-12345", f"xe máy {MASK} và {MASK}"),
        ("xe tải 51LD-12345, xe 79a-12345", f"xe tải {MASK}, xe {MASK}"),
    ],
)
def test_mask_personal_data(text: str, masked: str) -> None:
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "Gọi tổng đài 1900 1023 hoặc 19001023, 1800 8098, cấp cứu 115, cứu hỏa 114, công an 113.",
        "Ngày 23/10/2024 lúc 10:30 ở số nhà 123/4 đường 23 Tháng 10, QL1A km 1445.",
        "Thiệt hại 150.000.000 đồng, hóa đơn 150000000đ, diện tích 10 ha 2000 m2.",
        "Xem https://pakn.khanhhoa.gov.vn/tra-cuu?ma=0912345678 để biết thêm.",
        "Dự án khu đô thị Mipeco tại phường Phước Long, gần chợ Đầm và cầu Trần Phú.",
        "Mã hồ sơ 1234567894 chưa được xử lý.",
    ],
)
def test_mask_keeps_public_numbers_places_and_links(text: str) -> None:
    assert mask_personal_data(text) == text


def test_mask_finds_a_phone_among_other_numbers() -> None:
    assert mask_personal_data("ngày 12.05.2024 0912345678 lúc 10:30") == (
        f"ngày 12.05.2024 {MASK} lúc 10:30"
    )


def test_mask_names_regardless_of_case_and_accents() -> None:
    text = (
        "Tôi là Nguyễn Văn An, ở 45 Trần Phú. Ký tên: NGUYEN VAN AN. "
        "Gọi anh Văn An. Công an phường và thôn Tân An không liên quan; Nguyễn Văn Anh cũng vậy."
    )
    assert mask_personal_data(text, ["Nguyễn Văn An"]) == (
        f"Tôi là {MASK}, ở 45 Trần Phú. Ký tên: {MASK}. "
        f"Gọi anh {MASK}. Công an phường và thôn Tân An không liên quan; Nguyễn Văn Anh cũng vậy."
    )


def test_mask_names_given_decomposed_or_with_extra_spaces() -> None:
    assert mask_personal_data("Người gửi: Lê Thị Hồng  Nhung", [nfd("lê thị hồng nhung")]) == (
        f"Người gửi: {MASK}"
    )


def test_mask_single_word_names_only_after_a_form_of_address() -> None:
    text = "Chị Hà ở phường Hà Quang; Hà Quang và sông Hà đều là địa danh"
    assert mask_personal_data(text, ["Hà", ""]) == (
        f"Chị {MASK} ở phường Hà Quang; Hà Quang và sông Hà đều là địa danh"
    )


def test_mask_composes_decomposed_input() -> None:
    assert mask_personal_data(nfd("Gọi 0912345678")) == f"Gọi {MASK}"


# A spelled number needs nine tokens in a row before it is read at all; these lead up to it.
_LEAD_IN = "nhờ anh chị gọi giúp tôi số"
_SPELLED_PIECES = [
    "không", "một", "hai", "ba", "bốn", "tư", "năm", "lăm", "sáu", "bảy", "bát", "tám", "chín",
    "Không", "MỘT", "0", "09", "123", "4567", "①②③④⑤⑥", "⑴⑵⑶⑷⑸⑹", "፩፪፫፬፭፮",
    "số", "đt", "anh", "x", "a1", "5b",
]  # fmt: skip


@given(
    st.lists(
        st.tuples(
            st.sampled_from(_SPELLED_PIECES), st.sampled_from([" ", ", ", ".", "-", " - ", "\n"])
        ),
        min_size=1,
        max_size=14,
    )
)
def test_spelled_numbers_the_quick_check_passes_never_hide_one(
    pieces: list[tuple[str, str]],
) -> None:
    # The regex that lets most texts skip the word-by-word reading must never skip a text
    # that reading would mask: both ways give the same text, whatever digits it is spelled in.
    text = f"{_LEAD_IN} " + "".join(word + sep for word, sep in pieces)
    assert _mask_spelled_phones(text) == _mask_spelled_runs(text, _fold_aligned(text))


@pytest.mark.parametrize(
    "digits", ["①②③④⑤⑥", "⑴⑵⑶⑷⑸⑹", "፩፪፫፬፭፮", "123456", "chín chín chín chín chín chín"]
)
def test_spelled_numbers_in_any_digits_are_masked(digits: str) -> None:
    text = f"{_LEAD_IN} không một hai {digits} nhé"
    assert _mask_spelled_phones(text) == f"{_LEAD_IN} {MASK} nhé"


def test_spelled_numbers_the_quick_check_agrees_on_every_test_text() -> None:
    texts = [text for _, text in CASES] + [
        item["text"]
        for item in yaml.safe_load(
            (CORPUS_FILE.parent / "redaction.yaml").read_text(encoding="utf-8")
        )
    ]
    for text in texts:
        assert _mask_spelled_phones(text) == _mask_spelled_runs(text, _fold_aligned(text)), text
    assert any(_mask_spelled_phones(text) != text for text in texts)
