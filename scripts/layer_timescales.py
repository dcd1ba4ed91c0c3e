"""Do the chapter's two LSTM layers keep different time scales? Train it, stop early, and measure, per layer.

The chapter motivates stacking by saying that lower layers can follow short-range patterns and
higher ones slower information. This script trains the chapter's model (2 x 256 LSTM units,
10,000 characters of The Time Machine, its settings and its N(0, 0.01^2) initialisation,
``train_and_predict_rnn_gluon``) once per seed with early stopping: at most ``num_epochs``
epochs, stopped once ``patience`` epochs in a row brought no new lowest perplexity on the
``num_stop`` characters of the book after the training text, and ending with the weights of
that best epoch. The measurements use the ``num_measure`` characters after those, which
neither training nor the stopping rule saw ("held-out text"), and the training text:

* **Retention.** Each step multiplies an LSTM unit's memory cell by its forget gate f_s, so the
  fraction of the cell's content at step t that is left k steps later (ignoring what the
  input gate adds) is the product f_{t+1} ... f_{t+k}. The text is read in ``rows`` rows
  from the zero state; for every unit and every start t after ``gate_warm_up`` characters the
  product is computed for k = 1, 10, 50, from the gates of the real text. Per layer the script
  keeps the quartiles over all units, rows and starts, and each unit's median over rows and
  starts. The same is measured on the same model freshly initialised as training starts it
  (no training), the baseline.
* **Resetting one layer.** The model reads the held-out text in ``rows`` rows with its state
  carried. After a warm-up, at the start of each window of ``window`` characters, one layer's
  state (its H and C) is set to zero, the state the model starts every training epoch from,
  and the model reads on. The extra loss (nats per character) against reading on without the
  reset, per character after the reset and averaged over windows and rows, says how much that
  layer carried and for how long.

    .venv/bin/python scripts/layer_timescales.py --seeds 0 1 2 --jobs 2
    .venv/bin/python scripts/layer_timescales.py --quick          # a moment, to try it

It writes ``notebooks/results/layer-timescales.json`` (``--quick``: a temporary file, or
``--out``), rewritten after every finished seed.
"""
import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import chapter_runs

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "notebooks" / "results" / "layer-timescales.json"
SETTINGS = {"num_epochs": 200, "patience": 30, "num_stop": 5000, "num_measure": 15000, "rows": 32,
            "gate_warm_up": 50, "steps": [1, 10, 50], "warm_up": 100, "window": 100}
QUICK = {"num_stop": 1000, "num_measure": 2000, "rows": 4}


def reset_extra_loss(model, valid_indices, batch_size, warm_up, window, ctx):
    """Mean loss per character after a reset of each layer's state, against reading on without one.

    Returns ``{"none": [...], "layer 1": [...], ..., "all": [...]}``, each a list of ``window``
    mean losses (nats) at 1, 2, ... characters after the reset, averaged over all windows and
    rows, and the number of windows. The text is read in ``batch_size`` rows with the state
    carried; windows start after ``warm_up`` characters and follow each other.
    """
    from mxnet import autograd, nd
    from mxnet.gluon import loss as gloss
    num_layers = model.config.num_layers
    row_len = len(valid_indices) // batch_size
    rows = nd.array(valid_indices[:row_len * batch_size], ctx=ctx).reshape((batch_size, row_len))
    loss = gloss.SoftmaxCrossEntropyLoss()
    resets = {"none": []} | {f"layer {l + 1}": [l] for l in range(num_layers)} | {"all": list(range(num_layers))}
    sums = {name: nd.zeros((window,), ctx=ctx) for name in resets}
    num_windows = 0
    with autograd.pause(train_mode=False):
        state = model.begin_state(batch_size=batch_size, ctx=ctx)
        if warm_up > 0:
            _, state = model(rows[:, :warm_up], state)
        for t0 in range(warm_up, row_len - window, window):
            X, Y = rows[:, t0:t0 + window], rows[:, t0 + 1:t0 + 1 + window]  # (batch_size, window)
            y = Y.T.reshape((-1,))  # time-major, like the output
            for name, layers in resets.items():
                reset = [s.copy() for s in state]  # [H, C], each (num_layers, batch_size, num_hiddens)
                for l in layers:
                    for s in reset:
                        s[l] = 0
                output, new_state = model(X, reset)  # (window * batch_size, vocab_size)
                sums[name] += loss(output, y).reshape((window, batch_size)).mean(axis=1)
                if name == "none":
                    next_state = new_state
            state = next_state
            num_windows += 1
    if num_windows == 0:
        raise ValueError(f"the held-out text has rows of {row_len} characters, too short for a warm-up of "
                         f"{warm_up} and a window of {window}; hold out more text")
    return {name: (s / num_windows).asnumpy().tolist() for name, s in sums.items()}, num_windows


