"""Regenerate the student notebooks in notebooks/exercises/ from the nbgrader sources in course/source/.

Usage, from anywhere: ``python tools/generate_exercises.py``

Each assignment ``course/source/<name>/<name>.ipynb`` goes through nbgrader's own
``generate_assignment`` in a temporary copy of the course directory (so no gradebook or
release folder is left in the repository), and the released notebook is written to
``notebooks/exercises/<name>.ipynb``. The tests regenerate them the same way and fail when
a committed student notebook differs.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COURSE = REPO / "course"
EXERCISES = REPO / "notebooks" / "exercises"


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
        written.append(target)
    return written


def main(argv=None):
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    try:
        written = generate(EXERCISES)
    except (RuntimeError, subprocess.TimeoutExpired) as err:
        sys.exit(f"error: {err}")
    for path in written:
        print("wrote", path.relative_to(REPO))


if __name__ == "__main__":
    main()
