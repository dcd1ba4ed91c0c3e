"""tools/record.py: every worked notebook and results file is recorded, in an order that works."""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("record", REPO / "tools" / "record.py")
record = importlib.util.module_from_spec(spec)
spec.loader.exec_module(record)


def test_every_worked_notebook_and_results_file_has_a_step():
    notebooks = {str(p.relative_to(REPO)) for p in (REPO / "notebooks").glob("*.ipynb")}
    assert notebooks == {what for _, what in record.STEPS if isinstance(what, str)}
    # every results file that a notebook loads is made by a step
    loaded = set()
    for path in notebooks:
        for cell in json.loads((REPO / path).read_text())["cells"]:
            text = "".join(cell["source"])
            loaded |= {part.split("'")[0] for part in text.split("Path('results/")[1:]}
    scripts = " ".join(" ".join(what) for _, what in record.STEPS if not isinstance(what, str))
    made = {"gru-vs-lstm-sweep.json": "lr_sweep.py", "gru-vs-lstm.json": "multiseed.py gru-vs-lstm",
            "more-books.json": "multiseed.py more-books", "layer-timescales.json": "layer_timescales.py",
            "cures.json": "cures.py"}
    assert loaded == set(made)
    assert all(made[name] in scripts for name in loaded)


def test_results_before_the_notebooks_and_the_sweep_before_the_comparison():
    names = [name for name, _ in record.STEPS]
    kinds = [isinstance(what, str) for _, what in record.STEPS]
    assert kinds == sorted(kinds)  # all scripts, then all notebooks
    assert names.index("lr-sweep") < names.index("gru-vs-lstm-seeds")


def test_quick_mode_is_refused():
    env = {**os.environ, "D2LRNN_QUICK": "1"}
    proc = subprocess.run([sys.executable, str(REPO / "tools" / "record.py"), "--only", "deep-rnn"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.strip() == "error: D2LRNN_QUICK is set; unset it, stored outputs come from full runs"
