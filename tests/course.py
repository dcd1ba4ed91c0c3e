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
import inspect
import subprocess
from types import SimpleNamespace

import nbformat

from d2lrnn import scratch
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


# The comparison exercises: runs not made as the questions ask, each scoring what it says.
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
    """Submit the deep-rnn-scratch notebooks (solved, untouched, two mistakes, three ways round
    the checks), autograde them and make feedback."""
    release, source = generated(course, ASSIGNMENT)
    right = solved(release, source)
    gates = with_mistake(right, *GATES_MISTAKE)
    submit(course, "solved", right)
    submit(course, "untouched", release)
    submit(course, "gates", gates)
    submit(course, "state", with_mistake(right, *STATE_MISTAKE))
    submit(course, "reference", with_cells(right, **REFERENCE))
    submit(course, "tampered", with_cells(gates, lstm_cell=cells_by_id(gates)["lstm_cell"].source + TAMPERING))
    submit(course, "pasted", with_cells(right, lstm_cell=inspect.getsource(scratch.lstm_cell)))
    tools.nbgrader(course, "autograde", ASSIGNMENT, env=env, timeout=TIMEOUT)
    tools.nbgrader(course, "generate_feedback", ASSIGNMENT, env=env, timeout=TIMEOUT)


def grade_comparisons(course, env):
    """The open-ended exercises, solved, untouched and with runs not made as asked, autograded, with feedback."""
    for assignment in COMPARISONS:
        release, source = generated(course, assignment)
        right = solved(release, source)
        submit(course, "solved", right, assignment)
        submit(course, "untouched", release, assignment)
        for student, (grade_id, old, new, _, _) in WRONG_RUNS[assignment].items():
            submit(course, student, with_mistake(right, grade_id, old, new), assignment)
        tools.nbgrader(course, "autograde", assignment, env=env, timeout=TIMEOUT)
        tools.nbgrader(course, "generate_feedback", assignment, env=env, timeout=TIMEOUT)


def autograded(course, student, assignment=ASSIGNMENT):
    """The notebook of ``student`` as nbgrader's autograde executed it (with its outputs)."""
    return nbformat.read(course / "autograded" / student / assignment / f"{assignment}.ipynb", as_version=4)
