"""Train the comparison notebooks' models with several seeds and store the results as JSON.

The two comparison notebooks, ``notebooks/gru-vs-lstm.ipynb`` and
``notebooks/more-books.ipynb``, train each configuration once, live, with seed 0. Whether a
difference between two configurations is larger than the spread between seeds needs more
runs than a student should wait for, so this script makes them, with exactly the
notebooks' settings, and writes ``notebooks/results/<study>.json``, which the notebooks
load and plot.

    .venv/bin/python scripts/lr_sweep.py                      # first: each cell's learning rate
    .venv/bin/python scripts/multiseed.py gru-vs-lstm --seeds 0 1 2 --jobs 2
    .venv/bin/python scripts/multiseed.py more-books --seeds 0 1 2 --jobs 2

Each run (one configuration, one seed) is its own process, which prints one JSON line;
``--jobs`` of them run at a time, each with ``OMP_NUM_THREADS=1`` unless you set it (MXNet's
results do not depend on the thread count, so the numbers are those of the notebooks).
The parent imports no MXNet. The file is rewritten after every finished run, seed by seed,
so a run stopped early keeps every complete result. ``--quick`` trains for a moment on a
few thousand characters, to try the script (its results are not worth keeping, and it
writes to ``--out`` only, default a temporary file).

The learning rate of each cell in ``gru-vs-lstm`` is the one that ``scripts/lr_sweep.py``
chose (``notebooks/results/gru-vs-lstm-sweep.json``, or ``--sweep FILE``); the one- and
three-layer LSTMs use the LSTM's.
"""
import argparse
import concurrent.futures
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "notebooks" / "results"

# The notebooks' settings. Change them here and in the notebook together.
GRU_VS_LSTM = {
    "num_examples": 50000, "valid_fraction": 0.1, "num_hiddens": 256, "num_steps": 35,
    "batch_size": 32, "num_epochs": 40, "clipping_theta": 1, "lrs": None,  # None: from the sweep
    "prefixes": ["the time traveller"],
    "runs": {  # label: (cell, num_layers)
        "RNN, 2 layers": ["rnn", 2],
        "GRU, 2 layers": ["gru", 2],
        "LSTM, 2 layers": ["lstm", 2],
        "LSTM, 1 layer": ["lstm", 1],
        "LSTM, 3 layers": ["lstm", 3],
    },
}
BOOKS = {"Time Machine": 35, "War of the Worlds": 36, "Pride and Prejudice": 1342}
MORE_BOOKS = {
    "num_examples": 100000, "valid_fraction": 0.1, "num_hiddens": 256, "num_layers": 2,
    "num_steps": 35, "batch_size": 32, "lr": 5, "clipping_theta": 1,
    "runs": {  # label: (training books, validated on, epochs, prefixes)
        "Time Machine": [["Time Machine"], "Time Machine", 20, ["the time traveller"]],
        "Time Machine + War of the Worlds": [["Time Machine", "War of the Worlds"], "Time Machine", 10,
                                             ["the time traveller"]],
        "Pride and Prejudice": [["Pride and Prejudice"], "Pride and Prejudice", 20, ["elizabeth"]],
        "Time Machine + Pride and Prejudice": [["Time Machine", "Pride and Prejudice"], "Time Machine", 10,
                                               ["the time traveller", "elizabeth"]],
    },
}
STUDIES = {"gru-vs-lstm": GRU_VS_LSTM, "more-books": MORE_BOOKS}


def _history_dict(history):
    return {"epoch": history.epoch, "perplexity": history.perplexity,
            "val_perplexity": history.val_perplexity, "seconds": history.seconds,
            "num_tokens": history.num_tokens}


SWEEP = RESULTS / "gru-vs-lstm-sweep.json"


def chosen_lrs(sweep_path):
    """The learning rate per cell that the sweep in ``sweep_path`` chose; SystemExit if there is none."""
    try:
        sweep = json.loads(Path(sweep_path).read_text())
    except FileNotFoundError:
        raise SystemExit(f"error: {sweep_path} does not exist; run scripts/lr_sweep.py first (or pass --sweep)") from None
    if not sweep.get("complete") or not sweep.get("chosen"):
        raise SystemExit(f"error: {sweep_path} holds no complete sweep; run scripts/lr_sweep.py again")
    return sweep["chosen"]


def study_settings(study, sweep_path):
    """The settings of ``study``; for gru-vs-lstm with the learning rates chosen by the sweep."""
    settings = json.loads(json.dumps(STUDIES[study]))
    if study == "gru-vs-lstm":
        settings["lrs"] = chosen_lrs(sweep_path)
        settings["lrs_from"] = Path(sweep_path).name
    return settings


