"""nbgrader end to end: generate, autograde and feedback with nbgrader's own commands and gradebook.

The course is generated and graded once per session by conftest.py's fixtures (see course.py).
"""
import pytest
from nbgrader.api import Gradebook

from course import ASSIGNMENT, COMPARISONS, autograded


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


@pytest.mark.parametrize("assignment", [ASSIGNMENT, *COMPARISONS])
def test_the_student_notebooks_fail_only_in_cells_tagged_to_raise(graded, graded_comparisons, assignment):
    """What nbval would check of notebooks/exercises/ (stored without outputs, so nothing to compare),
    read from the one execution of each: the autograded untouched submission, which is that notebook."""
    nb = autograded(graded, "untouched", assignment)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.get("execution_count") for c in code if c.source.strip())  # every cell ran
    failing = [c for c in code if any(o.output_type == "error" for o in c.outputs)]
    assert failing  # at least the graded checks
    for cell in failing:
        assert "raises-exception" in cell.metadata.get("tags", []), cell.source
