"""Hugging Face ``datasets`` export: a ``save_to_disk`` folder and its dataset card.

``handloom export PROJECT --format hf --out DIR`` writes a folder that
``datasets.load_from_disk(DIR)`` loads back (one row per item, the answers as a list of
structs, exactly the Parquet export's columns) and ``DIR/README.md``, a dataset card whose
YAML header (``annotations_creators``, ``license``, ``pretty_name``, ``size_categories``,
``task_categories`` …) and sections ("Annotation process", "Who are the annotators?",
"Personal and Sensitive Information" …) are written from the records through
:mod:`.narrative`. Needs the optional extra ``datasets`` (``pip install 'handloom[hf]'``).
"""

from __future__ import annotations

import json
import tempfile
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
    flat_row,
    row_schema,
)
from handloom.disclose.facts import Facts
from handloom.errors import Invalid

INSTALL_HINT = "pip install 'handloom[hf]'"

# Role class -> the Hugging Face card's annotations_creators vocabulary. Vendor, contractor
# and in-house staff are neither a crowd nor necessarily experts: "other", and the card's
# "Who are the annotators?" section says what they were.
ANNOTATION_CREATORS = {
    "crowd": "crowdsourced",
    "volunteer": "crowdsourced",
    "expert": "expert-generated",
    "vendor": "other",
    "contractor": "other",
    "in-house": "other",
    "other": "other",
}

# Task kind -> Hugging Face task category, where one fits.
TASK_CATEGORIES = {
    "classification": "text-classification",
    "moderation": "text-classification",
    "rating": "text-classification",
    "spans": "token-classification",
    "pairwise": "text-ranking",
    "ranking": "text-ranking",
    "freetext": "text-generation",
}

# SPDX identifiers the Hub knows by their lower-case name; any other licence is "other".
HUB_LICENSES = frozenset({
    "apache-2.0", "mit", "cc0-1.0", "cc-by-4.0", "cc-by-sa-4.0", "cc-by-nc-4.0",
    "cc-by-nc-sa-4.0", "cc-by-nd-4.0", "cc-by-nc-nd-4.0", "cc-by-3.0", "cc-by-sa-3.0",
    "cc-by-nc-3.0", "odc-by", "odbl", "pddl", "cdla-permissive-2.0", "cdla-sharing-1.0",
    "gpl-3.0", "lgpl-3.0", "agpl-3.0", "bsd-2-clause", "bsd-3-clause", "mpl-2.0",
    "unlicense", "openrail",
})

