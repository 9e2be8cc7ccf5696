"""The report's figures (SQLite and PostgreSQL) against figures computed here, independently,
from the raw tables of a scripted project; k-suppression holds for every cell, bin and group
(also as a hypothesis property over small random workforces); no worker id, ref or free text
ever reaches a Facts."""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from factories import answer_next, import_rows, make_project
from handloom import ledger
from handloom.disclose import facts
from handloom.disclose.facts import Cell, histogram
from handloom.errors import Invalid
from handloom.labor import appeals, exposure, floors, guidelines, wellbeing
from handloom.store.db import Store, migrate
from handloom.store.schema import (
    annotations,
    items,
    ledger_events,
    pay_events,
    time_entries,
    workers,
)
from handloom.work import accounts, projects, review

K = 5
SECRET_NOTE = "PRIVATE-APPEAL-STATEMENT-zz91"
CHECKIN_NOTE = "PRIVATE-CHECKIN-NOTE-qq17"
FLAG_NOTE = "PRIVATE-FLAG-NOTE-ww33"


def _floors(conn: Any) -> None:
    floors.import_rows(conn, [
        {"jurisdiction": "US", "currency": "USD", "hourly": "7.25", "source": "test US",
         "effective_date": "2024-01-01"},
        {"jurisdiction": "KE", "currency": "USD", "hourly": "2.00", "source": "test KE",
         "effective_date": "2024-01-01"},
        {"jurisdiction": "GB", "currency": "USD", "hourly": "14.00", "source": "test GB",
         "effective_date": "2024-01-01"},
    ], source="test", actor="test")


class Scripted:
    """13 workers: 6 in the US through a subcontracted vendor, 5 in Kenya hired directly,
    2 in Britain (a group below k). Twenty items, two tagged "hate", one gold."""

    def __init__(self, store: Store):
        self.store = store
        with store.write() as conn:
            _floors(conn)
            make_project(conn, "scripted", status="open", overlap=3, content_categories=["hate"],
                         exposure={"limits": {"hate": {"daily_items": 1}}},
                         pay={"model": "piece", "piece_rate": "0.10", "currency": "USD",
                              "est_seconds_per_item": 20, "jurisdictions": ["US", "KE", "GB"]},
                         disclosure={"assumptions": "Stated assumption text.",
                                     "license": "CC-BY-4.0"})
            self.us = [accounts.add_worker(conn, f"us-{i}", jurisdiction="US",
                                           vendor="Acme Labelling", role_class="vendor")
                       for i in range(6)]
            accounts.ensure_vendor(conn, "Acme Labelling")
            self.ke = [accounts.add_worker(conn, f"ke-{i}", jurisdiction="KE")
                       for i in range(5)]
            self.gb = [accounts.add_worker(conn, f"gb-{i}", jurisdiction="GB",
                                           role_class="expert") for i in range(2)]
            self.reviewer = accounts.create_user(conn, "rev", "reviewer")
            self.manager = accounts.create_user(conn, "boss", "manager")
            # Acme subcontracts for a parent firm: a two-layer chain.
            parent = accounts.ensure_vendor(conn, "Parent Sourcing Co")
            acme = conn.execute(select(workers.c.vendor_id).where(
                workers.c.id == self.us[0])).scalar_one()
            from handloom.store.schema import vendors
            conn.execute(update(vendors).where(vendors.c.id == acme).values(parent_id=parent))
            for wid in self.us:  # self-reported by the US workers only
                conn.execute(update(workers).where(workers.c.id == wid).values(
                    demographics={"age_band": "25-34"}))
            for wid in self.gb:
                conn.execute(update(workers).where(workers.c.id == wid).values(
                    demographics={"age_band": "65+"}))
        rows: list[dict[str, Any]] = [
            {"id": f"item-{i}", "text": f"text {i}"} for i in range(20)]
        rows[0]["sensitivity"] = ["hate"]
        rows[1]["sensitivity"] = ["hate"]
        import_rows(store, "scripted", rows)
        everyone = self.us + self.ke + self.gb
        for n, wid in enumerate(everyone):
            for _ in range(4):  # four items each, one in three "toxic"
                label = "toxic" if (n + _) % 3 == 0 else "not_toxic"
                answer_next(store, "scripted", wid, default={"label": label})
        with store.write() as conn:
            p = projects.get_project(conn, "scripted")
            # Reject one answer of each Kenyan worker; three appeal and one is upheld.
            self.appeal_ids = []
            for wid in self.ke:
                ann = conn.execute(select(annotations.c.id).where(
                    annotations.c.worker_id == wid).order_by(annotations.c.id)).scalars().first()
                review.reject_answer(conn, p, int(ann), self.reviewer, "off", actor="rev")
                self.appeal_ids.append(appeals.file(conn, p, wid, "rejection", int(ann),
                                                    SECRET_NOTE))
            for n, appeal_id in enumerate(self.appeal_ids):
                appeals.decide(conn, p, appeal_id, self.manager, uphold=n < 3,
                               reason="decided")
            guidelines.flag(conn, p, self.us[0], kind="unclear", note=FLAG_NOTE)
            for wid in self.us + self.ke:
                wellbeing.check_in(conn, p, wid, feeling=3, note=CHECKIN_NOTE)
            exposure.opt_out(conn, self.gb[0], "hate", actor="test")

    def facts(self, k: int | None = None) -> facts.Facts:
        with self.store.read() as conn:
            return facts.gather(conn, projects.get_project(conn, "scripted"), k=k)


