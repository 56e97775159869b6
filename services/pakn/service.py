"""The plug-in point: each service package registers itself under entry-point group
``pakn.services``, so the core never imports a service (DESIGN.md §3)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points

ENTRY_POINT_GROUP = "pakn.services"


def _always() -> str | None:
    return None


def _nowhere() -> Listen | None:
    return None


@dataclass(frozen=True)
class Listen:
    """Where a service listens, and the variable that moves it (named when the port is busy)."""

    host: str
    port: int
    variable: str

    @property
    def health_url(self) -> str:
        return f"http://{self.host}:{self.port}/healthz"


@dataclass(frozen=True)
class ServiceSpec:
    """How the CLI and the `pakn up` supervisor run one service."""

    name: str
    summary: str
    #: Runs the service in the foreground until SIGINT/SIGTERM; reads its own settings.
    main: Callable[[], None]
    #: The URL `pakn up` prints for people (None for a service with nothing to open).
    url: Callable[[], str | None]
    #: Why `pakn up` should not start it (e.g. no IMAP host configured), or None.
    skip_reason: Callable[[], str | None] = field(default=_always)
    #: Its HTTP port: `pakn up` checks it is free before starting anything, and waits for
    #: its /healthz before saying the stack is ready.
    listen: Callable[[], Listen | None] = field(default=_nowhere)
    #: Lower starts first (the router before the channels that feed it).
    order: int = 50
    #: Adds the service's own sub-subcommands (`pakn email reconcile`); each sets ``func``.
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None


def discover_services() -> dict[str, ServiceSpec]:
    """Every installed service, by name, in start order."""
    found: list[ServiceSpec] = []
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        spec = entry.load()
        if not isinstance(spec, ServiceSpec):
            raise TypeError(f"entry point {entry.name!r} is not a ServiceSpec")
        found.append(spec)
    return {spec.name: spec for spec in sorted(found, key=lambda s: (s.order, s.name))}
