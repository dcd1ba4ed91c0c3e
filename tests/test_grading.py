"""nbgrader end to end: generate, autograde and feedback with nbgrader's own commands and gradebook.

Everything happens in a temporary course directory made from course/ (config and sources),
with HOME, the Jupyter, IPython and Matplotlib folders moved into the temporary directory
and no bytecode written, so nothing lands outside it; a test checks that the repository
is unchanged. Submissions are placed where ``nbgrader collect`` puts them
(``submitted/<student>/<assignment>/``). The notebooks run with ``D2LRNN_QUICK=1`` (set
by conftest.py), as the instructor guide recommends for autograding.
"""
import html
import inspect

import nbformat
import pytest
from nbgrader.api import Gradebook

import course as shared
from course import (ASSIGNMENT, COMPARISONS, GATES_MISTAKE, STATE_MISTAKE, TIMEOUT, cells_by_id, repo_state,
                    solved, submit, tools, with_mistake)
from d2lrnn import scratch

pytestmark = pytest.mark.slow  # every test here runs nbgrader on whole notebooks


def with_cells(nb, **sources):
    """A copy of ``nb`` whose solution cells (by grade id) hold the given sources instead."""
    nb = nbformat.from_dict(nb)
    for grade_id, source in sources.items():
        cells_by_id(nb)[grade_id].source = source
    return nb


# Ways round the checks that must not pay: each with what autograding must give instead.
# deep-rnn-scratch: the package's own functions handed in; a wrong LSTM with the checks and
# the reference replaced from a cell; the reference LSTM pasted with its comments.
REFERENCE = {name: f"{name} = d2l.scratch.{name}" for name in ("rnn_cell", "gru_cell", "lstm_cell", "deep_rnn")}
TAMPERING = ("\nchecks.check_lstm_cell = checks.check_against_gluon = lambda *args: True\n"
             "d2l.scratch.STEPS['lstm'] = lstm_cell\n")


def generated(course, assignment, env):
    """Run generate_assignment in this module's own course; return (released notebook, source notebook)."""
    tools.nbgrader(course, "generate_assignment", assignment, env=env, timeout=TIMEOUT)
    return shared.generated(course, assignment)


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
    submit(course, "reference", with_cells(right, **REFERENCE))
    gates = with_mistake(right, *GATES_MISTAKE)
    submit(course, "tampered", with_cells(gates, lstm_cell=cells_by_id(gates)["lstm_cell"].source + TAMPERING))
    submit(course, "pasted", with_cells(right, lstm_cell=inspect.getsource(scratch.lstm_cell)))
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
        right = solved(release, source)
        submit(course, "solved", right, assignment)
        submit(course, "untouched", release, assignment)
        for student, (grade_id, old, new, _, _) in WRONG_RUNS[assignment].items():
            submit(course, student, with_mistake(right, grade_id, old, new), assignment)
        tools.nbgrader(course, "autograde", assignment, env=env, timeout=TIMEOUT)
        tools.nbgrader(course, "generate_feedback", assignment, env=env, timeout=TIMEOUT)
    yield course
    assert repo_state() == before, "grading wrote into the repository"


def scores(course, student, assignment=ASSIGNMENT):
    """(total score, max score, {grade_id: score}) of the student's autograded submission."""
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        submission = gb.find_submission(assignment, student)
        notebook = gb.find_submission_notebook(assignment, assignment, student)
        cells = {g.name: g.score for g in notebook.grades}
        return submission.score, submission.max_score, cells


def feedback(course, student, assignment=ASSIGNMENT):
    """The feedback page as text (HTML entities decoded, so the checks' quotes read as printed)."""
    return html.unescape((course / "feedback" / student / assignment / f"{assignment}.html").read_text())


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


def test_the_packages_own_functions_score_nothing(graded):
    score, _, cells = scores(graded, "reference")
    assert score == 0, cells
    assert "this lstm_cell is the package's own function (d2lrnn.scratch.lstm_cell), not yours" \
        in feedback(graded, "reference")


