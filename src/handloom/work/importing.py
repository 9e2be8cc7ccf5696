"""Item import: JSONL, CSV, Parquet and Hugging Face datasets, all or nothing.

Every row is read and validated before anything is written. The first bad row stops the
import with an error naming the file, the line (or row), the field and the reason; nothing is
stored. A valid file is written in one transaction with one ledger event that records the
file's SHA-256, so the ledger says exactly which data entered the project.

Large files take fast paths that give exactly the rows, records and errors of the general
one: a JSONL file is decoded once and scanned line by line in place; a plain row of a kind
whose payload model only asks for strings is checked by type instead of through Pydantic;
rows are serialized before the write transaction opens and written through the DB-API cursor
(``executemany`` on SQLite, ``COPY`` on PostgreSQL). Anything unusual takes the general path.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from json.scanner import make_scanner
from pathlib import Path
from types import NoneType
from typing import Any, Optional

from sqlalchemy import Connection, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from handloom import ledger
from handloom.errors import ImportFailed, Invalid
from handloom.kinds.base import KindError, TaskKind
from handloom.store.db import utcnow
from handloom.store.schema import items

RESERVED = ("id", "sensitivity", "gold", "priority", "qualification", "difficulty")
MAX_DIFFICULTY_CHARS = 40  # items.difficulty: the name of a piece rate
JSON_SUFFIX = ":json"
Progress = Callable[[int], None]


@dataclass(frozen=True)
class ImportResult:
    project: str
    source: str
    imported: int
    gold: int
    sha256: str


def _jsonl_line(line: bytes, source: str, number: int) -> dict[str, Any] | None:
    """One JSONL line parsed as an object, None for a blank line, or ImportFailed."""
    if not line.strip():
        return None
    try:
        row = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ImportFailed(source, number, None, f"not valid JSON ({exc})") from None
    if not isinstance(row, dict):
        raise ImportFailed(source, number, None, "each line must be a JSON object")
    return row


def _read_jsonl_lines(data: bytes, source: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(data.split(b"\n"), start=1):
        row = _jsonl_line(line, source, number)
        if row is not None:
            yield number, row


_LINE_TAIL = re.compile(r"[ \t\r]*")


def _read_jsonl(data: bytes, source: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Rows of a JSONL file, exactly as ``json.loads`` of each line would give them.

    The fast path decodes the file once and runs the JSON scanner over each line in place
    (no line copies, no per-call overhead of ``json.loads``); any line it is not sure about
    (leading whitespace, not an object, a parse error, anything after the object) goes
    through :func:`_jsonl_line`, the plain per-line parser, so rows and errors are the same.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    if not text or text[0] == "\ufeff":  # not strict UTF-8, or a BOM: the plain path
        yield from _read_jsonl_lines(data, source)
        return
    decoder = json.JSONDecoder()
    scan: Callable[[str, int], tuple[Any, int]] = make_scanner(decoder)  # type: ignore[arg-type]
    tail = _LINE_TAIL.match
    find = text.find
    size = len(text)
    pos = 0
    number = 0
    while pos < size:
        number += 1
        stop = find("\n", pos)
        if stop < 0:
            stop = size
        if text[pos] == "{":
            try:
                row, end = scan(text, pos)
            except (StopIteration, json.JSONDecodeError):
                end = -1
            if end >= 0 and end != stop:
                after = tail(text, end)
                end = after.end() if after is not None else end
            if end == stop:
                yield number, row
                pos = stop + 1
                continue
        if stop > pos:
            line = _jsonl_line(text[pos:stop].encode("utf-8"), source, number)
            if line is not None:
                yield number, line
        pos = stop + 1


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
            elif key == "qualification":
                out[key] = cell
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
        raise Invalid(
            "Importing hf:NAME needs the optional extra: pip install 'handloom[hf]'.") from None
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


def read_rows(source: str, data: bytes | None = None
              ) -> tuple[Iterator[tuple[int, dict[str, Any]]], str]:
    """Rows of *source* (a path, or ``hf:NAME``) as (line or row number, dict), and the
    SHA-256 of its bytes. *data* may hold the bytes already (an upload)."""
    if source.startswith("hf:"):
        return _read_hf(source[3:]), hashlib.sha256(source.encode()).hexdigest()
    if data is None:
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise ImportFailed(source, None, None,
                               f"cannot read the file ({exc.strerror})") from None
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
    qualification = _flag(row.get("qualification"), source, number)
    difficulty = _difficulty(row.get("difficulty"), source, number)
    if qualification and gold_answer is None:
        raise ImportFailed(source, number, "qualification",
                           "a qualification item needs a gold answer (the 'gold' field): "
                           "the test scores the worker against it")
    return {
        "external_id": external_id, "payload": payload, "sensitivity": sorted(set(tags)),
        "gold_answer": gold_answer, "is_gold": gold_answer is not None, "priority": priority,
        "is_qualification": qualification, "difficulty": difficulty,
    }


def _difficulty(value: Any, source: str, number: int) -> str | None:
    """An item's difficulty (it selects a piece rate of the project): a short name, or
    none when empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ImportFailed(source, number, "difficulty", "must be a short name, e.g. hard")
    text = str(value).strip()
    if len(text) > MAX_DIFFICULTY_CHARS:
        raise ImportFailed(source, number, "difficulty",
                           f"may have at most {MAX_DIFFICULTY_CHARS} characters")
    return text


