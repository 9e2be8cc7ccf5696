"""Label tables for the CLI, and the one-item posterior used while a project runs."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handloom.quality.files import (
    CATEGORICAL_COLUMNS,
    LabelFileError,
    pairwise_codes,
    read_table,
    write_rows,
)
from handloom.quality.gold import DEFAULT_SKILL, QualificationOutcome, item_posterior

# Cell text as people write it: no surrounding spaces (the reader strips them), not empty.
cell = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12) \
    .map(str.strip).filter(bool)
rows = st.lists(st.tuples(cell, cell, cell), min_size=1, max_size=30)


@settings(max_examples=60, deadline=None)
@given(rows=rows)
def test_csv_tables_round_trip(tmp_path_factory: pytest.TempPathFactory,
                               rows: list[tuple[str, str, str]]) -> None:
    path = tmp_path_factory.mktemp("csv") / "labels.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["label", "item", "extra", "worker"])  # any order, extra columns
        writer.writerows([(lab, item, "x", worker) for item, worker, lab in rows])
    table = read_table(path, CATEGORICAL_COLUMNS)
    assert list(zip(table["item"], table["worker"], table["label"], strict=True)) == rows


@settings(max_examples=30, deadline=None)
@given(rows=rows)
def test_parquet_tables_round_trip(tmp_path_factory: pytest.TempPathFactory,
                                   rows: list[tuple[str, str, str]]) -> None:
    path = tmp_path_factory.mktemp("pq") / "labels.parquet"
    write_rows(path, CATEGORICAL_COLUMNS, rows)
    table = read_table(path, CATEGORICAL_COLUMNS)
    assert list(zip(table["item"], table["worker"], table["label"], strict=True)) == rows


def test_table_errors_name_the_file_line_and_column(tmp_path: Path) -> None:
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("item,worker,label\na,w,x\nb,w\n", encoding="utf-8")
    with pytest.raises(LabelFileError) as err:
        read_table(ragged, CATEGORICAL_COLUMNS)
    assert err.value.line == 3 and "2 cells" in str(err.value)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("item,worker,label\nà,w,x\n".encode("latin-1"))
    with pytest.raises(LabelFileError, match="not UTF-8"):
        read_table(latin, CATEGORICAL_COLUMNS)
    nulls = tmp_path / "nulls.parquet"
    pq.write_table(pa.table({"item": ["a", None], "worker": ["w", "w"],
                             "label": ["x", "y"]}), nulls)
    with pytest.raises(LabelFileError) as err:
        read_table(nulls, CATEGORICAL_COLUMNS)
    assert err.value.column == "item" and err.value.line == 2
    sheet = tmp_path / "x.xlsx"
    sheet.touch()
    with pytest.raises(LabelFileError, match="unknown format"):
        read_table(sheet, CATEGORICAL_COLUMNS)
    with pytest.raises(LabelFileError, match="no such file"):
        read_table(tmp_path / "absent.csv", CATEGORICAL_COLUMNS)


def test_tsv_is_read_with_tabs(tmp_path: Path) -> None:
    path = tmp_path / "labels.tsv"
    path.write_text("item\tworker\tlabel\na,b\tw\tx\n", encoding="utf-8")
    assert read_table(path, CATEGORICAL_COLUMNS)["item"] == ["a,b"]


def test_pairwise_winners_are_coded_by_side() -> None:
    table = {"left": ["x", "y", "x", "x"], "right": ["y", "z", "z", "y"],
             "winner": ["x", "z", "tie", None]}
    assert pairwise_codes(table, Path("p.csv"))[2] == [0, 1, 2, 2]
    with pytest.raises(LabelFileError) as err:
        pairwise_codes({"left": ["x"], "right": ["y"], "winner": ["q"]}, Path("p.csv"))
    assert err.value.line == 2 and err.value.column == "winner"


# ------------------------------------------------------------------ the item posterior
keys = st.lists(st.sampled_from("abcd"), min_size=1, max_size=9)
skills = st.one_of(st.none(), st.floats(0.0, 1.0))


@settings(max_examples=200, deadline=None)
@given(keys=keys, data=st.data())
def test_posterior_is_a_probability_of_a_given_answer(keys: list[str],
                                                      data: st.DataObject) -> None:
    given_skills = data.draw(st.lists(skills, min_size=len(keys), max_size=len(keys)))
    post = item_posterior(keys, given_skills)
    assert post.key in keys
    assert 0.0 < post.confidence <= 1.0 and math.isfinite(post.confidence)
    # (It can be below 1/K: answers from workers worse than chance point away from
    # themselves, and such an item is exactly one a reviewer should see.)
    # The order of the answers does not matter (up to ties between keys).
    reversed_post = item_posterior(keys[::-1], given_skills[::-1])
    assert reversed_post.confidence == pytest.approx(post.confidence)


@settings(max_examples=50, deadline=None)
@given(n=st.integers(1, 12), k=st.integers(2, 10))
def test_unanimity_grows_more_certain_with_each_answer(n: int, k: int) -> None:
    fewer = item_posterior(["x"] * n, [None] * n, n_classes=k).confidence
    more = item_posterior(["x"] * (n + 1), [None] * (n + 1), n_classes=k).confidence
    assert more > fewer or fewer > 1 - 1e-12  # until floating point saturates at 1
    # One unanimous answer with the default skill is exactly that skill.
    assert item_posterior(["x"], [None], n_classes=k).confidence == pytest.approx(DEFAULT_SKILL)


def test_a_two_to_one_split_is_below_the_default_review_threshold() -> None:
    post = item_posterior(["a", "b", "a"], [None, None, None])
    assert post.key == "a" and post.confidence == pytest.approx(0.8)
    # A known-good worker on the minority side lowers the majority's confidence.
    assert item_posterior(["a", "b", "a"], [0.6, 0.99, 0.6]).key == "b"


def test_qualification_outcome_pass_mark_is_inclusive() -> None:
    assert QualificationOutcome(5, 4, 5, 0.8).passed
    assert not QualificationOutcome(5, 3, 5, 0.8).passed
    assert not QualificationOutcome(4, 4, 5, 0.8).passed  # not complete yet
    assert QualificationOutcome(3, 1, 3, 1 / 3).passed
