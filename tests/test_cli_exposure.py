"""``handloom worker opt-out/opt-in/set-timezone``, ``handloom item tag`` and ``handloom
exposure show/summary`` on a real workspace (SQLite, and PostgreSQL for one round trip)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from factories import WorkspaceInfo, add_workers, answer_next, import_rows, make_project
from handloom.cli import app
from handloom.labor import wellbeing
from handloom.store.schema import items, workers
from handloom.work import projects
from handloom.workspace import open_store


def run(*args: str | Path, ok: bool = True) -> Result:
    result = CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})
    if ok:
        assert result.exit_code == 0, f"exit {result.exit_code}: {result.output}"
    return result


def setup(workspace: WorkspaceInfo) -> int:
    store = open_store(workspace.workspace)
    try:
        with store.write() as conn:
            make_project(conn, "mod", overlap=1, content_categories=["violence", "hate"],
                         exposure={"limits": {"violence": {"daily_items": 5}},
                                   "break_after_sensitive": 10, "break_minutes": 20})
            (worker,) = add_workers(conn, 1, prefix="w")
        import_rows(store, "mod", [{"id": "a", "text": "one", "sensitivity": ["violence"]},
                                   {"id": "b", "text": "two"}])
        return worker
    finally:
        store.dispose()


@pytest.mark.parametrize("workspace", ["sqlite", "pg"], indirect=True)
def test_opt_out_opt_in_and_time_zone(workspace: WorkspaceInfo) -> None:
    worker = setup(workspace)
    ws = workspace.root
    out = run("worker", "opt-out", "w-1", "hate", "-w", ws).stdout
    assert "opted out of: hate" in out and "never affects" in out
    refused = run("worker", "opt-out", "w-1", "gore", "-w", ws, ok=False)
    assert refused.exit_code == 1 and "hate, violence" in refused.output
    assert "nothing" in run("worker", "opt-in", "w-1", "hate", "-w", ws).stdout
    assert run("worker", "opt-in", "w-1", "hate", "-w", ws, ok=False).exit_code == 1
    assert "Europe/Berlin" in run("worker", "set-timezone", "w-1", "Europe/Berlin",
                                  "-w", ws).stdout
    bad = run("worker", "set-timezone", "w-1", "Berlin", "-w", ws, ok=False)
    assert bad.exit_code == 1 and "IANA" in bad.output
    assert run("worker", "opt-out", "nobody", "hate", "-w", ws, ok=False).exit_code == 1
    store = open_store(workspace.workspace)
    try:
        with store.read() as conn:
            row = conn.execute(select(workers.c.opt_outs, workers.c.timezone)
                               .where(workers.c.id == worker)).one()
    finally:
        store.dispose()
    assert (row.opt_outs, row.timezone) == ([], "Europe/Berlin")
    run("ledger", "verify", "-w", ws)


def test_item_tag_adds_replaces_and_refuses(workspace: WorkspaceInfo) -> None:
    setup(workspace)
    ws = workspace.root
    assert "Item b is tagged: hate." in run("item", "tag", "mod", "b", "hate", "-w", ws).stdout
    assert "hate, violence" in run("item", "tag", "mod", "b", "violence", "-w", ws).stdout
    assert "nothing" in run("item", "tag", "mod", "b", "--replace", "-w", ws).stdout
    assert run("item", "tag", "mod", "b", "-w", ws, ok=False).exit_code == 2
    unknown = run("item", "tag", "mod", "b", "gore", "-w", ws, ok=False)
    assert unknown.exit_code == 1 and "not a content category" in unknown.output
    assert run("item", "tag", "mod", "zzz", "hate", "-w", ws, ok=False).exit_code == 1
    store = open_store(workspace.workspace)
    try:
        with store.read() as conn:
            tags = conn.execute(select(items.c.sensitivity)
                                .where(items.c.external_id == "b")).scalar()
    finally:
        store.dispose()
    assert tags == []


def test_exposure_show_and_summary(workspace: WorkspaceInfo) -> None:
    worker = setup(workspace)
    ws = workspace.root
    store = open_store(workspace.workspace)
    try:
        assert answer_next(store, "mod", worker) is not None  # item a (violence), 12.5 s
        with store.write() as conn:
            wellbeing.check_in(conn, projects.get_project(conn, "mod"), worker, feeling=3,
                               note="secret words")
    finally:
        store.dispose()
    shown = json.loads(run("exposure", "show", "--worker", "w-1", "--json", "-w", ws).stdout)
    by = {c["category"]: c for c in shown["categories"]}
    assert by["violence"]["today"] == {"items": 1, "minutes": 0.2}
    assert by["violence"]["limits"][0]["items_left"] == 4
    table = run("exposure", "show", "--worker", "w-1", "-w", ws).stdout
    assert "violence" in table and "1 items" in table and "mod: 5 items" in table
    summary = json.loads(run("exposure", "summary", "--project", "mod", "--json",
                             "-w", ws).stdout)
    assert summary["checkins"] == {"total": 1, "shared": 0, "workers": 1,
                                   "by_trigger": {"break": 0, "limit": 0, "self": 1}}
    violence = next(c for c in summary["categories"] if c["category"] == "violence")
    assert (violence["tagged_items"], violence["exposures"], violence["workers"]) == (1, 1, 1)
    text = run("exposure", "summary", "--project", "mod", "-w", ws).stdout
    assert "20 min after 10 sensitive items" in text and "Check-ins: 1" in text
    assert "secret words" not in text + json.dumps(summary)
    assert run("exposure", "show", "--worker", "nobody", "-w", ws, ok=False).exit_code == 1
