"""The emergency detector (pakn.safety): across word order, inserted words and inflections."""

from __future__ import annotations

from pathlib import Path

import pytest

from pakn.province import ConfigError
from pakn.safety import SafetyDetector, SafetyRules, assess, load_safety
from pakn.schema import Priority
from tests.corpus import load_corpus

KHANH_HOA = Path(__file__).parents[2] / "deploy" / "config" / "khanh-hoa"


@pytest.fixture(scope="module")
def detector() -> SafetyDetector:
    return load_safety(KHANH_HOA)


@pytest.mark.parametrize(
    ("text", "group"),
    [
        # The sentence: the old list had "dây điện đứt", the citizen did not write it.
        (
            "Dây điện trung thế bị đứt rơi xuống mặt đường Lê Hồng Phong, đang tóe lửa",
            "dien-giat",
        ),
        ("Bị đứt dây điện ngay trước cổng chợ, người đi đường phải tránh", "dien-giat"),
        ("day dien bi dut roi xuong duong", "dien-giat"),
        ("Cột điện trước nhà số 12 bị gãy đổ xuống đường", "dien-giat"),
        ("Trụ đèn ở công viên bị rò điện, nước mưa đọng quanh chân", "dien-giat"),
        ("Nhà dân trong hẻm 5 bị cháy lớn, khói đen bốc cao", "chay-no"),
        ("Xưởng gỗ đang cháy dữ dội", "chay-no"),
        ("Mùi gas nồng nặc ở chung cư", "chay-no"),
        ("Cây xanh bật gốc đổ đè lên người đi đường", "sap-do-mac-ket"),
        ("Cây phượng trước trường gãy, rơi trúng học sinh", "sap-do-mac-ket"),
        ("Có người mắc kẹt trong thang máy chung cư", "sap-do-mac-ket"),
        ("Thuyền bị lật ở cửa biển", "sap-do-mac-ket"),
        ("Công trình bên cạnh vừa đổ sập", "sap-do-mac-ket"),
        ("Vừa xảy ra tai nạn trên Quốc lộ 1, một người nằm bất động", "cap-cuu"),
        ("Khoảng 30 công nhân đang đau bụng, nôn ói sau bữa trưa", "cap-cuu"),
        ("Có nhóm thanh niên đang cầm dao rượt đuổi nhau", "an-ninh"),
    ],
)
def test_an_event_happening_now_is_an_emergency(
    detector: SafetyDetector, text: str, group: str
) -> None:
    found = assess(text, detector)
    assert found.emergency, text
    assert group in {alarm.group for alarm in found.events}
    assert found.hotlines and found.advice


@pytest.mark.parametrize(
    "text",
    [
        "Sợ dây điện rơi xuống đường khi có bão",
        "Cây cổ thụ có nguy cơ đổ đè người đi đường",
        "Bức tường cũ sắp sập đè lên lối đi",
        "Không có ai bị thương nhưng xe hư hỏng nặng",
        "Năm rồi đã xảy ra tai nạn chết người ở đoạn này",
    ],
)
def test_a_risk_or_a_denial_is_urgent_not_an_emergency(detector: SafetyDetector, text: str) -> None:
    found = assess(text, detector)
    assert not found.emergency, [a.matched for a in found.alarms]
    assert found.risk


@pytest.mark.parametrize(
    "text",
    [
        "Bóng đèn đường bị cháy mấy hôm nay",
        "Đèn đường cháy bóng cả tuần chưa thay",
        "Xe chạy nhanh quá, đề nghị lắp gờ giảm tốc",
        "Kẹt xe kéo dài mỗi giờ tan tầm",
        "Cỏ công viên cháy vàng, ghế đá bể",
        "Đề nghị tổ chức diễn tập phòng cháy chữa cháy ở chợ",
        "Nước chảy tràn ra đường",
        "Giật điện thoại của người đi đường",
    ],
)
def test_everyday_words_raise_no_alarm(detector: SafetyDetector, text: str) -> None:
    assert not assess(text, detector).alarms


def test_a_title_is_read_too(detector: SafetyDetector) -> None:
    assert assess("Khu phố 3, phường Nam Nha Trang", detector, title="Cháy nhà").emergency


def test_marks_must_agree_in_a_marked_text(detector: SafetyDetector) -> None:
    # "chạy" is not "cháy", "ghế" not "ghe".
    assert not assess("Nhiều xe chạy vào nhà dân", detector).alarms
    assert not assess("Lật ghế đá ở công viên", detector).alarms


def test_every_emergency_of_the_hand_written_corpus_is_found(detector: SafetyDetector) -> None:
    emergencies = [i for i in load_corpus() if i.expected.priority is Priority.EMERGENCY]
    missed = [i.id for i in emergencies if not assess(i.content, detector, title=i.title).emergency]
    assert len(emergencies) >= 25
    assert missed == []


def test_rules_are_checked_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "safety.yaml").write_text(
        'groups:\n  - code: x\n    hotline: "11"\n    advice: a\n    patterns: ["a …"]\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        SafetyDetector.from_config_dir(tmp_path)
    assert all(problem.line for problem in caught.value.problems)
    assert len(caught.value.problems) == 2  # the hotline and the empty slot


def test_repeated_group_codes_are_refused() -> None:
    group = {"code": "x", "hotline": "114", "advice": "a", "patterns": ["cháy nhà"]}
    with pytest.raises(ValueError, match="repeated"):
        SafetyRules.model_validate({"groups": [group, group]})