@pytest.fixture
def scripted(store: Store) -> Scripted:
    return Scripted(store)


def _money_units(minor: int) -> float:
    return minor / 100


def test_workforce_matches_the_tables(scripted: Scripted, store: Store) -> None:
    f = scripted.facts()
    with store.read() as conn:
        answered = set(conn.execute(select(annotations.c.worker_id).distinct()).scalars())
        places = Counter(conn.execute(select(workers.c.jurisdiction).where(
            workers.c.id.in_(answered))).scalars())
    assert f.workforce.workers == Cell(len(answered), len(answered))
    published = {g.name: g.workers for g in f.workforce.jurisdictions}
    assert published["US"].value == places["US"] == 6
    # GB (2) is below k; folding it alone into "other" would let anyone recover it as the
    # total minus the published groups, so the next smallest group (KE, 5) goes with it.
    assert "GB" not in published and "KE" not in published
    assert published["other"].value == places["KE"] + places["GB"] == 7
    vendors = {v.name: v for v in f.workforce.vendors}
    assert vendors["Acme Labelling"].chain == ["Acme Labelling", "Parent Sourcing Co"]
    assert vendors["Acme Labelling"].workers.value == 6
    assert f.workforce.max_vendor_layers == 2
    assert vendors["direct"].workers.value == 7  # five Kenyan and two British workers
    roles = {g.name: g.workers.value for g in f.workforce.role_classes}
    assert roles == {"vendor": 6, "other": 7}  # crowd (5) joins expert (2) in "other"
    age = {d.name: d for d in f.workforce.demographics}["age_band"]
    assert age.given.value == 8
    # "65+" (2) and the five who did not say are folded together; neither is shown alone
    assert [(g.name, g.workers.value) for g in age.values] == [
        ("25-34", 6), ("other or not given", 7)]