def child(study, label, seed, quick, lr=None):
    """Train one configuration with one seed, as the notebook does; return a JSON-able dict.

    gru-vs-lstm takes its learning rate ``lr`` from the caller. A run that diverges
    returns its epochs so far and the error's message under ``diverged``.
    """
    import d2lrnn as d2l  # sets the threads and the NumPy names MXNet needs
    import mxnet as mx
    from mxnet import init

    ctx = mx.cpu()
    start = time.perf_counter()
    if study == "gru-vs-lstm":
        s = GRU_VS_LSTM
        corpus_indices, vocab = d2l.load_data_time_machine(num_examples=s["num_examples"])
        train_indices, valid_indices = d2l.split_corpus(corpus_indices, valid_fraction=s["valid_fraction"])
        num_epochs = s["num_epochs"]
        if quick:
            num_epochs, train_indices, valid_indices = 1, train_indices[:2400], valid_indices[:700]
        cell, num_layers = s["runs"][label]
        mx.random.seed(seed)
        model = d2l.RNNModel(d2l.make_rnn_layer(cell, s["num_hiddens"], num_layers), len(vocab))
        model.initialize(init.Xavier(), ctx=ctx)
        if lr is None:
            raise ValueError("gru-vs-lstm runs need their learning rate (--lr)")
        try:
            history = d2l.train(model, train_indices, vocab, ctx, num_epochs, s["num_steps"], lr,
                                s["clipping_theta"], s["batch_size"], s["prefixes"], seed=seed,
                                valid_indices=valid_indices, verbose=False, progress=False, live_plot=False)
        except d2l.TrainingDivergedError as error:
            return {"label": label, "seed": seed, "lr": lr, "num_parameters": d2l.num_parameters(model),
                    "history": _history_dict(error.history), "held_out": {}, "diverged": str(error),
                    "wall_seconds": time.perf_counter() - start, "omp_num_threads": os.environ.get("OMP_NUM_THREADS")}
        held_out = {}
    else:
        s = MORE_BOOKS
        corpora, vocab = d2l.load_data_books(list(BOOKS.values()), num_examples=s["num_examples"])
        train_parts, valid_parts = {}, {}
        for name, indices in zip(BOOKS, corpora):
            train_parts[name], valid_parts[name] = d2l.split_corpus(indices, valid_fraction=s["valid_fraction"])
        books, valid_book, num_epochs, prefixes = s["runs"][label]
        if quick:
            num_epochs = 1
            train_parts = {name: part[:2400] for name, part in train_parts.items()}
            valid_parts = {name: part[:700] for name, part in valid_parts.items()}
        mx.random.seed(seed)
        model = d2l.RNNModel(mx.gluon.rnn.LSTM(s["num_hiddens"], num_layers=s["num_layers"]), len(vocab))
        model.initialize(init.Xavier(), ctx=ctx)
        train_indices = [i for name in books for i in train_parts[name]]
        history = d2l.train(model, train_indices, vocab, ctx, num_epochs, s["num_steps"], s["lr"],
                            s["clipping_theta"], s["batch_size"], prefixes, seed=seed,
                            valid_indices=valid_parts[valid_book], verbose=False, progress=False,
                            live_plot=False)
        held_out = {name: d2l.evaluate_perplexity(model, valid_parts[name], s["batch_size"], s["num_steps"], ctx)
                    for name in BOOKS}
    return {"label": label, "seed": seed, **({"lr": lr} if lr is not None else {}),
            "num_parameters": d2l.num_parameters(model),
            "history": _history_dict(history), "held_out": held_out,
            "wall_seconds": time.perf_counter() - start,
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS")}


def machine():
    """What a reader needs to judge the times: CPU, cores, load, versions."""
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cpus": os.cpu_count(), "load_average": list(os.getloadavg()),
            "python": platform.python_version(), "platform": platform.platform()}


