"""Preprocessing, the vocabulary and the two minibatch samplers, on tiny inputs."""
import random

import numpy as np
import pytest

import d2lrnn
from d2lrnn import Vocab, data_iter_consecutive, data_iter_random, min_corpus_length


def test_preprocess_lowercases_and_collapses_whitespace():
    assert d2lrnn.preprocess("The  Time\n\nMachine\t,\r\nby H.") == "the time machine , by h."
    assert d2lrnn.preprocess("abc def", num_examples=5) == "abc d"


def test_vocab_order_unknown_and_round_trip():
    vocab = Vocab("abracadabra")
    # a:5, b:2, r:2, c:1, d:1 -> frequency first, ties alphabetical, '<unk>' at 0
    assert vocab.idx_to_token == ["<unk>", "a", "b", "r", "c", "d"]
    assert len(vocab) == 6
    assert vocab["a"] == 1 and vocab["z"] == 0
    assert vocab[["c", "a", "?"]] == [4, 1, 0]
    assert vocab.to_tokens(5) == "d"
    text = list("cab")
    assert vocab.to_tokens(vocab[text]) == text
    assert "a" in vocab and "z" not in vocab


def test_time_machine_corpus():
    corpus_indices, vocab = d2lrnn.load_data_time_machine()
    assert len(corpus_indices) == 10000
    assert len(vocab) == 44
    assert "".join(vocab.to_tokens(corpus_indices[:20])) == "the time machine, by"
    assert corpus_indices[:5] == [3, 10, 2, 1, 3]
    whole, vocab_all = d2lrnn.load_data_time_machine(num_examples=None)
    assert len(whole) > 160000 and len(vocab_all) >= len(vocab)


def test_held_out_time_machine_is_the_text_right_after_the_training_text():
    corpus_indices, vocab = d2lrnn.load_data_time_machine()
    whole, whole_vocab = d2lrnn.load_data_time_machine(num_examples=None)
    held_out = d2lrnn.load_held_out_time_machine(vocab, 500)
    assert vocab.to_tokens(held_out) == whole_vocab.to_tokens(whole[10000:10500])
    assert held_out[:3] == vocab[list("e. ")]
    with pytest.raises(ValueError, match="fewer than num_examples"):
        d2lrnn.load_held_out_time_machine(vocab, 10 ** 6)
    with pytest.raises(ValueError, match="num_valid must be a positive"):
        d2lrnn.load_held_out_time_machine(vocab, 0)


@pytest.mark.parametrize("bad", [0, -3])
def test_time_machine_rejects_bad_length(bad):
    with pytest.raises(ValueError, match="num_examples must be a positive"):
        d2lrnn.load_data_time_machine(bad)


def _rows(batches):
    return [(X.asnumpy().astype(int).tolist(), Y.asnumpy().astype(int).tolist()) for X, Y in batches]


def test_consecutive_batches_are_adjacent_and_shifted():
    corpus = list(range(100))
    batch_size, num_steps = 2, 5
    batches = _rows(data_iter_consecutive(corpus, batch_size, num_steps, rng=random.Random(1)))
    offset = batches[0][0][0][0]
    row_len = (100 - offset) // batch_size
    assert len(batches) == (row_len - 1) // num_steps
    for X, Y in batches:
        assert len(X) == batch_size and all(len(r) == num_steps for r in X)
        for x_row, y_row in zip(X, Y):
            assert y_row == [v + 1 for v in x_row]  # corpus[i] == i, so Y is X shifted by one
    for (X0, _), (X1, _) in zip(batches, batches[1:]):
        for r in range(batch_size):
            assert X1[r][0] == X0[r][-1] + 1  # row r continues where it stopped
    # Row r starts row_len tokens after row r-1.
    assert batches[0][0][1][0] - batches[0][0][0][0] == row_len