def lstm_steps(model, indices, batch_size, ctx):
    """Read ``indices`` in ``batch_size`` rows from the zero state, one step at a time, with the
    fused LSTM layer's own weights; per layer (bottom first) the forget gates and the last state.

    ``model`` is a ``d2lrnn.RNNModel`` around a Gluon ``rnn.LSTM``: its packed weights are read per
    layer (``l{l}_i2h_weight`` etc., gate blocks in Gluon's order i, f, g, o). Returns a list of
    ``(F, H, C)``, F a NumPy array (row_len, batch_size, num_hiddens), H and C the layer's state
    after the last step, (batch_size, num_hiddens) NDArrays, and the top layer's hidden states,
    (row_len, batch_size, num_hiddens), the output Gluon's layer gives.
    """
    from mxnet import nd
    layer = model.rnn
    num_hiddens, num_layers = layer._hidden_size, layer._num_layers
    row_len = len(indices) // batch_size
    if row_len < 1:
        raise ValueError(f"{len(indices)} characters make no row of {batch_size}")
    rows = nd.array(indices[:row_len * batch_size], ctx=ctx).reshape((batch_size, row_len))
    inputs = list(nd.one_hot(rows.T, model.vocab_size))  # row_len x (batch_size, vocab_size)
    result = []
    for l in range(num_layers):
        W_x, W_h, b_x, b_h = (getattr(layer, f"l{l}_{name}").data(ctx)
                              for name in ("i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias"))
        H = nd.zeros((batch_size, num_hiddens), ctx=ctx)
        C = nd.zeros_like(H)
        forget, outputs = [], []
        for X in inputs:
            gates = nd.dot(X, W_x, transpose_b=True) + b_x + nd.dot(H, W_h, transpose_b=True) + b_h
            I, F, G, O = nd.split(gates, num_outputs=4, axis=1)  # each (batch_size, num_hiddens)
            F = nd.sigmoid(F)
            C = F * C + nd.sigmoid(I) * nd.tanh(G)
            H = nd.sigmoid(O) * nd.tanh(C)
            forget.append(F)
            outputs.append(H)
        result.append((nd.stack(*forget).asnumpy(), H, C))
        inputs = outputs  # the next layer reads this layer's hidden states
    return result, nd.stack(*inputs)


def retention(forget, warm_up, steps):
    """From forget gates (row_len, batch_size, num_hiddens): per k in ``steps`` the products
    f_{t+1} ... f_{t+k} for every start t from ``warm_up`` to ``row_len - max(steps) - 1``.

    Returns ``{k: array (num_starts, batch_size, num_hiddens)}``; the same starts for every k.
    """
    import numpy as np
    row_len = forget.shape[0]
    last = row_len - max(steps)  # starts t < last have t + max(steps) < row_len
    if last <= warm_up:
        raise ValueError(f"rows of {row_len} characters leave no start after a warm-up of {warm_up} "
                         f"for {max(steps)} steps; read more text or fewer rows")
    starts = np.arange(warm_up, last)
    kept, product = {}, np.ones((len(starts), *forget.shape[1:]))
    for j in range(1, max(steps) + 1):
        product = product * forget[starts + j]  # f_{t+1} ... f_{t+j}, in float64
        if j in steps:
            kept[j] = product
    return kept


def retention_summary(model, indices, rows, warm_up, steps, ctx):
    """Per layer: for each k, the quartiles of the retention over units, rows and starts, and each unit's median."""
    import numpy as np
    layers, _ = lstm_steps(model, indices, rows, ctx)
    summary = []
    for forget, _, _ in layers:
        kept = retention(forget, warm_up, steps)
        f = forget[warm_up:]
        summary.append({
            "forget_gate_quartiles": np.percentile(f, [25, 50, 75]).tolist(),
            "forget_gate_below_0.1": float((f < 0.1).mean()), "forget_gate_above_0.9": float((f > 0.9).mean()),
            "retention": {str(k): {"quartiles": np.percentile(r, [25, 50, 75]).tolist(),
                                   "unit_medians": [float(f"{m:.6g}") for m in np.median(r.reshape(-1, r.shape[-1]), axis=0)]}
                          for k, r in kept.items()}})
    return summary