def merge(paths, out, study, settings, seeds, labels):
    """Write the runs of several result files of one study into ``out``, seed by seed."""
    parts = [json.loads(Path(p).read_text()) for p in paths]
    for path, part in zip(paths, parts):
        if (part["study"] != study or part["settings"] != json.loads(json.dumps(settings))
                or part["quick"] != parts[0]["quick"]):
            raise SystemExit(f"error: {path} holds another study or other settings than {paths[0]}")
    runs = {(r["label"], r["seed"]): r for part in parts for r in part["runs"]
            if r["label"] in labels and r["seed"] in seeds}
    result = {**parts[0], "seeds": seeds,
              "runs": sorted(runs.values(), key=lambda r: (r["seed"], labels.index(r["label"]))),
              "complete": len(runs) == len(seeds) * len(labels),
              "merged_from": [{key: part.get(key) for key in ("seeds", "jobs", "started", "finished", "wall_seconds",
                                                              "machine_at_start", "machine_at_end")}
                              for part in parts]}
    result.pop("resumed", None)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {out}: {len(runs)} runs, complete: {result['complete']}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("study", choices=sorted(STUDIES))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time (default 2)")
    parser.add_argument("--labels", nargs="+", help="only these configurations (default: all)")
    parser.add_argument("--quick", action="store_true", help="a moment per run, to try the script")
    parser.add_argument("--resume", action="store_true",
                        help="keep the runs already in the output file and make only the missing ones")
    parser.add_argument("--merge", type=Path, nargs="+", metavar="FILE",
                        help="combine the runs of these result files (same study and settings, e.g. seeds "
                             "run on several machines) into --out, and train nothing")
    parser.add_argument("--out", type=Path, help="JSON file to write (default notebooks/results/<study>.json)")
    parser.add_argument("--sweep", type=Path, default=SWEEP,
                        help="gru-vs-lstm: the learning-rate sweep to take each cell's rate from "
                             "(default notebooks/results/gru-vs-lstm-sweep.json)")
    parser.add_argument("--child", nargs=2, metavar=("LABEL", "SEED"), help=argparse.SUPPRESS)
    parser.add_argument("--lr", type=float, help=argparse.SUPPRESS)  # a child's learning rate
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.study, args.child[0], int(args.child[1]), args.quick, args.lr)))
        return 0
    settings = study_settings(args.study, args.sweep) if not args.merge else STUDIES[args.study]
    labels = args.labels or list(settings["runs"])
    unknown = sorted(set(labels) - set(settings["runs"]))
    if unknown:
        parser.error(f"unknown labels {unknown}; choose from {list(settings['runs'])}")
    out = args.out or (Path(tempfile.mkdtemp()) / f"{args.study}.json" if args.quick
                       else RESULTS / f"{args.study}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.merge:
        parts = [json.loads(Path(p).read_text()) for p in args.merge]
        return merge(args.merge, out, args.study, parts[0]["settings"], args.seeds, labels)
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("OMP_WAIT_POLICY", "passive")
    result = {"study": args.study, "settings": settings, "seeds": args.seeds, "quick": args.quick,
              "jobs": args.jobs, "omp_num_threads": env["OMP_NUM_THREADS"],
              "omp_wait_policy": env["OMP_WAIT_POLICY"],
              "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
              "machine_at_start": machine(), "runs": []}
    if args.resume and out.exists():
        previous = json.loads(out.read_text())
        if previous["settings"] != json.loads(json.dumps(settings)) or previous["quick"] != args.quick:
            parser.error(f"{out} holds runs with other settings; remove it or leave out --resume")
        result["runs"] = [r for r in previous["runs"] if r["label"] in labels and r["seed"] in args.seeds]
        for key in ("started", "machine_at_start"):
            result[key] = previous[key]
        result["resumed"] = previous.get("resumed", []) + [
            {"at": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
             "after_runs": len(result["runs"]), "jobs": args.jobs, "machine": machine()}]
        result["wall_seconds_before_resume"] = previous.get("wall_seconds_before_resume", 0) + \
            previous.get("wall_seconds", 0)
    done = {(r["label"], r["seed"]) for r in result["runs"]}
    start = time.perf_counter()

    def run(label, seed):
        cmd = [sys.executable, str(Path(__file__).resolve()), args.study, "--child", label, str(seed)]
        cmd += ["--quick"] if args.quick else []
        if args.study == "gru-vs-lstm":
            cmd += ["--lr", str(settings["lrs"][settings["runs"][label][0]])]
        # Its own session: on Linux with autogroup scheduling, each session gets a fair share of the
        # CPUs, so the runs do not all share the one share of the shell that started the script.
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, start_new_session=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{label}, seed {seed} failed (status {proc.returncode}):\n{proc.stderr[-2000:]}")
        return json.loads(proc.stdout.strip().splitlines()[-1])

    jobs = [(label, seed) for seed in args.seeds for label in labels]  # seed by seed
    todo = [job for job in jobs if job not in done]
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(run, *job): job for job in todo}
        for future in concurrent.futures.as_completed(futures):
            r = future.result()
            result["runs"].append(r)
            result["runs"].sort(key=lambda r: (r["seed"], labels.index(r["label"])))
            result["wall_seconds"] = time.perf_counter() - start
            result["machine_at_end"] = machine()
            result["finished"] = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
            result["complete"] = len(result["runs"]) == len(jobs)
            out.write_text(json.dumps(result, indent=1) + "\n")
            outcome = (f"diverged: {r['diverged']}" if "diverged" in r else
                       f"final validation perplexity {r['history']['val_perplexity'][-1]:.2f}")
            print(f"{r['label']}, seed {r['seed']}: {r['wall_seconds']:.0f} s, {outcome} "
                  f"({len(result['runs'])}/{len(jobs)})", flush=True)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
