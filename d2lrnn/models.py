"""``RNNModel``: a Gluon recurrent layer (RNN, GRU or LSTM, any depth) plus a dense output layer."""
import math

from mxnet.gluon import nn, rnn

RECURRENT_LAYERS = (rnn.RNN, rnn.GRU, rnn.LSTM)


def num_state_arrays(rnn_layer):
    """2 for an LSTM (hidden and memory cell), 1 for RNN and GRU."""
    return 2 if isinstance(rnn_layer, rnn.LSTM) else 1


def make_rnn_layer(cell, num_hiddens, num_layers):
    """A fused Gluon layer: ``'lstm'``, ``'gru'`` or ``'rnn'`` (tanh, not Gluon's relu default)."""
    if cell == "lstm":
        return rnn.LSTM(hidden_size=num_hiddens, num_layers=num_layers)
    if cell == "gru":
        return rnn.GRU(hidden_size=num_hiddens, num_layers=num_layers)
    if cell == "rnn":
        return rnn.RNN(hidden_size=num_hiddens, num_layers=num_layers, activation="tanh")
    raise ValueError(f"cell must be 'lstm', 'gru' or 'rnn', got {cell!r}")


class RNNModel(nn.HybridBlock):
    """Character language model: one-hot tokens -> recurrent layer -> dense logits.

    ``model(X, state)`` takes token indices X of shape (batch_size, num_steps) and
    returns logits of shape (num_steps * batch_size, vocab_size), time-major (all of
    step 0's batch, then step 1's, ...), and the new state. It is a ``HybridBlock``:
    ``model.hybridize()`` compiles it into one graph, with the same numbers.
    """

    def __init__(self, rnn_layer, vocab_size, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(rnn_layer, RECURRENT_LAYERS):
            raise TypeError(
                "rnn_layer must be a gluon rnn.RNN, rnn.GRU or rnn.LSTM layer, got "
                f"{type(rnn_layer).__name__}")
        if not isinstance(vocab_size, int) or vocab_size < 1:
            raise ValueError(f"vocab_size must be a positive integer, got {vocab_size!r}")
        if rnn_layer._layout != "TNC":
            raise ValueError(f"rnn_layer must use layout 'TNC' (time, batch, features), got {rnn_layer._layout!r}")
        self.rnn = rnn_layer
        self.vocab_size = vocab_size
        self.dense = nn.Dense(vocab_size, flatten=False)

    def forward(self, inputs, state):
        check_state(self.rnn, state, inputs.shape[0])
        return super().forward(inputs, state)

    def hybrid_forward(self, F, inputs, state):
        X = F.one_hot(F.transpose(inputs), self.vocab_size)  # (num_steps, batch_size, vocab_size)
        Y, state = self.rnn(X, state)  # Y: (num_steps, batch_size, num_hiddens)
        output = self.dense(Y)  # (num_steps, batch_size, vocab_size)
        return F.reshape(output, (-1, self.vocab_size)), state  # (num_steps * batch_size, vocab_size)

    def begin_state(self, *args, **kwargs):
        """Zero state from the recurrent layer: a list of (num_layers, batch_size, num_hiddens) arrays."""
        return self.rnn.begin_state(*args, **kwargs)


def check_state(rnn_layer, state, batch_size):
    """Raise ``ValueError`` unless ``state`` has the structure and shapes ``rnn_layer`` expects."""
    want_shape = (rnn_layer._num_layers * rnn_layer._dir, batch_size, rnn_layer._hidden_size)
    check_state_arrays(state, type(rnn_layer).__name__, num_state_arrays(rnn_layer), want_shape)


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
    """Number of scalar parameters of an initialised ``model`` (run it once first if shapes are deferred)."""
    params = list(model.collect_params().values())
    unknown = [p.name for p in params if p.shape is None or 0 in p.shape]
    if unknown:
        raise ValueError(f"the shapes of {unknown} are not known yet; initialise the model "
                         "and run it on one minibatch first")
    return sum(math.prod(p.shape) for p in params)