def test_replacing_the_checks_from_a_cell_changes_no_score(graded):
    """A wrong LSTM with the graded checks and the reference replaced scores what the wrong LSTM scores."""
    score, _, cells = scores(graded, "tampered")
    assert (score, cells["check_lstm_cell"], cells["check_against_gluon"]) == (6, 0, 0), cells
    assert "wrong gate order: your code reads the stacked blocks of the weights as i, f, o, g" \
        in feedback(graded, "tampered")


def test_a_pasted_reference_loses_its_checks(graded):
    score, _, cells = scores(graded, "pasted")
    assert (score, cells["check_lstm_cell"], cells["check_against_gluon"]) == (6, 0, 0), cells
    assert "is a copy of the package's own d2lrnn.scratch.lstm_cell, comments and all" in feedback(graded, "pasted")


@pytest.mark.parametrize("assignment", COMPARISONS)
def test_the_comparison_exercises_score_full_marks_solved_and_zero_untouched(graded_comparisons, assignment):
    score, max_score, cells = scores(graded_comparisons, "solved", assignment)
    assert max_score == COMPARISONS[assignment] and score == max_score, cells
    score, _, cells = scores(graded_comparisons, "untouched", assignment)
    assert score == 0, cells


WRONG_RUNS = {  # assignment -> student -> (solution cell, old, new, score, the check's message)
    "gru-vs-lstm": {
        # one epoch, with the graded check replaced as well: no run is long enough, and lr = 5
        # does not diverge in one quick epoch, so nothing is kept as diverged
        "short": ("q1_runs", "train_run('LSTM, 2 layers'",
                  "checks.check_runs = lambda *args, **kwargs: True\nnum_epochs = 1\ntrain_run('LSTM, 2 layers'",
                  0, "'LSTM, 2 layers' was trained for 1 epoch, but the question asks for at least 3"),
        # validated on the end of its own training text
        "own-text": ("q1_runs", "train_run('LSTM, 2 layers'",
                     "valid_indices = train_indices[-700:]\ntrain_run('LSTM, 2 layers'",
                     1, "the held-out text shares text with the training text"),
        # a run that trained passed off as question 2's divergence
        "fake-divergence": ("q2_run", "train_run('RNN, 2 layers', 'rnn', 2, lr=1)",
                            "train_run('RNN, 2 layers', 'rnn', 2, lr=1)\n"
                            "diverged['RNN, 2 layers, lr 5'] = histories['RNN, 2 layers']",
                            5, "'RNN, 2 layers, lr 5' was trained with lr=1, but the question asks what lr=5 does"),
    },
    "more-books": {
        "one-book": ("ex3_runs", "train_parts['Time Machine'] + train_parts['War of the Worlds']",
                     "train_parts['Time Machine']", 2,
                     "'Time Machine + War of the Worlds' was trained on the training text of Time Machine only, "
                     "but the question asks for the training text of Time Machine and War of the Worlds"),
        "unequal": ("ex3_runs", "valid_parts['Time Machine'], num_epochs)", "valid_parts['Time Machine'], "
                    "2 * num_epochs)", 2, "the runs made different numbers of updates"),
        "hand-made": ("ex4_runs", "train_run('Pride and Prejudice', train_parts['Pride and Prejudice'], "
                      "valid_parts['Pride and Prejudice'], 2 * num_epochs)",
                      "histories['Pride and Prejudice'] = d2l.History([1, 2], [9.0, 8.0], [1.0, 1.0], [2240, 2240], "
                      "[9.5, 8.5])", 2, "'Pride and Prejudice' has no record of what it was trained on"),
    },
}


@pytest.mark.parametrize("assignment, student", [(a, s) for a, wrong in WRONG_RUNS.items() for s in wrong])
def test_runs_not_made_as_asked_lose_their_points_with_the_checks_message(graded_comparisons, assignment, student):
    *_, points, message = WRONG_RUNS[assignment][student]
    score, max_score, cells = scores(graded_comparisons, student, assignment)
    assert (score, max_score) == (points, COMPARISONS[assignment]), cells
    assert message in feedback(graded_comparisons, student, assignment)
