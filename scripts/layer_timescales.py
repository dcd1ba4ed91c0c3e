"""Do the chapter's two LSTM layers keep different time scales? Train it and measure, per layer.

The chapter motivates stacking by saying that lower layers can follow short-range patterns and
higher ones slower information. This script trains the chapter's model (2 x 256 LSTM units,
10,000 characters of The Time Machine, its settings and its N(0, 0.01^2) initialisation,
``train_and_predict_rnn_gluon``) once per seed and measures two things on held-out text, the
characters of the book that follow the training text:

* **Resetting one layer.** The model reads the held-out text in 32 rows with its state carried.
  After a warm-up, at the start of each window of ``--window`` characters, one layer's state
  (its H and C) is set to zero, as at the start of training, and the model reads on. The extra
  loss (nats per character) against reading on without the reset, per character after the
  reset and averaged over windows and rows, says how much that layer carried and for how long.
* **Forget gates.** The mean activation of each layer's forget gate over the held-out text, and
  per unit the time constant 1 / (1 - mean forget gate): how many steps the unit's memory cell
  keeps about a fraction 1/e of its content.

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
SETTINGS = {"num_epochs": 500, "num_valid": 20000, "batch_size": 32, "warm_up": 100, "window": 100,
            "forget_steps": 200}


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


def forget_gates(model, valid_indices, batch_size, num_steps, ctx):
    """Per layer, the forget gate's activation of each unit averaged over ``num_steps`` characters of each row.

    Returns a list (bottom layer first) of ``num_hiddens`` means. The gates are computed from the
    trained weights with Gluon's layout (blocks i, f, g, o), as ``d2lrnn.scratch.lstm_cell`` does.
    """
    import d2lrnn as d2l
    from mxnet import nd
    scratch = d2l.from_gluon(model)
    row_len = len(valid_indices) // batch_size
    if row_len < num_steps:
        raise ValueError(f"the held-out rows have {row_len} characters, fewer than the {num_steps} asked for")
    rows = nd.array(valid_indices[:row_len * batch_size], ctx=ctx).reshape((batch_size, row_len))
    layer_inputs = list(nd.one_hot(rows[:, :num_steps].T, scratch.vocab_size))  # num_steps x (batch_size, vocab_size)
    means = []
    for W_x, W_h, b_x, b_h in scratch.layer_params(ctx):
        H = nd.zeros((batch_size, scratch.num_hiddens), ctx=ctx)
        C = nd.zeros_like(H)
        f_sum, outputs = nd.zeros((scratch.num_hiddens,), ctx=ctx), []
        for X in layer_inputs:
            gates = nd.dot(X, W_x, transpose_b=True) + b_x + nd.dot(H, W_h, transpose_b=True) + b_h
            I, F, G, O = nd.split(gates, num_outputs=4, axis=1)  # each (batch_size, num_hiddens)
            F = nd.sigmoid(F)
            C = F * C + nd.sigmoid(I) * nd.tanh(G)
            H = nd.sigmoid(O) * nd.tanh(C)
            f_sum += F.mean(axis=0)
            outputs.append(H)
        means.append((f_sum / num_steps).asnumpy().tolist())
        layer_inputs = outputs  # the next layer reads this layer's hidden states
    return means


def child(seed, quick):
    """Train the chapter's model with ``seed`` and measure it; a JSON-able dict."""
    import d2lrnn as d2l
    from d2lrnn import facts as settings
    start = time.perf_counter()
    s = dict(SETTINGS, **({"num_valid": 8000} if quick else {}))
    train_indices, valid_indices, vocab, unknown = chapter_runs.chapter_data(
        s["num_valid"], chapter_runs.QUICK["num_train"] if quick else chapter_runs.NUM_TRAIN)
    ctx = d2l.try_gpu()
    model = chapter_runs.chapter_model(vocab)
    t = settings.TRAINING
    history = d2l.train_and_predict_rnn_gluon(
        model, settings.MODEL["num_hiddens"], train_indices, vocab, ctx, s["num_epochs"], t["num_steps"], t["lr"],
        t["clipping_theta"], t["batch_size"], [], sampling=t["sampling"], seed=seed, verbose=False,
        progress=False, live_plot=False)
    trained = time.perf_counter()
    extra, num_windows = reset_extra_loss(model, valid_indices, s["batch_size"], s["warm_up"], s["window"], ctx)
    gates = forget_gates(model, valid_indices, s["batch_size"], s["forget_steps"], ctx)
    return {"seed": seed, "history": chapter_runs.history_dict(history),
            "held_out_perplexity": d2l.evaluate_perplexity(model, valid_indices, s["batch_size"], t["num_steps"], ctx),
            "held_out_unknown_chars": unknown, "reset_loss": extra, "num_windows": num_windows,
            "forget_gate_means": gates, "train_seconds": trained - start,
            "wall_seconds": time.perf_counter() - start}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, help=f"training epochs (default {SETTINGS['num_epochs']}, the chapter's)")
    parser.add_argument("--jobs", type=int, default=2, help="seeds at a time (default 2)")
    parser.add_argument("--quick", action="store_true", help="a moment per seed, to try the script")
    parser.add_argument("--out", type=Path, help="JSON file to write (default notebooks/results/layer-timescales.json)")
    parser.add_argument("--child", nargs=1, metavar="SEED", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.epochs is not None and args.epochs < 1:
        parser.error(f"--epochs must be at least 1, got {args.epochs}")
    SETTINGS["num_epochs"] = args.epochs or (chapter_runs.QUICK["num_epochs"] if args.quick else SETTINGS["num_epochs"])
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