def _flag(value: Any, source: str, number: int) -> bool:
    """A yes/no field: JSON booleans, 0/1, or true/false/yes/no text (empty is no)."""
    if value is None or value == "" or value is False or value == 0:
        return False
    if value is True or value == 1:
        return True
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "false", "no",
                                                            "0"):
        return value.strip().lower() in ("true", "yes", "1")
    raise ImportFailed(source, number, "qualification", "must be true or false")


_SCALARS = frozenset({str, int, float, bool, NoneType})
_NOT_PAYLOAD = frozenset(RESERVED) - {"id"}
_PLAIN_DEPTH = 32


def _plain(value: Any, depth: int = 0) -> bool:
    """True for JSON data (str, numbers, booleans, None, lists and dicts of them)."""
    kind = type(value)
    if kind in _SCALARS:
        return True
    if depth >= _PLAIN_DEPTH:
        return False
    if kind is list:
        return all(_plain(v, depth + 1) for v in value)
    if kind is dict:
        return all(type(k) in _SCALARS and _plain(v, depth + 1) for k, v in value.items())
    return False


_Fields = tuple[tuple[str, bool], ...]


def _simple_payload(kind: TaskKind) -> _Fields | None:
    """The (name, required) fields of *kind*'s payload model when validating a payload of
    JSON data can only check that those fields are strings (or None, when optional) and then
    returns the payload unchanged; None when the model does more (constraints, validators,
    aliases, other types, a ``check_payload``), and every row must take the full validator.
    """
    cls = type(kind)
    if (cls.validate_payload is not TaskKind.validate_payload
            or cls.check_payload is not TaskKind.check_payload
            or "validate_payload" in vars(kind) or "check_payload" in vars(kind)):
        return None
    model = kind.payload_model
    config = dict(model.model_config)
    if set(config) - {"extra", "title"} or config.get("extra", "ignore") not in ("allow", "ignore"):
        return None
    decorators = getattr(model, "__pydantic_decorators__", None)
    if decorators is None or getattr(model, "__pydantic_post_init__", True) is not None:
        return None
    for name in ("validators", "field_validators", "root_validators", "model_validators",
                 "field_serializers", "model_serializers", "computed_fields"):
        if getattr(decorators, name, None):
            return None
    fields: list[tuple[str, bool]] = []
    for name, info in model.model_fields.items():
        if (info.alias is not None or info.validation_alias is not None or info.metadata
                or info.default_factory is not None or info.exclude):
            return None
        if info.annotation is str and info.is_required():
            fields.append((name, True))
        elif info.annotation in (str | None, Optional[str]) and info.default is None:  # noqa: UP045
            fields.append((name, False))
        else:
            return None
    return tuple(fields)


