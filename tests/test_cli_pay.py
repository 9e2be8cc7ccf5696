"""``handloom pay`` and the floor check of ``handloom project open``, on real workspaces."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from cli_helpers import BOTH, flat, run
from factories import EXAMPLES, WorkspaceInfo, import_rows, text_items
from handloom.config import load_workspace
from handloom.store.db import Store
from handloom.work import projects
from handloom.work.accounts import add_worker
from handloom.work.routing import next_item
from handloom.work.submissions import submit_answer

FLOORS = ("jurisdiction,currency,hourly,source,effective_date,note,is_example\n"
          "KE,USD,2.00,Test floor,2024-01-01,,false\n")





def spec_file(folder: Path, name: str, rate: str, status: str = "draft") -> Path:
    path = folder / f"{name}.toml"
    path.write_text(f'name = "{name}"\nkind = "classification"\nlabels = ["a", "b"]\n'
                    f'status = "{status}"\nterms_required = false\noverlap = 2\n\n'
                    f'[pay]\npiece_rate = "{rate}"\nest_seconds_per_item = 30\n'
                    'jurisdictions = ["KE"]\n', encoding="utf-8")
    return path


@pytest.fixture
def floored(workspace: WorkspaceInfo, tmp_path: Path) -> WorkspaceInfo:
    path = tmp_path / "floors.csv"
    path.write_text(FLOORS, encoding="utf-8")
    result = run("pay", "floors", "import", path, "-w", workspace.root)
    assert "Imported 1 floors from floors.csv (1 new, 0 replaced) for KE." in flat(result.output)
    return workspace


def store_of(workspace: WorkspaceInfo) -> Store:
    return Store(load_workspace(workspace.root).database_url)


@BOTH
def test_project_open_refuses_a_project_below_the_floor_with_the_numbers(
        floored: WorkspaceInfo, tmp_path: Path) -> None:
    run("project", "create", spec_file(tmp_path, "cheap", "0.01"), "-w", floored.root)
    refused = run("project", "open", "cheap", "-w", floored.root, ok=False)
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    text = flat(refused.output)
    for part in ("error:", "Project cheap cannot open", "USD 1.20 an hour", "30 s per item",
                 "floor USD 2.00 an hour from 2024-01-01, source: Test floor",
                 "A piece rate of USD 0.02 per item would meet every floor", "pay.piece_rate"):
        assert part in text, (part, text)
    shown = json.loads(run("project", "show", "cheap", "-w", floored.root, "--json").stdout)
    assert shown["status"] == "draft"

    created_open = run("project", "create", spec_file(tmp_path, "cheap2", "0.01", "open"),
                       "-w", floored.root, ok=False)
    assert created_open.exit_code == 1 and "USD 0.02 per item" in flat(created_open.output)

    run("project", "create", spec_file(tmp_path, "fair", "0.02"), "-w", floored.root)
    assert "Project fair is now open." in flat(run("project", "open", "fair", "-w",
                                                   floored.root).output)


def test_a_missing_floor_is_named_with_the_command_to_import_one(
        workspace: WorkspaceInfo, tmp_path: Path) -> None:
    run("project", "create", spec_file(tmp_path, "nofloor", "1.00"), "-w", workspace.root)
    refused = run("project", "open", "nofloor", "-w", workspace.root, ok=False)
    text = flat(refused.output)
    assert refused.exit_code == 1
    assert "no pay floor in USD for KE" in text and "handloom pay floors import FILE" in text


def test_floor_import_errors_name_the_line_and_field(workspace: WorkspaceInfo,
                                                     tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(FLOORS + "PH,USD,1.001,Test,2024-01-01,,\n", encoding="utf-8")
    result = run("pay", "floors", "import", path, "-w", workspace.root, ok=False)
    assert result.exit_code == 1
    assert "bad.csv, line 3: field 'hourly': 1.001 USD has more decimals" in flat(result.output)
    assert "Nothing was imported" in flat(result.output)
    listed = json.loads(run("pay", "floors", "list", "-w", workspace.root, "--json").stdout)
    assert listed == []


def test_the_example_floors_import_and_list(workspace: WorkspaceInfo) -> None:
    result = run("pay", "floors", "import", EXAMPLES / "pay_floors.example.csv",
                 "-w", workspace.root)
    assert "marked as examples" in flat(result.output)
    table = flat(run("pay", "floors", "list", "-w", workspace.root).output)
    assert "US-CA" in table and "USD 7.25" in table and "example" in table


def work(workspace: WorkspaceInfo, name: str, worker: int, seconds: list[float]) -> None:
    store = store_of(workspace)
    try:
        for s in seconds:
            with store.write() as conn:
                row = projects.get_project(conn, name)
                lease = next_item(conn, row, worker)
                assert lease is not None
                submit_answer(conn, row, projects.kind_of(row), worker, lease.assignment_id,
                              {"label": "a"}, idempotency_key=f"{worker}-{lease.assignment_id}",
                              active_seconds=s)
    finally:
        store.dispose()


@BOTH
def test_statement_report_check_and_top_ups(floored: WorkspaceInfo, tmp_path: Path) -> None:
    run("project", "create", spec_file(tmp_path, "fair", "0.02", "open"), "-w", floored.root)
    store = store_of(floored)
    try:
        with store.write() as conn:
            slow = add_worker(conn, "kofi", jurisdiction="KE")
            quick = add_worker(conn, "ama", jurisdiction="KE")
        import_rows(store, "fair", text_items(5))
    finally:
        store.dispose()
    work(floored, "fair", slow, [30.0, 45.0, 60.0, 75.0])
    work(floored, "fair", quick, [20.0])

    statement = flat(run("pay", "statement", "--worker", "kofi", "-w", floored.root).output)
    assert "Pay statement of kofi" in statement and "USD 0.08" in statement
    assert "1.37" in statement and "BELOW" in statement
    mine = json.loads(run("pay", "statement", "--worker", "kofi", "-w", floored.root,
                          "--json", "--since", "2000-01-01", "--until", "2999-12-31").stdout)
    assert mine["projects"][0]["total_minor"] == 8
    missing = run("pay", "statement", "--worker", "nobody", "-w", floored.root, ok=False)
    assert missing.exit_code == 1 and "No worker 'nobody'" in flat(missing.output)
    bad_day = run("pay", "statement", "--worker", "kofi", "--since", "yesterday",
                  "-w", floored.root, ok=False)
    assert bad_day.exit_code == 1 and "YYYY-MM-DD" in flat(bad_day.output)

    out = tmp_path / "payroll.csv"
    run("pay", "report", "--project", "fair", "--format", "csv", "--out", out,
        "-w", floored.root)
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert sorted(int(r["total_minor"]) for r in rows) == [2, 8]
    assert all(r["worker"].startswith("w_") for r in rows)
    revealed = json.loads(run("pay", "report", "--project", "fair", "--format", "json",
                              "--reveal-refs", "-w", floored.root).stdout)
    assert sorted(r["worker"] for r in revealed["rows"]) == ["ama", "kofi"]

    checked = json.loads(run("pay", "check", "--project", "fair", "-w", floored.root,
                             "--json").stdout)
    proposal, = checked["proposed"]
    assert proposal["amount_minor"] == 4 and checked["breach"]["alert"] is True
    assert checked["floor_check"]["allowed"] is True
    listed = flat(run("pay", "top-ups", "--project", "fair", "-w", floored.root).output)
    assert "USD 0.04" in listed and "proposed" in listed

    approved = flat(run("pay", "approve", str(proposal["id"]), "-w", floored.root).output)
    assert f"Approved top-up {proposal['id']}: USD 0.04" in approved
    again = run("pay", "approve", str(proposal["id"]), "-w", floored.root, ok=False)
    assert again.exit_code == 1 and "already approved" in flat(again.output)
    assert "Ledger intact" in flat(run("ledger", "verify", "-w", floored.root).output)

    work(floored, "fair", slow, [600.0])  # much slower now: below the floor again
    proposal2, = json.loads(run("pay", "check", "--project", "fair", "-w", floored.root,
                                "--json").stdout)["proposed"]
    dismissed = run("pay", "dismiss", str(proposal2["id"]), "--reason", "paid by the vendor",
                    "-w", floored.root)
    assert f"Dismissed top-up {proposal2['id']}" in flat(dismissed.output)
    statuses = {t["id"]: t["status"] for t in json.loads(run(
        "pay", "top-ups", "--project", "fair", "-w", floored.root, "--json").stdout)}
    assert statuses == {proposal["id"]: "approved", proposal2["id"]: "dismissed"}
