"""The trainer, prediction, clipping and perplexity, on tiny models and corpora."""
import math
import os
import signal
import warnings

import mxnet as mx
import numpy as np
import pytest
from mxnet import nd
from mxnet.gluon import rnn

import d2lrnn
from d2lrnn import TrainingDivergedError
from d2lrnn.facts import epoch_rng
from d2lrnn.progress import report_epochs
from tiny import run, tiny_model

def test_grad_clipping_rescales_to_theta():
    params = [nd.array([3.0, 0.0]), nd.array([[4.0]])]
    for p, g in zip(params, ([30.0, 0.0], [[40.0]])):
        p.attach_grad()
        p.grad[:] = nd.array(g)
    norm = d2lrnn.grad_clipping(params, 5.0)
    assert norm.asscalar() == pytest.approx(50.0)
    after = math.sqrt(sum(float((p.grad ** 2).sum().asscalar()) for p in params))
    assert after == pytest.approx(5.0, rel=1e-6)
    assert params[0].grad.asnumpy().tolist() == pytest.approx([3.0, 0.0])  # direction kept


def test_grad_clipping_leaves_small_gradients_unchanged():
    p = nd.array([1.0, 2.0])
    p.attach_grad()
    p.grad[:] = nd.array([0.3, -0.4])
    before = p.grad.asnumpy().copy()
    d2lrnn.grad_clipping([p], 1.0)
    assert np.array_equal(p.grad.asnumpy(), before)  # bit-identical, not just close


def test_perplexity_of_uniform_logits_is_vocab_size():
    logits = nd.zeros((12, 44))
    labels = nd.array(np.arange(12) % 44)
    assert d2lrnn.perplexity(logits, labels) == pytest.approx(44, rel=1e-5)
    confident = nd.one_hot(labels, 44) * 50
    assert d2lrnn.perplexity(confident, labels) == pytest.approx(1.0, abs=1e-5)


def test_seeded_training_lowers_perplexity_and_repeats(tiny_data, capsys):
    vocab = tiny_data[1]
    _, first = run(tiny_data, num_epochs=12, lr=4.0, model=tiny_model(vocab, num_hiddens=32, num_layers=1))
    _, second = run(tiny_data, num_epochs=12, lr=4.0, model=tiny_model(vocab, num_hiddens=32, num_layers=1))
    assert first.perplexity[-1] < 0.5 * first.perplexity[0]
    assert first.perplexity == second.perplexity  # same seed, same numbers
    assert len(first) == 12 and first.epoch == list(range(1, 13))
    assert all(s > 0 for s in first.seconds) and first.num_tokens[0] % (4 * 10) == 0
    assert "12 epochs" in repr(first)


def test_printed_lines_follow_the_chapter(tiny_data, capsys):
    run(tiny_data, num_epochs=8, prefixes=("the ", "time "))
    lines = capsys.readouterr().out.splitlines()
    epochs = [int(l.split(",")[0].split()[1]) for l in lines if l.startswith("epoch ")]
    assert epochs == [2, 4, 6, 8]
    assert sum(l.startswith(" - the ") for l in lines) == 2
    assert sum(l.startswith(" - time ") for l in lines) == 2
    assert all(len(l) == len(" - the ") + 50 for l in lines if l.startswith(" - the "))


@pytest.mark.parametrize("num_epochs", [1, 2, 3])
def test_fewer_than_four_epochs(tiny_data, capsys, num_epochs):
    _, history = run(tiny_data, num_epochs=num_epochs)
    assert len(history) == num_epochs
    out = capsys.readouterr().out
    assert out.count("epoch ") == num_epochs and f"epoch {num_epochs}," in out


def testreport_epochs():
    assert report_epochs(500) == ([125, 250, 375, 500], {250, 500})
    assert report_epochs(1) == ([1], {1})


