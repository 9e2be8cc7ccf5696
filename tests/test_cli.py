"""The command line, driven in-process with Typer's CliRunner on real workspaces."""

from __future__ import annotations

import json
import sqlite3
import tomllib
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from factories import EXAMPLES, WorkspaceInfo, write_jsonl
from handloom.cli import app
from handloom.config import load_workspace
from handloom.demo_finished import NAME as FINISHED
from handloom.store.db import Store
from handloom.work import accounts

TOXICITY = EXAMPLES / "toxicity"


def run(*args: str | Path, ok: bool = True) -> Result:
    # A wide terminal, so Rich tables show whole values.
    result = CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})
    if ok:
        assert result.exit_code == 0, f"exit {result.exit_code}: {result.output}"
    return result


def flat(text: str) -> str:
    """Output with Rich's line wrapping undone."""
    return " ".join(text.split())


def toxicity_counts() -> tuple[int, int]:
    rows = [json.loads(line) for line in
            (TOXICITY / "items.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    gold = sum(1 for r in rows if r.get("gold") is not None)
    return len(rows) - gold, gold


def import_example_floors(workspace: WorkspaceInfo) -> None:
    """The example pay floors: the example projects recruit in US, KE, PH and DE and open
    only when their pay meets those floors."""
    run("pay", "floors", "import", EXAMPLES / "pay_floors.example.csv", "-w", workspace.root)


@pytest.fixture
def toxicity(workspace: WorkspaceInfo) -> WorkspaceInfo:
    """The workspace with the toxicity example project and its items."""
    import_example_floors(workspace)
    run("project", "create", TOXICITY / "project.toml", "--items", TOXICITY / "items.jsonl",
        "-w", workspace.root)
    return workspace


def with_store(workspace: WorkspaceInfo) -> Store:
    return Store(load_workspace(workspace.root).database_url)


def test_init_creates_a_workspace(tmp_path: Path) -> None:
    root = tmp_path / "space"
    result = run("init", root, "--owner", "alice")
    assert (root / "handloom.toml").is_file() and (root / "handloom.db").is_file()
    token = flat(result.output).split("(shown once): ")[1].split()[0]
    assert token.startswith("hl_")
    store = with_store(WorkspaceInfo(load_workspace(root), token))
    try:
        with store.read() as conn:
            assert accounts.principal_for_token(conn, token).username == "alice"
    finally:
        store.dispose()
    again = run("init", root, ok=False)
    assert again.exit_code == 1 and "already" in flat(again.output)


def test_project_create_with_items(workspace: WorkspaceInfo) -> None:
    import_example_floors(workspace)
    result = run("project", "create", TOXICITY / "project.toml", "--items",
                 TOXICITY / "items.jsonl", "-w", workspace.root)
    plain, gold = toxicity_counts()
    assert f"Imported {plain + gold} items ({gold} gold)" in flat(result.output)
    assert "Created project toxicity" in flat(result.output)
    described = json.loads(run("project", "show", "toxicity", "-w", workspace.root,
                               "--json").stdout)
    assert described["name"] == "toxicity" and described["kind"] == "classification"
    assert described["items"] == plain and described["gold_items"] == gold
    assert described["pay"]["piece_rate"] == "0.12" and described["instructions_version"] == 1
    assert "pseudonym_secret" not in described


def test_project_create_json_output_is_only_json(workspace: WorkspaceInfo) -> None:
    """--json promises JSON on stdout (for jq and scripts); progress notes belong on stderr."""
    import_example_floors(workspace)
    result = run("project", "create", TOXICITY / "project.toml", "--items",
                 TOXICITY / "items.jsonl", "-w", workspace.root, "--json")
    described = json.loads(result.stdout)
    assert described["name"] == "toxicity" and described["items"] == toxicity_counts()[0]


def test_project_create_twice_fails_cleanly(toxicity: WorkspaceInfo) -> None:
    result = run("project", "create", TOXICITY / "project.toml", "-w", toxicity.root, ok=False)
    assert result.exit_code == 1
    assert "already exists" in flat(result.output) and "Traceback" not in result.output


def test_bad_spec_exits_non_zero_naming_the_key(workspace: WorkspaceInfo,
                                                tmp_path: Path) -> None:
    spec = tmp_path / "bad.toml"
    spec.write_text('name = "Bad Name"\nkind = "classification"\nlabels = ["a", "b"]\n',
                    encoding="utf-8")
    result = run("project", "create", spec, "-w", workspace.root, ok=False)
    assert result.exit_code == 1 and "name" in flat(result.output)


def test_project_list_json(toxicity: WorkspaceInfo) -> None:
    listed = json.loads(run("project", "list", "-w", toxicity.root, "--json").stdout)
    assert [p["name"] for p in listed] == ["toxicity"]
    assert listed[0]["items"] == toxicity_counts()[0] and listed[0]["answers"] == 0
    table = run("project", "list", "-w", toxicity.root)
    assert "toxicity" in table.output


def test_project_show_json(toxicity: WorkspaceInfo) -> None:
    shown = json.loads(run("project", "show", "toxicity", "-w", toxicity.root, "--json").stdout)
    assert shown["overlap"] == 3 and "toxic" in shown["instructions"]
    missing = run("project", "show", "nope", "-w", toxicity.root, ok=False)
    assert missing.exit_code == 1 and "toxicity" in flat(missing.output)


def test_import_of_a_bad_file_names_the_line(toxicity: WorkspaceInfo, tmp_path: Path) -> None:
    rows: list[dict[str, Any]] = [{"id": f"new-{i}", "text": "fine"} for i in range(1, 6)]
    rows[3] = {"id": "new-4", "text": "bad", "sensitivity": ["gore"]}
    bad = write_jsonl(tmp_path / "bad.jsonl", rows)
    result = run("import", "toxicity", bad, "-w", toxicity.root, ok=False)
    assert result.exit_code != 0
    message = flat(result.output)
    assert "line 4" in message and "sensitivity" in message and "gore" in message
    assert "Nothing was imported" in message
    listed = json.loads(run("project", "list", "-w", toxicity.root, "--json").stdout)
    assert listed[0]["items"] == toxicity_counts()[0]


def test_import_good_file(toxicity: WorkspaceInfo, tmp_path: Path) -> None:
    good = write_jsonl(tmp_path / "more.jsonl", [{"id": "more-1", "text": "hello"}])
    result = run("import", "toxicity", good, "-w", toxicity.root)
    assert "Imported 1 items" in flat(result.output)


def test_worker_add_and_token_create(toxicity: WorkspaceInfo) -> None:
    result = run("worker", "add", "w-0042", "--role-class", "vendor", "--vendor", "Acme Data",
                 "--jurisdiction", "KE", "--qualification", "en", "--token",
                 "-w", toxicity.root)
    first = flat(result.output).split("(shown once): ")[1].split()[0]
    token = run("token", "create", "w-0042", "--name", "laptop", "-w", toxicity.root)
    second = token.stdout.strip()
    assert first.startswith("hl_") and second.startswith("hl_") and first != second
    workers = json.loads(run("worker", "list", "-w", toxicity.root, "--json").stdout)
    assert [(w["ref"], w["role_class"], w["vendor"], w["jurisdiction"], w["qualifications"])
            for w in workers] == [("w-0042", "vendor", "Acme Data", "KE", ["en"])]
    store = with_store(toxicity)
    try:
        with store.read() as conn:
            for t in (first, second):
                principal = accounts.principal_for_token(conn, t)
                assert principal.username == "w-0042" and principal.role == "worker"
    finally:
        store.dispose()
    duplicate = run("worker", "add", "w-0042", "-w", toxicity.root, ok=False)
    assert duplicate.exit_code == 1 and "already exists" in flat(duplicate.output)
    unknown = run("token", "create", "ghost", "-w", toxicity.root, ok=False)
    assert unknown.exit_code == 1 and "ghost" in flat(unknown.output)


def test_export_jsonl(toxicity: WorkspaceInfo, tmp_path: Path) -> None:
    out = tmp_path / "export" / "toxicity.jsonl"
    result = run("export", "toxicity", "--format", "jsonl", "--out", out, "-w", toxicity.root)
    plain, gold = toxicity_counts()
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == plain + gold
    assert records[0]["id"] == "tox-001" and records[0]["label"]["answer"] is None
    assert f"Wrote {plain + gold} items" in flat(result.output)
    bad = run("export", "toxicity", "--format", "xml", "--out", tmp_path / "x.xml",
              "-w", toxicity.root, ok=False)
    assert bad.exit_code == 1 and "jsonl" in flat(bad.output)


def test_ledger_verify_then_tamper(toxicity: WorkspaceInfo) -> None:
    ok = run("ledger", "verify", "-w", toxicity.root, "--json")
    verified = json.loads(ok.stdout)
    assert verified["ok"] is True and verified["events"] >= 4
    tail = json.loads(run("ledger", "tail", "-n", "3", "-w", toxicity.root, "--json").stdout)
    assert len(tail) == 3 and tail[-1]["hash"] == verified["head"]

    with closing(sqlite3.connect(toxicity.root / "handloom.db")) as db, db:
        db.execute("UPDATE ledger_events SET actor = 'forger' WHERE seq = 3")
    broken = run("ledger", "verify", "-w", toxicity.root, ok=False)
    assert broken.exit_code == 2
    assert "event 3" in flat(broken.output)
    as_json = run("ledger", "verify", "-w", toxicity.root, "--json", ok=False)
    assert as_json.exit_code == 2 and json.loads(as_json.stdout)["broken_at"] == 3


def test_status_json(toxicity: WorkspaceInfo) -> None:
    status = json.loads(run("status", "-w", toxicity.root, "--json").stdout)
    assert status["database"] == "sqlite"
    assert Path(status["workspace"]) == toxicity.root
    assert [p["name"] for p in status["projects"]] == ["toxicity"]
    assert status["ledger"]["events"] > 0 and len(status["ledger"]["head"]) == 64


def test_commands_outside_a_workspace_explain(tmp_path: Path) -> None:
    result = run("status", "-w", tmp_path / "nowhere", ok=False)
    assert result.exit_code == 1 and "handloom init" in flat(result.output)


def test_settings_lists_every_setting() -> None:
    from handloom.config import SETTINGS

    output = run("settings").output
    for setting in SETTINGS:
        assert setting.name in output


def test_demo_builds_every_example_project(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    result = run("demo", "--no-serve", "-w", root, "--examples", EXAMPLES)
    assert "Demo workspace ready" in flat(result.output)
    assert (root / "demo-logins.txt").is_file()
    expected = sorted([tomllib.loads(p.read_text(encoding="utf-8"))["name"]
                       for p in EXAMPLES.glob("*/project.toml")] + [FINISHED])
    assert len(expected) >= 9
    listed = json.loads(run("project", "list", "-w", root, "--json").stdout)
    assert sorted(p["name"] for p in listed) == expected
    assert f"/manage/{FINISHED}/report" in flat(result.output)  # the report, one click away
    assert all(p["items"] + p["gold_items"] > 0 for p in listed)
    assert json.loads(run("ledger", "verify", "-w", root, "--json").stdout)["ok"] is True
    # Running it again reuses the workspace instead of failing.
    again = run("demo", "--no-serve", "-w", root, "--examples", EXAMPLES)
    assert "Demo workspace ready" in flat(again.output)


@pytest.mark.parametrize("workspace", [pytest.param("pg", marks=pytest.mark.pg)], indirect=True)
def test_cli_on_postgresql(workspace: WorkspaceInfo, tmp_path: Path) -> None:
    import_example_floors(workspace)
    run("project", "create", TOXICITY / "project.toml", "--items", TOXICITY / "items.jsonl",
        "-w", workspace.root)
    status = json.loads(run("status", "-w", workspace.root, "--json").stdout)
    assert status["database"] == "postgresql"
    assert [p["name"] for p in status["projects"]] == ["toxicity"]
    out = tmp_path / "tox.jsonl"
    run("export", "toxicity", "--out", out, "-w", workspace.root)
    assert len(out.read_text(encoding="utf-8").splitlines()) == sum(toxicity_counts())
    verified = json.loads(run("ledger", "verify", "-w", workspace.root, "--json").stdout)
    assert verified["ok"] is True
    assert verified["events"] == status["ledger"]["events"] + 1  # the export's own event
