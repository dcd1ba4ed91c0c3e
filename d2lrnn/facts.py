"""The chapter's facts, with no MXNet: cells, settings, sampling arithmetic, divergence, argument rules.

The one place that the Gluon models, the from-scratch cells, training, the command line,
checkpoints, the exercise checks and the benchmark (whose parent process must not load
MXNet) read these from. NumPy is the only import.
"""
import math
import numbers
import random
from dataclasses import dataclass

import numpy as np


# --- The three recurrent cells ---------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    """One kind of recurrent cell: every fact about it that the package and its messages use."""

    name: str  # 'lstm', 'gru' or 'rnn': what functions and the command line accept
    layer: str  # the layer's class name, the same in mxnet.gluon.rnn and torch.nn
    title: str  # how messages name it
    gates: tuple  # the gate blocks stacked in each weight, in MXNet's order
    state: tuple  # the names of its state arrays: hidden state H, and an LSTM's memory cell C
    activation: str = None  # what the layer must be built with where Gluon's and PyTorch's default differ

    @property
    def num_gates(self):
        """Weight blocks per layer: 4 (LSTM), 3 (GRU), 1 (tanh RNN)."""
        return len(self.gates)

    @property
    def num_state_arrays(self):
        """2 for an LSTM (H and C), else 1 (H)."""
        return len(self.state)

    @property
    def state_tuple(self):
        """The state as code writes it: '(H,)' or '(H, C)'."""
        return f"({', '.join(self.state)}{',' if len(self.state) == 1 else ''})"


# 'rnn' is always the tanh RNN: Gluon's rnn.RNN defaults to relu (PyTorch's nn.RNN to tanh).
CELLS = {cell.name: cell for cell in (
    Cell("lstm", "LSTM", "LSTM", ("i", "f", "g", "o"), ("H", "C")),
    Cell("gru", "GRU", "GRU", ("r", "z", "n"), ("H",)),
    Cell("rnn", "RNN", "RNN (tanh)", ("h",), ("H",), activation="tanh"),
)}


def get_cell(name):
    """The ``Cell`` called ``name``; ``ValueError`` naming the three choices otherwise."""
    if not isinstance(name, str) or name not in CELLS:
        raise ValueError(f"cell must be 'lstm', 'gru' or 'rnn', got {name!r}")
    return CELLS[name]


# --- The chapter's settings: the command line's defaults and the benchmark's configuration ---

# 2-layer LSTM with 256 hidden units.
MODEL = {"cell": "lstm", "num_layers": 2, "num_hiddens": 256}
# The first 10,000 characters of The Time Machine, batch 32 x 35 steps, SGD with lr 5 and
# the global gradient norm clipped to 1, minibatches drawn by consecutive sampling.
TRAINING = {"num_steps": 35, "batch_size": 32, "lr": 5.0, "clipping_theta": 1.0,
            "num_examples": 10000, "sampling": "consecutive"}
NUM_EPOCHS = 500
PREFIXES = ("traveller", "time traveller")


# --- The two ways of cutting an epoch into minibatches (data.data_iter_consecutive and
# data.data_iter_random) ----------------------------------------------------------------------

@dataclass(frozen=True)
class Sampling:
    """One way of drawing minibatches."""

    name: str  # 'consecutive' or 'random'
    carries_state: bool  # row i of a minibatch continues row i of the one before: the state is carried

    def min_corpus_length(self, batch_size, num_steps):
        """Fewest tokens that give one minibatch whatever the random offset (below ``num_steps``) is."""
        if self.carries_state:  # batch_size rows of num_steps inputs and one shifted target each
            return batch_size * (num_steps + 1) + num_steps - 1
        return batch_size * num_steps + num_steps  # batch_size windows, plus the target shift


SAMPLINGS = {s.name: s for s in (Sampling("consecutive", carries_state=True),
                                 Sampling("random", carries_state=False))}


def get_sampling(name):
    """The ``Sampling`` called ``name``; ``ValueError`` naming the choices otherwise."""
    if not isinstance(name, str) or name not in SAMPLINGS:
        raise ValueError(f"sampling must be one of {list(SAMPLINGS)}, got {name!r}")
    return SAMPLINGS[name]


