"""`pakn classify`: one JSON object for TEXT, one JSON line per line of standard input."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from pakn.cli import main
from pakn_router.classify import Classifier

KHANH_HOA = Path(__file__).parents[2] / "deploy" / "config" / "khanh-hoa"
CONFIG = ["--config-dir", str(KHANH_HOA)]
POTHOLE = "Ổ gà lớn giữa đường Lê Hồng Phong, xe máy té ngã liên tục."


def test_a_text_is_printed_as_the_routers_decision(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["classify", POTHOLE, "--address", "P. Vĩnh Hải, TP Nha Trang", *CONFIG]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    printed = json.loads(out)
    expected = Classifier.from_config_dir(KHANH_HOA).classify(
        POTHOLE, address="P. Vĩnh Hải, TP Nha Trang"
    )
    assert printed == {**expected.as_json(), "notes": []}
    assert printed["decision"] == "assign"
    assert printed["lead_agency"] == "ubnd-phuong-bac-nha-trang"
    assert printed["locality"]["matched"] == "P. Vĩnh Hải"
    assert "Phường Bắc Nha Trang" in out  # Vietnamese as is, not \u escapes


def test_notes_say_why_a_case_is_left_to_an_operator(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["classify", "Đèn đường trước nhà tôi hư, tối om cả tuần nay.", *CONFIG]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["decision"] == "triage"
    assert printed["notes"] == ["chưa xác định được xã/phường nơi xảy ra sự việc"]


def test_without_text_each_line_of_stdin_is_one_json_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [
        POTHOLE,
        "Tôi khiếu nại Quyết định xử phạt số 12/QĐ-XPHC, đề nghị hủy bỏ quyết định.",
        "",
    ]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    assert main(["classify", "--address", "phường Nha Trang", *CONFIG]) == 0
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [p["decision"] for p in printed] == ["assign", "redirect", "triage"]
    assert printed[0]["lead_agency"] == "ubnd-phuong-nha-trang"


def test_a_broken_province_folder_is_reported(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["classify", POTHOLE, "--config-dir", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "pakn classify: cannot use" in captured.err
    assert "categories.yaml" in captured.err
