"""Write the set-up cell and the launch links at the top of every notebook, and the launch links into README.md.

Usage, from anywhere: ``python tools/setup_cells.py``

Every notebook starts with two cells made here from ``tools/hosted_settings.py``: a Markdown
cell (the Colab and Binder links, once a repository is set, and what the next cell does) and
the set-up cell, which does nothing where d2lrnn is installed (a clone, a class's server,
Binder) and otherwise downloads d2lrnn's wheel and runs the installer in it
(``d2lrnn_hosted.py``). The worked notebooks in notebooks/ and the exercise sources in
course/source/ get them here; the student versions in notebooks/exercises/ get them from their
sources through ``tools/generate_exercises.py``, which this script runs last. Cells are
replaced, never added twice; the tests check that every notebook starts with these cells.
"""
import argparse
import json
import re
import string
import subprocess
import sys
from pathlib import Path

import hosted_settings  # tools/hosted_settings.py (this folder is on sys.path)

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
LAUNCH_ID, SETUP_ID = "d2lrnn-launch", "d2lrnn-setup"
README_START = "<!-- launch links: written by tools/setup_cells.py from tools/hosted_settings.py -->"
README_END = "<!-- end of launch links -->"
# The set-up cell. $default is the wheel's address from the settings, $no_address what the cell
# says when there is none. It must print nothing where d2lrnn is installed: the stored notebooks
# keep it without outputs.
SETUP_TEMPLATE = string.Template('''\
# Set-up for hosted runtimes such as Colab or Kaggle: where d2lrnn is missing, this installs d2lrnn,
# MXNet's CPU build and whatever else is missing, changing no installed version, so the runtime
# needs no restart. Where d2lrnn is installed (a clone, a class's server, Binder) it does nothing.
import importlib.util, os, sys, tempfile, time, urllib.request
if importlib.util.find_spec("d2lrnn") is None:
    started, url = time.monotonic(), os.environ.get("D2LRNN_WHEEL_URL", $default)
    if not url:
        print("d2lrnn set-up: $no_address")
    else:
        try:  # d2lrnn's wheel, into a new temporary folder
            wheel, _ = urllib.request.urlretrieve(url, os.path.join(tempfile.mkdtemp(), url.rpartition("/")[2]))
        except (OSError, ValueError) as err:  # no network, nothing at that address, or not an address
            print(f"d2lrnn set-up: cannot download {url} ({getattr(err, 'reason', err)})")
        else:
            sys.path.insert(0, wheel)  # a wheel is a zip file: Python imports the installer from it
            import d2lrnn_hosted
            d2lrnn_hosted.install(wheel, started)''')
NO_RELEASE = "no d2lrnn release is published yet; set D2LRNN_WHEEL_URL to the address of a d2lrnn wheel"
EMPTY_ADDRESS = "D2LRNN_WHEEL_URL is empty: unset it, or set it to the address of a d2lrnn wheel"
SETUP_PROSE = ("*Set-up.* In a hosted runtime such as Colab, the next cell installs d2lrnn and MXNet (it took "
               "8 to 17 seconds in our tests); in a clone of the repository or on a class's server it does nothing.")
# The nbgrader fields of the set-up cell in an exercise's source: locked, not graded.
NBGRADER_SETUP = {"grade": False, "grade_id": "setup", "locked": True, "schema_version": 3,
                  "solution": False, "task": False}


def setup_source(wheel_url=None):
    """The set-up cell's code for the wheel at ``wheel_url`` (default: the settings')."""
    wheel_url = hosted_settings.WHEEL_URL if wheel_url is None else wheel_url
    return SETUP_TEMPLATE.substitute(default=json.dumps(wheel_url), no_address=EMPTY_ADDRESS if wheel_url else NO_RELEASE)


def launch_links(path, repository=None, branch=None):
    """``(Colab, Binder)`` addresses that open ``path`` (relative to the repository); None without a repository."""
    repository = hosted_settings.REPOSITORY if repository is None else repository
    branch = hosted_settings.BRANCH if branch is None else branch
    if not repository:
        return None
    return (f"https://colab.research.google.com/github/{repository}/blob/{branch}/{path}",
            f"https://mybinder.org/v2/gh/{repository}/{branch}?labpath={path}")


