"""Reading the commune and the pre-2025 area of a report, on the shipped Khánh Hòa folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from pakn.locality import LocalityResolver, Place
from pakn.territory import ProvinceConfig, load

KHANH_HOA = Path(__file__).parents[2] / "deploy" / "config" / "khanh-hoa"


@pytest.fixture(scope="module")
def resolver() -> LocalityResolver:
    return LocalityResolver(load(KHANH_HOA))


@pytest.fixture(scope="module")
def config(resolver: LocalityResolver) -> ProvinceConfig:
    return resolver.config


def names(place: Place | None) -> tuple[str | None, str | None]:
    assert place is not None
    return (
        place.locality.name if place.locality else None,
        place.area.name if place.area else None,
    )


@pytest.mark.parametrize(
    ("address", "commune"),
    [
        ("Tổ 5, P. Vĩnh Hải, TP Nha Trang", "Phường Bắc Nha Trang"),
        ("28/4 Nguyễn Khuyến, P.Vĩnh Hải", "Phường Bắc Nha Trang"),
        ("phường Bắc Nha Trang", "Phường Bắc Nha Trang"),
        ("x. Tân Định", "Xã Tân Định"),
        ("xã Ninh Phụng, Ninh Hòa", "Phường Ninh Hòa"),
        ("Thôn 2, xa dien lac", "Xã Diên Lạc"),
        ("HẺM 15 LÊ HỒNG PHONG, PHƯỜNG PHƯỚC HẢI", "Phường Nam Nha Trang"),
    ],
)
def test_a_commune_is_read_from_the_address_box(
    resolver: LocalityResolver, address: str, commune: str
) -> None:
    assert names(resolver.resolve(address))[0] == commune


def test_the_words_that_decided_are_kept_as_written(resolver: LocalityResolver) -> None:
    place = resolver.resolve("Tổ 5, P. Vĩnh Hải, TP Nha Trang")
    assert place is not None
    assert place.locality is not None and place.area is not None
    assert (place.locality.code, place.locality.name) == ("22333", "Phường Bắc Nha Trang")
    assert place.area.name == "Thành phố Nha Trang"
    assert place.matched == "P. Vĩnh Hải"


def test_the_longest_name_wins_over_a_name_inside_it(resolver: LocalityResolver) -> None:
    # "Nha Trang" inside "Nam Nha Trang" is not the old city.
    assert names(resolver.resolve("Đường số 4, Nam Nha Trang")) == (
        "Phường Nam Nha Trang",
        "Thành phố Nha Trang",
    )


def test_the_address_box_comes_before_the_text(resolver: LocalityResolver) -> None:
    place = resolver.resolve("phường Tây Nha Trang", "Tôi ở phường Vĩnh Hải, gần chợ.")
    assert names(place)[0] == "Phường Tây Nha Trang"


def test_the_text_completes_an_address_that_names_only_the_area(
    resolver: LocalityResolver,
) -> None:
    place = resolver.resolve("TP Nha Trang", "Hẻm 12 ở phường Vĩnh Phước bị ngập.")
    assert names(place) == ("Phường Bắc Nha Trang", "Thành phố Nha Trang")
    # A commune of another area than the address's is not taken.
    place = resolver.resolve("TP Nha Trang", "Giống như ở xã Tân Định năm ngoái.")
    assert names(place) == (None, "Thành phố Nha Trang")


def test_an_old_name_is_settled_by_the_area_named_with_it(resolver: LocalityResolver) -> None:
    assert names(resolver.resolve(None, "Nhà tôi ở Vĩnh Hải, Nha Trang"))[0] == (
        "Phường Bắc Nha Trang"
    )
    # "xã Vĩnh Hải" is the new commune of Ninh Hải, not the old ward of Nha Trang.
    assert names(resolver.resolve(None, "thôn 1, xã Vĩnh Hải, Ninh Hải")) == (
        "Xã Vĩnh Hải",
        "Huyện Ninh Hải",
    )


def test_both_names_of_a_merged_commune_agree(resolver: LocalityResolver) -> None:
    place = resolver.resolve(None, "Thôn tôi ở xã Ninh Sim cũ (nay là xã Tây Ninh Hòa)")
    assert names(place) == ("Xã Tây Ninh Hòa", "Thị xã Ninh Hòa")


def test_a_name_two_units_carry_is_read_with_its_clues(resolver: LocalityResolver) -> None:
    # Xã Ninh Sơn is a commune of today (old Ninh Thuận) and an old commune of Ninh Hòa.
    assert names(resolver.resolve(None, "ở xã Ninh Sơn"))[0] == "Xã Ninh Sơn"
    assert names(resolver.resolve(None, "ở xã Ninh Sơn cũ, thị xã Ninh Hòa"))[0] == (
        "Xã Bắc Ninh Hòa"
    )


def test_a_bare_old_name_prefers_the_old_ward(resolver: LocalityResolver) -> None:
    # Phường Phước Hải (Nha Trang) and xã Phước Hải (Ninh Phước): townspeople name their ward
    # bare; the commune is written with its kind.
    assert names(resolver.resolve("Công viên đường Hà Quang, Phước Hải"))[0] == (
        "Phường Nam Nha Trang"
    )
    assert names(resolver.resolve("thôn Hiệp Hòa, xã Phước Hải"))[0] == "Xã Ninh Phước"


def test_a_district_name_is_the_district(resolver: LocalityResolver) -> None:
    # "Ninh Phước" is also an old commune of Ninh Hòa; alone it is the old district.
    assert names(resolver.resolve(None, "nông dân vùng khô hạn Ninh Phước")) == (
        None,
        "Huyện Ninh Phước",
    )


def test_a_split_old_unit_gives_its_area_and_no_commune(resolver: LocalityResolver) -> None:
    assert names(resolver.resolve(None, "ở xã Cam Hòa, huyện Cam Lâm")) == (
        None,
        "Huyện Cam Lâm",
    )
    # Named with one of the new units it went to, that one is it.
    place = resolver.resolve(None, "xã Cam Hòa cũ, nay thuộc xã Suối Dầu")
    assert names(place)[0] == "Xã Suối Dầu"


def test_a_street_named_like_a_place_is_a_street(resolver: LocalityResolver) -> None:
    assert names(resolver.resolve(None, "chợ Vĩnh Hải"))[0] == "Phường Bắc Nha Trang"
    assert resolver.resolve(None, "đường Vĩnh Hải bị ngập") is None


def test_a_unit_written_with_another_kind_is_not_taken(resolver: LocalityResolver) -> None:
    # Xã Phước Tân (Bác Ái) exists; "phường Phước Tân" is an old ward of Nha Trang merged
    # before 2025, which the folder does not list.
    assert names(resolver.resolve(None, "ở xã Phước Tân"))[0] == "Xã Bác Ái Tây"
    assert resolver.resolve(None, "tổ 7 phường Phước Tân") is None


def test_where_the_writer_goes_is_not_the_place(resolver: LocalityResolver) -> None:
    place = resolver.resolve(None, "Người dân ở Vạn Ninh lên Nha Trang nhận kết quả mất cả ngày")
    assert names(place) == (None, "Huyện Vạn Ninh")


def test_a_name_withdrawn_by_the_writer_does_not_count(resolver: LocalityResolver) -> None:
    text = "đường Nguyễn Thái Học? à không, đó là bên Phan Rang, ý tôi là Hoàng Văn Thụ, Nha Trang"
    assert names(resolver.resolve(None, text)) == (None, "Thành phố Nha Trang")


def test_an_area_with_a_single_commune_gives_it(resolver: LocalityResolver) -> None:
    assert names(resolver.resolve(None, "trên đảo Trường Sa")) == (
        "Đặc khu Trường Sa",
        "Huyện Trường Sa",
    )


def test_no_place_named_is_none(resolver: LocalityResolver) -> None:
    assert resolver.resolve(None, "Đèn đường trước nhà tôi không sáng") is None
    assert resolver.resolve("", "") is None


def test_every_official_name_of_the_folder_resolves_to_itself(
    resolver: LocalityResolver, config: ProvinceConfig
) -> None:
    wrong = [
        loc.name for loc in config.localities if names(resolver.resolve(loc.name))[0] != loc.name
    ]
    assert wrong == []
