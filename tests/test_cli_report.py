"""``handloom report`` and ``handloom ledger anchor`` on a real workspace: the files are
written and recorded on the ledger, the anchor (read from either file) checks out, and a
changed file or a lowered k is refused with a message saying why."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli_helpers import BOTH, flat, run
from factories import WorkspaceInfo, add_workers, answer_all, import_rows, make_project, text_items
from handloom import ledger
from handloom.config import load_workspace
from handloom.store.db import Store


@pytest.fixture
def project(workspace: WorkspaceInfo) -> Iterator[Store]:
    store = Store(load_workspace(workspace.root).database_url)
    try:
        with store.write() as conn:
            make_project(conn, "tox", title="Toxic replies", overlap=2, status="open")
            ids = add_workers(conn, 6, prefix="secret-worker")
        import_rows(store, "tox", text_items(6))
        answer_all(store, "tox", ids, {})
        yield store
    finally:
        store.dispose()


@BOTH
def test_report_writes_both_files_and_records_them(workspace: WorkspaceInfo, project: Store,
                                                  tmp_path: Path) -> None:
    out = tmp_path / "reports" / "tox"
    result = run("report", "tox", "--out", out, "-w", workspace.root, "--json")
    written = json.loads(result.output)
    names = {f["name"]: f for f in written["files"]}
    assert set(names) == {"report.html", "report.md"}
    for name, f in names.items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == f["sha256"]
    assert "secret-worker" not in (out / "report.html").read_text()
    with project.read() as conn:
        assert ledger.verify(conn).ok
        assert ledger.head(conn)[0] == written["event_seq"]
    # plain output names the files and the anchor
    plain = flat(run("report", "tox", "-o", out, "-w", workspace.root).output)
    assert f"Wrote {out / 'report.html'} (sha256" in plain
    assert "no figure describes fewer than 5 workers" in plain

    checked = flat(run("ledger", "anchor", "--file", out / "report.html", "--file",
                       out / "report.md", "-w", workspace.root).output)
    assert checked.startswith("Ledger intact")
    assert "the file(s) were recorded at event" in checked
    seq, digest = written["anchor"]["seq"], written["anchor"]["hash"]
    # the anchor of the first report still holds after the second was recorded
    assert "carries the report's anchor hash" in flat(
        run("ledger", "anchor", str(seq), digest, "-w", workspace.root).output)


def test_a_changed_file_or_a_lower_k_is_refused(workspace: WorkspaceInfo, project: Store,
                                                tmp_path: Path) -> None:
    out = tmp_path / "r"
    run("report", "tox", "--out", out, "-w", workspace.root)
    page = out / "report.html"
    page.write_text(page.read_text().replace("Toxic replies", "Nice replies"))
    refused = run("ledger", "anchor", "--file", page, "-w", workspace.root, ok=False)
    assert refused.exit_code == 2
    assert "no report.generated event records report.html" in flat(refused.output)
    low = run("report", "tox", "--out", tmp_path / "low", "--k", "3", "-w", workspace.root,
              ok=False)
    assert low.exit_code == 1 and "never lowered" in flat(low.output)
    assert not (tmp_path / "low").exists()
    missing = run("ledger", "anchor", "-w", workspace.root, ok=False)
    assert "Give the anchor as SEQ HASH" in flat(missing.output)