SIZE_CATEGORIES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                   (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M"),
                   (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B"))


def require_datasets() -> Any:
    """The ``datasets`` module, or an error saying how to install the extra."""
    try:
        import datasets
    except ImportError as exc:
        raise Invalid("The hf export format needs the optional Hugging Face `datasets` "
                      f"package, which is not installed. Install it with: {INSTALL_HINT}",
                      field="format", hint=INSTALL_HINT) from exc
    return datasets


def size_category(n: int) -> str:
    for limit, name in SIZE_CATEGORIES:
        if n < limit:
            return name
    return "n>1B"


def hub_license(text: str) -> dict[str, str]:
    """The card's ``license`` (and ``license_name`` / ``license_link`` for others)."""
    text = text.strip()
    if not text:
        return {"license": "unknown"}
    if text.lower() in HUB_LICENSES:
        return {"license": text.lower()}
    if text.startswith(("http://", "https://")):
        return {"license": "other", "license_link": text}
    return {"license": "other", "license_name": text}


def annotations_creators(role_classes: set[str], facts: Facts) -> list[str]:
    """The card's ``annotations_creators`` from the annotators' role classes (and
    "machine-generated" where some labels have no human answer behind them)."""
    out = {ANNOTATION_CREATORS.get(r, "other") for r in role_classes}
    if facts.assist.model_only_labels:
        out.add("machine-generated")
    return sorted(out) or ["no-annotation"]


def _yaml(metadata: dict[str, Any]) -> str:
    """YAML for the card header: strings written as JSON strings (valid YAML scalars)."""
    lines = []
    for key, value in metadata.items():
        if isinstance(value, list):
            lines.append(f"{key}:")
            lines.extend(f"- {json.dumps(v, ensure_ascii=False)}" for v in value)
        else:
            lines.append(f"{key}: {json.dumps(value, ensure_ascii=False)}")
    return "\n".join(lines)


def _columns_table(columns: tuple[Column, ...], prefix: str = "") -> list[str]:
    types = {"string": "string", "bool": "bool", "int32": "int32", "float64": "float64",
             "strings": "list of string"}
    return [f"| `{prefix}{c.name}` | {types[c.arrow]} | {c.description} |" for c in columns]


def _paragraphs(parts: list[str]) -> str:
    return "\n\n".join(p for p in parts if p)


def dataset_card(facts: Facts, *, items: int, unlabeled: int, role_classes: set[str],
                 answers_published: bool) -> str:
    """The README.md dataset card: YAML metadata, then the card's sections, from *facts*
    (measured) and the project's statement (labelled as stated)."""
    p, k = facts.project, facts.k
    title = p.title or p.name
    licence = say.stated_text(facts, "license")
    metadata: dict[str, Any] = {"pretty_name": title, **hub_license(licence),
                                "annotations_creators": annotations_creators(role_classes,
                                                                             facts),
                                "size_categories": [size_category(items)]}
    if p.kind in TASK_CATEGORIES:
        metadata["task_categories"] = [TASK_CATEGORIES[p.kind]]
    metadata["tags"] = ["handloom", "human-annotated", p.kind]
    columns = ["| column | type | description |", "| --- | --- | --- |",
               *_columns_table(ITEM_COLUMNS)]
    if answers_published:
        columns.append("| `annotations` | list of struct | Every individual answer, with its "
                       "provenance (fields below). |")
        columns.extend(_columns_table(ANSWER_COLUMNS, "annotations[]."))
    collection = [say.stated(facts, "data_collection", "Data collection"),
                  say.stated(facts, "collection_type", "Collection type"),
                  say.stated(facts, "collection_timeframe", "Collection timeframe")]
    sections = [
        f"# Dataset Card for {title}",
        f"{items:,} items enriched by people through Handloom ({p.kind} task), each with "
        f"its published label, how it was reached and its confidence"
        + (", and every individual answer with its provenance" if answers_published else "")
        + ". This card was written by Handloom from its own records. Text marked \"as stated "
        "by the project\" is the project's own statement; everything else is measured. "
        f"Figures that describe workers cover at least {k} workers; smaller "
        f"groups read \"{say.suppressed(k)}\".",
        "## Dataset Details",
        "### Dataset Description",
        _paragraphs([
            f"- **Project:** `{p.name}`" + (f" ({p.title})" if p.title else ""),
            f"- **Task kind:** {p.kind}" + (f"; labels: {', '.join(p.labels)}"
                                          if p.labels else ""),
            f"- **License:** {licence} (stated by the project)" if licence
            else "- **License:** not stated by the project",
            f"- **Exported:** {say.ledger_anchor(facts)}",
        ]).replace("\n\n", "\n"),
        "## Uses",
        _paragraphs(say.use_cases(facts)),
        "## Dataset Structure",
        f"One row per item ({items:,} rows). Columns holding JSON values (`payload`, "
        f"`label`, `soft_label`, answers) hold them as JSON text.\n\n" + "\n".join(columns),
        "## Dataset Creation",
        "### Curation Rationale",
        say.stated(facts, "purpose", "Purpose"),
        "### Source Data",
        "#### Data Collection and Processing",
        _paragraphs(collection + [say.stated(facts, "preprocessing", "Preparation before import"),
                                  say.imports(facts), say.operations(facts)]),
        "#### Who are the source data producers?",
        say.stated(facts, "data_source", "Source of the items"),
        "### Annotations",
        "#### Annotation process",
        _paragraphs(say.annotation_process(facts, answers_published=answers_published)
                    + say.annotation_analysis(facts, answers_published=answers_published)
                    + [say.annotations_per_item(facts), say.machine_tools(facts)]),
        "#### Who are the annotators?",
        _paragraphs(say.annotators(facts)),
        "#### Personal and Sensitive Information",
        _paragraphs(say.personal_information(facts)),
        "## Bias, Risks, and Limitations",
        _paragraphs(say.biases(facts) + say.limitations(facts, unlabeled=unlabeled)),
        "### Social Impact",
        say.stated(facts, "social_impact", "Social impact"),
        "### Missing Data",
        _paragraphs([say.stated(facts, "missing_data", "Missing data"),
                     f"Measured: {unlabeled:,} item(s) in this export have no label yet."]),
        "## Maintenance and Retention",
        _paragraphs([say.stated(facts, "maintenance_plan", "Maintenance plan"),
                     say.stated(facts, "data_retention", "Data retention")]),
        "## Citation",
        (f"As stated by the project:\n\n```\n{say.stated_text(facts, 'citation')}\n```"
         if say.stated_text(facts, "citation") else say.NOT_STATED),
        "## More Information",
        f"Generated by Handloom {__version__}. The project's transparency report (`handloom "
        f"report {p.name}`) gives the full figures behind this card. "
        + say.ledger_anchor(facts),
    ]
    return f"---\n{_yaml(metadata)}\n---\n\n" + "\n\n".join(sections) + "\n"


def write_hf(records: Iterator[dict[str, Any]], out: Path, facts: Facts, *, answers: bool,
             progress: Progress | None = None) -> tuple[int, int]:
    """Write the ``save_to_disk`` folder *out* and its README.md card. The rows stream
    through a temporary Arrow file that ``datasets`` memory-maps, so memory stays bounded.
    Returns the number of items and of individual answers written."""
    import pyarrow as pa

    datasets = require_datasets()
    schema = row_schema(answers)
    count = n_answers = unlabeled = 0
    role_classes: set[str] = set()
    with tempfile.TemporaryDirectory(prefix=".hf-rows-", dir=out.parent) as scratch:
        rows_file = Path(scratch) / "rows.arrow"
        with pa.OSFile(str(rows_file), "wb") as sink, pa.ipc.new_stream(sink, schema) as ipc:
            writer = TableWriter(ipc, schema)
            for record in records:
                writer.add(flat_row(record))
                count += 1
                unlabeled += record["label"]["answer"] is None
                for answer in record.get("annotations", ()):
                    n_answers += 1
                    if answer["role_class"]:
                        role_classes.add(answer["role_class"])
                if progress and count % BATCH == 0:
                    progress(count)
            writer.flush()
        if not answers:
            role_classes = {g.name for g in facts.workforce.role_classes}
        info = datasets.DatasetInfo(
            description=f"{facts.project.title or facts.project.name}: exported by Handloom "
                        f"{__version__}; see README.md.",
            license=say.stated_text(facts, "license"),
            citation=say.stated_text(facts, "citation"))
        quiet = not datasets.is_progress_bar_enabled()
        datasets.disable_progress_bars()
        try:
            dataset = datasets.Dataset.from_file(str(rows_file), info=info, in_memory=False)
            dataset.save_to_disk(str(out))
            del dataset
        finally:
            if not quiet:
                datasets.enable_progress_bars()
    card = dataset_card(facts, items=count, unlabeled=unlabeled, role_classes=role_classes,
                        answers_published=answers)
    (out / "README.md").write_text(card, encoding="utf-8")
    return count, n_answers