# --- Where an epoch's minibatches come from (data.data_iter_consecutive, the trainer, the
# benchmark's PyTorch peer: all train on exactly the same minibatches) ----------------------

def epoch_rng(seed, epoch):
    """The sampler's random source for one epoch: repeatable from (seed, epoch), so a
    resumed run draws the same minibatches as an uninterrupted one; unseeded when ``seed`` is None."""
    return random.Random(f"{seed}/{epoch}") if seed is not None else random.Random()


def consecutive_layout(corpus_len, batch_size, num_steps, rng):
    """``(offset, row_len, num_batches)`` of one epoch of consecutive sampling.

    The corpus from a random ``offset`` (below ``num_steps``, drawn from ``rng``) is cut
    into ``batch_size`` rows of ``row_len`` tokens; minibatch k is columns
    [k*num_steps, (k+1)*num_steps) of those rows, its targets the columns one further.
    """
    offset = rng.randrange(num_steps)
    row_len = (corpus_len - offset) // batch_size
    return offset, row_len, (row_len - 1) // num_steps


# --- Perplexity from a mean loss, and when a run counts as diverged -------------------------

def perplexity_from_loss(mean_loss):
    """exp(mean cross-entropy): ``inf`` instead of an OverflowError, NaN kept."""
    try:
        return math.exp(mean_loss)
    except OverflowError:
        return math.inf


def is_diverged(ppl, vocab_size):
    """True for a perplexity that is infinite, NaN or above vocab_size**2 (a loss twice uniform guessing's)."""
    return not ppl <= vocab_size ** 2


# --- Argument rules: one set for the API (check_*), the command line (argparse types, in
# cli.py) and the training settings a checkpoint stores --------------------------------

def is_integer(value):
    """True for Python and NumPy integers, False for ``bool`` (which Python counts as one)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value):
    """True for Python and NumPy integers and floats, False for ``bool``."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


@dataclass(frozen=True)
class Rule:
    """What a value must be: ``ok(value)``, described as ``requirement``; ``parse`` reads it from text."""

    requirement: str
    ok: object  # value -> bool
    parse: object = None  # text -> value (int or float); None for rules the command line has no flag for


POSITIVE_INT = Rule("a positive integer", lambda v: is_integer(v) and v > 0, int)
NON_NEGATIVE_INT = Rule("an integer >= 0", lambda v: is_integer(v) and v >= 0, int)
POSITIVE_NUMBER = Rule("a positive finite number",
                       lambda v: is_number(v) and 0 < v < math.inf, float)
NON_NEGATIVE_NUMBER = Rule("a finite number >= 0", lambda v: is_number(v) and 0 <= v < math.inf, float)
FRACTION = Rule("a number strictly between 0 and 1, e.g. 0.1", lambda v: is_number(v) and 0 < v < 1, float)
SEED = Rule("None or an integer >= 0", lambda v: v is None or NON_NEGATIVE_INT.ok(v))

# The training settings the command line takes and a checkpoint stores, with their rules.
SETTING_RULES = {
    "num_steps": POSITIVE_INT, "batch_size": POSITIVE_INT, "num_examples": POSITIVE_INT,
    "lr": POSITIVE_NUMBER, "clipping_theta": POSITIVE_NUMBER, "seed": SEED,
    "sampling": Rule(f"one of {list(SAMPLINGS)}", lambda v: v in SAMPLINGS),
    "books": Rule("None or a non-empty list of ebook numbers",
                  lambda v: v is None or isinstance(v, list) and bool(v) and all(map(POSITIVE_INT.ok, v))),
    "valid_fraction": Rule("None or " + FRACTION.requirement, lambda v: v is None or FRACTION.ok(v)),
}


def check(name, value, rule):
    """Raise ``ValueError`` naming ``name`` unless ``rule.ok(value)``."""
    if not rule.ok(value):
        raise ValueError(f"{name} must be {rule.requirement}, got {value!r}")


def check_positive(name, value, integer=True):
    """Raise ``ValueError`` naming ``name`` unless ``value`` is a positive integer (or finite number)."""
    check(name, value, POSITIVE_INT if integer else POSITIVE_NUMBER)


def check_seed(seed):
    """Raise ``ValueError`` unless ``seed`` is None or an integer >= 0 (what MXNet and NumPy accept)."""
    check("seed", seed, SEED)


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
