"""The MXNet-free facts: the cell table, the sampling arithmetic, the divergence rule, the chapter's settings.

Each is checked against the MXNet code that uses it, so the table cannot drift from the layers.
"""
import math

import pytest
from mxnet import nd
from mxnet.gluon import rnn

import d2lrnn
from d2lrnn import cli, settings
from d2lrnn.cells import CELLS, get_cell
from d2lrnn.divergence import is_diverged, perplexity_from_loss
from d2lrnn.models import LAYER_CLASSES, make_rnn_layer, num_state_arrays
from d2lrnn.sampling import consecutive_layout, epoch_rng


@pytest.mark.parametrize("name", ["lstm", "gru", "rnn"])
def test_cell_table_matches_gluons_layers(name):
    cell = CELLS[name]
    layer = make_rnn_layer(name, 5, 2)
    assert type(layer) is getattr(rnn, cell.layer) is LAYER_CLASSES[name]
    assert layer._gates == cell.num_gates  # the weight blocks MXNet stacks per layer
    layer.initialize()
    assert len(layer.begin_state(batch_size=3)) == cell.num_state_arrays == num_state_arrays(layer)
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
    assert args.num_epochs == settings.NUM_EPOCHS == 500
    assert {**settings.MODEL, **settings.TRAINING}.items() <= {**cli.MODEL_DEFAULTS, **cli.TRAIN_DEFAULTS}.items()
