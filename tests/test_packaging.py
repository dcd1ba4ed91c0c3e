"""The set-up files agree: one set of pins, and CI runs the README's test command."""
import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _pyproject_pins():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return set(project["dependencies"]) | set(project["optional-dependencies"]["test"])


def test_environment_yml_names_the_pyproject_pins():
    text = (REPO / "environment.yml").read_text()
    pip_lines = re.findall(r"^\s+-\s+(\S+==\S+)\s*$", text, flags=re.M)
    assert set(pip_lines) == _pyproject_pins()
    assert re.search(r"^\s+-\s+python=3\.11\s*$", text, flags=re.M)
    assert re.search(r"^\s+-\s+-e \.\s*$", text, flags=re.M)


def test_every_dependency_is_pinned_exactly():
    assert all("==" in pin for pin in _pyproject_pins())


def _readme_commands():
    readme = (REPO / "README.md").read_text()
    return re.findall(r"```(?:bash|sh)\n(.*?)```", readme, flags=re.S)


def test_ci_runs_the_readme_test_command():
    blocks = _readme_commands()
    test_command = next(b.strip() for b in blocks if "pytest" in b)
    ci = (REPO / ".ci" / "run").read_text()
    assert test_command in ci


def test_omp_default_respects_the_user(monkeypatch):
    from d2lrnn import _threads
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert _threads.set_default_omp_threads() == "3"