def _fast_payload(row: Any, fields: _Fields, seen: dict[str, int],
                  number: int) -> tuple[str, dict[str, Any]] | None:
    """(external id, payload) exactly as :func:`_validate_row` would give them for a plain
    row (an id, payload fields of JSON data, no sensitivity, gold or priority), or None, and
    nothing changed, for every other row: the full validator then takes it (and finds the
    exact error of a bad one)."""
    if type(row) is not dict or not _NOT_PAYLOAD.isdisjoint(row):
        return None
    raw_id = row.get("id")
    if type(raw_id) is str:
        if len(raw_id) > 300 or not raw_id.strip():
            return None
        external_id = raw_id
    elif type(raw_id) is int:
        external_id = str(raw_id)
        if len(external_id) > 300:
            return None
    else:
        return None
    if external_id in seen:
        return None
    payload = row.copy()
    del payload["id"]
    for name, required in fields:
        value = payload.get(name)
        if type(value) is not str and (required or value is not None):
            return None
    for value in payload.values():
        if type(value) not in _SCALARS and not _plain(value):
            return None
    seen[external_id] = number
    return external_id, payload


def validate_rows(project: Any, kind: TaskKind, rows: Iterator[tuple[int, dict[str, Any]]],
                  source: str, existing_ids: set[str], progress: Progress | None = None
                  ) -> list[dict[str, Any]]:
    """Every row validated, or :class:`ImportFailed` for the first bad one.

    Plain rows of a kind with a simple payload model take a fast check that gives the same
    record as the full validator; every other row (and every row that fails the fast check)
    goes through the full validator, so records and errors are exactly the same.
    """
    categories = set(project.content_categories or [])
    seen: dict[str, int] = dict.fromkeys(existing_ids, -1)
    out: list[dict[str, Any]] = []
    append = out.append
    fields = _simple_payload(kind)
    for number, row in rows:
        fast = _fast_payload(row, fields, seen, number) if fields is not None else None
        if fast is not None:
            append({"external_id": fast[0], "payload": fast[1], "sensitivity": [],
                    "gold_answer": None, "is_gold": False, "priority": 0,
                    "is_qualification": False, "difficulty": None})
        else:
            append(_validate_row(kind, categories, source, number, row, seen))
        if progress is not None and len(out) % 10000 == 0:
            progress(len(out))
    if not out:
        raise ImportFailed(source, None, None, "the file holds no items")
    return out


# A validated row ready for the database: external id, payload, sensitivity and gold answer
# as JSON text (gold None for none), is_gold, priority, is_qualification, difficulty.
_Values = tuple[str, str, str, str | None, bool, int, bool, str | None]


def _json_serializer(dialect: Any) -> Callable[[Any], str]:
    """The function SQLAlchemy's JSON type serializes with on *dialect*."""
    return getattr(dialect, "_json_serializer", None) or json.dumps


def _plain_encoder(dumps: Callable[[Any], str]) -> Callable[[Any], str]:
    """*dumps* for JSON data. For the standard ``json.dumps`` this is one reused C encoder,
    which gives the same text without building an encoder per call (no circular check: JSON
    data that :func:`_plain` accepted has no cycles)."""
    make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if dumps is not json.dumps or make_encoder is None:
        return dumps
    encode = make_encoder(
        None, json.encoder.JSONEncoder().default, json.encoder.encode_basestring_ascii, None,
        ": ", ", ", False, False, True)

    def plain_dumps(value: Any) -> str:
        return "".join(encode(value, 0))

    return plain_dumps


def _values(record: dict[str, Any], dumps: Callable[[Any], str], no_tags: str) -> _Values:
    gold = record["gold_answer"]
    tags = record["sensitivity"]
    return (record["external_id"], dumps(record["payload"]), dumps(tags) if tags else no_tags,
            None if gold is None else dumps(gold), bool(record["is_gold"]), record["priority"],
            bool(record["is_qualification"]), record.get("difficulty"))


