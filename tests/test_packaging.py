"""The set-up files agree: one set of pins, only dependencies we use, and CI runs the README's test command."""
import ast
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

REPO = Path(__file__).resolve().parent.parent
PYPROJECT_TOML = tomllib.loads((REPO / "pyproject.toml").read_text())
PYPROJECT = PYPROJECT_TOML["project"]

# Dependencies that d2lrnn's code does not import, and why each is there.
NOT_IMPORTED = {
    "jupyterlab": "the interface the README starts",
    "ipykernel": "runs the notebooks; brings IPython, which plotting and progress import inside a kernel",
    "setuptools": "provides distutils, which MXNet 1.9.1 imports and Python 3.12 no longer ships",
    # numpy is imported (d2lrnn/env/_compat.py), so it is not in this list.
}
IMPORT_TO_DEPENDENCY = {"IPython": "ipykernel", "matplotlib_inline": "matplotlib-inline",
                        # static_html extends nbconvert's page template with nbconvert's Jinja2
                        "jinja2": "nbconvert", "jupyter_server_mathjax": "jupyter-server-mathjax"}


def _requirements(group=None):
    lines = PYPROJECT["dependencies"] if group is None else PYPROJECT["optional-dependencies"][group]
    return [Requirement(line) for line in lines]


def _pyproject_pins():
    return {str(r) for r in _requirements() + _requirements("test")}


def test_environment_yml_names_the_pyproject_pins():
    text = (REPO / "environment.yml").read_text()
    pip_lines = re.findall(r"^\s+-\s+([A-Za-z][^\s=]*==.+?)\s*$", text, flags=re.M)
    assert {str(Requirement(line)) for line in pip_lines} == _pyproject_pins()
    python = re.search(r"^\s+-\s+python=(3\.\d+)\s*$", text, flags=re.M)
    assert python and python.group(1) in SpecifierSet(PYPROJECT["requires-python"])
    assert re.search(r"^\s+-\s+-e \.\s*$", text, flags=re.M)


def test_every_dependency_is_pinned_exactly():
    groups = [None, *PYPROJECT["optional-dependencies"]]  # test, hub, release, benchmark
    assert all(len(r.specifier) == 1 and next(iter(r.specifier)).operator == "=="
               for group in groups for r in _requirements(group))


def test_supported_pythons_are_3_11_to_3_13():
    supported = SpecifierSet(PYPROJECT["requires-python"])
    assert [v for v in ("3.10", "3.11", "3.12", "3.13", "3.14") if v in supported] == ["3.11", "3.12", "3.13"]


def test_uv_overrides_repeat_the_numpy_pins_for_every_python():
    # The override lifts MXNet's numpy<2; it must give each Python the NumPy our pins give it.
    pins = sorted(str(r) for r in _requirements() if r.name == "numpy")
    overrides = sorted(str(Requirement(line)) for line in PYPROJECT_TOML["tool"]["uv"]["override-dependencies"])
    assert overrides == pins
    for python, numpy_major in (("3.11", "1"), ("3.12", "1"), ("3.13", "2")):
        chosen = [r for r in _requirements() if r.name == "numpy"
                  and r.marker.evaluate({"python_version": python})]
        assert len(chosen) == 1 and str(chosen[0].specifier).startswith(f"=={numpy_major}.")


def _third_party_imports():
    names = set()
    # The package, its start-up hook, and the clone-only tools the README's commands run (static pages, workspace).
    for path in [*(REPO / "d2lrnn").rglob("*.py"), *(REPO / "tools" / f"{name}.py" for name in ("static_html", "workspace", "_repo")),
                 REPO / "_d2lrnn_hook.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n not in ("d2lrnn", "_repo", "_d2lrnn_hook")}


def test_dependencies_are_what_the_code_imports_plus_the_front_end():
    imported = {IMPORT_TO_DEPENDENCY.get(n, n) for n in _third_party_imports()}
    declared = {r.name for r in _requirements()}
    assert declared == imported | set(NOT_IMPORTED)


def _readme_commands():
    readme = (REPO / "README.md").read_text()
    return re.findall(r"```(?:bash|sh)\n(.*?)```", readme, flags=re.S)


def test_ci_installs_with_the_readme_command_on_every_python_and_runs_its_tests_once():
    blocks = _readme_commands()
    test_command = next(b.strip() for b in blocks if "pytest" in b)
    install, _, tests = test_command.rpartition(" && ")
    assert tests == ".venv/bin/python -m pytest"
    # .ci/run installs on each Python with it: python3 and .venv stand for that interpreter and its folder.
    ci = (REPO / ".ci" / "run").read_text()
    assert install.replace("python3", '"$python"').replace(".venv", '"$venv"') in ci
    assert re.search(r"^for version in 3\.11 3\.12 3\.13; do$", ci, flags=re.M)
    # ... and runs the README's tests, the whole suite, on one of them (on all with D2LRNN_CI_FULL=1).
    assert re.search(r'^full_python=3\.1[1-3]$', ci, flags=re.M)
    assert '"$venv"/bin/python -m pytest\n' in ci
