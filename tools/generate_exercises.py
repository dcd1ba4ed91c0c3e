"""Regenerate the student notebooks in notebooks/exercises/ from the nbgrader sources in course/source/.

Usage, from anywhere: ``python tools/generate_exercises.py``

Each assignment ``course/source/<name>/<name>.ipynb`` goes through nbgrader's own
``generate_assignment`` in a temporary copy of the course directory (so no gradebook or
release folder is left in the repository), and the released notebook is written to
``notebooks/exercises/<name>.ipynb``. The tests regenerate them the same way and fail when
a committed student notebook differs.

A release folder must carry what its exercise links to, so each source folder holds the
chapter as Markdown with its stored outputs, ``chapter/deep-rnn.md`` and its figures
(JupyterLab renders it, equations included, without a network); this script writes those
too. The exercises link to it; in the clone's student versions that link points at the
chapter notebook itself (``../deep-rnn.ipynb``).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from setup_cells import is_setup_cell  # tools/setup_cells.py (this folder is on sys.path)

REPO = Path(__file__).resolve().parent.parent
COURSE = REPO / "course"
EXERCISES = REPO / "notebooks" / "exercises"
CHAPTER = REPO / "notebooks" / "deep-rnn.ipynb"
# The chapter's place beside an exercise (in its source and release folders), and in the clone.
CHAPTER_IN_RELEASE, CHAPTER_IN_CLONE = "chapter/deep-rnn.md", "../deep-rnn.ipynb"
# A Markdown link to a notebook: [text](name.ipynb) or [text](folder/name.ipynb#anchor).
# A Markdown picture from a file beside the page: ![text](name.svg)
LOCAL_IMAGE = re.compile(r"!\[[^\]]*\]\(([\w./-]+\.(?:svg|png|jpg))\)")
NOTEBOOK_LINK = re.compile(r"\[([^\]]+)\]\(((?:[\w-]+/)*[\w-]+\.ipynb)(?:#[^)]*)?\)")


def assignments():
    """The assignment names, one per folder of course/source/."""
    return sorted(p.name for p in (COURSE / "source").iterdir() if (p / f"{p.name}.ipynb").is_file())


def isolated_env(root):
    """os.environ with this Python's scripts first on PATH and every Jupyter, IPython, Matplotlib and home folder moved under ``root``."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    # nbgrader runs `alembic` (its database migrations) from PATH: use this environment's.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    for name, sub in [("HOME", "home"), ("JUPYTER_CONFIG_DIR", "jupyter/config"),
                      ("JUPYTER_DATA_DIR", "jupyter/data"), ("JUPYTER_RUNTIME_DIR", "jupyter/runtime"),
                      ("IPYTHONDIR", "ipython"), ("MPLCONFIGDIR", "matplotlib"),
                      ("XDG_CACHE_HOME", "cache"), ("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data")]:
        env[name] = str(Path(root) / sub)
        Path(env[name]).mkdir(parents=True, exist_ok=True)
    return env


def nbgrader(course_dir, *args, env=None, timeout=None):
    """Run ``nbgrader ARGS`` in ``course_dir`` (which holds nbgrader_config.py); raise with its output on failure."""
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course_dir, env=env,
                            capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed ({result.returncode}):\n"
                           f"{result.stdout}\n{result.stderr}")
    return result.stdout + result.stderr


def make_course(root):
    """Copy the course's config and sources into ``root`` (a new nbgrader course directory); return it."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(COURSE / "nbgrader_config.py", root)
    shutil.copytree(COURSE / "source", root / "source")
    return root


def write_chapter(dest_dir):
    """Write the chapter, with its stored outputs, as ``dest_dir/deep-rnn.md`` and its figures; return the files.

    Links to the other notebooks, which a release does not carry, become their names in the repository;
    the set-up cells at the notebook's top are left out.
    """
    import nbformat
    from nbconvert import MarkdownExporter
    dest_dir = Path(dest_dir)
    nb = nbformat.read(CHAPTER, as_version=4)
    nb.cells = [cell for cell in nb.cells if not is_setup_cell(cell)]  # a page to read, nothing to install
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = NOTEBOOK_LINK.sub(r"\1 (`notebooks/\2` in the repository)", cell.source)
    stem = CHAPTER.stem
    body, resources = MarkdownExporter().from_notebook_node(
        nb, resources={"output_files_dir": f"{stem}_files", "unique_key": stem})
    if dest_dir.exists():
        shutil.rmtree(dest_dir)
    dest_dir.mkdir(parents=True)
    written = [dest_dir / f"{stem}.md"]
    written[0].write_text(body, encoding="utf-8")
    for name, data in sorted(resources["outputs"].items()):
        (dest_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (dest_dir / name).write_bytes(data)
        written.append(dest_dir / name)
    # The pictures that the chapter's Markdown shows from beside it (its diagram).
    for name in sorted(set(LOCAL_IMAGE.findall(body)) - set(resources["outputs"])):
        shutil.copy(CHAPTER.parent / name, dest_dir / name)
        written.append(dest_dir / name)
    return written


def for_the_clone(path):
    """Point the released notebook at ``path`` to the chapter notebook beside notebooks/exercises/."""
    import nbformat
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = cell.source.replace(f"]({CHAPTER_IN_RELEASE})", f"]({CHAPTER_IN_CLONE})")
    nbformat.write(nb, path)


def generate(dest_dir, course=None, env=None):
    """Write the student version of every assignment to ``dest_dir/<name>.ipynb``; return the paths.

    nbgrader works in ``course`` (a directory from ``make_course``, kept, with its release
    folder, for callers that go on to grade) or else in a temporary copy of the course.
    """
    if course is None:
        with tempfile.TemporaryDirectory(prefix="d2lrnn-course-") as tmp:
            return generate(dest_dir, make_course(Path(tmp) / "course"), isolated_env(Path(tmp) / "env"))
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in assignments():
        nbgrader(course, "generate_assignment", name, "--force", env=env)
        target = dest_dir / f"{name}.ipynb"
        shutil.copy(Path(course) / "release" / name / f"{name}.ipynb", target)
        for_the_clone(target)
        written.append(target)
    return written


def main(argv=None):
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    try:
        for name in assignments():
            write_chapter(COURSE / "source" / name / Path(CHAPTER_IN_RELEASE).parent)
        written = generate(EXERCISES)
    except (RuntimeError, subprocess.TimeoutExpired) as err:
        sys.exit(f"error: {err}")
    for path in written:
        print("wrote", path.relative_to(REPO))


if __name__ == "__main__":
    main()
