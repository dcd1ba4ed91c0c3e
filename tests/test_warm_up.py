"""The warm-up on a prefix: one model call gives the state and text of one call per character.

The trusted reference is the loop that ``predict_rnn_gluon`` used before ``warm_up``:
the prefix fed one character per call, then the generation loop.
"""
import os
import sys
from pathlib import Path

import mxnet as mx
import numpy as np
import pytest
from mxnet import nd

import d2lrnn
from d2lrnn import FunctionModel, RNNModel, from_gluon, make_rnn_layer
from d2lrnn.predict import choose_next, warm_up
from tiny import book_params_of, book_rnn, init_rnn_state, run_checked

PREFIX = "the time traveller smiled. are you sure we"  # 42 characters of tiny.TEXT
SAMPLED = dict(temperature=1.0, top_k=5, seed=3)


def predict_one_char_at_a_time(prefix, num_chars, model, vocab, ctx, temperature=0.0, top_k=None, seed=None):
    """``predict_rnn_gluon`` before ``warm_up``: (text, state after the prefix but its last character)."""
    rng = np.random.default_rng(seed)
    state = model.begin_state(batch_size=1, ctx=ctx)
    warm_state = state
    output = [vocab[prefix[0]]]
    for t in range(len(prefix) - 1 + num_chars):
        Y, state = model(nd.array([[output[-1]]], ctx=ctx), state)  # (1, 1) -> Y: (1, vocab_size)
        if t < len(prefix) - 1:
            output.append(vocab[prefix[t + 1]])
            warm_state = state
        else:
            output.append(choose_next(Y[0].asnumpy(), temperature, top_k, rng, exclude=vocab.unk))
    return "".join(vocab.to_tokens(output)), warm_state


def gluon_model(vocab, cell, num_layers, bidirectional=False, hybridize=False):
    """A 6-unit RNNModel with weights drawn from U(-0.5, 0.5), large enough to make the text varied."""
    model = RNNModel(make_rnn_layer(cell, 6, num_layers, bidirectional=bidirectional), len(vocab))
    mx.random.seed(0)
    model.initialize(mx.init.Uniform(0.5))
    if hybridize:
        model.hybridize()
    return model


def assert_same_as_one_char_at_a_time(model, vocab, prefix=PREFIX, num_chars=30):
    """Same greedy and sampled text, same state after the warm-up; returns the two texts."""
    ctx = mx.cpu()
    texts = []
    for sampling in ({}, SAMPLED):
        text, state = predict_one_char_at_a_time(prefix, num_chars, model, vocab, ctx, **sampling)
        assert d2lrnn.predict_rnn_gluon(prefix, num_chars, model, vocab, ctx, **sampling) == text
        texts.append(text)
    new_state = warm_up(model, prefix, vocab, ctx)
    assert len(new_state) == len(state)
    for new, old in zip(new_state, state):
        assert new.shape == old.shape
        np.testing.assert_allclose(new.asnumpy(), old.asnumpy(), rtol=1e-5, atol=1e-6)
    return texts


@pytest.mark.parametrize("hybridize", [False, True])
@pytest.mark.parametrize("num_layers", [1, 3])
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_gluon_models_warm_up_as_one_char_at_a_time(tiny_data, cell, num_layers, hybridize):
    vocab = tiny_data[1]
    model = gluon_model(vocab, cell, num_layers, hybridize=hybridize)
    _, sampled = assert_same_as_one_char_at_a_time(model, vocab)
    assert len(set(sampled[len(PREFIX):])) > 5  # the texts compared are not one character repeated
    assert all(np.abs(s.asnumpy()).max() > 0.05 for s in warm_up(model, PREFIX, vocab, mx.cpu()))


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_scratch_models_warm_up_as_one_char_at_a_time(tiny_data, cell):
    vocab = tiny_data[1]
    assert_same_as_one_char_at_a_time(from_gluon(gluon_model(vocab, cell, 2)), vocab)


def test_the_books_function_form_warms_up_as_one_char_at_a_time(tiny_data):
    vocab = tiny_data[1]
    scratch = from_gluon(gluon_model(vocab, "rnn", 1))
    model = FunctionModel(book_rnn, book_params_of(scratch), init_rnn_state, 6, len(vocab), mx.cpu())
    greedy, _ = assert_same_as_one_char_at_a_time(model, vocab)
    assert d2lrnn.predict_rnn(PREFIX, 30, book_rnn, model.params, init_rnn_state, 6, vocab, mx.cpu()) == greedy


@pytest.mark.parametrize("hybridize", [False, True])
def test_a_bidirectional_model_keeps_one_char_at_a_time(tiny_data, hybridize):
    """Over a sequence, the backward direction would read the prefix from its end: a different state."""
    vocab = tiny_data[1]
    model = gluon_model(vocab, "lstm", 2, bidirectional=True, hybridize=hybridize)
    assert_same_as_one_char_at_a_time(model, vocab)
    indices = vocab[list(PREFIX[:-1])]
    _, sequence_state = model(nd.array([indices]), model.begin_state(batch_size=1, ctx=mx.cpu()))
    stepped = warm_up(model, PREFIX, vocab, mx.cpu())
    assert np.abs(sequence_state[0].asnumpy() - stepped[0].asnumpy()).max() > 1e-3


