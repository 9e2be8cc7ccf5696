"""Hugging Face export: the folder loads back with ``datasets.load_from_disk`` with the rows
and columns of the Parquet export, and its dataset card is written from the records (YAML
metadata, annotation sections), with suppressed figures as "fewer than k workers" and
stated text labelled as stated."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from export_scenario import Scenario, assert_no_secrets, build, import_extra
from report_facts import SUPPRESSED, sample_facts, with_part

from handloom.disclose.dataset import ANSWER_COLUMNS, ITEM_COLUMNS, export_dataset
from handloom.disclose.facts import AssistFacts, Cell, Group
from handloom.disclose.hf import (
    annotations_creators,
    dataset_card,
    hub_license,
    size_category,
)
from handloom.store.db import Store

datasets = import_extra("datasets", "hf")
yaml = import_extra("yaml", "hf")  # installed with datasets

SECTIONS = ("## Dataset Structure", "#### Annotation process", "#### Who are the annotators?",
            "#### Personal and Sensitive Information", "## Bias, Risks, and Limitations",
            "## Uses", "## Citation")


def card_parts(text: str) -> tuple[dict[str, Any], str]:
    assert text.startswith("---\n")
    header, body = text[4:].split("\n---\n", 1)
    return yaml.safe_load(header), body


def section(body: str, heading: str) -> str:
    """The text under *heading*, up to the next heading."""
    start = body.index(heading + "\n") + len(heading) + 1
    rest = body[start:]
    end = rest.find("\n#")
    return (rest if end < 0 else rest[:end]).strip()


@pytest.fixture
def scenario(store: Store) -> Scenario:
    return build(store)


def test_the_folder_loads_back_with_the_exported_rows(store: Store, scenario: Scenario,
                                                      tmp_path: Path) -> None:
    out = tmp_path / "hf"
    result = export_dataset(store, "tox", "hf", out, actor="user:1")
    assert result.items == 12 and result.answers == 39
    loaded = datasets.load_from_disk(str(out))
    assert isinstance(loaded, datasets.Dataset) and loaded.num_rows == 12
    assert loaded.column_names == [c.name for c in ITEM_COLUMNS] + ["annotations"]
    answer_feature = loaded.features["annotations"].feature
    assert list(answer_feature) == [c.name for c in ANSWER_COLUMNS]
    export_dataset(store, "tox", "parquet", tmp_path / "tox.parquet", actor="user:1")
    expected = pq.read_table(tmp_path / "tox.parquet").to_pylist()
    assert loaded.to_list() == expected
    by_id = {row["id"]: row for row in loaded}
    assert json.loads(by_id["i-0"]["label"]) == {"label": "toxic"}
    assert len(by_id["i-0"]["annotations"]) == 3
    assert sum(len(r["annotations"]) for r in loaded) == 39
    assert {p.name for p in out.iterdir()} >= {"README.md", "dataset_info.json", "state.json"}
    assert loaded.info.license == "CC-BY-4.0"
    assert assert_no_secrets(store, out) >= 4


def test_the_card_is_written_from_the_records(store: Store, scenario: Scenario,
                                              tmp_path: Path) -> None:
    out = tmp_path / "hf"
    export_dataset(store, "tox", "hf", out, actor="user:1")
    meta, body = card_parts((out / "README.md").read_text(encoding="utf-8"))
    assert meta["pretty_name"] == "Toxic replies" and meta["license"] == "cc-by-4.0"
    # Crowd workers, vendor staff and experts answered (their role classes are in the data).
    assert meta["annotations_creators"] == ["crowdsourced", "expert-generated", "other"]
    assert meta["size_categories"] == ["n<1K"]
    assert meta["task_categories"] == ["text-classification"]
    for heading in SECTIONS:
        assert heading in body
    process = section(body, "#### Annotation process")
    assert "Each item was to receive 3 answers" in process
    assert "1 answer(s) were rejected in review" in process
    assert "1 item(s) carry a reviewer's decision" in process
    annotators = section(body, "#### Who are the annotators?")
    assert "11 workers answered at least one item" in annotators
    assert "Role classes: crowd: 6 workers; other: 5 workers." in annotators
    assert "Jurisdictions: US: 6 workers; other: 5 workers." in annotators
    sensitive = section(body, "#### Personal and Sensitive Information")
    assert sensitive.startswith("Personal information in the items, as stated by the "
                                "project: Usernames were removed before import.")
    assert "hate: 2 item(s)" in sensitive and "pseudonym" in sensitive
    assert "Known biases, as stated by the project: Over-represents US slang." in body
    assert "Social impact: not stated by the project." in body
    assert "@misc{tox2024" in section(body, "## Citation")


def test_without_answers_the_rows_have_no_answers(store: Store, scenario: Scenario,
                                                  tmp_path: Path) -> None:
    out = tmp_path / "hf"
    export_dataset(store, "tox", "hf", out, actor="user:1", answers=False)
    loaded = datasets.load_from_disk(str(out))
    assert loaded.column_names == [c.name for c in ITEM_COLUMNS] and loaded.num_rows == 12
    meta, body = card_parts((out / "README.md").read_text(encoding="utf-8"))
    # Without answers, the role classes come from the published (k-protected) groups.
    assert meta["annotations_creators"] == ["crowdsourced", "other"]
    assert "annotations[]" not in body and "left out of this export" in body


# ---------------------------------------------------------------- the card's rules (unit)
def test_suppressed_cells_read_fewer_than_k_workers_in_the_card() -> None:
    facts = sample_facts()
    facts = with_part(facts, "workforce", workers=SUPPRESSED,
                      role_classes=[Group("other", SUPPRESSED)],
                      jurisdictions=[Group("other", SUPPRESSED)])
    facts = with_part(facts, "pay", at_or_above_floor=SUPPRESSED)
    facts = dataclasses.replace(facts, k=9)
    _meta, body = card_parts(dataset_card(facts, items=120, unlabeled=0,
                                          role_classes={"crowd"}, answers_published=True))
    annotators = section(body, "#### Who are the annotators?")
    assert annotators.startswith("Fewer than 9 workers answered at least one item.")
    assert "Role classes: other: fewer than 9 workers." in annotators
    assert "at or above it: not shown (fewer than 9 workers)" in annotators
    assert "None" not in body and "fewer than 5" not in body


def test_stated_fields_are_labelled_and_missing_ones_say_so() -> None:
    facts = sample_facts()
    empty = dataclasses.replace(facts, stated={k: "" for k in facts.stated})
    meta, body = card_parts(dataset_card(empty, items=5, unlabeled=2, role_classes=set(),
                                         answers_published=True))
    assert meta["license"] == "unknown" and meta["annotations_creators"] == ["no-annotation"]
    assert "- **License:** not stated by the project" in body
    assert section(body, "### Curation Rationale") == "Purpose: not stated by the project."
    assert section(body, "## Citation") == "Not stated by the project."
    assert "2 item(s) in this export have no label yet" in body
    _meta, full = card_parts(dataset_card(facts, items=5, unlabeled=0, role_classes={"crowd"},
                                          answers_published=True))
    assert "Purpose, as stated by the project: Train a classifier" in full
    assert "Maintenance plan, as stated by the project: Yearly review." in full


def test_card_metadata_vocabularies() -> None:
    assert [size_category(n) for n in (0, 999, 1_000, 99_999, 2_000_000)] == \
        ["n<1K", "n<1K", "1K<n<10K", "10K<n<100K", "1M<n<10M"]
    assert hub_license("Apache-2.0") == {"license": "apache-2.0"}
    assert hub_license("https://example.org/terms") == {
        "license": "other", "license_link": "https://example.org/terms"}
    assert hub_license("Our own terms") == {"license": "other", "license_name": "Our own terms"}
    assert hub_license("") == {"license": "unknown"}
    facts = sample_facts()
    assert annotations_creators({"crowd", "volunteer"}, facts) == ["crowdsourced"]
    assert annotations_creators({"expert", "vendor", "in-house"}, facts) == \
        ["expert-generated", "other"]
    machine = dataclasses.replace(facts, assist=AssistFacts(
        answers=0, with_suggestion=Cell(None, 0), override_rate=Cell(None, 0), models=[],
        model_only_labels=3, model_only_audited=0))
    assert annotations_creators(set(), machine) == ["machine-generated"]
