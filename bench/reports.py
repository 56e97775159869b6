"""report: a year's report over 100 000 generated cases / one aggregation pass over the same
cases (a $match on the year and a $group by agency: the least any report must do).

The ratio shows what the report's work adds to reading the cases once in the store: a slow
expression, a missing index or a facet that re-reads the collection shows up as a larger
ratio. Cases are generated here (random but seeded) as the router stores them — the Case
and its report facts (pakn.report_facts) — written in large bulk batches to a fresh
embedded store, the indexes of pakn.store built after the load (faster than keeping them
up to date through it). Then, each as a ratio to the same pass: the year's report
for everyone and for one agency, the year as the page serves it once the router has counted
and kept it (pakn_router.reports.keeping) and its summary as XLSX, the year's list of late
cases as CSV and XLSX, and the router's backfill of report facts for the last 10 % of the
cases, stored without them as by an older version.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from bench.pipeline import free_port
from pakn.embedded import ensure_embedded_store
from pakn.ids import damm_check_digit
from pakn.report_facts import REPORT, report_facts
from pakn.reporting import Period, base_filter, build_report, case_list, count_and_keep, report_for
from pakn.schema import FIELDS, Case
from pakn.scope import Scope
from pakn.store import Document, Store
from pakn.territory import ProvinceConfig
from pakn.worktime import VIETNAM_TZ, WorkCalendar
from pakn_router.case_repository import backfill_report_facts
from pakn_router.reports.command import labels_for
from pakn_router.reports.export import cases_csv, cases_xlsx, report_xlsx
from pakn_router.reports.keeping import MAX_AGE

CONFIG = Path("deploy/config/khanh-hoa")
CASE_COUNT = int(os.environ.get("PAKN_BENCH_REPORT_CASES", "100000"))
YEAR = Period(date(2025, 1, 1), date(2025, 12, 31))
#: When the report is asked for (after the year).
NOW = datetime(2026, 1, 15, 2, 0, tzinfo=UTC)
CHANNELS = ("web", "app", "chatbot", "hotline", "email")
OPEN = ("triage", "assigned", "in_progress", "needs_info")
INSERT_BATCH = 5000
PATIENCE_MS = 600_000
#: The share of cases written without report facts, for the backfill to find.
WITHOUT_FACTS = 0.1


#: What a citizen writes, about the length of a real report: the stored cases are as large as
#: real ones, so reading them costs what it would.
CONTENT = (
    "Kính gửi cơ quan chức năng, tại khu vực trước số nhà 12 đường Trần Phú, phường Nha "
    "Trang, đèn chiếu sáng công cộng đã hỏng nhiều ngày, ban đêm rất tối, người dân đi lại "
    "khó khăn và lo ngại mất an ninh trật tự. Đề nghị cơ quan chức năng kiểm tra, sửa chữa "
    "sớm. Xin cảm ơn. "
) * 2


def generate(count: int, agencies: list[str], seed: int = 14) -> list[dict[str, Any]]:
    """Cases spread over the year, most resolved (some late, some reopened or returned),
    some open or overdue, a few rated: the shapes the report reads."""
    rng = random.Random(seed)
    terms = sorted(set(CONTENT.lower().replace(",", " ").replace(".", " ").split()))
    start = datetime(2025, 1, 1, tzinfo=VIETNAM_TZ).astimezone(UTC)
    cases = []
    for n in range(count):
        received = start + timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
        due = received + timedelta(days=rng.choice((1, 3, 7, 10)))
        roll = rng.random()
        history: list[dict[str, Any]] = [{"at": received, "actor": "router", "action": "assigned"}]
        channel = rng.choice(CHANNELS)
        doc: dict[str, Any] = {
            "submission_id": f"{channel}:{n:032x}",
            "tracking_code": f"{n:09d}" + damm_check_digit(f"{n:09d}"),
            "channel": channel,
            "channel_ref": f"bench-{n}",
            "received_at": received,
            "submitter": {"name": "Nguyễn Văn An", "phone": "+84905123456"},
            "content": CONTENT,
            "public_content": CONTENT,
            "search_terms": terms,
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


def with_facts(docs: list[dict[str, Any]], calendar: WorkCalendar) -> float:
    """Add each case's report facts as the router does; returns the seconds it took."""
    began = time.perf_counter()
    for doc in docs:
        doc[REPORT] = report_facts(Case.model_validate(doc), calendar)
    return time.perf_counter() - began


