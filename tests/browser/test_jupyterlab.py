"""What a student sees: the notebooks run from JupyterLab's menu in headless Chromium.

Each notebook is opened in JupyterLab (over a temporary copy of notebooks/, with
D2LRNN_QUICK=1), its outputs are cleared and Run > Run All Cells is clicked; the test
waits for every cell to run and fails on an error output, a traceback, text on stderr, a
broken image, LaTeX that MathJax left raw, a code cell without the output it has in the
committed notebook, a progress bar that wraps, or JupyterLab's news pop-up. Screenshots
go to test-artifacts/screenshots/ (see docs/testing.md). About a minute on 2 cores.
"""
import json
import re

import pytest

from lab_page import (all_cells_ran, click_menu, kernel_status, math_rendered, open_notebook,
                      problems, prompts, read_cells, scroll_to, toasts, wait_for)

RUN_TIMEOUT = 900  # seconds for all cells of one notebook on a busy 2-core machine


def _run_all(chrome):
    click_menu(chrome, "Edit", "Clear Outputs of All Cells")
    wait_for(lambda: all(m in ("[ ]:", "") for m in prompts(chrome)), 30, "the outputs to clear")
    click_menu(chrome, "Run", "Run All Cells")
    wait_for(lambda: kernel_status(chrome) == "busy" or any(re.fullmatch(r"\[\d+\]:", m)
                                                             for m in prompts(chrome)),
             60, "the kernel to start running")


def _training_started(chrome):
    """True once a training cell shows its progress bar and the live plot's first frame."""
    return chrome.execute_script("""
        const bar = [...document.querySelectorAll(
                '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output')]
            .find(o => o.textContent.startsWith('training:'));
        return !!bar && !!bar.closest('.jp-OutputArea').querySelector('img');
        """)


def _or_fail_on_stderr(chrome, condition):
    """``condition(chrome)`` for ``wait_for``, failing at once when a cell shows text on stderr (an error
    stops Run All there, so the wait would only run out; the test fails on stderr anyway)."""
    def check():
        if condition(chrome):
            return True
        text = chrome.execute_script("""
            const out = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) '
                + '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]');
            return out ? out.textContent.slice(0, 300) : null;
            """)
        if text is not None:
            raise AssertionError(f"a cell wrote to stderr while the notebook ran: {text!r}")
        return False
    return check


@pytest.mark.parametrize("name", ["deep-rnn.ipynb", "deep-rnn-scratch.ipynb"])
def test_notebook_runs_cleanly_in_jupyterlab(name, lab, chrome, screenshots):
    def shot(what):
        chrome.save_screenshot(str(screenshots / f"{name.removesuffix('.ipynb')}-{what}.png"))

    open_notebook(chrome, lab, name)
    wait_for(lambda: math_rendered(chrome), 120, "MathJax to typeset the equations")
    shot("1-opened")
    _run_all(chrome)
    # The first moments of training: the bar at 0 and the live plot waiting for epoch 1.
    wait_for(_or_fail_on_stderr(chrome, _training_started), RUN_TIMEOUT, "training to start", interval=0.2)
    scroll_to(chrome, ".jp-OutputArea-output", "training:")
    shot("2-training")
    wait_for(_or_fail_on_stderr(chrome, all_cells_ran), RUN_TIMEOUT, "every cell to run", interval=2)
    scroll_to(chrome, ".jp-OutputArea-output", "training:")
    shot("3-trained")
    scroll_to(chrome, ".jp-Cell:last-child")
    shot("4-end")

    found = problems(read_cells(chrome), lab.root_dir / name)
    news = [t for t in toasts(chrome) if "news" in t.lower()]
    assert not found and not news, "\n".join(found + [f"news pop-up: {t}" for t in news])


def _control_notebook(path):
    """A notebook with one of each problem the checks must catch."""
    def md(text):
        return {"cell_type": "markdown", "metadata": {}, "source": text}

    def code(text, outputs=()):
        return {"cell_type": "code", "metadata": {}, "source": text, "execution_count": None,
                "outputs": list(outputs)}

    cells = [md("A missing picture: ![gone](missing.png)"),
             code("x = 1", [{"output_type": "stream", "name": "stdout", "text": "1\n"}]),
             md("A formula that lost its dollars: \\frac{a}{b}"),
             code("print('training:' + '#' * 400)"),
             md("The last cell fails."),
             code("1 / 0")]
    kernel = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    path.write_text(json.dumps({"cells": cells, "metadata": {"kernelspec": kernel},
                                "nbformat": 4, "nbformat_minor": 5}))


def test_the_checks_catch_each_problem(lab, chrome):
    path = lab.root_dir / "control.ipynb"
    _control_notebook(path)
    open_notebook(chrome, lab, path.name)
    _run_all(chrome)
    wait_for(lambda: kernel_status(chrome) == "idle" and re.fullmatch(r"\[\d+\]:", prompts(chrome)[-1]),
             120, "the control notebook to run")
    found = "\n".join(problems(read_cells(chrome), path))
    for expected in ["cell 0: broken image", "cell 1: no output",
                     "cell 2: LaTeX not rendered", "cell 3: the progress bar wraps",
                     "cell 5: error output", "ZeroDivisionError"]:
        assert expected in found, f"{expected!r} not reported in:\n{found}"


def test_raw_dollars_count_as_unrendered_latex(tmp_path):
    """JupyterLab typesets even escaped dollars, so only made-up cells can show this case."""
    _control_notebook(tmp_path / "control.ipynb")
    ran = {"kind": "code", "images": [], "prompt": "[1]:",
           "outputs": [{"mime": "text/plain", "text": "1", "height": 10, "lineHeight": 10}]}
    cells = [{"kind": "markdown", "images": [], "prose": "the loss $\\ell$ falls"}, ran,
             {"kind": "markdown", "images": [], "prose": "rendered math is left out of the prose"}, ran,
             {"kind": "markdown", "images": [], "prose": "\\begin{aligned}"}, ran]
    assert problems(cells, tmp_path / "control.ipynb") == [
        "cell 0: LaTeX not rendered: '$\\\\ell$'", "cell 4: LaTeX not rendered: '\\\\begin'"]
