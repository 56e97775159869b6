"""The `pakn` command: core subcommands plus one per installed service (entry points)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points

from pakn.commands import config as config_command
from pakn.commands import demo as demo_command
from pakn.commands import sla as sla_command
from pakn.commands import user as user_command
from pakn.logs import configure_logging
from pakn.service import discover_services
from pakn.settings import CoreSettings

#: Subcommands service packages add (e.g. `pakn classify` from the router).
COMMANDS_ENTRY_POINT_GROUP = "pakn.commands"


def _run_up(args: argparse.Namespace) -> int:
    from pakn.supervisor import run_up

    settings = CoreSettings()
    configure_logging("up", settings.log_level)
    print("PAKN Gateway — starting the local stack:")
    return asyncio.run(run_up(settings, discover_services()))


def _run_db(args: argparse.Namespace) -> int:
    from pakn.embedded import serve_embedded_store

    settings = CoreSettings()
    configure_logging("db", settings.log_level)
    port = args.port or settings.db_port
    print(f"Embedded store on mongodb://127.0.0.1:{port}/ (data in {settings.db_dir}).")
    print("Ctrl-C stops it.")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_embedded_store(port, settings.db_dir))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pakn", description="PAKN Gateway — intake and routing of citizens' feedback."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = sub.add_parser("up", help="run the embedded store and every service (Ctrl-C stops)")
    up.set_defaults(func=_run_up)

    db = sub.add_parser("db", help="run the embedded store (SecantusDB) alone, in the foreground")
    db.add_argument("--port", type=int, default=None, help="default: PAKN_DB_PORT (27018)")
    db.set_defaults(func=_run_db)

    sla_command.add_parser(sub)
    config_command.add_parser(sub)
    demo_command.add_parser(sub)
    user_command.add_parser(sub)
    for entry in entry_points(group=COMMANDS_ENTRY_POINT_GROUP):
        entry.load()(sub)

    for spec in discover_services().values():
        service = sub.add_parser(spec.name, help=f"run the {spec.summary} service alone")
        service.set_defaults(func=lambda _args, spec=spec: spec.main() or 0)
        if spec.add_arguments is not None:
            spec.add_arguments(service)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `pakn classify < file | head` closes the pipe early; that is not an error.
        sys.stderr.close()
        return 0
