"""d2l 0.9.2, the 2019 chapter's own helper package, is the reference for d2lrnn's chapter API and data.

The chapter's sections call the functions below as ``d2l.NAME``; with ``import d2lrnn as d2l``
each call must still work, and the text must become the same vocabulary, indices and minibatches.
d2l 0.9.2 comes with the ``test`` extra (pyproject.toml). It reads ``../data/timemachine.txt``
relative to the working directory, so the data tests run it in a temporary folder laid out that way.
"""
import inspect
import random
import sys

import numpy as np
import pytest

import d2lrnn

import d2l  # noqa: I100  (after d2lrnn, which lets MXNet load on NumPy 1.26)

# What the sections of the 2019 chapter call (shared/reference/README.md).
CHAPTER_API = ["load_data_time_machine", "try_gpu", "RNNModel", "train_and_predict_rnn_gluon",
               "predict_rnn_gluon", "data_iter_consecutive", "data_iter_random", "grad_clipping",
               "sgd", "to_onehot", "predict_rnn", "train_and_predict_rnn"]
# d2lrnn.train_and_predict_rnn(first, *args, **kwargs) dispatches on its first argument: the
# book's functions go to this function, whose signature is then the one to compare.
DISPATCHED = {"train_and_predict_rnn": "chapter2019.train_and_predict_rnn_functions"}


def test_the_reference_is_d2l_0_9_2():
    assert d2l.__version__ == "0.9.2"


def reference(name):
    """d2l 0.9.2's ``name``. It defines predict_rnn_gluon, predict_rnn and to_onehot in d2l/train.py
    but leaves them out of ``__all__``, so ``d2l.NAME`` misses them (the sections define their own)."""
    # sys.modules, because the attribute d2l.train is the function train, not the module.
    return getattr(d2l, name, None) or getattr(sys.modules["d2l.train"], name)


def _call_signature(obj):
    return inspect.signature(obj.__init__ if inspect.isclass(obj) else obj)


def _parameters(sig):
    return [p for p in sig.parameters.values() if p.name != "self"]


