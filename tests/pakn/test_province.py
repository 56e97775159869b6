"""Province files: validation errors point at the file and the line to fix."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pakn.commands.config import check_province
from pakn.province import ConfigError, load_model
from pakn.sla import SlaPolicy

SHIPPED = Path(__file__).parents[2] / "deploy" / "config" / "khanh-hoa"


def test_the_shipped_province_folder_is_valid() -> None:
    assert check_province(SHIPPED) == []


def test_an_error_names_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "province"
    shutil.copytree(SHIPPED, folder)
    sla = folder / "sla.yaml"
    lines = sla.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line.strip().startswith("working_days: 7"))
    lines[index] = lines[index].replace("7", "bảy")
    sla.write_text("\n".join(lines) + "\n", encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        load_model(sla, SlaPolicy)
    problem = caught.value.problems[0]
    assert problem.file == sla
    assert problem.line == index + 1
    assert "working_days" in problem.message

    problems = check_province(folder)
    assert [(p.file.name, p.line) for p in problems] == [("sla.yaml", index + 1)]


def test_broken_yaml_is_reported_with_its_line(tmp_path: Path) -> None:
    folder = tmp_path / "province"
    shutil.copytree(SHIPPED, folder)
    (folder / "holidays.yaml").write_text("workdays:\n  - date: [2026-01-10\n", encoding="utf-8")
    problems = check_province(folder)
    assert problems and problems[0].file.name == "holidays.yaml"
    assert problems[0].line is not None and "YAML" in problems[0].message


def test_a_missing_folder_is_one_clear_problem(tmp_path: Path) -> None:
    problems = check_province(tmp_path / "nowhere")
    assert len(problems) == 1 and "does not exist" in problems[0].message
