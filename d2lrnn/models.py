"""``RNNModel``: a Gluon recurrent layer (RNN, GRU or LSTM, any depth) plus a dense output layer."""
import functools
import math
import os
from dataclasses import dataclass

from mxnet import runtime
from mxnet.gluon import nn, rnn

from .env._environment import EnvironmentVariableError
from .facts import CELLS, check_positive, get_cell
from .fast import pack_weights

# Cell name -> fused Gluon layer.
LAYER_CLASSES = {name: getattr(rnn, cell.layer) for name, cell in CELLS.items()}
RECURRENT_LAYERS = tuple(LAYER_CLASSES.values())


def make_rnn_layer(cell, num_hiddens, num_layers, bidirectional=False, dropout=0.0, **options):
    """A fused Gluon layer: ``'lstm'``, ``'gru'`` or ``'rnn'`` (tanh, not Gluon's relu default)."""
    activation = get_cell(cell).activation  # ValueError for anything else
    if activation is not None:
        options["activation"] = activation
    return LAYER_CLASSES[cell](hidden_size=num_hiddens, num_layers=num_layers, bidirectional=bidirectional,
                               dropout=dropout, **options)


def cell_name(rnn_layer):
    """``'lstm'``, ``'gru'`` or ``'rnn'`` for a layer of exactly one of those classes; ``TypeError`` otherwise."""
    for name, cls in LAYER_CLASSES.items():
        if type(rnn_layer) is cls:
            return name
    raise TypeError(f"expected a gluon rnn.RNN, rnn.GRU or rnn.LSTM layer, got {type(rnn_layer).__name__}")


@dataclass(frozen=True)
class LayerConfig:
    """What a fused Gluon layer was built with (read once, here, from Gluon's private attributes)."""

    cell: str  # 'lstm', 'gru' or 'rnn'
    mode: str  # the fused operator's mode: 'lstm', 'gru', 'rnn_tanh' or 'rnn_relu'
    num_layers: int
    num_hiddens: int
    bidirectional: bool
    dropout: float
    num_gates: int  # weight blocks per layer
    projection_size: object  # None unless set
    lstm_state_clip: tuple  # (min, max, nan)
    dtype: str
    layout: str
    use_sequence_length: bool

    @property
    def num_directions(self):
        return 2 if self.bidirectional else 1

    @property
    def num_outputs(self):
        """Features per time step of the layer's output: num_hiddens per direction."""
        return self.num_hiddens * self.num_directions


def layer_config(rnn_layer):
    """The ``LayerConfig`` of an ``rnn.RNN``, ``rnn.GRU`` or ``rnn.LSTM`` layer; ``TypeError`` for anything else."""
    layer = rnn_layer
    return LayerConfig(
        cell=cell_name(layer), mode=layer._mode, num_layers=layer._num_layers,
        num_hiddens=layer._hidden_size, bidirectional=layer._dir == 2, dropout=float(layer._dropout),
        num_gates=layer._gates, projection_size=layer._projection_size,
        lstm_state_clip=(layer._lstm_state_clip_min, layer._lstm_state_clip_max, layer._lstm_state_clip_nan),
        dtype=layer._dtype, layout=layer._layout, use_sequence_length=layer._use_sequence_length)


# MXNet reads it at every call of a recurrent layer; 0 runs MXNet's own CPU kernel instead of oneDNN's.
ONEDNN_RNN_VARIABLE = "MXNET_USE_MKLDNN_RNN"
# Stacking one-layer layers keeps oneDNN's kernel, which computes the right gradients.
STACK_INSTEAD = "stack one-layer layers with nn.Dropout between them (notebooks/deep-rnn-cures.ipynb does)"


@functools.lru_cache(maxsize=None)
def _has_onednn():
    return runtime.Features().is_enabled("MKLDNN")


def own_kernel_chosen():
    """True when ``MXNET_USE_MKLDNN_RNN=0`` makes MXNet run recurrent layers on a CPU with its own kernel."""
    return os.environ.get(ONEDNN_RNN_VARIABLE, "").strip() == "0"


