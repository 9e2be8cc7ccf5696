"""A scripted project for the export tests, built through the real services, with secrets
planted where an export must never look: worker refs (also their usernames) shaped like
e-mail addresses, a review note, a reviewer's reason, a skip reason and a check-in note."""

from __future__ import annotations

import importlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from factories import import_rows, make_project
from handloom.labor import wellbeing
from handloom.store.db import Store
from handloom.store.schema import annotations, items, workers
from handloom.work import accounts, projects, review, routing
from handloom.work.routing import next_item
from handloom.work.submissions import submit_answer

REQUIRE_EXTRAS_ENV = "HANDLOOM_REQUIRE_EXTRAS"
SECRET = "zq-private-ref"  # every worker ref starts with it
EMAIL_DOMAIN = "mail.example"
REVIEW_NOTE = "PRIVATE-REVIEW-NOTE-kx41"
DECISION_REASON = "PRIVATE-DECISION-REASON-pp08"
SKIP_REASON = "PRIVATE-SKIP-REASON-mm52"
CHECKIN_NOTE = "PRIVATE-CHECKIN-NOTE-jj77"
TOXIC, NOT_TOXIC = {"label": "toxic"}, {"label": "not_toxic"}
ITEMS = [f"i-{n}" for n in range(10)]
STATEMENT = {
    "license": "CC-BY-4.0",
    "data_collection": "Replies sampled from a public forum dump.",
    "collection_timeframe": "2023-01/2023-06",
    "personal_information": "Usernames were removed before import.",
    "biases": "Over-represents US slang.",
    "use_cases": "Moderation assistance, not automated bans.",
    "citation": "@misc{tox2024, title={Toxic replies}}",
}


def import_extra(module: str, extra: str) -> Any:
    """Import an optional extra's module for a test module, or skip it with how to install
    the extra; with HANDLOOM_REQUIRE_EXTRAS=1 (CI) a missing extra fails instead."""
    reason = f"needs the optional package {module!r}: pip install 'handloom[{extra}]'"
    if os.environ.get(REQUIRE_EXTRAS_ENV) == "1":
        try:
            return importlib.import_module(module)
        except ImportError:
            pytest.fail(f"{REQUIRE_EXTRAS_ENV}=1 but the test {reason}", pytrace=False)
    return pytest.importorskip(module, reason=reason)


@dataclass
class Scenario:
    """Project "tox": 6 crowd workers in the US, 2 vendor workers in Kenya and 3 experts in
    Britain (two groups below k = 5), ten items (two tagged "hate"), a gold item and an item
    nobody answered; one answer rejected, one item decided by a reviewer."""

    store: Store
    crowd: list[int] = field(default_factory=list)
    vendor: list[int] = field(default_factory=list)
    experts: list[int] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)
    rejected_item: str = "i-0"
    decided_item: str = "i-1"

    @property
    def workers(self) -> list[int]:
        return self.crowd + self.vendor + self.experts


def ref(n: int) -> str:
    return f"{SECRET}-{n}@{EMAIL_DOMAIN}"


def _answer(store: Store, worker_id: int, n: int) -> bool:
    """The worker takes their next item and answers it: "toxic" on the hate-tagged items
    (and on i-2 for the first three workers), with a model suggestion shown to every
    second worker. Returns False when nothing is left."""
    with store.write() as conn:
        row = projects.get_project(conn, "tox")
        lease = next_item(conn, row, worker_id)
        if lease is None:
            return False
        toxic = lease.external_id in ("i-0", "i-1") or (lease.external_id == "i-2" and n < 3)
        suggestion = ({"answer": TOXIC, "model": "tfidf-logreg"} if n % 2 == 0 else None)
        submit_answer(conn, row, projects.kind_of(row), worker_id, lease.assignment_id,
                      TOXIC if toxic else NOT_TOXIC, idempotency_key=f"k-{lease.assignment_id}",
                      active_seconds=10.0 + n, suggestion=suggestion)
    return True


