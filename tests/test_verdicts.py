"""d2lrnn.verdicts: comparisons over seeds in words."""
import pytest

from d2lrnn.verdicts import compare, ranking


@pytest.mark.parametrize("base, other, lower, expected", [
    ([6.5, 6.6, 6.4], [6.0, 6.1, 6.2], True,
     "ppl: clearly better, in every seed and with ranges apart: 6.10 (6.00–6.20) against 6.50 (6.40–6.60)"),
    ([6.5, 6.6, 6.4], [6.45, 6.5, 6.3], True,
     "ppl: better in every seed, but the ranges overlap: 6.42 (6.30–6.50) against 6.50 (6.40–6.60)"),
    ([6.5, 6.6, 6.4], [6.45, 6.7, 6.3], True,
     "ppl: no clear difference (2 of 3 seeds better, 1 worse): 6.48 (6.30–6.70) against 6.50 (6.40–6.60)"),
    ([2.0, 2.1, 2.2], [3.0, 3.1, 3.2], False,
     "ppl: clearly better, in every seed and with ranges apart: 3.10 (3.00–3.20) against 2.10 (2.00–2.20)"),
    ([2.0, 2.1, 2.2], [1.0, 1.1, 1.2], False,
     "ppl: clearly worse, in every seed and with ranges apart: 1.10 (1.00–1.20) against 2.10 (2.00–2.20)"),
])
def test_compare(base, other, lower, expected):
    assert compare("ppl", base, other, lower_is_better=lower) == expected


def test_ranges_apart_only_at_the_precision_shown():
    assert compare("x", [0.5001, 0.5002], [0.5003, 0.5004], digits=3) == (
        "x: worse in every seed, but the ranges overlap: 0.500 (0.500–0.500) against 0.500 (0.500–0.500)")
    assert ranking("x", {"A": [0.5001], "B": [0.5003]}, digits=3).endswith("the ranges of A and B overlap)")


def test_ranking_firm_and_not():
    assert ranking("best", {"RNN": [8.3, 8.4], "LSTM": [6.5, 6.6], "GRU": [7.4, 7.8]}) == (
        "best, lowest first: LSTM 6.55 (6.50–6.60), GRU 7.60 (7.40–7.80), RNN 8.35 (8.30–8.40) "
        "(the same order in every seed; no two neighbours' ranges overlap)")
    assert ranking("best", {"A": [1.0, 3.0], "B": [2.0, 2.5]}) == (
        "best, lowest first: A 2.00 (1.00–3.00), B 2.25 (2.00–2.50) "
        "(the order differs between seeds; the ranges of A and B overlap)")
    assert ranking("train", {"A": [1.0, 1.1], "B": [2.0, 2.1]}, lower_is_better=False).startswith(
        "train, highest first: B 2.05")


@pytest.mark.parametrize("call, message", [
    (lambda: compare("x", [1.0], [1.0, 2.0]), "base and other need one value per seed each, got 1 and 2"),
    (lambda: compare("x", [], [1.0]), r"base must be a non-empty list of numbers, one per seed, got \[\]"),
    (lambda: ranking("x", {"A": [1.0]}), r"ranking needs at least two labels, got \['A'\]"),
    (lambda: ranking("x", {"A": [1.0], "B": [1.0, 2.0]}), "every label needs one value per seed"),
    (lambda: ranking("x", {"A": [True], "B": [1.0]}), r"values\['A'\] must be a non-empty list of numbers"),
])
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()
