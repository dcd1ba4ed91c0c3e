"""The from-scratch deep RNN against Gluon's fused layers: same weights, same logits and states."""
import math

import mxnet as mx
import numpy as np
import pytest
from mxnet import nd
from mxnet.gluon import rnn

import d2lrnn
from d2lrnn import RNNModelScratch, Vocab, from_gluon
from d2lrnn.data import min_corpus_length
from tiny import TEXT

VOCAB, HIDDEN, BATCH, STEPS = 11, 7, 3, 5
LAYERS = {"rnn": lambda h, n: rnn.RNN(h, num_layers=n, activation="tanh"),
          "gru": lambda h, n: rnn.GRU(h, num_layers=n),
          "lstm": lambda h, n: rnn.LSTM(h, num_layers=n)}


def gluon_model(cell, num_layers, seed=0):
    """An initialised RNNModel whose every weight and bias is drawn from U(-0.5, 0.5) (Gluon's biases start at 0)."""
    model = d2lrnn.RNNModel(LAYERS[cell](HIDDEN, num_layers), VOCAB)
    model.initialize()
    rng = np.random.RandomState(seed)
    for p in model.collect_params().values():
        p.set_data(nd.array(rng.uniform(-0.5, 0.5, p.shape)))
    return model


def random_inputs(model, seed=1):
    rng = np.random.RandomState(seed)
    X = nd.array(rng.randint(0, VOCAB, (BATCH, STEPS)))  # (batch_size, num_steps)
    state = [nd.array(rng.uniform(-1, 1, s.shape)) for s in model.begin_state(batch_size=BATCH)]
    return X, state


def max_diff(a, b):
    return float(nd.abs(a - b).max().asscalar())


@pytest.mark.parametrize("num_layers", [1, 2, 3])
@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_from_gluon_gives_the_same_logits_and_states(cell, num_layers):
    model = gluon_model(cell, num_layers)
    scratch = from_gluon(model)
    X, state = random_inputs(model)
    logits, new_state = model(X, state)
    scratch_logits, scratch_state = scratch(X, state)
    assert scratch_logits.shape == logits.shape == (STEPS * BATCH, VOCAB)
    assert float(nd.abs(logits).max().asscalar()) > 0.1  # large enough for the comparison to mean something
    assert max_diff(scratch_logits, logits) < 1e-5
    assert len(scratch_state) == len(new_state) == (2 if cell == "lstm" else 1)
    for s, g in zip(scratch_state, new_state):
        assert s.shape == g.shape == (num_layers, BATCH, HIDDEN)
        assert max_diff(s, g) < 1e-5


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_the_comparison_can_fail(cell):
    """A change to one bias of the top layer shows in the logits: the equality above is not vacuous."""
    model = gluon_model(cell, 2)
    scratch = from_gluon(model)
    bias = scratch.l1_h2h_bias
    bias.set_data(bias.data() + 0.1)
    X, state = random_inputs(model)
    assert max_diff(scratch(X, state)[0], model(X, state)[0]) > 1e-3


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_states_are_interchangeable_with_gluon(cell):
    """Run half a sequence in one model and finish it in the other: same result as either alone."""
    model = gluon_model(cell, 2)
    scratch = from_gluon(model)
    X, state = random_inputs(model)
    assert [s.shape for s in scratch.begin_state(batch_size=BATCH)] == \
        [s.shape for s in model.begin_state(batch_size=BATCH)]
    first, second = X[:, :2], X[:, 2:]
    _, gluon_mid = model(first, state)
    _, scratch_mid = scratch(first, state)
    want, want_state = model(second, gluon_mid)
    for a, b in ((scratch, gluon_mid), (model, scratch_mid), (scratch, scratch_mid)):
        got, got_state = a(second, b)
        assert max_diff(got, want) < 1e-5
        assert all(max_diff(s, w) < 1e-5 for s, w in zip(got_state, want_state))


def test_begin_state_is_zero_and_on_the_context():
    scratch = RNNModelScratch(VOCAB, HIDDEN, 3, "lstm", mx.cpu())
    state = scratch.begin_state(batch_size=BATCH, ctx=mx.cpu())
    assert [s.shape for s in state] == [(3, BATCH, HIDDEN)] * 2
    assert all(s.context == mx.cpu() and float(nd.abs(s).sum().asscalar()) == 0 for s in state)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_parameters_are_registered_with_the_gluon_shapes(cell):
    scratch = RNNModelScratch(VOCAB, HIDDEN, 3, cell, mx.cpu())
    gluon = gluon_model(cell, 3)
    ours = {k[len(scratch.prefix):]: p.shape for k, p in scratch.collect_params().items()}
    theirs = {k[len(gluon.rnn.prefix):]: p.shape for k, p in gluon.rnn.collect_params().items()}
    assert ours == {**theirs, "dense_weight": (VOCAB, HIDDEN), "dense_bias": (VOCAB,)}
    assert sum(p.data().size for p in scratch.collect_params().values()) == \
        sum(p.data().size for p in gluon.collect_params().values())


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_every_layer_changes_after_one_training_step(cell):
    vocab = Vocab(TEXT)
    corpus_indices = vocab[list(TEXT)][:min_corpus_length(4, 10)]  # exactly one minibatch
    mx.random.seed(0)
    scratch = RNNModelScratch(len(vocab), 8, 3, cell, mx.cpu())
    before = {k: p.data().copy() for k, p in scratch.collect_params().items()}
    history = d2lrnn.train(scratch, corpus_indices, vocab, mx.cpu(), 1, 10, 1.0, 1.0, 4, ["the"],
                           seed=0, verbose=False)
    assert history.num_tokens == [4 * 10]  # one step of SGD
    for k, p in scratch.collect_params().items():
        assert not np.array_equal(before[k].asnumpy(), p.data().asnumpy()), k