def _prepare(project: Any, kind: TaskKind, rows: Iterator[tuple[int, dict[str, Any]]],
             source: str, existing_ids: set[str], dumps: Callable[[Any], str],
             progress: Progress | None, *, nul_free_ids: bool = False) -> list[_Values]:
    """:func:`validate_rows`, with each row made ready for the database (JSON serialized)
    while no transaction is open; the same rows, errors and progress calls.

    With *nul_free_ids* (PostgreSQL, whose text columns cannot hold the NUL character) an id
    containing "\\u0000" is refused as a bad row instead of failing in the database."""
    categories = set(project.content_categories or [])
    seen: dict[str, int] = dict.fromkeys(existing_ids, -1)
    out: list[_Values] = []
    append = out.append
    fields = _simple_payload(kind)
    plain_dumps = _plain_encoder(dumps)
    no_tags = dumps([])
    for number, row in rows:
        fast = _fast_payload(row, fields, seen, number) if fields is not None else None
        if fast is not None:
            append((fast[0], plain_dumps(fast[1]), no_tags, None, False, 0, False, None))
        else:
            record = _validate_row(kind, categories, source, number, row, seen)
            append(_values(record, dumps, no_tags))
        if nul_free_ids and "\x00" in out[-1][0]:
            raise ImportFailed(source, number, "id", "an id must not contain the NUL character "
                               "(\\u0000); PostgreSQL cannot store it")
        if progress is not None and len(out) % 10000 == 0:
            progress(len(out))
    if not out:
        raise ImportFailed(source, None, None, "the file holds no items")
    return out


def existing_external_ids(conn: Connection, project_id: int) -> set[str]:
    return set(conn.execute(select(items.c.external_id)
                            .where(items.c.project_id == project_id)).scalars())


# The columns an import writes; every other column of items with a Python-side default gets
# that default (one value for the whole import), and the rest their server default or NULL.
_ITEM_COLUMNS = ("project_id", "external_id", "payload", "sensitivity", "gold_answer", "is_gold",
                 "priority", "is_qualification", "difficulty", "answers", "leased", "full",
                 "created_at")
_CHUNK = 20000


def _bind(dialect: Any, column: str, value: Any) -> Any:
    """*value* as SQLAlchemy binds it for ``items.<column>`` on *dialect*."""
    process = items.c[column].type.dialect_impl(dialect).bind_processor(dialect)
    return process(value) if process is not None else value


def _defaulted_columns(dialect: Any) -> list[tuple[str, Any]] | None:
    """(column, bound value) for the other columns of items that have a Python default;
    None when one has a default that is not a plain value (left to SQLAlchemy Core)."""
    out = []
    for column in items.columns:
        default = column.default
        if column.name in _ITEM_COLUMNS or column.primary_key or default is None:
            continue
        if getattr(default, "is_scalar", False):
            value = default.arg  # type: ignore[attr-defined]
        elif getattr(default, "is_callable", False):
            value = default.arg(None)  # type: ignore[attr-defined]
        else:
            return None
        out.append((column.name, _bind(dialect, column.name, value)))
    return out


def _raw_supported(dialect: Any) -> bool:
    """Whether :func:`_insert_values` knows this database and driver."""
    return ((dialect.name, dialect.driver) in (("sqlite", "pysqlite"), ("postgresql", "psycopg"))
            and _defaulted_columns(dialect) is not None)


