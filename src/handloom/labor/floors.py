"""Pay floors: the minimum hourly pay per jurisdiction that the operator maintains.

A floor is a row (jurisdiction, currency, hourly amount in minor units, source, effective
date). The floor in force for a jurisdiction and currency on a date is the row with the
latest effective date on or before that date. Floors are imported from a CSV or TOML file,
all or nothing: every field of every row is checked before anything is stored, and an
error names the line and the field. Rows with the same jurisdiction, currency and effective
date as an imported row are replaced.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, and_, delete, select

from handloom import ledger
from handloom.errors import ImportFailed
from handloom.store.db import utcnow
from handloom.store.schema import pay_floors
from handloom.work.projects import from_minor_units, to_minor_units

FIELDS = ("jurisdiction", "currency", "hourly", "source", "effective_date", "note",
          "is_example")
REQUIRED = ("jurisdiction", "currency", "hourly", "source", "effective_date")
_JURISDICTION = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,15}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TOML_TABLE = re.compile(r"^\s*\[\[\s*floor\s*\]\]\s*(#.*)?$")
MAX_SOURCE_CHARS = 2000
MAX_NOTE_CHARS = 5000


@dataclass(frozen=True)
class Floor:
    """One floor: *hourly_minor* in the minor units of *currency*."""

    jurisdiction: str
    currency: str
    hourly_minor: int
    source: str
    effective_date: str
    note: str | None = None
    is_example: bool = False

    @property
    def hourly(self) -> str:
        return from_minor_units(self.hourly_minor, self.currency)

    def to_dict(self) -> dict[str, Any]:
        return {"jurisdiction": self.jurisdiction, "currency": self.currency,
                "hourly_minor": self.hourly_minor, "hourly": self.hourly,
                "source": self.source, "effective_date": self.effective_date,
                "note": self.note, "is_example": self.is_example}


@dataclass(frozen=True)
class FloorImport:
    source: str
    sha256: str
    rows: int
    inserted: int
    replaced: int
    jurisdictions: list[str]
    examples: int

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "sha256": self.sha256, "rows": self.rows,
                "inserted": self.inserted, "replaced": self.replaced,
                "jurisdictions": self.jurisdictions, "examples": self.examples}


# ------------------------------------------------------------------ parsing
def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def _flag(value: Any, source: str, line: int | None) -> bool:
    if value is None or value == "" or value is False:
        return False
    if value is True:
        return True
    text = _text(value).lower()
    if text in ("true", "yes", "1"):
        return True
    if text in ("false", "no", "0"):
        return False
    raise ImportFailed(source, line, "is_example", f"{value!r} is not true or false")


def parse_row(raw: dict[str, Any], source: str, line: int | None) -> Floor:
    """One floor from a row of text (CSV) or values (TOML, JSON); ImportFailed names the
    field that is wrong."""
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        raise ImportFailed(source, line, unknown[0],
                           f"unknown field; a floor has the fields {', '.join(FIELDS)}")
    for name in REQUIRED:
        if not _text(raw.get(name)):
            raise ImportFailed(source, line, name, "is missing (every floor needs "
                               f"{', '.join(REQUIRED)})")
    jurisdiction = _text(raw["jurisdiction"]).upper()
    if not _JURISDICTION.match(jurisdiction):
        raise ImportFailed(source, line, "jurisdiction",
                           f"{raw['jurisdiction']!r} is not a jurisdiction code (1 to 16 "
                           "letters, digits and '-', e.g. US, US-CA, KE)")
    currency = _text(raw["currency"]).upper()
    if not _CURRENCY.match(currency):
        raise ImportFailed(source, line, "currency",
                           f"{raw['currency']!r} is not a three-letter currency code (e.g. USD)")
    amount = raw["hourly"]
    if isinstance(amount, float):
        # TOML and JSON numbers arrive as binary floats; their shortest text is what was
        # written in the file.
        amount = repr(amount)
    try:
        hourly_minor = to_minor_units(_text(amount), currency)
    except ValueError as exc:
        raise ImportFailed(source, line, "hourly", str(exc)) from None
    if hourly_minor <= 0:
        raise ImportFailed(source, line, "hourly", "a floor must be more than zero")
    effective = raw["effective_date"]
    effective_text = effective.isoformat() if isinstance(effective, date) else _text(effective)
    if not _DATE.match(effective_text):
        raise ImportFailed(source, line, "effective_date",
                           f"{effective_text!r} is not a date written YYYY-MM-DD")
    try:
        date.fromisoformat(effective_text)
    except ValueError:
        raise ImportFailed(source, line, "effective_date",
                           f"{effective_text!r} is not a real date") from None
    source_text = _text(raw["source"])
    if len(source_text) > MAX_SOURCE_CHARS:
        raise ImportFailed(source, line, "source",
                           f"at most {MAX_SOURCE_CHARS} characters")
    note = _text(raw.get("note")) or None
    if note is not None and len(note) > MAX_NOTE_CHARS:
        raise ImportFailed(source, line, "note", f"at most {MAX_NOTE_CHARS} characters")
    return Floor(jurisdiction, currency, hourly_minor, source_text, effective_text, note,
                 _flag(raw.get("is_example"), source, line))


def _csv_rows(text: str, source: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Rows of a CSV with a header; lines starting with '#' are comments and, like blank
    lines, are skipped (line numbers still count them)."""
    lines = text.splitlines(keepends=True)
    blanked = "".join("\n" if line.lstrip().startswith("#") else line for line in lines)
    reader = csv.reader(io.StringIO(blanked, newline=""))
    header: list[str] | None = None
    for cells in reader:
        if not cells or all(not c.strip() for c in cells):
            continue
        if header is None:
            header = [c.strip() for c in cells]
            unknown = [c for c in header if c not in FIELDS]
            if unknown:
                raise ImportFailed(source, reader.line_num, unknown[0],
                                   f"unknown column; the columns are {', '.join(FIELDS)}")
            continue
        if len(cells) != len(header):
            raise ImportFailed(source, reader.line_num, None,
                               f"{len(cells)} cells where the header has {len(header)}")
        yield reader.line_num, dict(zip(header, cells, strict=True))


