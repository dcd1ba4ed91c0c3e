"""The argument checks shared by data, models, scratch, prediction and training.

Each raises an exception whose message names the argument and says what is expected.
NumPy integer and float scalars count as integers and numbers; ``bool`` never does.
"""
import math
import numbers

import numpy as np


def is_integer(value):
    """True for Python and NumPy integers, False for ``bool`` (which Python counts as one)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value):
    """True for Python and NumPy integers and floats, False for ``bool``."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_positive(name, value, integer=True):
    """Raise ``ValueError`` naming ``name`` unless ``value`` is a positive integer (or finite number)."""
    if not (is_integer if integer else is_number)(value) or not value > 0 or not math.isfinite(value):
        what = "a positive integer" if integer else "a positive finite number"
        raise ValueError(f"{name} must be {what}, got {value!r}")


def check_seed(seed):
    """Raise ``ValueError`` unless ``seed`` is None or an integer >= 0 (what MXNet and NumPy accept)."""
    if seed is not None and (not is_integer(seed) or seed < 0):
        raise ValueError(f"seed must be None or an integer >= 0, got {seed!r}")


def check_vocab(vocab):
    """Raise ``TypeError`` unless ``vocab`` looks like a ``d2lrnn.Vocab``."""
    if not all(hasattr(vocab, a) for a in ("idx_to_token", "token_to_idx", "__len__")):
        raise TypeError(f"vocab must be a d2lrnn.Vocab (as load_data_time_machine returns), "
                        f"got {type(vocab).__name__}")


def check_model(model):
    """Raise ``TypeError`` unless ``model`` has the ``RNNModel`` calling convention."""
    if not callable(model) or not all(hasattr(model, a) for a in ("begin_state", "collect_params")):
        raise TypeError(f"model must be a d2lrnn.RNNModel or RNNModelScratch (callable, with "
                        f"begin_state and collect_params), got {type(model).__name__}")


def corpus_array(corpus_indices, vocab_size):
    """``corpus_indices`` as a float32 NumPy array, after checking they are token indices below ``vocab_size``."""
    try:
        corpus = np.asarray(corpus_indices)
    except (TypeError, ValueError) as e:
        raise ValueError(f"corpus_indices must be a list of token indices, got {type(corpus_indices).__name__}") from e
    if corpus.ndim != 1 or corpus.size and corpus.dtype.kind not in "iuf" \
            or corpus.size and not np.array_equal(corpus, np.round(corpus)):
        raise ValueError("corpus_indices must be a flat list of integer token indices "
                         "(as load_data_time_machine returns)")
    if corpus.size and (corpus.min() < 0 or corpus.max() >= vocab_size):
        bad = corpus.min() if corpus.min() < 0 else corpus.max()
        raise ValueError(f"corpus_indices holds index {int(bad)}, outside the vocabulary of "
                         f"{vocab_size} tokens (0 to {vocab_size - 1}); use the vocab that made the corpus")
    return corpus.astype(np.float32)
