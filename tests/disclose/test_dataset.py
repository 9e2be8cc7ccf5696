"""Dataset export: every item, its aggregate label, and pseudonymous per-answer provenance;
the options, the targets, the ledger, the CLI, the API route and the SDK."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import re
import sys
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet as pq
import pytest
from export_scenario import REQUIRE_EXTRAS_ENV, Scenario, assert_no_secrets, build, import_extra
from sqlalchemy import select, update
from typer.testing import CliRunner

from factories import add_workers, answer_all, import_rows, make_project
from handloom import ledger
from handloom.cli import app
from handloom.disclose import dataset
from handloom.disclose.dataset import ANSWER_COLUMNS, ITEM_COLUMNS, export_dataset, export_project
from handloom.disclose.privacy import pseudonym
from handloom.errors import Invalid
from handloom.sdk import Client
from handloom.store.db import Store
from handloom.store.schema import annotations, items, ledger_events
from handloom.work import accounts
from handloom.work.projects import get_project
from handloom.workspace import init_workspace, open_store

# The web tests' helpers (a uvicorn in a thread, people with tokens), as tests/e2e uses them.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))

SECRET_PREFIX = "zq-private-ref"  # worker refs (and usernames) that must never leave
TOXIC, NOT_TOXIC, UNSURE = {"label": "toxic"}, {"label": "not_toxic"}, {"label": "unsure"}
ANSWERS = {
    "a": [TOXIC, TOXIC, NOT_TOXIC],
    "b": [NOT_TOXIC, NOT_TOXIC, NOT_TOXIC],
    "c": [UNSURE, TOXIC, UNSURE],
}


@pytest.fixture
def answered(store: Store) -> dict[str, Any]:
    """Project "tox" (overlap 3): items a, b, c answered by three workers, d unanswered."""
    with store.write() as conn:
        make_project(conn, "tox", overlap=3, content_categories=["hate"])
        workers = add_workers(conn, 2, prefix=SECRET_PREFIX)
        accounts.ensure_vendor(conn, "Savanna Labeling", parent="Northwind Data Services")
        workers.append(accounts.add_worker(conn, f"{SECRET_PREFIX}-3", role_class="vendor",
                                           vendor="Savanna Labeling", jurisdiction="KE"))
    import_rows(store, "tox", [
        {"id": "a", "text": "you absolute clown", "sensitivity": ["hate"]},
        {"id": "b", "text": "lol same"},
        {"id": "c", "text": "sure, Jan"},
    ])
    assert answer_all(store, "tox", workers, ANSWERS) == 9
    import_rows(store, "tox", [{"id": "d", "text": "nobody answered me", "gold": "not_toxic"}])
    return {"workers": workers}


def export(store: Store, fmt: str, out: Path, project: str = "tox") -> int:
    return export_project(store, project, fmt, out, actor="user:1")


def read_jsonl(path: Path) -> dict[str, dict[str, Any]]:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return {r["id"]: r for r in records}


def read_parquet(path: Path) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in pq.read_table(path).to_pylist()}


def pseudonyms_in(record: dict[str, Any]) -> list[str]:
    return [a["worker"] for a in record["annotations"]]


def test_jsonl_export_has_every_item_with_the_projects_aggregate(
        store: Store, answered: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "out" / "tox.jsonl"
    assert export(store, "jsonl", out) == 4
    records = read_jsonl(out)
    assert list(records) == ["a", "b", "c", "d"]

    # The project's method (Dawid–Skene by default) with its posterior confidence.
    label = records["a"]["label"]
    assert label["answer"] == TOXIC and label["method"] == "ds" and label["n_answers"] == 3
    assert 0.5 < label["confidence"] < 1.0
    assert records["b"]["label"]["answer"] == NOT_TOXIC
    assert records["b"]["label"]["confidence"] > 0.5
    assert records["c"]["label"]["answer"] == UNSURE
    # The disagreement is kept as data: the share of answers behind each reading.
    assert records["a"]["soft_label"] == {"toxic": pytest.approx(2 / 3, abs=1e-6),
                                          "not_toxic": pytest.approx(1 / 3, abs=1e-6)}
    assert records["b"]["soft_label"] == {"not_toxic": 1.0}
    assert records["d"]["soft_label"] == {}
    assert records["d"]["label"] == {"answer": None, "confidence": 0.0, "method": "majority",
                                     "n_answers": 0}
    assert records["d"]["annotations"] == [] and records["d"]["is_gold"] is True

    assert records["a"]["payload"] == {"text": "you absolute clown"}
    assert records["a"]["sensitivity"] == ["hate"]
    # Every individual answer is kept next to the aggregate (soft labels).
    assert sorted(a["answer"]["label"] for a in records["a"]["annotations"]) == \
        ["not_toxic", "toxic", "toxic"]
    first = records["a"]["annotations"][0]
    assert first["instruction_version"] == 1 and first["active_seconds"] == 12.5
    assert first["review_status"] == "accepted" and first["suggestion_shown"] is False
    assert first["submitted_at"] >= first["served_at"]
    roles = sorted((a["role_class"], a["vendor"]) for a in records["a"]["annotations"])
    assert roles == [("crowd", None), ("crowd", None), ("vendor", "Savanna Labeling")]


def test_pseudonyms_are_stable_within_a_project(store: Store, answered: dict[str, Any],
                                                tmp_path: Path) -> None:
    export(store, "jsonl", tmp_path / "x.jsonl")
    records = read_jsonl(tmp_path / "x.jsonl")
    per_item = [set(pseudonyms_in(records[i])) for i in "abc"]
    assert all(len(s) == 3 for s in per_item)
    assert per_item[0] == per_item[1] == per_item[2]
    assert all(re.fullmatch(r"w_[0-9a-f]{16}", p) for p in per_item[0])
    # The same worker answers item a with the answer from ANSWERS at that worker's index.
    with store.read() as conn:
        secret = get_project(conn, "tox").pseudonym_secret
    for k, worker_id in enumerate(answered["workers"]):
        (mine,) = [a for a in records["a"]["annotations"]
                   if a["worker"] == pseudonym(secret, worker_id)]
        assert mine["answer"] == ANSWERS["a"][k]


def test_same_worker_has_different_pseudonyms_in_two_projects(
    store: Store, answered: dict[str, Any], tmp_path: Path
) -> None:
    with store.write() as conn:
        make_project(conn, "other", overlap=3)
    import_rows(store, "other", [{"id": "a", "text": "same item id, other project"}])
    answer_all(store, "other", answered["workers"], {"a": ANSWERS["a"]})
    export(store, "jsonl", tmp_path / "tox.jsonl")
    export(store, "jsonl", tmp_path / "other.jsonl", project="other")
    tox = read_jsonl(tmp_path / "tox.jsonl")["a"]
    other = read_jsonl(tmp_path / "other.jsonl")["a"]
    assert len(set(pseudonyms_in(tox))) == 3 and len(set(pseudonyms_in(other))) == 3
    assert set(pseudonyms_in(tox)).isdisjoint(pseudonyms_in(other))
    with store.read() as conn:
        secrets = [get_project(conn, name).pseudonym_secret for name in ("tox", "other")]
    for k, worker_id in enumerate(answered["workers"]):
        names = [pseudonym(secret, worker_id) for secret in secrets]
        assert names[0] != names[1]
        # Under each name, the worker's own answer: the same person, unlinkable across projects.
        for record, name in zip((tox, other), names, strict=True):
            (mine,) = [a for a in record["annotations"] if a["worker"] == name]
            assert mine["answer"] == ANSWERS["a"][k]


def test_no_worker_ref_or_username_in_the_jsonl_bytes(store: Store, answered: dict[str, Any],
                                                      tmp_path: Path) -> None:
    out = tmp_path / "tox.jsonl"
    export(store, "jsonl", out)
    data = out.read_bytes()
    assert SECRET_PREFIX.encode() not in data
    with store.read() as conn:
        secret = get_project(conn, "tox").pseudonym_secret
    assert secret.encode() not in data


def test_parquet_export(store: Store, answered: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "tox.parquet"
    assert export(store, "parquet", out) == 4
    records = read_parquet(out)
    assert list(records) == ["a", "b", "c", "d"]
    assert json.loads(records["a"]["label"]) == TOXIC
    assert 0.5 < records["a"]["confidence"] < 1.0
    assert records["a"]["method"] == "ds" and records["a"]["n_answers"] == 3
    assert json.loads(records["a"]["soft_label"])["toxic"] == pytest.approx(2 / 3, abs=1e-6)
    assert json.loads(records["a"]["payload"]) == {"text": "you absolute clown"}
    assert records["a"]["sensitivity"] == ["hate"]
    assert records["d"]["label"] is None and records["d"]["annotations"] == []
    assert sorted(json.loads(a["answer"])["label"] for a in records["c"]["annotations"]) == \
        ["toxic", "unsure", "unsure"]
    jsonl = tmp_path / "tox.jsonl"
    export(store, "jsonl", jsonl)
    assert {p for r in records.values() for p in pseudonyms_in(r)} == \
        {p for r in read_jsonl(jsonl).values() for p in pseudonyms_in(r)}
    # Parquet compresses, so look at every decoded cell rather than the raw bytes.
    assert SECRET_PREFIX not in json.dumps(list(records.values()), default=str)
    assert SECRET_PREFIX.encode() not in out.read_bytes()


def test_export_of_a_project_without_items(store: Store, tmp_path: Path) -> None:
    with store.write() as conn:
        make_project(conn, "tox")
    assert export(store, "jsonl", tmp_path / "e.jsonl") == 0
    assert (tmp_path / "e.jsonl").read_text(encoding="utf-8") == ""
    assert export(store, "parquet", tmp_path / "e.parquet") == 0
    assert pq.read_table(tmp_path / "e.parquet").num_rows == 0


def test_export_is_on_the_ledger(store: Store, answered: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "tox.parquet"
    export(store, "parquet", out)
    with store.read() as conn:
        (event,) = conn.execute(select(ledger_events)
                                .where(ledger_events.c.event == "dataset.exported")).all()
        project_id = get_project(conn, "tox").id
        assert ledger.verify(conn).ok
    assert event.project_id == project_id and event.actor == "user:1"
    assert event.body["format"] == "parquet" and event.body["items"] == 4
    assert event.body["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert event.body["file"] == "tox.parquet"
    assert event.body["files"] == {"tox.parquet": event.body["sha256"]}
    assert event.body["answers"] == 9 and event.body["answers_included"] is True


def test_unknown_format_writes_nothing(store: Store, answered: dict[str, Any],
                                       tmp_path: Path) -> None:
    with pytest.raises(Invalid) as info:
        export(store, "xlsx", tmp_path / "tox.xlsx")
    assert info.value.field == "format" and "jsonl" in info.value.message
    assert not (tmp_path / "tox.xlsx").exists()
    with store.read() as conn:
        assert conn.execute(select(ledger_events)
                            .where(ledger_events.c.event == "dataset.exported")).first() is None


def test_adjudicated_answer_wins_over_the_majority(store: Store, answered: dict[str, Any],
                                                   tmp_path: Path) -> None:
    with store.write() as conn:
        conn.execute(update(items).where(items.c.external_id == "a").values(final_answer=UNSURE))
    export(store, "jsonl", tmp_path / "tox.jsonl")
    label = read_jsonl(tmp_path / "tox.jsonl")["a"]["label"]
    assert label == {"answer": UNSURE, "confidence": 1.0, "method": "adjudicated",
                     "n_answers": 3}


# ---------------------------------------------------------------- options and targets
def test_no_answers_leaves_out_the_individual_answers(
        store: Store, answered: dict[str, Any], tmp_path: Path) -> None:
    result = export_dataset(store, "tox", "jsonl", tmp_path / "tox.jsonl", actor="user:1",
                            answers=False)
    assert result.items == 4 and result.answers == 0 and not result.answers_included
    records = read_jsonl(tmp_path / "tox.jsonl")
    assert all("annotations" not in r for r in records.values())
    # The label and the soft label (the disagreement) are still there.
    assert records["a"]["label"]["answer"] == TOXIC and records["a"]["label"]["n_answers"] == 3
    assert records["a"]["soft_label"]["toxic"] == pytest.approx(2 / 3, abs=1e-6)
    assert b'"w_' not in (tmp_path / "tox.jsonl").read_bytes()
    export_dataset(store, "tox", "parquet", tmp_path / "tox.parquet", actor="user:1",
                   answers=False)
    table = pq.read_table(tmp_path / "tox.parquet")
    assert "annotations" not in table.column_names and table.num_rows == 4
    assert table.column_names == [c.name for c in ITEM_COLUMNS]
    with store.read() as conn:
        events = conn.execute(select(ledger_events.c.body).where(
            ledger_events.c.event == "dataset.exported")).scalars().all()
    assert [e["answers_included"] for e in events] == [False, False]
    assert all(e["answers"] is None for e in events)


def test_parquet_columns_are_the_declared_ones(store: Store, answered: dict[str, Any],
                                               tmp_path: Path) -> None:
    export(store, "parquet", tmp_path / "tox.parquet")
    schema = pq.read_schema(tmp_path / "tox.parquet")
    assert schema.names == [c.name for c in ITEM_COLUMNS] + ["annotations"]
    answer_type = schema.field("annotations").type.value_type
    assert [answer_type.field(i).name for i in range(answer_type.num_fields)] == \
        [c.name for c in ANSWER_COLUMNS]


def test_qualification_items_are_not_part_of_the_dataset(store: Store, tmp_path: Path) -> None:
    with store.write() as conn:
        make_project(conn, "tox", overlap=1,
                     quality={"qualification_size": 1, "qualification_pass": 1.0})
        (worker,) = add_workers(conn, 1, prefix=SECRET_PREFIX)
    import_rows(store, "tox", [
        {"id": "q-1", "text": "test question", "gold": "toxic", "qualification": True},
        {"id": "a", "text": "a real item"},
    ])
    answer_all(store, "tox", [worker], {"q-1": [TOXIC], "a": [NOT_TOXIC]})
    with store.read() as conn:
        stored = conn.execute(select(items.c.external_id, items.c.answers)).all()
    assert {r.external_id for r in stored} == {"q-1", "a"}
    assert export(store, "jsonl", tmp_path / "tox.jsonl") == 1
    assert list(read_jsonl(tmp_path / "tox.jsonl")) == ["a"]


def test_a_folder_format_needs_a_new_or_empty_folder(store: Store, answered: dict[str, Any],
                                                     tmp_path: Path) -> None:
    tmp_path = tmp_path / "exports"  # the SQLite store lives in tmp_path itself
    tmp_path.mkdir()
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(Invalid) as info:
        export_dataset(store, "tox", "croissant", taken, actor="user:1")
    assert info.value.field == "out" and "not an empty folder" in info.value.message
    assert sorted(p.name for p in taken.iterdir()) == ["keep.txt"]
    with pytest.raises(Invalid) as info:
        export_dataset(store, "tox", "jsonl", taken, actor="user:1")
    assert info.value.field == "out" and "is a folder" in info.value.message
    empty = tmp_path / "empty"
    empty.mkdir()
    result = export_dataset(store, "tox", "croissant", empty, actor="user:1")
    assert set(result.files) == {"croissant.json", "items.parquet", "annotations.parquet"}
    # Nothing half-written is left next to the targets.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "taken"]


def test_k_can_only_be_raised(store: Store, answered: dict[str, Any], tmp_path: Path) -> None:
    tmp_path = tmp_path / "exports"
    tmp_path.mkdir()
    with pytest.raises(Invalid) as info:
        export_dataset(store, "tox", "croissant", tmp_path / "low", actor="user:1", k=4)
    assert info.value.field == "k" and "never lowered" in info.value.message
    assert not (tmp_path / "low").exists() and list(tmp_path.iterdir()) == []
    result = export_dataset(store, "tox", "croissant", tmp_path / "high", actor="user:1", k=7)
    assert result.k == 7
    doc = json.loads((tmp_path / "high" / "croissant.json").read_text(encoding="utf-8"))
    assert "at least 7 workers" in doc["description"]
    with store.read() as conn:
        (event,) = conn.execute(select(ledger_events.c.body).where(
            ledger_events.c.event == "dataset.exported")).scalars().all()
    assert event["k"] == 7 and event["format"] == "croissant"


def test_a_failed_export_leaves_nothing_and_records_nothing(
        store: Store, answered: dict[str, Any], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk full")

    monkeypatch.setattr(dataset, "_write_parquet", broken)
    tmp_path = tmp_path / "exports"
    tmp_path.mkdir()
    with pytest.raises(RuntimeError):
        export(store, "parquet", tmp_path / "tox.parquet")
    assert list(tmp_path.iterdir()) == []
    with store.read() as conn:
        assert conn.execute(select(ledger_events).where(
            ledger_events.c.event == "dataset.exported")).first() is None


def test_hf_without_the_datasets_extra_says_how_to_install_it(
        store: Store, answered: dict[str, Any], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)  # import datasets -> ImportError
    with pytest.raises(Invalid) as info:
        export_dataset(store, "tox", "hf", tmp_path / "hf", actor="user:1")
    assert "pip install 'handloom[hf]'" in info.value.message and info.value.field == "format"
    assert not (tmp_path / "hf").exists()


# ---------------------------------------------------------------- a scripted project
@pytest.fixture
def scenario(store: Store) -> Scenario:
    return build(store)


def test_every_format_matches_the_raw_tables_and_hides_every_worker_identity(
        store: Store, scenario: Scenario, tmp_path: Path) -> None:
    with store.read() as conn:
        pid = get_project(conn, "tox").id
        item_rows = conn.execute(select(items.c.external_id).where(
            items.c.project_id == pid, items.c.is_qualification.is_(False))).scalars().all()
        raw = conn.execute(select(annotations, items.c.external_id).join_from(
            annotations, items).where(annotations.c.project_id == pid)).all()
    formats = {"jsonl": "tox.jsonl", "parquet": "tox.parquet", "croissant": "croissant"}
    if importlib.util.find_spec("datasets") is not None:
        formats["hf"] = "hf"
    for fmt, name in formats.items():
        result = export_dataset(store, "tox", fmt, tmp_path / name, actor="user:1")
        assert result.items == len(item_rows) == 12 and result.answers == len(raw) == 39
        # The ledger names every file with its digest.
        for rel, digest in result.files.items():
            path = tmp_path / name if fmt in ("jsonl", "parquet") else tmp_path / name / rel
            assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
        assert_no_secrets(store, tmp_path / name)
    records = read_jsonl(tmp_path / "tox.jsonl")
    assert sorted(records) == sorted(item_rows)
    with store.read() as conn:
        secret = get_project(conn, "tox").pseudonym_secret
    by_answer = {(r.external_id, pseudonym(secret, r.worker_id)): r for r in raw}
    role = {w: "crowd" for w in scenario.crowd} | {w: "vendor" for w in scenario.vendor} | \
        {w: "expert" for w in scenario.experts}
    seen = 0
    for item_id, record in records.items():
        for a in record["annotations"]:
            row = by_answer[(item_id, a["worker"])]
            assert a["answer"] == row.answer and a["review_status"] == row.review_status
            assert a["suggestion_shown"] is (row.suggestion is not None)
            assert a["active_seconds"] == row.active_seconds
            assert a["role_class"] == role[row.worker_id]
            assert a["vendor"] == ("Savanna Labeling" if row.worker_id in scenario.vendor
                                   else None)
            assert a["instruction_version"] == row.instruction_version
            seen += 1
    assert seen == len(raw)
    assert records[scenario.decided_item]["label"]["method"] == "adjudicated"
    rejected = [a for a in records[scenario.rejected_item]["annotations"]
                if a["review_status"] == "rejected"]
    assert len(rejected) == 1
    assert records[scenario.rejected_item]["label"]["n_answers"] == \
        len(records[scenario.rejected_item]["annotations"]) - 1
    assert records["i-0"]["sensitivity"] == ["hate"] and records["g-1"]["is_gold"] is True
    assert records["late"]["label"]["answer"] is None and records["late"]["annotations"] == []


# ---------------------------------------------------------------- the CLI
@pytest.fixture
def cli_workspace(tmp_path: Path) -> tuple[Path, Store]:
    ws, _token = init_workspace(tmp_path / "ws")
    store = open_store(ws)
    build(store)
    return ws.root, store


def run_cli(*args: str | Path) -> Any:
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})


def test_cli_exports_every_format(cli_workspace: tuple[Path, Store], tmp_path: Path) -> None:
    root, store = cli_workspace
    try:
        out = tmp_path / "out" / "tox.parquet"
        done = run_cli("export", "tox", "-f", "parquet", "-o", out, "-w", root)
        assert done.exit_code == 0, done.output
        assert "Wrote 12 items and 39 answers" in " ".join(done.output.split())
        assert pq.read_table(out).num_rows == 12
        folder = tmp_path / "out" / "croissant"
        done = run_cli("export", "tox", "--format", "croissant", "--out", folder,
                       "--no-answers", "--k", "6", "--json", "-w", root)
        assert done.exit_code == 0, done.output
        summary = json.loads(done.stdout)
        assert summary["items"] == 12 and summary["answers_included"] is False
        assert summary["k"] == 6 and set(summary["files"]) == {"croissant.json",
                                                                 "items.parquet"}
        assert sorted(p.name for p in folder.iterdir()) == ["croissant.json", "items.parquet"]
        low = run_cli("export", "tox", "-f", "croissant", "-o", tmp_path / "low", "--k", "3",
                      "-w", root)
        assert low.exit_code == 1 and "never lowered" in " ".join(low.output.split())
        assert not (tmp_path / "low").exists()
        taken = run_cli("export", "tox", "-f", "croissant", "-o", folder, "-w", root)
        assert taken.exit_code == 1 and "not an empty folder" in " ".join(taken.output.split())
        with store.read() as conn:
            bodies = conn.execute(select(ledger_events.c.body, ledger_events.c.actor).where(
                ledger_events.c.event == "dataset.exported")).all()
            assert ledger.verify(conn).ok
        assert [(b.body["format"], b.actor) for b in bodies] == [("parquet", "cli"),
                                                                  ("croissant", "cli")]
    finally:
        store.dispose()


def test_cli_hf_without_the_extra(cli_workspace: tuple[Path, Store], tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    root, store = cli_workspace
    store.dispose()
    monkeypatch.setitem(sys.modules, "datasets", None)
    done = run_cli("export", "tox", "-f", "hf", "-o", tmp_path / "hf", "-w", root)
    assert done.exit_code == 1
    assert "pip install 'handloom[hf]'" in " ".join(done.output.split())
    assert not (tmp_path / "hf").exists()


# ---------------------------------------------------------------- the API and the SDK
@pytest.fixture
def served(store: Store, scenario: Scenario) -> Any:
    from web_helpers import create_person, start_live_server, stop_live_server

    from handloom.web.app import create_app

    auditor = create_person(store, "auditor", "auditor-user")
    live = start_live_server(create_app(store))
    try:
        yield live.url, auditor
    finally:
        stop_live_server(live)


def test_api_exports_files_and_zipped_folders(served: Any, store: Store,
                                              tmp_path: Path) -> None:
    url, auditor = served
    with httpx.Client(base_url=url, timeout=60.0, headers=auditor.headers) as api:
        got = api.get("/api/v1/projects/tox/export", params={"format": "jsonl"})
        assert got.status_code == 200 and got.headers["content-type"].startswith(
            "application/x-ndjson")
        assert len(got.text.splitlines()) == 12
        got = api.get("/api/v1/projects/tox/export",
                      params={"format": "croissant", "answers": "false", "k": 6})
        assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
        with zipfile.ZipFile(io.BytesIO(got.content)) as archive:
            assert sorted(archive.namelist()) == ["croissant.json", "items.parquet"]
            doc = json.loads(archive.read("croissant.json"))
        assert "at least 6 workers" in doc["description"]
        bad = api.get("/api/v1/projects/tox/export", params={"format": "xlsx"})
        assert bad.status_code == 422 and bad.json()["field"] == "format"
        low = api.get("/api/v1/projects/tox/export",
                      params={"format": "croissant", "k": 5})
        assert low.status_code == 200
        missing = api.get("/api/v1/projects/nope/export", params={"format": "croissant"})
        assert missing.status_code == 404 and "message" in missing.json()
    client = Client(url, auditor.token)
    try:
        folder = client.export_to("tox", tmp_path / "sdk-croissant", "croissant")
        assert (folder / "croissant.json").is_file() and (folder / "annotations.parquet").is_file()
        jsonl = client.export_to("tox", tmp_path / "sdk" / "tox.jsonl", answers=False)
        assert all("annotations" not in json.loads(line)
                   for line in jsonl.read_text(encoding="utf-8").splitlines())
    finally:
        client.close()
    with store.read() as conn:
        events = conn.execute(select(ledger_events.c.body, ledger_events.c.actor).where(
            ledger_events.c.event == "dataset.exported")).all()
    assert len(events) == 5 and all(e.actor.startswith("user:") for e in events)


def test_a_missing_extra_skips_or_fails_when_extras_are_required(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)
    monkeypatch.delenv(REQUIRE_EXTRAS_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        import_extra("datasets", "hf")
    assert "pip install 'handloom[hf]'" in str(skipped.value)
    monkeypatch.setenv(REQUIRE_EXTRAS_ENV, "1")
    with pytest.raises(pytest.fail.Exception) as failed:
        import_extra("datasets", "hf")
    assert "HANDLOOM_REQUIRE_EXTRAS=1" in str(failed.value)
