"""Loading the province folder (DESIGN.md §8): YAML validated by pydantic, errors with lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

# libyaml's loader is about 8x faster on the province files; same safe semantics.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong in the province folder, pointing at the file and line to fix."""

    file: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        return f"{where}: {self.message}"


class ConfigError(Exception):
    """The province folder cannot be used; `problems` says where and why."""

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def _line_of(node: yaml.Node | None, loc: Sequence[int | str]) -> int | None:
    """The 1-based line of the YAML node at a pydantic error location (closest parent)."""
    if node is None:
        return None
    line: int = node.start_mark.line + 1
    for key in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == key:
                    child = value_node
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            child = node.value[key]
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


def read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """The data and the node tree (for line numbers) of one YAML file."""
    text = path.read_text(encoding="utf-8")
    try:
        return yaml.load(text, Loader=_Loader), yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError([ConfigProblem(path, line, f"not valid YAML: {exc}")]) from exc


def load_model(path: Path, model: type[M]) -> M:
    """Parse one YAML file into ``model``; every problem is reported with its line."""
    if not path.exists():
        raise ConfigError([ConfigProblem(path, None, "file is missing")])
    data, root = read_yaml(path)
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        problems = [
            ConfigProblem(
                path,
                _line_of(root, err["loc"]),
                f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}",
            )
            for err in exc.errors()
        ]
        raise ConfigError(problems) from exc


def line_of(path: Path, loc: Sequence[int | str]) -> int | None:
    """The line of a location in a file that already parsed (for cross-file checks)."""
    try:
        _, root = read_yaml(path)
    except ConfigError:
        return None
    return _line_of(root, loc)
