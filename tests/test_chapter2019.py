"""The 2019 book's from-scratch API: sgd, to_onehot, predict_rnn and the function form of its trainer.

The function form is checked against a trusted reference: the book's tanh RNN written as
functions, with the weights of a one-layer ``RNNModelScratch``, gives the same logits,
predictions and training run as that model.
"""
import os
import subprocess
import sys

import mxnet as mx
import numpy as np
import pytest
from mxnet import nd

import d2lrnn
from d2lrnn import FunctionModel, RNNModelScratch, Vocab
from tiny import TEXT, book_params_of, book_rnn, init_rnn_state

HIDDEN = 16


def random_scratch(vocab, seed=0):
    scratch = RNNModelScratch(len(vocab), HIDDEN, 1, "rnn", mx.cpu())
    rng = np.random.RandomState(seed)
    for p in scratch.collect_params().values():
        p.set_data(nd.array(rng.uniform(-0.3, 0.3, p.shape)))
    return scratch


def test_sgd_updates_in_place_exactly():
    w = nd.array([1.0, 2.0])
    w.attach_grad()
    w.grad[:] = nd.array([0.5, 1.0])
    same = w
    d2lrnn.sgd([w], 0.1, 2)
    np.testing.assert_allclose(same.asnumpy(), [0.975, 1.95], rtol=1e-6)
    with pytest.raises(ValueError, match=r"params\[0\] has no gradient: call attach_grad\(\)"):
        d2lrnn.sgd([nd.ones(2)], 0.1, 1)
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        d2lrnn.sgd([w], 0.1, 0)


def test_grad_clipping_takes_the_books_arguments():
    w = nd.array([1.0, 2.0])
    w.attach_grad()
    w.grad[:] = nd.array([3.0, 4.0])
    d2lrnn.grad_clipping([w], 1.0, mx.cpu())  # the book's (params, theta, ctx)
    np.testing.assert_allclose(w.grad.asnumpy(), [0.6, 0.8], rtol=1e-6)


def test_to_onehot_gives_one_array_per_time_step():
    X = nd.array([[0, 1, 2], [3, 4, 0]])  # (batch_size 2, num_steps 3)
    inputs = d2lrnn.to_onehot(X, 5)
    assert len(inputs) == 3 and all(x.shape == (2, 5) for x in inputs)
    np.testing.assert_array_equal(inputs[1].asnumpy(), [[0, 1, 0, 0, 0], [0, 0, 0, 0, 1]])
    with pytest.raises(ValueError, match=r"X must be a 2-D NDArray of shape \(batch_size, num_steps\), got \(3,\)"):
        d2lrnn.to_onehot(nd.array([0, 1, 2]), 5)


def test_function_model_computes_what_the_scratch_model_computes():
    vocab = Vocab(TEXT)
    scratch = random_scratch(vocab)
    model = FunctionModel(book_rnn, book_params_of(scratch), init_rnn_state, HIDDEN, len(vocab), mx.cpu())
    X = nd.array(np.random.RandomState(1).randint(0, len(vocab), (3, 5)))  # (batch_size, num_steps)
    logits, (H,) = model(X, model.begin_state(batch_size=3, ctx=mx.cpu()))
    expected, [H_expected] = scratch(X, scratch.begin_state(batch_size=3))
    assert logits.shape == (5 * 3, len(vocab))
    np.testing.assert_allclose(logits.asnumpy(), expected.asnumpy(), atol=1e-5)
    np.testing.assert_allclose(H.asnumpy(), H_expected[0].asnumpy(), atol=1e-6)
    text = d2lrnn.predict_rnn("time ", 12, book_rnn, model.params, init_rnn_state, HIDDEN, vocab, mx.cpu())
    assert text == d2lrnn.predict_rnn_gluon("time ", 12, scratch, vocab, mx.cpu()) and len(text) == 17


def test_training_the_functions_is_training_the_model():
    vocab = Vocab(TEXT)
    corpus_indices = vocab[list(TEXT)]
    scratch = random_scratch(vocab)
    # The book has one bias where Gluon's layout has two (their sum): keep the second at 0, frozen.
    scratch.l0_h2h_bias.set_data(nd.zeros((HIDDEN,)))
    scratch.l0_h2h_bias.grad_req = "null"
    params = book_params_of(scratch)
    model = FunctionModel(book_rnn, params, init_rnn_state, HIDDEN, len(vocab), mx.cpu())
    args = (corpus_indices, vocab, mx.cpu(), 3, 10, 1.0, 0.5, 4, ["the "])
    expected = d2lrnn.train(scratch, *args, seed=0, verbose=False)
    history = d2lrnn.train(model, *args, seed=0, verbose=False)
    np.testing.assert_allclose(history.perplexity, expected.perplexity, rtol=1e-4)
    assert history.perplexity[-1] < 0.8 * history.perplexity[0]
    # the book's arrays themselves were trained, in place
    np.testing.assert_allclose(params[3].asnumpy(), scratch.dense_weight.data().T.asnumpy(), atol=1e-4)


