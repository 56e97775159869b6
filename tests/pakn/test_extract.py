"""Slots read from free text (pakn.extract): phones, times, names and places, pure."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pakn.extract import PlaceFinder, extract, find_name, find_phones, find_time
from pakn.territory import load
from pakn.worktime import VIETNAM_TZ

KHANH_HOA = Path(__file__).parents[2] / "deploy" / "config" / "khanh-hoa"
#: Thursday 3 December 2026, 10:00 in the province.
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=VIETNAM_TZ)
BAC_NHA_TRANG = "Phường Bắc Nha Trang"


@pytest.fixture(scope="module")
def places() -> PlaceFinder:
    return PlaceFinder(load(KHANH_HOA))


def local(text: str, now: datetime = NOW) -> tuple[str, str, str] | None:
    found = find_time(text, now=now)
    if found is None:
        return None
    return (
        found.at.astimezone(VIETNAM_TZ).strftime("%d/%m/%Y %H:%M"),
        found.precision,
        text[found.start : found.end],
    )


# --- phones ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "e164"),
    [
        ("sđt 0912 345 678 nhé", "+84912345678"),
        ("goi 0905.123.456", "+84905123456"),
        ("lh 098-765-4321", "+84987654321"),
        ("0912345678", "+84912345678"),
        ("+84 912 345 678", "+84912345678"),
        ("84 905 123 456", "+84905123456"),
        ("bàn (0258) 3822 123", "+842583822123"),
        ("máy bàn 0258.3822.123", "+842583822123"),
    ],
)
def test_vietnamese_phone_numbers_in_their_spellings(text: str, e164: str) -> None:
    found = find_phones(text)
    assert [p.e164 for p in found] == [e164]
    assert text[found[0].start : found[0].end].replace(" ", "")[-3:] == e164[-3:]


def test_hotline_numbers_and_house_numbers_are_not_a_citizens_phone() -> None:
    found = find_phones("tôi đã gọi 1900 1023 rồi, số nhà 120, sđt tôi 0905 123 456")
    assert [p.e164 for p in found] == ["+84905123456"]
    assert find_phones("số nhà 120 Trần Phú, ngày 25/11/2026") == []


def test_one_number_written_twice_is_one_phone() -> None:
    assert len(find_phones("0912345678 hoặc 0912 345 678")) == 1


# --- times -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sáng nay cống bị tắc", ("03/12/2026 08:00", "part", "sáng nay")),
        ("chiều qua đèn tắt", ("02/12/2026 15:00", "part", "chiều qua")),
        ("tối qua lúc 9h", ("02/12/2026 21:00", "minute", "tối qua lúc 9h")),
        ("9h tối hôm qua", ("02/12/2026 21:00", "minute", "9h tối hôm qua")),
        ("20h15 tối qua", ("02/12/2026 20:15", "minute", "20h15 tối qua")),
        ("khoảng 3 giờ chiều nay", ("03/12/2026 15:00", "minute", "3 giờ chiều nay")),
        ("đêm qua lúc 2 giờ", ("03/12/2026 02:00", "minute", "đêm qua lúc 2 giờ")),
        ("đêm qua lúc 11 giờ", ("02/12/2026 23:00", "minute", "đêm qua lúc 11 giờ")),
        ("trưa nay 1h", ("03/12/2026 13:00", "minute", "trưa nay 1h")),
        ("hôm kia", ("01/12/2026 00:00", "day", "hôm kia")),
        ("hôm qua", ("02/12/2026 00:00", "day", "hôm qua")),
        ("8 giờ 25/11", ("25/11/2026 08:00", "minute", "8 giờ 25/11")),
        ("8h sáng ngày 1/12", ("01/12/2026 08:00", "minute", "8h sáng ngày 1/12")),
        ("25/11/2025 lúc 14:30", ("25/11/2025 14:30", "minute", "25/11/2025 lúc 14:30")),
        ("ngày 25 tháng 11", ("25/11/2026 00:00", "day", "ngày 25 tháng 11")),
        ("thứ hai tuần trước", ("23/11/2026 00:00", "day", "thứ hai tuần trước")),
        ("thứ 2", ("30/11/2026 00:00", "day", "thứ 2")),
        ("chủ nhật", ("29/11/2026 00:00", "day", "chủ nhật")),
        ("3 ngày trước", ("30/11/2026 00:00", "day", "3 ngày trước")),
        ("hai hôm nay", ("01/12/2026 00:00", "day", "hai hôm nay")),
        ("vừa xong", ("03/12/2026 10:00", "now", "vừa xong")),
        ("lúc 7h30", ("03/12/2026 07:30", "minute", "7h30")),
        ("lúc 8 giờ rưỡi", ("03/12/2026 08:30", "minute", "8 giờ rưỡi")),
    ],
)
def test_times_are_read_relative_to_now_in_province_time(
    text: str, expected: tuple[str, str, str]
) -> None:
    assert local(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("toi qua luc 9h", "02/12/2026 21:00"),
        ("sang nay", "03/12/2026 08:00"),
        ("chieu qua khoang 4h", "02/12/2026 16:00"),
        ("hom kia", "01/12/2026 00:00"),
        ("8 gio 25/11", "25/11/2026 08:00"),
    ],
)
def test_times_typed_without_diacritics(text: str, expected: str) -> None:
    found = local(text)
    assert found is not None and found[0] == expected


def test_a_clock_time_with_no_day_is_the_latest_one_not_ahead() -> None:
    assert local("lúc 11h") == ("02/12/2026 11:00", "minute", "11h")
    assert local("lúc 9h") == ("03/12/2026 09:00", "minute", "9h")


def test_a_date_without_year_ahead_of_today_is_last_years() -> None:
    assert local("ngày 20/12") == ("20/12/2025 00:00", "day", "20/12")


def test_the_result_is_utc_and_respects_the_province_day() -> None:
    # 03:00 UTC on 3 December is 10:00 in Khánh Hòa: "sáng nay" is 8:00 on the 3rd.
    found = find_time("sáng nay", now=datetime(2026, 12, 3, 3, 0, tzinfo=UTC))
    assert found is not None and found.at == datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="aware"):
        find_time("sáng nay", now=datetime(2026, 12, 3, 10))


def test_a_part_of_today_already_begun_is_never_ahead_of_now() -> None:
    # 23:30 UTC on 2 December is 06:30 on 3 December in Khánh Hòa: the morning has begun, so
    # "sáng nay" is earlier this morning (taken as now), not 8:00, which is still ahead.
    now = datetime(2026, 12, 2, 23, 30, tzinfo=UTC)
    found = find_time("sáng nay đèn bị tắt", now=now)
    assert found is not None and (found.at, found.precision) == (now, "part")
    # The afternoon has not begun at 6:30: "chiều nay" stays ahead (the channels say a time
    # cannot be in the future), and "tối qua" is yesterday evening whatever the hour.
    afternoon = find_time("chiều nay", now=now)
    assert afternoon is not None and afternoon.at == datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    evening = find_time("tối qua", now=now)
    assert evening is not None and evening.at == datetime(2026, 12, 2, 13, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "tôi qua nhà bạn",  # "tôi" is not "tối"
        "xe đi qua đây",
        "mất điện 2 giờ liền",  # a duration
        "gọi 0912.345.678",
        "28/4 Nguyễn Khuyến",  # a house number
        "hẻm 12/3 đường Lê Lợi",
        "đèn không sáng",
    ],
)
def test_words_that_only_look_like_times(text: str) -> None:
    assert local(text) is None


# --- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Tôi là Nguyễn Văn An, sđt 0912345678", "Nguyễn Văn An"),
        ("Họ tên: LÊ VĂN CƯỜNG", "Lê Văn Cường"),
        ("Em tên Lan ạ", "Lan"),
        ("Tên tôi là Phạm Thị Hoa. Tôi ở phường Tây Nha Trang", "Phạm Thị Hoa"),
        ("toi ten la tran thi binh o phuong vinh hai", "Tran Thi Binh"),
        ("mình là hoàng minh tuấn, 0905123456", "Hoàng Minh Tuấn"),
    ],
)
def test_names_after_their_introduction(text: str, name: str) -> None:
    found = find_name(text)
    assert found is not None and found.name == name


@pytest.mark.parametrize(
    "text", ["tôi là người dân phường Nha Trang", "tên là gì", "Tôi là cư dân ở đây"]
)
def test_no_name_where_none_is_given(text: str) -> None:
    assert find_name(text) is None


# --- places ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "address", "commune"),
    [
        (
            "Đèn đường trước số 120 Trần Phú, phường Nha Trang bị tắt",
            "số 120 Trần Phú, phường Nha Trang",
            "Phường Nha Trang",
        ),
        (
            "ở hẻm 15 Lê Hồng Phong, P. Phước Hải, TP Nha Trang có rác",
            "hẻm 15 Lê Hồng Phong, P. Phước Hải, TP Nha Trang",
            "Phường Nam Nha Trang",
        ),
        (
            "cong thoat nuoc duong 23 thang 10 phuong vinh hai bi nghet",
            "duong 23 thang 10 phuong vinh hai",
            "Phường Bắc Nha Trang",
        ),
        ("Ở thôn 2, xã Diên Lạc nước ngập", "thôn 2, xã Diên Lạc", "Xã Diên Lạc"),
        (
            "28/4 Nguyễn Khuyến, P.Vĩnh Hải",
            "28/4 Nguyễn Khuyến, P.Vĩnh Hải",
            "Phường Bắc Nha Trang",
        ),
        (
            "Tổ 5, P. Vĩnh Hải, TP Nha Trang",
            "Tổ 5, P. Vĩnh Hải, TP Nha Trang",
            "Phường Bắc Nha Trang",
        ),
        ("ở phường Bắc Nha Trang", "phường Bắc Nha Trang", "Phường Bắc Nha Trang"),
    ],
)
def test_addresses_with_their_commune_old_or_new(
    places: PlaceFinder, text: str, address: str, commune: str
) -> None:
    found = places.find(text)
    assert found is not None
    assert (found.address, found.commune) == (address, commune)
    assert text[found.start : found.end] == address


def test_a_street_without_commune_is_still_a_place(places: PlaceFinder) -> None:
    found = places.find("rác đổ trước chợ Đầm")
    assert found is not None and (found.address, found.commune) == ("chợ Đầm", None)


def test_the_legacy_area_is_kept(places: PlaceFinder) -> None:
    found = places.find("đường Thống Nhất, xã Ninh Phụng, Ninh Hòa")
    assert found is not None and found.legacy_area is not None


@pytest.mark.parametrize("text", ["đường xá hư hỏng nhiều", "đèn không sáng", "tôi muốn hỏi"])
def test_no_place_where_none_is_named(places: PlaceFinder, text: str) -> None:
    assert places.find(text) is None


# --- all at once -----------------------------------------------------------------------------


def test_one_message_fills_several_slots(places: PlaceFinder) -> None:
    text = (
        "Tôi là Nguyễn Văn An, tối qua lúc 9h đèn đường trước 120 Trần Phú, phường Nha Trang "
        "bị tắt. SĐT 0912 345 678"
    )
    found = extract(text, now=NOW, places=places)
    assert found.name is not None and found.name.name == "Nguyễn Văn An"
    assert found.phone is not None and found.phone.e164 == "+84912345678"
    assert found.time is not None
    assert found.time.at == datetime(2026, 12, 2, 14, 0, tzinfo=UTC)
    assert found.place is not None and found.place.commune == "Phường Nha Trang"
    assert found.place.address == "120 Trần Phú, phường Nha Trang"


def test_without_a_province_places_are_not_read() -> None:
    assert extract("ở phường Bắc Nha Trang", now=NOW).place is None
