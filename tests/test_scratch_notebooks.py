"""The from-scratch notebooks: the code they show is the package's, and the exercise's checks work.

The solution notebook shows the cell functions and the stacking loop it teaches; the
test compares their syntax trees with the package's, so they cannot drift. The exercise
notebook is executed twice: as committed (every check must say its function is not
implemented yet, not fail in some other way) and with the package's functions in place
of the stubs (every check must pass).
"""
import ast
import inspect
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager
from nbclient import NotebookClient

from d2lrnn import scratch

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SOLUTION = NOTEBOOKS / "deep-rnn-scratch.ipynb"
EXERCISE = NOTEBOOKS / "exercises" / "deep-rnn-scratch.ipynb"
TAUGHT = ("rnn_cell", "gru_cell", "lstm_cell", "deep_rnn")
# What each check cell of the exercise must report while everything is a stub.
STUB_REPORTS = {
    "checks.check_rnn_cell(rnn_cell)": ["rnn_cell"],
    "checks.check_gru_cell(gru_cell)": ["gru_cell"],
    "checks.check_lstm_cell(lstm_cell)": ["lstm_cell"],
    "checks.check_deep_rnn(deep_rnn)": ["deep_rnn"],
    "checks.check_against_gluon(deep_rnn, rnn_cell, gru_cell, lstm_cell)": ["deep_rnn"] * 3,
}


def package_functions():
    """name -> FunctionDef of the taught functions, parsed from d2lrnn/scratch.py."""
    tree = ast.parse(Path(scratch.__file__).read_text())
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name in TAUGHT}


def notebook_functions(path):
    """name -> list of FunctionDefs of the taught functions defined in the notebook's code cells."""
    found = {}
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code":
            python = TransformerManager().transform_cell(cell.source)  # IPython magics to Python
            for node in ast.parse(python).body:
                if isinstance(node, ast.FunctionDef) and node.name in TAUGHT:
                    found.setdefault(node.name, []).append(node)
    return found


def test_the_solution_shows_the_package_code():
    shown = notebook_functions(SOLUTION)
    assert sorted(shown) == sorted(TAUGHT)
    for name, node in package_functions().items():
        assert len(shown[name]) == 1, f"{name} is defined more than once"
        assert ast.dump(shown[name][0]) == ast.dump(node), f"{name} in the notebook differs from d2lrnn/scratch.py"


def test_the_exercise_stubs_keep_the_package_signatures_and_docstrings():
    stubs = notebook_functions(EXERCISE)
    assert sorted(stubs) == sorted(TAUGHT)
    for name, node in package_functions().items():
        (stub,) = stubs[name]
        assert ast.dump(stub.args) == ast.dump(node.args), name
        assert ast.get_docstring(stub) == ast.get_docstring(node), name
        last = stub.body[-1]
        assert isinstance(last, ast.Raise) and last.exc.func.id == "NotImplementedError", name


def run(nb):
    """Execute ``nb`` in a fresh kernel in the notebook's folder; any error output fails the test."""
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(EXERCISE.parent)}}).execute()
    reports = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source in STUB_REPORTS:
            reports[cell.source] = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    assert sorted(reports) == sorted(STUB_REPORTS)
    return reports


@pytest.fixture(scope="module")
def exercise():
    return nbformat.read(EXERCISE, as_version=4)


def test_the_exercise_as_committed_reports_every_stub(exercise):
    for source, text in run(exercise).items():
        lines = text.splitlines()
        assert len(lines) == len(STUB_REPORTS[source]), (source, text)
        for line, name in zip(lines, STUB_REPORTS[source]):
            assert line.startswith("\u2718 ") and \
                f"not implemented yet: `{name}` still raises NotImplementedError" in line, (source, line)


def test_the_exercise_passes_with_the_solutions_filled_in(exercise):
    for cell in exercise.cells:
        if cell.cell_type == "code" and cell.source.startswith("def "):
            name = ast.parse(cell.source).body[0].name
            cell.source = inspect.getsource(getattr(scratch, name))
    for source, text in run(exercise).items():
        lines = text.splitlines()
        assert len(lines) == len(STUB_REPORTS[source]), (source, text)
        assert all(line.startswith("\u2714 ") and " is correct: " in line for line in lines), (source, text)
