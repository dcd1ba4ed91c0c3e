"""The two cures the notebooks name, tried: dropout between the layers, and a decreasing learning rate.

The chapter's run memorises its 10,000 characters, and now and then its training perplexity
jumps up for a few epochs (notebooks/deep-rnn.ipynb). The notebooks name dropout between the
layers as the usual cure for the first and a decreasing learning rate for the second. This
script trains the chapter's model with the chapter's settings (``train_and_predict_rnn_gluon``,
2 x 256 LSTM units, lr 5, clipping 1, batch 32 x 35, consecutive sampling, 500 epochs) and
with one change at a time, for several seeds, and records the training perplexity and the
perplexity on held-out text (the characters of the book after the training text) after
every epoch:

* ``chapter``: the chapter's settings;
* ``dropout 0.2``: dropout on the first layer's outputs while training, with ``nn.Dropout(0.2)``
  between two one-layer LSTMs (``chapter_runs.chapter_model`` says why); the training
  perplexity is then measured with dropout, the held-out one without;
* ``lr halved every 100 epochs``: lr 5 for epochs 1-100, 2.5 for 101-200, and so on
  (``train(..., lr_schedule=...)``).

    .venv/bin/python scripts/cures.py --seeds 0 1 2 --jobs 2
    .venv/bin/python scripts/cures.py --quick          # a moment per run, to try it

Early stopping, the third cure the notebook compares, needs no runs of its own:
notebooks/deep-rnn-cures.ipynb applies it to these runs with ``d2lrnn.replay``.

It writes ``notebooks/results/cures.json`` (``--quick``: a temporary file, or ``--out``),
rewritten after every finished run.
"""
import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import chapter_runs

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "notebooks" / "results" / "cures.json"
SETTINGS = {"num_epochs": 500, "num_valid": 5000,
            "runs": {  # label: what changes from the chapter's settings
                "chapter": {"dropout": 0.0, "halve_lr_every": None},
                "dropout 0.2": {"dropout": 0.2, "halve_lr_every": None},
                "lr halved every 100 epochs": {"dropout": 0.0, "halve_lr_every": 100},
            }}


def halving(every):
    """The factor of lr in each epoch: 1 for epochs 1 to ``every``, then 1/2, 1/4, ..."""
    return lambda epoch: 0.5 ** ((epoch - 1) // every)


def child(label, seed, quick):
    """Train one configuration with one seed; a JSON-able dict."""
    import d2lrnn as d2l
    from d2lrnn import facts as settings
    start = time.perf_counter()
    change = SETTINGS["runs"][label]
    num_epochs = SETTINGS["num_epochs"]
    train_indices, valid_indices, vocab, unknown = chapter_runs.chapter_data(
        chapter_runs.QUICK["num_valid"] if quick else SETTINGS["num_valid"],
        chapter_runs.QUICK["num_train"] if quick else chapter_runs.NUM_TRAIN)
    ctx = d2l.try_gpu()
    model = chapter_runs.chapter_model(vocab, dropout=change["dropout"])
    schedule = None if change["halve_lr_every"] is None else halving(change["halve_lr_every"])
    t = settings.TRAINING
    history = d2l.train_and_predict_rnn_gluon(
        model, settings.MODEL["num_hiddens"], train_indices, vocab, ctx, num_epochs, t["num_steps"], t["lr"],
        t["clipping_theta"], t["batch_size"], [], sampling=t["sampling"], seed=seed, valid_indices=valid_indices,
        lr_schedule=schedule, verbose=False, progress=False, live_plot=False)
    return {"label": label, "seed": seed, "history": chapter_runs.history_dict(history),
            "held_out_unknown_chars": unknown, "wall_seconds": time.perf_counter() - start}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, help=f"training epochs (default {SETTINGS['num_epochs']}, the chapter's)")
    parser.add_argument("--labels", nargs="+", choices=list(SETTINGS["runs"]), help="only these configurations")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time (default 2)")
    parser.add_argument("--quick", action="store_true", help="a moment per run, to try the script")
    parser.add_argument("--out", type=Path, help="JSON file to write (default notebooks/results/cures.json)")
    parser.add_argument("--child", nargs=2, metavar=("LABEL", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.epochs is not None and args.epochs < 1:
        parser.error(f"--epochs must be at least 1, got {args.epochs}")
    SETTINGS["num_epochs"] = args.epochs or (chapter_runs.QUICK["num_epochs"] if args.quick else SETTINGS["num_epochs"])
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]), args.quick)))
        return 0
    labels = args.labels or list(SETTINGS["runs"])
    out = args.out or (Path(tempfile.mkdtemp()) / OUT.name if args.quick else OUT)
    out.parent.mkdir(parents=True, exist_ok=True)
    result = {"study": "cures", "settings": json.loads(json.dumps(SETTINGS)), "labels": labels,
              "seeds": args.seeds, "quick": args.quick}
    extra_args = (["--quick"] if args.quick else []) + (["--epochs", str(args.epochs)] if args.epochs else [])
    jobs = [[label, str(seed)] for seed in args.seeds for label in labels]  # seed by seed
    try:
        chapter_runs.run_children(Path(__file__).resolve(), jobs, args.jobs, extra_args, result, out)
    except RuntimeError as err:
        sys.exit(f"error: {err}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
