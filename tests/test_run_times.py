"""docs/teaching.md's run-time table is what the progress bars stored in the worked notebooks say."""
import importlib.util
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _tool():
    spec = importlib.util.spec_from_file_location("run_times", REPO / "tools" / "run_times.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


run_times = _tool()


def test_the_guides_table_is_made_from_the_stored_notebooks():
    guide = (REPO / "docs" / "teaching.md").read_text()
    assert run_times.replace_table(guide, run_times.table()) == guide, \
        "docs/teaching.md's run times differ from the notebooks' progress bars: run tools/run_times.py --write"


def _notebook(tmp_path, bar_texts):
    cells = [{"cell_type": "code", "id": f"c{i}", "metadata": {}, "source": "", "execution_count": 1,
              "outputs": [{"output_type": "display_data", "metadata": {}, "data": {"text/plain": text}}]}
             for i, text in enumerate(bar_texts)]
    for name in run_times.NOTEBOOKS:
        (tmp_path / name).write_text(json.dumps({"cells": cells}))
    return tmp_path


def test_times_add_up_per_notebook(tmp_path):
    folder = _notebook(tmp_path, [
        "training: 100%|██████| 200/200 [07:08<00:00,  2.14s/epoch, epoch=200, perplexity=1.104, tokens_per_s=4,100]",
        "training: 100%|█████| 200/200 [01:15<00:00,  2.65epoch/s, epoch=200, perplexity=1.108, tokens_per_s=24,397]"])
    row = run_times.table(folder).splitlines()[2]
    assert row == ("| `notebooks/deep-rnn.ipynb` (the chapter) | 2 | 8:23 | "
                   "200, 07:08, 4,100; 200, 01:15, 24,397 |")


def test_an_interrupted_run_is_refused(tmp_path):
    folder = _notebook(tmp_path, [
        "training:  40%|██    | 80/200 [01:08<01:42,  1.14s/epoch, epoch=80, perplexity=9.104, tokens_per_s=4,100]"])
    with pytest.raises(ValueError, match="stopped at 80/200"):
        run_times.table(folder)


def test_clock_and_seconds():
    assert run_times.seconds("13:47") == 827 and run_times.seconds("1:02:03") == 3723
    assert run_times.clock(827) == "13:47" and run_times.clock(3723) == "1:02:03"


def test_a_run_that_early_stopping_ended_counts_its_epochs(tmp_path):
    folder = _notebook(tmp_path, [
        "training:  33%|██    | 166/500 [01:08<02:42,  2.43epoch/s, epoch=166, perplexity=2.207, tokens_per_s=28,100, "
        "stopped=early]"])
    row = run_times.table(folder).splitlines()[2]
    assert row == "| `notebooks/deep-rnn.ipynb` (the chapter) | 1 | 1:08 | 166, 01:08, 28,100 |"