def test_pay_matches_the_tables(scripted: Scripted, store: Store) -> None:
    f = scripted.facts()
    with store.read() as conn:
        amount: dict[int, int] = defaultdict(int)
        for wid, minor in conn.execute(select(pay_events.c.worker_id, pay_events.c.amount_minor)):
            amount[wid] += minor
        seconds: dict[int, float] = defaultdict(float)
        for wid, secs in conn.execute(select(annotations.c.worker_id,
                                             annotations.c.active_seconds)):
            seconds[wid] += secs or 0.0
        for wid, secs in conn.execute(select(time_entries.c.worker_id, time_entries.c.seconds)):
            seconds[wid] += secs
        place = dict(conn.execute(select(workers.c.id, workers.c.jurisdiction)).all())
    floor = {"US": 725, "KE": 200, "GB": 1400}
    hourly = {w: amount[w] * 3600 / seconds[w] for w in seconds if seconds[w]}
    at_or_above = [w for w in hourly if hourly[w] >= floor[place[w]] - 0.5]
    assert f.pay.at_or_above_floor.value == pytest.approx(len(at_or_above) / len(hourly), abs=1e-3)
    assert f.pay.effective_hourly.n.value == len(hourly)
    assert sum(b.count for b in f.pay.effective_hourly.bins) == len(hourly)
    assert all(b.count >= K for b in f.pay.effective_hourly.bins)
    median = statistics.median(_money_units(h) for h in hourly.values())
    assert f.pay.effective_hourly.quartiles.value[1] == pytest.approx(median, abs=0.01)
    assert ("floor US", 7.25) in f.pay.effective_hourly.marks
    total = sum(amount.values())
    assert f.pay.total_paid.value == f"{total // 100}.{total % 100:02d}"
    groups = {g.jurisdiction: g for g in f.pay.by_jurisdiction}
    us = [w for w in hourly if place[w] == "US"]
    assert groups["US"].workers.value == len(us) == 6
    assert groups["US"].floor == "7.25"
    assert "KE" not in groups and "GB" not in groups  # GB (2) is folded, with KE (5)
    assert groups["other"].workers.value == 7 and groups["other"].floor is None
    with store.read() as conn:
        appeal_secs = sum(conn.execute(select(time_entries.c.seconds).where(
            time_entries.c.reason == "appeal")).scalars())
    if appeal_secs:
        assert "appeal" in f.pay.unpaid_hours or "appeal" in f.pay.paid_hours


def test_quality_and_dataset_match_the_tables(scripted: Scripted, store: Store) -> None:
    f = scripted.facts()
    with store.read() as conn:
        p = projects.get_project(conn, "scripted")
        labels = facts.published_labels(conn, p)
        rows = conn.execute(
            select(annotations.c.item_id, annotations.c.answer, items.c.is_gold)
            .join(items, items.c.id == annotations.c.item_id)
            .where(annotations.c.review_status != "rejected")).all()
        n_items = len(conn.execute(select(items.c.id)).all())
        rejected = len(conn.execute(select(annotations.c.id).where(
            annotations.c.review_status == "rejected")).all())
    counted = [r for r in rows if not r.is_gold]
    matches = sum(1 for r in counted if labels[r.item_id][0] is not None
                  and json.dumps(r.answer, sort_keys=True)
                  == json.dumps(labels[r.item_id][0], sort_keys=True))
    compared = sum(1 for r in counted if labels[r.item_id][0] is not None)
    assert f.quality.match_share.value == pytest.approx(matches / compared, abs=1e-4)
    assert f.dataset.items == n_items == 20
    assert f.dataset.answers == len(counted)
    assert f.dataset.rejected_answers == rejected == 2  # five rejected, three restored on appeal
    per_item = Counter(r.item_id for r in counted)
    assert f.dataset.answered_items == len(per_item)
    assert f.dataset.answers_per_item["max"] == max(per_item.values())
    dist = Counter(labels[i][0]["label"] for i in per_item if labels[i][0] is not None)
    assert dict(f.dataset.label_distribution) == dict(dist)
    assert f.dataset.sensitivity == {"hate": 2}
    assert f.quality.agreement is not None and f.quality.agreement.items > 0
    low, high = f.quality.agreement.low.value, f.quality.agreement.high.value
    assert low is not None and high is not None and low <= f.quality.agreement.value.value <= high
    ops = {o.event: o.count for o in f.dataset.operations}
    assert ops["items.imported"] == 1 and ops["annotation.rejected"] == 5
    assert ops["answers"] == len(rows) + rejected


