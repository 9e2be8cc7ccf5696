"""Dataset export: every item with its published label and every answer with its provenance.

Four formats share one reading of the records (:func:`iter_export_records`):

- ``jsonl`` — one JSON object per item, answers nested;
- ``parquet`` — one row per item, JSON-valued columns as JSON text, answers as a list of
  structs;
- ``hf`` — a Hugging Face ``datasets`` folder with a dataset card (:mod:`.hf`);
- ``croissant`` — Croissant 1.1 JSON-LD next to Parquet files (:mod:`.croissant`).

Workers appear only as per-project pseudonyms, with their role class and vendor name; their
ids, refs, usernames, e-mail addresses and pay never leave, and neither does anything they
wrote outside their answers (review notes, skip reasons, appeals, check-ins). Items of the
qualification test are not part of the dataset: they test workers, and their answers are
each worker's test result.

Every export is written from one read snapshot into a hidden sibling and renamed into place
when complete, so a failed export leaves nothing half-written, and it ends with one
``dataset.exported`` ledger event naming the format, the item count and the SHA-256 of
every file written.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from handloom import ledger
from handloom.disclose.privacy import pseudonym
from handloom.errors import Invalid
from handloom.store import schema
from handloom.store.db import Store, as_utc
from handloom.store.schema import items, vendors, workers
from handloom.work.projects import get_project, kind_of
from handloom.work.quality import aggregate_project

if TYPE_CHECKING:
    from handloom.disclose.facts import Facts

FILE_FORMATS = ("jsonl", "parquet")
DIRECTORY_FORMATS = ("hf", "croissant")
FORMATS = FILE_FORMATS + DIRECTORY_FORMATS
BATCH = 2000

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Column:
    """One exported column, declared once: the Parquet/Arrow type, the Croissant data type
    and the description that the Croissant fields, the dataset card and docs/export.md
    all show."""

    name: str
    arrow: str  # string | bool | int32 | float64 | strings (list of string)
    croissant: str | list[str]
    description: str


ITEM_COLUMNS: tuple[Column, ...] = (
    Column("id", "string", "sc:Text",
           "The item's id as imported; unique within the project."),
    Column("payload", "string", "sc:Text",
           "The item as workers saw it, as JSON text."),
    Column("sensitivity", "strings", "sc:Text",
           "Content categories the item is tagged with (the project's exposure policy)."),
    Column("is_gold", "bool", "sc:Boolean",
           "Whether the item is a gold item: its answer was known and it was mixed in to "
           "score workers."),
    Column("label", "string", ["sc:Text", "cr:Label"],
           "The published label as JSON text: the reviewer's decision where the item was "
           "adjudicated, else the aggregate of the counted answers; null when the item has "
           "no counted answer."),
    Column("method", "string", "sc:Text",
           "How the label was reached: 'adjudicated', or the aggregation method (ds, "
           "one_coin_ds, glad, mace, wawa, mv, majority …)."),
    Column("confidence", "float64", "sc:Float",
           "Posterior confidence of the label: 1.0 when adjudicated, 0.0 without a label."),
    Column("n_answers", "int32", "sc:Integer",
           "Counted answers behind the label (answers rejected in review are not counted)."),
    Column("soft_label", "string", "sc:Text",
           "Share of the counted answers behind each distinct answer, as a JSON object "
           "(answer summary -> share): the disagreement kept as data."),
)

ANSWER_COLUMNS: tuple[Column, ...] = (
    Column("worker", "string", "sc:Text",
           "The worker's per-project pseudonym (HMAC-SHA256 of the worker id under the "
           "project's secret): stable within the project, unlinkable across projects."),
    Column("role_class", "string", "sc:Text",
           "The worker's role class: crowd, vendor, contractor, in-house, expert or "
           "volunteer."),
    Column("vendor", "string", "sc:Text",
           "Name of the vendor that supplied the worker; null for workers hired directly."),
    Column("answer", "string", "sc:Text",
           "The worker's answer as JSON text."),
    Column("instruction_version", "int32", "sc:Integer",
           "Version of the project's instructions the worker answered under."),
    Column("served_at", "string", "sc:DateTime",
           "When the item was served to the worker (ISO 8601, UTC)."),
    Column("submitted_at", "string", "sc:DateTime",
           "When the answer was submitted (ISO 8601, UTC)."),
    Column("active_seconds", "float64", "sc:Float",
           "Active time on the item in seconds, measured by the workbench; null when the "
           "client did not report it."),
    Column("suggestion_shown", "bool", "sc:Boolean",
           "Whether a model suggestion was shown to the worker with the item."),
    Column("review_status", "string", "sc:Text",
           "Outcome of review for this answer: accepted, rejected (not counted) or "
           "overturned (a rejection reversed, e.g. on appeal)."),
)


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote: the format, where, how many items and answers, and the SHA-256
    of every file (relative path -> hex digest)."""

    format: str
    path: Path
    items: int
    answers: int
    files: dict[str, str]
    answers_included: bool
    k: int | None = None


