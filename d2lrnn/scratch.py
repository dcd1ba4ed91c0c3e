"""Deep RNN, GRU and LSTM from scratch: one-step cells, the stacking loop, the model, ``from_gluon``.

Weights are stored the way MXNet's fused layers store them, so that ``from_gluon``
copies them one to one: layer ``l`` has ``l{l}_i2h_weight`` (num_gates * num_hiddens,
num_inputs), ``l{l}_h2h_weight`` (num_gates * num_hiddens, num_hiddens) and the two
biases ``l{l}_i2h_bias`` and ``l{l}_h2h_bias`` (num_gates * num_hiddens,), with the
gate blocks stacked in MXNet's order (LSTM: i, f, g, o; GRU: r, z, n).
"""

from mxnet import init, nd
from mxnet.gluon import nn

from .facts import CELLS, check_positive
from .models import RNNModel, check_state_arrays, layer_config

LAYER_PARAMS = ("i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias")


def rnn_cell(X, state, params):
    """One tanh RNN step: X (batch_size, num_inputs), state (H,) -> new state (H,); H (batch_size, num_hiddens)."""
    W_xh, W_hh, b_xh, b_hh = params  # (num_hiddens, num_inputs), (num_hiddens, num_hiddens), 2 x (num_hiddens,)
    H, = state
    H = nd.tanh(nd.dot(X, W_xh, transpose_b=True) + b_xh + nd.dot(H, W_hh, transpose_b=True) + b_hh)
    return (H,)


def gru_cell(X, state, params):
    """One GRU step: X (batch_size, num_inputs), state (H,) -> new state (H,); H (batch_size, num_hiddens)."""
    W_x, W_h, b_x, b_h = params  # rows: blocks r, z, n of num_hiddens rows each
    H, = state
    X_r, X_z, X_n = nd.split(nd.dot(X, W_x, transpose_b=True) + b_x, num_outputs=3, axis=1)
    H_r, H_z, H_n = nd.split(nd.dot(H, W_h, transpose_b=True) + b_h, num_outputs=3, axis=1)
    R = nd.sigmoid(X_r + H_r)  # reset gate, (batch_size, num_hiddens)
    Z = nd.sigmoid(X_z + H_z)  # update gate
    H_tilda = nd.tanh(X_n + R * H_n)  # candidate: the reset gate scales W_hn H + b_hn
    H = Z * H + (1 - Z) * H_tilda
    return (H,)


def lstm_cell(X, state, params):
    """One LSTM step: X (batch_size, num_inputs), state (H, C) -> new state (H, C); each (batch_size, num_hiddens)."""
    W_x, W_h, b_x, b_h = params  # rows: blocks i, f, g, o of num_hiddens rows each
    H, C = state
    gates = nd.dot(X, W_x, transpose_b=True) + b_x + nd.dot(H, W_h, transpose_b=True) + b_h  # (batch_size, 4 * num_hiddens)
    I, F, G, O = nd.split(gates, num_outputs=4, axis=1)
    I, F, O = nd.sigmoid(I), nd.sigmoid(F), nd.sigmoid(O)  # input, forget and output gates
    C_tilda = nd.tanh(G)  # candidate memory
    C = F * C + I * C_tilda
    H = O * nd.tanh(C)
    return (H, C)


def deep_rnn(inputs, state, params, cell):
    """Run ``len(params)`` stacked layers of ``cell`` over time; return the top layer's outputs and the new state.

    inputs (num_steps, batch_size, num_inputs); state and new state: a list of
    (num_layers, batch_size, num_hiddens) arrays ([H] or [H, C]); params: one tuple per
    layer; outputs (num_steps, batch_size, num_hiddens).
    """
    layer_inputs = list(inputs)  # num_steps arrays of (batch_size, num_inputs)
    final_states = []
    for l, layer_params in enumerate(params):
        layer_state = tuple(s[l] for s in state)  # this layer's own state: (H,) or (H, C)
        outputs = []
        for X in layer_inputs:
            layer_state = cell(X, layer_state, layer_params)
            outputs.append(layer_state[0])  # H: (batch_size, num_hiddens)
        final_states.append(layer_state)
        layer_inputs = outputs  # this layer's outputs are the next layer's inputs
    new_state = [nd.stack(*[s[i] for s in final_states]) for i in range(len(state))]
    return nd.stack(*layer_inputs), new_state


STEPS = {"rnn": rnn_cell, "gru": gru_cell, "lstm": lstm_cell}  # cell name -> its one-step function


