"""Small builders for test data, going through the real services (never raw inserts)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from handloom.config import Workspace
from handloom.store.db import Store
from handloom.work import accounts, projects
from handloom.work.importing import ImportResult, import_items
from handloom.work.routing import next_item
from handloom.work.submissions import Submission, submit_answer

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = REPO_ROOT / "examples"
TOXICITY_LABELS = ["toxic", "not_toxic", "unsure"]

# Kind configuration used when a test does not give one.
DEFAULT_KIND_CONFIG: dict[str, dict[str, Any]] = {
    "classification": {"labels": TOXICITY_LABELS},
}


def make_project(conn: Connection, name: str = "p", kind: str = "classification",
                 **spec: Any) -> Any:
    """Create a project from a spec (parsed like a TOML file) and return its row."""
    raw: dict[str, Any] = {"name": name, "kind": kind, **DEFAULT_KIND_CONFIG.get(kind, {})}
    # Most tests are about something other than consent; those that are pass it explicitly.
    raw.setdefault("terms_required", False)
    raw.update(spec)
    parsed = projects.parse_spec(raw)
    project_id = projects.create_project(conn, parsed, actor="test")
    return projects.get_project(conn, project_id)


def project(conn: Connection, name: str = "p") -> Any:
    """The current row of a project (re-read after counters or status changed)."""
    return projects.get_project(conn, name)


def add_workers(conn: Connection, n: int, *, prefix: str = "worker", **kwargs: Any) -> list[int]:
    """Add *n* workers named ``{prefix}-1`` … and return their worker ids."""
    return [accounts.add_worker(conn, f"{prefix}-{i}", **kwargs) for i in range(1, n + 1)]


def import_rows(store: Store, project_name: str, rows: Sequence[Mapping[str, Any]],
                source: str = "rows.jsonl") -> ImportResult:
    """Import in-memory rows into a project (all or nothing, like a file)."""
    return import_items(store, project_name, source, rows=[dict(r) for r in rows], actor="test")


def text_items(n: int, *, prefix: str = "item", **extra: Any) -> list[dict[str, Any]]:
    """*n* classification items ``{prefix}-1`` … with a short text each."""
    return [{"id": f"{prefix}-{i}", "text": f"text number {i}", **extra} for i in range(1, n + 1)]


def write_jsonl(path: Path, rows: Iterable[Mapping[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def answer_next(store: Store, project_name: str, worker_id: int,
                choose: Mapping[str, Mapping[str, Any]] | None = None,
                default: Mapping[str, Any] | None = None) -> Submission | None:
    """Lease the worker's next item and answer it; the answer is looked up by the item's id in
    *choose* (else *default*). Returns None when nothing is left for the worker."""
    with store.write() as conn:
        row = projects.get_project(conn, project_name)
        lease = next_item(conn, row, worker_id)
        if lease is None:
            return None
        answer = dict((choose or {}).get(lease.external_id) or default or {"label": "not_toxic"})
        return submit_answer(conn, row, projects.kind_of(row), worker_id, lease.assignment_id,
                             answer, idempotency_key=f"{worker_id}-{lease.assignment_id}",
                             active_seconds=12.5)


def answer_all(store: Store, project_name: str, worker_ids: Sequence[int],
               answers: Mapping[str, Sequence[Mapping[str, Any]]]) -> int:
    """Have the workers answer items: ``answers[item_id][k]`` is worker k's answer. Each
    worker keeps taking items until the router has nothing left for them; items missing from
    *answers* (or answers beyond the list) are answered ``not_toxic``. Returns the count."""
    count = 0
    for k, worker_id in enumerate(worker_ids):
        choose = {item: given[k] for item, given in answers.items() if k < len(given)}
        while answer_next(store, project_name, worker_id, choose) is not None:
            count += 1
    return count


@dataclass(frozen=True)
class WorkspaceInfo:
    """A workspace created by ``init_workspace``, with the owner's first API token."""

    workspace: Workspace
    owner_token: str

    @property
    def root(self) -> Path:
        return self.workspace.root
