"""d2lrnn_hosted.py, the installer behind the set-up cell, on its own: platforms, pip's failures, requirements.

The whole installation runs in a stand-in hosted runtime in test_hosted_runtime.py (slow).
"""
import ast
import importlib.util
import sys
import tomllib
import zipfile

import pytest
from packaging.requirements import Requirement

from tiny import REPO

spec = importlib.util.spec_from_file_location("d2lrnn_hosted", REPO / "d2lrnn_hosted.py")
hosted = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hosted)

# What pip 24.2 printed here: the index out of reach, a wheel for another Python, a version conflict.
PIP_OFFLINE = """\
  WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after connection broken \
by 'NewConnectionError('<pip._vendor.urllib3.connection.HTTPConnection object at 0x7f4eefc4cc30>: Failed to \
establish a new connection: [Errno 111] Connection refused')': /simple/mxnet/
ERROR: Could not find a version that satisfies the requirement mxnet==1.9.1 (from versions: none)
ERROR: No matching distribution found for mxnet==1.9.1
"""
PIP_OTHER_PYTHON = "ERROR: Package 'd2lrnn' requires a different Python: 3.14.0 not in '<3.14,>=3.11'\n"
PIP_CONFLICT = """\
ERROR: Cannot install tqdm==4.70.1 because these package versions have conflicting dependencies.
ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/dependency-resolution/
"""


def _wheel_with_the_platform_table(tmp_path):
    """A stand-in wheel holding d2lrnn/env/_platforms.py, as the real one does."""
    wheel = tmp_path / "d2lrnn-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.write(REPO / "d2lrnn" / "env" / "_platforms.py", "d2lrnn/env/_platforms.py")
    return str(wheel)


@pytest.mark.parametrize("system, machine", [("Linux", "x86_64"), ("Linux", "aarch64"), ("Darwin", "x86_64"),
                                             ("Windows", "AMD64"), ("Darwin", "arm64")])
def test_the_platform_line_is_the_one_of_the_packages_table(monkeypatch, tmp_path, system, machine):
    from d2lrnn.env import _platforms
    monkeypatch.setattr("platform.system", lambda: system)
    monkeypatch.setattr("platform.machine", lambda: machine)
    problem = hosted.platform_problem(_wheel_with_the_platform_table(tmp_path))
    assert problem == _platforms.no_wheel_message(system, machine)
    assert (problem is None) == (_platforms.route_for(system, machine) is None)


@pytest.mark.parametrize("output, line", [
    (PIP_OFFLINE, "pip cannot reach the package index (no network?): connect the runtime to the internet "
                  "(on Kaggle: Settings > Internet on) and run this cell again"),
    (PIP_OTHER_PYTHON, "pip failed: Package 'd2lrnn' requires a different Python: 3.14.0 not in '<3.14,>=3.11'"),
    (PIP_CONFLICT, "pip failed: ResolutionImpossible: for help visit "
                   "https://pip.pypa.io/en/latest/topics/dependency-resolution/"),
    ("/usr/bin/python3: No module named pip\n",
     "this Python has no pip: install it (python -m ensurepip) and run this cell again"),
])
def test_a_failed_pip_becomes_one_line(output, line):
    assert hosted.pip_failure(output) == line


@pytest.mark.parametrize("requirement, name", [
    ('numpy==2.3.5; python_version >= "3.13"', "numpy"), ("requests (<3,>=2.20.0)", "requests"),
    ("Jupyter_Server.MathJax==0.2.6", "jupyter-server-mathjax"), ("mxnet==1.9.1", "mxnet"),
])
def test_requirement_names_as_pip_compares_them(requirement, name):
    assert hosted.requirement_name(requirement) == name
    assert hosted.normalize(Requirement(requirement).name) == name


def test_a_wheels_requirements_leave_out_the_extras(tmp_path):
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("demo-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"
                         "Requires-Dist: mxnet==1.9.1\nRequires-Dist: numpy==2.3.5; python_version >= \"3.13\"\n"
                         "Requires-Dist: pytest==9.2.0; extra == \"test\"\n\nThe description.\n")
    assert hosted.wheel_requirements(wheel) == ["mxnet==1.9.1", 'numpy==2.3.5; python_version >= "3.13"']


def test_an_unsupported_platform_stops_before_pip_with_one_line(monkeypatch, capsys, tmp_path):
    def no_pip(*args, **kwargs):
        raise AssertionError(f"pip ran: {args}")
    from d2lrnn.env import _platforms
    wheel = _wheel_with_the_platform_table(tmp_path)
    monkeypatch.setattr(hosted.subprocess, "run", no_pip)
    monkeypatch.setattr("platform.system", lambda: "Darwin")
    monkeypatch.setattr("platform.machine", lambda: "arm64")
    monkeypatch.setattr(hosted.sys, "path", [wheel, *sys.path])
    assert hosted.install(wheel, started=0.0) is False
    assert capsys.readouterr().out == f"d2lrnn set-up: {_platforms.no_wheel_message('Darwin', 'arm64')}\n"
    assert wheel not in hosted.sys.path  # the package is to come from site-packages, not from the wheel


def test_the_front_end_left_out_is_among_our_requirements_and_not_imported_by_the_package():
    declared = {hosted.normalize(Requirement(r).name)
                for r in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]}
    assert set(hosted.FRONT_END) <= declared and "mxnet" in declared
    imported = set()
    for path in (REPO / "d2lrnn").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported.update(hosted.normalize(a.name.split(".")[0]) for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(hosted.normalize(node.module.split(".")[0]))
    assert not imported & set(hosted.FRONT_END)


def test_the_installer_needs_only_the_standard_library():
    """It runs before anything is installed; the start-up hook it imports comes with the wheel."""
    names = set()
    for node in ast.walk(ast.parse((REPO / "d2lrnn_hosted.py").read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module.split(".")[0])
    assert names - {"_d2lrnn_hook"} <= sys.stdlib_module_names, names - sys.stdlib_module_names