def test_state_is_carried_and_detached(tiny_data):
    """Each minibatch starts from the previous one's final state: same values, new arrays."""
    corpus_indices, vocab = tiny_data
    calls = []

    class Spy(d2lrnn.RNNModel):
        def forward(self, inputs, state):
            output, new_state = super().forward(inputs, state)
            if inputs.shape[0] == 4:  # training minibatches, not the prediction calls
                calls.append((state, new_state))
            return output, new_state

    model = Spy(rnn.LSTM(16, num_layers=2), len(vocab))
    run(tiny_data, num_epochs=1, model=model, verbose=False)
    assert len(calls) >= 3
    assert all(float(nd.abs(s).sum().asscalar()) == 0 for s in calls[0][0])  # zero start
    for (_, prev_out), (next_in, _) in zip(calls, calls[1:]):
        for a, b in zip(prev_out, next_in):
            assert a is not b  # a detached copy, not the array still tied to the old graph
            assert np.array_equal(a.asnumpy(), b.asnumpy())


@pytest.mark.parametrize("sampling", ["random", "consecutive"])
def test_random_sampling_restarts_state_and_consecutive_carries_it(tiny_data, sampling):
    """Random sampling starts every minibatch from a zero state; consecutive only each epoch."""
    corpus_indices, vocab = tiny_data
    model, fresh = tiny_model(vocab), []
    begin_state = model.begin_state

    def counting_begin_state(batch_size, **kwargs):
        fresh.append(batch_size)
        return begin_state(batch_size=batch_size, **kwargs)
    model.begin_state = counting_begin_state
    run(tiny_data, num_epochs=3, sampling=sampling, model=model, verbose=False)
    sampler = d2lrnn.data_iter_random if sampling == "random" else d2lrnn.data_iter_consecutive
    minibatches = sum(1 for epoch in (1, 2, 3)
                      for _ in sampler(corpus_indices, 4, 10, rng=epoch_rng(0, epoch)))  # run's seed is 0
    assert fresh.count(4) == (minibatches if sampling == "random" else 3)


def test_every_layer_learns(tiny_data):
    corpus_indices, vocab = tiny_data
    model = tiny_model(vocab)
    mx.random.seed(0)
    model.initialize(init=mx.init.Normal(0.01))
    before = {k: p.data().copy() for k, p in model.collect_params().items()}
    d2lrnn.train(model, corpus_indices, vocab, mx.cpu(), 1, 10, 2.0, 1.0, 4, ["the"], verbose=False)
    for k, p in model.collect_params().items():
        assert not np.array_equal(before[k].asnumpy(), p.data().asnumpy()), k


def test_prediction_is_deterministic(tiny_data):
    corpus_indices, vocab = tiny_data
    model, _ = run(tiny_data, num_epochs=3, verbose=False)
    a = d2lrnn.predict_rnn_gluon("time ", 20, model, vocab, mx.cpu())
    b = d2lrnn.predict_rnn_gluon("time ", 20, model, vocab, mx.cpu())
    assert a == b and a.startswith("time ") and len(a) == 25
    assert d2lrnn.predict_rnn_gluon("t", 0, model, vocab, mx.cpu()) == "t"


def test_prediction_errors(tiny_data):
    corpus_indices, vocab = tiny_data
    model, _ = run(tiny_data, num_epochs=1, verbose=False)
    with pytest.raises(ValueError, match=r"not in the vocabulary: \['Z', 'é'\]"):
        d2lrnn.predict_rnn_gluon("Zé the", 5, model, vocab, mx.cpu())
    with pytest.raises(ValueError, match="prefix must be a non-empty string"):
        d2lrnn.predict_rnn_gluon("", 5, model, vocab, mx.cpu())
    with pytest.raises(ValueError, match="num_chars must be a non-negative integer"):
        d2lrnn.predict_rnn_gluon("the", -1, model, vocab, mx.cpu())