def test_random_batches_are_windows_of_the_corpus():
    corpus = [i * 3 for i in range(200)]
    batch_size, num_steps = 4, 6
    batches = _rows(data_iter_random(corpus, batch_size, num_steps, rng=random.Random(2)))
    starts = []
    for X, Y in batches:
        assert len(X) == batch_size
        for x_row, y_row in zip(X, Y):
            s = corpus.index(x_row[0])
            assert x_row == corpus[s:s + num_steps] and y_row == corpus[s + 1:s + 1 + num_steps]
            starts.append(s)
    assert len(set(starts)) == len(starts)  # no window used twice in an epoch
    offset = min(starts) % num_steps
    assert len(batches) == ((200 - 1 - offset) // num_steps) // batch_size


def _chapter_consecutive(corpus, batch_size, num_steps, rng):
    """The chapter's way: one slice of a (batch_size, row_len) array per minibatch."""
    offset = rng.randrange(num_steps)
    row_len = (len(corpus) - offset) // batch_size
    rows = np.array(corpus[offset:offset + row_len * batch_size]).reshape((batch_size, row_len))
    for i in range(0, (row_len - 1) // num_steps * num_steps, num_steps):
        yield rows[:, i:i + num_steps], rows[:, i + 1:i + 1 + num_steps]


def _chapter_random(corpus, batch_size, num_steps, rng):
    """The chapter's way: windows gathered one minibatch at a time."""
    offset = rng.randrange(num_steps)
    num_windows = (len(corpus) - 1 - offset) // num_steps
    starts = [offset + k * num_steps for k in range(num_windows)]
    rng.shuffle(starts)
    for i in range(0, num_windows // batch_size * batch_size, batch_size):
        batch = starts[i:i + batch_size]
        yield (np.array([corpus[s:s + num_steps] for s in batch]),
               np.array([corpus[s + 1:s + 1 + num_steps] for s in batch]))


@pytest.mark.parametrize("sampler, chapter", [(data_iter_consecutive, _chapter_consecutive),
                                              (data_iter_random, _chapter_random)])
@pytest.mark.parametrize("as_array", [False, True])  # a list, or the NumPy array the trainer passes
def test_epoch_built_at_once_equals_the_chapter_minibatches(sampler, chapter, as_array):
    corpus = [(7 * i) % 41 for i in range(523)]
    given = np.asarray(corpus, dtype=np.float32) if as_array else corpus
    for seed in range(5):
        got = list(sampler(given, 3, 7, rng=random.Random(seed)))
        want = list(chapter(corpus, 3, 7, random.Random(seed)))
        assert len(got) == len(want)
        for (X, Y), (X_want, Y_want) in zip(got, want):
            assert X.dtype == np.float32 and X.shape == (3, 7)
            assert np.array_equal(X.asnumpy(), X_want) and np.array_equal(Y.asnumpy(), Y_want)


@pytest.mark.parametrize("sampling, sampler", [("consecutive", data_iter_consecutive),
                                                ("random", data_iter_random)])
def test_minimum_corpus_length_is_exact(sampling, sampler):
    batch_size, num_steps = 3, 4
    need = min_corpus_length(batch_size, num_steps, sampling)
    corpus = list(range(need))
    for seed in range(30):  # every offset still gives at least one minibatch
        assert len(list(sampler(corpus, batch_size, num_steps, rng=random.Random(seed)))) >= 1
    with pytest.raises(ValueError, match=f"the corpus has {need - 1} tokens.*at least {need}"):
        list(sampler(corpus[:-1], batch_size, num_steps))


def test_sampler_argument_errors():
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        list(data_iter_consecutive(list(range(100)), 0, 5))
    with pytest.raises(ValueError, match="num_steps must be a positive integer"):
        list(data_iter_random(list(range(100)), 2, 0))
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got True"):
        list(data_iter_consecutive(list(range(100)), True, 5))
    with pytest.raises(ValueError, match="sampling must be"):
        min_corpus_length(2, 2, "shuffled")
