"""Every notebook starts with the set-up cell and launch links that tools/setup_cells.py makes from one place.

The cell's behaviour in a hosted runtime is tested in test_hosted_runtime.py (slow, it
installs); here: that the notebooks, the student versions and README carry exactly what the
tool generates from tools/hosted_settings.py, that the cell is silent where d2lrnn is
installed (so the stored notebooks keep it without outputs), and how the links are formed.
"""
import os
import subprocess
import sys

import nbformat
import pytest

from tiny import REPO, load_tool

setup_cells = load_tool("setup_cells")
NOTEBOOKS = sorted(p for p in [*(REPO / "notebooks").rglob("*.ipynb"), *(REPO / "course" / "source").glob("*/*.ipynb")]
                   if ".ipynb_checkpoints" not in p.parts)


def _linked_path(path):
    """The path the launch links of the notebook at ``path`` open: a student version for an exercise."""
    if path.parent.name == "exercises" or path.is_relative_to(REPO / "course"):
        return f"notebooks/exercises/{path.name}"
    return path.relative_to(REPO).as_posix()


def test_the_tool_covers_every_notebook():
    covered = set(setup_cells.notebooks())
    assert covered == {p for p in NOTEBOOKS if p.parent.name != "exercises"}
    assert not [p for p in setup_cells.notebooks().values() if p.startswith("course/")], "links to solutions"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_notebook_starts_with_the_generated_cells(path):
    nb = nbformat.read(path, as_version=4)
    launch, setup = nb.cells[:2]
    assert (launch.cell_type, launch.id, launch.source) == \
        ("markdown", setup_cells.LAUNCH_ID, setup_cells.launch_source(_linked_path(path))), \
        f"{path.name}: run `python tools/setup_cells.py`"
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert first_code is setup and setup.id == setup_cells.SETUP_ID
    assert setup.source == setup_cells.setup_source(), f"{path.name}: run `python tools/setup_cells.py`"
    assert setup.outputs == [], "stored notebooks come from a clone, where the set-up cell prints nothing"
    assert sum(setup_cells.is_setup_cell(c) for c in nb.cells) == 2
    if path.is_relative_to(REPO / "course") or path.parent.name == "exercises":
        assert setup.metadata.nbgrader["locked"] and not setup.metadata.nbgrader["grade"]


def test_the_readme_carries_the_generated_launch_links():
    readme = (REPO / "README.md").read_text()
    assert setup_cells.readme_block() in readme
    assert setup_cells.with_readme_block(readme) == readme


def test_links_open_the_notebook_on_colab_and_binder_once_a_repository_is_set():
    assert setup_cells.launch_links("notebooks/deep-rnn.ipynb", repository="") is None
    colab, binder = setup_cells.launch_links("notebooks/deep-rnn.ipynb", repository="owner/name", branch="v1")
    assert colab == "https://colab.research.google.com/github/owner/name/blob/v1/notebooks/deep-rnn.ipynb"
    assert binder == "https://mybinder.org/v2/gh/owner/name/v1?labpath=notebooks/deep-rnn.ipynb"
    source = setup_cells.launch_source("notebooks/deep-rnn.ipynb", repository="owner/name", branch="v1")
    assert source == f"[Open in Colab]({colab}) · [Open in Binder]({binder})\n\n{setup_cells.SETUP_PROSE}"
    assert setup_cells.launch_source("notebooks/deep-rnn.ipynb", repository="") == setup_cells.SETUP_PROSE
    block = setup_cells.readme_block(repository="owner/name", branch="v1")
    assert f"| `notebooks/deep-rnn.ipynb` | [Colab]({colab}) | [Binder]({binder}) |" in block
    assert block.count("| [Colab](") == len(set(setup_cells.notebooks().values()))
    assert "no launch links yet" in setup_cells.readme_block(repository="")


def test_the_readme_needs_its_markers_once():
    with pytest.raises(ValueError, match="markers once"):
        setup_cells.with_readme_block("# README without the markers\n")


def test_setting_a_wheel_address_makes_it_the_cells_default():
    url = "https://host.invalid/d2lrnn-0.1.0-py3-none-any.whl"
    with_url, without = setup_cells.setup_source(url), setup_cells.setup_source("")
    assert f'os.environ.get("D2LRNN_WHEEL_URL", "{url}")' in with_url and setup_cells.EMPTY_ADDRESS in with_url
    assert 'os.environ.get("D2LRNN_WHEEL_URL", "")' in without and setup_cells.NO_RELEASE in without
    for source in (with_url, without):
        compile(source, "<set-up cell>", "exec")


def test_the_cells_are_replaced_not_added_twice():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title"), nbformat.v4.new_code_cell("x = 1")])
    once = setup_cells.with_setup_cells(nbformat.from_dict(nb), "notebooks/x.ipynb")
    twice = setup_cells.with_setup_cells(nbformat.from_dict(once), "notebooks/x.ipynb", repository="o/n")
    assert [c.source for c in once.cells][2:] == [c.source for c in twice.cells][2:] == ["# Title", "x = 1"]
    assert [c.id for c in twice.cells[:2]] == [setup_cells.LAUNCH_ID, setup_cells.SETUP_ID]
    assert twice.cells[0].source.startswith("[Open in Colab](https://colab.research.google.com/github/o/n/")


def _run_cell(*flags, **env):
    return subprocess.run([sys.executable, *flags, "-c", setup_cells.setup_source()], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **env}, cwd=REPO.parent)


def test_the_cell_is_silent_where_d2lrnn_is_installed_and_speaks_where_it_is_not():
    here = _run_cell(D2LRNN_WHEEL_URL="")
    assert (here.returncode, here.stdout, here.stderr) == (0, "", "")
    # -S: no site-packages, so no d2lrnn; with no address the cell says so in one line (and installs nothing).
    bare = _run_cell("-I", "-S", D2LRNN_WHEEL_URL="")
    assert (bare.returncode, bare.stdout, bare.stderr) == (0, f"d2lrnn set-up: {setup_cells.NO_RELEASE}\n", "")