@pytest.mark.parametrize("change, message", [
    (dict(num_epochs=0), "num_epochs must be a positive integer, got 0"),
    (dict(num_epochs=-2), "num_epochs must be a positive integer, got -2"),
    (dict(num_epochs=2.5), "num_epochs must be a positive integer, got 2.5"),
    (dict(num_steps=0), "num_steps must be a positive integer"),
    (dict(batch_size=0), "batch_size must be a positive integer"),
    (dict(lr=0), "lr must be a positive finite number, got 0"),
    (dict(lr=-1.0), "lr must be a positive finite number"),
    (dict(clipping_theta=0), "clipping_theta must be a positive finite number"),
    (dict(batch_size=400), r"the corpus has \d+ tokens, but batch_size=400 and num_steps=10 need at least 4409"),
    (dict(prefixes=["the Q"]), r"not in the vocabulary: \['Q'\]"),
    (dict(prefixes=[""]), "prefix must be a non-empty string"),
    (dict(prefixes="the"), "prefixes must be a list of strings"),
    (dict(sampling="shuffle"), "sampling must be one of"),
])
def test_bad_arguments_fail_before_training(tiny_data, change, message):
    corpus_indices, vocab = tiny_data
    args = dict(num_epochs=2, num_steps=10, lr=1.0, clipping_theta=1.0, batch_size=4,
                prefixes=["the"], sampling="consecutive")
    args.update(change)
    model = tiny_model(vocab)
    with pytest.raises(ValueError, match=message):
        d2lrnn.train_and_predict_rnn_gluon(
            model, 16, corpus_indices, vocab, mx.cpu(), args["num_epochs"], args["num_steps"],
            args["lr"], args["clipping_theta"], args["batch_size"], args["prefixes"],
            sampling=args["sampling"])


def test_divergence_stops_with_lr_and_clipping_named_and_keeps_good_weights(tiny_data, capsys):
    corpus_indices, vocab = tiny_data
    model = tiny_model(vocab)
    mx.random.seed(0)
    model.initialize(init=mx.init.Normal(0.01))
    d2lrnn.train(model, corpus_indices, vocab, mx.cpu(), 2, 10, 2.0, 1.0, 4, ["the"], seed=0, verbose=False)
    good = {k: p.data().copy() for k, p in model.collect_params().items()}
    with pytest.raises(TrainingDivergedError, match=r"lr=1e\+30 with clipping_theta=1e\+30") as err:
        d2lrnn.train(model, corpus_indices, vocab, mx.cpu(), 5, 10, 1e30, 1e30, 4, ["the"], seed=0)
    assert len(err.value.history) == 0  # it diverged in its first epoch
    for k, p in model.collect_params().items():
        assert np.array_equal(good[k].asnumpy(), p.data().asnumpy()), k
    assert "nan" not in capsys.readouterr().out


def test_chapter_lr_100_is_stopped_as_divergence(tiny_data):
    """The lr = 100 of the chapter's prose: finite but astronomical perplexity counts as divergence."""
    with pytest.raises(TrainingDivergedError, match=r"lr=100 with clipping_theta=1 .*smaller lr"):
        run(tiny_data, num_epochs=20, lr=100, clipping_theta=1, verbose=False)


def test_ctrl_c_stops_after_the_current_minibatch(tiny_data, tmp_path):
    corpus_indices, vocab = tiny_data
    calls = []

    class InterruptedModel(d2lrnn.RNNModel):
        def forward(self, inputs, state):
            if inputs.shape[0] == 4:  # a training minibatch
                calls.append(1)
                if len(calls) == 40:  # somewhere in the second epoch
                    os.kill(os.getpid(), signal.SIGINT)
            return super().forward(inputs, state)

    model = InterruptedModel(rnn.LSTM(16, num_layers=2), len(vocab))
    before = signal.getsignal(signal.SIGINT)
    history = run(tiny_data, num_epochs=5, model=model, verbose=False,
                  checkpoint_dir=tmp_path / "ck")[1]
    assert history.interrupted and len(history) == 1
    assert len(calls) == 40  # stopped right after the minibatch that was running
    assert signal.getsignal(signal.SIGINT) is before  # handler restored
    params = [p.data().asnumpy() for p in model.collect_params().values()]
    assert all(np.isfinite(p).all() for p in params)
    _, _, saved_history, _ = d2lrnn.checkpoint.load(tmp_path / "ck", mx.cpu())
    assert saved_history.interrupted and len(saved_history) == 1