@pytest.mark.slow
def test_train_and_predict_rnn_trains_a_scratch_model(capsys):
    vocab = Vocab(TEXT)
    corpus_indices = vocab[list(TEXT)]
    scratch = RNNModelScratch(len(vocab), 32, 1, "gru", mx.cpu())
    history = d2lrnn.train_and_predict_rnn(scratch, corpus_indices, vocab, mx.cpu(), False, 8, 10,
                                           4.0, 1.0, 4, ["the "], seed=0)
    assert len(history) == 8 and history.perplexity[-1] < 0.5 * history.perplexity[0]
    lines = capsys.readouterr().out.splitlines()
    assert [l.split(",")[0] for l in lines if l.startswith("epoch")] == \
        ["epoch 2", "epoch 4", "epoch 6", "epoch 8"]
    assert sum(l.startswith(" - the ") for l in lines) == 2
    again = RNNModelScratch(len(vocab), 32, 1, "gru", mx.cpu())
    repeat = d2lrnn.train_and_predict_rnn(again, corpus_indices, vocab, mx.cpu(), False, 2, 10,
                                          4.0, 1.0, 4, ["the "], seed=0, verbose=False)
    assert repeat.perplexity == history.perplexity[:2]  # seeded: initialisation and sampling repeat


def test_train_and_predict_rnn_initialises_like_the_book_and_samples_randomly():
    vocab = Vocab(TEXT)
    corpus_indices = vocab[list(TEXT)]
    scratch = RNNModelScratch(len(vocab), 64, 2, "lstm", mx.cpu())
    for p in scratch.collect_params().values():
        p.set_data(nd.ones(p.shape))
    history = d2lrnn.train_and_predict_rnn(scratch, corpus_indices, vocab, mx.cpu(), True, 1, 10,
                                           1e-12, 1.0, 4, ["the"], seed=0, verbose=False)
    assert len(history) == 1 and math.isfinite(history.perplexity[0])
    weight = scratch.l1_i2h_weight.data().asnumpy()
    assert abs(weight.std() - 0.01) < 0.001 and abs(weight.mean()) < 0.001  # N(0, 0.01^2)
    assert np.abs(scratch.l1_i2h_bias.data().asnumpy()).max() < 1e-9  # zeros (lr is tiny)
    with pytest.raises(ValueError, match="is_random_iter must be True or False, got 'random'"):
        d2lrnn.train_and_predict_rnn(scratch, corpus_indices, vocab, mx.cpu(), "random", 1, 10,
                                     1.0, 1.0, 4, ["the"])


def test_prediction_works_for_scratch_models():
    vocab = Vocab(TEXT)
    scratch = RNNModelScratch(len(vocab), 8, 2, "lstm", mx.cpu())
    text = d2lrnn.predict_rnn_gluon("time ", 10, scratch, vocab, mx.cpu())
    assert text.startswith("time ") and len(text) == 15


def test_bad_arguments_are_explained():
    with pytest.raises(ValueError, match="cell must be one of 'rnn', 'gru', 'lstm', got 'tanh'"):
        RNNModelScratch(VOCAB, HIDDEN, 2, "tanh", mx.cpu())
    with pytest.raises(ValueError, match="num_layers must be a positive integer, got 0"):
        RNNModelScratch(VOCAB, HIDDEN, 0, "lstm", mx.cpu())
    with pytest.raises(ValueError, match="num_hiddens must be a positive integer, got 2.5"):
        RNNModelScratch(VOCAB, 2.5, 1, "lstm", mx.cpu())
    scratch = RNNModelScratch(VOCAB, HIDDEN, 2, "lstm", mx.cpu())
    X = nd.zeros((BATCH, STEPS))
    with pytest.raises(ValueError, match="state for an LSTM layer must be a list of 2 array"):
        scratch(X, [nd.zeros((2, BATCH, HIDDEN))])
    with pytest.raises(ValueError, match=r"state\[0\] has shape \(2, 4, 7\).*\(2, 3, 7\)"):
        scratch(X, scratch.begin_state(batch_size=4))
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        scratch.begin_state(batch_size=0)


def test_from_gluon_refuses_what_it_cannot_copy():
    with pytest.raises(TypeError, match="model must be a d2lrnn.RNNModel"):
        from_gluon(rnn.LSTM(4))
    relu = d2lrnn.RNNModel(rnn.RNN(4), VOCAB)
    with pytest.raises(ValueError, match="activation='relu'.*activation='tanh'"):
        from_gluon(relu)
    with pytest.raises(ValueError, match="bidirectional=True"):
        from_gluon(d2lrnn.RNNModel(rnn.GRU(4, bidirectional=True), VOCAB))
    with pytest.raises(ValueError, match="dropout=0.5"):
        from_gluon(d2lrnn.RNNModel(rnn.LSTM(4, num_layers=2, dropout=0.5), VOCAB))
    fresh = d2lrnn.RNNModel(rnn.LSTM(4), VOCAB)
    with pytest.raises(ValueError, match=r"not initialised yet: call model.initialize\(\)"):
        from_gluon(fresh)
    fresh.initialize()  # enough: every shape is known when the model is built
    assert from_gluon(fresh).dense_weight.data().shape == (VOCAB, 4)