def launch_source(path, repository=None, branch=None):
    """The Markdown cell above the set-up cell of the notebook that the links open at ``path``."""
    links = launch_links(path, repository, branch)
    if links is None:
        return SETUP_PROSE
    return f"[Open in Colab]({links[0]}) · [Open in Binder]({links[1]})\n\n{SETUP_PROSE}"


def notebooks():
    """``{notebook file: the path its launch links open}``: the worked notebooks and the exercise
    sources, whose links open the student version (notebooks/exercises/), never the solutions."""
    worked = {p: p.relative_to(REPO).as_posix() for p in sorted((REPO / "notebooks").glob("*.ipynb"))}
    sources = {p: f"notebooks/exercises/{p.name}" for p in sorted((REPO / "course" / "source").glob("*/*.ipynb"))
               if p.parent.name == p.stem}
    return {**worked, **sources}


def is_setup_cell(cell):
    """True for the two cells that this script writes at a notebook's top."""
    return cell.get("id") in (LAUNCH_ID, SETUP_ID)


def with_setup_cells(nb, linked_path, exercise_source=False, **settings):
    """``nb`` with its first cells replaced (or, the first time, preceded) by the launch and set-up cells."""
    import nbformat
    launch = nbformat.v4.new_markdown_cell(launch_source(linked_path, settings.get("repository"),
                                                         settings.get("branch")), id=LAUNCH_ID)
    setup = nbformat.v4.new_code_cell(setup_source(settings.get("wheel_url")), id=SETUP_ID)
    if exercise_source:
        setup.metadata["nbgrader"] = dict(NBGRADER_SETUP)
    nb.cells = [launch, setup, *(c for c in nb.cells if not is_setup_cell(c))]
    return nb


def readme_block(repository=None, branch=None):
    """README's launch links, between its markers."""
    rows = []
    for linked_path in sorted(set(notebooks().values())):
        links = launch_links(linked_path, repository, branch)
        if links is None:
            body = ("There are no launch links yet: they need the repository's address on GitHub, which is "
                    "not recorded here. A course that publishes its copy sets `REPOSITORY` in "
                    "`tools/hosted_settings.py` and runs `python tools/setup_cells.py`, which writes the "
                    "Colab and Binder links here and at the top of every notebook.")
            return f"{README_START}\n{body}\n{README_END}"
        rows.append(f"| `{linked_path}` | [Colab]({links[0]}) | [Binder]({links[1]}) |")
    table = "\n".join(["| notebook | open in | |", "| --- | --- | --- |", *rows])
    return f"{README_START}\n{table}\n{README_END}"


def with_readme_block(text, block=None):
    """README's text with the launch links between the markers replaced by ``block``."""
    pattern = re.compile(re.escape(README_START) + r".*?" + re.escape(README_END), flags=re.S)
    if len(pattern.findall(text)) != 1:
        raise ValueError(f"README.md must hold the launch links' markers once: {README_START} ... {README_END}")
    block = readme_block() if block is None else block
    return pattern.sub(lambda _: block, text)


def write_all():
    """Rewrite the notebooks' first cells and README's links; return the files written."""
    import nbformat
    written = []
    for path, linked_path in notebooks().items():
        nb = nbformat.read(path, as_version=4)
        nbformat.write(with_setup_cells(nb, linked_path, exercise_source=path.is_relative_to(REPO / "course")), path)
        written.append(path)
    README.write_text(with_readme_block(README.read_text()))
    return [*written, README]


def main(argv=None):
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    try:
        written = write_all()
    except ValueError as err:
        sys.exit(f"error: {err}")
    for path in written:
        print("wrote", path.relative_to(REPO))
    # The student versions follow their sources (nbgrader's generate_assignment).
    subprocess.run([sys.executable, str(REPO / "tools" / "generate_exercises.py")], check=True)


if __name__ == "__main__":
    main()
