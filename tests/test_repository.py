"""What a newcomer reads matches what exists: the README names only commands the CLI has, the
architecture document is in the repository and linked, and no script kills by name."""

from __future__ import annotations

import re
from pathlib import Path

from pakn.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
#: `pakn up`, `.venv/bin/pakn user add`, `pakn config check` (the first word is the command).
COMMAND = re.compile(r"(?:^|[\s`/])pakn ([a-z][a-z-]*)")


def _subcommands() -> set[str]:
    parser = build_parser()
    (commands,) = [a for a in parser._actions if a.dest == "command"]
    assert commands.choices is not None
    return set(commands.choices)


def test_the_readme_documents_only_commands_that_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    named = set(COMMAND.findall(readme))
    assert {"up", "db", "web", "router"} <= named
    assert named - _subcommands() == set()


def test_the_architecture_document_is_here_and_linked() -> None:
    assert (ROOT / "docs" / "ARCHITECTURE.md").is_file()
    readme = (ROOT / "README.md").read_text()
    assert "(docs/ARCHITECTURE.md)" in readme
    # The design brief is not in the repository: nothing may send a reader to it as a file.
    assert "](DESIGN.md" not in readme and "see DESIGN.md" not in readme


def test_no_script_kills_processes_by_name() -> None:
    scripts = [*(ROOT / "scripts").iterdir(), ROOT / "Makefile"]
    for path in scripts:
        text = path.read_text()
        assert not re.search(r"\b(pkill|killall)\b", text), path
