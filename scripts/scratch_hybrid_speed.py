"""Does hybridizing the from-scratch deep LSTM narrow its gap to the fused layer? A measurement.

Three models of the chapter's configuration (2-layer LSTM, 256 hidden units, the
44-character vocabulary, batch 32 x 35, lr 5, clipping 1, consecutive sampling), trained
by the same loop (``d2lrnn.train``) with the same starting weights:

* ``scratch``: ``d2lrnn.RNNModelScratch``, a ``Block`` that runs the package's ``lstm_cell``
  and ``deep_rnn`` with ``nd`` operations, one MXNet call at a time;
* ``hybrid``: a ``HybridBlock`` that runs *the same two functions*, with their ``nd`` bound
  to the ``F`` of ``hybrid_forward``, so that hybridizing turns the 35 unrolled steps of both
  layers into one cached graph (``static_alloc``, ``static_shape``);
* ``fused``: ``d2lrnn.RNNModel`` with ``rnn.LSTM``, one fused operator.

It first checks that ``hybrid`` computes what ``scratch`` computes (logits and state, and
the gradients of one minibatch), then trains each model for ``--epochs`` epochs per round,
``--rounds`` rounds in turn, and reports the median tokens/s of the epochs after the first
of each run. Run it with the thread count you want to compare (e.g. ``OMP_NUM_THREADS=1``).

    OMP_NUM_THREADS=1 .venv/bin/python scripts/scratch_hybrid_speed.py --epochs 3 --rounds 2
"""
import argparse
import os
import statistics
import types

import d2lrnn as d2l
import mxnet as mx
from d2lrnn import scratch
from mxnet import autograd, gluon, nd


def _rebound(function, F):
    """``function`` with the name ``nd`` in its globals bound to ``F`` (mx.nd or mx.sym)."""
    return types.FunctionType(function.__code__, {**function.__globals__, "nd": F}, function.__name__)


def _parts(F, x, num, axis):
    """``x`` cut along ``axis`` into ``num`` pieces without that axis, as a list (also for num == 1)."""
    parts = F.split(x, num_outputs=num, axis=axis, squeeze_axis=True)
    return [parts] if num == 1 else list(parts)


class HybridLSTMScratch(gluon.HybridBlock):
    """The package's ``lstm_cell`` and ``deep_rnn`` in a ``HybridBlock``: same weights, same numbers."""

    def __init__(self, source, num_steps):
        super().__init__()
        self.vocab_size, self.num_hiddens, self.num_layers = source.vocab_size, source.num_hiddens, source.num_layers
        self.num_steps = num_steps
        self.names = [f"l{l}_{n}" for l in range(self.num_layers) for n in scratch.LAYER_PARAMS] + \
                     ["dense_weight", "dense_bias"]
        for name in self.names:  # the source's own parameters: hybrid_forward receives them by these names
            setattr(self, name, getattr(source, name))
        self.params.update(source.collect_params())  # so that collect_params(), and the trainer, see them

    def hybrid_forward(self, F, inputs, H0, C0, **params):
        X = F.one_hot(F.transpose(inputs), self.vocab_size)  # (num_steps, batch_size, vocab_size)
        steps = _parts(F, X, self.num_steps, 0)  # num_steps x (batch_size, vocab_size)
        state = [_parts(F, H0, self.num_layers, 0), _parts(F, C0, self.num_layers, 0)]
        # A Symbol's + does not broadcast as an NDArray's does: give the cells (batch_size, rows) biases.
        column = F.ones_like(F.slice_axis(state[0][0], axis=1, begin=0, end=1))  # (batch_size, 1)
        layers = [tuple(params[f"l{l}_{n}"] if "weight" in n else
                        F.broadcast_mul(F.expand_dims(params[f"l{l}_{n}"], axis=0), column)
                        for n in scratch.LAYER_PARAMS) for l in range(self.num_layers)]
        deep_rnn, cell = _rebound(scratch.deep_rnn, F), _rebound(scratch.lstm_cell, F)
        Y, (H, C) = deep_rnn(steps, state, layers, cell)  # Y (num_steps, batch_size, num_hiddens)
        output = F.FullyConnected(F.reshape(Y, (-1, self.num_hiddens)), params["dense_weight"],
                                  params["dense_bias"], num_hidden=self.vocab_size)
        return output, H, C

    def forward(self, inputs, state):  # the calling convention of RNNModel: (X, [H, C]) -> (output, [H, C])
        if inputs.shape[1] != self.num_steps:  # the graph unrolls num_steps steps: build one for this length
            self.num_steps = inputs.shape[1]
            self._clear_cached_op()
        output, H, C = super().forward(inputs, *state)
        return output, [H, C]

    def begin_state(self, batch_size, ctx=None):
        return [nd.zeros((self.num_layers, batch_size, self.num_hiddens), ctx=ctx) for _ in range(2)]


