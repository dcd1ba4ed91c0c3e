"""Text to indices to minibatches: character preprocessing, ``Vocab``, books, the train/validation split and the two samplers."""
import collections
import numbers
import random
import re

import numpy as np
from mxnet import nd

from .download import TIME_MACHINE, fetch, gutenberg_resource
from .facts import check_positive, consecutive_layout, get_sampling

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
    if num_examples is not None:
        check_positive("num_examples", num_examples)
    path = fetch(TIME_MACHINE, data_dir=data_dir)
    with open(path, encoding="utf-8") as f:
        text = preprocess(f.read(), num_examples)
    vocab = Vocab(text)
    return vocab[list(text)], vocab


def load_held_out_time_machine(vocab, num_valid=5000, num_examples=10000, data_dir=None):
    """The ``num_valid`` characters of *The Time Machine* that follow its first ``num_examples``, as indices of ``vocab``.

    Held-out text for the chapter's run: the same book, right after the characters
    ``load_data_time_machine(num_examples)`` trains on, never trained on. A character that
    ``vocab`` lacks becomes ``'<unk>'`` (index 0).
    """
    check_positive("num_valid", num_valid)
    check_positive("num_examples", num_examples)
    path = fetch(TIME_MACHINE, data_dir=data_dir)
    with open(path, encoding="utf-8") as f:
        text = preprocess(f.read(), num_examples + num_valid)
    if len(text) < num_examples + num_valid:
        raise ValueError(f"The Time Machine has {len(text):,} characters, fewer than num_examples + num_valid = "
                         f"{num_examples + num_valid:,}")
    return vocab[list(text[num_examples:])]


# Project Gutenberg frames a book with lines such as
# "*** START OF THE PROJECT GUTENBERG EBOOK THE TIME MACHINE ***" (older files: "THIS").
GUTENBERG_START = re.compile(r"^\*\*\*\s*START OF (THE|THIS) PROJECT GUTENBERG EBOOK[^\n]*$",
                             re.IGNORECASE | re.MULTILINE)
GUTENBERG_END = re.compile(r"^\*\*\*\s*END OF (THE|THIS) PROJECT GUTENBERG EBOOK[^\n]*$",
                           re.IGNORECASE | re.MULTILINE)
# Plain-text files that Gutenberg generates from its HTML edition open with the cover
# image's alt text, a line reading "cover" (pg36 does): not part of the book.
GUTENBERG_COVER = re.compile(r"\Acover[ \t]*\n", re.IGNORECASE)


def strip_gutenberg(raw_text):
    """The book inside a Project Gutenberg text: no BOM, LF line ends, only what lies between the START and END markers (each when present), without a leading "cover" line."""
    text = raw_text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    start, end = GUTENBERG_START.search(text), GUTENBERG_END.search(text)
    if start and end and end.start() < start.end():
        raise ValueError("the Project Gutenberg END marker comes before the START marker; "
                         "this does not look like a Gutenberg plain-text file")
    body = text[start.end() if start else 0:end.start() if end else len(text)].strip()
    body = GUTENBERG_COVER.sub("", body, count=1).strip()
    if not body:
        raise ValueError("no text is left once the Project Gutenberg header and footer are removed")
    return body


def read_gutenberg(ebook, data_dir=None):
    """The text of Project Gutenberg ebook number ``ebook`` (downloaded once, cached), without header, footer, BOM or CR."""
    path = fetch(gutenberg_resource(ebook), data_dir=data_dir)
    try:
        raw_text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{path} is not UTF-8 text ({e}); delete it so that it is downloaded "
                         "again, or replace it with the UTF-8 plain-text file") from e
    return strip_gutenberg(raw_text)


def load_data_books(ebooks, num_examples=None, data_dir=None, vocab=None):
    """Project Gutenberg books as ``(corpora, vocab)``: one list of indices per ebook, in the order given.

    Each book is preprocessed like the chapter's data and cut to its first
    ``num_examples`` characters (None keeps it whole). Without ``vocab`` one
    vocabulary is built over all the chosen books; with one, characters it does not
    know become ``'<unk>'`` (index 0).
    """
    if isinstance(ebooks, (int, str)) or not ebooks:
        raise ValueError(f"ebooks must be a non-empty list of ebook numbers, e.g. [35, 36], got {ebooks!r}")
    ebooks = list(ebooks)
    if len(set(ebooks)) != len(ebooks):
        raise ValueError(f"ebooks lists a book more than once: {ebooks}")
    if num_examples is not None:
        check_positive("num_examples", num_examples)
    texts = [preprocess(read_gutenberg(ebook, data_dir), num_examples) for ebook in ebooks]
    if vocab is None:
        vocab = Vocab("".join(texts))
    return [vocab[list(text)] for text in texts], vocab


