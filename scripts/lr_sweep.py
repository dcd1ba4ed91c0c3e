"""A learning rate for each cell: a small sweep for the plain RNN, the GRU and the LSTM of gru-vs-lstm.

notebooks/gru-vs-lstm.ipynb compares two-layer RNN, GRU and LSTM models. A comparison at one
learning rate mixes up the cell with how well that rate suits it, so this script trains each
cell at several rates (the notebook's other settings, seed 0) and chooses, per cell, the rate
whose run reached the lowest validation perplexity (at its best epoch). A run that diverges
(``TrainingDivergedError``) is recorded as such and never chosen.

    .venv/bin/python scripts/lr_sweep.py --jobs 2
    .venv/bin/python scripts/lr_sweep.py --quick       # a moment per run, to try it

It writes ``notebooks/results/gru-vs-lstm-sweep.json`` (``--quick``: a temporary file, or
``--out``), with the chosen rates under ``chosen``; ``scripts/multiseed.py gru-vs-lstm`` and
the notebook read them from there. Each run is a child process of ``scripts/multiseed.py``, so
the runs are exactly the notebook's.
"""
import argparse
import concurrent.futures
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from multiseed import GRU_VS_LSTM, SWEEP, machine

MULTISEED = Path(__file__).resolve().parent / "multiseed.py"
LABELS = {"rnn": "RNN, 2 layers", "gru": "GRU, 2 layers", "lstm": "LSTM, 2 layers"}
# At least three rates per cell around the one tried first; the plain RNN's 5 is the chapter's rate.
GRID = {"rnn": [0.25, 0.5, 1, 2, 5], "gru": [0.5, 1, 2, 5], "lstm": [1, 2, 5, 10]}


def best(run):
    """The lowest validation perplexity of a run and its epoch; None for a run that diverged."""
    if "diverged" in run:
        return None
    h = run["history"]
    return min(zip(h["val_perplexity"], h["epoch"]))


def choose(runs):
    """Per cell, the learning rate of the run with the lowest best validation perplexity."""
    chosen = {}
    for cell, label in LABELS.items():
        scored = [(best(r)[0], r["lr"]) for r in runs if r["label"] == label and best(r) is not None]
        if scored:
            chosen[cell] = min(scored)[1]
    return chosen


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time (default 2)")
    parser.add_argument("--quick", action="store_true", help="a moment per run, to try the script")
    parser.add_argument("--out", type=Path, help="JSON file to write (default notebooks/results/gru-vs-lstm-sweep.json)")
    args = parser.parse_args(argv)
    out = args.out or (Path(tempfile.mkdtemp()) / SWEEP.name if args.quick else SWEEP)
    out.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("OMP_WAIT_POLICY", "passive")
    settings = {key: value for key, value in GRU_VS_LSTM.items() if key not in ("lrs", "runs")}
    settings.update({"grid": GRID, "labels": LABELS, "chosen_by": "lowest validation perplexity at the best epoch"})
    result = {"study": "gru-vs-lstm-sweep", "settings": settings, "seed": args.seed, "quick": args.quick,
              "jobs": args.jobs, "omp_num_threads": env["OMP_NUM_THREADS"], "omp_wait_policy": env["OMP_WAIT_POLICY"],
              "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
              "machine_at_start": machine(), "runs": [], "complete": False}
    jobs = [(cell, lr) for cell, lrs in GRID.items() for lr in lrs]
    start = time.perf_counter()

    def run(cell, lr):
        cmd = [sys.executable, str(MULTISEED), "gru-vs-lstm", "--child", LABELS[cell], str(args.seed), "--lr", str(lr)]
        cmd += ["--quick"] if args.quick else []
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, start_new_session=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{LABELS[cell]}, lr {lr} failed (status {proc.returncode}):\n{proc.stderr[-2000:]}")
        return json.loads(proc.stdout.strip().splitlines()[-1])

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(run, *job): job for job in jobs}
        for future in concurrent.futures.as_completed(futures):
            try:
                r = future.result()
            except RuntimeError as err:
                sys.exit(f"error: {err}")
            result["runs"].append(r)
            result["runs"].sort(key=lambda r: jobs.index((next(c for c, l in LABELS.items() if l == r["label"]), r["lr"])))
            result["complete"] = len(result["runs"]) == len(jobs)
            result["chosen"] = choose(result["runs"]) if result["complete"] else None
            result.update({"wall_seconds": time.perf_counter() - start, "machine_at_end": machine(),
                           "finished": datetime.datetime.now().astimezone().isoformat(timespec="seconds")})
            out.write_text(json.dumps(result, indent=1) + "\n")
            b = best(r)
            outcome = "diverged" if b is None else f"best validation perplexity {b[0]:.2f} (epoch {b[1]})"
            print(f"{r['label']}, lr {r['lr']:g}: {r['wall_seconds']:.0f} s, {outcome} "
                  f"({len(result['runs'])}/{len(jobs)})", flush=True)
    missing = [cell for cell in LABELS if cell not in result["chosen"]]
    if missing:
        sys.exit(f"error: every rate diverged for {missing}; widen GRID in {Path(__file__).name}")
    print(f"chosen: {result['chosen']}; wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
