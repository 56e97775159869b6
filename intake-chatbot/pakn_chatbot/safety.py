"""The emergency check of a chat message: the core's detector (pakn.safety), the same answer
the router and the hotline get, turned into what the citizen reads first."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pakn.safety import SafetyDetector, assess, load_safety


@dataclass(frozen=True)
class EmergencyAdvisor:
    detector: SafetyDetector

    @classmethod
    def from_config_dir(cls, config_dir: Path) -> EmergencyAdvisor:
        return cls(load_safety(config_dir))

    def __call__(self, text: str) -> tuple[str, ...]:
        """The advice of every emergency the text describes (none for a mere risk)."""
        verdict = assess(text, self.detector)
        return verdict.advice if verdict.emergency else ()
