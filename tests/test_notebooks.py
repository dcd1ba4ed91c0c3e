"""Static checks of every notebook: links resolve, prose before code, no stored errors or local paths.

nbval (run by the same pytest command) executes the notebooks and compares outputs.
"""
import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted(p for p in (Path(__file__).resolve().parent.parent / "notebooks").rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts)
LINK = re.compile(r"\]\(([^)\s]+)")


def _cells(path):
    return json.loads(path.read_text())["cells"]


def test_there_are_notebooks():
    assert any(p.name == "deep-rnn.ipynb" for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_relative_links_and_images_exist(path):
    for cell in _cells(path):
        if cell["cell_type"] != "markdown":
            continue
        for target in LINK.findall("".join(cell["source"])):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            assert (path.parent / target.split("#")[0]).exists(), f"{path.name}: broken link {target}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_code_cell_follows_prose(path):
    cells = _cells(path)
    for i, cell in enumerate(cells):
        if cell["cell_type"] == "code":
            assert i > 0 and cells[i - 1]["cell_type"] == "markdown", f"{path.name}: code cell {i} has no prose before it"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_error_outputs_or_local_paths(path):
    text = path.read_text()
    assert not re.search(r"/(work|tmp|root|home)/", text), f"{path.name} leaks a local path"
    for cell in _cells(path):
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", f"{path.name} stores an error output"
