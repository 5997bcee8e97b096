"""Counts and lists in English (snnconv/paper/wording.py): every form on zero, one and several items."""

from __future__ import annotations

import pytest

from snnconv.paper.wording import count_noun, format_set, human_list, plural


@pytest.mark.parametrize(
    ("count", "noun", "text"),
    [
        (0, "seed", "0 seeds"),
        (1, "seed", "1 seed"),
        (3, "seed", "3 seeds"),
        ("1", "percentage point", "1 percentage point"),
        ("12.5", "percentage point", "12.5 percentage points"),
        (1.0, "layer", "1.0 layer"),
        (2, "training seed", "2 training seeds"),
        (2, "matrix", "2 matrices"),
        (2, "pass", "2 passes"),
        (2, "study", "2 studies"),
        (2, "day", "2 days"),
    ],
)
def test_count_noun_agrees_with_the_count(count, noun, text):
    assert count_noun(count, noun) == text


def test_plural_without_the_count_and_a_bad_count():
    assert plural("norm choice", 1) == "norm choice" and plural("norm choice", 5) == "norm choices"
    with pytest.raises(ValueError, match="'many'"):
        plural("seed", "many")


@pytest.mark.parametrize(
    ("items", "text"),
    [([], ""), (["a"], "a"), (["a", "b"], "a and b"), (["a", "b", "c"], "a, b and c"), ([1, 2], "1 and 2")],
)
def test_human_list_of_any_length(items, text):
    assert human_list(items) == text


def test_human_list_says_what_nothing_means_when_asked():
    assert human_list([], empty="no norm") == "no norm" and human_list(["max"], empty="no norm") == "max"


@pytest.mark.parametrize(
    ("items", "text"), [([], r"\emptyset"), (["4"], r"\{4\}"), (["1", r"\infty"], r"\{1, \infty\}")]
)
def test_format_set_never_prints_none_as_a_member(items, text):
    assert format_set(items) == text
