"""RNNModel shapes and state checks, and device selection."""
import mxnet as mx
import numpy as np
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
    expected = mx.gpu(0) if d2lrnn.device.gpu_problem(0) is None else mx.cpu()
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


def test_layer_input_size_must_be_the_vocabulary_size():
    with pytest.raises(ValueError, match="input_size=5.*vocab_size=11"):
        d2lrnn.RNNModel(rnn.LSTM(HIDDEN, input_size=5), VOCAB)
    model = d2lrnn.RNNModel(rnn.LSTM(HIDDEN, input_size=VOCAB), VOCAB)  # stated, and right
    model.initialize()
    assert model.rnn.l0_i2h_weight.shape == (4 * HIDDEN, VOCAB)


def test_projection_and_sequence_length_are_refused():
    for layer in (rnn.LSTM(HIDDEN, projection_size=4), rnn.GRU(HIDDEN, use_sequence_length=True)):
        with pytest.raises(ValueError, match="projection_size or use_sequence_length"):
            d2lrnn.RNNModel(layer, VOCAB)


def _outputs_while_training(dropout):
    layer = rnn.LSTM(8, num_layers=2, dropout=dropout, input_size=4)
    layer.initialize(mx.init.Constant(0.1))
    with mx.autograd.record(train_mode=True):
        return layer(nd.ones((3, 2, 4))).asnumpy()


@pytest.mark.parametrize("kernel", ["oneDNN", "MXNet's own"])
def test_ignored_dropout_says_what_the_cpu_kernel_does(monkeypatch, kernel):
    if kernel == "MXNet's own":
        monkeypatch.setenv("MXNET_USE_MKLDNN_RNN", "0")
    else:
        monkeypatch.delenv("MXNET_USE_MKLDNN_RNN", raising=False)
    config = d2lrnn.models.layer_config(rnn.LSTM(8, num_layers=2, dropout=0.5))
    reason = d2lrnn.models.ignored_dropout(config, mx.cpu())
    # The fact the message states, measured: with dropout 0.5 the training outputs equal those without.
    ignored = np.array_equal(_outputs_while_training(0.5), _outputs_while_training(0.0))
    assert ignored == (reason is not None) == (kernel == "oneDNN")
    if reason:  # the advice is to stack, not MXNet's own kernel (see the next test)
        assert "dropout=0.5 has no effect" in reason and "nn.Dropout" in reason and "MKLDNN" not in reason


def _gradients(layer, new_state_in_loss):
    """The layer's gradients for the loss sum(outputs), as the chapter's loop has it, or plus 0 * its new state."""
    state = layer.begin_state(batch_size=2)
    with mx.autograd.record():
        outputs, new_state = layer(nd.ones((5, 2, 4)), state)
        loss = outputs.sum()
        if new_state_in_loss:  # the kernel is then handed zeros as the new state's gradient
            loss = loss + sum((s * 0).sum() for s in new_state)
    loss.backward()
    return np.concatenate([p.grad().asnumpy().ravel() for p in layer.collect_params().values()])


def _wrong_gradient_tries(num_layers, tries):
    """In how many of ``tries`` fresh layers the chapter's loss gets other gradients than the checked one."""
    wrong = 0
    for i in range(tries):
        layer = rnn.LSTM(16, num_layers=num_layers, input_size=4)
        layer.initialize(mx.init.Uniform(0.5))
        wrong += not np.array_equal(_gradients(layer, False), _gradients(layer, True))
    return wrong


@pytest.mark.parametrize("kernel, num_layers", [("MXNet's own", 2), ("MXNet's own", 1), ("oneDNN", 2)])
def test_wrong_gradients_says_what_the_cpu_kernel_does(monkeypatch, kernel, num_layers):
    if kernel == "MXNet's own":
        monkeypatch.setenv("MXNET_USE_MKLDNN_RNN", "0")
    else:
        monkeypatch.delenv("MXNET_USE_MKLDNN_RNN", raising=False)
    config = d2lrnn.models.layer_config(rnn.LSTM(16, num_layers=num_layers))
    reason = d2lrnn.models.wrong_gradients(config, mx.cpu())
    assert d2lrnn.models.wrong_gradients(config, mx.gpu(0)) is None  # cuDNN's kernel
    # The fact the message states, measured. MXNet's own kernel reads memory that nothing wrote,
    # so how many of the tries go wrong varies: 15 to 24 of 100 in five processes here.
    wrong = _wrong_gradient_tries(num_layers, 100)
    assert (wrong > 0) == (reason is not None) == (kernel == "MXNet's own" and num_layers == 2), wrong
    if reason:
        assert reason.startswith("MXNET_USE_MKLDNN_RNN=0 selects MXNet 1.9.1's own CPU kernel")
        assert "2 layers with wrong gradients" in reason and "apache/mxnet#17898" in reason


def test_a_build_without_onednn_gets_the_wrong_gradients_reason(monkeypatch):
    monkeypatch.delenv("MXNET_USE_MKLDNN_RNN", raising=False)
    monkeypatch.setattr(d2lrnn.models, "_has_onednn", lambda: False)
    config = d2lrnn.models.layer_config(rnn.GRU(16, num_layers=3, dropout=0.2))
    assert d2lrnn.models.wrong_gradients(config, mx.cpu()).startswith("this MXNet build has no oneDNN")
    assert d2lrnn.models.ignored_dropout(config, mx.cpu()) is None  # MXNet's own kernel applies it


@pytest.mark.parametrize("layer", [rnn.LSTM(8, num_layers=2), rnn.LSTM(8, num_layers=1, dropout=0.5),
                                   rnn.GRU(8, num_layers=2)], ids=["no dropout", "one layer", "gru"])
def test_dropout_is_only_reported_where_it_is_lost(monkeypatch, layer):
    monkeypatch.delenv("MXNET_USE_MKLDNN_RNN", raising=False)
    assert d2lrnn.models.ignored_dropout(d2lrnn.models.layer_config(layer), mx.cpu()) is None