def _insert_values(conn: Connection, project_id: int, values: list[_Values], now: Any,
                   progress: Progress | None) -> None:
    """Insert prepared rows through the DB-API cursor, in chunks.

    SQLite: ``executemany`` of tuples, with booleans and the creation time bound once as
    SQLAlchemy's SQLite types store them (0/1, 'YYYY-MM-DD HH:MM:SS.ffffff'). PostgreSQL
    (psycopg): ``COPY items (...) FROM STDIN``, psycopg adapting the values. Errors are
    SQLAlchemy's (a duplicate id raises IntegrityError), as through SQLAlchemy Core.
    """
    dialect = conn.dialect
    extra = _defaulted_columns(dialect) or []
    constants = tuple(value for _, value in extra)
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(c) for c in (*_ITEM_COLUMNS, *(c for c, _ in extra)))
    table = dialect.identifier_preparer.format_table(items)
    total = len(values)
    if dialect.name == "sqlite":
        true, false = _bind(dialect, "is_gold", True), _bind(dialect, "is_gold", False)
        created = _bind(dialect, "created_at", now)
        marks = ", ".join("?" * (len(_ITEM_COLUMNS) + len(extra)))
        statement = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
        for start in range(0, total, _CHUNK):
            conn.exec_driver_sql(statement, [
                (project_id, external_id, payload, tags, gold, true if is_gold else false,
                 priority, true if qualification else false, difficulty, 0, 0, false, created,
                 *constants)
                for external_id, payload, tags, gold, is_gold, priority, qualification,
                difficulty in values[start:start + _CHUNK]])
            if progress is not None:
                progress(min(start + _CHUNK, total))
        return
    import psycopg

    statement = f"COPY {table} ({columns}) FROM STDIN"
    try:
        with conn.connection.dbapi_connection.cursor() as cursor:  # type: ignore[union-attr]
            with cursor.copy(statement) as copy:
                write = copy.write_row
                for start in range(0, total, _CHUNK):
                    for external_id, payload, tags, gold, is_gold, priority, qual, level in (
                            values[start:start + _CHUNK]):
                        write((project_id, external_id, payload, tags, gold, is_gold,
                               priority, qual, level, 0, 0, False, now, *constants))
                    if progress is not None and start + _CHUNK < total:
                        progress(start + _CHUNK)
    except psycopg.Error as exc:  # raised as SQLAlchemy raises it (IntegrityError, DataError …)
        raise DBAPIError.instance(statement, None, exc, psycopg.Error,
                                  dialect=dialect) from exc
    if progress is not None:  # the last chunk is done once the server has taken the copy
        progress(total)


def _record_import(conn: Connection, project: Any, *, source: str, digest: str, actor: str,
                   n_items: int, n_gold: int, first_id: str, last_id: str) -> ImportResult:
    ledger.append(conn, "items.imported", actor=actor, project_id=project.id,
                  body={"project": project.id, "source": Path(source).name, "sha256": digest,
                        "items": n_items, "gold": n_gold,
                        "first_id": first_id, "last_id": last_id})
    return ImportResult(project.name, source, n_items, n_gold, digest)


def insert_items(conn: Connection, project: Any, rows: list[dict[str, Any]], *, source: str,
                 digest: str, actor: str, progress: Progress | None = None) -> ImportResult:
    now = utcnow()
    if _raw_supported(conn.dialect):
        dumps = _json_serializer(conn.dialect)
        no_tags = dumps([])
        _insert_values(conn, project.id, [_values(r, dumps, no_tags) for r in rows], now,
                       progress)
    else:
        for start in range(0, len(rows), _CHUNK):
            part = [{**r, "project_id": project.id, "answers": 0, "leased": 0, "full": False,
                     "created_at": now} for r in rows[start:start + _CHUNK]]
            conn.execute(items.insert(), part)
            if progress is not None:
                progress(min(start + _CHUNK, len(rows)))
    return _record_import(conn, project, source=source, digest=digest, actor=actor,
                          n_items=len(rows), n_gold=sum(1 for r in rows if r["is_gold"]),
                          first_id=rows[0]["external_id"], last_id=rows[-1]["external_id"])


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

    Validation (and, on SQLite and PostgreSQL, serializing each row for the database) runs
    outside the write transaction so a long import blocks nobody; the write re-checks ids
    under the database's unique index.
    """
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
    dialect = store.engine.dialect
    try:
        if not _raw_supported(dialect):
            valid = validate_rows(project, kind, iterator, source, existing, progress)
            with store.write() as conn:
                return insert_items(conn, project, valid, source=source, digest=digest,
                                    actor=actor, progress=progress)
        values = _prepare(project, kind, iterator, source, existing,
                          _json_serializer(dialect), progress,
                          nul_free_ids=dialect.name == "postgresql")
        with store.write() as conn:
            _insert_values(conn, project.id, values, utcnow(), progress)
            return _record_import(conn, project, source=source, digest=digest, actor=actor,
                                  n_items=len(values), n_gold=sum(1 for v in values if v[4]),
                                  first_id=values[0][0], last_id=values[-1][0])
    except IntegrityError:
        raise ImportFailed(source, None, "id", "an item id was imported by someone else while "
                           "this file was being checked") from None