def build(store: Store) -> Scenario:
    s = Scenario(store)
    with store.write() as conn:
        make_project(conn, "tox", title="Toxic replies", overlap=3, gold_rate=0.25,
                     content_categories=["hate"],
                     purpose="Train a classifier that flags toxic replies.",
                     data_source="A public forum dump (2023).", disclosure=STATEMENT)
        accounts.ensure_vendor(conn, "Savanna Labeling", parent="Northwind Data Services")
        for n in range(11):
            s.refs.append(ref(n))
            if n < 6:
                s.crowd.append(accounts.add_worker(conn, ref(n), jurisdiction="US"))
            elif n < 8:
                s.vendor.append(accounts.add_worker(conn, ref(n), role_class="vendor",
                                                    vendor="Savanna Labeling",
                                                    jurisdiction="KE"))
            else:
                s.experts.append(accounts.add_worker(conn, ref(n), role_class="expert",
                                                     jurisdiction="GB"))
        reviewer = accounts.create_user(conn, "rev-" + ref(99), "reviewer")
    rows: list[dict[str, Any]] = [{"id": i, "text": f"reply {i}"} for i in ITEMS]
    rows[0]["sensitivity"] = ["hate"]
    rows[1]["sensitivity"] = ["hate"]
    rows.append({"id": "g-1", "text": "have a nice day", "gold": "not_toxic"})
    import_rows(store, "tox", rows)
    # The first worker skips their first item (with a reason) before answering.
    with store.write() as conn:
        lease = next_item(conn, projects.get_project(conn, "tox"), s.workers[0])
        assert lease is not None
        routing.close_lease(conn, routing.load_project(conn, "tox"), s.workers[0],
                            lease.assignment_id, status="skipped", reason=SKIP_REASON)
    # Round robin, one item at a time, so that every worker answers some items.
    waiting = dict(enumerate(s.workers))
    while waiting:
        for n, worker_id in list(waiting.items()):
            if not _answer(store, worker_id, n):
                del waiting[n]
    import_rows(store, "tox", [{"id": "late", "text": "nobody answered me"}], source="late.jsonl")
    with store.write() as conn:
        p = projects.get_project(conn, "tox")
        first = conn.execute(
            select(annotations.c.id).join_from(annotations, items)
            .where(annotations.c.project_id == p.id, items.c.external_id == s.rejected_item)
            .order_by(annotations.c.id)).scalars().first()
        review.reject_answer(conn, p, int(first), reviewer, REVIEW_NOTE, actor="rev")
        review.resolve(conn, p, s.decided_item, reviewer, NOT_TOXIC, DECISION_REASON, "rev")
        wellbeing.check_in(conn, p, s.workers[0], feeling=2, note=CHECKIN_NOTE)
    return s


def worker_ids(store: Store) -> list[int]:
    with store.read() as conn:
        return [int(i) for i in conn.execute(select(workers.c.id)).scalars()]


def secrets_of(store: Store) -> list[bytes]:
    """Byte strings that must appear in no exported file: the worker refs (= usernames and
    e-mail-shaped), the planted notes and reasons, and the project's pseudonym secret."""
    with store.read() as conn:
        secret = projects.get_project(conn, "tox").pseudonym_secret
        worker_refs = list(conn.execute(select(workers.c.ref)).scalars())
    texts = [SECRET, EMAIL_DOMAIN, REVIEW_NOTE, DECISION_REASON, SKIP_REASON, CHECKIN_NOTE,
             secret, *worker_refs]
    return [t.encode() for t in texts]


def decoded_text(path: Path) -> str:
    """A file's content as text for searching: Parquet and Arrow files decoded to their
    values (their bytes may be compressed), everything else as is."""
    if path.suffix == ".parquet":
        return json.dumps(pq.read_table(path).to_pylist(), default=str)
    if path.suffix == ".arrow":
        import pyarrow as pa

        with pa.memory_map(str(path)) as source:
            return json.dumps(pa.ipc.open_stream(source).read_all().to_pylist(), default=str)
    return path.read_bytes().decode("utf-8", errors="replace")


FORBIDDEN_KEYS = frozenset({"worker_id", "ref", "username", "email", "e-mail", "review_note",
                            "reviewed_by", "reason", "note", "statement", "pay", "jurisdiction"})


def keys_in(path: Path) -> set[str]:
    """Every column name and object key in a data file (lower case)."""
    found: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            for k, inner in v.items():
                found.add(str(k).lower())
                walk(inner)
        elif isinstance(v, list):
            for inner in v:
                walk(inner)

    if path.suffix in (".parquet", ".arrow"):
        walk(json.loads(decoded_text(path)))
    elif path.suffix == ".json":
        walk(json.loads(path.read_text(encoding="utf-8")))
    elif path.suffix == ".jsonl":
        for line in path.read_text(encoding="utf-8").splitlines():
            walk(json.loads(line))
    return found


def assert_no_secrets(store: Store, root: Path) -> int:
    """No secret in the raw bytes or the decoded values of any file under *root* (or the
    file *root*), and no column or key naming a worker id, ref, username, e-mail, note or
    reason. Returns the number of files checked."""
    secrets = secrets_of(store)
    files = [p for p in root.rglob("*") if p.is_file()] if root.is_dir() else [root]
    assert files
    for path in files:
        data = path.read_bytes()
        text = decoded_text(path)
        for secret in secrets:
            assert secret not in data, f"{secret!r} in the bytes of {path}"
            assert secret.decode() not in text, f"{secret!r} in the values of {path}"
        # JSON-LD uses "@id"s and prov: keys; none of them may name a worker attribute.
        bad = {k for k in keys_in(path) if k.split(":")[-1] in FORBIDDEN_KEYS}
        assert not bad, f"{sorted(bad)} in {path}"
    return len(files)
