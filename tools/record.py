"""Record the stored outputs on a quiet machine: the results files first, then the notebooks, one after another.

Usage, from anywhere (with the repository's virtual environment):

    .venv/bin/python tools/record.py --list              # the steps, in order
    .venv/bin/python tools/record.py                     # all of them
    .venv/bin/python tools/record.py --only cures deep-rnn-cures

Stored outputs must come from an otherwise idle machine: before each step the script waits
until the 1-minute load average is below ``--max-load`` (default 1), at most ``--wait``
seconds, and stops if it is not. A results step runs its script as its own command (the
scripts record the machine and its load in their JSON files), each of its two runs at a time
with ``OMP_NUM_THREADS=1``. A notebook step executes the notebook in place in its folder, as
JupyterLab would (no time limit), with ``OMP_NUM_THREADS`` unset so that ``d2lrnn`` gives
MXNet one thread per core, as a student's kernel gets; it removes the
execution timestamps that nbclient adds to the cells' metadata; each notebook's first cell
prints the machine's load itself. After the last notebook, ``tools/run_times.py --write``
updates the run-time table of docs/teaching.md, and ``tools/lab_plan.py --write`` its lab plan,
which also needs docs/hub-sizing.json measured on the recorded chapter (as root, still on an idle
machine: ``D2LRNN_DATA_DIR=... .venv/bin/python scripts/hub_sizing.py --students 10 --out
docs/hub-sizing.json``, then ``tools/lab_plan.py --write`` again).
"""
import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEEDS = ["--seeds", "0", "1", "2", "--jobs", "2"]
# (name, a results script and its arguments, or a notebook); the order matters: the sweep before
# the comparison that reads it, the results files before the notebooks that load them.
STEPS = [
    ("lr-sweep", ["scripts/lr_sweep.py", "--jobs", "2"]),
    ("gru-vs-lstm-seeds", ["scripts/multiseed.py", "gru-vs-lstm", *SEEDS]),
    ("more-books-seeds", ["scripts/multiseed.py", "more-books", *SEEDS]),
    ("layer-timescales", ["scripts/layer_timescales.py", *SEEDS]),
    ("cures", ["scripts/cures.py", *SEEDS]),
    ("deep-rnn", "notebooks/deep-rnn.ipynb"),
    ("deep-rnn-scratch", "notebooks/deep-rnn-scratch.ipynb"),
    ("gru-vs-lstm", "notebooks/gru-vs-lstm.ipynb"),
    ("more-books", "notebooks/more-books.ipynb"),
    ("deep-rnn-layers", "notebooks/deep-rnn-layers.ipynb"),
    ("deep-rnn-cures", "notebooks/deep-rnn-cures.ipynb"),
]


def wait_for_quiet(max_load, wait):
    """Return the load average once it is below ``max_load``; SystemExit after ``wait`` seconds."""
    deadline = time.monotonic() + wait
    while True:
        load = os.getloadavg()[0]
        if load < max_load:
            return load
        if time.monotonic() >= deadline:
            raise SystemExit(f"error: the load average is {load:.2f}, not below {max_load}; stop the other jobs "
                             "(trainings, builds, tests) and run this again")
        time.sleep(10)


def execute_notebook(path):
    """Execute the notebook at ``path`` in place, in its folder; drop nbclient's timing metadata."""
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(path, as_version=4)
    env = {key: value for key, value in os.environ.items() if key != "OMP_NUM_THREADS"}
    NotebookClient(nb, timeout=None, kernel_name="python3",
                   resources={"metadata": {"path": str(Path(path).parent)}}).execute(env=env)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)


def main(argv=None):
    names = [name for name, _ in STEPS]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="print the steps and stop")
    parser.add_argument("--only", nargs="+", choices=names, metavar="STEP", help="only these steps (in the order above)")
    parser.add_argument("--max-load", type=float, default=1.0, help="start a step only below this load average")
    parser.add_argument("--wait", type=float, default=600, help="seconds to wait for the load to fall (default 600)")
    args = parser.parse_args(argv)
    if args.list:
        for name, what in STEPS:
            print(f"{name:20} {what if isinstance(what, str) else 'python ' + ' '.join(what)}")
        return 0
    if os.environ.get("D2LRNN_QUICK"):
        raise SystemExit("error: D2LRNN_QUICK is set; unset it, stored outputs come from full runs")
    for name, what in STEPS:
        if args.only and name not in args.only:
            continue
        load = wait_for_quiet(args.max_load, args.wait)
        print(f"{time.strftime('%H:%M:%S')} {name}: load average {load:.2f}", flush=True)
        start = time.perf_counter()
        if isinstance(what, str):
            execute_notebook(REPO / what)
        else:
            subprocess.run([sys.executable, str(REPO / what[0]), *what[1:]], check=True, cwd=REPO,
                           env=dict(os.environ, OMP_NUM_THREADS="1"))
        print(f"{time.strftime('%H:%M:%S')} {name}: done in {time.perf_counter() - start:.0f} s", flush=True)
    subprocess.run([sys.executable, str(REPO / "tools" / "run_times.py"), "--write"], check=True)
    # Fails with one line when docs/hub-sizing.json is not yet measured on the chapter's lab run.
    subprocess.run([sys.executable, str(REPO / "tools" / "lab_plan.py"), "--write"], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