def test_voice_wellbeing_and_anchor(scripted: Scripted, store: Store) -> None:
    f = scripted.facts()
    rejection = {a.subject_type: a for a in f.voice.appeals}["rejection"]
    assert rejection.filed == Cell(5, 5)
    assert rejection.upheld_share.value == pytest.approx(3 / 5)
    assert rejection.median_days_to_decision.value is not None
    assert f.voice.appeals_total.value == 5
    assert f.wellbeing.checkins == Cell(11, 11)
    assert f.wellbeing.checkins_by_trigger["self"] == Cell(11, 11)
    # one opted-out worker: a group of one is never published
    assert [g.workers for g in f.wellbeing.opt_outs] == [Cell(None, None, True)]
    # one flag from one worker: its count describes one worker
    assert f.instructions.flags_raised.suppressed
    assert f.wellbeing.exposure_items.n.value == 13
    assert f.wellbeing.limits == {"hate": {"daily_items": 1}}
    with store.read() as conn:
        last = conn.execute(select(ledger_events.c.seq, ledger_events.c.hash)
                            .order_by(ledger_events.c.seq.desc()).limit(1)).first()
        assert ledger.verify(conn).ok
    assert last is not None
    assert (f.anchor.seq, f.anchor.hash) == (last.seq, last.hash)
    assert f.stated["assumptions"] == "Stated assumption text."
    assert f.stated["license"] == "CC-BY-4.0"


def test_no_worker_identity_or_free_text_in_facts(scripted: Scripted, store: Store) -> None:
    text = json.dumps(facts.to_dict(scripted.facts()), default=str)
    with store.read() as conn:
        refs = list(conn.execute(select(workers.c.ref)).scalars())
    for ref in refs:
        assert f'"{ref}"' not in text and ref not in text
    for secret in (SECRET_NOTE, CHECKIN_NOTE, FLAG_NOTE):
        assert secret not in text


def test_every_cell_respects_k(scripted: Scripted) -> None:
    for k in (5, 6, 12):
        _assert_k(scripted.facts(k=k), k)


def test_k_only_goes_up(scripted: Scripted) -> None:
    with pytest.raises(Invalid, match="never lowered"):
        scripted.facts(k=3)
    high = scripted.facts(k=14)  # above the whole workforce: every worker figure suppressed
    assert high.workforce.workers.suppressed
    assert high.pay.effective_hourly.bins == []
    assert high.quality.match_share.suppressed
    # the answers under each instruction version describe who gave them, too
    assert [v.answers for v in high.instructions.versions] == [None]
    assert all(r.answers is None for r in high.quality.by_category)
    low = scripted.facts()
    assert low.instructions.versions[0].answers == low.dataset.answers + \
        low.dataset.rejected_answers


def _assert_k(f: facts.Facts, k: int) -> None:
    for c in facts.iter_cells(f):
        if c.suppressed:
            assert c.value is None and c.workers is None
        elif c.workers is not None:
            assert c.workers == 0 or c.workers >= k, c


@pytest.mark.parametrize("rows", [
    {"a": {1, 2, 3, 4, 5, 6}, "b": {7, 8, 9, 10, 11}, "c": {12}},
    {"a": set(range(20)), "b": {20, 21}, "c": {22, 23}, "d": set(range(24, 30))},
    {"a": {1, 2}, "b": {3}},
])
def test_no_suppressed_group_is_recoverable_by_subtraction(rows: dict[str, set[int]]) -> None:
    hidden = facts.protect(rows, K)
    shown = {n for n in rows if n not in hidden}
    assert all(len(rows[n]) >= K for n in shown)
    covered = set().union(*(rows[n] for n in hidden)) if hidden else set()
    everyone = set().union(*rows.values())
    # total minus the shown groups is the suppressed union: it is empty, at least k, or the
    # whole table is below k (and its total is suppressed by its own cell)
    assert not covered or len(covered) >= K or len(everyone) < K


