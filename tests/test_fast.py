"""fast.py against the book's way: packed weights give Gluon's numbers, the fused update the book's update.

``RNNModel(..., fast=False)`` runs Gluon's own layer forward and ``train_and_predict_rnn_gluon(...,
fast=False)`` clips with ``grad_clipping`` and steps a ``gluon.Trainer``. Measured here: the packed
weights are bit-identical (outputs and gradients); the fused update is bit-identical when no
gradient is clipped, and differs by float rounding when one is (lr times the clipped gradient
against the clipped lr times the gradient: about 1e-7 relative per step).
"""
import json

import mxnet as mx
import numpy as np
import pytest
from mxnet import nd
from mxnet.gluon import rnn

import d2lrnn
from d2lrnn import fast
from tiny import TEXT

VOCAB, HIDDEN, BATCH = 11, 7, 3
LAYERS = [
    lambda: rnn.RNN(HIDDEN, num_layers=1, activation="tanh"),
    lambda: rnn.RNN(HIDDEN, num_layers=2),  # relu
    lambda: rnn.GRU(HIDDEN, num_layers=3),
    lambda: rnn.LSTM(HIDDEN, num_layers=2),
    lambda: rnn.LSTM(HIDDEN, num_layers=2, bidirectional=True),
]


def _outputs_and_grads(layer, fast_on, hybridize):
    """Logits, new state and every gradient of an RNNModel with the same weights and inputs."""
    mx.random.seed(3)
    model = d2lrnn.RNNModel(layer(), VOCAB, fast=fast_on)
    model.initialize(mx.init.Xavier())
    X = nd.array([[0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [10, 0, 1, 2, 3]])  # (batch, steps)
    state = [nd.random.normal(shape=s.shape) for s in model.begin_state(batch_size=BATCH)]
    if hybridize:
        model.hybridize(static_alloc=True, static_shape=True)
    with mx.autograd.record():
        output, new_state = model(X, state)
        loss = (output * nd.arange(output.size).reshape(output.shape) / output.size).sum()
    loss.backward()
    grads = [p.grad().asnumpy().copy() for p in model.collect_params().values()]  # in the layers' order
    return model, [output.asnumpy()] + [s.asnumpy() for s in new_state], grads


@pytest.mark.parametrize("hybridize", [False, True])
@pytest.mark.parametrize("layer", LAYERS)
def test_packed_weights_give_what_the_gluon_layer_gives(layer, hybridize):
    model, got, got_grads = _outputs_and_grads(layer, True, hybridize)
    gluon_model, want, want_grads = _outputs_and_grads(layer, False, hybridize)
    assert fast.is_packed(model.rnn) and not fast.is_packed(gluon_model.rnn)
    assert all(np.array_equal(g, w) for g, w in zip(got, want))
    assert len(got_grads) == len(want_grads)
    assert all(np.array_equal(g, w) for g, w in zip(got_grads, want_grads))


def test_the_compiled_graph_concatenates_rows_with_packing_and_flat_arrays_without():
    ops = {}
    for fast_on in (True, False):
        model = d2lrnn.RNNModel(rnn.LSTM(HIDDEN, num_layers=2), VOCAB, fast=fast_on)
        model.initialize()
        model.hybridize()
        model(nd.zeros((BATCH, 4)), model.begin_state(batch_size=BATCH))
        ops[fast_on] = {node["op"] for node in json.loads(model._cached_graph[1].tojson())["nodes"]}
    assert "Concat" in ops[True] and "_rnn_param_concat" not in ops[True]
    assert "_rnn_param_concat" in ops[False] and "Concat" not in ops[False]


def test_packing_can_be_switched_off_again():
    layer = rnn.GRU(HIDDEN)
    d2lrnn.RNNModel(layer, VOCAB)
    assert fast.is_packed(layer)
    d2lrnn.RNNModel(layer, VOCAB, fast=False)
    assert not fast.is_packed(layer) and "_forward_kernel" not in vars(layer)
    with pytest.raises(ValueError, match="fast must be True or False, got 'no'"):
        d2lrnn.RNNModel(layer, VOCAB, fast="no")


def _random_params(shapes, grad_scale, seed=0):
    rng = np.random.default_rng(seed)
    params = [nd.array(rng.normal(size=shape)) for shape in shapes]
    for p in params:
        p.attach_grad()
        p.grad[:] = nd.array(rng.normal(size=p.shape) * grad_scale)
    return params


@pytest.mark.parametrize("grad_scale", [10.0, 0.001])  # clipped, and left alone
@pytest.mark.parametrize("num_arrays", [3, 57])  # 57: more than one multi-tensor call
def test_clipped_sgd_step_equals_clipping_then_sgd(grad_scale, num_arrays):
    shapes = [(7, 5), (5,), (1,)] * (num_arrays // 3)
    lr, theta = 0.7, 1.0
    fused = _random_params(shapes, grad_scale)
    reference = _random_params(shapes, grad_scale)
    grads_before = [p.grad.asnumpy().copy() for p in fused]
    norm = fast.clipped_sgd_step(fused, lr, theta)
    ref_norm = d2lrnn.grad_clipping(reference, theta)
    assert norm.asscalar() == pytest.approx(ref_norm.asscalar(), rel=1e-6)
    for f, r, g in zip(fused, reference, grads_before):
        want = r.asnumpy() - lr * r.grad.asnumpy()  # plain SGD on the clipped gradient
        np.testing.assert_allclose(f.asnumpy(), want, rtol=1e-6, atol=1e-7)
        assert np.array_equal(f.grad.asnumpy(), g)  # the gradients are left as they were
    if grad_scale < 1:  # not clipped: exactly w - lr * g
        assert all(np.array_equal(f.asnumpy(), r.asnumpy() - np.float32(lr) * g)
                   for f, r, g in zip(fused, reference, grads_before))


def _train(fast_on, cell, lr, clipping_theta, num_epochs=8):
    vocab = d2lrnn.Vocab(TEXT)
    model = d2lrnn.RNNModel(cell(16, num_layers=2), len(vocab), fast=fast_on)
    history = d2lrnn.train_and_predict_rnn_gluon(
        model, 16, vocab[list(TEXT)], vocab, mx.cpu(), num_epochs, 10, lr, clipping_theta, 4, ["the"],
        seed=0, fast=fast_on, verbose=False, progress=False, live_plot=False)
    return history.perplexity, [p.data().asnumpy() for p in model.collect_params().values()]


# lr 0.7: not a power of two, whose products round exactly whichever the order.
@pytest.mark.parametrize("cell", [rnn.LSTM, rnn.GRU], ids=["lstm", "gru"])
def test_training_both_ways_is_bit_identical_when_nothing_is_clipped(cell):
    fast_ppl, fast_weights = _train(True, cell, lr=0.7, clipping_theta=1e6)
    book_ppl, book_weights = _train(False, cell, lr=0.7, clipping_theta=1e6)
    assert fast_ppl == book_ppl
    assert all(np.array_equal(f, b) for f, b in zip(fast_weights, book_weights))


@pytest.mark.parametrize("cell", [rnn.LSTM, rnn.GRU], ids=["lstm", "gru"])
def test_training_both_ways_agrees_to_rounding_when_every_step_is_clipped(cell):
    fast_ppl, fast_weights = _train(True, cell, lr=0.7, clipping_theta=0.1)
    book_ppl, book_weights = _train(False, cell, lr=0.7, clipping_theta=0.1)
    assert fast_ppl == pytest.approx(book_ppl, rel=1e-5)
    assert max(np.abs(f - b).max() for f, b in zip(fast_weights, book_weights)) < 1e-5


def test_the_readable_way_needs_a_gluon_model(tiny_data):
    corpus_indices, vocab = tiny_data
    model = d2lrnn.FunctionModel(lambda inputs, state, params: (inputs, state), [_random_params([(2,)], 1)[0]],
                                 lambda batch_size, num_hiddens, ctx: (), 4, len(vocab))
    with pytest.raises(ValueError, match="fast=False steps a gluon.Trainer, which needs a Gluon model"):
        d2lrnn.train(model, corpus_indices, vocab, mx.cpu(), 1, 10, 1.0, 1.0, 4, [], fast=False)
    with pytest.raises(ValueError, match="fast must be True or False, got 'yes'"):
        d2lrnn.train(model, corpus_indices, vocab, mx.cpu(), 1, 10, 1.0, 1.0, 4, [], fast="yes")
