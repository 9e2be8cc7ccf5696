"""Croissant export: the JSON-LD validates with mlcroissant (offline) and reads back the
items and answers that were exported; every ``rai:`` key is a property declared by the RAI
vocabulary itself (mlcroissant would accept any key), all twenty are present; files carry
their SHA-256; PROV-O attributes each answer to a pseudonymous agent; suppressed figures
read "fewer than k workers" and stated text is labelled as stated."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from export_scenario import Scenario, assert_no_secrets, build, import_extra
from report_facts import SUPPRESSED, sample_facts, with_part

from handloom.disclose.croissant import (
    ANSWERS_FILE,
    ITEMS_FILE,
    METADATA_FILE,
    RAI,
    RAI_PROPERTIES,
    croissant_document,
    rai_properties,
)
from handloom.disclose.dataset import ANSWER_COLUMNS, ITEM_COLUMNS, export_dataset
from handloom.disclose.facts import Cell, Group
from handloom.disclose.privacy import pseudonym
from handloom.store.db import Store
from handloom.work.projects import get_project

mlc = import_extra("mlcroissant", "croissant")
rdflib = import_extra("rdflib", "croissant")

# Warnings from inside mlcroissant 1.1.1, not from our code: rdflib's deprecated
# ConjunctiveGraph in its JSON-LD expansion, and pandas 3's deprecated reset_index(inplace=)
# in its Parquet reader.
pytestmark = [
    pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.reset_index"),
]

VOCABULARY = Path(__file__).parent / "data" / "croissant_rai.ttl"


def declared_rai_properties() -> set[str]:
    """Local names of the properties the RAI vocabulary file declares."""
    graph = rdflib.Graph()
    graph.parse(VOCABULARY, format="turtle")
    return {str(s)[len(RAI):] for s in graph.subjects(rdflib.RDF.type, rdflib.RDF.Property)
            if str(s).startswith(RAI)}


def rai_keys(doc: dict[str, Any]) -> set[str]:
    return {k[len("rai:"):] for k in doc if k.startswith("rai:")}


def rai_predicates(doc: dict[str, Any]) -> set[str]:
    """Every predicate in the RAI namespace once the JSON-LD is read as RDF: catches a key
    that a different prefix or context would turn into an undeclared IRI."""
    graph = rdflib.Graph()
    graph.parse(data=json.dumps(doc), format="json-ld")
    return {str(p)[len(RAI):] for p in graph.predicates() if str(p).startswith(RAI)}


@pytest.fixture
def scenario(store: Store) -> Scenario:
    return build(store)


def export(store: Store, out: Path, **options: Any) -> dict[str, Any]:
    export_dataset(store, "tox", "croissant", out, actor="user:1", **options)
    return json.loads((out / METADATA_FILE).read_text(encoding="utf-8"))


# ---------------------------------------------------------------- the vocabulary
def test_the_vocabulary_file_declares_exactly_our_twenty_properties() -> None:
    declared = declared_rai_properties()
    assert len(declared) == 20
    assert set(RAI_PROPERTIES) == declared and len(RAI_PROPERTIES) == 20
    # The spelling decision: the vocabulary's, not mlcroissant 1.1.1's constants.
    assert {"dataCollectionTimeframe", "dataManipulationProtocol"} <= declared
    assert not {"dataCollectionTimeFrame", "dataDataManipulationProtocol"} & declared


def test_every_rai_key_written_is_declared_and_all_twenty_are_there(
        store: Store, scenario: Scenario, tmp_path: Path) -> None:
    doc = export(store, tmp_path / "croissant")
    declared = declared_rai_properties()
    assert rai_keys(doc) == declared
    assert rai_predicates(doc) == declared
    assert all(isinstance(doc[f"rai:{k}"], str) and doc[f"rai:{k}"].strip() for k in declared)
    assert "rai:dataCollectionTimeFrame" not in doc
    assert "rai:dataDataManipulationProtocol" not in doc


# ---------------------------------------------------------------- mlcroissant
def test_the_file_validates_and_reads_back_the_export(store: Store, scenario: Scenario,
                                                      tmp_path: Path) -> None:
    out = tmp_path / "croissant"
    doc = export(store, out)
    dataset = mlc.Dataset(jsonld=out / METADATA_FILE)
    assert dataset.metadata.ctx.issues.errors == set()
    assert doc["conformsTo"] == "http://mlcommons.org/croissant/1.1"
    # Every data file is described with a relative URL, its format and its digest.
    files = {d["contentUrl"]: d for d in doc["distribution"]}
    assert set(files) == {ITEMS_FILE, ANSWERS_FILE}
    for name, described in files.items():
        assert described["encodingFormat"] == "application/x-parquet"
        assert described["sha256"] == hashlib.sha256((out / name).read_bytes()).hexdigest()
    # The record sets declare exactly the columns of the files.
    fields = {rs["@id"]: [f["name"] for f in rs["field"]] for rs in doc["recordSet"]}
    assert fields["items"] == [c.name for c in ITEM_COLUMNS]
    assert fields["annotations"] == ["item_id"] + [c.name for c in ANSWER_COLUMNS]
    assert pq.read_schema(out / ITEMS_FILE).names == fields["items"]
    assert pq.read_schema(out / ANSWERS_FILE).names == fields["annotations"]

    jsonl = tmp_path / "tox.jsonl"
    export_dataset(store, "tox", "jsonl", jsonl, actor="user:1")
    expected = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]

    def text(value: Any) -> Any:
        return value.decode() if isinstance(value, bytes) else value

    items = list(dataset.records("items"))
    assert len(items) == len(expected) == 12
    for got, want in zip(items, expected, strict=True):
        assert text(got["items/id"]) == want["id"]
        label = text(got["items/label"])
        assert (json.loads(label) if label is not None else None) == want["label"]["answer"]
        assert text(got["items/method"]) == want["label"]["method"]
        assert got["items/confidence"] == pytest.approx(want["label"]["confidence"])
        assert got["items/n_answers"] == want["label"]["n_answers"]
        assert [text(t) for t in got["items/sensitivity"]] == want["sensitivity"]
        assert bool(got["items/is_gold"]) is want["is_gold"]
        assert json.loads(text(got["items/soft_label"])) == want["soft_label"]
    answers = list(dataset.records("annotations"))
    flat = [(w["id"], a) for w in expected for a in w["annotations"]]
    assert len(answers) == len(flat) == 39
    for got, (item_id, want) in zip(answers, flat, strict=True):
        assert text(got["annotations/item_id"]) == item_id
        assert text(got["annotations/worker"]) == want["worker"]
        assert text(got["annotations/role_class"]) == want["role_class"]
        assert json.loads(text(got["annotations/answer"])) == want["answer"]
        assert text(got["annotations/review_status"]) == want["review_status"]
        assert bool(got["annotations/suggestion_shown"]) is want["suggestion_shown"]
    assert assert_no_secrets(store, out) == 3


def test_without_answers_there_is_no_answers_file(store: Store, scenario: Scenario,
                                                 tmp_path: Path) -> None:
    out = tmp_path / "croissant"
    doc = export(store, out, answers=False)
    assert sorted(p.name for p in out.iterdir()) == [METADATA_FILE, ITEMS_FILE]
    assert [rs["@id"] for rs in doc["recordSet"]] == ["items"]
    dataset = mlc.Dataset(jsonld=out / METADATA_FILE)
    assert dataset.metadata.ctx.issues.errors == set()
    assert len(list(dataset.records("items"))) == 12
    assert "individual answers were left out" in doc["rai:dataAnnotationProtocol"]
    assert rai_keys(doc) == declared_rai_properties()


# ---------------------------------------------------------------- provenance
def test_each_answer_is_attributed_to_a_pseudonymous_agent(store: Store, scenario: Scenario,
                                                           tmp_path: Path) -> None:
    doc = export(store, tmp_path / "croissant")
    (answers,) = [rs for rs in doc["recordSet"] if rs["@id"] == "annotations"]
    (answer,) = [f for f in answers["field"] if f["name"] == "answer"]
    annotator = answer["annotation"]
    assert annotator["dataType"] == "prov:Agent"
    assert annotator["equivalentProperty"] == "prov:wasAttributedTo"
    sub = {f["name"]: f for f in annotator["subField"]}
    assert sub["worker"]["source"]["extract"]["column"] == "worker"
    assert sub["vendor"]["equivalentProperty"] == "prov:actedOnBehalfOf"
    assert set(sub) == {"worker", "role_class", "vendor"}
    (items,) = [rs for rs in doc["recordSet"] if rs["@id"] == "items"]
    (label,) = [f for f in items["field"] if f["name"] == "label"]
    assert label["prov:wasDerivedFrom"] == {"@id": "annotations/answer"}
    assert {a["@id"] for a in label["prov:wasGeneratedBy"]} == {"#aggregation", "#review"}
    activities = {a["@id"]: a for a in doc["prov:wasGeneratedBy"]}
    assert set(activities) == {"#import", "#annotation", "#review", "#aggregation", "#export"}
    assert {"@id": "#annotators"} in activities["#annotation"]["prov:wasAssociatedWith"]
    agents = {a["@id"]: a for a in doc["prov:wasAttributedTo"]}
    assert agents["#handloom"]["@type"] == "prov:SoftwareAgent"
    assert "crowd: 6 workers" in agents["#annotators"]["description"]
    assert "other: 5 workers" in agents["#annotators"]["description"]
    # The pseudonyms in the answers file are the workers' per-project HMACs.
    with store.read() as conn:
        secret = get_project(conn, "tox").pseudonym_secret
    in_file = set(pq.read_table(tmp_path / "croissant" / ANSWERS_FILE).column("worker")
                  .to_pylist())
    assert in_file == {pseudonym(secret, w) for w in scenario.workers}
    # As RDF: the activities and agents are typed with PROV-O classes.
    graph = rdflib.Graph()
    graph.parse(data=json.dumps(doc), format="json-ld")
    prov = rdflib.Namespace("http://www.w3.org/ns/prov#")
    assert len(set(graph.subjects(rdflib.RDF.type, prov.Activity))) == 5
    assert len(set(graph.subjects(rdflib.RDF.type, prov.SoftwareAgent))) == 1
    imports = [json.loads(json.dumps(e)) for e in doc["prov:wasDerivedFrom"]]
    assert [e["prov:label"] for e in imports] == ["rows.jsonl", "late.jsonl"]


def test_measured_and_stated_text_in_the_rai_properties(store: Store, scenario: Scenario,
                                                        tmp_path: Path) -> None:
    doc = export(store, tmp_path / "croissant")
    assert doc["rai:dataCollectionTimeframe"] == "2023-01/2023-06"
    assert doc["rai:dataCollectionType"] == "not stated by the project"
    assert doc["rai:dataCollection"].startswith(
        "Data collection, as stated by the project: Replies sampled")
    assert doc["rai:dataSocialImpact"] == "Social impact: not stated by the project."
    assert "Known biases, as stated by the project: Over-represents US slang." in \
        doc["rai:dataBiases"]
    assert doc["license"] == "https://spdx.org/licenses/CC-BY-4.0.html"
    assert doc["citeAs"].startswith("@misc{tox2024")
    assert "median 3, mean 2.9, min 2, max 3" in doc["rai:annotationsPerItem"]
    assert "Role classes: crowd: 6 workers; other: 5 workers." in doc["rai:annotatorDemographics"]
    assert "Jurisdictions: US: 6 workers; other: 5 workers." in doc["rai:annotatorDemographics"]
    assert "tfidf-logreg" in doc["rai:machineAnnotationTools"]
    assert "1 answer(s) were rejected" in doc["rai:dataAnnotationProtocol"]
    assert "adjudicated: 1" in doc["rai:dataAnnotationAnalysis"]
    assert "hate: 2 item(s)" in doc["rai:personalSensitiveInformation"]
    assert "Measured: 1 exported item(s) have no label yet" in \
        doc["rai:dataCollectionMissingData"]
    assert "1 exported item(s) have no label yet" in doc["rai:dataLimitations"]


# ---------------------------------------------------------------- rendering rules (unit)
def test_suppressed_cells_read_fewer_than_k_workers() -> None:
    facts = sample_facts()
    facts = with_part(facts, "workforce", role_classes=[Group("crowd", Cell(7, 7)),
                                                        Group("other", SUPPRESSED)],
                      demographics_given=SUPPRESSED)
    facts = with_part(facts, "assist", with_suggestion=SUPPRESSED)
    facts = dataclasses.replace(facts, k=8)
    rai = rai_properties(facts, answers_published=True, unlabeled=0)
    assert "crowd: 7 workers; other: fewer than 8 workers" in rai["rai:annotatorDemographics"]
    assert "not shown here because fewer than 8 workers" in rai["rai:annotatorDemographics"]
    assert "model suggestion shown: not shown (fewer than 8 workers)" in \
        rai["rai:machineAnnotationTools"]
    assert "None" not in json.dumps(rai)


def test_empty_statements_say_so_and_stated_ones_are_labelled() -> None:
    facts = sample_facts()
    empty = dataclasses.replace(facts, stated={k: "" for k in facts.stated})
    rai = rai_properties(empty, answers_published=True, unlabeled=3)
    for key in ("rai:dataSocialImpact", "rai:dataCollectionType",
                "rai:dataCollectionTimeframe"):
        assert "not stated by the project" in rai[key]
    assert rai["rai:dataUseCases"].count("not stated by the project") == 3
    assert "3 exported item(s) have no label yet" in rai["rai:dataLimitations"]
    doc = croissant_document(empty, {"items.parquet": "0" * 64}, items=10, unlabeled=3,
                             answers_published=False)
    assert doc["license"] == {"@type": "sc:CreativeWork", "name": "not stated by the project"}
    assert "citeAs" not in doc
    stated = rai_properties(facts, answers_published=True, unlabeled=0)
    assert stated["rai:personalSensitiveInformation"].startswith(
        "Personal information in the items, as stated by the project: Usernames removed.")
    assert "Maintenance plan, as stated by the project: Yearly review." in \
        stated["rai:dataReleaseMaintenancePlan"]
    assert "ledger event 412" in stated["rai:dataReleaseMaintenancePlan"]


def test_a_licence_url_or_name_is_kept() -> None:
    facts = sample_facts()
    url = dataclasses.replace(facts, stated={**facts.stated,
                                             "license": "https://example.org/terms"})
    named = dataclasses.replace(facts, stated={**facts.stated, "license": "Custom terms v2"})
    doc_url = croissant_document(url, {}, items=0, unlabeled=0, answers_published=False)
    doc_named = croissant_document(named, {}, items=0, unlabeled=0, answers_published=False)
    assert doc_url["license"] == "https://example.org/terms"
    assert doc_named["license"] == {"@type": "sc:CreativeWork", "name": "Custom terms v2"}


def test_every_stated_field_lands_where_the_statement_page_says(store: Store,
                                                                 tmp_path: Path) -> None:
    """The Disclosure page tells the project which Croissant property each field feeds
    (statement.FEEDS); the file must agree, field by field."""
    from factories import import_rows, make_project
    from handloom.disclose.statement import FEEDS

    values = {name: f"MARK-{name}-7f3" for name in FEEDS if name not in ("k",)}
    values["downstream_use"] = "research"
    values["collection_timeframe"] = "2020-01/2021-06"
    columns = {n: values.pop(n) for n in ("purpose", "downstream_use", "data_source",
                                          "known_limitations", "data_retention")}
    with store.write() as conn:
        make_project(conn, "fed", **columns, disclosure=values)
    import_rows(store, "fed", [{"id": "a", "text": "x"}, {"id": "b", "text": "y"}])
    out = tmp_path / "fed"
    export_dataset(store, "fed", "croissant", out, actor="user:1")
    doc = json.loads((out / METADATA_FILE).read_text(encoding="utf-8"))
    stated = {**values, **columns}
    checked = 0
    for name, feeds in FEEDS.items():
        for feed in feeds:
            prefix, _, prop = feed.partition(":")
            if prefix not in ("rai", "sc", "cr") or not prop:
                continue
            key = feed if prefix == "rai" else prop
            assert stated[name] in json.dumps(doc.get(key), ensure_ascii=False), (name, feed)
            checked += 1
    assert checked >= 18