# ---------------------------------------------------------------- properties
@given(st.lists(st.floats(0, 1000, allow_nan=False), max_size=60), st.integers(5, 12))
def test_histogram_bins_never_hold_fewer_than_k(values: list[float], k: int) -> None:
    h = histogram(values, k, unit="x")
    if len(values) < k:
        assert h.bins == [] and h.n.suppressed and h.quartiles.suppressed
        return
    assert sum(b.count for b in h.bins) == len(values)
    assert all(b.count >= k for b in h.bins)
    assert all(a.hi <= b.lo + 1e-9 for a, b in zip(h.bins, h.bins[1:], strict=False))
    assert h.bins[0].lo <= min(values) and h.bins[-1].hi >= max(values) - 1e-9


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["US", "KE", "GB", "PH", None]),
                          st.sampled_from(["crowd", "vendor", "expert"]),
                          st.sampled_from([None, "18-24", "25-34", "65+"]),
                          st.integers(0, 3), st.booleans()),
                min_size=1, max_size=11))
def test_small_random_workforces_never_publish_a_group_below_k(
        tmp_path_factory: pytest.TempPathFactory, people: list[tuple[Any, ...]]) -> None:
    path: Path = tmp_path_factory.mktemp("prop") / "w.db"
    store = Store(f"sqlite:///{path}")
    migrate(store)
    with store.write() as conn:
        _floors(conn)
        make_project(conn, "prop", status="open", overlap=2, content_categories=["hate"],
                     pay={"model": "piece", "piece_rate": "0.10", "currency": "USD",
                          "est_seconds_per_item": 20, "jurisdictions": ["US", "KE", "GB"]})
        ids = []
        for n, (place, role, age, _, _) in enumerate(people):
            wid = accounts.add_worker(conn, f"person-{n}", jurisdiction=place, role_class=role)
            if age:
                conn.execute(update(workers).where(workers.c.id == wid).values(
                    demographics={"age_band": age}))
            ids.append(wid)
    import_rows(store, "prop", [{"id": f"i{i}", "text": "t", **(
        {"sensitivity": ["hate"]} if i % 2 else {})} for i in range(8)])
    for wid, (_, _, _, n_answers, opts) in zip(ids, people, strict=True):
        for _ in range(n_answers):
            answer_next(store, "prop", wid, default={"label": "toxic" if opts else "not_toxic"})
        if opts:
            with store.write() as conn:
                p = projects.get_project(conn, "prop")
                wellbeing.check_in(conn, p, wid, feeling=2)
                exposure.opt_out(conn, wid, "hate", actor="test")
    with store.read() as conn:
        f = facts.gather(conn, projects.get_project(conn, "prop"))
        refs = list(conn.execute(select(workers.c.ref)).scalars())
    store.dispose()
    _assert_k(f, K)
    for group in (f.workforce.jurisdictions + f.workforce.role_classes
                  + [v for d in f.workforce.demographics for v in d.values]):
        assert group.workers.suppressed or (group.workers.value or 0) >= K
    text = json.dumps(facts.to_dict(f), default=str)
    assert not any(ref in text for ref in refs)


def test_the_workspace_floor_raises_k(scripted: Scripted, store: Store) -> None:
    """A workspace whose k_anonymity is 7 publishes nothing about a group of 6, whatever the
    project's own k, and refuses a request below 7."""
    raised = Store(store.url, k_floor=7)
    try:
        with raised.read() as conn:
            p = projects.get_project(conn, "scripted")
            f = facts.gather(conn, p)
            with pytest.raises(Invalid, match="below this project's k"):
                facts.gather(conn, p, k=6)
    finally:
        raised.dispose()
    assert f.k == 7
    names = {g.name: g.workers for g in f.workforce.jurisdictions}
    assert "US" not in names  # six workers: below 7
    _assert_k(f, 7)