def child(seed, quick):
    """Train the chapter's model with ``seed`` and early stopping, and measure it and an untrained copy; a JSON-able dict."""
    import d2lrnn as d2l
    import mxnet as mx
    from mxnet import init, nd
    from d2lrnn import facts as settings
    start = time.perf_counter()
    s = dict(SETTINGS, **(QUICK if quick else {}))
    train_indices, held_out, vocab, unknown = chapter_runs.chapter_data(
        s["num_stop"] + s["num_measure"], chapter_runs.QUICK["num_train"] if quick else chapter_runs.NUM_TRAIN)
    stop_indices, measure_indices = held_out[:s["num_stop"]], held_out[s["num_stop"]:]
    ctx = d2l.try_gpu()
    t = settings.TRAINING
    model = chapter_runs.chapter_model(vocab)
    history = d2l.train_and_predict_rnn_gluon(
        model, settings.MODEL["num_hiddens"], train_indices, vocab, ctx, s["num_epochs"], t["num_steps"], t["lr"],
        t["clipping_theta"], t["batch_size"], [], sampling=t["sampling"], seed=seed, verbose=False,
        progress=False, live_plot=False, valid_indices=stop_indices, patience=s["patience"], restore_best=True)
    trained = time.perf_counter()
    untrained = chapter_runs.chapter_model(vocab)  # the baseline: initialised as training starts a model
    mx.random.seed(seed)
    untrained.initialize(ctx=ctx, init=init.Normal(0.01))
    untrained(nd.zeros((1, 1), ctx=ctx), untrained.begin_state(batch_size=1, ctx=ctx))  # shapes known: weights drawn
    best_perplexity, best_epoch = d2l.best_held_out(history)
    texts = {"training": train_indices, "held-out": measure_indices}
    measured = {name: {text: retention_summary(m, indices, s["rows"], s["gate_warm_up"], s["steps"], ctx)
                       for text, indices in texts.items()}
                for name, m in (("trained", model), ("untrained", untrained))}
    extra, num_windows = reset_extra_loss(model, measure_indices, s["rows"], s["warm_up"], s["window"], ctx)
    perplexity = {name: {text: d2l.evaluate_perplexity(m, indices, t["batch_size"], t["num_steps"], ctx)
                         for text, indices in texts.items()}
                  for name, m in (("trained", model), ("untrained", untrained))}
    return {"seed": seed, "history": chapter_runs.history_dict(history), "best_epoch": best_epoch,
            "best_held_out_perplexity": best_perplexity, "perplexity": perplexity,
            "held_out_unknown_chars": unknown, "gates": measured, "reset_loss": extra, "num_windows": num_windows,
            "train_seconds": trained - start, "wall_seconds": time.perf_counter() - start}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, help=f"most training epochs (default {SETTINGS['num_epochs']})")
    parser.add_argument("--jobs", type=int, default=2, help="seeds at a time (default 2)")
    parser.add_argument("--quick", action="store_true", help="a moment per seed, to try the script")
    parser.add_argument("--out", type=Path, help="JSON file to write (default notebooks/results/layer-timescales.json)")
    parser.add_argument("--child", nargs=1, metavar="SEED", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.epochs is not None and args.epochs < 1:
        parser.error(f"--epochs must be at least 1, got {args.epochs}")
    SETTINGS["num_epochs"] = args.epochs or (chapter_runs.QUICK["num_epochs"] if args.quick else SETTINGS["num_epochs"])
    if args.quick:
        SETTINGS.update(QUICK)
    if args.child:
        print(json.dumps(child(int(args.child[0]), args.quick)))
        return 0
    out = args.out or (Path(tempfile.mkdtemp()) / OUT.name if args.quick else OUT)
    out.parent.mkdir(parents=True, exist_ok=True)
    result = {"study": "layer-timescales", "settings": dict(SETTINGS), "seeds": args.seeds, "quick": args.quick}
    extra_args = (["--quick"] if args.quick else []) + (["--epochs", str(args.epochs)] if args.epochs else [])
    try:
        chapter_runs.run_children(Path(__file__).resolve(), [[str(seed)] for seed in args.seeds], args.jobs,
                                  extra_args, result, out)
    except RuntimeError as err:
        sys.exit(f"error: {err}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