class RNNModelScratch(nn.Block):
    """Character language model built from ``nd`` operations: one-hot -> ``deep_rnn`` -> dense logits.

    Same calling convention as ``RNNModel``: ``model(X, state)`` with X (batch_size,
    num_steps) returns logits (num_steps * batch_size, vocab_size) and the new state.
    """

    def __init__(self, vocab_size, num_hiddens, num_layers, cell, ctx=None, **kwargs):
        if cell not in STEPS:
            raise ValueError(f"cell must be one of {', '.join(repr(c) for c in STEPS)}, got {cell!r}")
        check_positive("vocab_size", vocab_size)
        check_positive("num_hiddens", num_hiddens)
        check_positive("num_layers", num_layers)
        super().__init__(**kwargs)
        self.vocab_size, self.num_hiddens, self.num_layers, self.cell = vocab_size, num_hiddens, num_layers, cell
        rows = CELLS[cell].num_gates * num_hiddens
        weight_init, bias_init = init.Normal(0.01), init.Zero()
        for l in range(num_layers):
            num_inputs = vocab_size if l == 0 else num_hiddens
            shapes = [(rows, num_inputs), (rows, num_hiddens), (rows,), (rows,)]
            for name, shape in zip(LAYER_PARAMS, shapes):
                # self.params.get registers the parameter, so collect_params() and the trainer see it.
                setattr(self, f"l{l}_{name}", self.params.get(
                    f"l{l}_{name}", shape=shape, init=bias_init if name.endswith("bias") else weight_init))
        self.dense_weight = self.params.get("dense_weight", shape=(vocab_size, num_hiddens), init=weight_init)
        self.dense_bias = self.params.get("dense_bias", shape=(vocab_size,), init=bias_init)
        self.initialize(ctx=ctx)

    def layer_params(self, ctx=None):
        """The recurrent weights as one ``(W_x, W_h, b_x, b_h)`` tuple of arrays per layer, bottom first."""
        return [tuple(getattr(self, f"l{l}_{name}").data(ctx) for name in LAYER_PARAMS)
                for l in range(self.num_layers)]

    def forward(self, inputs, state):
        check_state_arrays(state, CELLS[self.cell].layer, CELLS[self.cell].num_state_arrays,
                           (self.num_layers, inputs.shape[0], self.num_hiddens))
        ctx = inputs.context
        X = nd.one_hot(inputs.T, self.vocab_size)  # (num_steps, batch_size, vocab_size)
        Y, state = deep_rnn(X, state, self.layer_params(ctx), STEPS[self.cell])  # Y: (num_steps, batch_size, num_hiddens)
        output = nd.dot(Y.reshape((-1, self.num_hiddens)), self.dense_weight.data(ctx), transpose_b=True) \
            + self.dense_bias.data(ctx)  # (num_steps * batch_size, vocab_size)
        return output, state

    def begin_state(self, batch_size, ctx=None):
        """Zero state like Gluon's: a list of 1 (RNN, GRU) or 2 (LSTM: H, C) arrays of (num_layers, batch_size, num_hiddens)."""
        check_positive("batch_size", batch_size)
        return [nd.zeros((self.num_layers, batch_size, self.num_hiddens), ctx=ctx)
                for _ in range(CELLS[self.cell].num_state_arrays)]


def _gluon_config(layer):
    """The layer's ``LayerConfig`` when the from-scratch cells compute it exactly; ``ValueError`` otherwise."""
    try:
        c = layer_config(layer)
    except TypeError:
        raise ValueError(f"the model's layer must be rnn.RNN, rnn.GRU or rnn.LSTM, got {type(layer).__name__}") from None
    unsupported = [
        (c.mode == "rnn_relu", "activation='relu' (the from-scratch RNN cell uses tanh: "
                               "build the layer with rnn.RNN(..., activation='tanh'))"),
        (c.bidirectional, "bidirectional=True"),
        (c.projection_size is not None, "projection_size"),
        (c.dropout != 0, f"dropout={c.dropout:g}"),
        (bool(c.lstm_state_clip[0] or c.lstm_state_clip[1]), "lstm_state_clip_min/max"),
    ]
    for present, what in unsupported:
        if present:
            raise ValueError(f"from_gluon cannot copy a layer with {what}")
    return c


def from_gluon(model):
    """An ``RNNModelScratch`` with the weights of ``model``, a ``d2lrnn.RNNModel`` (tanh RNN, GRU or LSTM, any depth)."""
    if not isinstance(model, RNNModel):
        raise TypeError(f"model must be a d2lrnn.RNNModel, got {type(model).__name__}")
    c = _gluon_config(model.rnn)
    names = [f"l{l}_{name}" for l in range(c.num_layers) for name in LAYER_PARAMS]
    sources = [getattr(model.rnn, name) for name in names] + [model.dense.weight, model.dense.bias]
    try:
        values = [p.data() for p in sources]
    except RuntimeError as err:
        raise ValueError("the Gluon model's parameters are not initialised yet: call "
                         "model.initialize() before from_gluon") from err
    scratch = RNNModelScratch(model.vocab_size, c.num_hiddens, c.num_layers, c.cell, ctx=values[0].context)
    for name, value in zip(names + ["dense_weight", "dense_bias"], values):
        getattr(scratch, name).set_data(value)
    return scratch
