"""Item import: JSONL, CSV, Parquet and Hugging Face datasets, all or nothing.

Every row is read and validated before anything is written. The first bad row stops the
import with an error naming the file, the line (or row), the field and the reason; nothing is
stored. A valid file is written in one transaction with one ledger event that records the
file's SHA-256, so the ledger says exactly which data entered the project.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from handloom import ledger
from handloom.errors import ImportFailed, Invalid
from handloom.kinds.base import KindError, TaskKind
from handloom.store.db import utcnow
from handloom.store.schema import items

RESERVED = ("id", "sensitivity", "gold", "priority")
JSON_SUFFIX = ":json"
Progress = Callable[[int], None]


@dataclass(frozen=True)
class ImportResult:
    project: str
    source: str
    imported: int
    gold: int
    sha256: str


def _read_jsonl(data: bytes, source: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ImportFailed(source, number, None, f"not valid JSON ({exc})") from None
        if not isinstance(row, dict):
            raise ImportFailed(source, number, None, "each line must be a JSON object")
        yield number, row


def _read_csv(data: bytes, source: str) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFailed(source, None, None, f"not UTF-8 text ({exc})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None:
        return
    for row in reader:
        number = reader.line_num
        if None in row:
            raise ImportFailed(source, number, None, "more cells than there are header columns")
        out: dict[str, Any] = {}
        for key, cell in row.items():
            if cell is None:
                raise ImportFailed(source, number, key, "fewer cells than header columns")
            if key.endswith(JSON_SUFFIX):
                name = key[: -len(JSON_SUFFIX)]
                try:
                    out[name] = json.loads(cell) if cell != "" else None
                except json.JSONDecodeError as exc:
                    raise ImportFailed(source, number, name, f"not valid JSON ({exc})") from None
            elif key == "sensitivity":
                out[key] = [t.strip() for t in cell.replace(",", ";").split(";") if t.strip()]
            elif key == "priority":
                out[key] = cell
            elif key == "gold":
                out[key] = _maybe_json(cell) if cell != "" else None
            else:
                out[key] = cell
        yield number, out


def _maybe_json(cell: str) -> Any:
    if cell[:1] in "{[\"":
        try:
            return json.loads(cell)
        except json.JSONDecodeError:
            return cell
    return cell


def _read_parquet(data: bytes, source: str) -> Iterator[tuple[int, dict[str, Any]]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowInvalid, OSError) as exc:
        raise ImportFailed(source, None, None, f"not a readable Parquet file ({exc})") from None
    number = 0
    for batch in table.to_batches(max_chunksize=65536):
        for row in batch.to_pylist():
            number += 1
            yield number, row


def _read_hf(name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        import datasets
    except ImportError:
        raise Invalid("Importing hf:NAME needs the optional extra: pip install 'handloom[hf]'.")
    spec, _, split = name.partition(":")
    path = Path(spec)
    try:
        if path.exists():
            ds = datasets.load_from_disk(str(path))
            if isinstance(ds, datasets.DatasetDict):
                ds = ds[split or next(iter(ds))]
        else:
            ds = datasets.load_dataset(spec, split=split or "train")
    except Exception as exc:  # datasets raises many unrelated types; report them all alike
        raise ImportFailed(f"hf:{name}", None, None, f"cannot load the dataset ({exc})") from None
    for number, row in enumerate(ds, start=1):
        yield number, dict(row)


def read_rows(source: str, data: bytes | None = None) -> tuple[Iterator[tuple[int, dict[str, Any]]], str]:
    """Rows of *source* (a path, or ``hf:NAME``) as (line or row number, dict), and the
    SHA-256 of its bytes. *data* may hold the bytes already (an upload)."""
    if source.startswith("hf:"):
        return _read_hf(source[3:]), hashlib.sha256(source.encode()).hexdigest()
    if data is None:
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise ImportFailed(source, None, None, f"cannot read the file ({exc.strerror})") from None
    digest = hashlib.sha256(data).hexdigest()
    suffix = Path(source).suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return _read_jsonl(data, source), digest
    if suffix in (".csv", ".tsv"):
        return _read_csv(data, source), digest
    if suffix in (".parquet", ".pq"):
        return _read_parquet(data, source), digest
    raise ImportFailed(source, None, None,
                       f"unknown file type {suffix or '(none)'}; use .jsonl, .csv or .parquet")


def _validate_row(kind: TaskKind, categories: set[str], source: str, number: int,
                  row: dict[str, Any], seen: dict[str, int]) -> dict[str, Any]:
    raw_id = row.get("id")
    if raw_id is None or (isinstance(raw_id, str) and not raw_id.strip()):
        raise ImportFailed(source, number, "id", "every item needs a non-empty id")
    if not isinstance(raw_id, str | int) or isinstance(raw_id, bool):
        raise ImportFailed(source, number, "id", "an id must be a string or an integer")
    external_id = str(raw_id)
    if len(external_id) > 300:
        raise ImportFailed(source, number, "id", "an id may have at most 300 characters")
    if external_id in seen:
        where = f"line {seen[external_id]}" if seen[external_id] >= 0 else "an earlier import"
        raise ImportFailed(source, number, "id",
                           f"id {external_id!r} is already used (by {where})")
    seen[external_id] = number

    tags = row.get("sensitivity") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.replace(",", ";").split(";") if t.strip()]
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ImportFailed(source, number, "sensitivity", "must be a list of category names")
    unknown = [t for t in tags if t not in categories]
    if unknown:
        known = ", ".join(sorted(categories)) or "none declared"
        raise ImportFailed(source, number, "sensitivity",
                           f"unknown content category {unknown[0]!r} (the project declares: "
                           f"{known}); add it to the project's content_categories")

    priority = row.get("priority") or 0
    try:
        priority = int(priority)
    except (TypeError, ValueError):
        raise ImportFailed(source, number, "priority", "must be an integer") from None

    payload = {k: v for k, v in row.items() if k not in RESERVED}
    try:
        payload = kind.validate_payload(payload)
    except KindError as exc:
        raise ImportFailed(source, number, exc.field or None, exc.reason) from None

    gold = row.get("gold")
    gold_answer = None
    if gold is not None and gold != "":
        try:
            gold_answer = kind.coerce_gold(gold)
            gold_answer = kind.validate_answer(gold_answer, payload)
        except KindError as exc:
            raise ImportFailed(source, number, "gold", exc.reason) from None
    return {
        "external_id": external_id, "payload": payload, "sensitivity": sorted(set(tags)),
        "gold_answer": gold_answer, "is_gold": gold_answer is not None, "priority": priority,
    }


def validate_rows(project: Any, kind: TaskKind, rows: Iterator[tuple[int, dict[str, Any]]],
                  source: str, existing_ids: set[str], progress: Progress | None = None
                  ) -> list[dict[str, Any]]:
    """Every row validated, or :class:`ImportFailed` for the first bad one."""
    categories = set(project.content_categories or [])
    seen: dict[str, int] = dict.fromkeys(existing_ids, -1)
    out: list[dict[str, Any]] = []
    for number, row in rows:
        out.append(_validate_row(kind, categories, source, number, row, seen))
        if progress is not None and len(out) % 10000 == 0:
            progress(len(out))
    if not out:
        raise ImportFailed(source, None, None, "the file holds no items")
    return out


def existing_external_ids(conn: Connection, project_id: int) -> set[str]:
    return set(conn.execute(select(items.c.external_id)
                            .where(items.c.project_id == project_id)).scalars())


def insert_items(conn: Connection, project: Any, rows: list[dict[str, Any]], *, source: str,
                 digest: str, actor: str, progress: Progress | None = None) -> ImportResult:
    now = utcnow()
    chunk = 20000
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        for r in part:
            r["project_id"] = project.id
            r["answers"] = 0
            r["leased"] = 0
            r["full"] = False
            r["created_at"] = now
        conn.execute(items.insert(), part)
        if progress is not None:
            progress(min(start + chunk, len(rows)))
    n_gold = sum(1 for r in rows if r["is_gold"])
    ledger.append(conn, "items.imported", actor=actor, project_id=project.id,
                  body={"project": project.id, "source": Path(source).name, "sha256": digest,
                        "items": len(rows), "gold": n_gold,
                        "first_id": rows[0]["external_id"], "last_id": rows[-1]["external_id"]})
    return ImportResult(project.name, source, len(rows), n_gold, digest)


def import_items(
    store: Any,
    project_name: str,
    source: str,
    *,
    data: bytes | None = None,
    rows: list[dict[str, Any]] | None = None,
    actor: str = "system",
    progress: Progress | None = None,
) -> ImportResult:
    """Import a file, an upload (*data*) or in-memory *rows* into a project, all or nothing.

    Validation runs outside the write transaction so a long import blocks nobody; the write
    re-checks ids under the database's unique index.
    """
    from sqlalchemy.exc import IntegrityError

    from handloom.work.projects import get_project, kind_of

    with store.read() as conn:
        project = get_project(conn, project_name)
        existing = existing_external_ids(conn, project.id)
    kind = kind_of(project)
    if rows is not None:
        digest = hashlib.sha256(
            "\n".join(ledger.canonical_json(r) for r in rows).encode()).hexdigest()
        iterator: Iterator[tuple[int, dict[str, Any]]] = (
            (i, r if isinstance(r, dict) else {}) for i, r in enumerate(rows, start=1))
    else:
        iterator, digest = read_rows(source, data)
    valid = validate_rows(project, kind, iterator, source, existing, progress)
    try:
        with store.write() as conn:
            return insert_items(conn, project, valid, source=source, digest=digest, actor=actor,
                                progress=progress)
    except IntegrityError:
        raise ImportFailed(source, None, "id", "an item id was imported by someone else while "
                           "this file was being checked") from None