def check_call_compatible(name):
    """Every call that d2l 0.9.2's ``name`` accepts by its signature, d2lrnn's accepts too."""
    assert hasattr(d2lrnn, name), f"d2lrnn has no {name}"
    target = d2lrnn
    for part in DISPATCHED.get(name, name).split("."):
        target = getattr(target, part)
    theirs, ours = _call_signature(reference(name)), _call_signature(target)
    ours = ours.replace(parameters=_parameters(ours))
    named = [p for p in _parameters(theirs) if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    required = [p for p in named if p.default is p.empty]
    positional = [p for p in named if p.kind == p.POSITIONAL_OR_KEYWORD]
    for count in range(len(required), len(positional) + 1):  # positionally, with and without defaults
        ours.bind(*[object()] * count)
    ours.bind(**{p.name: object() for p in named})  # every argument by its name
    if any(p.kind == p.VAR_KEYWORD for p in _parameters(theirs)):
        ours.bind(*[object()] * len(required), some_block_option=object())


@pytest.mark.parametrize("name", CHAPTER_API)
def test_chapter_function_is_call_compatible(name):
    check_call_compatible(name)


def test_the_signature_check_can_fail(monkeypatch):
    monkeypatch.setattr(d2lrnn, "grad_clipping", lambda params, theta: None)  # no ctx
    with pytest.raises(TypeError):
        check_call_compatible("grad_clipping")
    monkeypatch.delattr(d2lrnn, "grad_clipping")
    monkeypatch.delitem(d2lrnn._LAZY, "grad_clipping")  # or the package would import it again
    with pytest.raises(AssertionError, match="d2lrnn has no grad_clipping"):
        check_call_compatible("grad_clipping")


@pytest.fixture
def d2l_folder(tmp_path, monkeypatch, timemachine_bytes):
    """A working directory where d2l 0.9.2 finds ``../data/timemachine.txt`` (the verified copy)."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "timemachine.txt").write_bytes(timemachine_bytes)
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")


@pytest.mark.parametrize("num_examples", [10000, 500, 10 ** 6])  # 10**6: the whole book
def test_vocabulary_and_corpus_indices_equal_the_reference(d2l_folder, num_examples):
    their_indices, their_vocab = d2l.load_data_time_machine(num_examples)
    our_indices, our_vocab = d2lrnn.load_data_time_machine(num_examples)
    assert our_vocab.idx_to_token == their_vocab.idx_to_token
    assert our_vocab.token_to_idx == their_vocab.token_to_idx
    assert our_indices == their_indices


class _SameDraws:
    """Stands in for the random module in both samplers, so that both see the same offset
    and the same shuffle: d2l 0.9.2 calls ``int(random.uniform(0, num_steps))`` and
    ``random.shuffle``, d2lrnn ``rng.randrange(num_steps)`` and ``rng.shuffle``."""

    def __init__(self, offset, seed, num_shuffled):
        self.offset, self.seed, self.num_shuffled = offset, seed, num_shuffled

    def uniform(self, a, b):
        return self.offset + 0.5

    def randrange(self, n):
        return self.offset

    def shuffle(self, x):
        # The same permutation of the first num_shuffled windows; any window after them
        # (d2lrnn keeps one more than d2l 0.9.2, see below) stays at the end.
        head = x[:self.num_shuffled]
        random.Random(self.seed).shuffle(head)
        x[:self.num_shuffled] = head


def _batches(iterator):
    return [(X.asnumpy().tolist(), Y.asnumpy().tolist()) for X, Y in iterator]


@pytest.mark.parametrize("batch_size, num_steps", [(32, 35), (2, 5), (7, 3)])
@pytest.mark.parametrize("offset", [0, 1, 2])
def test_minibatches_equal_the_reference_for_the_same_draws(
        d2l_folder, monkeypatch, batch_size, num_steps, offset):
    corpus_indices, _ = d2lrnn.load_data_time_machine(2000)
    # d2l 0.9.2's random sampling uses one window fewer than fit: the last window that
    # ends exactly at the last target is left out. d2lrnn keeps it, so it can have one
    # more minibatch per epoch; every minibatch that both have is the same.
    their_windows = (len(corpus_indices) - offset - 1) // num_steps - 1
    same = _SameDraws(offset, seed=offset, num_shuffled=their_windows)
    monkeypatch.setattr(sys.modules["d2l.data.base"], "random", same)

    theirs = _batches(d2l.data_iter_consecutive(corpus_indices, batch_size, num_steps))
    ours = _batches(d2lrnn.data_iter_consecutive(corpus_indices, batch_size, num_steps, rng=same))
    assert ours == theirs and len(ours) > 0

    theirs = _batches(d2l.data_iter_random(corpus_indices, batch_size, num_steps))
    ours = _batches(d2lrnn.data_iter_random(corpus_indices, batch_size, num_steps, rng=same))
    assert ours[:len(theirs)] == theirs and len(theirs) > 0
    assert len(ours) - len(theirs) in (0, 1)
    assert np.array_equal(np.asarray(ours[0][0]), np.asarray(theirs[0][0]))


@pytest.mark.xfail(strict=True, reason=(
    "not yet: for the same seed d2lrnn draws the offset with rng.randrange(num_steps), "
    "d2l 0.9.2 with int(random.uniform(0, num_steps)), and random sampling keeps one more "
    "window; making them equal changes every seeded run's minibatches (see the test above)"))
@pytest.mark.parametrize("sampler", ["data_iter_consecutive", "data_iter_random"])
def test_minibatches_equal_the_reference_for_the_same_seed(d2l_folder, sampler):
    corpus_indices, _ = d2lrnn.load_data_time_machine(2000)
    for seed in range(5):
        random.seed(seed)
        theirs = _batches(getattr(d2l, sampler)(corpus_indices, 4, 35))
        random.seed(seed)
        ours = _batches(getattr(d2lrnn, sampler)(corpus_indices, 4, 35))
        assert ours == theirs
