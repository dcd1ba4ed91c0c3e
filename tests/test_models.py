"""RNNModel shapes and state checks, and device selection."""
import mxnet as mx
import pytest
from mxnet import nd
from mxnet.gluon import nn, rnn

import d2lrnn

VOCAB, HIDDEN, LAYERS, BATCH, STEPS = 11, 7, 3, 3, 5


@pytest.mark.parametrize("layer, num_states", [
    (lambda: rnn.RNN(HIDDEN, num_layers=LAYERS, activation="tanh"), 1),
    (lambda: rnn.GRU(HIDDEN, num_layers=LAYERS), 1),
    (lambda: rnn.LSTM(HIDDEN, num_layers=LAYERS), 2),
])
def test_shapes(layer, num_states):
    model = d2lrnn.RNNModel(layer(), VOCAB)
    model.initialize()
    X = nd.array([[0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [10, 0, 1, 2, 3]])  # (batch, steps)
    state = model.begin_state(batch_size=BATCH)
    output, new_state = model(X, state)
    assert output.shape == (STEPS * BATCH, VOCAB)
    assert len(new_state) == num_states
    assert all(s.shape == (LAYERS, BATCH, HIDDEN) for s in new_state)


def test_output_is_time_major():
    """Row t * batch_size + b of the logits belongs to time step t of sequence b."""
    model = d2lrnn.RNNModel(rnn.GRU(HIDDEN), VOCAB)
    model.initialize()
    X = nd.array([[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [2, 4, 6, 8, 10]])
    output, _ = model(X, model.begin_state(batch_size=BATCH))
    single, _ = model(X[1:2], model.begin_state(batch_size=1))  # sequence 1 alone
    rows = [t * BATCH + 1 for t in range(STEPS)]
    assert abs(output.asnumpy()[rows] - single.asnumpy()).max() < 1e-6


def test_rejects_non_recurrent_layer_and_bad_vocab_size():
    with pytest.raises(TypeError, match="rnn.RNN, rnn.GRU or rnn.LSTM"):
        d2lrnn.RNNModel(nn.Dense(3), VOCAB)
    with pytest.raises(ValueError, match="vocab_size must be a positive integer"):
        d2lrnn.RNNModel(rnn.LSTM(4), 0)


def test_wrong_state_is_explained():
    model = d2lrnn.RNNModel(rnn.LSTM(HIDDEN, num_layers=2), VOCAB)
    model.initialize()
    X = nd.zeros((BATCH, STEPS))
    gru_state = [nd.zeros((2, BATCH, HIDDEN))]
    with pytest.raises(ValueError, match="LSTM layer must be a list of 2 array"):
        model(X, gru_state)
    with pytest.raises(ValueError, match=r"state\[0\] has shape \(2, 4, 7\).*\(2, 3, 7\)"):
        model(X, model.begin_state(batch_size=4))


def test_try_gpu_gives_a_usable_context():
    ctx = d2lrnn.try_gpu()
    expected = mx.gpu(0) if d2lrnn.device.num_gpus() > 0 else mx.cpu()
    assert ctx == expected
    assert nd.ones((2,), ctx=ctx).sum().asscalar() == 2
    ctxs = d2lrnn.try_all_gpus()
    assert ctxs[0] == expected and all(c.device_type == expected.device_type for c in ctxs)
    assert d2lrnn.try_gpu(1000) == mx.cpu()


def test_make_rnn_layer():
    assert isinstance(d2lrnn.make_rnn_layer("gru", 8, 2), rnn.GRU)
    assert d2lrnn.make_rnn_layer("rnn", 8, 1)._mode == "rnn_tanh"  # not Gluon's relu default
    with pytest.raises(ValueError, match="cell must be 'lstm', 'gru' or 'rnn', got 'transformer'"):
        d2lrnn.make_rnn_layer("transformer", 8, 1)
