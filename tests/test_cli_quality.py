"""``handloom aggregate`` and ``handloom agreement``, on files and on projects."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner, Result

from factories import WorkspaceInfo, add_workers, answer_all, import_rows, make_project, write_csv
from handloom.cli import app
from handloom.workspace import open_store

ROWS = [("a", "w1", "cat"), ("a", "w2", "cat"), ("a", "w3", "dog"),
        ("b", "w1", "dog"), ("b", "w2", "dog"), ("b", "w3", "dog"),
        ("c", "w1", "cat"), ("c", "w2", "bird"), ("c", "w3", "cat")]


def run(*args: str | Path, ok: bool = True) -> Result:
    result = CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})
    if ok:
        assert result.exit_code == 0, f"exit {result.exit_code}: {result.output}"
    return result


@pytest.fixture
def labels(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "labels.csv", ["item", "worker", "label"], ROWS)


@pytest.mark.parametrize("method", ["mv", "wawa", "ds", "onecoin", "glad", "mace"])
def test_aggregate_a_file_writes_item_label_confidence(labels: Path, tmp_path: Path,
                                                       method: str) -> None:
    out = tmp_path / "out.csv"
    result = run("aggregate", labels, "--method", method, "--out", out, "--json")
    summary = json.loads(result.stdout)
    assert summary["method"] == method and summary["items"] == 3 and summary["answers"] == 9
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["item"] for r in rows] == ["a", "b", "c"]
    assert [r["label"] for r in rows] == ["cat", "dog", "cat"]
    assert all(0.0 < float(r["confidence"]) <= 1.0 for r in rows)


def test_aggregate_defaults_to_dawid_skene_and_prints_csv(labels: Path) -> None:
    result = run("aggregate", labels)
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("a,cat,") and lines[1].startswith("b,dog,")
    assert "method ds" in result.stderr


def test_aggregate_reads_parquet_and_writes_parquet(tmp_path: Path) -> None:
    src = tmp_path / "labels.parquet"
    pq.write_table(pa.table({"item": [r[0] for r in ROWS], "worker": [r[1] for r in ROWS],
                             "label": [r[2] for r in ROWS]}), src)
    out = tmp_path / "agg.parquet"
    run("aggregate", src, "--out", out)
    table = pq.read_table(out).to_pylist()
    assert [r["label"] for r in table] == ["cat", "dog", "cat"]


def test_bradley_terry_ranks_objects_from_pairwise_files(tmp_path: Path) -> None:
    pairs = [("p1", "w1", "x", "y", "x"), ("p2", "w2", "y", "z", "y"),
             ("p3", "w1", "x", "z", "x"), ("p4", "w2", "x", "y", "tie")]
    src = write_csv(tmp_path / "pairs.csv", ["item", "worker", "left", "right", "winner"], pairs)
    out = tmp_path / "scores.csv"
    result = run("aggregate", src, "--method", "bt", "--out", out, "--json")
    assert json.loads(result.stdout)["ties"] == 1
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["object"] for r in rows] == ["x", "y", "z"] and rows[0]["rank"] == "1"


def test_bad_files_fail_with_the_line_and_column(tmp_path: Path) -> None:
    missing = write_csv(tmp_path / "m.csv", ["item", "annotator", "label"], [("a", "w", "x")])
    result = run("aggregate", missing, ok=False)
    assert result.exit_code == 1 and "missing column(s) worker" in " ".join(result.output.split())
    empty = write_csv(tmp_path / "e.csv", ["item", "worker", "label"],
                      [("a", "w", "x"), ("b", "", "y")])
    result = run("aggregate", empty, ok=False)
    assert "line 3" in result.output and "'worker'" in result.output
    pairs = write_csv(tmp_path / "p.csv", ["item", "worker", "left", "right", "winner"],
                      [("p", "w", "x", "y", "q")])
    result = run("aggregate", pairs, "-m", "bt", ok=False)
    assert "line 2" in result.output and "neither" in result.output
    assert "Unknown method" in run("aggregate", empty, "-m", "best", ok=False).output
    assert "one of the two" in run("aggregate", ok=False).output


def test_agreement_of_a_file_with_an_interval(labels: Path, tmp_path: Path) -> None:
    data = json.loads(run("agreement", labels, "--ci", "--json").stdout)
    assert data["metric"] == "alpha" and data["n_items"] == 3 and data["n_values"] == 9
    assert data["low"] <= data["value"] <= data["high"]
    text = run("agreement", labels, "--metric", "percent").stdout
    assert "Percent agreement: 0.5556" in text  # (1/3 + 1 + 1/3) / 3
    numbers = write_csv(tmp_path / "n.csv", ["item", "worker", "label"],
                        [("a", "1", "1"), ("a", "2", "2"), ("b", "1", "5"), ("b", "2", "5")])
    interval = json.loads(run("agreement", numbers, "--level", "interval", "--json").stdout)
    assert interval["level"] == "interval" and interval["value"] > 0.5
    bad = run("agreement", labels, "--level", "ordinal", ok=False)
    assert "'cat' is not a number" in bad.output


def test_project_aggregate_and_agreement(workspace: WorkspaceInfo, tmp_path: Path) -> None:
    store = open_store(workspace.workspace)
    try:
        with store.write() as conn:
            make_project(conn, "tox", overlap=3)
            workers = add_workers(conn, 3)
        import_rows(store, "tox", [{"id": f"i{n}", "text": f"t{n}"} for n in range(4)])
        t, n = {"label": "toxic"}, {"label": "not_toxic"}
        answer_all(store, "tox", workers, {"i0": [t, t, n], "i1": [n, n, n]})
    finally:
        store.dispose()
    out = tmp_path / "tox.csv"
    summary = json.loads(run("aggregate", "--project", "tox", "--out", out, "--json",
                             "-w", workspace.root).stdout)
    assert summary["method"] == "ds" and summary["items"] == 4 and summary["stored"] is True
    with out.open() as fh:
        assert {r["item"]: r["label"] for r in csv.DictReader(fh)}["i0"] == "toxic"
    dry = json.loads(run("aggregate", "--project", "tox", "--method", "mv", "--dry-run",
                         "--json", "-w", workspace.root).stdout)
    assert dry["method"] == "mv" and dry["stored"] is False
    alpha = json.loads(run("agreement", "--project", "tox", "--json",
                           "-w", workspace.root).stdout)
    assert alpha["n_items"] == 4 and -1.0 <= alpha["value"] <= 1.0
    run("ledger", "verify", "-w", workspace.root)  # exits non-zero on a broken chain
    missing = run("aggregate", "--project", "nope", "-w", workspace.root, ok=False)
    assert "No project 'nope'" in missing.output
