"""Dataset export: every item, its aggregate label, and pseudonymous per-answer provenance."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select, update

from factories import add_workers, answer_all, import_rows, make_project
from handloom import ledger
from handloom.disclose.dataset import export_project
from handloom.disclose.privacy import pseudonym
from handloom.errors import Invalid
from handloom.store.db import Store
from handloom.store.schema import items, ledger_events
from handloom.work import accounts
from handloom.work.projects import get_project

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