def call_shapes(model, vocab, prefix, num_chars):
    """The input shapes of the calls of ``model`` that ``predict_rnn_gluon`` makes."""
    shapes = []
    hook = model.register_forward_hook(lambda block, inputs, outputs: shapes.append(inputs[0].shape))
    try:
        d2lrnn.predict_rnn_gluon(prefix, num_chars, model, vocab, mx.cpu())
    finally:
        hook.detach()
    return shapes


@pytest.mark.parametrize("hybridize", [False, True])
def test_the_prefix_goes_through_the_model_in_one_call(tiny_data, hybridize):
    vocab = tiny_data[1]
    for model in (gluon_model(vocab, "gru", 2, hybridize=hybridize), from_gluon(gluon_model(vocab, "gru", 2))):
        assert call_shapes(model, vocab, PREFIX, 4) == [(1, len(PREFIX) - 1)] + [(1, 1)] * 4
        assert call_shapes(model, vocab, PREFIX, 0) == [(1, len(PREFIX) - 1)]
        assert call_shapes(model, vocab, "t", 3) == [(1, 1)] * 3  # nothing to warm up on
    bidirectional = gluon_model(vocab, "gru", 1, bidirectional=True, hybridize=hybridize)
    assert call_shapes(bidirectional, vocab, "the", 2) == [(1, 1)] * 4


def test_short_prefixes_and_no_characters(tiny_data):
    vocab = tiny_data[1]
    model = gluon_model(vocab, "lstm", 2, hybridize=True)
    for prefix, num_chars in (("t", 20), ("t", 0), ("th", 10), (PREFIX, 0)):
        assert_same_as_one_char_at_a_time(model, vocab, prefix, num_chars)
    zero = warm_up(model, "t", vocab, mx.cpu())
    assert [s.shape for s in zero] == [(2, 1, 6)] * 2 and all(s.asnumpy().max() == 0 for s in zero)
    assert d2lrnn.predict_rnn_gluon("t", 0, model, vocab, mx.cpu()) == "t"


def test_a_model_for_another_vocabulary_is_named_with_any_prefix(tiny_data):
    vocab = tiny_data[1]
    model = RNNModel(make_rnn_layer("lstm", 4, 1), 50)
    model.initialize()
    for prefix in ("t", PREFIX):
        with pytest.raises(ValueError, match=f"the model predicts 50 tokens but the vocabulary has {len(vocab)}"):
            d2lrnn.predict_rnn_gluon(prefix, 5, model, vocab, mx.cpu())


def test_a_long_prefix_with_an_unknown_character_is_not_repeated_in_the_message(tiny_data):
    vocab = tiny_data[1]
    model = gluon_model(vocab, "lstm", 1)
    with pytest.raises(ValueError, match=r"^prefix of 1,001 characters contains characters that are not "
                                         r"in the vocabulary: \['Z'\]; the model only knows") as caught:
        d2lrnn.predict_rnn_gluon("the " * 250 + "Z", 5, model, vocab, mx.cpu())
    assert len(str(caught.value)) < 200
    with pytest.raises(ValueError, match=r"^prefix 'the Z' contains characters"):
        d2lrnn.predict_rnn_gluon("the Z", 5, model, vocab, mx.cpu())
    with pytest.raises(ValueError, match=r"^prefix 'the Z' contains characters"):
        warm_up(model, "the Z", vocab, mx.cpu())


@pytest.mark.slow
def test_a_prefix_of_100_000_characters_of_the_book():
    # In a fresh interpreter with one OpenMP thread: each of the 100,000 steps is tiny, and with
    # the tests' passive waiting (conftest.py) two threads took 36 s where one takes 1 s.
    run_checked([sys.executable, "-c", "import test_warm_up; test_warm_up.check_a_long_prefix()"],
                cwd=Path(__file__).parent, env={**os.environ, "OMP_NUM_THREADS": "1"})


def check_a_long_prefix():
    """The book's first 100,000 characters as a prefix, into a hybridized model (as trained; the
    equivalence tests above cover both)."""
    corpus_indices, vocab = d2lrnn.load_data_time_machine(num_examples=None)
    prefix = "".join(vocab.to_tokens(corpus_indices[:100_000]))
    model = gluon_model(vocab, "lstm", 2, hybridize=True)
    text = d2lrnn.predict_rnn_gluon(prefix, 50, model, vocab, mx.cpu())
    assert text[:100_000] == prefix and len(text) == 100_050
    # The same state when all but the last 30 characters go in one call and those one at a time:
    state = warm_up(model, prefix[:-30], vocab, mx.cpu())
    for index in vocab[list(prefix[-31:-1])]:
        _, state = model(nd.array([[index]]), state)
    for new, old in zip(warm_up(model, prefix, vocab, mx.cpu()), state):
        np.testing.assert_allclose(new.asnumpy(), old.asnumpy(), rtol=1e-5, atol=1e-6)
    # ... and the same text, now that the model has also run on shape (1, 99_999):
    assert d2lrnn.predict_rnn_gluon(prefix[-200:], 50, model, vocab, mx.cpu()) \
        == predict_one_char_at_a_time(prefix[-200:], 50, model, vocab, mx.cpu())[0]
