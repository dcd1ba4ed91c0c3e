"""nbgrader end to end: generate, autograde and feedback with nbgrader's own commands and gradebook.

The course, its submissions and their grading are the session's, made once by the
``graded`` and ``graded_comparisons`` fixtures (conftest.py, course.py), which also check
that the repository is unchanged; these tests read the gradebook and the feedback pages.
"""
import html

import pytest
from nbgrader.api import Gradebook

from course import ASSIGNMENT, COMPARISONS, WRONG_RUNS

pytestmark = pytest.mark.slow  # every test here runs nbgrader on whole notebooks


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


@pytest.mark.parametrize("assignment, student", [(a, s) for a, wrong in WRONG_RUNS.items() for s in wrong])
def test_runs_not_made_as_asked_lose_their_points_with_the_checks_message(graded_comparisons, assignment, student):
    *_, points, message = WRONG_RUNS[assignment][student]
    score, max_score, cells = scores(graded_comparisons, student, assignment)
    assert (score, max_score) == (points, COMPARISONS[assignment]), cells
    assert message in feedback(graded_comparisons, student, assignment)
