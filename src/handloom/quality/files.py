"""Read answer tables (CSV or Parquet) for ``handloom aggregate`` and ``handloom agreement``
on data from anywhere, and write per-item results back out.

A categorical table has columns ``item,worker,label``; a pairwise table has
``item,worker,left,right,winner`` where ``winner`` is the id of the preferred side (equal to
``left`` or ``right``) or ``tie``. Other columns are ignored. Errors name the file, the line
(for CSV: the physical line, header = 1) and the column.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

CATEGORICAL_COLUMNS = ("item", "worker", "label")
PAIRWISE_COLUMNS = ("item", "worker", "left", "right", "winner")
TIE = "tie"


class LabelFileError(ValueError):
    """A label table cannot be read: names the file, line and column where known."""

    def __init__(self, path: Path, reason: str, *, line: int | None = None,
                 column: str | None = None) -> None:
        where = str(path) + (f", line {line}" if line is not None else "") + (
            f", column {column!r}" if column else "")
        super().__init__(f"{where}: {reason}")
        self.path, self.line, self.column, self.reason = path, line, column, reason


def read_table(path: Path, columns: Sequence[str]) -> dict[str, list[Any]]:
    """The named *columns* of a CSV (``.csv``, ``.tsv``) or Parquet (``.parquet``) file."""
    if not path.exists():
        raise LabelFileError(path, "no such file")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _read_parquet(path, columns)
    if suffix in (".csv", ".tsv", ".txt"):
        return _read_csv(path, columns, delimiter="\t" if suffix == ".tsv" else ",")
    raise LabelFileError(path, f"unknown format {suffix or '(no suffix)'!r}; use .csv, .tsv "
                               "or .parquet")


def _read_csv(path: Path, columns: Sequence[str], *, delimiter: str) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {c: [] for c in columns}
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            header = next(reader, None)
            if header is None:
                raise LabelFileError(path, "the file is empty")
            header = [h.strip() for h in header]
            missing = [c for c in columns if c not in header]
            if missing:
                raise LabelFileError(path, f"missing column(s) {', '.join(missing)}; the "
                                           f"header has {', '.join(header) or 'nothing'} "
                                           f"(expected {','.join(columns)})", line=1)
            index = [header.index(c) for c in columns]
            width = len(header)
            for row in reader:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                if len(row) != width:
                    raise LabelFileError(path, f"{len(row)} cells where the header has "
                                               f"{width}", line=reader.line_num)
                for name, i in zip(columns, index, strict=True):
                    value = row[i].strip()
                    if value == "" and name != "winner":
                        raise LabelFileError(path, "empty cell", line=reader.line_num,
                                             column=name)
                    out[name].append(value)
    except UnicodeDecodeError as exc:
        raise LabelFileError(path, f"not UTF-8 text ({exc.reason})") from None
    if not out[columns[0]]:
        raise LabelFileError(path, "the file holds no rows")
    return out


def _read_parquet(path: Path, columns: Sequence[str]) -> dict[str, list[Any]]:
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        raise LabelFileError(path, f"not a readable Parquet file ({exc})") from None
    missing = [c for c in columns if c not in schema.names]
    if missing:
        raise LabelFileError(path, f"missing column(s) {', '.join(missing)}; the file has "
                                   f"{', '.join(schema.names)} (expected {','.join(columns)})")
    table = pq.read_table(path, columns=list(columns))
    out = {c: table.column(c).to_pylist() for c in columns}
    for name in columns:
        if name == "winner":
            continue
        values = out[name]
        if None in values:
            raise LabelFileError(path, "empty (null) value", line=values.index(None) + 1,
                                 column=name)
    if not out[columns[0]]:
        raise LabelFileError(path, "the file holds no rows")
    return out


def pairwise_codes(table: dict[str, list[Any]], path: Path) -> tuple[list[Any], list[Any],
                                                                     list[int]]:
    """(left ids, right ids, winner codes 0 = left, 1 = right, 2 = tie) of a pairwise table;
    a winner that is neither side nor ``tie`` is an error naming its row."""
    left, right, winners = table["left"], table["right"], table["winner"]
    codes = []
    for n, (a, b, w) in enumerate(zip(left, right, winners, strict=True)):
        w = "" if w is None else str(w).strip()
        if w == str(a):
            codes.append(0)
        elif w == str(b):
            codes.append(1)
        elif w.lower() in (TIE, ""):
            codes.append(2)
        else:
            raise LabelFileError(path, f"winner {w!r} is neither the left ({a!r}) nor the "
                                       f"right ({b!r}) side, nor 'tie'", line=n + 2,
                                 column="winner")
    return left, right, codes


def write_rows(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Write *rows* as CSV, or as Parquet when *path* ends in ``.parquet``."""
    if path.suffix.lower() == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        data = {h: [row[i] for row in rows] for i, h in enumerate(header)}
        pq.write_table(pa.table(data), path)
        return
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