def ignored_dropout(config, ctx):
    """Why the layer's dropout between layers does nothing when trained on ``ctx``; None where it works.

    On a CPU, MXNet 1.9.1 runs RNN, GRU and LSTM layers with oneDNN, whose kernel ignores
    ``dropout`` (the outputs while training are the same with and without it). On a GPU
    cuDNN applies it. MXNet's own CPU kernel applies it too, but trains a layer of two or
    more layers with wrong gradients (``wrong_gradients``), so the advice is to stack.
    """
    if not (config.dropout > 0 and config.num_layers > 1 and ctx.device_type == "cpu" and _has_onednn()):
        return None
    if own_kernel_chosen():
        return None
    return (f"the recurrent layer's dropout={config.dropout:g} has no effect in this training: on a CPU, "
            f"MXNet 1.9.1's oneDNN kernel for recurrent layers ignores it. To apply it, {STACK_INSTEAD}")


def wrong_gradients(config, ctx):
    """Why training a layer of ``config`` on ``ctx`` gets wrong gradients; None where it gets the right ones.

    MXNet 1.9.1's own CPU kernel, used when ``MXNET_USE_MKLDNN_RNN=0`` or when MXNet was built
    without oneDNN, reads the gradient of the layer's new state even where nothing wrote it,
    as in the chapter's loop, whose loss does not use the new state: with two or more layers
    some minibatches' gradients are then wrong or NaN (apache/mxnet#17898; measured in
    tests/test_models.py). One-layer layers, oneDNN and cuDNN compute them right.
    """
    if not (config.num_layers > 1 and ctx.device_type == "cpu"):
        return None
    if own_kernel_chosen():
        why = f"{ONEDNN_RNN_VARIABLE}=0 selects MXNet 1.9.1's own CPU kernel for recurrent layers"
    elif not _has_onednn():
        why = "this MXNet build has no oneDNN, so it runs recurrent layers with MXNet 1.9.1's own CPU kernel"
    else:
        return None
    return (f"{why}, which trains a layer of {config.num_layers} layers with wrong gradients, at times "
            "NaN (apache/mxnet#17898)")


def check_kernel(config, ctx):
    """Before training a layer of ``config`` on ``ctx``: what to warn about, or None.

    Raises ``EnvironmentVariableError`` where ``MXNET_USE_MKLDNN_RNN=0`` would train it with
    wrong gradients (``wrong_gradients``); on a build without oneDNN, where nothing else can,
    that is the warning; otherwise the layer's dropout that oneDNN ignores (``ignored_dropout``).
    """
    problem = wrong_gradients(config, ctx)
    if problem is None:
        return ignored_dropout(config, ctx)
    if own_kernel_chosen():
        raise EnvironmentVariableError(f"{problem}: unset {ONEDNN_RNN_VARIABLE} to train with oneDNN's kernel "
                                       f"(for dropout between layers, {STACK_INSTEAD})")
    return (f"{problem}: this training may stall or diverge; train one-layer layers, or on a machine "
            "whose MXNet has oneDNN (the Linux x86-64 wheels have it)")


class RNNModel(nn.HybridBlock):
    """Character language model: one-hot tokens -> recurrent layer -> dense logits.

    ``model(X, state)`` takes token indices X of shape (batch_size, num_steps) and returns
    logits of shape (num_steps * batch_size, vocab_size), time-major (all of step 0's batch,
    then step 1's, ...), and the new state. ``model.hybridize()`` compiles it into one graph,
    with the same numbers. ``fast=True`` (the default) makes the layer hand its weights to
    MXNet's fused operator packed (``fast.pack_weights``): the same numbers, faster.
    """

    def __init__(self, rnn_layer, vocab_size, fast=True, **kwargs):
        super().__init__(**kwargs)
        self.config = check_rnn_layer(rnn_layer, vocab_size)  # and fix its input size to vocab_size
        self.rnn = pack_weights(rnn_layer, self.config, enabled=fast)
        self.vocab_size = vocab_size
        self.dense = nn.Dense(vocab_size, flatten=False, in_units=self.config.num_outputs)

    def forward(self, inputs, state):
        check_state(self.config, state, inputs.shape[0])  # a clear error instead of MXNet's
        return super().forward(inputs, state)

    def hybrid_forward(self, F, inputs, state):
        X = F.one_hot(F.transpose(inputs), self.vocab_size)  # (num_steps, batch_size, vocab_size)
        Y, state = self.rnn(X, state)  # (num_steps, batch_size, num_hiddens)
        output = self.dense(Y)  # (num_steps, batch_size, vocab_size)
        return F.reshape(output, (-1, self.vocab_size)), state  # (num_steps * batch_size, vocab_size)

    def begin_state(self, *args, **kwargs):
        """Zero state from the recurrent layer: a list of (num_layers, batch_size, num_hiddens) arrays."""
        return self.rnn.begin_state(*args, **kwargs)


