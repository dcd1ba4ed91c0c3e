"""A stand-in hosted runtime (Colab, in small) runs the chapter and the scratch exercise from their set-up cells.

The stand-in is a new virtual environment of Python 3.12 or 3.13 (the tests' own Python, or
``$D2LRNN_HOSTED_PYTHON``) with NumPy 2, IPython 9, matplotlib and ipykernel preinstalled at
versions other than our pins, and no clone on its path. d2lrnn's wheel, built from this
working tree, is served on 127.0.0.1 and named by ``D2LRNN_WHEEL_URL``, as a course would name
its copy. The chapter notebook and the solved student version of the scratch exercise are
copied alone into a folder and executed through nbclient in that environment's kernel with
``D2LRNN_QUICK=1``: the chapter's set-up cell installs d2lrnn and MXNet, the exercise's finds
them installed. Every preinstalled package must keep its version and no output may be an error;
a probe cell after the chapter checks that its kernel has d2lrnn's import hook without a restart.
A second, bare environment shows the set-up cell's one line for each thing that can stop it.

It installs from PyPI (MXNet and a few small packages; uv's and pip's caches make it quick),
so it is marked slow. The times of each part go to test-artifacts/hosted-runtime-<python>.json.
"""
import functools
import http.server
import json
import os
import shutil
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import nbformat
import pytest

import course
from tiny import REPO, load_tool, project_uv, run_checked as _run

setup_cells = load_tool("setup_cells")

pytestmark = pytest.mark.slow
# Installed before the set-up cell runs, as a hosted runtime has them; none is our pin for any Python.
PREINSTALLED = {"numpy": "2.2.6", "ipython": "9.10.0", "matplotlib": "3.10.3", "ipykernel": "6.31.0"}
CHAPTER = REPO / "notebooks" / "deep-rnn.ipynb"
EXERCISE = "deep-rnn-scratch"
ARTIFACTS = REPO / "test-artifacts"
PROXIES = ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")


def _version(python):
    return _run([str(python), "-c", "import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')"]).strip()


@pytest.fixture(scope="module")
def hosted_python():
    """The interpreter the stand-in is made from: $D2LRNN_HOSTED_PYTHON, or this Python's own when 3.12 or 3.13."""
    chosen = os.environ.get("D2LRNN_HOSTED_PYTHON")
    python = Path(chosen) if chosen else Path(getattr(sys, "_base_executable", sys.executable))
    if chosen and not python.is_file():
        pytest.fail(f"D2LRNN_HOSTED_PYTHON={chosen} is not a file: name a python3.12 or python3.13")
    version = _version(python)
    if version not in ("3.12", "3.13"):
        if chosen:
            pytest.fail(f"D2LRNN_HOSTED_PYTHON={chosen} is Python {version}: name a python3.12 or python3.13")
        pytest.skip(f"the stand-in hosted runtime is Python 3.12 or 3.13 (Colab's); this is {version}: "
                    "run it under those, or set D2LRNN_HOSTED_PYTHON")
    return python, version


def _environment(venv, root, **extra):
    """The runtime's environment: its own bin first, PyPI reachable, nothing of the clone or of this venv."""
    env = {k: v for k, v in os.environ.items()
           if k not in PROXIES and k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "MPLBACKEND")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    for name, sub in [("IPYTHONDIR", "ipython"), ("MPLCONFIGDIR", "matplotlib"), ("JUPYTER_CONFIG_DIR", "jupyter"),
                      ("JUPYTER_DATA_DIR", "jupyter-data"), ("JUPYTER_RUNTIME_DIR", "jupyter-runtime")]:
        env[name] = str(root / sub)
    return {**env, **extra}


def _make_venv(python, venv, root, *packages):
    """A new virtual environment (with pip, as hosted runtimes have it) and ``packages`` installed by uv."""
    uv = project_uv()
    _run([str(python), "-m", "venv", str(venv)])
    if packages:
        # --no-config: not our pyproject's [tool.uv] overrides
        _run([str(uv), "pip", "install", "--no-config", "--python", str(venv / "bin" / "python"), *packages],
             env=_environment(venv, root), cwd=root)
    return venv / "bin" / "python"


