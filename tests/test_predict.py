"""Greedy and temperature sampling."""
import mxnet as mx
import numpy as np
import pytest

import d2lrnn
from d2lrnn.predict import choose_next
from tiny import run


def test_choose_next_greedy_and_temperature_limits():
    logits = [0.1, 2.0, -1.0, 1.9]
    assert choose_next(logits, 0.0) == 1
    rng = np.random.default_rng(0)
    assert all(choose_next(logits, 1e-9, rng=rng) == 1 for _ in range(50))


def test_choose_next_samples_the_softmax():
    rng = np.random.default_rng(1)
    logits = np.log([0.2, 0.8])
    draws = [choose_next(logits, 1.0, rng=rng) for _ in range(4000)]
    assert np.mean(draws) == pytest.approx(0.8, abs=0.03)
    hot = [choose_next(logits, 0.25, rng=rng) for _ in range(4000)]  # sharper: 0.8^4 / (0.2^4 + 0.8^4)
    assert np.mean(hot) == pytest.approx(0.8 ** 4 / (0.2 ** 4 + 0.8 ** 4), abs=0.02)


def test_choose_next_top_k():
    rng = np.random.default_rng(2)
    logits = [1.0, 3.0, 2.0, 0.0]
    assert {choose_next(logits, 5.0, top_k=2, rng=rng) for _ in range(300)} == {1, 2}
    assert {choose_next(logits, 5.0, top_k=1, rng=rng) for _ in range(50)} == {1}


@pytest.fixture(scope="module")
def trained(tiny_data):
    model, _ = run(tiny_data, num_epochs=3, verbose=False)
    return model, tiny_data[1]


def test_temperature_zero_is_the_chapter_prediction(trained):
    model, vocab = trained
    greedy = d2lrnn.predict_rnn_gluon("the ", 30, model, vocab, mx.cpu())
    assert d2lrnn.predict_rnn_gluon("the ", 30, model, vocab, mx.cpu(), temperature=1e-9, seed=5) == greedy
    assert d2lrnn.predict_rnn_gluon("the ", 30, model, vocab, mx.cpu(), temperature=2.0, top_k=1) == greedy


def test_sampling_is_seeded(trained):
    model, vocab = trained
    sample = lambda seed: d2lrnn.predict_rnn_gluon("the ", 40, model, vocab, mx.cpu(), temperature=1.0, seed=seed)
    assert sample(7) == sample(7)
    assert len({sample(s) for s in range(5)}) > 1
    assert all(len(sample(s)) == 44 for s in range(3))


@pytest.mark.parametrize("kwargs, message", [
    (dict(temperature=-0.5), "temperature must be a finite number >= 0"),
    (dict(temperature=float("nan")), "temperature must be a finite number >= 0"),
    (dict(top_k=0), "top_k must be None or an integer from 1 to 26"),
    (dict(top_k=10_000), "top_k must be None or an integer from 1"),
])
def test_sampling_argument_errors(trained, kwargs, message):
    model, vocab = trained
    with pytest.raises(ValueError, match=message):
        d2lrnn.predict_rnn_gluon("the", 5, model, vocab, mx.cpu(), **kwargs)


def test_unknown_token_is_never_predicted():
    rng = np.random.default_rng(3)
    logits = [5.0, 1.0, 0.5]  # '<unk>' (index 0) has the largest logit
    assert choose_next(logits, 0.0, exclude=0) == 1
    assert 0 not in {choose_next(logits, 3.0, rng=rng, exclude=0) for _ in range(300)}


@pytest.mark.parametrize("ctx, error, message", [
    ("cpu", TypeError, r"ctx must be an MXNet context such as mx.cpu\(\) or d2l.try_gpu\(\), got 'cpu'"),
    (mx.gpu(0), ValueError, r"ctx=gpu\(0\) but MXNet sees no GPU here; use d2l.try_gpu\(\)"),
])
def test_a_context_mxnet_would_reject_is_one_line_first(trained, ctx, error, message):
    model, vocab = trained
    if ctx != "cpu" and mx.context.num_gpus():
        pytest.skip("this machine has a GPU")
    with pytest.raises(error, match=message):
        d2lrnn.predict_rnn_gluon("the ", 5, model, vocab, ctx)
    with pytest.raises(error, match=message):
        d2lrnn.train(model, [0, 1] * 200, vocab, ctx, 1, 5, 1.0, 1.0, 2, [], verbose=False)
