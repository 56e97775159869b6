"""`pakn sla`: the deadline the router would set, printed for operators."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import pytest

from pakn.commands import sla as sla_command

SHIPPED_CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "config" / "khanh-hoa"


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="pakn")
    sla_command.add_parser(top.add_subparsers(dest="command", required=True))
    return top


def pakn_sla(argv: Sequence[str], config_dir: Path | None = SHIPPED_CONFIG) -> int:
    extra = ["--config-dir", str(config_dir)] if config_dir is not None else []
    args = parser().parse_args(["sla", *argv, *extra])
    assert args.func is sla_command.run
    result: int = args.func(args)
    return result


#: Friday before Tết 2026 (off 16–20 Feb), 16:00 local time.
FRIDAY = "2026-02-13T16:00"


@pytest.mark.parametrize(
    ("argv", "printed"),
    [
        (["--received", FRIDAY, "--working-days", "1"], "2026-02-23T16:00:00+07:00"),
        # The same moment in UTC and with an explicit offset.
        (["--received", "2026-02-13T09:00Z", "--working-days", "1"], "2026-02-23T16:00:00+07:00"),
        (["--received", FRIDAY + "+07:00", "--working-days", "0.5"], "2026-02-23T10:00:00+07:00"),
        (["--received", FRIDAY, "--category", "chieu-sang.den-hong"], "2026-02-23T16:00:00+07:00"),
        # A water-bill question is not an incident: the 7-day default.
        (
            ["--received", FRIDAY, "--category", "cap-thoat-nuoc.hoa-don"],
            "2026-03-03T16:00:00+07:00",
        ),
    ],
)
def test_prints_due_at_with_local_offset(
    argv: list[str], printed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert pakn_sla(argv) == 0
    captured = capsys.readouterr()
    assert captured.out == printed + "\n"
    assert captured.err == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--received", "hôm qua", "--working-days", "1"], "ISO 8601"),
        (["--received", FRIDAY, "--working-days", "0"], "more than 0"),
        (["--received", FRIDAY, "--working-days", "-2"], "more than 0"),
        (["--received", FRIDAY, "--working-days", "nan"], "more than 0"),
        (["--received", FRIDAY, "--category", "chieu-sang.khong-co"], "unknown category"),
        (["--received", FRIDAY, "--category", "sai"], "unknown category"),
    ],
)
def test_bad_input_exits_2_with_a_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert pakn_sla(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err


def test_unusable_config_dir_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert pakn_sla(["--received", FRIDAY, "--working-days", "1"], tmp_path) == 2
    assert "holidays.yaml" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["--received", FRIDAY],
        ["--received", FRIDAY, "--working-days", "1", "--category", "cay-xanh.x"],
        ["--working-days", "1"],
        ["--received", FRIDAY, "--working-days", "một"],
    ],
)
def test_argument_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        parser().parse_args(["sla", *argv])
    assert caught.value.code == 2
    assert "usage" in capsys.readouterr().err


def test_config_dir_defaults_to_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A province whose only correction makes Mon 23 Feb 2026 a day off.
    (tmp_path / "holidays.yaml").write_text(
        "days_off:\n  - {date: 2026-02-23, reason: thử nghiệm, source: test, verified: false}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("PAKN_CONFIG_DIR", str(tmp_path))
    argv = ["--received", FRIDAY, "--working-days", "1"]
    assert pakn_sla(argv, config_dir=None) == 0
    assert capsys.readouterr().out == "2026-02-24T16:00:00+07:00\n"
