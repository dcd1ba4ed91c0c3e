"""Every notebook, worked or student version, is framed as a lab (issue 30, item 1).

At its top, in the Markdown cells between the two set-up cells and the first code cell after
them: a line that names it part of the core path or an extension, and learning objectives
(a bold line or heading "Learning objectives" or "By the end ..." followed by 3 to 5 bullet
items). At its end, in the Markdown cells after the last code cell: a "Summary" heading, and
a "Self-check" heading with 3 to 5 numbered questions under it, each followed by its answer in a collapsed
``<details><summary>Answer</summary> ... </details>`` block before the next question.
"""
import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb")) + sorted((NOTEBOOK_DIR / "exercises").glob("*.ipynb"))
SETUP_CELLS = 2  # the launch note and the set-up code cell that tools/setup_cells.py writes
MIN_ITEMS, MAX_ITEMS = 3, 5

CORE_OR_EXTENSION = re.compile(r"\*\*(Core path|Extension)\b")
OBJECTIVES = re.compile(r"^(?:#+\s*|\*\*)(?:Learning objectives|By the end)\b", re.I)
BULLET = re.compile(r"^[*-]\s+\S")
SUMMARY = re.compile(r"^#+\s*Summary\s*$", re.M)
SELF_CHECK = re.compile(r"^#+\s*Self-check\b.*$", re.M)
QUESTION = re.compile(r"^\d+\.\s+\S")
ANSWER_OPEN, ANSWER_CLOSE = "<details><summary>Answer</summary>", "</details>"


def head_markdown(cells):
    """The Markdown sources between the set-up cells and the first code cell after them."""
    sources = []
    for cell in cells[SETUP_CELLS:]:
        if cell.cell_type == "code":
            break
        if cell.cell_type == "markdown":
            sources.append(cell.source)
    return sources


def tail_markdown(cells):
    """The Markdown sources after the last code cell."""
    last_code = max((i for i, c in enumerate(cells) if c.cell_type == "code"), default=-1)
    return [c.source for c in cells[last_code + 1:] if c.cell_type == "markdown"]


def objective_counts(text):
    """For each 'Learning objectives' / 'By the end' line in ``text``, how many bullet items follow it."""
    lines = text.split("\n")
    counts = []
    for i, line in enumerate(lines):
        if not OBJECTIVES.match(line.strip()):
            continue
        count, j = 0, i + 1
        while j < len(lines) and not lines[j].strip():  # blank lines before the list
            j += 1
        while j < len(lines) and (BULLET.match(lines[j]) or (count and lines[j].startswith("  "))):
            count += bool(BULLET.match(lines[j]))
            j += 1
        counts.append(count)
    return counts


def self_check_questions(text):
    """(number of questions, number of them followed by an answer block before the next question)."""
    questions = answered = 0
    open_answer = False
    pending = False  # a question still waiting for its answer
    for line in text.split("\n"):
        stripped = line.strip()
        if not open_answer and QUESTION.match(line):
            questions += 1
            pending = True
        elif stripped.startswith(ANSWER_OPEN):
            open_answer = True
        if open_answer and ANSWER_CLOSE in stripped:
            open_answer = False
            answered += pending
            pending = False
    return questions, answered


def frame_problems(nb):
    """What the notebook ``nb`` lacks of a lab's frame, as a list of messages (empty when framed)."""
    problems = []
    head = "\n\n".join(head_markdown(nb.cells))
    if not CORE_OR_EXTENSION.search(head):
        problems.append("its top does not say '**Core path.**' or '**Extension**': add one line saying which "
                        "it is, after the set-up cells")
    counts = objective_counts(head)
    if not any(MIN_ITEMS <= n <= MAX_ITEMS for n in counts):
        found = f"found {counts[0]} bullet items" if counts else "found no 'Learning objectives' line"
        problems.append(f"its top has no learning objectives with {MIN_ITEMS} to {MAX_ITEMS} bullet items ({found}): "
                        "add '**Learning objectives.** By the end you can' and a bullet list after the set-up cells")
    tail = tail_markdown(nb.cells)
    if not any(SUMMARY.search(text) for text in tail):
        problems.append("its end has no '## Summary' heading after the last code cell")
    headings = list(SELF_CHECK.finditer("\n\n".join(tail)))
    if not headings:
        problems.append("its end has no '## Self-check' heading after the last code cell")
    # The questions are those under the last Self-check heading (a list of exercises above it does not count).
    questions, answered = self_check_questions("\n\n".join(tail)[headings[-1].end():] if headings else "")
    if not MIN_ITEMS <= questions <= MAX_ITEMS:
        problems.append(f"its end has {questions} numbered self-check questions after the last code cell, "
                        f"not {MIN_ITEMS} to {MAX_ITEMS}")
    if answered < questions:
        problems.append(f"{questions - answered} of its self-check questions have no "
                        f"'{ANSWER_OPEN} ... {ANSWER_CLOSE}' block after them")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(NOTEBOOK_DIR)))
