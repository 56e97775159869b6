"""`make bench`: the router's costs as ratios against baselines measured in the same run.

These machines are noisy, so no absolute number is a target: each figure is divided by a
baseline doing the unavoidable part of the same work, measured minutes apart on the same
machine. Wall-clock seconds are printed too, as illustration only.

- classify: Classifier.classify per text / accent-folding the same text (the least any
  keyword matcher must do).
- safety:   the emergency check (pakn.safety) per text / accent-folding the same text.
- route:    the router taking N submissions from the broker to stored cases with confirmed
  events / (the broker alone carrying the same N messages to a consumer that acks them +
  the store alone upserting N case documents in bulk): what routing adds to the
  unavoidable work. The embedded store is slow per write, so it dominates both sides.
- memory:   peak Python allocations while loading the classifier / parsing the YAML alone.
- report:   a year's report over 100 000 generated cases / one aggregation pass over the
  same cases (bench/reports.py).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import aio_pika
from pymongo import UpdateOne

from bench import pipeline
from bench.pipeline import free_port, healthy, make_vhost, submission, with_database
from bench.reports import bench_report
from pakn.bus import SUBMISSIONS_QUEUE, Bus, declare_topology
from pakn.embedded import ensure_embedded_store
from pakn.patterns import cut
from pakn.phrases import words
from pakn.province import read_yaml
from pakn.safety import load_safety
from pakn.store import open_store
from pakn.text import fold
from pakn_router.classify import Classifier

CONFIG = Path("deploy/config/khanh-hoa")
CORPUS = Path("tests/data/corpus.yaml")
ROUTE_COUNT = 2000


def _best_of(runs: int, work: object) -> float:
    assert callable(work)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def _forget_texts() -> None:
    # Each run must read the texts afresh, as the router reads each report once: the
    # per-text caches (shared by the classifier's steps) would otherwise answer from memory.
    words.cache_clear()
    cut.cache_clear()


def _against_fold(label: str, per_text: Callable[[str], object], what: str) -> None:
    """Prints ``per_text`` over the corpus texts as a ratio to folding the same texts."""
    texts = corpus_texts()

    def measured_all() -> None:
        _forget_texts()
        for text in texts:
            per_text(text)

    def fold_all() -> None:
        for text in texts:
            fold(text)

    baseline = _best_of(5, fold_all)
    measured = _best_of(5, measured_all)
    print(
        f"{label + ':':9} {measured / baseline:6.1f} × fold   "
        f"({measured / len(texts) * 1e3:.3f} ms a text over {len(texts)} corpus texts; {what})"
    )


def bench_classify() -> None:
    _against_fold("classify", Classifier.from_config_dir(CONFIG).classify, "illustrative")


def bench_safety() -> None:
    _against_fold("safety", load_safety(CONFIG).assess, "the emergency check of every channel")


def bench_memory() -> None:
    tracemalloc.start()
    for name in ("agencies", "localities", "categories", "routing", "sla"):
        read_yaml(CONFIG / f"{name}.yaml")
    _, yaml_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    tracemalloc.start()
    Classifier.from_config_dir(CONFIG)
    _, classifier_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"memory:   {classifier_peak / yaml_peak:6.1f} × YAML parse "
        f"(classifier peak {classifier_peak / 2**20:.1f} MiB)"
    )


async def _broker_baseline(url: str, count: int) -> float:
    """The same number of messages published with confirms, consumed and acked, no work."""
    async with Bus(url, name="bench-baseline") as bus:
        submissions = [submission(n) for n in range(count)]
        done = asyncio.Event()
        seen = 0

        async def ack(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal seen
            await message.ack()
            seen += 1
            if seen == count:
                done.set()

        consumer = await bus.consume(SUBMISSIONS_QUEUE, ack, prefetch=200)
        start = time.perf_counter()
        await asyncio.gather(*(bus.publish_submission(s, timeout=60) for s in submissions))
        await asyncio.wait_for(done.wait(), 300)
        elapsed = time.perf_counter() - start
        await consumer.cancel()
        return elapsed


async def _store_baseline(mongodb_url: str, count: int) -> float:
    """Storing the same number of case-sized documents once, in bulk upserts of 100."""
    store = open_store(mongodb_url, database="bench_baseline")
    await store.ensure_indexes()
    texts = corpus_texts()
    docs = [
        {
            "submission_id": f"web:{n:032x}",
            "tracking_code": f"{n:010d}",
            "content": texts[n % len(texts)],
            "search_terms": fold(texts[n % len(texts)]).split()[:80],
        }
        for n in range(count)
    ]
    start = time.perf_counter()
    for first in range(0, count, 100):
        await store.cases.bulk_write(
            [
                UpdateOne({"submission_id": d["submission_id"]}, {"$setOnInsert": d}, upsert=True)
                for d in docs[first : first + 100]
            ],
            ordered=False,
        )
    elapsed = time.perf_counter() - start
    await store.client.drop_database("bench_baseline")
    await store.close()
    return elapsed


async def _router_run(url: str, mongodb_url: str, count: int, var: Path) -> float:
    texts = corpus_texts()
    store = open_store(mongodb_url, database="bench")
    await store.client.drop_database("bench")
    async with Bus(url, name="bench-publisher") as bus:
        submissions = [submission(n, texts[n % len(texts)]) for n in range(count)]
        env = {
            **os.environ,
            "PAKN_AMQP_URL": url,
            "PAKN_MONGODB_URL": with_database(mongodb_url, "bench"),
            "PAKN_ROUTER_PORT": str(free_port()),
            "PAKN_VAR_DIR": str(var),
            "PAKN_LOG_LEVEL": "WARNING",
        }
        router = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "pakn", "router", env=env
        )
        try:
            await healthy(f"http://127.0.0.1:{env['PAKN_ROUTER_PORT']}/healthz")
            start = time.perf_counter()
            await asyncio.gather(*(bus.publish_submission(s, timeout=60) for s in submissions))
            ids = [s.submission_id for s in submissions]
            elapsed = await pipeline.wait_stored(store.cases, "submission_id", ids) - start
        finally:
            router.terminate()
            await router.wait()
    await store.client.drop_database("bench")
    await store.close()
    return elapsed


async def bench_route() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        embedded = await ensure_embedded_store(free_port(), Path(tmp) / "db")
        vhost = make_vhost()
        url = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
        try:
            connection = await aio_pika.connect(url)
            async with connection:
                await declare_topology(await connection.channel())
            broker = statistics.median([await _broker_baseline(url, ROUTE_COUNT) for _ in range(2)])
            storage = await _store_baseline(embedded.url, ROUTE_COUNT)
            measured = await _router_run(url, embedded.url, ROUTE_COUNT, Path(tmp) / "var")
        finally:
            await embedded.stop()
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False)
    print(
        f"route:    {measured / (broker + storage):6.1f} × (broker + one bulk store write)   "
        f"[{measured / broker:.1f} × broker alone]"
    )
    print(
        f"          {ROUTE_COUNT / measured:.0f} cases/s routed, stored and announced; the store"
        f" alone takes {storage / ROUTE_COUNT * 1e3:.1f} ms a case (illustrative)"
    )


def corpus_texts() -> list[str]:
    """The labelled corpus's texts (read as data: bench/ uses no test code)."""
    import yaml

    items = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    return [" ".join(filter(None, [item.get("title"), item["content"]])) for item in items]


def main() -> None:
    print(__doc__.splitlines()[0] if __doc__ else "")
    bench_classify()
    bench_safety()
    bench_memory()
    asyncio.run(bench_route())
    asyncio.run(bench_report())
    asyncio.run(pipeline.run())


if __name__ == "__main__":
    main()
