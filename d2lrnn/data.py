"""Text to indices to minibatches: character preprocessing, ``Vocab`` and the two samplers."""
import collections
import random

from mxnet import nd

from .download import TIME_MACHINE, fetch

UNK = "<unk>"


def preprocess(raw_text, num_examples=None):
    """Lower-case, collapse every run of whitespace (newlines included) to one space, truncate."""
    text = " ".join(raw_text.lower().split())
    return text if num_examples is None else text[:num_examples]


class Vocab:
    """Maps tokens to indices and back; index 0 is ``'<unk>'``, the rest by descending frequency."""

    def __init__(self, tokens, min_freq=0):
        counter = collections.Counter(tokens)
        # Most frequent first; ties in alphabetical order, so the order is reproducible.
        ordered = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
        self.unk = 0
        self.idx_to_token = [UNK] + [tok for tok, freq in ordered
                                     if freq >= min_freq and tok != UNK]
        self.token_to_idx = {tok: idx for idx, tok in enumerate(self.idx_to_token)}
        self.token_freqs = ordered

    @classmethod
    def from_tokens(cls, idx_to_token):
        """Rebuild a vocabulary from its ``idx_to_token`` list (as stored in a checkpoint)."""
        if not idx_to_token or idx_to_token[0] != UNK or len(set(idx_to_token)) != len(idx_to_token):
            raise ValueError("idx_to_token must start with '<unk>' and hold each token once")
        vocab = cls([])
        vocab.idx_to_token = list(idx_to_token)
        vocab.token_to_idx = {tok: idx for idx, tok in enumerate(vocab.idx_to_token)}
        return vocab

    def __eq__(self, other):
        return isinstance(other, Vocab) and self.idx_to_token == other.idx_to_token

    __hash__ = None

    def __len__(self):
        return len(self.idx_to_token)

    def __getitem__(self, tokens):
        """Index of one token, or a list of indices for a list or tuple; unknown tokens give 0."""
        if isinstance(tokens, (list, tuple)):
            return [self.token_to_idx.get(tok, self.unk) for tok in tokens]
        return self.token_to_idx.get(tokens, self.unk)

    def __contains__(self, token):
        return token in self.token_to_idx

    def to_tokens(self, indices):
        """Token of one index, or a list of tokens for a list, tuple or 1-D array."""
        if isinstance(indices, (list, tuple)) or hasattr(indices, "shape"):
            return [self.idx_to_token[int(i)] for i in indices]
        return self.idx_to_token[int(indices)]

    def __repr__(self):
        return f"Vocab(size={len(self)}, most frequent={self.idx_to_token[1:11]})"


def load_data_time_machine(num_examples=10000, data_dir=None):
    """The first ``num_examples`` characters of *The Time Machine* as ``(corpus_indices, vocab)``.

    ``num_examples=None`` keeps the whole book. The file is downloaded once and
    verified (see ``d2lrnn.download``); ``data_dir`` overrides the cache directory.
    """
    if num_examples is not None and num_examples < 1:
        raise ValueError(f"num_examples must be a positive number of characters or None, got {num_examples}")
    path = fetch(TIME_MACHINE, data_dir=data_dir)
    with open(path, encoding="utf-8") as f:
        text = preprocess(f.read(), num_examples)
    vocab = Vocab(text)
    return vocab[list(text)], vocab


def _check_batch_args(batch_size, num_steps):
    for name, value in (("batch_size", batch_size), ("num_steps", num_steps)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


def min_corpus_length(batch_size, num_steps, sampling="consecutive"):
    """Fewest tokens a corpus needs so that every random offset still yields one minibatch."""
    _check_batch_args(batch_size, num_steps)
    if sampling == "consecutive":
        # Each of batch_size rows needs num_steps inputs plus one shifted target.
        return batch_size * (num_steps + 1) + num_steps - 1
    if sampling == "random":
        # batch_size windows of num_steps, plus the one-token target shift.
        return batch_size * num_steps + num_steps
    raise ValueError(f"sampling must be 'consecutive' or 'random', got {sampling!r}")


def check_corpus_length(corpus_indices, batch_size, num_steps, sampling="consecutive"):
    """Raise ``ValueError`` naming the minimum length when the corpus cannot fill one minibatch."""
    need = min_corpus_length(batch_size, num_steps, sampling)
    if len(corpus_indices) < need:
        raise ValueError(
            f"the corpus has {len(corpus_indices)} tokens, but batch_size={batch_size} and "
            f"num_steps={num_steps} need at least {need} for one minibatch with "
            f"{sampling} sampling; use more text or smaller batch_size/num_steps")


def data_iter_consecutive(corpus_indices, batch_size, num_steps, ctx=None, rng=random):
    """Minibatches whose rows continue where the previous minibatch's rows stopped.

    Yields ``(X, Y)``, both of shape (batch_size, num_steps); ``Y`` is ``X`` shifted
    by one token. Row ``i`` of batch ``k+1`` follows row ``i`` of batch ``k`` in the
    corpus, so the hidden state can be carried from one batch to the next.
    """
    check_corpus_length(corpus_indices, batch_size, num_steps, "consecutive")
    offset = rng.randrange(num_steps)
    row_len = (len(corpus_indices) - offset) // batch_size
    used = corpus_indices[offset:offset + row_len * batch_size]
    rows = nd.array(used, ctx=ctx).reshape((batch_size, row_len))
    num_batches = (row_len - 1) // num_steps
    for i in range(0, num_batches * num_steps, num_steps):
        yield rows[:, i:i + num_steps], rows[:, i + 1:i + 1 + num_steps]


def data_iter_random(corpus_indices, batch_size, num_steps, ctx=None, rng=random):
    """Minibatches of windows taken from random places; no batch continues another.

    Yields ``(X, Y)``, both of shape (batch_size, num_steps); ``Y`` is ``X`` shifted by one.
    """
    check_corpus_length(corpus_indices, batch_size, num_steps, "random")
    offset = rng.randrange(num_steps)
    num_windows = (len(corpus_indices) - 1 - offset) // num_steps
    starts = [offset + k * num_steps for k in range(num_windows)]
    rng.shuffle(starts)
    for i in range(0, (num_windows // batch_size) * batch_size, batch_size):
        batch = starts[i:i + batch_size]
        X = [corpus_indices[s:s + num_steps] for s in batch]
        Y = [corpus_indices[s + 1:s + 1 + num_steps] for s in batch]
        yield nd.array(X, ctx=ctx), nd.array(Y, ctx=ctx)