def _installed(python):
    out = _run([str(python), "-m", "pip", "list", "--format=json", "--disable-pip-version-check"])
    return {d["name"].lower().replace("_", "-"): d["version"] for d in json.loads(out)}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """``(path, seconds)``: d2lrnn's wheel, built by uv from a copy of this working tree's files."""
    root = tmp_path_factory.mktemp("wheel")
    files = _run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO).split("\0")
    for name in filter(None, files):
        if (REPO / name).is_file():
            (root / "src" / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, root / "src" / name)
    start = time.perf_counter()
    _run([str(Path(sys.executable).parent / "uv"), "build", "--wheel", "--out-dir", str(root / "dist"),
          str(root / "src")], env={k: v for k, v in os.environ.items() if k not in PROXIES})
    (path,) = (root / "dist").glob("d2lrnn-*-py3-none-any.whl")
    return path, time.perf_counter() - start


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def served(wheel):
    """The wheel's address on a loopback server (its folder's files, as a static host serves them)."""
    handler = functools.partial(_QuietHandler, directory=str(wheel[0].parent))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as httpd:
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{httpd.server_address[1]}/{wheel[0].name}"
        httpd.shutdown()
        thread.join()


# Appended to the chapter's copy: after the set-up cell the kernel is as a restarted one would be.
PROBE = """import sys, _d2lrnn_hook
print("hook:", any(isinstance(f, _d2lrnn_hook.Finder) for f in sys.meta_path))"""


def _notebooks(folder):
    """The chapter (and a probe cell) and the solved student version of the scratch exercise, alone in ``folder``."""
    folder.mkdir()
    chapter = nbformat.read(CHAPTER, as_version=4)
    chapter.cells.append(nbformat.v4.new_code_cell(PROBE))
    nbformat.write(chapter, folder / CHAPTER.name)
    release = nbformat.read(REPO / "notebooks" / "exercises" / f"{EXERCISE}.ipynb", as_version=4)
    source = nbformat.read(REPO / "course" / "source" / EXERCISE / f"{EXERCISE}.ipynb", as_version=4)
    nbformat.write(course.solved(release, source), folder / f"{EXERCISE}.ipynb")
    return [folder / CHAPTER.name, folder / f"{EXERCISE}.ipynb"]


