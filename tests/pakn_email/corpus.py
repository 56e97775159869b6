"""The synthetic e-mail corpus under tests/data/email (see its README)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CORPUS_DIR = Path(__file__).parents[1] / "data" / "email"
OUR_ADDRESS = "pakn@khanhhoa.gov.vn"


@dataclass(frozen=True)
class CorpusMail:
    name: str
    raw: bytes
    expected: dict[str, Any]

    @property
    def outcome(self) -> str:
        outcome: str = self.expected["outcome"]
        return outcome


def load_corpus() -> list[CorpusMail]:
    return [
        CorpusMail(
            path.stem,
            path.read_bytes(),
            yaml.safe_load(path.with_suffix(".yaml").read_text("utf-8")),
        )
        for path in sorted(CORPUS_DIR.glob("[0-9][0-9]-*.eml"))
    ]
