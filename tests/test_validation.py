"""Held-out evaluation: the contiguous split, ``evaluate_perplexity`` and validation figures in the history."""
import math
import random

import mxnet as mx
import numpy as np
import pytest
from mxnet import nd
from mxnet.gluon import rnn

import d2lrnn
from d2lrnn import Vocab, data_iter_consecutive, data_iter_random, evaluate_perplexity, split_corpus



@pytest.mark.parametrize("n, fraction, num_valid", [(100, 0.1, 10), (10, 0.25, 2), (7, 0.5, 4), (3, 0.2, 1)])
def test_split_sizes_and_contiguity(n, fraction, num_valid):
    corpus = list(range(n))
    train, valid = split_corpus(corpus, fraction)
    assert len(valid) == num_valid and len(train) == n - num_valid
    assert train + valid == corpus  # two contiguous ranges, nothing lost or repeated


@pytest.mark.parametrize("sampler", [data_iter_consecutive, data_iter_random])
def test_no_training_window_reaches_the_validation_text(sampler):
    corpus = list(range(1000))  # each token is its own position
    train, valid = split_corpus(corpus, 0.2)
    cut = valid[0]
    for seed in range(10):
        for X, Y in sampler(train, 4, 7, rng=random.Random(seed)):
            assert X.max().asscalar() < cut and Y.max().asscalar() < cut


@pytest.mark.parametrize("bad", [0, 1, -0.1, 1.5, True, "0.1", None, float("nan")])
def test_split_rejects_bad_fractions(bad):
    with pytest.raises(ValueError, match="valid_fraction must be a number strictly between 0 and 1"):
        split_corpus(list(range(100)), bad)


def test_split_rejects_corpora_too_short_for_two_parts():
    with pytest.raises(ValueError, match="leaves 0 tokens for validation and 4 for training"):
        split_corpus([1, 2, 3, 4], 0.1)
    with pytest.raises(ValueError, match="leaves 2 tokens for validation and 0 for training"):
        split_corpus([1, 2], 0.9)


def tiny_model(vocab, seed=0, cell=rnn.LSTM):
    mx.random.seed(seed)
    model = d2lrnn.RNNModel(cell(16, num_layers=2), len(vocab))
    model.initialize(init=mx.init.Normal(0.3))
    return model


def reference_perplexity(model, corpus_indices, batch_size):
    """Each row read as one long sequence in a single call, cross-entropy computed in NumPy."""
    row_len = len(corpus_indices) // batch_size
    rows = np.array(corpus_indices[:row_len * batch_size]).reshape(batch_size, row_len)
    nll = []
    for row in rows:
        X = nd.array(row[None, :-1])
        logits, _ = model(X, model.begin_state(batch_size=1))
        logits = logits.asnumpy().astype(np.float64)  # (row_len - 1, vocab_size)
        log_probs = logits - np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1, keepdims=True)) \
            - logits.max(1, keepdims=True)
        nll.extend(-log_probs[np.arange(row_len - 1), row[1:]])
    return math.exp(np.mean(nll))


@pytest.mark.parametrize("batch_size, num_steps", [(1, 7), (3, 5), (4, 1000)])
def test_evaluate_perplexity_matches_a_direct_computation(tiny_data, batch_size, num_steps):
    corpus_indices, vocab = tiny_data
    model = tiny_model(vocab)
    valid = corpus_indices[:203]
    got = evaluate_perplexity(model, valid, batch_size, num_steps, mx.cpu())
    assert got == pytest.approx(reference_perplexity(model, valid, batch_size), rel=1e-4)
    assert 1 < got < 3 * len(vocab)


def test_evaluate_perplexity_of_a_uniform_model_is_the_vocabulary_size(tiny_data):
    corpus_indices, vocab = tiny_data
    model = tiny_model(vocab)
    for p in model.collect_params().values():
        p.set_data(nd.zeros(p.shape))
    assert evaluate_perplexity(model, corpus_indices[:100], 2, 9, mx.cpu()) == pytest.approx(len(vocab), rel=1e-5)


def test_evaluate_perplexity_changes_nothing_and_records_no_gradient(tiny_data):
    corpus_indices, vocab = tiny_data
    model = tiny_model(vocab)
    before = {k: p.data().copy() for k, p in model.collect_params().items()}
    with mx.autograd.record():
        evaluate_perplexity(model, corpus_indices[:100], 2, 9, mx.cpu())
    for k, p in model.collect_params().items():
        assert np.array_equal(before[k].asnumpy(), p.data().asnumpy()), k
        assert float(nd.abs(p.grad()).sum().asscalar()) == 0, k


def test_evaluate_perplexity_errors(tiny_data):
    corpus_indices, vocab = tiny_data
    model = tiny_model(vocab)
    with pytest.raises(ValueError, match="has 7 tokens, but evaluating with batch_size=4 needs at least 8"):
        evaluate_perplexity(model, corpus_indices[:7], 4, 5, mx.cpu())
    with pytest.raises(ValueError, match="num_steps must be a positive integer"):
        evaluate_perplexity(model, corpus_indices[:70], 4, 0, mx.cpu())


def run(tiny_data, valid=True, num_epochs=4, **kwargs):
    corpus_indices, vocab = tiny_data
    train, valid_indices = split_corpus(corpus_indices, 0.25)
    model = d2lrnn.RNNModel(rnn.LSTM(16, num_layers=2), len(vocab))
    history = d2lrnn.train_and_predict_rnn_gluon(
        model, 16, train, vocab, mx.cpu(), num_epochs, 10, 2.0, 1.0, 4, ["the "], seed=0,
        valid_indices=valid_indices if valid else None, **kwargs)
    return model, history, valid_indices


def test_history_holds_validation_perplexity_per_epoch(tiny_data, capsys):
    model, history, valid = run(tiny_data)
    assert len(history.val_perplexity) == len(history) == 4
    assert all(1 < v < 100 for v in history.val_perplexity)
    # The last figure is the perplexity of the trained model on the held-out text.
    assert history.val_perplexity[-1] == pytest.approx(evaluate_perplexity(model, valid, 4, 10, mx.cpu()), rel=1e-6)
    lines = [l for l in capsys.readouterr().out.splitlines() if l.startswith("epoch ")]
    assert len(lines) == 4
    for line, ppl, val in zip(lines, history.perplexity, history.val_perplexity):
        assert line.startswith(f"epoch {line.split(',')[0].split()[1]}, perplexity {ppl:f}, "
                               f"validation perplexity {val:f}, time ")
    assert "validation perplexity" in repr(history)


def test_without_validation_data_nothing_changes(tiny_data, capsys):
    _, with_valid, _ = run(tiny_data)
    capsys.readouterr()
    _, history, _ = run(tiny_data, valid=False)
    assert history.val_perplexity == []
    assert history.perplexity == with_valid.perplexity  # evaluating does not disturb training
    out = capsys.readouterr().out
    assert "validation" not in out and "validation" not in repr(history)
    assert out.count("epoch ") == 4


def test_too_little_validation_data_fails_before_training(tiny_data, capsys):
    corpus_indices, vocab = tiny_data
    model = d2lrnn.RNNModel(rnn.LSTM(16), len(vocab))
    with pytest.raises(ValueError, match="held-out corpus has 5 tokens.*batch_size=4 needs at least 8"):
        d2lrnn.train_and_predict_rnn_gluon(model, 16, corpus_indices, vocab, mx.cpu(), 2, 10, 1.0, 1.0,
                                           4, ["the"], valid_indices=corpus_indices[:5])
    assert capsys.readouterr().out == ""
