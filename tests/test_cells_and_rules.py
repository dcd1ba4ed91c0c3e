"""The MXNet-free facts: the cell table, the sampling arithmetic, the divergence rule, the chapter's settings.

Each is checked against the MXNet code that uses it, so the table cannot drift from the layers.
"""
import math

import pytest
from mxnet import nd
from mxnet.gluon import rnn

import d2lrnn
from d2lrnn import facts
from d2lrnn.facts import CELLS, consecutive_layout, epoch_rng, get_cell, is_diverged, perplexity_from_loss
from d2lrnn.models import LAYER_CLASSES, make_rnn_layer
from d2lrnn import cli
from d2lrnn.store import checkpoint


@pytest.mark.parametrize("name", ["lstm", "gru", "rnn"])
def test_cell_table_matches_gluons_layers(name):
    cell = CELLS[name]
    layer = make_rnn_layer(name, 5, 2)
    assert type(layer) is getattr(rnn, cell.layer) is LAYER_CLASSES[name]
    assert layer._gates == cell.num_gates  # the weight blocks MXNet stacks per layer
    layer.initialize()
    assert len(layer.begin_state(batch_size=3)) == cell.num_state_arrays == len(cell.state)
    assert layer._mode == (f"rnn_{cell.activation}" if name == "rnn" else name)  # 'rnn' is the tanh RNN
    assert layer.l0_h2h_weight.shape == (cell.num_gates * 5, 5)


def test_unknown_cell_is_refused_with_the_choices():
    for bad in ["LSTM", "relu", None]:
        with pytest.raises(ValueError, match="cell must be 'lstm', 'gru' or 'rnn'"):
            get_cell(bad)
        with pytest.raises(ValueError, match="cell must be 'lstm', 'gru' or 'rnn'"):
            make_rnn_layer(bad, 4, 1)


def test_consecutive_layout_is_the_iterators():
    corpus = list(range(1000))
    for seed, epoch in [(0, 1), (3, 7)]:
        offset, row_len, num_batches = consecutive_layout(len(corpus), 4, 6, epoch_rng(seed, epoch))
        batches = list(d2lrnn.data_iter_consecutive(corpus, 4, 6, rng=epoch_rng(seed, epoch)))
        assert len(batches) == num_batches
        first_X, last_Y = batches[0][0], batches[-1][1]
        assert first_X[:, 0].asnumpy().tolist() == [offset + r * row_len for r in range(4)]
        assert last_Y[0, -1].asscalar() == offset + num_batches * 6


def test_epoch_rng_repeats_for_a_seed_and_not_without():
    assert epoch_rng(1, 2).random() == epoch_rng(1, 2).random() != epoch_rng(1, 3).random()
    assert epoch_rng(None, 1).random() != epoch_rng(None, 1).random()


def test_divergence_rule_is_the_trainers():
    assert is_diverged(math.inf, 44) and is_diverged(math.nan, 44) and is_diverged(44 ** 2 + 0.1, 44)
    assert not is_diverged(44 ** 2, 44) and not is_diverged(1.0, 44)
    assert perplexity_from_loss(1e6) == math.inf and math.isnan(perplexity_from_loss(math.nan))
    assert perplexity_from_loss(0.0) == 1.0
    # The trainer's perplexity is this function of its loss.
    logits, labels = nd.array([[0.0, 2.0], [1.0, 0.0]]), nd.array([1, 0])
    loss = -(math.log(math.exp(2) / (1 + math.exp(2))) + math.log(math.e / (math.e + 1))) / 2
    assert d2lrnn.perplexity(logits, labels) == pytest.approx(perplexity_from_loss(loss), rel=1e-5)  # float32


def test_command_line_defaults_are_the_chapters_settings():
    args = cli.build_parser().parse_args(["train"])
    assert args.num_epochs == facts.NUM_EPOCHS == 500
    # What a run without flags trains with: the chapter's settings, unseeded, its own book, no validation.
    assert cli._settings(args, {}) == {**facts.MODEL, **facts.TRAINING, "seed": None, "books": None,
                                       "valid_fraction": None}
    # A flag wins over a resumed checkpoint's value, which wins over the chapter's.
    args = cli.build_parser().parse_args(["train", "--lr", "2"])
    s = cli._settings(args, {"lr": 3.0, "num_steps": 9})
    assert (s["lr"], s["num_steps"], s["batch_size"]) == (2.0, 9, facts.TRAINING["batch_size"])


def test_help_shows_the_settings_defaults(monkeypatch):
    # The help texts read the defaults from facts: change a setting, and the help follows.
    monkeypatch.setitem(cli.TRAIN_DEFAULTS, "num_steps", 17)
    monkeypatch.setitem(cli.MODEL_DEFAULTS, "num_hiddens", 99)
    train = next(a for a in cli.build_parser()._actions if a.dest == "command").choices["train"]
    text = " ".join(train.format_help().split())  # without the line breaks
    assert "time steps per minibatch (default 17)" in text and "hidden units per layer (default 99)" in text
    assert "99 hidden units" in text and "(default 500)" in text and "(default 35)" not in text


# Values of each kind, and whether the rule named beside them accepts them.
RULE_CASES = [("num_steps", facts.POSITIVE_INT, [(1, True), (0, False), (-3, False), (2.0, False)]),
              ("seed", facts.NON_NEGATIVE_INT, [(0, True), (7, True), (-1, False)]),
              ("lr", facts.POSITIVE_NUMBER, [(0.5, True), (5, True), (0.0, False), (math.inf, False),
                                             (math.nan, False)]),
              ("valid_fraction", facts.FRACTION, [(0.1, True), (1.0, False), (0.0, False)])]


@pytest.mark.parametrize("name, rule, cases", RULE_CASES, ids=[c[0] for c in RULE_CASES])
def test_one_rule_for_the_api_the_command_line_and_saved_settings(name, rule, cases):
    parse = cli._arg_type(rule)
    for value, ok in cases:
        assert facts.SETTING_RULES.get(name, rule).ok(value) is ok or value is None
        if isinstance(value, float) and value.is_integer() and rule.parse is int:
            continue  # "2.0" is not an integer's text; the API refuses the float 2.0 (asserted above)
        if ok:
            assert parse(str(value)) == value
        else:
            with pytest.raises(Exception, match=f"must be {rule.requirement}"):
                parse(str(value))
            with pytest.raises(ValueError, match=f"{name} must be "):
                facts.check(name, value, facts.SETTING_RULES.get(name, rule))


def test_saved_settings_are_checked_with_the_same_rules(tmp_path):
    for name, value in [("num_steps", 0), ("lr", -1.0), ("seed", 1.5), ("sampling", "shuffled"),
                        ("books", []), ("books", [35, 0]), ("valid_fraction", 1.0)]:
        with pytest.raises(checkpoint.CheckpointError, match=f"training setting {name} = "):
            cli._check_saved_settings({name: value}, tmp_path)
    cli._check_saved_settings({**facts.TRAINING, "seed": 3, "books": [35, 36], "valid_fraction": 0.1,
                               "unknown": object()}, tmp_path)
