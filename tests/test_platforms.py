"""The route for each kind of computer, with the platform faked, and the one line that names it.

``d2lrnn/env/_platforms.py`` holds which computers PyPI has an MXNet 1.9.1 wheel for; it must
load on its own (a notebook's set-up cell reads it before d2lrnn is installed), and
``python -m d2lrnn`` without MXNet must end with its line, not a traceback.
"""
import ast
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from d2lrnn.env import _platforms
from d2lrnn.env._platforms import ROUTE_APPLE_SILICON, ROUTE_ELSEWHERE, ROUTE_WINDOWS

REPO = Path(__file__).resolve().parent.parent
MODULE = REPO / "d2lrnn" / "env" / "_platforms.py"

# (platform.system(), platform.machine()) as each computer reports them -> its route (None: PyPI's wheel).
ROWS = [
    ("Linux", "x86_64", None),                 # also hosted runtimes, the class hub, x86-64 containers, WSL2
    ("Linux", "aarch64", None),                # ARM64 Linux, and a Linux container on an Apple-silicon Mac
    ("Darwin", "x86_64", None),                # an Intel Mac, and an x86-64 Python under Rosetta 2
    ("Darwin", "arm64", ROUTE_APPLE_SILICON),  # an Apple-silicon Mac's own Python
    ("Windows", "AMD64", ROUTE_WINDOWS),
    ("Windows", "ARM64", ROUTE_WINDOWS),
    ("CYGWIN_NT-10.0-19045", "x86_64", ROUTE_WINDOWS),
    ("Linux", "armv7l", ROUTE_ELSEWHERE),      # a 32-bit Raspberry Pi
    ("Emscripten", "wasm32", ROUTE_ELSEWHERE),  # JupyterLite (Pyodide) in a browser
]


def _fake_platform(monkeypatch, system, machine):
    monkeypatch.setattr(platform, "system", lambda: system)
    monkeypatch.setattr(platform, "machine", lambda: machine)


@pytest.mark.parametrize("system, machine, route", ROWS, ids=lambda v: v if isinstance(v, str) and len(v) < 25 else "")
def test_each_computer_gets_its_route(monkeypatch, system, machine, route):
    _fake_platform(monkeypatch, system, machine)
    assert _platforms.route_for(system, machine) == route
    message = _platforms.no_wheel_message()  # this (faked) computer
    if route is None:
        assert message is None
    else:
        assert message.count("\n") == 0 and route in message and f" on {machine}" in message


def test_the_line_for_windows(monkeypatch):
    _fake_platform(monkeypatch, "Windows", "AMD64")
    assert _platforms.no_wheel_message() == (
        "MXNet 1.9.1, which d2lrnn needs, has no wheel for Windows on AMD64, so pip cannot install "
        "it here; use WSL2 (Linux inside Windows: wsl --install), where the Linux wheel installs "
        "(see docs/setup.md, 'Which route for which computer')")


def test_the_line_for_apple_silicon_names_rosetta_and_a_container(monkeypatch):
    _fake_platform(monkeypatch, "Darwin", "arm64")
    message = _platforms.no_wheel_message()
    assert "macOS on arm64 (Apple silicon)" in message
    assert "Rosetta 2" in message and "cpython-3.12-macos-x86_64" in message and "container" in message


def test_the_doc_section_it_names_exists():
    setup = (REPO / "docs" / "setup.md").read_text()
    assert "## Which route for which computer\n" in setup


def _no_mxnet(monkeypatch):
    monkeypatch.setitem(sys.modules, "mxnet", None)  # find_spec and import now fail as if not installed


def test_as_a_command_without_mxnet_one_line_and_status_1(monkeypatch, capsys):
    _fake_platform(monkeypatch, "Windows", "AMD64")
    _no_mxnet(monkeypatch)
    with pytest.raises(SystemExit) as stopped:
        _platforms.exit_if_no_mxnet()
    assert stopped.value.code == 1
    err = capsys.readouterr().err
    assert err == f"error: {_platforms.no_wheel_message()}\n"


def test_without_mxnet_where_a_wheel_exists_it_says_how_to_install(monkeypatch, capsys):
    _fake_platform(monkeypatch, "Linux", "x86_64")
    _no_mxnet(monkeypatch)
    with pytest.raises(SystemExit):
        _platforms.exit_if_no_mxnet()
    err = capsys.readouterr().err
    assert err.startswith("error: MXNet is not installed in this Python (") and "--no-deps" in err
    assert err.count("\n") == 1


def test_with_mxnet_it_does_nothing(monkeypatch, capsys):
    _fake_platform(monkeypatch, "Windows", "AMD64")
    assert _platforms.exit_if_no_mxnet() is None  # MXNet is installed here
    assert capsys.readouterr().err == ""


def test_the_module_imports_only_the_standard_library():
    tree = ast.parse(MODULE.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "a relative import: the set-up cell loads this file on its own"
            imported.add(node.module.split(".")[0])
    assert imported and imported <= sys.stdlib_module_names


@pytest.mark.slow
def test_it_loads_by_its_path_alone():
    # -I -S: no site-packages, no start-up hook, no current directory: only the file and the stdlib.
    code = ("import importlib.util, sys; "
            f"spec = importlib.util.spec_from_file_location('platforms', {str(MODULE)!r}); "
            "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); "
            "print(m.route_for('Windows', 'AMD64') == m.ROUTE_WINDOWS, "
            "sorted(n for n in ('numpy', 'mxnet', 'd2lrnn') if n in sys.modules))")
    out = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "[]"]


# ``python -m d2lrnn`` on a faked Windows where neither MXNet nor NumPy is installed (d2lrnn
# installed with --no-deps, or run from a clone whose install failed), run as Python runs it.
AS_COMMAND_ON_WINDOWS = """
import platform, runpy, sys
platform.system, platform.machine = (lambda: "Windows"), (lambda: "AMD64")
sys.modules["mxnet"] = sys.modules["numpy"] = None
sys.argv = ["-m", "train"]
runpy.run_module("d2lrnn", run_name="__main__", alter_sys=True)
"""


@pytest.mark.slow
def test_python_m_d2lrnn_on_windows_names_the_route():
    out = subprocess.run([sys.executable, "-c", AS_COMMAND_ON_WINDOWS], capture_output=True, text=True,
                         timeout=60, cwd=REPO)
    assert (out.returncode, out.stdout) == (1, "")
    assert out.stderr == f"error: {_platforms.no_wheel_message('Windows', 'AMD64')}\n"
