"""The from-scratch notebooks: the code they show is the package's, and the exercise's checks work.

The solution notebook and the exercise's nbgrader source show the cell functions and the
stacking loop they teach; the test compares their syntax trees with the package's (the
solution markers are comments), so they cannot drift. The student notebook, generated from
the source, must report, as committed, that every graded check's function is not implemented
yet and fail its cell; with the source's solutions in place it must pass every check. Both
runs are nbgrader's autograde of the shared course (conftest.py's ``graded``): its
``untouched`` submission is the committed student notebook (test_exercises.py shows they are
the same), its ``solved`` one has the source's solutions, so no notebook is executed twice.
"""
import ast
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

from course import autograded
from d2lrnn import scratch

REPO = Path(__file__).resolve().parent.parent
SOLUTION = REPO / "notebooks" / "deep-rnn-scratch.ipynb"
SOURCE = REPO / "course" / "source" / "deep-rnn-scratch" / "deep-rnn-scratch.ipynb"
EXERCISE = REPO / "notebooks" / "exercises" / "deep-rnn-scratch.ipynb"
TAUGHT = ("rnn_cell", "gru_cell", "lstm_cell", "deep_rnn")
# grade_id of each graded check cell -> the functions its verdict lines name while everything is a stub.
STUB_REPORTS = {
    "check_rnn_cell": ["rnn_cell"],
    "check_gru_cell": ["gru_cell"],
    "check_lstm_cell": ["lstm_cell"],
    "check_deep_rnn": ["deep_rnn"],
    "check_against_gluon": ["deep_rnn"] * 3,
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


@pytest.mark.parametrize("path", [SOLUTION, SOURCE], ids=["solution", "nbgrader-source"])
def test_the_notebook_shows_the_package_code(path):
    shown = notebook_functions(path)
    assert sorted(shown) == sorted(TAUGHT)
    for name, node in package_functions().items():
        assert len(shown[name]) == 1, f"{name} is defined more than once"
        assert ast.dump(shown[name][0]) == ast.dump(node), f"{name} in {path.name} differs from d2lrnn/scratch.py"


def test_the_exercise_stubs_keep_the_package_signatures_and_docstrings():
    stubs = notebook_functions(EXERCISE)
    assert sorted(stubs) == sorted(TAUGHT)
    for name, node in package_functions().items():
        (stub,) = stubs[name]
        assert ast.dump(stub.args) == ast.dump(node.args), name
        assert ast.get_docstring(stub) == ast.get_docstring(node), name
        last = stub.body[-1]
        assert isinstance(last, ast.Raise) and last.exc.func.id == "NotImplementedError", name


def reports(nb):
    """grade_id -> (printed text, error names) of an executed notebook's graded check cells."""
    reports = {}
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code" and grade_id in STUB_REPORTS:
            text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
            errors = [o.ename for o in cell.outputs if o.output_type == "error"]
            reports[grade_id] = (text, errors)
        elif cell.cell_type == "code":
            assert not any(o.output_type == "error" for o in cell.outputs), cell.source
    assert sorted(reports) == sorted(STUB_REPORTS)
    return reports


@pytest.mark.slow
def test_the_exercise_as_committed_reports_every_stub_and_fails_its_checks(graded):
    for grade_id, (text, errors) in reports(autograded(graded, "untouched")).items():
        lines = text.splitlines()
        assert errors == ["AssertionError"], (grade_id, errors)
        assert len(lines) == len(STUB_REPORTS[grade_id]), (grade_id, text)
        for line, name in zip(lines, STUB_REPORTS[grade_id]):
            assert line.startswith("\u2718 ") and \
                f"not implemented yet: `{name}` still raises NotImplementedError" in line, (grade_id, line)


@pytest.mark.slow
def test_the_source_with_its_solutions_passes_every_check(graded):
    for grade_id, (text, errors) in reports(autograded(graded, "solved")).items():
        lines = text.splitlines()
        assert errors == [], (grade_id, errors)
        assert len(lines) == len(STUB_REPORTS[grade_id]), (grade_id, text)
        assert all(line.startswith("\u2714 ") and " is correct: " in line for line in lines), (grade_id, text)
