"""The recourse and voice commands: reject an answer, list and decide appeals, review workers,
answer flags (in words or with an instruction version), show the terms."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from cli_helpers import flat, run
from factories import WorkspaceInfo, answer_next, import_rows, make_project, text_items
from handloom.labor import appeals, guidelines, standing, terms
from handloom.store.schema import annotations, guideline_issues
from handloom.work import accounts, projects
from handloom.workspace import open_store

BOTH = [pytest.param("sqlite", id="sqlite"), pytest.param("pg", id="pg", marks=pytest.mark.pg)]





def seed(workspace: WorkspaceInfo) -> dict[str, int]:
    store = open_store(workspace.workspace)
    try:
        with store.write() as conn:
            make_project(conn, "tox", overlap=1, terms_required=True,
                         data_retention="Two years.", content_categories=["hate"],
                         pay={"model": "piece", "currency": "USD", "piece_rate": "0.10",
                              "est_seconds_per_item": 12})
            ann = accounts.add_worker(conn, "ann")
            for name, role in (("rita", "reviewer"), ("sam", "reviewer"), ("mona", "manager"),
                               ("aldo", "auditor")):
                accounts.create_user(conn, name, role)
            terms.consent(conn, projects.get_project(conn, "tox"), ann)
        import_rows(store, "tox", text_items(4))
        done = answer_next(store, "tox", ann)
        assert done is not None
        return {"ann": ann, "annotation": done.annotation_id}
    finally:
        store.dispose()


@pytest.mark.parametrize("workspace", BOTH, indirect=True)
def test_reject_appeal_and_decide_from_the_command_line(workspace: WorkspaceInfo) -> None:
    ids = seed(workspace)
    root = workspace.root
    refused = run("answer", "reject", "tox", ids["annotation"], "--reason", "off topic",
                  "--by", "aldo", "-w", root, ok=False)
    assert refused.exit_code != 0 and "auditor" in flat(refused.output)
    unknown = run("answer", "reject", "tox", ids["annotation"], "--reason", "x", "--by",
                  "nobody", "-w", root, ok=False)
    assert "No active user 'nobody'" in flat(unknown.output)
    out = run("answer", "reject", "tox", ids["annotation"], "--reason", "off topic",
              "--fraud", "--by", "rita", "-w", root)
    assert "0.10 USD clawed back" in flat(out.output)

    store = open_store(workspace.workspace)
    try:
        with store.write() as conn:
            appeal_id = appeals.file(conn, projects.get_project(conn, "tox"), ids["ann"],
                                     "rejection", ids["annotation"], "It is on topic.")
    finally:
        store.dispose()
    listed = json.loads(run("appeal", "list", "--json", "-w", root).stdout)
    assert [a["id"] for a in listed] == [appeal_id]
    assert "statement" not in listed[0] and listed[0]["contested_by"] == "rita"
    shown = run("appeal", "show", appeal_id, "-w", root)
    assert "It is on topic." in shown.output
    own = run("appeal", "decide", appeal_id, "--uphold", "--reason", "fine", "--by", "rita",
              "-w", root, ok=False)
    assert own.exit_code != 0 and "someone else must decide" in flat(own.output)
    neither = run("appeal", "decide", appeal_id, "--reason", "fine", "--by", "sam", "-w", root,
                  ok=False)
    assert "--uphold or --deny" in flat(neither.output)
    decided = run("appeal", "decide", appeal_id, "--uphold", "--reason", "It is on topic.",
                  "--by", "sam", "-w", root)
    assert "upheld" in decided.output and "USD 0.10 of pay was restored" in flat(decided.output)
    assert json.loads(run("appeal", "list", "--status", "upheld", "--json", "-w",
                          root).stdout)[0]["decided_by"] == "sam"
    store = open_store(workspace.workspace)
    try:
        with store.read() as conn:
            assert conn.execute(select(annotations.c.review_status)).scalar() == "accepted"
    finally:
        store.dispose()
    run("ledger", "verify", "-w", root)


def test_reviews_of_workers_flags_and_terms(workspace: WorkspaceInfo, tmp_path: Path) -> None:
    ids = seed(workspace)
    root = workspace.root
    store = open_store(workspace.workspace)
    try:
        with store.write() as conn:
            row = projects.get_project(conn, "tox")
            who = standing.project_workers(conn, row)[0]
            issue = guidelines.flag(conn, row, ids["ann"], kind="unclear", note="Sarcasm?")
            second = guidelines.flag(conn, row, ids["ann"], kind="unclear", note="Emoji?")
    finally:
        store.dispose()
    reviewer_tries = run("review-worker", "open", "--project", "tox", "--worker", who, "--by",
                         "rita", "-w", root, ok=False)
    assert reviewer_tries.exit_code != 0 and "worker_review.open" in flat(reviewer_tries.output)
    run("review-worker", "open", "--project", "tox", "--worker", who, "--by", "mona", "-w", root)
    listed = json.loads(run("review-worker", "list", "--project", "tox", "--json", "-w",
                            root).stdout)
    assert listed[0]["worker"] == who and listed[0]["status"] == "open"
    decided = run("review-worker", "decide", listed[0]["id"], "--remove", "--reason",
                  "Copied answers", "--by", "mona", "-w", root)
    assert "removed" in decided.output
    table = run("review-worker", "list", "--project", "tox", "-w", root).output
    assert "Copied answers" in table

    answered = run("flags", "answer", issue, "Sarcasm counts.", "--by", "mona", "-w", root)
    assert f"Flag {issue} answered" in answered.output
    v2 = tmp_path / "v2.md"
    v2.write_text("Emoji are not toxic by themselves.", encoding="utf-8")
    bad = run("project", "instructions", "tox", v2, "--answers", "x,1", "-w", root, ok=False)
    assert "--answers takes flag ids" in flat(bad.output)
    unknown = run("project", "instructions", "tox", v2, "--answers", "999", "-w", root,
                  ok=False)
    assert "#999" in flat(unknown.output)
    published = run("project", "instructions", "tox", v2, "--answers", str(second), "-w", root)
    assert f"answers flag(s) {second}" in flat(published.output)
    flags = {f["id"]: f for f in json.loads(run("flags", "list", "--project", "tox", "--json",
                                                "-w", root).stdout)}
    assert flags[issue]["answer"] == "Sarcasm counts."
    assert flags[second]["resolved_in_version"] == 2
    store = open_store(workspace.workspace)
    try:
        with store.read() as conn:
            statuses = set(conn.execute(select(guideline_issues.c.status)).scalars())
    finally:
        store.dispose()
    assert statuses == {"answered"}

    shown = json.loads(run("terms", "show", "--project", "tox", "--json", "-w", root).stdout)
    assert shown["terms"]["pay"]["piece_rate"] == "0.10" and shown["required"] is True
    assert shown["consents"] == {"current": 1, "older_terms": 0, "withdrawn": 0}
    text = flat(run("terms", "show", "--project", "tox", "-w", root).output)
    assert "USD 0.10 per item" in text and "about 12 s per item" in text
    assert "hate" in text and "Two years." in text
