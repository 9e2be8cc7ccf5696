"""The demo's finished project: a closed first round of the forum-moderation task, worked
by a cohort of twenty people, so that its transparency report has enough workers behind
every figure to show (k = 5) and is one click from the project list.

Like the rest of the demo, everything goes through the real services: consent, instruction
reading, routing and submissions, a flag that prompted a second instruction version,
rejections and their appeals, check-ins, opt-outs, self-reported demographics, review
decisions, aggregation, top-ups, the payout and the close. The report is computed from
those records; nothing in it is written by hand except the project's stated disclosure.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from handloom.labor import appeals, demographics, exposure, guidelines, pay, payouts, wellbeing
from handloom.store.db import Store, utcnow
from handloom.store.schema import annotations as annotation_table
from handloom.work import accounts, projects, quality, review

NAME = "forum-moderation-r1"
TITLE = "Moderate community forum posts: round 1 (finished)"
BASE = "forum-moderation"
# (ref prefix, count, role class, jurisdiction, vendor, parent vendor, first language)
COHORT = (
    ("r1-ke", 8, "vendor", "KE", "Savanna Labeling", "Northwind Data Services", "sw"),
    ("r1-ph", 7, "contractor", "PH", "Manila Annotation Cooperative", None, "tl"),
    ("r1-us", 5, "crowd", "US", None, None, "en"),
)
AGE_BANDS = ("18-24", "25-34", "25-34", "35-44", "45-54")
GENDERS = ("woman", "man", "woman", "man", "non_binary")
EDUCATION = ("some_tertiary", "bachelors", "secondary_or_less", "bachelors", "postgraduate")
DISCLOSURE = {
    "assumptions": (
        "A post's decision depends on the post and at most one parent post; three readers "
        "who follow the written rules will converge on the decision the forum's own "
        "moderators would take. Severity is an ordinal judgement, not a measurement."),
    "data_collection": (
        "Posts were written for this demo in the style of a general-interest forum; no real "
        "accounts are quoted. In a real round this field says who collected the posts, when, "
        "under which terms of service, and how users were told."),
    "collection_type": "User-generated content data",
    "collection_timeframe": "2025-01/2025-03",
    "preprocessing": (
        "Posts were de-duplicated, trimmed to 2,000 characters and stripped of user names "
        "other than those quoted in the text before import; reply context was limited to "
        "one parent post."),
    "missing_data": "Images and links' targets are not shown; posts that were deleted by "
                    "their authors before export are missing.",
    "biases": (
        "The boards over-represent English-speaking hobby communities in the US and UK. "
        "Annotators were recruited in Kenya, the Philippines and the US, whose norms for "
        "rudeness differ; the report's disagreement-by-group table shows where."),
    "bias_measures": (
        "Three annotators per post from at least two jurisdictions, Dawid-Skene aggregation, "
        "review of every post below 0.9 confidence, and a guideline change when annotators "
        "flagged an unclear rule."),
    "data_gaps": (
        "Coordinated harassment spread over several threads cannot be seen one post at a "
        "time; a second round with whole threads would address it."),
    "use_cases": (
        "Recommended: training and evaluating a first-pass moderation classifier whose "
        "removals a human confirms. Not recommended: fully automatic removal or ranking "
        "people by their posts."),
    "social_impact": (
        "A moderation model trained on these labels decides what forum members see; errors "
        "silence some speakers or leave others exposed to abuse. Annotators read hateful, "
        "violent and self-harm content, which is why exposure limits and support apply."),
    "personal_information": (
        "Posts may quote user names and describe people; no e-mail addresses, phone numbers "
        "or real names are included. Annotators are identified only by per-project "
        "pseudonyms."),
    "maintenance_plan": (
        "Maintained by the forum's trust and safety team; a new round every six months, "
        "with this round deprecated when its successor is published."),
    "license": "CC-BY-4.0",
    "citation": "Handloom demo: forum moderation, round 1 (2026).",
}


def build_finished_round(store: Store, examples: Path, *, reviewer_id: int, manager_id: int,
                         seed: int, progress: Callable[[str], None] = lambda _m: None) -> str:
    """Create, work, review, pay and close the finished round; returns its name."""
    from handloom.demo import _decide_some, _work_on

    spec = projects.load_spec(examples / BASE / "project.toml")
    spec = spec.model_copy(update={
        "name": NAME, "title": TITLE,
        "disclosure": spec.disclosure.model_copy(update=DISCLOSURE),
        "data_retention": "Raw posts are deleted 12 months after the round closes; labels "
                          "and pseudonymous provenance are kept with the dataset.",
    })
    rng = random.Random(f"{seed}/finished")
    cohort: list[int] = []
    with store.write() as conn:
        projects.create_project(conn, spec, actor="demo")
        for prefix, count, role, place, vendor, parent, language in COHORT:
            if vendor:
                accounts.ensure_vendor(conn, vendor, parent=parent, actor="demo")
            for i in range(1, count + 1):
                wid = accounts.add_worker(conn, f"{prefix}-{i:02d}", role_class=role,
                                          jurisdiction=place, vendor=vendor, actor="demo")
                cohort.append(wid)
                if rng.random() < 0.8:  # most, not all, chose to say
                    demographics.set_demographics(conn, wid, {
                        "age_band": rng.choice(AGE_BANDS), "gender": rng.choice(GENDERS),
                        "education": rng.choice(EDUCATION), "first_language": language,
                    }, actor=f"worker:{wid}")
    from handloom.work.importing import import_items

    for item_file in sorted((examples / BASE).glob("items.*")):
        import_items(store, NAME, str(item_file), actor="demo")
    start = utcnow() - timedelta(days=21)
    clocks = {w: start + timedelta(minutes=rng.uniform(0, 600)) for w in cohort}
    speed = {w: rng.uniform(0.8, 1.3) for w in cohort}
    with store.write() as conn:
        answered, complete, total = _work_on(conn, NAME, cohort, rng, clocks, speed, seed,
                                             share=1.0)
    with store.write() as conn:
        project = projects.get_project(conn, NAME)
        # A rule workers found unclear: six of them back the flag; version 2 answers it.
        issue = guidelines.flag(conn, project, cohort[0], kind="unclear",
                                note="Posting someone's workplace: harassment or escalate?")
        for w in cohort[1:6]:
            guidelines.support(conn, project, issue, w)
        guidelines.answer(conn, project, issue, "Sharing where someone works or lives is "
                          "doxxing: escalate, severity 3.", manager_id, f"user:{manager_id}")
        projects.add_instruction_version(
            conn, project.id,
            str(projects.current_instructions(conn, project.id)["text"]) + DOXXING_RULE,
            change_note="Doxxing (workplace, address) is escalated, severity 3.",
            answers_issues=[issue], actor=f"user:{manager_id}", created_by=manager_id)
        # Six rejections by the reviewer, each appealed; the manager upholds four.
        for n, w in enumerate(cohort[::3][:6]):
            first = conn.execute(select(annotation_table.c.id).where(
                annotation_table.c.project_id == project.id,
                annotation_table.c.worker_id == w).order_by(annotation_table.c.id)
                .limit(1)).scalar()
            if first is None:
                continue
            review.reject_answer(conn, project, int(first), reviewer_id,
                                 "The decision does not follow the severity rules.",
                                 actor=f"user:{reviewer_id}")
            appeal = appeals.file(conn, project, w, "rejection", int(first),
                                  "My reading follows the edge-case section.",
                                  active_seconds=rng.uniform(60, 180))
            appeals.decide(conn, project, appeal, manager_id, uphold=n < 4,
                           reason="Re-read against the rules." if n < 4
                           else "The rules ask for removal here.")
        for w in cohort[:14]:
            wellbeing.check_in(conn, project, w, feeling=rng.choice((3, 4, 4, 5)),
                               trigger=rng.choice(("break", "self")),
                               seconds=rng.uniform(20, 60))
        for w in cohort[4:10]:
            exposure.opt_out(conn, w, "self_harm", actor=f"worker:{w}")
    with store.write() as conn:
        _decide_some(conn, [NAME], reviewer_id)
    with store.write() as conn:
        quality.aggregate_project(conn, projects.get_project(conn, NAME), actor="demo")
    with store.write() as conn:
        project = projects.get_project(conn, NAME)
        for proposal in pay.propose_top_ups(conn, project, actor=f"user:{manager_id}"):
            pay.approve_top_up(conn, project, proposal["id"], manager_id,
                               actor=f"user:{manager_id}")
        payouts.mark_paid(conn, project, actor=f"user:{manager_id}")
        projects.set_status(conn, project.id, "closed", actor=f"user:{manager_id}")
    progress(f"  {NAME}: {answered} answers by {len(cohort)} workers, {complete} of {total} "
             f"items complete, paid out and closed")
    return NAME


DOXXING_RULE = """

## Doxxing (added in version 2)

Sharing where someone works or lives, or how to find them offline, is **escalate** with
severity **3**, even when the post sounds calm.
"""