def _execute(path, python, root, env):
    """Run the notebook at ``path`` in a kernel of ``python``, in its folder; return it with outputs."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    kernels = root / "kernels"
    (kernels / "standin").mkdir(parents=True, exist_ok=True)
    (kernels / "standin" / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "stand-in hosted runtime", "language": "python"}))
    km = KernelManager(kernel_name="standin", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
    nb = nbformat.read(path, as_version=4)
    try:
        NotebookClient(nb, km=km, timeout=900, resources={"metadata": {"path": str(path.parent)}}).execute(env=env)
    finally:  # nbclient leaves a kernel manager it was given running
        if km.has_kernel:
            km.shutdown_kernel(now=True)
    return nb


def _seconds(cells):
    """Seconds from the first cell's start to the last one's reply, as nbclient recorded them."""
    start = datetime.fromisoformat(cells[0].metadata.execution["iopub.execute_input"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(cells[-1].metadata.execution["shell.execute_reply"].replace("Z", "+00:00"))
    return (end - start).total_seconds()


def _text(cell):
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


@pytest.fixture(scope="module")
def hosted_run(hosted_python, wheel, served, tmp_path_factory):
    """The two notebooks executed in the stand-in: namespace of the notebooks, versions before and after, times."""
    python, version = hosted_python
    root = tmp_path_factory.mktemp("hosted")
    start = time.perf_counter()
    venv_python = _make_venv(python, root / "venv", root, *(f"{n}=={v}" for n, v in PREINSTALLED.items()))
    times = {"python": version, "venv_and_preinstall_s": time.perf_counter() - start, "wheel_build_s": wheel[1]}
    before = _installed(venv_python)
    env = _environment(root / "venv", root, D2LRNN_WHEEL_URL=served, D2LRNN_QUICK="1")
    start = time.perf_counter()
    chapter, exercise = (_execute(path, venv_python, root, env) for path in _notebooks(root / "run"))
    times["both_notebooks_wall_s"] = time.perf_counter() - start
    code = [[c for c in nb.cells if c.cell_type == "code"] for nb in (chapter, exercise)]
    times.update(set_up_cell_s=_seconds(code[0][:1]), chapter_after_set_up_s=_seconds(code[0][1:-1]),
                 exercise_s=_seconds(code[1]))
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"hosted-runtime-{version}.json").write_text(json.dumps(times, indent=1) + "\n")
    print("stand-in hosted runtime:", ", ".join(f"{k} {v:.0f}" if isinstance(v, float) else f"{k} {v}"
                                                for k, v in times.items()))
    return chapter, exercise, before, _installed(venv_python)


def test_the_preinstalled_versions_are_not_our_pins():
    pins = {name: set() for name in PREINSTALLED}
    for line in __import__("tomllib").loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]:
        name = line.split("==")[0].strip()
        if name in pins:
            pins[name].add(line.split("==")[1].split(";")[0].strip())
    assert all(PREINSTALLED[name] not in pins[name] for name in PREINSTALLED), pins
    assert PREINSTALLED["numpy"].startswith("2.") and PREINSTALLED["ipython"].startswith("9.")


def test_the_set_up_cell_installs_once_and_says_what_it_did(hosted_run):
    chapter, exercise, before, after = hosted_run
    (line,) = _text(chapter.cells[1]).splitlines()
    assert chapter.cells[1].source == exercise.cells[1].source == setup_cells.setup_source()
    assert line.startswith("d2lrnn set-up: installed d2lrnn ") and ", mxnet 1.9.1 and " in line, line
    assert line.endswith(" s; no installed version changed"), line
    assert "d2lrnn" not in before and after["mxnet"] == "1.9.1"
    assert _text(exercise.cells[1]) == "" and exercise.cells[1].outputs == []  # installed: it does nothing


def test_every_preinstalled_package_keeps_its_version(hosted_run):
    _, _, before, after = hosted_run
    assert {name: after.get(name) for name in before} == before
    assert {name: before[name] for name in PREINSTALLED} == PREINSTALLED


def test_the_chapter_and_the_exercise_run_without_errors_on_numpy_2(hosted_run):
    chapter, exercise, _, _ = hosted_run
    for nb in (chapter, exercise):
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
        assert not errors, [(e.ename, e.evalue) for e in errors]
    # import mxnet first works in that kernel (the hook)
    assert _text(chapter.cells[-1]) == "hook: True\n"
    versions = next(_text(c) for c in chapter.cells if "d2l.versions()" in c.source)
    assert f"mxnet 1.9.1, numpy {PREINSTALLED['numpy']}, d2lrnn " in versions, versions
    graded = [c for c in exercise.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert graded and all(c.outputs and not any(o.output_type == "error" for o in c.outputs) for c in graded)


@pytest.fixture(scope="module")
def bare(hosted_python, tmp_path_factory):
    """A virtual environment with pip alone (no d2lrnn), and the set-up cell as a script."""
    root = tmp_path_factory.mktemp("bare")
    python = _make_venv(hosted_python[0], root / "venv", root)
    cell = root / "cell.py"
    cell.write_text(setup_cells.setup_source())
    return python, cell, root


def _cell_line(bare, **env):
    python, cell, root = bare
    out = _run([str(python), str(cell)], cwd=root, env=_environment(root / "venv", root, **env))
    assert len(out.splitlines()) == 1, out
    return out.strip()


def test_the_set_up_cell_says_in_one_line_why_it_cannot_install(bare, served):
    before = _installed(bare[0])
    assert _cell_line(bare, D2LRNN_WHEEL_URL="") == f"d2lrnn set-up: {setup_cells.NO_RELEASE}"
    missing = served.rsplit("/", 1)[0] + "/d2lrnn-0.0.0-py3-none-any.whl"
    assert _cell_line(bare, D2LRNN_WHEEL_URL=missing) == f"d2lrnn set-up: cannot download {missing} (File not found)"
    # No network: PyPI through a proxy where nothing listens; the loopback server still answers.
    # PIP_RETRIES=0 keeps it short; the installer asks for retries, which are what name a connection error.
    offline = {"http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9", "PIP_RETRIES": "0"}
    line = _cell_line(bare, D2LRNN_WHEEL_URL=served, no_proxy="127.0.0.1", **offline)
    assert line.startswith("d2lrnn set-up: pip cannot reach the package index (no network?)"), line
    assert _installed(bare[0]) == before  # nothing was installed
