"""Croissant 1.1 JSON-LD for an exported dataset, with the Responsible-AI (RAI) vocabulary
and PROV-O provenance.

``handloom export PROJECT --format croissant --out DIR`` writes::

    DIR/croissant.json        the description (this module)
    DIR/items.parquet         one row per item: the published label, method, confidence …
    DIR/annotations.parquet   one row per individual answer, with its provenance
                              (left out with --no-answers)

The data files are ``FileObject`` s with a relative ``contentUrl``, their encoding format
and SHA-256; the two ``RecordSet`` s declare every column (:data:`dataset.ITEM_COLUMNS`,
:data:`dataset.ANSWER_COLUMNS`), and ``annotations/item_id`` references ``items/id``.

Provenance (PROV-O, as the Croissant 1.1 spec's "Provenance Representation" recommends):
each answer is attributed (``prov:wasAttributedTo``, through a field ``annotation``) to a
``prov:Agent`` identified only by the worker's per-project pseudonym, with their role class,
acting on behalf of (``prov:actedOnBehalfOf``) their vendor; the items' labels were generated
by the aggregation and review activities (``prov:wasGeneratedBy``) and derived from the
answers (``prov:wasDerivedFrom``); the dataset names the activities (import, human
annotation, review, aggregation, export) and the agents (the pseudonymous annotators as a
group, reviewers, and Handloom as a ``prov:SoftwareAgent``).

RAI spelling. The vocabulary file (mlcommons/croissant ``docs/croissant_rai.ttl``) declares
``rai:dataCollectionTimeframe`` and ``rai:dataManipulationProtocol``; mlcroissant 1.1.1's
constants spell them ``dataCollectionTimeFrame`` and ``dataDataManipulationProtocol``. We use
the vocabulary's spelling: the vocabulary defines the IRIs that RDF consumers resolve, and
the library's spellings name properties nobody declared. (mlcroissant then ignores those two
keys when it loads the file, as it ignores any unknown ``rai:`` key; the test suite checks
every key we write against the vocabulary file itself.)

All twenty RAI properties are written. Measured text comes from a
:class:`~handloom.disclose.facts.Facts` (k-suppressed there); stated text is introduced as
"…, as stated by the project:"; where the project stated nothing the value says so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from handloom import __version__
from handloom.disclose import narrative as say
from handloom.disclose.dataset import (
    ANSWER_COLUMNS,
    BATCH,
    ITEM_COLUMNS,
    Column,
    Progress,
    TableWriter,
    arrow_schema,
    flat_answer,
    flat_item,
    sha256_of,
)
from handloom.disclose.facts import Facts

CONFORMS_TO = "http://mlcommons.org/croissant/1.1"
METADATA_FILE = "croissant.json"
ITEMS_FILE = "items.parquet"
ANSWERS_FILE = "annotations.parquet"
PARQUET = "application/x-parquet"
PROV = "http://www.w3.org/ns/prov#"
RAI = "http://mlcommons.org/croissant/RAI/"

# The recommended Croissant 1.1 @context (as mlcroissant 1.1.1 writes it), plus the
# prefixes this file uses: rai (Responsible AI) and prov (W3C PROV-O).
CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "sc": "https://schema.org/",
    "cr": "http://mlcommons.org/croissant/",
    "rai": RAI,
    "prov": PROV,
    "dct": "http://purl.org/dc/terms/",
    "annotation": "cr:annotation",
    "arrayShape": "cr:arrayShape",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "containedIn": "cr:containedIn",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isArray": "cr:isArray",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}

# The twenty dataset-level properties of the RAI vocabulary, in its own spelling (see the
# module docstring for why not mlcroissant's).
RAI_PROPERTIES: tuple[str, ...] = (
    "dataCollection",
    "dataCollectionType",
    "dataCollectionMissingData",
    "dataCollectionRawData",
    "dataCollectionTimeframe",
    "dataPreprocessingProtocol",
    "dataImputationProtocol",
    "dataManipulationProtocol",
    "dataReleaseMaintenancePlan",
    "personalSensitiveInformation",
    "dataAnnotationProtocol",
    "dataAnnotationPlatform",
    "dataAnnotationAnalysis",
    "annotationsPerItem",
    "annotatorDemographics",
    "machineAnnotationTools",
    "dataSocialImpact",
    "dataBiases",
    "dataLimitations",
    "dataUseCases",
)

NOT_STATED_VALUE = "not stated by the project"
IMPUTATION = ("Handloom imputes no values. An item without counted answers is published with "
              "an empty (null) label, confidence 0 and its aggregation method; answers "
              "rejected in review stay in the annotations file, marked rejected, and are not "
              "counted in labels.")


def _join(parts: list[str]) -> str:
    return " ".join(p for p in parts if p)


def rai_properties(facts: Facts, *, answers_published: bool, unlabeled: int) -> dict[str, str]:
    """Every RAI property (``rai:`` prefixed key -> text): measured text from *facts* and
    from the export itself (*unlabeled*: exported items without a label), stated text
    labelled as stated."""
    s = say
    timeframe = s.stated_text(facts, "collection_timeframe")
    collection_type = s.stated_text(facts, "collection_type")
    values = {
        "dataCollection": _join([s.stated(facts, "data_collection", "Data collection"),
                                 s.imports(facts)]),
        # Range schema:DateTime / a short type name: the stated value as is, not a sentence.
        "dataCollectionType": collection_type or NOT_STATED_VALUE,
        "dataCollectionMissingData": _join([
            s.stated(facts, "missing_data", "Missing data"),
            f"Measured: {unlabeled:,} exported item(s) have no label yet (no counted answer "
            f"and no reviewer's decision)."]),
        "dataCollectionRawData": _join([s.stated(facts, "data_source", "Source of the items"),
                                        s.imports(facts)]),
        "dataCollectionTimeframe": timeframe or NOT_STATED_VALUE,
        "dataPreprocessingProtocol": _join([
            s.stated(facts, "preprocessing", "Preparation before import"),
            "On import Handloom validates every item against the task kind's schema and "
            "imports a file all or nothing, recording its SHA-256 on the ledger."]),
        "dataImputationProtocol": IMPUTATION,
        "dataManipulationProtocol": _join([
            "Operations Handloom performed after import (rejections, gold corrections, "
            "review decisions, tagging, aggregation runs).", s.operations(facts)]),
        "dataReleaseMaintenancePlan": _join([
            s.stated(facts, "maintenance_plan", "Maintenance plan"),
            s.stated(facts, "data_retention", "Data retention"), s.ledger_anchor(facts)]),
        "personalSensitiveInformation": _join(s.personal_information(facts)),
        "dataAnnotationProtocol": _join(s.annotation_process(
            facts, answers_published=answers_published)),
        "dataAnnotationPlatform": s.PLATFORM,
        "dataAnnotationAnalysis": _join(s.annotation_analysis(
            facts, answers_published=answers_published)),
        "annotationsPerItem": s.annotations_per_item(facts),
        "annotatorDemographics": _join(s.demographics(facts) + [
            f"Role classes: {s.group_list(facts.workforce.role_classes, facts.k)}.",
            f"Jurisdictions: {s.group_list(facts.workforce.jurisdictions, facts.k)}."]),
        "machineAnnotationTools": s.machine_tools(facts),
        "dataSocialImpact": s.stated(facts, "social_impact", "Social impact"),
        "dataBiases": _join(s.biases(facts)),
        "dataLimitations": _join(s.limitations(facts, unlabeled=unlabeled)),
        "dataUseCases": _join(s.use_cases(facts)),
    }
    return {f"rai:{name}": values[name] for name in RAI_PROPERTIES}


def license_value(text: str) -> Any:
    """schema.org ``license``: a URL (an SPDX identifier becomes its spdx.org page), else a
    named CreativeWork; "not stated" when empty."""
    text = text.strip()
    if re.match(r"^https?://", text):
        return text
    if re.fullmatch(r"[A-Za-z0-9.+-]+", text):
        return f"https://spdx.org/licenses/{text}.html"
    return {"@type": "sc:CreativeWork", "name": text or NOT_STATED_VALUE}


# ---------------------------------------------------------------------- record sets
def _field(record_set: str, column: Column, file_id: str, **extra: Any) -> dict[str, Any]:
    field: dict[str, Any] = {
        "@type": "cr:Field",
        "@id": f"{record_set}/{column.name}",
        "name": column.name,
        "description": column.description,
        "dataType": column.croissant,
        "source": {"fileObject": {"@id": file_id}, "extract": {"column": column.name}},
    }
    if column.arrow == "strings":
        field.update(isArray=True, arrayShape="-1")
    field.update(extra)
    return field


def _items_record_set(answers_published: bool) -> dict[str, Any]:
    fields = []
    for column in ITEM_COLUMNS:
        extra: dict[str, Any] = {}
        if column.name == "label":
            extra["prov:wasGeneratedBy"] = [{"@id": "#aggregation"}, {"@id": "#review"}]
            if answers_published:
                extra["prov:wasDerivedFrom"] = {"@id": "annotations/answer"}
        fields.append(_field("items", column, ITEMS_FILE, **extra))
    return {"@type": "cr:RecordSet", "@id": "items", "name": "items",
            "description": "One record per item, with its published label.",
            "key": {"@id": "items/id"}, "field": fields}


def _annotator(column_of: dict[str, Column]) -> dict[str, Any]:
    """The PROV attribution of each answer to its (pseudonymous) annotator."""
    rs = "annotations/answer/annotator"
    return {
        "@type": "cr:Field", "@id": rs, "name": "annotator",
        "description": "The worker who gave the answer, as a pseudonymous PROV agent.",
        "dataType": "prov:Agent",
        "equivalentProperty": "prov:wasAttributedTo",
        "subField": [
            _field(rs, column_of["worker"], ANSWERS_FILE, equivalentProperty="sc:identifier"),
            _field(rs, column_of["role_class"], ANSWERS_FILE),
            _field(rs, column_of["vendor"], ANSWERS_FILE,
                   equivalentProperty="prov:actedOnBehalfOf"),
        ],
    }


def _answers_record_set() -> dict[str, Any]:
    column_of = {c.name: c for c in ANSWER_COLUMNS}
    item_id = Column("item_id", "string", "sc:Text", "The id of the item answered.")
    fields = [_field("annotations", item_id, ANSWERS_FILE,
                     references={"field": {"@id": "items/id"}})]
    for column in ANSWER_COLUMNS:
        extra: dict[str, Any] = {}
        if column.name == "answer":
            extra = {"dataType": ["sc:Text", "cr:Label"],
                     "prov:wasGeneratedBy": {"@id": "#annotation"},
                     "annotation": _annotator(column_of)}
        fields.append(_field("annotations", column, ANSWERS_FILE, **extra))
    return {"@type": "cr:RecordSet", "@id": "annotations", "name": "annotations",
            "description": "One record per individual answer, with its provenance.",
            "field": fields}


# ---------------------------------------------------------------------- provenance
def _provenance(facts: Facts, answers_published: bool) -> dict[str, Any]:
    d, q, k = facts.dataset, facts.quality, facts.k
    handloom = {"@id": "#handloom", "@type": "prov:SoftwareAgent",
                "prov:label": f"Handloom {__version__}", "softwareVersion": __version__}
    annotators = {
        "@id": "#annotators", "@type": "prov:Agent",
        "prov:label": "The project's annotators, identified in the data only by per-project "
                      "pseudonyms",
        "description": f"{say.workers_phrase(facts.workforce.workers, k)}; role classes: "
                       f"{say.group_list(facts.workforce.role_classes, k)}.",
    }
    reviewers = {"@id": "#reviewers", "@type": "prov:Agent",
                 "prov:label": "The project's reviewers (staff), who adjudicate disagreements "
                               "and failed gold answers"}
    sources = [{"@type": "prov:Entity", "prov:label": i.source, "sha256": i.sha256}
               for i in d.imports[:100]]
    activities: list[dict[str, Any]] = [
        _activity("#import", "Import of the raw items into Handloom", d.first_import_at,
                  d.last_import_at, ["#handloom"], used=sources),
        _activity("#annotation", "Human annotation under the project's instructions",
                  d.first_answer_at, d.last_answer_at, ["#annotators", "#handloom"],
                  used=[{"@type": ["prov:Plan", "prov:Entity"],
                         "prov:label": f"Instructions version {v.version}",
                         "sha256": v.text_sha256, "prov:generatedAtTime": v.created_at}
                        for v in facts.instructions.versions]),
        _activity("#review", f"Review and adjudication ({q.adjudicated_items:,} items decided)",
                  None, None, ["#reviewers", "#handloom"]),
        _activity("#aggregation", f"Aggregation of the counted answers ({q.method})", None,
                  facts.generated_at, ["#handloom"],
                  used=[{"@id": "annotations"}] if answers_published else []),
        _activity("#export", "Export of this dataset from Handloom's records", None,
                  facts.generated_at, ["#handloom"]),
    ]
    return {"prov:wasGeneratedBy": activities,
            "prov:wasAttributedTo": [annotators, reviewers, handloom],
            "prov:wasDerivedFrom": sources}


def _activity(ident: str, label: str, started: str | None, ended: str | None,
              agents: list[str], used: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"@id": ident, "@type": "prov:Activity", "prov:label": label,
                           "prov:wasAssociatedWith": [{"@id": a} for a in agents]}
    if started:
        out["prov:startedAtTime"] = started
    if ended:
        out["prov:endedAtTime"] = ended
    if used:
        out["prov:used"] = used
    return out


# ---------------------------------------------------------------------- the document
def croissant_document(facts: Facts, files: dict[str, str], *, items: int, unlabeled: int,
                       answers_published: bool) -> dict[str, Any]:
    """The Croissant JSON-LD for an export whose data files (name -> SHA-256) are *files*."""
    p = facts.project
    title = p.title or p.name
    description = (
        f"{title}: {items:,} items enriched by people through Handloom ({p.kind} task), "
        f"each with its published label, method and confidence"
        + (", and every individual answer with its provenance" if answers_published else "")
        + f". Figures that describe workers cover at least {facts.k} workers. Text marked "
        f"\"as stated by the project\" is the project's own statement; everything else is "
        f"measured from Handloom's records.")
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": CONFORMS_TO,
        "name": p.name,
        "description": description,
        "license": license_value(say.stated_text(facts, "license")),
        "datePublished": facts.generated_at,
        "dateCreated": p.created_at,
        "keywords": ["handloom", "human-annotated", p.kind,
                     say.stated_text(facts, "downstream_use") or "dataset"],
    }
    if p.title:
        doc["alternateName"] = p.title
    citation = say.stated_text(facts, "citation")
    if citation:
        doc["citeAs"] = citation
    doc.update(_provenance(facts, answers_published))
    doc["distribution"] = [
        {"@type": "cr:FileObject", "@id": name, "name": name, "contentUrl": name,
         "encodingFormat": PARQUET, "sha256": digest}
        for name, digest in files.items()]
    record_sets = [_items_record_set(answers_published)]
    if answers_published:
        record_sets.append(_answers_record_set())
    doc["recordSet"] = record_sets
    doc.update(rai_properties(facts, answers_published=answers_published, unlabeled=unlabeled))
    return doc


def write_croissant(records: Iterator[dict[str, Any]], out: Path, facts: Facts, *,
                    answers: bool, progress: Progress | None = None) -> tuple[int, int]:
    """Write the folder *out*: the Parquet files and ``croissant.json`` describing them.
    Returns the number of items and of individual answers written."""
    import pyarrow.parquet as pq

    out.mkdir(parents=True, exist_ok=True)
    items_schema = arrow_schema(ITEM_COLUMNS)
    answer_columns = (Column("item_id", "string", "sc:Text", ""),) + ANSWER_COLUMNS
    answers_schema = arrow_schema(answer_columns)
    count = n_answers = unlabeled = 0
    answers_sink = pq.ParquetWriter(out / ANSWERS_FILE, answers_schema) if answers else None
    try:
        with pq.ParquetWriter(out / ITEMS_FILE, items_schema) as items_sink:
            item_writer = TableWriter(items_sink, items_schema)
            answer_writer = TableWriter(answers_sink, answers_schema) if answers_sink else None
            for record in records:
                item_writer.add(flat_item(record))
                count += 1
                unlabeled += record["label"]["answer"] is None
                if answer_writer is not None:
                    for answer in record["annotations"]:
                        answer_writer.add({"item_id": record["id"], **flat_answer(answer)})
                        n_answers += 1
                if progress and count % BATCH == 0:
                    progress(count)
            item_writer.flush()
            if answer_writer is not None:
                answer_writer.flush()
    finally:
        if answers_sink is not None:
            answers_sink.close()
    files = {ITEMS_FILE: sha256_of(out / ITEMS_FILE)}
    if answers:
        files[ANSWERS_FILE] = sha256_of(out / ANSWERS_FILE)
    doc = croissant_document(facts, files, items=count, unlabeled=unlabeled,
                             answers_published=answers)
    (out / METADATA_FILE).write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n",
                                     encoding="utf-8")
    return count, n_answers
