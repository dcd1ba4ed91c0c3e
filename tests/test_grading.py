"""nbgrader end to end: generate, autograde and feedback with nbgrader's own commands and gradebook.

Everything happens in a temporary course directory made from course/ (config and sources),
with HOME, the Jupyter, IPython and Matplotlib folders moved into the temporary directory
and no bytecode written, so nothing lands outside it; a test checks that the repository
is unchanged. Submissions are placed where ``nbgrader collect`` puts them
(``submitted/<student>/<assignment>/``). The notebooks run with ``D2LRNN_QUICK=1`` (set
by conftest.py), as the instructor guide recommends for autograding.
"""
import subprocess

import nbformat
import pytest
from nbgrader.api import Gradebook

from tiny import REPO, load_course_tools

tools = load_course_tools()
ASSIGNMENT = "deep-rnn-scratch"
COMPARISONS = {"gru-vs-lstm": 5, "more-books": 4}  # the open-ended exercises: assignment -> points
TIMEOUT = 900  # seconds for one nbgrader command; the stub must not hang the autograder
# Typical mistakes, as (solution cell, right code, wrong code): the LSTM reads its gate blocks
# as i, f, o, g; every layer starts from layer 0's state. tests/hub uses them too.
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


def generated(course, assignment, env):
    """Run generate_assignment; return (released notebook, source notebook)."""
    tools.nbgrader(course, "generate_assignment", assignment, env=env, timeout=TIMEOUT)
    return tuple(nbformat.read(course / folder / assignment / f"{assignment}.ipynb", as_version=4)
                 for folder in ("release", "source"))


def repo_state():
    return subprocess.run(["git", "status", "--porcelain", "--ignored", "--untracked-files=all"],
                          cwd=REPO, capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Generate, submit four notebooks, autograde them and make feedback; return the course folder."""
    before = repo_state()
    tmp = tmp_path_factory.mktemp("grading")
    course, env = tools.make_course(tmp / "course"), tools.isolated_env(tmp / "env")
    release, source = generated(course, ASSIGNMENT, env)
    right = solved(release, source)
    submit(course, "solved", right)
    submit(course, "untouched", release)
    submit(course, "gates", with_mistake(right, *GATES_MISTAKE))
    submit(course, "state", with_mistake(right, *STATE_MISTAKE))
    tools.nbgrader(course, "autograde", ASSIGNMENT, env=env, timeout=TIMEOUT)
    tools.nbgrader(course, "generate_feedback", ASSIGNMENT, env=env, timeout=TIMEOUT)
    yield course
    assert repo_state() == before, "grading wrote into the repository"


@pytest.fixture(scope="module")
def graded_comparisons(tmp_path_factory):
    """The open-ended exercises, solved and untouched, autograded in one course; return the course folder."""
    before = repo_state()
    tmp = tmp_path_factory.mktemp("comparisons")
    course, env = tools.make_course(tmp / "course"), tools.isolated_env(tmp / "env")
    for assignment in COMPARISONS:
        release, source = generated(course, assignment, env)
        submit(course, "solved", solved(release, source), assignment)
        submit(course, "untouched", release, assignment)
        tools.nbgrader(course, "autograde", assignment, env=env, timeout=TIMEOUT)
    yield course
    assert repo_state() == before, "grading wrote into the repository"


def scores(course, student, assignment=ASSIGNMENT):
    """(total score, max score, {grade_id: score}) of the student's autograded submission."""
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        submission = gb.find_submission(assignment, student)
        notebook = gb.find_submission_notebook(assignment, assignment, student)
        cells = {g.name: g.score for g in notebook.grades}
        return submission.score, submission.max_score, cells


def feedback(course, student):
    return (course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()


def test_the_solution_scores_full_marks(graded):
    score, max_score, cells = scores(graded, "solved")
    assert max_score == 10 and score == max_score, cells
    assert "is correct: it matches the reference LSTM step" in feedback(graded, "solved")


def test_the_untouched_student_notebook_scores_zero(graded):
    score, _, cells = scores(graded, "untouched")
    assert score == 0, cells
    assert "\u2718 rnn_cell: not implemented yet: `rnn_cell` still raises NotImplementedError" \
        in feedback(graded, "untouched")


def test_lstm_gates_in_the_wrong_order_lose_the_lstm_and_gluon_checks(graded):
    score, _, cells = scores(graded, "gates")
    assert (score, cells["check_lstm_cell"], cells["check_against_gluon"]) == (6, 0, 0), cells
    assert "wrong gate order: your code reads the stacked blocks of the weights as i, f, o, g" \
        in feedback(graded, "gates")


def test_layers_sharing_the_bottom_state_lose_the_stacking_and_gluon_checks(graded):
    score, _, cells = scores(graded, "state")
    assert (score, cells["check_deep_rnn"], cells["check_against_gluon"]) == (5, 0, 0), cells
    assert "every layer starts from the bottom layer" in feedback(graded, "state")


@pytest.mark.parametrize("assignment", COMPARISONS)
def test_the_comparison_exercises_score_full_marks_solved_and_zero_untouched(graded_comparisons, assignment):
    score, max_score, cells = scores(graded_comparisons, "solved", assignment)
    assert max_score == COMPARISONS[assignment] and score == max_score, cells
    score, _, cells = scores(graded_comparisons, "untouched", assignment)
    assert score == 0, cells