# ------------------------------------------------------------------ reading the records
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


def _worker_provenance(conn: Connection, project: Any) -> dict[int, tuple[str, str, str | None]]:
    """Pseudonym, role class and vendor name of each worker who answered in the project
    (and only those: nothing else about any worker is read). One HMAC per worker, not per
    answer."""
    project_id = project.id
    answered = (select(schema.annotations.c.worker_id)
                .where(schema.annotations.c.project_id == project_id).distinct())
    rows = conn.execute(
        select(workers.c.id, workers.c.role_class, vendors.c.name)
        .select_from(workers.outerjoin(vendors, vendors.c.id == workers.c.vendor_id))
        .where(workers.c.id.in_(answered)))
    return {r.id: (pseudonym(project.pseudonym_secret, r.id), r.role_class, r.name)
            for r in rows}


def published_label(kind: Any, run: Any, item_id: int, final_answer: Any,
                    counted: list[Any]) -> dict[str, Any]:
    """The label a dataset publishes for an item (the one rule; the report's figures use it
    too): the reviewer's decision if there is one, else the aggregation *run*'s result
    with its posterior confidence, else the kind's own aggregate of the *counted* answers."""
    result = run.results.get(item_id)
    if final_answer is not None:
        return {"answer": final_answer, "confidence": 1.0, "method": "adjudicated",
                "n_answers": len(counted)}
    if result is not None:
        return {"answer": result[0], "confidence": round(result[1], 6), "method": run.method,
                "n_answers": len(counted)}
    agg = kind.aggregate(counted)
    return {"answer": agg.answer, "confidence": round(agg.confidence, 6),
            "method": agg.method, "n_answers": agg.n_answers}


def iter_export_records(conn: Connection, project: Any, *,
                        answers: bool = True) -> Iterator[dict[str, Any]]:
    """One record per dataset item (qualification-test items excluded), in id order, with
    the label (the reviewer's decision, else the project's aggregation method with its
    posterior confidence), the soft label and, with *answers*, every individual answer
    with its provenance."""
    kind = kind_of(project)
    run = aggregate_project(conn, project, apply=False)
    provenance = _worker_provenance(conn, project) if answers else {}
    a = schema.annotations.c
    # Only the columns a record uses: the suggestion itself (JSON) is never decoded.
    answer_columns = (a.item_id, a.worker_id, a.answer, a.instruction_version, a.served_at,
                      a.submitted_at, a.active_seconds, a.review_status,
                      a.suggestion.isnot(None).label("suggestion_shown"))
    after = 0
    while True:
        batch = conn.execute(
            select(items.c.id, items.c.external_id, items.c.payload, items.c.sensitivity,
                   items.c.is_gold, items.c.final_answer)
            .where(items.c.project_id == project.id, items.c.id > after,
                   items.c.is_qualification.is_(False))
            .order_by(items.c.id)
            .limit(BATCH)
        ).all()
        if not batch:
            return
        after = batch[-1].id
        by_item: dict[int, list[Any]] = {}
        for ann in conn.execute(
            select(*answer_columns)
            .where(a.item_id.in_([r.id for r in batch]))
            .order_by(a.id)
        ):
            by_item.setdefault(ann.item_id, []).append(ann)
        for item in batch:
            anns = by_item.get(item.id, [])
            counted = [a.answer for a in anns if a.review_status != "rejected"]
            final = published_label(kind, run, item.id, item.final_answer, counted)
            record: dict[str, Any] = {
                "id": item.external_id,
                "payload": item.payload,
                "sensitivity": list(item.sensitivity or []),
                "is_gold": bool(item.is_gold),
                "label": final,
                "soft_label": _soft_label(kind, counted),
            }
            if answers:
                record["annotations"] = [_answer_record(ann, provenance) for ann in anns]
            yield record


