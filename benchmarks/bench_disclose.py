"""Disclosure: how long a project's exports and its transparency report take, end to end.

Builds one SQLite workspace with a classification project of N items (default 5,000) and
overlap 3, worked by 60 workers across three jurisdictions and two vendors through the real
services (routing and idempotent submissions, so pay events, time and the ledger are what
real work writes), then times, for R runs each (median reported):

- ``export --format jsonl`` and ``--format parquet`` (every item, label, soft label and every
  answer's provenance), ``--format croissant`` (Parquet files, sha256, JSON-LD with the RAI
  properties from ``facts.gather``) and ``--format hf`` (a ``datasets`` folder and its card);
- ``report`` (``facts.gather``, the scorecards, HTML and Markdown, the ledger event).

The peers are measured in the same run on the same records, already built in memory: Hugging
Face ``datasets`` writing them as JSON Lines (``Dataset.from_list(...).to_json``) and pyarrow
writing the flat rows as Parquet (``pq.write_table``). Ours reads from the database, computes
labels (Dawid-Skene), soft labels and pseudonyms and records a ledger event; the peers only
serialise. The ratio is therefore our end-to-end time over the peer's serialisation time:
the price of building the records, not a speed-up. No peer writes a transparency report;
that figure is reported alone. The last line printed is one JSON object with every figure.

Usage: python benchmarks/bench_disclose.py [--items 5000] [--runs 3]
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from handloom.disclose.dataset import export_dataset, flat_row, iter_export_records
from handloom.disclose.report import write_report
from handloom.labor import floors
from handloom.store.db import Store
from handloom.work import accounts, projects, routing, submissions
from handloom.work.importing import import_items
from handloom.workspace import init_workspace, open_store

LABELS = ["toxic", "not_toxic", "unsure"]
SEED = 20261123


def build(root: Path, n_items: int, n_workers: int = 60) -> Store:
    """A worked project: every item answered three times through the real services."""
    workspace, _ = init_workspace(root)
    store = open_store(workspace)
    rng = random.Random(SEED)
    items_file = root / "items.jsonl"
    items_file.write_text("".join(json.dumps({"id": f"c{i}", "text": f"comment {i}"}) + "\n"
                                  for i in range(n_items)), encoding="utf-8")
    places = ("US", "KE", "PH")
    with store.write() as conn:
        floors.import_rows(conn, [
            {"jurisdiction": "US", "currency": "USD", "hourly": "7.25", "source": "bench",
             "effective_date": "2024-01-01"},
            {"jurisdiction": "KE", "currency": "USD", "hourly": "0.53", "source": "bench",
             "effective_date": "2024-01-01"},
            {"jurisdiction": "PH", "currency": "USD", "hourly": "1.50", "source": "bench",
             "effective_date": "2024-01-01"}], source="bench", actor="bench")
        projects.create_project(conn, projects.parse_spec({
            "name": "bench", "kind": "classification", "labels": LABELS, "overlap": 3,
            "terms_required": False, "content_categories": ["hate"],
            "pay": {"model": "piece", "piece_rate": "0.05", "currency": "USD",
                    "est_seconds_per_item": 10, "jurisdictions": list(places)},
            "disclosure": {"license": "CC-BY-4.0"}}), actor="bench")
        workers = [accounts.add_worker(conn, f"bench-{i}", jurisdiction=places[i % 3],
                                       vendor=("Vendor A", "Vendor B", None)[i % 3],
                                       actor="bench") for i in range(n_workers)]
    import_items(store, "bench", str(items_file), actor="bench")
    truth = {f"c{i}": rng.choice(LABELS) for i in range(n_items)}
    active = list(workers)
    while active:
        with store.write() as conn:
            project = routing.load_project(conn, "bench")
            kind = projects.kind_of(project)
            for w in list(active):
                for _ in range(25):
                    lease = routing.next_item(conn, project, w)
                    if lease is None:
                        active.remove(w)
                        break
                    label = (truth[lease.external_id] if rng.random() < 0.8
                             else rng.choice(LABELS))
                    submissions.submit_answer(conn, project, kind, w, lease.assignment_id,
                                              {"label": label},
                                              idempotency_key=f"b-{lease.assignment_id}",
                                              active_seconds=rng.uniform(4, 20))
    return store


def timed(fn: Callable[[], Any], runs: int) -> float:
    """Median wall seconds of *runs* calls, after one untimed call (imports, caches)."""
    fn()
    values = []
    for _ in range(runs):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        values.append(time.perf_counter() - t0)
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = max(1, args.runs)
    with tempfile.TemporaryDirectory(prefix="hl-bench-disclose-") as tmp_name:
        tmp = Path(tmp_name)
        t0 = time.perf_counter()
        store = build(tmp / "ws", args.items)
        print(f"built a worked project of {args.items:,} items in "
              f"{time.perf_counter() - t0:.1f} s")
        counter = iter(range(10**6))

        def export(fmt: str) -> Callable[[], Any]:
            def run() -> Any:
                suffix = f".{fmt}" if fmt in ("jsonl", "parquet") else ""
                out = tmp / f"out-{next(counter)}{suffix}"
                result = export_dataset(store, "bench", fmt, out, actor="bench")
                if result.items != args.items:
                    raise SystemExit(f"{fmt}: {result.items} items exported")
                if out.is_dir():
                    shutil.rmtree(out)
                else:
                    out.unlink()
            return run

        figures: dict[str, Any] = {"items": args.items, "runs": runs}
        formats = ["jsonl", "parquet", "croissant"]
        if importlib.util.find_spec("datasets") is not None:
            formats.append("hf")
        for fmt in formats:
            figures[f"{fmt}_seconds"] = timed(export(fmt), runs)

        def report() -> None:
            out = tmp / f"report-{next(counter)}"
            write_report(store, "bench", out, actor="bench")
            shutil.rmtree(out)

        figures["report_seconds"] = timed(report, runs)

        # the peers, on the same records built once in memory
        with store.read() as conn:
            records = list(iter_export_records(conn, projects.get_project(conn, "bench")))
        rows = [flat_row(r) for r in records]
        import pyarrow as pa
        import pyarrow.parquet as pq

        def arrow_peer() -> None:
            pq.write_table(pa.Table.from_pylist(rows), tmp / "peer.parquet")

        figures["peer_pyarrow_parquet_seconds"] = timed(arrow_peer, runs)
        if importlib.util.find_spec("datasets") is not None:
            import datasets

            datasets.disable_progress_bars()

            def hf_peer() -> None:
                datasets.Dataset.from_list(rows).to_json(str(tmp / "peer.jsonl"))

            figures["peer_datasets_jsonl_seconds"] = timed(hf_peer, runs)
        store.dispose()

    print(f"\n{'operation':<28}{'ours (s)':>10}{'items/s':>10}{'peer (s)':>10}{'ratio':>8}")
    pairs = {"jsonl": "peer_datasets_jsonl_seconds", "parquet": "peer_pyarrow_parquet_seconds"}
    for name in [*formats, "report"]:
        ours = figures[f"{name}_seconds"]
        peer = figures.get(pairs.get(name, ""))
        ratio = f"{ours / peer:.1f}x" if peer else "-"
        peer_text = f"{peer:.3f}" if peer else "-"
        label = f"export {name}" if name != "report" else "report (html + md)"
        print(f"{label:<28}{ours:>10.3f}{args.items / ours:>10,.0f}{peer_text:>10}{ratio:>8}")
        if peer:
            figures[f"{name}_ratio_to_peer"] = round(ours / peer, 2)
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v
                      for k, v in figures.items()}))


if __name__ == "__main__":
    main()
