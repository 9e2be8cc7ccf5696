"""Dataset export: every item with its current label and every answer with its provenance.

Workers appear only as per-project pseudonyms; their ids, usernames and pay never leave.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from handloom import ledger
from handloom.disclose.privacy import pseudonym
from handloom.errors import Invalid
from handloom.store import schema
from handloom.store.db import Store, as_utc
from handloom.store.schema import items, vendors, workers
from handloom.work.projects import get_project, kind_of
from handloom.work.quality import aggregate_project

FORMATS = ("jsonl", "parquet")
BATCH = 2000


def _soft_label(kind: Any, answers: list[dict[str, Any]]) -> dict[str, float]:
    """Share of the counted answers behind each distinct answer (by its summary): the
    disagreement kept as data."""
    if not answers:
        return {}
    counts: dict[str, int] = {}
    for answer in answers:
        key = kind.summarize(answer)
        counts[key] = counts.get(key, 0) + 1
    return {k: round(v / len(answers), 6) for k, v in sorted(counts.items())}


def iter_export_records(conn: Connection, project: Any) -> Iterator[dict[str, Any]]:
    """One record per item, in id order, with the label (the reviewer's decision, else the
    project's aggregation method with its posterior confidence), the soft label (share of
    answers per distinct answer) and the individual answers."""
    kind = kind_of(project)
    run = aggregate_project(conn, project, apply=False)
    vendor_names = dict(conn.execute(select(vendors.c.id, vendors.c.name)).all())
    worker_info = {
        r.id: (r.role_class, vendor_names.get(r.vendor_id))
        for r in conn.execute(select(workers.c.id, workers.c.role_class, workers.c.vendor_id))
    }
    after = 0
    while True:
        batch = conn.execute(
            select(items)
            .where(items.c.project_id == project.id, items.c.id > after)
            .order_by(items.c.id)
            .limit(BATCH)
        ).all()
        if not batch:
            return
        after = batch[-1].id
        by_item: dict[int, list[Any]] = {}
        for ann in conn.execute(
            select(schema.annotations)
            .where(schema.annotations.c.item_id.in_([r.id for r in batch]))
            .order_by(schema.annotations.c.id)
        ):
            by_item.setdefault(ann.item_id, []).append(ann)
        for item in batch:
            anns = by_item.get(item.id, [])
            counted = [a.answer for a in anns if a.review_status != "rejected"]
            result = run.results.get(item.id)
            if item.final_answer is not None:
                final = {
                    "answer": item.final_answer,
                    "confidence": 1.0,
                    "method": "adjudicated",
                    "n_answers": len(anns),
                }
            elif result is not None:
                final = {
                    "answer": result[0],
                    "confidence": round(result[1], 6),
                    "method": run.method,
                    "n_answers": len(counted),
                }
            else:
                agg = kind.aggregate(counted)
                final = {
                    "answer": agg.answer,
                    "confidence": round(agg.confidence, 6),
                    "method": agg.method,
                    "n_answers": agg.n_answers,
                }
            yield {
                "id": item.external_id,
                "payload": item.payload,
                "sensitivity": item.sensitivity,
                "is_gold": item.is_gold,
                "label": final,
                "soft_label": _soft_label(kind, counted),
                "annotations": [
                    {
                        "worker": pseudonym(project.pseudonym_secret, a.worker_id),
                        "role_class": worker_info.get(a.worker_id, (None, None))[0],
                        "vendor": worker_info.get(a.worker_id, (None, None))[1],
                        "answer": a.answer,
                        "instruction_version": a.instruction_version,
                        "served_at": as_utc(a.served_at).isoformat(),
                        "submitted_at": as_utc(a.submitted_at).isoformat(),
                        "active_seconds": a.active_seconds,
                        "suggestion_shown": a.suggestion is not None,
                        "review_status": a.review_status,
                    }
                    for a in anns
                ],
            }


def _parquet_rows(records: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for r in records:
        yield {
            "id": r["id"],
            "payload": json.dumps(r["payload"], ensure_ascii=False),
            "sensitivity": r["sensitivity"],
            "is_gold": r["is_gold"],
            "label": json.dumps(r["label"]["answer"], ensure_ascii=False)
            if r["label"]["answer"] is not None
            else None,
            "confidence": r["label"]["confidence"],
            "method": r["label"]["method"],
            "n_answers": r["label"]["n_answers"],
            "soft_label": json.dumps(r["soft_label"], ensure_ascii=False),
            "annotations": [
                {**a, "answer": json.dumps(a["answer"], ensure_ascii=False)}
                for a in r["annotations"]
            ],
        }


def _parquet_schema() -> Any:
    import pyarrow as pa

    ann = pa.struct(
        [
            ("worker", pa.string()),
            ("role_class", pa.string()),
            ("vendor", pa.string()),
            ("answer", pa.string()),
            ("instruction_version", pa.int32()),
            ("served_at", pa.string()),
            ("submitted_at", pa.string()),
            ("active_seconds", pa.float64()),
            ("suggestion_shown", pa.bool_()),
            ("review_status", pa.string()),
        ]
    )
    return pa.schema(
        [
            ("id", pa.string()),
            ("payload", pa.string()),
            ("sensitivity", pa.list_(pa.string())),
            ("is_gold", pa.bool_()),
            ("label", pa.string()),
            ("confidence", pa.float64()),
            ("method", pa.string()),
            ("n_answers", pa.int32()),
            ("soft_label", pa.string()),
            ("annotations", pa.list_(ann)),
        ]
    )


def write_dataset(
    conn: Connection,
    project: Any,
    fmt: str,
    out: Path,
    *,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, str]:
    """Write the project's dataset to *out* from a read transaction; returns the number of
    items written and the file's SHA-256."""
    if fmt not in FORMATS:
        raise Invalid(
            f"Unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}.", field="format"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    records = iter_export_records(conn, project)
    count = 0
    if fmt == "jsonl":
        with out.open("w", encoding="utf-8") as fh:
            for record in records:
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
                if progress and count % BATCH == 0:
                    progress(count)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = _parquet_schema()
        with pq.ParquetWriter(out, schema) as writer:
            chunk: list[dict[str, Any]] = []
            for row in _parquet_rows(records):
                chunk.append(row)
                if len(chunk) >= BATCH:
                    writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
                    count += len(chunk)
                    chunk = []
                    if progress:
                        progress(count)
            if chunk or count == 0:
                writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
                count += len(chunk)
    digest = hashlib.sha256()
    with out.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return count, digest.hexdigest()


def export_project(
    store: Store,
    name: str,
    fmt: str,
    out: Path,
    *,
    actor: str,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Export a project to *out* and record on the ledger what left the system (format,
    item count, digest). The file is written from a read snapshot, so a long export never
    holds up the workers' writes."""
    with store.read() as conn:
        project = get_project(conn, name)
        count, digest = write_dataset(conn, project, fmt, out, progress=progress)
    with store.write() as conn:
        ledger.append(
            conn,
            "dataset.exported",
            actor=actor,
            project_id=project.id,
            body={"project": project.id, "format": fmt, "items": count, "sha256": digest,
                  "file": out.name},
        )
    return count
