"""``handloom project describe``, ``handloom pay mark-paid`` and ``handloom worker
forget-demographics`` on real workspaces (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from cli_helpers import BOTH, flat, run
from factories import WorkspaceInfo, add_workers, answer_next, import_rows, make_project
from factories import text_items as texts
from handloom.disclose import statement
from handloom.labor import demographics
from handloom.store.db import Store
from handloom.store.schema import ledger_events, pay_events, workers
from handloom.workspace import open_store


def with_store(workspace: WorkspaceInfo) -> Store:
    return open_store(workspace.workspace)


def seed(workspace: WorkspaceInfo) -> list[int]:
    store = with_store(workspace)
    try:
        with store.write() as conn:
            make_project(conn, "tox", overlap=1, purpose="Train a filter.",
                         pay={"piece_rate": "0.10"})
            ids = add_workers(conn, 2, prefix="w")
        import_rows(store, "tox", texts(5))
        return ids
    finally:
        store.dispose()


def events(workspace: WorkspaceInfo, name: str) -> list[dict[str, Any]]:
    store = with_store(workspace)
    try:
        with store.read() as conn:
            rows = conn.execute(select(ledger_events.c.body).where(
                ledger_events.c.event == name).order_by(ledger_events.c.seq))
            return [json.loads(b) if isinstance(b, str) else b for (b,) in rows]
    finally:
        store.dispose()


@BOTH
def test_describe_shows_sets_and_reads_a_file(workspace: WorkspaceInfo, tmp_path: Path) -> None:
    seed(workspace)
    shown = run("project", "describe", "tox", "-w", workspace.root)
    text = flat(shown.output)
    assert "Disclosure statement of tox" in text and "Train a filter." in text
    assert "(not stated)" in text and "rai:dataBiases" in text
    assert events(workspace, "project.described") == []

    file = tmp_path / "statement.toml"
    file.write_text('assumptions = """Toxic means\nharmful."""\nknown_limitations = "English."'
                    '\n\n[disclosure]\nlicense = "CC-BY-4.0"\nk = 6\n', encoding="utf-8")
    changed = run("project", "describe", "tox", "--file", file, "--set", "license=MIT",
                  "--set", "citation=Doe (2026) = the paper", "-w", workspace.root)
    assert ("Changed assumptions, known_limitations, license, citation, k of tox; recorded on "
            "the ledger.") in flat(changed.output)
    as_json = json.loads(run("project", "describe", "tox", "--json", "-w",
                             workspace.root).output)
    assert list(as_json) == list(statement.FIELDS)
    assert (as_json["assumptions"], as_json["license"], as_json["k"], as_json["citation"]) == (
        "Toxic means\nharmful.", "MIT", 6, "Doe (2026) = the paper")
    (event,) = events(workspace, "project.described")
    assert sorted(event["changed"]) == ["assumptions", "citation", "k", "known_limitations",
                                        "license"]
    same = run("project", "describe", "tox", "--set", "license=MIT", "-w", workspace.root)
    assert "Nothing changed in the statement of tox." in flat(same.output)
    assert len(events(workspace, "project.described")) == 1


@pytest.mark.parametrize(("args", "words"), [
    (("--set", "licence=MIT"), "--set licence: unknown field"),
    (("--set", "license"), "--set takes FIELD=VALUE"),
    (("--set", "k=4"), "never lowered"),
    (("--set", "k=ten"), "whole number"),
    (("--set", "downstream_use=ads"), "downstream_use must be one of"),
])
def test_describe_errors_name_the_field(workspace: WorkspaceInfo, args: tuple[str, ...],
                                        words: str) -> None:
    seed(workspace)
    failed = run("project", "describe", "tox", *args, "-w", workspace.root, ok=False)
    assert failed.exit_code == 1 and words in flat(failed.output), failed.output
    assert events(workspace, "project.described") == []


def test_describe_file_errors(workspace: WorkspaceInfo, tmp_path: Path) -> None:
    seed(workspace)
    bad = tmp_path / "bad.toml"
    bad.write_text('kind = "classification"\n', encoding="utf-8")
    failed = run("project", "describe", "tox", "--file", bad, "-w", workspace.root, ok=False)
    assert "unknown field 'kind'" in flat(failed.output)
    broken = tmp_path / "broken.toml"
    broken.write_text("purpose = \n", encoding="utf-8")
    failed = run("project", "describe", "tox", "--file", broken, "-w", workspace.root,
                 ok=False)
    assert "not valid TOML" in flat(failed.output)
    missing = run("project", "describe", "tox", "--file", tmp_path / "none.toml", "-w",
                  workspace.root, ok=False)
    assert "Cannot read" in flat(missing.output)
    unknown = run("project", "describe", "nope", "-w", workspace.root, ok=False)
    assert "No project 'nope'" in flat(unknown.output)


@BOTH
def test_mark_paid(workspace: WorkspaceInfo) -> None:
    kofi, ama = seed(workspace)
    store = with_store(workspace)
    try:
        for worker, n in ((kofi, 2), (ama, 1)):
            for _ in range(n):
                assert answer_next(store, "tox", worker) is not None
    finally:
        store.dispose()
    none = run("pay", "mark-paid", "tox", "--through", "2000-01-01", "-w", workspace.root)
    assert "Nothing to mark: no unpaid pay in tox earned before 2000-01-02" in flat(none.output)
    one = run("pay", "mark-paid", "tox", "--worker", "w-1", "-w", workspace.root)
    assert ("Marked 2 pay event(s) of w-1 in tox as paid: USD 0.20 to 1 worker(s)"
            in flat(one.output))
    statement_text = flat(run("pay", "statement", "--worker", "w-2", "-w",
                              workspace.root).output)
    assert "Total: USD 0.10 (paid out 0.00, still owed 0.10)" in statement_text
    rest = json.loads(run("pay", "mark-paid", "tox", "--json", "-w", workspace.root).output)
    assert (rest["count"], rest["total_minor"], rest["currency"]) == (1, 10, "USD")
    assert [e["count"] for e in events(workspace, "pay.paid_out")] == [2, 1]
    store = with_store(workspace)
    try:
        with store.read() as conn:
            assert conn.execute(select(pay_events.c.id).where(
                pay_events.c.paid_at.is_(None))).first() is None
    finally:
        store.dispose()
    bad = run("pay", "mark-paid", "tox", "--through", "soon", "-w", workspace.root, ok=False)
    assert "through 'soon' is neither a date" in flat(bad.output)
    nobody = run("pay", "mark-paid", "tox", "--worker", "nobody", "-w", workspace.root,
                 ok=False)
    assert "No worker 'nobody'" in flat(nobody.output)


@BOTH
def test_forget_demographics(workspace: WorkspaceInfo) -> None:
    kofi, _ = seed(workspace)
    store = with_store(workspace)
    try:
        with store.write() as conn:
            demographics.set_demographics(conn, kofi, {"gender": "man", "age_band": "65+"},
                                          actor="worker")
    finally:
        store.dispose()
    done = run("worker", "forget-demographics", "w-1", "-w", workspace.root)
    assert "Erased the self-reported age_band, gender of w-1." in flat(done.output)
    again = run("worker", "forget-demographics", "w-1", "-w", workspace.root)
    assert "w-1 had given no demographics; nothing to erase" in flat(again.output)
    assert [e["fields"] for e in events(workspace, "worker.demographics_erased")] == [
        ["age_band", "gender"], []]
    store = with_store(workspace)
    try:
        with store.read() as conn:
            assert conn.execute(select(workers.c.demographics).where(
                workers.c.id == kofi)).scalar() is None
    finally:
        store.dispose()
    missing = run("worker", "forget-demographics", "nobody", "-w", workspace.root, ok=False)
    assert "No worker 'nobody'" in flat(missing.output)