def split_corpus(corpus_indices, valid_fraction=0.1):
    """``(train_indices, valid_indices)``: the corpus cut in two, the last ``valid_fraction`` of it held out.

    Both parts are contiguous ranges, so no training window reaches into the
    validation text. The validation part has ``round(len * valid_fraction)`` tokens.
    """
    if isinstance(valid_fraction, bool) or not isinstance(valid_fraction, numbers.Real) \
            or not 0 < valid_fraction < 1:
        raise ValueError(f"valid_fraction must be a number strictly between 0 and 1, e.g. 0.1, "
                         f"got {valid_fraction!r}")
    num_valid = round(len(corpus_indices) * valid_fraction)
    if not 0 < num_valid < len(corpus_indices):
        raise ValueError(
            f"a corpus of {len(corpus_indices)} tokens with valid_fraction={valid_fraction} leaves "
            f"{num_valid} tokens for validation and {len(corpus_indices) - num_valid} for training; "
            "both parts need at least one token: use more text or another valid_fraction")
    cut = len(corpus_indices) - num_valid
    return corpus_indices[:cut], corpus_indices[cut:]


def min_corpus_length(batch_size, num_steps, sampling="consecutive"):
    """Fewest tokens a corpus needs so that every random offset still yields one minibatch."""
    check_positive("batch_size", batch_size)
    check_positive("num_steps", num_steps)
    return get_sampling(sampling).min_corpus_length(batch_size, num_steps)


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
    offset, row_len, num_batches = consecutive_layout(len(corpus_indices), batch_size, num_steps, rng)
    used = np.asarray(corpus_indices[offset:offset + row_len * batch_size], dtype=np.float32)
    rows = used.reshape((batch_size, row_len))
    end = num_batches * num_steps
    # The whole epoch is built at once, (num_batches, batch_size, num_steps), and copied
    # to ctx in one go; X[k] is then a view, not a new array per minibatch.
    X = nd.array(_split_columns(rows[:, :end], num_batches), ctx=ctx)
    Y = nd.array(_split_columns(rows[:, 1:end + 1], num_batches), ctx=ctx)
    for k in range(num_batches):
        yield X[k], Y[k]


def _split_columns(rows, num_batches):
    """(batch_size, num_batches * num_steps) -> (num_batches, batch_size, num_steps)."""
    return rows.reshape((rows.shape[0], num_batches, -1)).transpose((1, 0, 2))


def data_iter_random(corpus_indices, batch_size, num_steps, ctx=None, rng=random):
    """Minibatches of windows taken from random places; no batch continues another.

    Yields ``(X, Y)``, both of shape (batch_size, num_steps); ``Y`` is ``X`` shifted by one.
    """
    check_corpus_length(corpus_indices, batch_size, num_steps, "random")
    offset = rng.randrange(num_steps)
    num_windows = (len(corpus_indices) - 1 - offset) // num_steps
    starts = [offset + k * num_steps for k in range(num_windows)]
    rng.shuffle(starts)
    num_batches = num_windows // batch_size
    corpus = np.asarray(corpus_indices, dtype=np.float32)
    # Token positions of every window of the epoch: (num_batches, batch_size, num_steps).
    positions = (np.asarray(starts[:num_batches * batch_size]).reshape((num_batches, batch_size, 1))
                 + np.arange(num_steps))
    X = nd.array(corpus[positions], ctx=ctx)
    Y = nd.array(corpus[positions + 1], ctx=ctx)
    for k in range(num_batches):
        yield X[k], Y[k]


def sampler(sampling):
    """The minibatch iterator of ``sampling`` (``'consecutive'`` or ``'random'``)."""
    return data_iter_consecutive if get_sampling(sampling).carries_state else data_iter_random