def test_frozen_parameters_stay_fixed(tiny_data):
    corpus_indices, vocab = tiny_data
    model = tiny_model(vocab)
    model.initialize()
    model.dense.collect_params().setattr("grad_req", "null")
    before = model.dense.weight.data().asnumpy().copy()
    rnn_before = model.rnn.l0_h2h_weight.data().asnumpy().copy()
    d2lrnn.train(model, corpus_indices, vocab, mx.cpu(), 2, 10, 2.0, 1.0, 4, [], verbose=False)
    assert np.array_equal(model.dense.weight.data().asnumpy(), before)
    assert not np.array_equal(model.rnn.l0_h2h_weight.data().asnumpy(), rnn_before)


def test_chapter_trainer_starts_weights_at_n_0_001_and_biases_at_zero(tiny_data, monkeypatch):
    """Gluon's layers give their biases the initialiser 'zeros', which wins over the Normal(0.01) passed to initialize."""
    started = {}

    class StopsBeforeTheFirstEpoch(d2lrnn.training.TrainingRun):
        def epochs(self):
            started.update({name: p.data().asnumpy() for name, p in self.model.collect_params().items()})
            return iter(())

    monkeypatch.setattr(d2lrnn.chapter, "TrainingRun", StopsBeforeTheFirstEpoch)
    run(tiny_data, model=tiny_model(tiny_data[1], num_hiddens=64))
    biases = [v for name, v in started.items() if name.endswith("bias")]
    weights = np.concatenate([v.ravel() for name, v in started.items() if name.endswith("weight")])
    assert len(biases) == 5 and all((b == 0).all() for b in biases)  # 4 in the two LSTM layers, 1 dense
    assert 0.009 < weights.std() < 0.011


def test_training_warns_when_the_layers_dropout_is_ignored(tiny_data, monkeypatch):
    monkeypatch.delenv("MXNET_USE_MKLDNN_RNN", raising=False)
    vocab = tiny_data[1]
    model = d2lrnn.RNNModel(rnn.GRU(16, num_layers=2, dropout=0.2), len(vocab))
    with pytest.warns(RuntimeWarning, match=r"dropout=0.2 has no effect .* nn.Dropout between them") as caught:
        run(tiny_data, num_epochs=1, model=model, verbose=False)
    assert len(caught) == 1 and caught[0].filename == run.__code__.co_filename  # the line that called train


def test_mxnets_own_kernel_is_refused_before_training_where_its_gradients_are_wrong(tiny_data, monkeypatch):
    monkeypatch.setenv("MXNET_USE_MKLDNN_RNN", "0")  # it would apply the dropout, with wrong gradients
    vocab = tiny_data[1]
    model = d2lrnn.RNNModel(rnn.GRU(16, num_layers=2, dropout=0.2), len(vocab))
    with pytest.raises(d2lrnn.EnvironmentVariableError) as refused:
        run(tiny_data, num_epochs=1, model=model, verbose=False)
    message = str(refused.value)
    assert "\n" not in message and message.startswith("MXNET_USE_MKLDNN_RNN=0 selects MXNet 1.9.1's own CPU kernel")
    assert message.endswith("unset MXNET_USE_MKLDNN_RNN to train with oneDNN's kernel (for dropout between "
                            "layers, stack one-layer layers with nn.Dropout between them "
                            "(notebooks/deep-rnn-cures.ipynb does))")
    with pytest.raises(RuntimeError, match="has not been initialized"):
        next(iter(model.collect_params().values())).data()  # refused before any work
    with warnings.catch_warnings():  # one layer: MXNet's own kernel gets its gradients right
        warnings.simplefilter("error", RuntimeWarning)
        run(tiny_data, num_epochs=1, model=d2lrnn.RNNModel(rnn.GRU(16), len(vocab)), verbose=False)


def test_a_build_without_onednn_warns_that_a_deep_layer_trains_with_wrong_gradients(tiny_data, monkeypatch):
    monkeypatch.delenv("MXNET_USE_MKLDNN_RNN", raising=False)
    monkeypatch.setattr(d2lrnn.models, "_has_onednn", lambda: False)  # (this machine's MXNet has it)
    with pytest.warns(RuntimeWarning, match=r"^this MXNet build has no oneDNN, .* wrong gradients") as caught:
        run(tiny_data, num_epochs=1, verbose=False)
    assert len(caught) == 1 and "Linux x86-64" in str(caught[0].message)
