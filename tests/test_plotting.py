"""Curves of several runs on one figure, the results table, parameter counts."""
import matplotlib
import mxnet as mx
import pytest
from matplotlib.figure import Figure
from mxnet.gluon import rnn

import d2lrnn
from d2lrnn import (History, markdown_table, mean_and_range, num_parameters, plot_runs, plot_seeds,
                    results_table, seeds_table)


def history(perplexities, val_perplexities=(), seconds=2.0):
    h = History()
    for i, ppl in enumerate(perplexities):
        h.append(i + 1, ppl, seconds, 1120,
                 val_perplexity=val_perplexities[i] if val_perplexities else None)
    return h


RUNS = {
    "GRU": history([20.0, 8.0, 4.5], [18.0, 7.25, 5.125], seconds=1.5),
    "LSTM": history([22.0, 9.0, 3.0], [19.0, 6.0, 6.5]),
}


def test_plot_runs_draws_training_dashed_and_validation_solid_in_one_colour_per_run():
    ax = Figure().add_subplot()
    assert plot_runs({**RUNS, "no validation": history([5.0, 4.0])}, ax=ax) is ax
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert list(lines) == ["GRU (training)", "GRU (validation)", "LSTM (training)",
                           "LSTM (validation)", "no validation (training)"]
    for run, h in RUNS.items():
        train, valid = lines[f"{run} (training)"], lines[f"{run} (validation)"]
        assert train.get_linestyle() == "--" and valid.get_linestyle() == "-"
        assert train.get_color() == valid.get_color()
        assert list(train.get_ydata()) == h.perplexity and list(valid.get_ydata()) == h.val_perplexity
    assert lines["GRU (training)"].get_color() != lines["LSTM (training)"].get_color()
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "perplexity"


def test_plot_runs_against_tokens_seen():
    ax = plot_runs(RUNS, ax=Figure().add_subplot(), x="tokens")
    assert list(ax.get_lines()[0].get_xdata()) == [1120, 2240, 3360]
    assert ax.get_xlabel() == "training tokens seen"
    with pytest.raises(ValueError, match="x must be 'epoch' or 'tokens'"):
        plot_runs(RUNS, ax=Figure().add_subplot(), x="updates")


def test_plot_runs_changes_no_global_settings():
    before = dict(matplotlib.rcParams)
    plot_runs(RUNS, ax=Figure().add_subplot(), logy=False)
    assert dict(matplotlib.rcParams) == before
    with pytest.raises(ValueError, match="at least one"):
        plot_runs({})


def test_results_table_is_exact_and_aligned():
    table = results_table({**RUNS, "RNN": history([30.0, 25.0])}, {"GRU": 179772, "LSTM": 237116})
    assert table.splitlines() == [
        "| run  | parameters | epochs | s/epoch | train ppl | valid ppl | best valid ppl (epoch) |",
        "|------|-----------:|-------:|--------:|----------:|----------:|-----------------------:|",
        "| GRU  |    179,772 |      3 |    1.50 |      4.50 |      5.12 |               5.12 (3) |",
        "| LSTM |    237,116 |      3 |    2.00 |      3.00 |      6.50 |               6.00 (2) |",
        "| RNN  |          - |      2 |    2.00 |     25.00 |         - |                      - |",
    ]


def test_table_errors():
    with pytest.raises(ValueError, match="has no epochs"):
        results_table({"empty": History()})
    with pytest.raises(ValueError, match="at least one"):
        results_table({})
    with pytest.raises(ValueError, match=r"every row needs 2 cells.*got \['x'\]"):
        markdown_table(["a", "b"], [["x"]])
    with pytest.raises(ValueError, match="align must have one letter"):
        markdown_table(["a", "b"], [["x", "y"]], align="lc")
    assert markdown_table(["a", "bb"], [[1, 2.5]], align="lr").splitlines() == [
        "| a |  bb |", "|---|----:|", "| 1 | 2.5 |"]
    assert markdown_table(["x|y"], [["a|b"]]).splitlines()[2] == "| a\\|b |"


def test_num_parameters_counts_every_weight():
    model = d2lrnn.RNNModel(rnn.LSTM(8, num_layers=2), 5)  # every shape is known once built
    # LSTM layer l: 4 gates x (input + hidden weights and two biases); dense: 8 x 5 + 5.
    layer1 = 4 * 8 * (5 + 8 + 2)
    layer2 = 4 * 8 * (8 + 8 + 2)
    assert num_parameters(model) == layer1 + layer2 + 8 * 5 + 5
    model.initialize()
    assert num_parameters(model) == sum(p.data().size for p in model.collect_params().values())


SEEDS = {
    "GRU": [history([20.0, 8.0, 4.0], [18.0, 7.0, 5.0], seconds=1.5),
            history([22.0, 6.0, 5.0], [20.0, 6.0, 8.0], seconds=2.5)],
    "LSTM": [history([21.0, 9.0, 3.0], [19.0, 6.5, 6.0])],
}


def test_plot_seeds_draws_the_mean_and_the_range_of_the_seeds():
    ax = plot_seeds(SEEDS, ax=Figure().add_subplot())
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert list(lines) == ["GRU (training, mean of 2)", "GRU (validation, mean of 2)",
                           "LSTM (training, mean of 1)", "LSTM (validation, mean of 1)"]
    assert list(lines["GRU (training, mean of 2)"].get_ydata()) == [21.0, 7.0, 4.5]
    assert list(lines["GRU (validation, mean of 2)"].get_ydata()) == [19.0, 6.5, 6.5]
    assert lines["GRU (training, mean of 2)"].get_linestyle() == "--"
    band = ax.collections[0]  # the GRU's validation range: from the lower to the upper seed
    (path,) = band.get_paths()
    ys = sorted({round(float(y), 6) for _, y in path.vertices})
    assert {18.0, 20.0, 6.0, 7.0, 5.0, 8.0} <= set(ys)
    assert ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="same epochs"):
        plot_seeds({"x": [history([1.0, 2.0], [1.0, 2.0]), history([1.0], [1.0])]})
    with pytest.raises(ValueError, match="at least one History"):
        plot_seeds({"x": []})


def test_seeds_table_is_exact():
    assert seeds_table(SEEDS, {"GRU": 1000}).splitlines() == [
        "| run  | parameters | seeds |   best valid ppl | epoch of best | valid ppl at end "
        "| train ppl at end |          s/epoch |",
        "|------|-----------:|------:|-----------------:|--------------:|-----------------:"
        "|-----------------:|-----------------:|",
        "| GRU  |      1,000 |     2 | 5.50 (5.00–6.00) |           2–3 | 6.50 (5.00–8.00) "
        "| 4.50 (4.00–5.00) | 2.00 (1.50–2.50) |",
        "| LSTM |          - |     1 |             6.00 |             3 |             6.00 "
        "|             3.00 |             2.00 |",
    ]
    assert mean_and_range([1.0, 2.0, 6.0], digits=1) == "3.0 (1.0–6.0)"
    with pytest.raises(ValueError, match="without validation"):
        seeds_table({"x": [history([1.0, 2.0])]})
