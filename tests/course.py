"""The nbgrader course that the tests share: generated once, graded once per session.

A helper module, not a test file: conftest.py builds its session fixtures from these
functions (``course``, ``graded``, ``graded_comparisons``), and test_exercises.py,
test_grading.py and test_scratch_notebooks.py read the results, so that nbgrader's
``generate_assignment`` runs once per assignment and each submission is executed once.

Everything happens in a temporary course directory made from course/ (config and sources),
with HOME, the Jupyter, IPython and Matplotlib folders moved into the temporary directory
and no bytecode written, so nothing lands outside it; ``repo_state`` lets the fixtures check
that the repository is unchanged. Submissions are placed where ``nbgrader collect`` puts
them (``submitted/<student>/<assignment>/``). The notebooks run with ``D2LRNN_QUICK=1`` (set
by conftest.py), as the instructor guide recommends for autograding.
"""
import subprocess
from types import SimpleNamespace

import nbformat

from tiny import REPO, load_course_tools

tools = load_course_tools()
ASSIGNMENT = "deep-rnn-scratch"
COMPARISONS = {"gru-vs-lstm": 6, "more-books": 4}  # the open-ended exercises: assignment -> points
TIMEOUT = 900  # seconds for one nbgrader command; the stub must not hang the autograder
# Typical mistakes, as (solution cell, right code, wrong code): the LSTM reads its gate blocks
# as i, f, o, g; every layer starts from layer 0's state. test_grading.py and tests/hub use them too.
GATES_MISTAKE = ("lstm_cell", "I, F, G, O = nd.split", "I, F, O, G = nd.split")
STATE_MISTAKE = ("deep_rnn", "tuple(s[l] for s in state)", "tuple(s[0] for s in state)")


def cells_by_id(nb):
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}


def solved(release, source):
    """The released notebook with every solution cell written as the source's solution."""
    nb = nbformat.from_dict(release)
    answers = cells_by_id(source)
    for grade_id, cell in cells_by_id(nb).items():
        if cell.metadata["nbgrader"].get("solution"):
            cell.source = answers[grade_id].source
    return nb


def with_mistake(nb, grade_id, old, new):
    """A copy of ``nb`` where the solution cell ``grade_id`` has ``old`` replaced by ``new``."""
    nb = nbformat.from_dict(nb)
    cell = cells_by_id(nb)[grade_id]
    assert old in cell.source
    cell.source = cell.source.replace(old, new)
    return nb


def submit(course, student, nb, assignment=ASSIGNMENT):
    """Put ``nb`` where ``nbgrader collect`` puts a student's submission."""
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{assignment}.ipynb")


def generated(course, assignment):
    """(released notebook, source notebook) of an assignment that ``make_generated_course`` generated."""
    return tuple(nbformat.read(course / folder / assignment / f"{assignment}.ipynb", as_version=4)
                 for folder in ("release", "source"))


def repo_state():
    """``git status`` of the clone, ignored files included, but not Python's bytecode caches (any
    test's first import of a module writes one)."""
    status = subprocess.run(["git", "status", "--porcelain", "--ignored", "--untracked-files=all"],
                            cwd=REPO, capture_output=True, text=True, check=True).stdout
    return "".join(line for line in status.splitlines(keepends=True)
                   if "__pycache__/" not in line and not line.rstrip().endswith(".pyc"))


def make_generated_course(tmp):
    """A course under ``tmp`` with every assignment generated (``tools.generate``, as the
    maintainers run it): namespace of ``course``, ``env`` and ``written`` (the student notebooks)."""
    course, env = tools.make_course(tmp / "course"), tools.isolated_env(tmp / "env")
    written = tools.generate(tmp / "released", course=course, env=env)
    return SimpleNamespace(course=course, env=env, written=written)


def grade_scratch(course, env):
    """Submit four deep-rnn-scratch notebooks, autograde them and make feedback."""
    release, source = generated(course, ASSIGNMENT)
    right = solved(release, source)
    submit(course, "solved", right)
    submit(course, "untouched", release)
    submit(course, "gates", with_mistake(right, *GATES_MISTAKE))
    submit(course, "state", with_mistake(right, *STATE_MISTAKE))
    tools.nbgrader(course, "autograde", ASSIGNMENT, env=env, timeout=TIMEOUT)
    tools.nbgrader(course, "generate_feedback", ASSIGNMENT, env=env, timeout=TIMEOUT)


def grade_comparisons(course, env):
    """The open-ended exercises, solved and untouched, autograded."""
    for assignment in COMPARISONS:
        release, source = generated(course, assignment)
        submit(course, "solved", solved(release, source), assignment)
        submit(course, "untouched", release, assignment)
        tools.nbgrader(course, "autograde", assignment, env=env, timeout=TIMEOUT)


def autograded(course, student, assignment=ASSIGNMENT):
    """The notebook of ``student`` as nbgrader's autograde executed it (with its outputs)."""
    return nbformat.read(course / "autograded" / student / assignment / f"{assignment}.ipynb", as_version=4)