def _toml_rows(text: str, source: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """The ``[[floor]]`` tables of a TOML file, each with the line of its header."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ImportFailed(source, None, None, f"not valid TOML ({exc})") from None
    tables = data.get("floor")
    if set(data) - {"floor"} or not isinstance(tables, list):
        raise ImportFailed(source, None, None,
                           "a floor file in TOML holds only [[floor]] tables")
    starts = [n for n, line in enumerate(text.splitlines(), start=1) if _TOML_TABLE.match(line)]
    for i, table in enumerate(tables):
        line = starts[i] if i < len(starts) else None
        if not isinstance(table, dict):
            raise ImportFailed(source, line, None, "each floor must be a [[floor]] table")
        yield line or 0, table


def parse_floors(rows: Iterable[tuple[int | None, dict[str, Any]]], source: str) -> list[Floor]:
    """Every row checked, or ImportFailed for the first bad one; the same jurisdiction,
    currency and effective date twice is refused too."""
    out: list[Floor] = []
    seen: dict[tuple[str, str, str], int | None] = {}
    for line, raw in rows:
        number = line or None
        floor = parse_row(raw, source, number)
        key = (floor.jurisdiction, floor.currency, floor.effective_date)
        if key in seen:
            earlier = f"line {seen[key]}" if seen[key] else "an earlier row"
            raise ImportFailed(source, number, "effective_date",
                               f"{floor.jurisdiction} {floor.currency} from "
                               f"{floor.effective_date} is already given by {earlier}")
        seen[key] = number
        out.append(floor)
    if not out:
        raise ImportFailed(source, None, None, "the file holds no floors")
    return out


def read_floor_file(path: Path, data: bytes | None = None) -> tuple[list[Floor], str]:
    """The floors of a CSV or TOML file (or of *data* named like one) and its SHA-256."""
    source = path.name
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ImportFailed(str(path), None, None, f"cannot read it ({exc.strerror})") from None
    digest = hashlib.sha256(data).hexdigest()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFailed(source, None, None, f"not UTF-8 text ({exc})") from None
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return parse_floors(_csv_rows(text, source), source), digest
    if suffix == ".toml":
        return parse_floors(_toml_rows(text, source), source), digest
    raise ImportFailed(source, None, None,
                       f"unknown file type {suffix or '(none)'}; use .csv or .toml")


# ------------------------------------------------------------------ storing
def store_floors(conn: Connection, floors: list[Floor], *, source: str, sha256: str,
                 actor: str) -> FloorImport:
    """Store checked floors, replacing rows with the same jurisdiction, currency and
    effective date, and record a ``pay.floors_imported`` ledger event."""
    now = utcnow()
    replaced = 0
    for floor in floors:
        replaced += conn.execute(delete(pay_floors).where(and_(
            pay_floors.c.jurisdiction == floor.jurisdiction,
            pay_floors.c.currency == floor.currency,
            pay_floors.c.effective_date == floor.effective_date))).rowcount
    conn.execute(pay_floors.insert(), [
        {"jurisdiction": f.jurisdiction, "currency": f.currency, "hourly_minor": f.hourly_minor,
         "source": f.source, "effective_date": f.effective_date, "note": f.note,
         "is_example": f.is_example, "imported_at": now} for f in floors])
    result = FloorImport(source=source, sha256=sha256, rows=len(floors),
                         inserted=len(floors) - replaced, replaced=replaced,
                         jurisdictions=sorted({f.jurisdiction for f in floors}),
                         examples=sum(1 for f in floors if f.is_example))
    ledger.append(conn, "pay.floors_imported", actor=actor, body=result.to_dict())
    return result


def import_file(conn: Connection, path: Path, *, actor: str,
                data: bytes | None = None) -> FloorImport:
    """Read, check and store a floor file (CSV or TOML), all or nothing."""
    floors, digest = read_floor_file(path, data)
    return store_floors(conn, floors, source=path.name, sha256=digest, actor=actor)


def import_rows(conn: Connection, rows: list[dict[str, Any]], *, source: str,
                actor: str) -> FloorImport:
    """Check and store floors given as dictionaries (the API's JSON), all or nothing;
    errors name the row by its position (1 for the first)."""
    floors = parse_floors(((i, dict(r)) for i, r in enumerate(rows, start=1)), source)
    digest = hashlib.sha256("\n".join(ledger.canonical_json(f.to_dict()) for f in floors)
                            .encode()).hexdigest()
    return store_floors(conn, floors, source=source, sha256=digest, actor=actor)


# ------------------------------------------------------------------ looking up
def _floor(row: Any) -> Floor:
    return Floor(row.jurisdiction, row.currency, int(row.hourly_minor), row.source,
                 row.effective_date, row.note, bool(row.is_example))


def floor_for(conn: Connection, jurisdiction: str, currency: str,
              on: date | None = None) -> Floor | None:
    """The floor in force for *jurisdiction* in *currency* on *on* (today by default)."""
    day = (on or utcnow().date()).isoformat()
    row = conn.execute(
        select(pay_floors).where(pay_floors.c.jurisdiction == jurisdiction.upper(),
                                 pay_floors.c.currency == currency.upper(),
                                 pay_floors.c.effective_date <= day)
        .order_by(pay_floors.c.effective_date.desc()).limit(1)).first()
    return None if row is None else _floor(row)


def floors_for(conn: Connection, jurisdictions: Iterable[str], currency: str,
               on: date | None = None) -> dict[str, Floor | None]:
    """The floor in force for each jurisdiction (upper-cased), None where there is none."""
    return {j.upper(): floor_for(conn, j, currency, on) for j in jurisdictions}


def list_floors(conn: Connection, *, on: date | None = None) -> list[dict[str, Any]]:
    """Every stored floor, by jurisdiction, currency and date, each marked ``in_force``
    when it is the one in force on *on* (today by default)."""
    day = (on or utcnow().date()).isoformat()
    rows = conn.execute(select(pay_floors).order_by(
        pay_floors.c.jurisdiction, pay_floors.c.currency, pay_floors.c.effective_date)).all()
    latest: dict[tuple[str, str], str] = {}
    for r in rows:
        if r.effective_date <= day:
            latest[(r.jurisdiction, r.currency)] = r.effective_date
    return [{**_floor(r).to_dict(), "id": int(r.id),
             "in_force": latest.get((r.jurisdiction, r.currency)) == r.effective_date}
            for r in rows]