def check_rnn_layer(rnn_layer, vocab_size):
    """The ``LayerConfig`` of a layer ``RNNModel`` can feed one-hot vectors of ``vocab_size``; fixes its input size.

    Raises ``TypeError``/``ValueError`` for anything else.
    """
    if not isinstance(rnn_layer, RECURRENT_LAYERS):
        raise TypeError(
            "rnn_layer must be a gluon rnn.RNN, rnn.GRU or rnn.LSTM layer, got "
            f"{type(rnn_layer).__name__}")
    check_positive("vocab_size", vocab_size)
    config = layer_config(rnn_layer)
    if config.layout != "TNC":
        raise ValueError(f"rnn_layer must use layout 'TNC' (time, batch, features), got {config.layout!r}")
    if config.projection_size is not None or config.use_sequence_length:
        raise ValueError("rnn_layer must not use projection_size or use_sequence_length: "
                         "RNNModel feeds it whole one-hot sequences with a plain state")
    _set_input_size(rnn_layer, config, vocab_size)  # every shape is known now: initialize() creates all weights
    return config


def _set_input_size(rnn_layer, config, vocab_size):
    """Fix the first layer's input size to ``vocab_size`` (the one-hot width) now, not at the first call."""
    for direction in "lr"[:config.num_directions]:
        weight = getattr(rnn_layer, f"{direction}0_i2h_weight")
        if weight.shape[1] == 0:
            weight.shape = (weight.shape[0], vocab_size)
        elif weight.shape[1] != vocab_size:
            raise ValueError(
                f"rnn_layer was built with input_size={weight.shape[1]}, but its inputs are one-hot "
                f"vectors of length vocab_size={vocab_size}; leave input_size out (or set it to {vocab_size})")


def check_state(config, state, batch_size):
    """Raise ``ValueError`` unless ``state`` has the structure and shapes a layer of ``config`` expects."""
    c = config
    want_shape = (c.num_layers * c.num_directions, batch_size, c.num_hiddens)
    check_state_arrays(state, CELLS[c.cell].layer, CELLS[c.cell].num_state_arrays, want_shape)


def check_state_arrays(state, kind, want_len, want_shape):
    """Raise ``ValueError`` unless ``state`` is a list of ``want_len`` arrays of shape ``want_shape``.

    ``kind`` names the layer in the message ('LSTM', 'GRU', 'RNN').
    """
    batch_size = want_shape[1]
    if not isinstance(state, (list, tuple)) or len(state) != want_len:
        got = f"a list of {len(state)} arrays" if isinstance(state, (list, tuple)) else type(state).__name__
        raise ValueError(
            f"state for {'an' if kind in ('LSTM', 'RNN') else 'a'} {kind} layer must be a list of {want_len} array(s), got {got}; "
            "create it with model.begin_state(batch_size=..., ctx=...)")
    for i, s in enumerate(state):
        if tuple(s.shape) != want_shape:
            raise ValueError(
                f"state[{i}] has shape {tuple(s.shape)}, but this {kind} layer with batch_size "
                f"{batch_size} expects (num_layers, batch_size, num_hiddens) = {want_shape}; "
                "create it with model.begin_state(batch_size=..., ctx=...)")


def num_parameters(model):
    """Number of scalar parameters of ``model`` (an ``RNNModel`` or ``RNNModelScratch``: every shape is known when built)."""
    return sum(math.prod(p.shape) for p in model.collect_params().values())