def _answer_record(ann: Any,
                   provenance: dict[int, tuple[str, str, str | None]]) -> dict[str, Any]:
    worker, role_class, vendor = provenance[ann.worker_id]
    return {
        "worker": worker,
        "role_class": role_class,
        "vendor": vendor,
        "answer": ann.answer,
        "instruction_version": ann.instruction_version,
        "served_at": as_utc(ann.served_at).isoformat(),
        "submitted_at": as_utc(ann.submitted_at).isoformat(),
        "active_seconds": ann.active_seconds,
        "suggestion_shown": bool(ann.suggestion_shown),
        "review_status": ann.review_status,
    }


# ------------------------------------------------------------------ flat (tabular) rows
def _json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def flat_item(record: dict[str, Any]) -> dict[str, Any]:
    """The item columns of a record as one flat row (JSON values as JSON text)."""
    label = record["label"]
    return {
        "id": record["id"],
        "payload": _json_text(record["payload"]),
        "sensitivity": record["sensitivity"],
        "is_gold": record["is_gold"],
        "label": _json_text(label["answer"]),
        "method": label["method"],
        "confidence": label["confidence"],
        "n_answers": label["n_answers"],
        "soft_label": _json_text(record["soft_label"]),
    }


def flat_answer(answer: dict[str, Any]) -> dict[str, Any]:
    """One answer as a flat row (its answer as JSON text)."""
    return {**answer, "answer": _json_text(answer["answer"])}


def flat_row(record: dict[str, Any]) -> dict[str, Any]:
    """A whole record as one Parquet / Hugging Face row: the item columns, then (when the
    record carries them) its answers as a list of flat answer rows."""
    row = flat_item(record)
    if "annotations" in record:
        row["annotations"] = [flat_answer(a) for a in record["annotations"]]
    return row


def arrow_type(column: Column) -> Any:
    import pyarrow as pa

    types = {"string": pa.string(), "bool": pa.bool_(), "int32": pa.int32(),
             "float64": pa.float64(), "strings": pa.list_(pa.string())}
    return types[column.arrow]


def arrow_schema(columns: tuple[Column, ...]) -> Any:
    import pyarrow as pa

    return pa.schema([(c.name, arrow_type(c)) for c in columns])


def row_schema(answers: bool) -> Any:
    """Arrow schema of :func:`flat_row` rows (Parquet and Hugging Face)."""
    import pyarrow as pa

    fields = [(c.name, arrow_type(c)) for c in ITEM_COLUMNS]
    if answers:
        answer = pa.struct([(c.name, arrow_type(c)) for c in ANSWER_COLUMNS])
        fields.append(("annotations", pa.list_(answer)))
    return pa.schema(fields)


