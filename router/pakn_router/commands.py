"""`pakn classify`: the router's own classifier from a shell (DESIGN.md §3)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any, TextIO

import yaml
from pymongo.errors import PyMongoError

from pakn.province import ConfigError
from pakn.settings import CoreSettings
from pakn.store import connect_store
from pakn.territory import load
from pakn_router.classification import Classification
from pakn_router.classify import Classifier
from pakn_router.learning import (
    MODEL_FILE,
    Example,
    corpus_examples,
    operator_examples,
    train,
)

#: What a retrain reads of a case an operator routed.
OPERATOR_PROJECTION = {"title": 1, "content": 1, "field": 1, "routing": 1, "redirect": 1}

#: The folder cannot be used, as argparse exits on bad arguments.
EXIT_USAGE = 2


def as_output(classification: Classification) -> dict[str, Any]:
    """The printed object: the contract's keys and extras (Classification.as_json) and notes."""
    return {**classification.as_json(), "notes": list(classification.notes)}


def _print(classification: Classification, out: TextIO) -> None:
    out.write(json.dumps(as_output(classification), ensure_ascii=False) + "\n")
    out.flush()  # one answer per line as it is ready, for a shell loop or a pipe


async def _operator_cases(settings: CoreSettings) -> list[dict[str, Any]]:
    store = await connect_store(settings, appname="pakn-classify", ensure_indexes=False)
    try:
        cursor = store.cases.find({"routing.method": "operator"}, OPERATOR_PROJECTION)
        return [doc async for doc in cursor]
    finally:
        await store.close()


def retrain(config_dir: Path, corpus: Path | None, cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Rebuild the field model file of ``config_dir``; the router reloads it by itself."""
    config = load(config_dir)
    corpus_items: list[Example] = []
    if corpus is not None:
        with corpus.open(encoding="utf-8") as stream:
            corpus_items = corpus_examples(yaml.safe_load(stream))
    model = train(config.categories, corpus_items, operator_examples(cases))
    target = config_dir / MODEL_FILE
    partial = target.with_suffix(".tmp")
    partial.write_text(model.dumps(), encoding="utf-8")
    partial.replace(target)  # atomic: a reader sees the old model or the new one
    return {"model": str(target), "sources": model.sources, "fields": len(model.fields)}


def run(args: argparse.Namespace) -> int:
    """Classify TEXT, or each line of standard input; 2 with a message if the folder is bad."""
    settings = CoreSettings()
    config_dir: Path = args.config_dir if args.config_dir is not None else settings.config_dir
    if args.retrain:
        try:
            cases = [] if args.no_store else asyncio.run(_operator_cases(settings))
            print(json.dumps(retrain(config_dir, args.corpus, cases), ensure_ascii=False))
        except (ConfigError, OSError, PyMongoError, yaml.YAMLError) as exc:
            print(f"pakn classify --retrain: {exc}", file=sys.stderr)
            return EXIT_USAGE
        return 0
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
    parser.add_argument(
        "--retrain",
        action="store_true",
        help=(
            "rebuild the learnt field model (field-model.json in the province folder) from "
            "the phrases, --corpus and every case an operator routed; the router reloads it"
        ),
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        default=None,
        help="with --retrain: a labelled corpus (tests/data/corpus.yaml format); its holdout "
        "items are left out",
    )
    parser.add_argument(
        "--no-store", action="store_true", help="with --retrain: without operators' decisions"
    )
    parser.set_defaults(func=run)
