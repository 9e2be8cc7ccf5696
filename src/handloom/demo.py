"""The demo workspace: every example project, a cast of staff and workers, and a day and a
half of simulated work, ready to serve.

The work goes through the real services (routing, submissions, timekeeping, review), so
the demo's records, ledger and exports are exactly what real work produces. Each project
gets roughly half of its items fully answered by the demo workers; answers mostly agree
but not always (see :mod:`handloom.demo_answers`), so several projects have items waiting
for review, and the demo reviewer has already decided a few. The rest of the items are left
for whoever signs in. A seeded random generator makes the demo the same every time.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from handloom.config import Workspace
from handloom.demo_answers import gold_answer, plan_item, worker_answer
from handloom.errors import HandloomError, NotFound
from handloom.labor import appeals, floors, guidelines, pay, terms, timekeeping, wellbeing
from handloom.store.db import Store, utcnow
from handloom.store.schema import annotations as annotation_table
from handloom.store.schema import items
from handloom.store.schema import projects as project_table
from handloom.work import accounts, projects, quality, review, routing, submissions
from handloom.work.importing import import_items
from handloom.workspace import init_workspace, open_store

DEMO_PASSWORD = "handloom-demo"
DEMO_SEED = 1729
STAFF = (("manager", "manager"), ("reviewer", "reviewer"), ("auditor", "auditor"))
# (ref, role class, jurisdiction, vendor, parent vendor)
WORKERS = (
    ("amara", "vendor", "KE", "Savanna Labeling", "Northwind Data Services"),
    ("joseph", "vendor", "KE", "Savanna Labeling", "Northwind Data Services"),
    ("maria", "contractor", "PH", None, None),
    ("lena", "in-house", "DE", None, None),
    ("sam", "crowd", "US", None, None),
    ("priya", "expert", "US", None, None),
)
# Share of each project's items the demo workers answer in full.
ANSWERED_SHARE = (0.4, 0.6)
# Typical active seconds per answer by task kind (the median; answers spread around it).
MEDIAN_SECONDS = {"classification": 9.0, "pairwise": 28.0, "ranking": 40.0, "rating": 30.0,
                  "freetext": 95.0, "spans": 35.0, "moderation": 22.0, "redteam": 420.0}
DECISIONS = 3  # disagreements the demo reviewer decides, one per project


def find_examples() -> Path:
    """The examples folder: ./examples, or the one beside the source checkout."""
    for candidate in (Path.cwd() / "examples", Path(__file__).resolve().parents[2] / "examples"):
        if (candidate / "README.md").exists():
            return candidate
    raise NotFound("No examples folder found; run from the Handloom checkout or pass --examples.")


def build_demo(root: Path, examples: Path, *,
               progress: Callable[[str], None] = lambda _m: None,
               seed: int = DEMO_SEED, simulate: bool = True) -> tuple[Workspace, str]:
    """Create the demo workspace; returns it and the text listing the demo logins.

    With *simulate* (the default) the demo workers then answer about half of every
    project's items and the demo reviewer decides a few disagreements.
    """
    workspace, owner_token = init_workspace(root, password=DEMO_PASSWORD)
    store = open_store(workspace)
    lines = ["Demo logins (password for all: " + DEMO_PASSWORD + ")",
             "  owner     owner      API token: " + owner_token]
    try:
        user_ids: dict[str, int] = {}
        worker_ids: list[int] = []
        with store.write() as conn:
            for username, role in STAFF:
                user_ids[username] = accounts.create_user(
                    conn, username, role, password=DEMO_PASSWORD, actor="demo")
                lines.append(f"  {username:<9} {role}")
            for ref, role_class, jurisdiction, vendor, parent in WORKERS:
                if vendor:
                    accounts.ensure_vendor(conn, vendor, parent=parent, actor="demo")
                worker_ids.append(accounts.add_worker(
                    conn, ref, role_class=role_class, jurisdiction=jurisdiction, vendor=vendor,
                    password=DEMO_PASSWORD, actor="demo"))
                lines.append(f"  {ref:<9} worker ({role_class}, {jurisdiction})")
        # The example floor table (statutory minimum wages, marked as examples): projects
        # open only when their estimated pay meets the floor of every jurisdiction.
        floor_file = examples / "pay_floors.example.csv"
        with store.write() as conn:
            floors.import_file(conn, floor_file, actor="demo")
        progress(f"  pay floors: {floor_file.name} (example values)")
        for spec_path in sorted(examples.glob("*/project.toml")):
            spec = projects.load_spec(spec_path)
            with store.write() as conn:
                projects.create_project(conn, spec, actor="demo")
            for item_file in sorted(spec_path.parent.glob("items.*")):
                result = import_items(store, spec.name, str(item_file), actor="demo")
                progress(f"  {spec.name}: {result.imported} items")
        if simulate:
            simulate_work(store, worker_ids, reviewer_id=user_ids["reviewer"],
                          manager_id=user_ids["manager"], seed=seed, progress=progress)
            # A closed round with twenty workers, so that its transparency report has
            # something to show at k = 5.
            from handloom.demo_finished import build_finished_round

            finished = build_finished_round(store, examples, reviewer_id=user_ids["reviewer"],
                                            manager_id=user_ids["manager"], seed=seed,
                                            progress=progress)
            lines.append(f"Finished project, with its transparency report: "
                         f"/manage/{finished}/report")
    finally:
        store.dispose()
    return workspace, "\n".join(lines) + "\n"


def simulate_work(store: Store, worker_ids: list[int], *, reviewer_id: int,
                  manager_id: int | None = None, seed: int = DEMO_SEED,
                  progress: Callable[[str], None] = lambda _m: None) -> dict[str, int]:
    """Have the workers answer part of every project, then decide a few disagreements.

    Returns the number of answers per project. Each worker keeps a clock that starts about
    a day and a half ago, so leases, submissions and active seconds line up as they would
    in real work.
    """
    rng = random.Random(seed)
    start = utcnow() - timedelta(hours=36)
    clocks = {w: start + timedelta(minutes=rng.uniform(0, 120)) for w in worker_ids}
    speed = {w: rng.uniform(0.8, 1.3) for w in worker_ids}
    with store.read() as conn:
        names = list(conn.execute(select(project_table.c.name)
                                  .order_by(project_table.c.name)).scalars())
    answered: dict[str, int] = {}
    for name in names:
        with store.write() as conn:
            answered[name], complete, total = _work_on(conn, name, worker_ids, rng, clocks,
                                                       speed, seed)
        progress(f"  {name}: {answered[name]} answers, {complete} of {total} items complete")
        for w in worker_ids:  # a break between projects
            clocks[w] += timedelta(minutes=rng.uniform(5, 25))
    with store.write() as conn:
        decided = _decide_some(conn, names, reviewer_id)
    if manager_id is not None:
        with store.write() as conn:
            progress("  fair work: " + _fair_work_scenes(conn, names, worker_ids, reviewer_id,
                                                         manager_id))
    # One aggregation run per project, as a manager would start from the project page: the
    # quality panels then show each project's method, confidences and worker scores.
    for name in names:
        with store.write() as conn:
            quality.aggregate_project(conn, projects.get_project(conn, name), actor="demo")
    with store.read() as conn:
        waiting = {name: review.waiting_count(conn, projects.get_project(conn, name))
                   for name in names}
    queued = ", ".join(f"{n} {name}" for name, n in waiting.items() if n)
    progress(f"  review: {decided} decided; waiting: {queued or 'none'}")
    return answered


def _work_on(conn: Connection, name: str, worker_ids: list[int], rng: random.Random,
             clocks: dict[int, datetime], speed: dict[int, float],
             seed: int, share: float | None = None) -> tuple[int, int, int]:
    project = routing.load_project(conn, name)
    kind = projects.kind_of(project)
    gold = dict(conn.execute(select(items.c.external_id, items.c.gold_answer).where(
        items.c.project_id == project.id, items.c.is_gold.is_(True))).all())
    total = int(conn.execute(select(func.count()).select_from(items).where(
        items.c.project_id == project.id, items.c.is_gold.is_(False))).scalar_one())
    target = round(total * (share if share is not None else rng.uniform(*ANSWERED_SHARE)))
    median = MEDIAN_SECONDS.get(project.kind, 30.0)
    plans: dict[str, Any] = {}
    counts: dict[str, int] = {}
    complete = answers = 0
    active = list(worker_ids)
    rng.shuffle(active)
    for w in active:  # everyone agrees to the terms and reads the instructions first
        terms.consent(conn, project, w, now=clocks[w])
        seconds = round(rng.uniform(60, 240), 1)
        timekeeping.read_instructions(conn, project, w, project.instruction_version, seconds)
        clocks[w] += timedelta(seconds=seconds)
    while complete < target and active:
        for w in list(active):
            if complete >= target:
                break
            seconds = round(max(2.0, min(project.lease_seconds * 0.9,
                                         median * speed[w] * rng.lognormvariate(0, 0.45))), 1)
            try:
                with conn.begin_nested():
                    lease = routing.next_item(conn, project, w, now=clocks[w])
                    if lease is None:
                        active.remove(w)
                        continue
                    tags = list(lease.sensitivity)
                    if lease.external_id in gold:
                        answer = gold_answer(kind, gold[lease.external_id], lease.payload, tags,
                                             rng)
                    else:
                        plan = plans.get(lease.external_id)
                        if plan is None:
                            item_rng = random.Random(f"{seed}/{name}/{lease.external_id}")
                            plan = plans[lease.external_id] = plan_item(
                                kind, lease.payload, tags, item_rng)
                        answer = worker_answer(kind, plan, lease.payload, tags, rng)
                    submissions.submit_answer(
                        conn, project, kind, w, lease.assignment_id, answer,
                        idempotency_key=f"demo-{lease.assignment_id}", active_seconds=seconds,
                        client_meta={"client": "handloom-demo"},
                        now=clocks[w] + timedelta(seconds=seconds))
            except HandloomError:
                # A rule (a forced break, an exposure limit …) stops this worker here.
                active.remove(w)
                continue
            clocks[w] += timedelta(seconds=seconds + rng.uniform(2, 25))
            answers += 1
            if lease.external_id not in gold:
                counts[lease.external_id] = counts.get(lease.external_id, 0) + 1
                if counts[lease.external_id] == project.overlap:
                    complete += 1
    return answers, complete, total


def _fair_work_scenes(conn: Connection, names: list[str], worker_ids: list[int],
                      reviewer_id: int, manager_id: int) -> str:
    """A few of the things fair work is for, so that the pages have something to show: a
    rejected answer whose worker appealed (waiting for the manager: the reviewer who
    rejected it may not decide), a flag with a +1 and the manager's answer, a private
    check-in after moderation work, and top-ups wherever measured time left someone below
    their floor."""
    said: list[str] = []
    if "forum-moderation" in names and len(worker_ids) > 1:
        project = projects.get_project(conn, "forum-moderation")
        worker = worker_ids[1]
        first = conn.execute(select(annotation_table.c.id).where(
            annotation_table.c.project_id == project.id,
            annotation_table.c.worker_id == worker).order_by(annotation_table.c.id)
            .limit(1)).scalar()
        if first is not None:
            review.reject_answer(conn, project, int(first), reviewer_id,
                                 "The post names a user and calls for others to pile on: "
                                 "that is harassment, so it should be removed, not allowed.",
                                 actor=f"user:{reviewer_id}")
            appeals.file(conn, project, worker, "rejection", int(first),
                         "I read it as a complaint about a food truck, not a call to harass "
                         "anyone; the instructions say heated debate is allowed.",
                         active_seconds=95)
            said.append("a rejection appealed")
        wellbeing.check_in(conn, project, worker_ids[0], feeling=4, trigger="self",
                           seconds=40)
        said.append("a check-in")
    if "toxicity" in names and len(worker_ids) > 2:
        project = projects.get_project(conn, "toxicity")
        issue = guidelines.flag(conn, project, worker_ids[2], kind="unclear",
                                note="Is sarcasm about a group of people hate, or only "
                                     "rudeness?")
        guidelines.support(conn, project, issue, worker_ids[0])
        guidelines.answer(conn, project, issue,
                          "Sarcasm that demeans people for who they are is hate; sarcasm "
                          "about an idea or a team is not. The next version says so.",
                          manager_id, f"user:{manager_id}")
        said.append("a flag answered")
    proposed = 0
    for name in names:
        proposed += len(pay.propose_top_ups(conn, projects.get_project(conn, name),
                                            actor=f"user:{manager_id}"))
    said.append(f"{proposed} top-ups proposed")
    return ", ".join(said)


def _decide_some(conn: Connection, names: list[str], reviewer_id: int) -> int:
    """The demo reviewer decides the oldest disagreement of the first few projects that have
    more than one waiting, taking the kind's suggestion and saying why."""
    decided = 0
    for name in names:
        if decided >= DECISIONS:
            break
        project = projects.get_project(conn, name)
        queue = review.disagreement_queue(conn, project, 2)
        if len(queue) < 2:
            continue
        item = review.item_for_review(conn, project, queue[0]["id"])
        suggestion = item["suggestion"]
        if suggestion["answer"] is None:
            continue
        n = suggestion["n_answers"]
        if suggestion["method"] == "majority":
            top = queue[0]["readings"][0]["count"]
            reason = (f"{top} of {n} answers read it as {suggestion['summary']}, and that "
                      "reading follows the instructions.")
        else:
            reason = (f"Combined the {n} answers ({suggestion['method']}); the result, "
                      f"{suggestion['summary']}, fits the instructions best.")
        review.resolve(conn, project, item["id"], reviewer_id, suggestion["answer"], reason,
                       actor=f"user:{reviewer_id}")
        decided += 1
    return decided