def build(kind, vocab, num_steps, ctx, seed=0):
    mx.random.seed(seed)
    source = d2l.RNNModelScratch(len(vocab), 256, 2, "lstm", ctx)  # N(0, 0.01^2) weights, zero biases
    if kind == "scratch":
        return source
    if kind == "hybrid":
        return HybridLSTMScratch(source, num_steps)
    fused = d2l.RNNModel(gluon.rnn.LSTM(256, num_layers=2), len(vocab))
    fused.initialize(ctx=ctx)
    fused(nd.zeros((1, 1), ctx=ctx), fused.begin_state(batch_size=1, ctx=ctx))  # creates the weights
    for l in range(2):
        for n in scratch.LAYER_PARAMS:
            getattr(fused.rnn, f"l{l}_{n}").set_data(getattr(source, f"l{l}_{n}").data())
    fused.dense.weight.set_data(source.dense_weight.data())
    fused.dense.bias.set_data(source.dense_bias.data())
    return fused


def same_numbers(vocab, corpus_indices, ctx, num_steps=35, batch_size=32):
    """Largest differences between ``scratch`` and hybridized ``hybrid`` on one minibatch: outputs, state, gradients."""
    X = nd.array([corpus_indices[i * num_steps:(i + 1) * num_steps] for i in range(batch_size)], ctx=ctx)
    Y = nd.array([corpus_indices[i * num_steps + 1:(i + 1) * num_steps + 1] for i in range(batch_size)], ctx=ctx)
    results = []
    for kind in ("scratch", "hybrid"):
        model = build(kind, vocab, num_steps, ctx)
        if kind == "hybrid":
            model.hybridize(static_alloc=True, static_shape=True)
        mx.random.seed(1)
        state = [nd.random.normal(scale=0.5, shape=(2, batch_size, 256), ctx=ctx) for _ in range(2)]
        with autograd.record():
            output, new_state = model(X, state)
            loss = gluon.loss.SoftmaxCrossEntropyLoss()(output, Y.T.reshape((-1,))).mean()
        loss.backward()
        grads = [p.grad().copy() for _, p in sorted(model.collect_params().items())]
        results.append(([output, *new_state], grads))
    (out_a, g_a), (out_b, g_b) = results
    return (max(nd.abs(a - b).max().asscalar() for a, b in zip(out_a, out_b)),
            max(nd.abs(a - b).max().asscalar() for a, b in zip(g_a, g_b)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--kinds", nargs="+", default=["scratch", "hybrid", "fused"])
    args = parser.parse_args()
    corpus_indices, vocab = d2l.load_data_time_machine()
    ctx = mx.cpu()
    print(f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, load average {os.getloadavg()}")
    out_diff, grad_diff = same_numbers(vocab, corpus_indices, ctx)
    print(f"hybrid vs scratch, one minibatch: outputs and state differ by at most {out_diff:.1e}, "
          f"gradients by at most {grad_diff:.1e}")
    speeds = {kind: [] for kind in args.kinds}
    for r in range(args.rounds):
        for kind in args.kinds:
            model = build(kind, vocab, 35, ctx)
            history = d2l.train(model, corpus_indices, vocab, ctx, args.epochs, 35, 5, 1, 32, [], seed=0,
                                verbose=False, progress=False, live_plot=False)
            kept = [n / s for n, s in zip(history.num_tokens[1:], history.seconds[1:])]
            speeds[kind] += kept
            print(f"round {r + 1}, {kind:7}: " + ", ".join(f"{v:,.0f}" for v in kept) +
                  f" tokens/s; perplexity after {args.epochs} epochs {history.perplexity[-1]:.4f}", flush=True)
    medians = {kind: statistics.median(v) for kind, v in speeds.items()}
    for kind, v in medians.items():
        print(f"{kind:7}: median {v:,.0f} tokens/s")
    if "fused" in medians:
        for kind in ("scratch", "hybrid"):
            if kind in medians:
                print(f"fused / {kind}: {medians['fused'] / medians[kind]:.1f}x")
    print(f"load average at the end {os.getloadavg()}")


if __name__ == "__main__":
    main()
