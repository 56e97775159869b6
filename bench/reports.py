"""report: the whole report of a year over 100 000 generated cases / one aggregation pass over
the same cases (a $match on the year and a $group by agency: the least any report must do).

The ratio shows what the report's work adds to reading the cases once in the store: a slow
expression, a missing index or a facet that re-reads the collection shows up as a larger
ratio. Cases are generated here (random but seeded), written in bulk to a fresh embedded
store, and the indexes of pakn.store are in place, as in production.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pymongo.errors import BulkWriteError

from pakn.embedded import ensure_embedded_store
from pakn.reporting import Period, base_filter, build_report
from pakn.schema import FIELDS
from pakn.scope import Scope
from pakn.store import open_store
from pakn.territory import ProvinceConfig
from pakn.worktime import VIETNAM_TZ, WorkCalendar

CONFIG = Path("deploy/config/khanh-hoa")
CASE_COUNT = int(os.environ.get("PAKN_BENCH_REPORT_CASES", "100000"))
YEAR = Period(date(2025, 1, 1), date(2025, 12, 31))
NOW = datetime(2026, 1, 15, 9, 0, tzinfo=VIETNAM_TZ)
CHANNELS = ("web", "app", "chatbot", "hotline", "email")
OPEN = ("triage", "assigned", "in_progress", "needs_info")
DUPLICATE_KEY = 11000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def generate(count: int, agencies: list[str], seed: int = 14) -> list[dict[str, Any]]:
    """Cases spread over the year, most resolved (some late, some reopened or returned),
    some open or overdue, a few rated: the shapes the report reads."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=VIETNAM_TZ).astimezone(UTC)
    cases = []
    for n in range(count):
        received = start + timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
        due = received + timedelta(days=rng.choice((1, 3, 7, 10)))
        roll = rng.random()
        history: list[dict[str, Any]] = [{"at": received, "actor": "router", "action": "assigned"}]
        doc: dict[str, Any] = {
            "submission_id": f"bench:{n:032x}",
            "tracking_code": f"{n:010d}",
            "channel": rng.choice(CHANNELS),
            "received_at": received,
            "field": rng.choice(FIELDS),
            "lead_agency": rng.choice(agencies),
            "co_agencies": [rng.choice(agencies)] if rng.random() < 0.1 else [],
            "location": {"commune": f"Phường {rng.randrange(1, 66)}"},
            "due_at": due,
            "overdue": False,
            "sla": {"working_days": 5, "paused": []},
            "history": history,
        }
        if roll < 0.8:
            resolved = received + timedelta(hours=rng.randrange(1, 24 * 14))
            history.append({"at": resolved, "actor": "agency", "action": "resolved"})
            doc["status"] = "published" if rng.random() < 0.85 else "resolved"
            if doc["status"] == "published":
                doc["result"] = {"text": "…", "published_at": resolved + timedelta(hours=1)}
            if rng.random() < 0.05:
                history.insert(1, {"at": received, "actor": "agency", "action": "returned"})
            if rng.random() < 0.03:
                history.append({"at": resolved, "actor": "citizen", "action": "reopened"})
            if rng.random() < 0.1:
                pause_end = received + timedelta(hours=rng.randrange(1, 48))
                doc["sla"]["paused"] = [{"from": received, "to": min(pause_end, resolved)}]
            if rng.random() < 0.3:
                said = {"rating": rng.randrange(1, 6), "solved": rng.random() < 0.7}
                doc["citizen_feedback"] = [{"at": resolved, "submission_id": "web:0"} | said]
        elif roll < 0.95:
            doc["status"] = rng.choice(OPEN)
            doc["overdue"] = rng.random() < 0.4
            if doc["overdue"] and rng.random() < 0.3:
                doc["escalation"] = {"to": "ubnd-tinh", "reason": "quá hạn", "at": due}
        else:
            doc["status"] = rng.choice(("redirected", "duplicate"))
            doc["lead_agency"] = None
        cases.append(doc)
    return cases


def _baseline_pipeline() -> list[dict[str, Any]]:
    return [
        {"$match": base_filter(YEAR)},
        {"$group": {"_id": "$lead_agency", "n": {"$sum": 1}}},
    ]


async def bench_report() -> None:
    config = ProvinceConfig.load(CONFIG)
    calendar = WorkCalendar.from_config_dir(CONFIG)
    agencies = [agency.code for agency in config.agencies][:40]
    with tempfile.TemporaryDirectory() as tmp:
        embedded = await ensure_embedded_store(_free_port(), Path(tmp) / "db")
        store = open_store(embedded.url, database="bench_reports")
        try:
            await store.ensure_indexes()
            cases = generate(CASE_COUNT, agencies)
            began_insert = time.perf_counter()
            for i in range(0, len(cases), 1000):
                try:
                    await store.cases.insert_many(cases[i : i + 1000], ordered=False)
                except BulkWriteError as exc:
                    # A write retried after a slow answer finds its own cases already there.
                    if any(e["code"] != DUPLICATE_KEY for e in exc.details["writeErrors"]):
                        raise RuntimeError("could not write the generated cases") from None

            async def baseline() -> float:
                began = time.perf_counter()
                cursor = await store.cases.aggregate(_baseline_pipeline(), allowDiskUse=True)
                await cursor.to_list()
                return time.perf_counter() - began

            async def report(scope: Scope) -> tuple[float, int]:
                began = time.perf_counter()
                built = await build_report(store, calendar, YEAR, now=NOW, scope=scope)
                return time.perf_counter() - began, built.totals["received"]

            inserted = time.perf_counter() - began_insert
            base = statistics.median([await baseline() for _ in range(3)])
            # Each report of a year takes minutes on the embedded store: two runs, and one for
            # an agency (its cases found by index, so far fewer).
            everyone = [await report(Scope()) for _ in range(2)]
            one = [await report(Scope(agencies[0])) for _ in range(2)]
        finally:
            await store.close()
            await embedded.stop()
    measured = min(t for t, _ in everyone)
    scoped = min(t for t, _ in one)
    print(
        f"report:   {measured / base:6.1f} × one aggregation pass   "
        f"[one agency: {scoped / base:.2f} ×]"
    )
    print(
        f"          a year's report over {everyone[0][1]} cases in {measured:.1f} s, one pass"
        f" {base:.2f} s, one agency's ({one[0][1]} cases) {scoped:.2f} s; writing them took"
        f" {inserted:.0f} s (illustrative)"
    )


if __name__ == "__main__":
    asyncio.run(bench_report())
