"""What the comparison exercises tell students to expect at their budget holds in the stored multi-seed runs.

``notebooks/results/<study>.json`` (written by ``scripts/multiseed.py``) holds every epoch of
runs made with the worked notebooks' settings and seeds 0, 1 and 2. The exercise's
``train_run`` initialises and samples exactly as those runs do, and a run of N epochs is
the first N epochs of a longer one with the same seed (tests/test_history_record.py), so
the stored histories cut at the exercise's ``num_epochs`` are what a student sees. The
settings are read from the exercise sources and compared with the stored ones first: when
the results are recorded with other settings, these tests say so instead of checking
claims that no stored run backs.
"""
import ast
import json
import re
import types

import nbformat
import pytest

from d2lrnn import History, best_held_out

from tiny import REPO, load_tool

setup_cells = load_tool("setup_cells")
SEEDS = (0, 1, 2)


def source(name):
    return nbformat.read(REPO / "course" / "source" / name / f"{name}.ipynb", as_version=4)


def intro(nb):
    """The exercise's opening text: its first cell after the set-up cells."""
    return next(c.source for c in nb.cells if not setup_cells.is_setup_cell(c))


def cell(nb, grade_id):
    return next(c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def assignments(code, quick=False):
    """``name = literal`` assignments of a cell (tuples unpacked element by element): at module level,
    or with ``quick`` inside its ``if d2l.quick_mode():`` block."""
    body = ast.parse(code).body
    if quick:
        body = [n for block in body if isinstance(block, ast.If) and "quick_mode" in ast.unparse(block.test)
                for n in block.body]
    values = {}
    for node in body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            pairs = zip(target.elts, node.value.elts) if isinstance(target, ast.Tuple) and \
                isinstance(node.value, ast.Tuple) else [(target, node.value)]
            for name, value in pairs:
                try:
                    values[name.id] = ast.literal_eval(value)
                except ValueError:
                    continue
    return values


def quick_and_full(expression):
    """(value in quick mode, value otherwise) of ``A if d2l.quick_mode() else B``."""
    assert isinstance(expression, ast.IfExp) and "quick_mode" in ast.unparse(expression.test)
    return ast.literal_eval(expression.body), ast.literal_eval(expression.orelse)


def train_run_calls(code):
    """The ``train_run(...)`` calls of a cell, as their argument nodes (positional, then keywords)."""
    return [(node.args, {k.arg: k.value for k in node.keywords}) for node in ast.walk(ast.parse(code))
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "train_run"]


def results(study):
    data = json.loads((REPO / "notebooks" / "results" / f"{study}.json").read_text())
    assert data["complete"] and not data["quick"] and tuple(data["seeds"]) == SEEDS
    return data["settings"], {(r["label"], r["seed"]): r for r in data["runs"]}


# ---------------------------------------------------------------- gru-vs-lstm

@pytest.fixture(scope="module")
def gru_vs_lstm():
    """(exercise settings, {label: (cell, num_layers, lr)}, stored runs cut to the exercise's budget, intro text)."""
    nb = source("gru-vs-lstm")
    settings = assignments(cell(nb, "train_run"))
    runs = {}
    for grade_id in ("q1_runs", "q2_run", "q3_runs"):
        for args, keywords in train_run_calls(cell(nb, grade_id)):
            label, cell_name, num_layers = (ast.literal_eval(a) for a in args)
            runs[label] = (cell_name, num_layers, ast.literal_eval(keywords["lr"]))
    stored_settings, stored = results("gru-vs-lstm")
    for key in ("num_hiddens", "num_steps", "batch_size", "clipping_theta"):
        assert settings[key] == stored_settings[key], key
    assert settings["num_epochs"] <= stored_settings["num_epochs"], "the stored runs are shorter than the budget"
    data = cell(nb, "data")
    assert f"num_examples={stored_settings['num_examples']})" in data
    assert f"valid_fraction={stored_settings['valid_fraction']})" in data
    histories = {}
    for label, (cell_name, num_layers, lr) in runs.items():
        if label.endswith("lr 5"):  # the run that must diverge is checked on its own below
            continue
        assert stored_settings["runs"].get(label) == [cell_name, num_layers], label
        assert stored_settings["lrs"][cell_name] == lr, \
            f"{label}: the exercise trains at lr={lr}, the stored runs at {stored_settings['lrs'][cell_name]}"
        histories[label] = {s: {k: v[:settings["num_epochs"]] for k, v in stored[label, s]["history"].items()}
                            for s in SEEDS}
    return settings, runs, histories, intro(nb)


def best(history):
    """The one measure: (lowest validation perplexity, its epoch), as d2lrnn.best_held_out gives it."""
    return best_held_out(History(**history))


def seconds_per_epoch(history):
    return sum(history["seconds"]) / len(history["seconds"])


def sentences(intro, question):
    """The 'What you should see' item of ``question`` ('Question 1'), its line breaks as single spaces."""
    items = intro[intro.index("**What you should see"):].split("\n* ")
    (item,) = [i for i in items if i.startswith(f"{question}:")]
    return " ".join(item.split())


def percent_range(lows, highs):
    """The relative gaps (high - low) / low of each seed, in whole percent, as 'A to B %'."""
    gaps = sorted(round(100 * (h - l) / l) for l, h in zip(lows, highs))
    return f"{gaps[0]} to {gaps[-1]} %"


def test_the_stated_budget_is_the_set_up_cells(gru_vs_lstm):
    settings, runs, _, intro = gru_vs_lstm
    assert f"Every model trains for {settings['num_epochs']} epochs" in intro
    assert f"plain RNN (at lr = {runs['RNN, 2 layers'][2]})" in intro
    assert f"LSTMs with 1 and 3 layers at lr = {runs['LSTM, 1 layer'][2]}" in " ".join(intro.split())
    assert runs["LSTM, 1 layer"][2] == runs["LSTM, 2 layers"][2] == runs["LSTM, 3 layers"][2]


def test_question_1_gates_rank_gru_lstm_rnn_by_best_validation_with_the_stated_gaps(gru_vs_lstm):
    h, intro = gru_vs_lstm[2], gru_vs_lstm[3]
    gru, lstm, rnn = ([best(h[label][s])[0] for s in SEEDS] for label in ("GRU, 2 layers", "LSTM, 2 layers",
                                                                         "RNN, 2 layers"))
    for s in SEEDS:
        assert gru[s] < lstm[s] < rnn[s], s
    gaps = sorted(round(b - a, 2) for a, b in zip(gru, lstm))
    said = sentences(intro, "Question 1")
    assert f"by {gaps[0]:.2f} to {gaps[-1]:.2f} ({percent_range(gru, lstm)})" in said, said
    assert f"the highest of the three, {percent_range(lstm, rnn)} above the LSTM" in said, said


def test_question_1_the_gru_is_best_after_epoch_25_worse_again_at_the_end_and_faster(gru_vs_lstm):
    h = gru_vs_lstm[2]
    for s in SEEDS:
        gru = h["GRU, 2 layers"][s]
        value, epoch = best(gru)
        assert epoch > 25 and gru["val_perplexity"][-1] > value * 1.2, s
        assert seconds_per_epoch(gru) < seconds_per_epoch(h["LSTM, 2 layers"][s]), s
    assert "ends more than 20 % above it" in sentences(gru_vs_lstm[3], "Question 1")


PLATEAU = 17  # validation perplexity above this: the model predicts little more than letter frequencies (about 19)


def test_question_3_at_lr_10_one_layer_is_best_sooner_and_three_layers_stay_on_the_plateau(gru_vs_lstm):
    h, intro = gru_vs_lstm[2], gru_vs_lstm[3]
    stuck = 0
    ones, twos = [], []
    for s in SEEDS:
        one, two, three = (h[f"LSTM, {k}"][s] for k in ("1 layer", "2 layers", "3 layers"))
        (b1, e1), (b2, e2), (b3, _) = best(one), best(two), best(three)
        assert b1 < b2 < b3, s
        assert e1 <= 20 and e1 < e2, s  # "reaches its best by epoch 20, sooner than the two-layer one"
        val = three["val_perplexity"]
        assert sum(v > PLATEAU for v in val) > len(val) / 2, s  # on the plateau for most of the run
        stuck += min(val) > PLATEAU
        ones.append(b1)
        twos.append(b2)
    assert stuck == 2  # "in two of the three seeds for all 40 epochs"
    said = sentences(intro, "Question 3")
    assert f"sooner than the two-layer one, and {percent_range(ones, twos)} lower" in said, said
    assert "in two of the three seeds for all 40 epochs" in said


def test_question_4_the_best_ranks_the_cells_alike_in_every_seed_and_the_last_value_does_not(gru_vs_lstm):
    h, intro = gru_vs_lstm[2], gru_vs_lstm[3]
    cells = ("RNN, 2 layers", "GRU, 2 layers", "LSTM, 2 layers")
    by_best = {tuple(sorted(cells, key=lambda label: best(h[label][s])[0])) for s in SEEDS}
    by_last = {tuple(sorted(cells, key=lambda label: h[label][s]["val_perplexity"][-1])) for s in SEEDS}
    assert len(by_best) == 1 and len(by_last) > 1
    said = sentences(intro, "Question 4")
    assert "by the best, the three two-layer cells come in the same order in every seed" in said
    lstm0, lstm1 = h["LSTM, 2 layers"][0], h["LSTM, 2 layers"][1]
    last = {s: {label: h[label][s]["val_perplexity"][-1] for label in cells} for s in SEEDS}
    assert min(last[0], key=last[0].get) == "LSTM, 2 layers" and max(last[1], key=last[1].get) == "LSTM, 2 layers"
    assert f"With seed 0 the two-layer LSTM ends lowest of the three, since it reached its best only in epoch " \
           f"{best(lstm0)[1]};" in said, said
    value, epoch = best(lstm1)
    assert f"in seed 1 it ends highest, at {lstm1['val_perplexity'][-1]:.2f}, {lstm1['epoch'][-1] - epoch} epochs " \
           f"after its best of {value:.2f}." in said, said


def test_the_teaching_guide_says_what_a_10_epoch_budget_would_have_shown(gru_vs_lstm):
    """docs/teaching.md justifies the 40-epoch budget with the stored runs cut at epoch 10."""
    h = gru_vs_lstm[2]
    guide = " ".join((REPO / "docs" / "teaching.md").read_text().split())
    at10 = {s: {label: best({k: v[:10] for k, v in runs[s].items()}) for label, runs in h.items()} for s in SEEDS}
    gru_ahead = [s for s in SEEDS if at10[s]["GRU, 2 layers"][0] < at10[s]["LSTM, 2 layers"][0]]
    assert gru_ahead == [0, 2]  # the order of question 1 depends on the seed after 10 epochs
    for s in SEEDS:
        assert min(at10[s], key=lambda label: at10[s][label][0]) == "LSTM, 1 layer", s
        assert at10[s]["LSTM, 3 layers"][0] > PLATEAU, s
    lstm1, gru1 = at10[1]["LSTM, 2 layers"][0], at10[1]["GRU, 2 layers"][0]
    assert f"in seed 1 the two-layer LSTM is ahead of the GRU ({lstm1:.2f} against {gru1:.2f})" in guide
    assert at10[0]["LSTM, 2 layers"][0] > PLATEAU and at10[2]["LSTM, 2 layers"][0] < PLATEAU
    assert "in seeds 0 and 2 behind it (in seed 0 still on the plateau" in guide


def test_question_2_asks_for_the_chapters_lr_first(gru_vs_lstm):
    assert gru_vs_lstm[1]["RNN, 2 layers, lr 5"] == ("rnn", 2, 5)


# ---------------------------------------------------------------- more-books

@pytest.fixture(scope="module")
def more_books():
    """(stored runs {label: {seed: run}}, num_epochs, intro text), after checking the settings agree."""
    nb = source("more-books")
    settings = assignments(cell(nb, "train_run"))
    stored_settings, stored = results("more-books")
    for key in ("num_hiddens", "num_steps", "batch_size", "lr", "clipping_theta"):
        assert settings[key] == stored_settings[key], key
    data = cell(nb, "data")
    assert f"num_examples={stored_settings['num_examples']})" in data
    assert f"valid_fraction={stored_settings['valid_fraction']})" in data
    labels = []
    for grade_id in ("ex3_runs", "ex4_runs"):
        for args, _ in train_run_calls(cell(nb, grade_id)):
            label = ast.literal_eval(args[0])
            books = re.findall(r"train_parts\['([^']+)'\]", ast.unparse(args[1]))
            valid = re.findall(r"valid_parts\['([^']+)'\]", ast.unparse(args[2]))[0]
            epochs = eval(compile(ast.Expression(args[3]), "<epochs>", "eval"),  # e.g. 2 * num_epochs
                          {"num_epochs": settings["num_epochs"]})
            assert stored_settings["runs"][label][:3] == [books, valid, epochs], label
            labels.append(label)
    runs = {label: {s: stored[label, s] for s in SEEDS} for label in labels}
    return runs, settings["num_epochs"], intro(nb)


def test_the_stated_budget_is_the_set_up_cells_and_equal_for_every_run(more_books):
    runs, num_epochs, intro = more_books
    updates = {sum(r["history"]["num_tokens"]) // (32 * 35) for by_seed in runs.values() for r in by_seed.values()}
    assert updates == {1600}  # every epoch of these texts has whole rows: no minibatch lost to the offset
    assert f"Each run makes 1,600 updates: {2 * num_epochs} epochs of one book or {num_epochs} of two" in intro
    assert f"after {num_epochs // 2} epochs of" in intro


def best_and_epoch(history):
    """The one measure, ``d2lrnn.best_held_out``: (lowest held-out perplexity, the epoch it came at) of a stored history."""
    return best_held_out(types.SimpleNamespace(**history))


def test_a_second_wells_book_helps_at_this_budget_and_not_at_half_of_it(more_books):
    runs, num_epochs, intro = more_books
    assert "in one of its last two epochs" in intro
    assert f"reaches its best at epoch 17 of {2 * num_epochs} and is a little worse after its last epoch" in intro
    for s in SEEDS:
        one, two = runs["Time Machine"][s]["history"], runs["Time Machine + War of the Worlds"][s]["history"]
        (one_best, one_epoch), (two_best, two_epoch) = best_and_epoch(one), best_and_epoch(two)
        assert two_best < one_best, s
        assert two_epoch >= num_epochs - 1, s  # in one of its last two epochs
        assert one_epoch == 17 and one["val_perplexity"][-1] > one_best, s
        half = num_epochs // 2  # the same number of updates: half the epochs of two books, all of one book's
        assert min(two["val_perplexity"][:half]) > min(one["val_perplexity"][:2 * half]), s


def test_cross_author_and_mixed_perplexities(more_books):
    runs = more_books[0]
    tm, pp, mixed = "Time Machine", "Pride and Prejudice", "Time Machine + Pride and Prejudice"
    for s in SEEDS:
        best = {label: best_and_epoch(by_seed[s]["history"])[0] for label, by_seed in runs.items()}
        held_out = {label: by_seed[s]["held_out"] for label, by_seed in runs.items()}  # after the last epoch
        assert best[mixed] < best[tm], s  # validated on The Time Machine, both
        assert held_out[pp][tm] > held_out[tm][tm] and held_out[tm][pp] > held_out[pp][pp], s
        assert held_out[mixed][pp] < best[pp], s  # the mixed model after its last epoch, Austen's at its best


@pytest.mark.parametrize("name, count", [("gru-vs-lstm", "five"), ("more-books", "four")])
def test_the_stated_run_time_is_the_worked_notebooks_progress_bars(name, count):
    """The exercise quotes its worked solution's recorded runs: their total and their range, as the bars show them."""
    run_times = load_tool("run_times")
    found = run_times.bars(REPO / "notebooks" / f"{name}.ipynb")
    elapsed = sorted(run_times.seconds(clock) for _, clock, _ in found)
    assert len(found) == {"five": 5, "four": 4}[count]
    text = " ".join(intro(source(name)).split())
    assert (f"the {count} runs took about {round(sum(elapsed) / 60)} minutes together (by their progress bars, "
            f"{run_times.clock(elapsed[0])} to {run_times.clock(elapsed[-1])} each)") in text