def _progress(text: str) -> None:
    print(f"  … {text}", file=sys.stderr, flush=True)


async def _timed(work: Callable[[], Awaitable[object]]) -> float:
    began = time.perf_counter()
    await work()
    return time.perf_counter() - began


async def bench_report() -> None:
    config = ProvinceConfig.load(CONFIG)
    calendar = WorkCalendar.from_config_dir(CONFIG)
    agencies = [agency.code for agency in config.agencies][:40]
    labels = labels_for(config)
    cases = generate(CASE_COUNT, agencies)
    older = int(len(cases) * (1 - WITHOUT_FACTS))
    facts_seconds = with_facts(cases[:older], calendar)
    with tempfile.TemporaryDirectory() as tmp:
        embedded = await ensure_embedded_store(free_port(), Path(tmp) / "db")
        # The driver's default heartbeat timeout (5 s) gives up on a store busy with the
        # load on a shared machine and cancels what is in flight: allow minutes here.
        client: AsyncMongoClient[Document] = AsyncMongoClient(
            embedded.url,
            tz_aware=True,
            tzinfo=UTC,
            connectTimeoutMS=PATIENCE_MS,
            serverSelectionTimeoutMS=PATIENCE_MS,
        )
        store = Store(client, "bench_reports")
        try:
            began = time.perf_counter()
            for i in range(0, len(cases), INSERT_BATCH):
                await store.cases.insert_many(cases[i : i + INSERT_BATCH], ordered=False)
            loaded = time.perf_counter() - began
            _progress(f"{len(cases)} cases written in {loaded:.0f} s")
            indexed = await _timed(store.ensure_indexes)
            _progress(f"indexes built in {indexed:.0f} s")
            backfill = await _timed(lambda: backfill_report_facts(store, calendar))
            _progress(f"backfill done in {backfill:.0f} s")

            async def baseline() -> None:
                cursor = await store.cases.aggregate(_baseline_pipeline(), allowDiskUse=True)
                await cursor.to_list()

            async def kept_report() -> None:
                await report_for(store, YEAR, now=NOW, max_age=MAX_AGE)

            async def summary_xlsx() -> None:
                report_xlsx(await report_for(store, YEAR, now=NOW, max_age=MAX_AGE), labels)

            async def late_csv_xlsx() -> None:
                rows = await case_list(store, YEAR, "late")
                cases_csv(rows)
                cases_xlsx(rows)

            base = statistics.median([await _timed(baseline) for _ in range(3)])
            _progress(f"one pass {base:.1f} s")
            everyone = min([await _timed(lambda: build_report(store, YEAR)) for _ in range(2)])
            _progress(f"the year's report {everyone:.1f} s")
            scoped = Scope(agencies[0])
            one = min(
                [await _timed(lambda: build_report(store, YEAR, scope=scoped)) for _ in range(2)]
            )
            # As the page serves it: counted by the router's refresher, then read back.
            await count_and_keep(store, YEAR, now=NOW)
            kept = min([await _timed(kept_report) for _ in range(3)])
            xlsx = await _timed(summary_xlsx)
            late = await _timed(late_csv_xlsx)
            report = await build_report(store, YEAR)
            agency_report = await build_report(store, YEAR, scope=Scope(agencies[0]))
            late_count = report.totals["late"]
        finally:
            await store.close()
            await embedded.stop()
    print(
        f"report:   {everyone / base:6.2f} × one aggregation pass   "
        f"[one agency: {one / base:.2f} ×, kept: {kept / base:.4f} ×, "
        f"summary XLSX (kept): {xlsx / base:.4f} ×, "
        f"late cases CSV+XLSX: {late / base:.2f} ×, backfill of {len(cases) - older} "
        f"cases: {backfill / base:.2f} ×]"
    )
    print(
        f"          a year's report over {report.totals['received']} cases in {everyone:.2f} s"
        f" (cases without facts: {report.without_facts}), one pass {base:.2f} s, one"
        f" agency's ({agency_report.totals['received']} cases) {one:.2f} s, the kept year"
        f" {kept * 1000:.0f} ms, its summary XLSX {xlsx * 1000:.0f} ms, {late_count} late"
        f" cases as CSV and XLSX {late:.2f} s;"
        f" backfill {backfill:.1f} s; facts of {older} cases computed in {facts_seconds:.1f} s,"
        f" bulk load {loaded:.0f} s, indexes after it {indexed:.0f} s (illustrative)"
    )


if __name__ == "__main__":
    asyncio.run(bench_report())
