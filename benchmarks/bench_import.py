"""Bulk import: N short text items from one JSONL file into a SQLite workspace, end to end.

Generates N items (default 1,000,000) like ``{"id": "c123", "text": "a short comment"}`` into
a temporary JSONL file (deterministic seed), then for each run creates a fresh SQLite
workspace with a classification project and times ``import_items`` on the file path, with a
progress callback, exactly as ``handloom import PROJECT FILE`` calls it. The median of the
runs is reported in items/s and seconds.

The peer is a raw baseline measured in the same run: ``json.loads`` of every line and
``sqlite3`` ``executemany`` of (id, text) into a bare two-column table, one transaction: the
floor of what any Python tool can do with the same file. (Label Studio is not installed in
the benchmark environment; its import goes through Django's ORM and is not re-measured.)
The last line printed is one JSON object:

  {"items": 1000000, "seconds_median": …, "items_per_s": …, "baseline_seconds_median": …,
   "ratio_to_baseline": …, "target_seconds": 60, "met": true}

Usage: python benchmarks/bench_import.py [--items 1000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from handloom.store.schema import items
from handloom.work import projects
from handloom.work.importing import import_items
from handloom.workspace import init_workspace, open_store

TARGET_SECONDS = 60.0
SEED = 20240611

WORDS = (
    "the a this that my your our great terrible awful lovely fine okay bad good product "
    "service delivery price quality support app update bug crash screen battery phone order "
    "refund package arrived late early broken works perfectly never again always love hate "
    "recommend avoid fast slow cheap expensive friendly rude helpful useless team staff food "
    "room hotel flight seat movie song book story ending plot actor really very so too quite "
    "not just still even honestly totally absolutely kind of pretty and but or because when "
    "after before thanks please why how what is was were are be been it they we you i me"
).split()
PUNCT = ("", "", "", ".", "!", "?", "...", " :)", " :(", "!!")


def generate(path: Path, n: int, seed: int = SEED) -> int:
    """Write *n* varied short comments as JSONL; returns the file's size in bytes."""
    rng = random.Random(seed)
    choice, randint = rng.choice, rng.randint
    with path.open("w", encoding="utf-8") as fh:
        lines = []
        for i in range(n):
            words = [choice(WORDS) for _ in range(randint(3, 14))]
            if rng.random() < 0.1:
                words.insert(randint(0, len(words)), f"#{randint(1, 999)}")
            text = " ".join(words)
            text = text[0].upper() + text[1:] + choice(PUNCT)
            if rng.random() < 0.03:
                text += " \u00e9t\u00e9 \u2014 \u00fcber \U0001f600"
            lines.append(json.dumps({"id": f"c{i}", "text": text}, ensure_ascii=False))
            if len(lines) >= 50000:
                fh.write("\n".join(lines) + "\n")
                lines.clear()
        if lines:
            fh.write("\n".join(lines) + "\n")
    return path.stat().st_size


def run_handloom(data_file: Path, tmp: Path, run: int, n: int) -> tuple[float, float]:
    """One timed import into a fresh workspace; returns wall and CPU seconds."""
    root = tmp / f"ws-{run}"
    workspace, _ = init_workspace(root)
    store = open_store(workspace)
    try:
        with store.write() as conn:
            spec = projects.parse_spec({"name": "comments", "kind": "classification",
                                        "labels": ["positive", "negative", "neutral"]})
            projects.create_project(conn, spec)
        seen: list[int] = []
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        result = import_items(store, "comments", str(data_file), actor="bench",
                              progress=seen.append)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        if result.imported != n:
            raise SystemExit(f"imported {result.imported} items, expected {n}")
        if not seen:
            raise SystemExit("the progress callback was never called")
        with store.read() as conn:
            stored = conn.execute(select(func.count()).select_from(items)).scalar_one()
            last = conn.execute(select(items.c.external_id, items.c.payload)
                                .order_by(items.c.id.desc()).limit(1)).one()
        if stored != n or last.external_id != f"c{n - 1}" or "text" not in last.payload:
            raise SystemExit(f"store check failed: {stored} rows, last {tuple(last)!r}")
    finally:
        store.dispose()
    return elapsed, cpu


def run_baseline(data_file: Path, tmp: Path, run: int) -> float:
    """json.loads of every line + sqlite3 executemany of (id, text): the raw floor."""
    db = tmp / f"baseline-{run}.sqlite3"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE items (external_id TEXT NOT NULL, text TEXT NOT NULL)")
    gc.collect()
    t0 = time.perf_counter()
    with data_file.open("rb") as fh:
        rows = []
        for line in fh:
            if line.strip():
                obj = json.loads(line)
                rows.append((obj["id"], obj["text"]))
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO items (external_id, text) VALUES (?, ?)", rows)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    conn.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000, help="items to import")
    parser.add_argument("--runs", type=int, default=3, help="timed runs (median reported)")
    args = parser.parse_args()
    n, runs = args.items, max(1, args.runs)

    with tempfile.TemporaryDirectory(prefix="hl-bench-import-") as tmp_name:
        tmp = Path(tmp_name)
        data_file = tmp / "comments.jsonl"
        t0 = time.perf_counter()
        size = generate(data_file, n)
        print(f"generated {n:,} items ({size / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s",
              flush=True)

        times: list[float] = []
        cpus: list[float] = []
        base: list[float] = []
        for run in range(runs):
            seconds, cpu = run_handloom(data_file, tmp, run, n)
            times.append(seconds)
            cpus.append(cpu)
            print(f"handloom run {run + 1}: {seconds:6.2f} s  {n / seconds:10,.0f} items/s  "
                  f"(CPU {cpu:.2f} s)", flush=True)
            b = run_baseline(data_file, tmp, run)
            base.append(b)
            print(f"baseline run {run + 1}: {b:6.2f} s  {n / b:10,.0f} items/s", flush=True)

    median = statistics.median(times)
    base_median = statistics.median(base)
    ratio = median / base_median
    if importlib.util.find_spec("label_studio") is not None:
        print("label_studio is importable but not driven here; the peer is the raw baseline")
    else:
        print("label_studio is not installed; the peer is the raw baseline")
    print(f"handloom: median {median:.2f} s, {n / median:,.0f} items/s "
          f"(target {TARGET_SECONDS:.0f} s: {'met' if median < TARGET_SECONDS else 'NOT met'})")
    print(f"baseline (json.loads + sqlite3 executemany): median {base_median:.2f} s, "
          f"{n / base_median:,.0f} items/s; handloom takes {ratio:.2f}x the baseline's time")
    print(json.dumps({"items": n, "runs": runs, "seconds_median": round(median, 3),
                      "items_per_s": round(n / median), "seconds_all": [round(t, 3) for t in times],
                      "cpu_seconds_median": round(statistics.median(cpus), 3),
                      "baseline_seconds_median": round(base_median, 3),
                      "ratio_to_baseline": round(ratio, 2), "target_seconds": TARGET_SECONDS,
                      "met": median < TARGET_SECONDS}))


if __name__ == "__main__":
    main()