def test_notebook_is_framed_as_a_lab(path):
    problems = frame_problems(nbformat.read(path, as_version=4))
    assert not problems, f"{path.relative_to(NOTEBOOK_DIR)}:\n" + "\n".join(problems)


def test_every_kind_of_notebook_is_checked():
    names = {str(p.relative_to(NOTEBOOK_DIR)) for p in NOTEBOOKS}
    assert "deep-rnn.ipynb" in names and "exercises/deep-rnn-scratch.ipynb" in names, names
    assert len(names) >= 9, names


def test_core_path_is_the_chapter_and_the_from_scratch_exercise():
    """Exactly the chapter and the from-scratch exercise (both versions) call themselves the core path."""
    core = {str(p.relative_to(NOTEBOOK_DIR)) for p in NOTEBOOKS
            if "**Core path" in "\n".join(head_markdown(nbformat.read(p, as_version=4).cells))}
    assert core == {"deep-rnn.ipynb", "deep-rnn-scratch.ipynb", "exercises/deep-rnn-scratch.ipynb"}


# A synthetic notebook: the two set-up cells, a framed title, one code cell, and a framed end.
FRAMED_TITLE = """# A lab

**Extension** (homework). The core path is the chapter.

**Learning objectives.** By the end you can
* do one thing;
* do another thing, which takes
  two lines;
* do a third thing.

Some prose."""
ANSWER = "\n\n<details><summary>Answer</summary>\n\nBecause.\n\n</details>\n\n"
FRAMED_END = ("## Summary\n\n* A result.\n\n## Self-check\n\n"
              + "".join(f"{i}. Question {i}?{ANSWER}" for i in range(1, 4)))


def synthetic(title=FRAMED_TITLE, end=FRAMED_END):
    v4 = nbformat.v4
    return v4.new_notebook(cells=[v4.new_markdown_cell("*Set-up.*"), v4.new_code_cell("pass"),
                                  v4.new_markdown_cell(title), v4.new_code_cell("x = 1"),
                                  v4.new_markdown_cell(end)])


def test_a_framed_synthetic_notebook_passes():
    assert frame_problems(synthetic()) == []


def _assert_problems(problems, expected):
    """One problem per expected part, in order, each containing its part."""
    assert len(problems) == len(expected), problems
    for problem, part in zip(problems, expected):
        assert part in problem, problems


@pytest.mark.parametrize("title, expected", [
    (FRAMED_TITLE.replace("**Extension** (homework). ", ""), ["'**Core path.**' or '**Extension**'"]),
    (FRAMED_TITLE.replace("**Learning objectives.** By the end you can", "We will learn"),
     ["found no 'Learning objectives' line"]),
    (FRAMED_TITLE.replace("* do a third thing.\n", ""), ["found 2 bullet items"]),
    (FRAMED_TITLE.replace("* do a third thing.\n", "* do a third thing.\n* 4\n* 5\n* 6\n"), ["found 6 bullet items"]),
])
def test_a_notebook_without_a_framed_top_fails(title, expected):
    _assert_problems(frame_problems(synthetic(title=title)), expected)


def test_objectives_after_the_first_code_cell_do_not_count():
    nb = synthetic(title="# A lab\n\n**Extension.**")
    nb.cells.insert(4, nbformat.v4.new_markdown_cell(FRAMED_TITLE))
    assert any("no learning objectives" in p for p in frame_problems(nb))


@pytest.mark.parametrize("end, expected", [
    (FRAMED_END.replace("## Summary", "## In short"), ["no '## Summary' heading"]),
    ("## Summary\n\n* A result.\n\n## Self-check\n\n" + "".join(f"{i}. Question {i}?{ANSWER}" for i in range(1, 3)),
     ["has 2 numbered self-check questions"]),
    ("## Summary\n\n## Self-check\n\n" + "".join(f"{i}. Question {i}?{ANSWER}" for i in range(1, 7)),
     ["has 6 numbered self-check questions"]),
    (FRAMED_END.replace("## Self-check", "## Questions"),
     ["no '## Self-check' heading", "has 0 numbered self-check questions"]),
    (FRAMED_END.replace("2. Question 2?" + ANSWER, "2. Question 2?\n\nNo answer here.\n\n"),
     ["1 of its self-check questions have no"]),
])
def test_a_notebook_without_a_framed_end_fails(end, expected):
    _assert_problems(frame_problems(synthetic(end=end)), expected)


def test_questions_before_the_last_code_cell_do_not_count():
    nb = synthetic(end="## Summary\n\n* A result.")
    nb.cells.insert(3, nbformat.v4.new_markdown_cell(FRAMED_END))
    assert [p for p in frame_problems(nb) if "self-check" in p.lower()] == [
        "its end has no '## Self-check' heading after the last code cell",
        "its end has 0 numbered self-check questions after the last code cell, not 3 to 5"]


def test_an_exercise_list_is_not_a_self_check():
    """Numbered exercises without answers above the Self-check heading are not counted."""
    end = FRAMED_END.replace("## Self-check", "## Exercises\n\n1. Try this.\n2. And this.\n\n## Self-check")
    assert frame_problems(synthetic(end=end)) == []
