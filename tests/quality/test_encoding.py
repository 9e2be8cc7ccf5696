"""encode_labels / encode_values: arbitrary item, worker and label values to integer codes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handloom.quality.aggregate import MajorityVote
from handloom.quality.encoding import encode_labels, encode_values

PROPERTY = settings(max_examples=30, deadline=None, database=None)


def test_codes_follow_the_sorted_values() -> None:
    codes, values = encode_values(["cat", "ant", "dog", "ant"])
    assert values == ["ant", "cat", "dog"]
    assert codes.tolist() == [1, 0, 2, 0]
    assert codes.dtype == np.int64


def test_numbers_sort_as_numbers() -> None:
    codes, values = encode_values([10, 9, 100, 9])
    assert values == [9, 10, 100]
    assert codes.tolist() == [1, 0, 2, 0]


def test_the_same_values_in_any_order_get_the_same_codes() -> None:
    a = encode_labels(["i2", "i1", "i3"], ["w2", "w1", "w1"], ["no", "yes", "no"])
    b = encode_labels(["i3", "i1", "i2"], ["w1", "w1", "w2"], ["no", "yes", "no"])
    assert a.item_values == b.item_values == ["i1", "i2", "i3"]
    assert a.worker_values == b.worker_values == ["w1", "w2"]
    assert a.classes == b.classes == ["no", "yes"]


def test_encode_labels_encodes_the_three_columns() -> None:
    enc = encode_labels(["b", "a", "b", "c"], ["x", "y", "y", "x"], ["pos", "neg", "pos", "pos"])
    assert enc.items.tolist() == [1, 0, 1, 2]
    assert enc.workers.tolist() == [0, 1, 1, 0]
    assert enc.labels.tolist() == [1, 0, 1, 1]
    assert (enc.n_items, enc.n_workers, enc.n_classes) == (3, 2, 2)
    assert [enc.item_values[c] for c in enc.items] == ["b", "a", "b", "c"]
    # The codes go straight into an estimator.
    mv = MajorityVote().fit(enc.items, enc.workers, enc.labels, n_items=enc.n_items)
    assert [enc.classes[c] for c in mv.labels_] == ["neg", "pos", "pos"]


def test_a_given_class_order_is_kept_including_classes_nobody_used() -> None:
    enc = encode_labels([1, 2, 3], ["a", "a", "b"], ["pos", "neg", "pos"],
                        classes=["pos", "neg", "unsure"])
    assert enc.classes == ["pos", "neg", "unsure"]
    assert enc.labels.tolist() == [0, 1, 0]
    assert enc.n_classes == 3


def test_a_value_outside_the_given_classes_is_a_value_error_naming_it() -> None:
    with pytest.raises(ValueError, match=r"'maybe' is not one of \['yes', 'no'\]"):
        encode_labels([0, 1], [0, 0], ["yes", "maybe"], classes=["yes", "no"])


def test_columns_of_different_lengths_are_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"differ in length \(2, 1, 2\)"):
        encode_labels([0, 1], ["w"], ["a", "b"])


def test_empty_columns() -> None:
    enc = encode_labels([], [], [])
    assert enc.items.tolist() == enc.workers.tolist() == enc.labels.tolist() == []
    assert (enc.n_items, enc.n_workers, enc.n_classes) == (0, 0, 0)


def test_mixed_ints_and_strings_do_not_crash_and_keep_values_apart() -> None:
    enc = encode_labels([1, "x", 1, 2], ["w", 2, 2, "w"], [1, "a", "a", 1])
    # Equal values share a code, different values do not.
    assert enc.items[0] == enc.items[2] != enc.items[1] != enc.items[3] != enc.items[0]
    assert enc.workers[0] == enc.workers[3] != enc.workers[1] == enc.workers[2]
    assert enc.labels[0] == enc.labels[3] != enc.labels[1] == enc.labels[2]
    assert (enc.n_items, enc.n_workers, enc.n_classes) == (3, 2, 2)


def test_mixed_values_in_an_object_array_keep_their_types() -> None:
    codes, values = encode_values(np.array([1, "a", 1, None], dtype=object))
    assert values == [None, 1, "a"]     # by type name, then value: NoneType, int, str
    assert codes.tolist() == [1, 2, 1, 0]


def test_mixed_ints_and_strings_map_back_to_the_original_values() -> None:
    enc = encode_labels(["i1", "i2"], ["w", "w"], [1, "a"])
    assert [enc.classes[c] for c in enc.labels] == [1, "a"]


def test_mixed_ints_and_strings_with_a_given_class_order() -> None:
    enc = encode_labels(["i1", "i2"], ["w", "w"], [1, "a"], classes=[1, "a"])
    assert enc.labels.tolist() == [0, 1]


@PROPERTY
@given(st.lists(st.text(alphabet="abcxyz- ", max_size=4), max_size=30))
def test_strings_round_trip_through_their_codes(values: list[str]) -> None:
    codes, classes = encode_values(values)
    assert [classes[c] for c in codes] == values
    assert classes == sorted(set(values))


@PROPERTY
@given(st.lists(st.integers(-10**6, 10**6), max_size=30))
def test_integers_round_trip_through_their_codes(values: list[int]) -> None:
    codes, classes = encode_values(values)
    assert [classes[c] for c in codes] == values
    assert classes == sorted(set(values))
    assert all(type(c) is int for c in classes)


@PROPERTY
@given(st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=30),
       st.permutations(["a", "b", "c", "d"]))
def test_a_given_order_gives_each_value_its_position(values: list[str],
                                                     order: list[str]) -> None:
    codes, classes = encode_values(values, order)
    assert classes == order
    assert codes.tolist() == [order.index(v) for v in values]


def test_strings_differing_only_by_a_trailing_nul_stay_apart() -> None:
    codes, classes = encode_values(["a", "a\x00"])
    assert codes.tolist() == [0, 1]
