"""The numbers that the notebooks' prose quotes from a run are the numbers that run printed.

A markdown cell that quotes a result names where it comes from in an HTML comment, which
Jupyter does not display:

    <!-- from gru-vs-lstm-18: "6.51", "7.65 (12)" -->

Each quoted string must occur both in the prose of that markdown cell and in the stored
output of the code cell with that id (its printed text and text results). Where the prose
words a value differently from the output, ``"6.51 (22)" = "6.51 (epoch 22)"`` names the
output's form first and the prose's second. A re-run that
changes a result therefore fails this test until the prose is updated, and so does prose
edited without the run. To make the rule hard to forget, every decimal number in a
notebook's prose (outside math and code) must lie inside such a quote, or be listed in

    <!-- not an output: "0.01", "6.5" -->

(settings, the book's figures, results of runs outside the notebook, which the text
then names).
"""
import json
import re
import shutil
from pathlib import Path

import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(p for p in NOTEBOOK_DIR.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
# Not yet annotated; each entry says why. New notebooks are checked from the start.
NOT_YET_ANNOTATED = {}  # every notebook is annotated; student versions quote results files as "not an output"
# Notebooks whose conclusions are printed by code from a results file, so that their prose quotes
# no numbers at all (each still may not state an unannotated decimal number). Each entry says why.
COMPUTED_CONCLUSIONS = {
    "deep-rnn-layers.ipynb": "its verdicts are printed from results/layer-timescales.json",
}

FROM = re.compile(r"<!--\s*from\s+([\w.-]+)\s*:(.*?)-->", re.S)
NOT_FROM_RUN = re.compile(r"<!--\s*not an output\s*:(.*?)-->", re.S)
QUOTE = re.compile(r'"([^"]+)"')
PAIR = re.compile(r'"([^"]+)"(?:\s*=\s*"([^"]+)")?')  # "as in the output" [= "as in the prose"]
COMMENT = re.compile(r"<!--.*?-->", re.S)
MATH_OR_CODE = re.compile(r"\$\$.*?\$\$|\$[^$\n]*\$|`[^`]*`", re.S)
DECIMAL = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.]*\d)")


def _text(source):
    return "".join(source) if isinstance(source, list) else source


def output_text(cell):
    """What a code cell's stored outputs show as text: printed streams and text/plain or text/markdown results."""
    parts = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream":
            parts.append(_text(output["text"]))
        for kind in ("text/plain", "text/markdown"):
            if kind in output.get("data", {}):
                parts.append(_text(output["data"][kind]))
    return "".join(parts)


def check_notebook(path, coverage=True):
    """The problems with the quoted numbers of the notebook at ``path``, as a list of messages."""
    cells = json.loads(Path(path).read_text())["cells"]
    by_id = {cell.get("id"): cell for cell in cells}
    problems = []
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        source = _text(cell["source"])
        prose = " ".join(COMMENT.sub("", source).split())  # line breaks and indents count as one space
        covered = [q for body in NOT_FROM_RUN.findall(source) for q in QUOTE.findall(body)]
        for cell_id, body in FROM.findall(source):
            pairs = [(shown_as, " ".join((worded_as or shown_as).split())) for shown_as, worded_as in PAIR.findall(body)]
            if not pairs:
                problems.append(f"markdown cell {index}: 'from {cell_id}' quotes nothing")
            target = by_id.get(cell_id)
            if target is None or target["cell_type"] != "code":
                problems.append(f"markdown cell {index}: no code cell with id {cell_id!r}")
                continue
            shown = output_text(target)
            for shown_as, worded_as in pairs:
                if worded_as not in prose:
                    problems.append(f"markdown cell {index}: {worded_as!r} is not in its prose")
                if shown_as not in shown:
                    problems.append(f"markdown cell {index}: {shown_as!r} is not in the stored output of "
                                    f"cell {cell_id}")
            covered += [worded_as for _, worded_as in pairs]
        if coverage:
            # Where the quoted strings sit in the prose; a decimal number outside all of them is unaccounted for.
            spans = [m.span() for q in covered for m in re.finditer(re.escape(q), prose)]
            checked = MATH_OR_CODE.sub(lambda m: " " * len(m.group()), prose)
            for m in DECIMAL.finditer(checked):
                if not any(a <= m.start() and m.end() <= b for a, b in spans):
                    problems.append(f"markdown cell {index}: {m.group()} is neither quoted from an "
                                    "output ('from CELL_ID') nor listed as 'not an output'")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(NOTEBOOK_DIR)))
def test_quoted_numbers_are_in_the_outputs(path):
    name = str(path.relative_to(NOTEBOOK_DIR))
    problems = check_notebook(path, coverage=name not in NOT_YET_ANNOTATED)
    assert not problems, f"{name}:\n" + "\n".join(problems)


