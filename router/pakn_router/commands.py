"""`pakn classify`: the router's own classifier from a shell (DESIGN.md §3)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from pakn.province import ConfigError
from pakn.settings import CoreSettings
from pakn_router.classification import Classification
from pakn_router.classify import Classifier

#: The folder cannot be used, as argparse exits on bad arguments.
EXIT_USAGE = 2


def as_output(classification: Classification) -> dict[str, Any]:
    """The printed object: the contract's keys and extras (Classification.as_json) and notes."""
    return {**classification.as_json(), "notes": list(classification.notes)}


def _print(classification: Classification, out: TextIO) -> None:
    out.write(json.dumps(as_output(classification), ensure_ascii=False) + "\n")
    out.flush()  # one answer per line as it is ready, for a shell loop or a pipe


def run(args: argparse.Namespace) -> int:
    """Classify TEXT, or each line of standard input; 2 with a message if the folder is bad."""
    config_dir: Path = args.config_dir if args.config_dir is not None else CoreSettings().config_dir
    try:
        classifier = Classifier.from_config_dir(config_dir)
    except ConfigError as exc:
        print(f"pakn classify: cannot use {config_dir}:\n{exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.text is not None:
        _print(classifier.classify(args.text, title=args.title, address=args.address), sys.stdout)
        return 0
    for line in sys.stdin:
        text = line.rstrip("\r\n")
        _print(classifier.classify(text, title=args.title, address=args.address), sys.stdout)
    return 0


def add_classify_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``pakn classify`` (entry point ``pakn.commands``)."""
    parser = subparsers.add_parser(
        "classify",
        help="print the router's routing decision for a text (JSON)",
        description=(
            "Print what the router would decide for a citizen's text: field, category, lead "
            "and co-agencies, locality, priority, working days and assign | triage | redirect, "
            "with the phrases that decided, as one JSON object. Without TEXT, read one text "
            "per line from standard input and print one JSON object per line."
        ),
    )
    parser.add_argument("text", nargs="?", metavar="TEXT", help="default: one text per line")
    parser.add_argument("--address", metavar="ADDR", help="the address box of the form")
    parser.add_argument("--title", help="the title of the submission, if it has one")
    parser.add_argument(
        "--config-dir",
        type=Path,
        default=None,
        help="province folder (default: PAKN_CONFIG_DIR or deploy/config/khanh-hoa)",
    )
    parser.set_defaults(func=run)
