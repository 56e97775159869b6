"""`pakn report --from DATE --to DATE [--agency CODE] --format json|csv|xlsx` (DESIGN.md §3)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from pymongo.errors import PyMongoError

from pakn.province import ConfigError
from pakn.reporting import Period, report_for
from pakn.scope import Scope
from pakn.settings import CoreSettings
from pakn.store import connect_store
from pakn.territory import ProvinceConfig
from pakn_router.monitor.views import Names
from pakn_router.reports.export import Labels, report_csv, report_xlsx
from pakn_router.reports.keeping import MAX_AGE

EXIT_USAGE = 2
EXIT_STORE = 3


def _fail(message: str, code: int = EXIT_USAGE) -> int:
    print(f"pakn report: {message}", file=sys.stderr)
    return code


def labels_for(config: ProvinceConfig) -> Labels:
    names = Names(config)
    return Labels(
        agency=lambda code: names.agency(code) or code,
        field=lambda code: names.field(code) or code,
    )


async def _report_bytes(args: argparse.Namespace, settings: CoreSettings, period: Period) -> bytes:
    config = ProvinceConfig.load(settings.config_dir)
    store = await connect_store(settings, appname="pakn-report")
    try:
        report = await report_for(
            store, period, now=datetime.now(UTC), max_age=MAX_AGE, scope=Scope(args.agency)
        )
    finally:
        await store.close()
    if report.counted_at is not None:
        print(f"pakn report: as counted at {report.counted_at.isoformat()}", file=sys.stderr)
    if report.without_facts:
        print(
            f"pakn report: {report.without_facts} case(s) stored without report facts are"
            " counted as received only; the router writes them at its start",
            file=sys.stderr,
        )
    if args.format == "json":
        return (json.dumps(report.as_json(), ensure_ascii=False) + "\n").encode()
    labels = labels_for(config)
    return report_csv(report, labels) if args.format == "csv" else report_xlsx(report, labels)


def run(args: argparse.Namespace) -> int:
    """Print the report (json, csv) or write it (xlsx: to --output, or to a pipe)."""
    try:
        period = Period(date.fromisoformat(args.start), date.fromisoformat(args.end))
    except ValueError as exc:
        return _fail(f"--from/--to: {exc} (dates as YYYY-MM-DD, in province time)")
    if args.format == "xlsx" and args.output is None and sys.stdout.isatty():
        return _fail("an XLSX file is binary: give --output FILE or redirect to a file")
    settings = CoreSettings()
    if args.config_dir is not None:
        settings = settings.model_copy(update={"config_dir": args.config_dir})
    try:
        body = asyncio.run(_report_bytes(args, settings, period))
    except ConfigError as exc:
        return _fail(f"cannot use {settings.config_dir}:\n{exc}")
    except PyMongoError as exc:
        return _fail(f"the store does not answer: {exc}", EXIT_STORE)
    if args.output is not None:
        args.output.write_bytes(body)
    else:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
    return 0


def add_report_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``pakn report`` (entry point ``pakn.commands``)."""
    parser = subparsers.add_parser(
        "report",
        help="figures of a period: received, on time, late, open, overdue (json, csv or xlsx)",
        description=(
            "The report of a period over the stored cases: received by channel, field, "
            "agency and commune; resolved on time and late, open and overdue, escalated, "
            "returned, reopened; handling time in working days; ratings. Dates are days in "
            "province time, --to inclusive."
        ),
    )
    parser.add_argument("--from", dest="start", required=True, metavar="DATE")
    parser.add_argument("--to", dest="end", required=True, metavar="DATE")
    parser.add_argument("--agency", metavar="CODE", help="one agency's own cases (lead or co)")
    parser.add_argument("--format", choices=("json", "csv", "xlsx"), default="json")
    parser.add_argument("--output", type=Path, metavar="FILE", help="write here, not to stdout")
    parser.add_argument(
        "--config-dir",
        type=Path,
        default=None,
        help="province folder (default: PAKN_CONFIG_DIR or deploy/config/khanh-hoa)",
    )
    parser.set_defaults(func=run)