def test_the_annotated_notebooks_quote_something():
    """The check has material: each annotated notebook quotes several outputs."""
    for path in NOTEBOOKS:
        name = str(path.relative_to(NOTEBOOK_DIR))
        # Student versions store no outputs: their numbers are all "not an output".
        if name not in NOT_YET_ANNOTATED and name not in COMPUTED_CONCLUSIONS and not name.startswith("exercises/"):
            cells = json.loads(path.read_text())["cells"]
            sources = [_text(c["source"]) for c in cells if c["cell_type"] == "markdown"]
            assert sum(len(FROM.findall(s)) for s in sources) >= 3, path.name


def test_notebooks_with_computed_conclusions_print_them_and_quote_nothing():
    """Their prose quotes no output (else they belong with the annotated ones), and a code cell prints verdicts."""
    for name in COMPUTED_CONCLUSIONS:
        cells = json.loads((NOTEBOOK_DIR / name).read_text())["cells"]
        assert not any(FROM.search(_text(c["source"])) for c in cells if c["cell_type"] == "markdown"), name
        assert any("print(" in _text(c["source"]) for c in cells if c["cell_type"] == "code"), name


def _first_quote(nb):
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            match = FROM.search(_text(cell["source"]))
            if match:
                shown_as, worded_as = PAIR.findall(match.group(2))[0]
                return cell, match.group(1), shown_as, worded_as or shown_as
    raise AssertionError("no quoted number")


def _changed(number):
    """``number`` with its last digit changed: '6.51' -> '6.52'."""
    digits = [i for i, ch in enumerate(number) if ch.isdigit()]
    i = digits[-1]
    return number[:i] + str((int(number[i]) + 1) % 10) + number[i + 1:]


@pytest.mark.parametrize("where", ["output", "prose"])
def test_a_changed_number_fails(tmp_path, where):
    """Change one quoted number, in the stored output (a re-run) or in the prose (an edit): the check fails."""
    source = NOTEBOOK_DIR / "gru-vs-lstm.ipynb"
    copy = tmp_path / source.name
    shutil.copy(source, copy)
    assert check_notebook(copy) == []
    nb = json.loads(copy.read_text())
    markdown, cell_id, quote, worded_as = _first_quote(nb)
    assert worded_as in _text(markdown["source"]), "pick a quote that sits on one line"
    assert re.search(r"\d", quote), quote
    if where == "output":
        target = next(c for c in nb["cells"] if c.get("id") == cell_id)
        for output in target["outputs"]:
            if output["output_type"] == "stream":
                output["text"] = _text(output["text"]).replace(quote, _changed(quote))
            for kind in ("text/plain", "text/markdown"):
                if kind in output.get("data", {}):
                    output["data"][kind] = _text(output["data"][kind]).replace(quote, _changed(quote))
    else:
        prose = _text(markdown["source"])
        head, sep, tail = prose.partition("<!--")  # change the prose, not the annotation
        markdown["source"] = head.replace(worded_as, _changed(worded_as), 1) + sep + tail
    copy.write_text(json.dumps(nb))
    problems = check_notebook(copy)
    assert any(repr(quote if where == "output" else worded_as) in p for p in problems), problems


def test_a_value_worded_differently_in_the_prose(tmp_path):
    nb = {"cells": [{"cell_type": "code", "id": "c", "metadata": {}, "source": "", "execution_count": 1,
                     "outputs": [{"output_type": "stream", "name": "stdout", "text": "| LSTM | 6.51 (22) |\n"}]},
                    {"cell_type": "markdown", "id": "m", "metadata": {},
                     "source": 'Best: 6.51 (epoch 22).\n<!-- from c: "6.51 (22)" = "6.51 (epoch 22)" -->'}]}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb))
    assert check_notebook(path) == []
    nb["cells"][1]["source"] = nb["cells"][1]["source"].replace("(epoch 22).", "(epoch 23).")
    path.write_text(json.dumps(nb))
    assert check_notebook(path) == ["markdown cell 1: '6.51 (epoch 22)' is not in its prose",
                                    "markdown cell 1: 6.51 is neither quoted from an output "
                                    "('from CELL_ID') nor listed as 'not an output'"]


def test_an_unannotated_decimal_fails(tmp_path):
    nb = {"cells": [{"cell_type": "markdown", "id": "a", "metadata": {},
                     "source": "The loss fell to 2.31, with lr $0.5$ and `dropout=0.2`."}]}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb))
    assert check_notebook(path) == ["markdown cell 0: 2.31 is neither quoted from an output "
                                    "('from CELL_ID') nor listed as 'not an output'"]
