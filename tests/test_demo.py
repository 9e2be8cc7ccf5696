"""The demo workspace opens populated: answers in every project, disagreements waiting for
review, a few already decided, work left for the workers, and a ledger that verifies."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from factories import EXAMPLES
from handloom import demo_answers, ledger
from handloom.config import load_workspace
from handloom.demo import build_demo
from handloom.demo_finished import NAME as FINISHED
from handloom.disclose import facts
from handloom.disclose.dataset import export_project
from handloom.kinds.base import get_kind
from handloom.store.db import Store
from handloom.store.schema import annotations as annotation_table
from handloom.store.schema import assignments, items, reviews
from handloom.store.schema import projects as project_table
from handloom.work import projects, review
from handloom.workspace import open_store


def build(root: Path) -> Store:
    build_demo(root, EXAMPLES)
    return open_store(load_workspace(root))


@pytest.fixture
def demo_store(tmp_path: Path) -> Any:
    store = build(tmp_path / "demo")
    try:
        yield store
    finally:
        store.dispose()


def test_the_demo_opens_to_a_populated_workspace(demo_store: Store, tmp_path: Path) -> None:
    with demo_store.read() as conn:
        names = list(conn.execute(select(project_table.c.name)).scalars())
        # every example, and the finished round (tested below)
        assert len(names) == len(list(EXAMPLES.glob("*/project.toml"))) + 1
        names.remove(FINISHED)
        waiting: dict[str, int] = {}
        for name in names:
            p = projects.get_project(conn, name)
            n_items = conn.execute(select(func.count()).select_from(items).where(
                items.c.project_id == p.id, items.c.is_gold.is_(False))).scalar_one()
            complete = conn.execute(select(func.count()).select_from(items).where(
                items.c.project_id == p.id, items.c.is_gold.is_(False),
                items.c.answers >= p.overlap)).scalar_one()
            untouched = conn.execute(select(func.count()).select_from(items).where(
                items.c.project_id == p.id, items.c.is_gold.is_(False),
                items.c.answers == 0, items.c.leased == 0)).scalar_one()
            assert 0.35 * n_items <= complete <= 0.65 * n_items, (name, complete, n_items)
            assert untouched > 0, name  # work is left for whoever signs in
            waiting[name] = review.waiting_count(conn, p)
            leases = conn.execute(select(func.count()).select_from(assignments).where(
                assignments.c.project_id == p.id, assignments.c.status == "leased")
            ).scalar_one()
            assert leases == 0, name
        assert sum(1 for n in waiting.values() if n > 0) >= 3, waiting
        seconds = list(conn.execute(select(annotation_table.c.active_seconds)).scalars())
        assert seconds and all(s is not None and 2 <= s <= 600 for s in seconds)
        gold = list(conn.execute(select(annotation_table.c.gold_correct)
                                 .where(annotation_table.c.is_gold.is_(True))).scalars())
        assert gold and sum(gold) / len(gold) >= 0.6  # gold answered mostly correctly
        decided = conn.execute(select(func.count()).select_from(reviews)).scalar_one()
        assert 2 <= decided <= 4  # a few in the open projects, one in the finished round
        assert ledger.verify(conn).ok
    out = tmp_path / "toxicity.jsonl"
    count = export_project(demo_store, "toxicity", "jsonl", out, actor="test")
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert count == len(records) == 120
    answered = [r for r in records if r["annotations"]]
    assert answered and all(a["worker"].startswith("w_")
                            for r in answered for a in r["annotations"])
    with demo_store.read() as conn:
        assert ledger.verify(conn).ok


def test_the_finished_round_has_a_report_worth_reading(demo_store: Store) -> None:
    """Closed, every item answered, paid out, and enough workers behind the figures that
    the report shows them at k = 5: pay against floors, demographics, appeals, a flag that
    prompted a new instruction version."""
    with demo_store.read() as conn:
        p = projects.get_project(conn, FINISHED)
        assert p.status == "closed"
        f = facts.gather(conn, p)
        assert ledger.verify(conn).ok
    assert f.dataset.answered_items == f.dataset.items - f.dataset.gold_items
    assert f.workforce.workers.value == 20
    assert len(f.workforce.jurisdictions) == 3 and f.workforce.max_vendor_layers == 2
    assert f.pay.effective_hourly.bins and f.pay.at_or_above_floor.value == 1.0
    assert f.pay.paid_share.value == 1.0 and f.pay.days_to_payment.value is not None
    assert any(d.values for d in f.workforce.demographics)
    assert f.voice.appeals_total.value == 6
    assert f.instructions.versions[-1].flags_answered
    assert f.quality.agreement is not None and not f.quality.agreement.value.suppressed
    assert f.stated["license"] == "CC-BY-4.0" and f.stated["assumptions"]


def test_every_answer_is_valid_for_its_kind(demo_store: Store) -> None:
    with demo_store.read() as conn:
        rows = conn.execute(
            select(project_table.c.kind, project_table.c.kind_config, items.c.payload,
                   annotation_table.c.answer)
            .join(items, items.c.id == annotation_table.c.item_id)
            .join(project_table, project_table.c.id == annotation_table.c.project_id)).all()
    assert len({r.kind for r in rows}) == 8  # every kind is answered
    for row in rows:
        kind = get_kind(row.kind, row.kind_config)
        assert kind.validate_answer(row.answer, row.payload) == row.answer


@pytest.mark.slow
def test_the_demo_is_reproducible(tmp_path: Path) -> None:
    def answers(root: Path) -> list[tuple[str, str, str]]:
        store = build(root)
        try:
            with store.read() as conn:
                rows = conn.execute(
                    select(project_table.c.name, items.c.external_id, annotation_table.c.answer)
                    .join(items, items.c.id == annotation_table.c.item_id)
                    .join(project_table, project_table.c.id == annotation_table.c.project_id)
                    .order_by(annotation_table.c.id)).all()
        finally:
            store.dispose()
        return [(r.name, r.external_id, ledger.canonical_json(r.answer)) for r in rows]

    assert answers(tmp_path / "one") == answers(tmp_path / "two")


def test_span_heuristics_give_correct_offsets() -> None:
    text = "On March 3, Lena Park of Northgate Credit Union opened a new branch in Ashford."
    found = {(text[s:e], label) for s, e, label in demo_answers.entity_spans(text)}
    assert {("March 3", "DATE"), ("Northgate Credit Union", "ORG"),
            ("Ashford", "PLACE")} <= found
    for line in (EXAMPLES / "entity-spans" / "items.jsonl").read_text().splitlines():
        sentence = json.loads(line)["text"]
        spans = demo_answers.entity_spans(sentence)
        assert all(sentence[s:e] == sentence[s:e].strip() and e > s for s, e, _ in spans)
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


def test_moderation_answers_follow_the_sensitivity_tags() -> None:
    kind = get_kind("moderation", {"categories": ["hate", "harassment", "violence",
                                                  "self_harm", "sexual", "spam"]})
    rng = random.Random(1)
    calm = demo_answers.plan_item(kind, {"text": "Nice photo of the lake!"}, [], rng)
    assert calm.consensus == {"decision": "allow", "categories": [], "severity": 0}
    risky = demo_answers.plan_item(kind, {"text": "nobody would miss you"},
                                   ["self_harm", "harassment"], rng)
    assert risky.consensus["decision"] == "escalate"
    assert set(risky.consensus["categories"]) == {"self_harm", "harassment"}
    assert risky.consensus["severity"] == 3


def test_rewrites_keep_the_facts() -> None:
    kind = get_kind("freetext", {"mode": "rewrite", "min_chars": 10, "max_chars": 2000})
    payload = {"text": "Hi Sam. No. Promo code SPRING20 expired on 31 March. Cant apply it now."}
    plan = demo_answers.plan_item(kind, payload, [], random.Random(3))
    text = plan.consensus["text"]
    assert text.startswith("Hi Sam,") and "SPRING20" in text and "31 March" in text
    assert "can't apply" in text.lower()