class TableWriter:
    """Writes rows to an Arrow sink in batches of :data:`BATCH` (bounded memory)."""

    def __init__(self, sink: Any, schema: Any):
        self.sink, self.schema = sink, schema
        self.rows: list[dict[str, Any]] = []
        self.written = 0

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if len(self.rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        import pyarrow as pa

        if self.rows or self.written == 0:
            self.sink.write_table(pa.Table.from_pylist(self.rows, schema=self.schema))
            self.written += len(self.rows)
            self.rows = []


# ------------------------------------------------------------------ single-file formats
def _write_jsonl(records: Iterator[dict[str, Any]], out: Path,
                 progress: Progress | None) -> tuple[int, int]:
    count = answers = 0
    with out.open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
            answers += len(record.get("annotations", ()))
            if progress and count % BATCH == 0:
                progress(count)
    return count, answers


def _write_parquet(records: Iterator[dict[str, Any]], out: Path, answers_included: bool,
                   progress: Progress | None) -> tuple[int, int]:
    import pyarrow.parquet as pq

    schema = row_schema(answers_included)
    count = answers = 0
    with pq.ParquetWriter(out, schema) as sink:
        writer = TableWriter(sink, schema)
        for record in records:
            writer.add(flat_row(record))
            count += 1
            answers += len(record.get("annotations", ()))
            if progress and count % BATCH == 0:
                progress(count)
        writer.flush()
    return count, answers


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def digests(root: Path) -> dict[str, str]:
    """SHA-256 of every file under *root*, by path relative to it (sorted)."""
    return {p.relative_to(root).as_posix(): sha256_of(p)
            for p in sorted(root.rglob("*")) if p.is_file()}


def write_dataset(
    conn: Connection,
    project: Any,
    fmt: str,
    out: Path,
    *,
    answers: bool = True,
    k: int | None = None,
    facts: Facts | None = None,
    progress: Progress | None = None,
) -> tuple[int, int]:
    """Write the project's dataset to *out* (a file for jsonl/parquet, an empty or new
    folder for hf/croissant) from the read transaction *conn*; returns the number of items
    and of individual answers written. The folder formats describe the dataset with
    *facts* (a :class:`handloom.disclose.facts.Facts`), gathered with *k* when not given."""
    check_format(fmt)
    records = iter_export_records(conn, project, answers=answers)
    if fmt == "jsonl":
        return _write_jsonl(records, out, progress)
    if fmt == "parquet":
        return _write_parquet(records, out, answers, progress)
    if facts is None:
        facts = _gather(conn, project, k)
    if fmt == "hf":
        from handloom.disclose.hf import write_hf

        return write_hf(records, out, facts, answers=answers, progress=progress)
    from handloom.disclose.croissant import write_croissant

    return write_croissant(records, out, facts, answers=answers, progress=progress)


def _gather(conn: Connection, project: Any, k: int | None) -> Facts:
    from handloom.disclose.facts import gather

    return gather(conn, project, k=k)


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise Invalid(f"Unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}.",
                      field="format")
    if fmt == "hf":
        from handloom.disclose.hf import require_datasets

        require_datasets()


def _check_target(fmt: str, out: Path) -> None:
    if fmt in DIRECTORY_FORMATS:
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise Invalid(f"{out} already exists and is not an empty folder; the {fmt} "
                          f"export writes a folder of its own: choose a new path.",
                          field="out")
    elif out.is_dir():
        raise Invalid(f"{out} is a folder; the {fmt} export writes one file: give a file "
                      f"path such as {out / ('dataset.' + fmt)}.", field="out")


def export_dataset(
    store: Store,
    name: str,
    fmt: str,
    out: Path,
    *,
    actor: str,
    answers: bool = True,
    k: int | None = None,
    progress: Progress | None = None,
) -> ExportResult:
    """Export a project to *out* and record on the ledger what left the system: the format,
    the item count and the SHA-256 of every file (``dataset.exported``).

    The data is written from one read snapshot, so a long export never holds up the
    workers' writes, into a hidden sibling of *out* that is renamed into place once
    complete. *k* can only raise the project's own k and the workspace's
    (:func:`statement.k_for`)."""
    from handloom.disclose.statement import k_for

    check_format(fmt)
    _check_target(fmt, out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        with store.read() as conn:
            project = get_project(conn, name)
            used_k = k_for(conn, project, k)
            target = staging / (out.name if fmt in FILE_FORMATS else "dataset")
            count, n_answers = write_dataset(conn, project, fmt, target, answers=answers,
                                              k=used_k, progress=progress)
        files = ({out.name: sha256_of(target)} if fmt in FILE_FORMATS
                 else digests(target))
        if fmt in DIRECTORY_FORMATS and out.exists():
            out.rmdir()  # checked empty above
        os.replace(target, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    body: dict[str, Any] = {"project": project.id, "format": fmt, "items": count,
                            "answers": n_answers if answers else None,
                            "answers_included": answers, "files": files}
    if fmt in FILE_FORMATS:
        body.update(file=out.name, sha256=files[out.name])
    else:
        body.update(folder=out.name, k=used_k)
    with store.write() as conn:
        ledger.append(conn, "dataset.exported", actor=actor, project_id=project.id, body=body)
    return ExportResult(format=fmt, path=out, items=count,
                        answers=n_answers, files=files, answers_included=answers,
                        k=used_k if fmt in DIRECTORY_FORMATS else None)


def export_project(
    store: Store,
    name: str,
    fmt: str,
    out: Path,
    *,
    actor: str,
    answers: bool = True,
    progress: Progress | None = None,
) -> int:
    """:func:`export_dataset`, returning only the number of items written."""
    return export_dataset(store, name, fmt, out, actor=actor, answers=answers,
                          progress=progress).items