def test_the_books_call_form_trains_prints_and_repeats(capsys):
    vocab = Vocab(TEXT)
    corpus_indices = vocab[list(TEXT)]
    made = []

    def get_params():
        made.append([nd.random.normal(scale=0.01, shape=s) for s in
                     [(len(vocab), HIDDEN), (HIDDEN, HIDDEN), (HIDDEN,), (HIDDEN, len(vocab)), (len(vocab),)]])
        for p in made[-1]:
            p.attach_grad()
        return made[-1]

    # 2 epochs: d2l 0.9.2 crashes on epoch % (num_epochs // 4) with fewer than 4
    history = d2lrnn.train_and_predict_rnn(book_rnn, get_params, init_rnn_state, HIDDEN, corpus_indices,
                                           vocab, mx.cpu(), False, 2, 10, 1.0, 1.0, 4, ["the "], seed=0)
    lines = capsys.readouterr().out.splitlines()
    assert [l.split(",")[0] for l in lines if l.startswith("epoch")] == ["epoch 1", "epoch 2"]
    assert sum(l.startswith(" - the ") and len(l) == len(" - the ") + 50 for l in lines) == 2
    assert len(history) == 2 and history.perplexity[-1] < history.perplexity[0]
    again = d2lrnn.train_and_predict_rnn(book_rnn, get_params, init_rnn_state, HIDDEN, corpus_indices,
                                         vocab, mx.cpu(), True, 2, 10, 1.0, 1.0, 4, ["the "], seed=0,
                                         verbose=False)
    assert len(made) == 2 and len(again) == 2  # get_params is called once per run


def test_the_books_call_form_stops_a_diverging_run_and_restores_the_weights():
    vocab = Vocab(TEXT)
    corpus_indices = vocab[list(TEXT)]
    params = book_params_of(random_scratch(vocab))
    start = [p.copy() for p in params]
    with pytest.raises(d2lrnn.TrainingDivergedError, match="training diverged at epoch 1"):
        d2lrnn.train_and_predict_rnn(book_rnn, lambda: params, init_rnn_state, HIDDEN, corpus_indices,
                                     vocab, mx.cpu(), False, 2, 10, 1e6, 1e3, 4, ["the "], verbose=False)
    for p, p0 in zip(params, start):
        np.testing.assert_array_equal(p.asnumpy(), p0.asnumpy())


def test_the_books_call_form_names_what_is_wrong():
    vocab = Vocab(TEXT)
    corpus_indices = vocab[list(TEXT)]
    call = (init_rnn_state, HIDDEN, corpus_indices, vocab, mx.cpu(), False, 1, 10, 1.0, 1.0, 4, ["the"])
    no_grad = [nd.ones((len(vocab), HIDDEN))]
    with pytest.raises(ValueError, match=r"params\[0\] has no gradient"):
        d2lrnn.train_and_predict_rnn(book_rnn, lambda: no_grad, *call)
    with pytest.raises(TypeError, match="get_params must be a function, got list"):
        d2lrnn.train_and_predict_rnn(book_rnn, no_grad, *call)
    with pytest.raises(ValueError, match="is_random_iter must be True or False, got 'random'"):
        d2lrnn.train_and_predict_rnn(book_rnn, lambda: no_grad, *call[:5], "random", *call[6:])
    with pytest.raises(TypeError, match="must be a model .* or the book's rnn function, got str"):
        d2lrnn.train_and_predict_rnn("rnn", lambda: no_grad, *call)


@pytest.mark.slow
def test_use_svg_display_selects_svg_figures(tmp_path):
    # In a child process: it configures the IPython shell, which writes into IPYTHONDIR.
    code = ("import d2lrnn; d2lrnn.use_svg_display()\n"
            "from IPython.core.interactiveshell import InteractiveShell\n"
            "from matplotlib.figure import Figure\n"
            "formatters = InteractiveShell.instance().display_formatter.formatters\n"
            "print(Figure in formatters['image/svg+xml'], Figure in formatters['image/png'])\n")
    env = dict(os.environ, IPYTHONDIR=str(tmp_path), MPLBACKEND="agg")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert out.split() == ["True", "False"]
