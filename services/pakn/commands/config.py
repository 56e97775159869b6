"""`pakn config check`: validate the province folder and say what is wrong, with file and line."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from pakn import territory
from pakn.province import ConfigError, ConfigProblem, load_model
from pakn.safety import SAFETY_FILE, SafetyRules
from pakn.settings import CoreSettings
from pakn.sla import SlaPolicy
from pakn.streets import STREETS_FILE, StreetTable
from pakn.worktime import HolidayCorrections, WorkCalendar

#: One check per province file; each returns what is wrong (empty when fine).
Check = Callable[[Path], list[ConfigProblem]]


def _check_model(
    filename: str, model: type[HolidayCorrections] | type[SlaPolicy] | type[SafetyRules]
) -> Check:
    def check(config_dir: Path) -> list[ConfigProblem]:
        try:
            load_model(config_dir / filename, model)
        except ConfigError as exc:
            return exc.problems
        return []

    return check


def _redundant_holidays(config_dir: Path) -> list[ConfigProblem]:
    """A correction the `holidays` package already agrees with is noise that hides real ones."""
    try:
        calendar = WorkCalendar.from_config_dir(config_dir)
    except ConfigError:
        return []  # already reported by the model check
    return [
        ConfigProblem(config_dir / "holidays.yaml", None, f"changes nothing: {finding}")
        for finding in calendar.redundant_corrections()
    ]


def _streets(config_dir: Path) -> list[ConfigProblem]:
    """streets.yaml names wards of localities.yaml: checked once those load."""
    try:
        StreetTable.from_config_dir(config_dir, territory.load(config_dir))
    except ConfigError as exc:
        if all(problem.file.name == STREETS_FILE for problem in exc.problems):
            return exc.problems
    return []


CHECKS: list[Check] = [
    _check_model("holidays.yaml", HolidayCorrections),
    _redundant_holidays,
    _check_model("sla.yaml", SlaPolicy),
    _check_model(SAFETY_FILE, SafetyRules),
    # agencies, localities, categories, routing: each file, then across files (and sla.yaml)
    territory.check,
    _streets,
]


def check_province(config_dir: Path) -> list[ConfigProblem]:
    """Everything wrong in the province folder."""
    if not config_dir.is_dir():
        return [ConfigProblem(config_dir, None, "province folder does not exist")]
    return [problem for check in CHECKS for problem in check(config_dir)]


def run(args: argparse.Namespace) -> int:
    config_dir: Path = args.config_dir or CoreSettings().config_dir
    problems = check_province(config_dir)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) in {config_dir}")
        return 1
    print(f"{config_dir}: OK")
    return 0


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    config = subparsers.add_parser("config", help="province configuration")
    actions = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    check = actions.add_parser("check", help="validate the province folder (file and line)")
    check.add_argument("--config-dir", type=Path, default=None, help="default: PAKN_CONFIG_DIR")
    check.set_defaults(func=run)
