"""scripts/multiseed.py: it runs, resumes, and its stored seed 0 is the comparison notebooks' live run."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import d2lrnn

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "multiseed.py"
SWEEP_SCRIPT = ROOT / "scripts" / "lr_sweep.py"
NOTEBOOKS = ROOT / "notebooks"
sys.path.insert(0, str(ROOT / "scripts"))
import lr_sweep  # noqa: E402


def run_script(*args, script=SCRIPT):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, env=env,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


@pytest.fixture(scope="module")
def quick_sweep(tmp_path_factory):
    """A quick learning-rate sweep (1 epoch per run) and what it printed."""
    out = tmp_path_factory.mktemp("sweep") / "sweep.json"
    printed = run_script("--quick", "--out", str(out), script=SWEEP_SCRIPT)
    return out, printed


@pytest.mark.slow
def test_the_sweep_tries_every_rate_and_chooses_the_lowest_validation_perplexity(quick_sweep):
    out, printed = quick_sweep
    sweep = json.loads(out.read_text())
    assert sweep["complete"] and sweep["quick"]
    tried = {(r["label"], r["lr"]) for r in sweep["runs"]}
    assert tried == {(lr_sweep.LABELS[cell], lr) for cell, lrs in lr_sweep.GRID.items() for lr in lrs}
    for cell, label in lr_sweep.LABELS.items():
        runs = [r for r in sweep["runs"] if r["label"] == label and "diverged" not in r]
        assert sweep["chosen"][cell] == min(runs, key=lambda r: min(r["history"]["val_perplexity"]))["lr"]
    assert f"chosen: {sweep['chosen']}" in printed


def test_a_diverged_run_is_never_chosen():
    run = lambda label, lr, ppl, diverged=False: {"label": label, "lr": lr, **({"diverged": "x"} if diverged else {}),  # noqa: E731
                                                   "history": {"val_perplexity": [ppl], "epoch": [1]}}
    runs = [run("RNN, 2 layers", 1, 9.0), run("RNN, 2 layers", 5, 1.0, diverged=True), run("GRU, 2 layers", 2, 8.0),
            run("GRU, 2 layers", 5, 7.5), run("LSTM, 2 layers", 5, 6.0)]
    assert lr_sweep.choose(runs) == {"rnn": 1, "gru": 5, "lstm": 5}


@pytest.mark.slow
def test_multiseed_takes_the_rates_from_the_sweep(tmp_path, quick_sweep):
    out = tmp_path / "r.json"
    run_script("gru-vs-lstm", "--quick", "--seeds", "0", "--sweep", str(quick_sweep[0]), "--out", str(out))
    result = json.loads(out.read_text())
    chosen = json.loads(quick_sweep[0].read_text())["chosen"]
    assert result["settings"]["lrs"] == chosen
    assert {r["label"]: r["lr"] for r in result["runs"]} == {
        label: chosen[cell] for label, (cell, _) in result["settings"]["runs"].items()}


def test_without_a_sweep_multiseed_says_what_to_run(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, str(SCRIPT), "gru-vs-lstm", "--quick", "--sweep", str(tmp_path / "none.json")],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 1 and proc.stderr.strip() == (
        f"error: {tmp_path / 'none.json'} does not exist; run scripts/lr_sweep.py first (or pass --sweep)")


@pytest.mark.slow
def test_quick_runs_then_resume_makes_only_the_missing_ones(tmp_path, quick_sweep):
    out = tmp_path / "r.json"
    sweep = ["--sweep", str(quick_sweep[0])]
    run_script("gru-vs-lstm", "--quick", "--seeds", "0", "--labels", "RNN, 2 layers", "--out", str(out), *sweep)
    first = json.loads(out.read_text())
    assert first["complete"] and [(r["label"], r["seed"]) for r in first["runs"]] == [("RNN, 2 layers", 0)]
    (run,) = first["runs"]
    assert len(run["history"]["val_perplexity"]) == 1 and run["num_parameters"] == 220717
    printed = run_script("gru-vs-lstm", "--quick", "--seeds", "0", "1", "--labels", "RNN, 2 layers",
                         "--out", str(out), "--resume", *sweep)
    assert "seed 0" not in printed and "RNN, 2 layers, seed 1" in printed  # seed 0 was kept, not re-run
    second = json.loads(out.read_text())
    assert [r["seed"] for r in second["runs"]] == [0, 1]
    assert second["runs"][0] == run and second["complete"] and len(second["resumed"]) == 1
    other = tmp_path / "other.json"  # e.g. seed 2 run elsewhere
    run_script("gru-vs-lstm", "--quick", "--seeds", "2", "--labels", "RNN, 2 layers", "--out", str(other), *sweep)
    merged = tmp_path / "merged.json"
    run_script("gru-vs-lstm", "--seeds", "0", "1", "2", "--labels", "RNN, 2 layers", "--out", str(merged),
               "--merge", str(out), str(other))
    third = json.loads(merged.read_text())
    assert [r["seed"] for r in third["runs"]] == [0, 1, 2] and third["complete"]
    assert third["runs"][:2] == second["runs"]


def _stored_text(notebook, cell_id):
    cells = json.loads((NOTEBOOKS / notebook).read_text())["cells"]
    (cell,) = [c for c in cells if c.get("id") == cell_id]
    return "".join("".join(o.get("text", "")) for o in cell["outputs"])


def _seed0(study):
    results = json.loads((NOTEBOOKS / "results" / f"{study}.json").read_text())
    assert results["complete"] and not results["quick"] and len(results["seeds"]) >= 3
    return {r["label"]: r for r in results["runs"] if r["seed"] == 0}


@pytest.mark.parametrize("cell_id", ["gru-vs-lstm-18", "gru-vs-lstm-25"])
def test_gru_vs_lstm_seed_0_is_the_notebooks_run(cell_id):
    """Same settings in script and notebook: the stored results of seed 0 print the notebook's table rows."""
    runs = _seed0("gru-vs-lstm")
    lines = [line for line in _stored_text("gru-vs-lstm.ipynb", cell_id).splitlines() if line.startswith("| ")]
    cells = lambda line: [c.strip() for c in line.strip().strip("|").split("|")]  # noqa: E731
    seconds = cells(lines[0]).index("s/epoch")  # timing differs between the runs; every other column agrees
    assert len(lines) == 4
    for row in lines[1:]:
        label = cells(row)[0]
        expected = d2lrnn.results_table({label: d2lrnn.History(**runs[label]["history"])},
                                        {label: runs[label]["num_parameters"]}).splitlines()[2]
        got, want = cells(row), cells(expected)
        del got[seconds], want[seconds]
        assert got == want


def test_more_books_seed_0_is_the_notebooks_run():
    runs = _seed0("more-books")
    table = _stored_text("more-books.ipynb", "more-books-27").split("\n\n")[-1]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "held out" not in line]
    assert len(rows) == 4
    for row in rows:
        label, *values = [c.strip() for c in row.strip("|").split("|")]
        held_out = runs[label]["held_out"]
        assert values == [f"{held_out[name]:.2f}" for name in ("Time Machine", "War of the Worlds",
                                                              "Pride and Prejudice")]
    assert re.search(r"\d", table)
