"""The 2019 chapter's own code cells run against d2lrnn with only the import changed.

Sections: ``rnn-scratch``, ``gru``, ``lstm`` (``../shared/reference/chapter-2019/*.md``, their
```` ```{.python .input} ```` blocks) and the seed ``deep-rnn`` notebook. To keep the test
short the epoch counts in the hyperparameter cells are lowered as well, and so is the
print cadence of rnn-scratch's own training loop (every 50 / 100 epochs in the book).
"""
import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import mxnet as mx
import pytest

REFERENCE_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "reference"
IMPORT = ("import d2l\n", "import d2lrnn as d2l\n")

# section -> (source file, [(book text, lowered text), ...], training runs, prediction lines per prefix)
SECTIONS = {
    "rnn-scratch": ("chapter-2019/rnn-scratch.md", [
        ("num_epochs, num_steps, batch_size, lr, clipping_theta = 500,",
         "num_epochs, num_steps, batch_size, lr, clipping_theta = 6,"),
        ("if (epoch + 1) % 50 == 0:", "if (epoch + 1) % 1 == 0:"),
        ("if (epoch + 1) % 100 == 0:", "if (epoch + 1) % 3 == 0:"),
    ], 2, 4),
    # gru and lstm train from scratch for num_epochs, then with Gluon for num_epochs * 5.
    "gru": ("chapter-2019/gru.md", [
        ("num_epochs, num_steps, batch_size, lr, clipping_theta = 100,",
         "num_epochs, num_steps, batch_size, lr, clipping_theta = 4,"),
    ], 2, 4),
    "lstm": ("chapter-2019/lstm.md", [
        ("num_epochs, num_steps, batch_size, lr, clipping_theta = 100,",
         "num_epochs, num_steps, batch_size, lr, clipping_theta = 4,"),
    ], 2, 4),
    "deep-rnn": ("deep-rnn-chapter-2019.ipynb", [
        ("num_epochs, num_steps, batch_size, lr, clipping_theta = 500,",
         "num_epochs, num_steps, batch_size, lr, clipping_theta = 4,"),
    ], 1, 2),
}


def code_cells(path):
    """The code cells of a book section: a notebook's code cells, or a Markdown file's ```{.python .input} blocks."""
    if path.suffix == ".ipynb":
        return ["".join(c["source"]) for c in json.loads(path.read_text())["cells"]
                if c["cell_type"] == "code"]
    return re.findall(r"^```\{\.python \.input[^}]*\}\n(.*?)^```", path.read_text(), re.M | re.S)


def replace_once(cells, old, new):
    """``cells`` with the one cell containing ``old`` changed; fails if ``old`` is not there exactly once."""
    hits = [i for i, source in enumerate(cells) if old in source]
    assert len(hits) == 1 and cells[hits[0]].count(old) == 1, f"{old!r} found {len(hits)} times"
    return [source.replace(old, new) if i == hits[0] else source for i, source in enumerate(cells)]


def perplexities(out):
    """Perplexities of the printed 'epoch N, perplexity P, ...' lines of ``out``."""
    return [float(p) for p in re.findall(r"^epoch \d+, perplexity ([\d.]+|inf|nan)", out, re.M)]


@pytest.mark.slow
@pytest.mark.skipif(not REFERENCE_DIR.is_dir(),
                    reason="../shared/reference (the 2019 chapter) is not beside the repository")
@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_section_code_cells_run_with_only_the_import_changed(section, capsys, monkeypatch):
    filename, lowered, num_runs, num_predictions = SECTIONS[section]
    path = REFERENCE_DIR / filename
    cells = code_cells(path)
    for old, new in [IMPORT] + lowered:
        cells = replace_once(cells, old, new)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the sections insert '..' into sys.path
    random.seed(0)
    mx.random.seed(0)
    namespace, out, runs = {}, "", []
    for i, source in enumerate(cells):
        exec(compile(source, f"{path.name}, code cell {i}", "exec"), namespace)
        cell_out = capsys.readouterr().out
        out += cell_out
        if perplexities(cell_out):
            runs.append(perplexities(cell_out))  # one training run per cell
    assert len(runs) == num_runs, out
    for ppl in runs:
        assert len(ppl) >= 2 and ppl[-1] < 0.95 * ppl[0], f"perplexity did not fall: {ppl}\n{out}"
    assert out.count(" - traveller") == num_predictions and \
        out.count(" - time traveller") == num_predictions, out
    assert len(namespace["vocab"]) == 44 and len(namespace["corpus_indices"]) == 10000


# Runs every cell of a section in a new interpreter, cwd = a folder whose ../data holds the book
# (where d2l 0.9.2's loader reads it), and prints what the cells print.
_RUN_CELLS = """
import json, sys
for i, source in enumerate(json.load(sys.stdin)):
    exec(compile(source, f"code cell {i}", "exec"), globals())
"""


@pytest.mark.slow
@pytest.mark.skipif(not REFERENCE_DIR.is_dir(),
                    reason="../shared/reference (the 2019 chapter) is not beside the repository")
@pytest.mark.parametrize("section", ["rnn-scratch", "deep-rnn"])
def test_section_runs_unchanged_with_the_chapters_own_d2l(section, tmp_path):
    # d2l 0.9.2 imports mxnet before d2lrnn is anywhere: the start-up hook makes that work.
    import d2l  # noqa: F401  (the reference package, installed by the test extra)
    filename, lowered, num_runs, _ = SECTIONS[section]
    cells = code_cells(REFERENCE_DIR / filename)
    for old, new in lowered:
        cells = replace_once(cells, old, new)
    assert cells[0].lstrip().startswith("import sys") and "import d2l\n" in cells[0]
    (tmp_path / "data").mkdir()
    book = Path(os.environ["D2LRNN_DATA_DIR"]) / "timemachine.txt"
    (tmp_path / "data" / "timemachine.txt").write_bytes(book.read_bytes())
    (tmp_path / "section").mkdir()
    environ = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    result = subprocess.run([sys.executable, "-c", _RUN_CELLS], input=json.dumps(cells),
                            capture_output=True, text=True, cwd=tmp_path / "section",
                            env=environ, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "AttributeError" not in result.stderr
    ppl = perplexities(result.stdout)
    assert len(ppl) >= 2 * num_runs and ppl[-1] < ppl[0], result.stdout
