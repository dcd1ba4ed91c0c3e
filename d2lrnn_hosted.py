"""The installer behind the notebooks' set-up cell, for a hosted runtime such as Colab or Kaggle.

A hosted runtime has NumPy, matplotlib, IPython and Jupyter installed and already imported:
a changed version of any of them takes effect only after a restart of the runtime. So this
installer adds what is missing and changes no installed version:

1. it stops with one line where PyPI has no MXNet 1.9.1 (Windows, Apple silicon, ...);
2. ``pip install`` of the requirements of d2lrnn and MXNet that are not installed at all,
   as the packages declare them, with every installed package constrained to its installed
   version (pip then refuses rather than change one). Left out: the front end and clone
   tools among d2lrnn's requirements (``FRONT_END``), which the runtime brings its own of;
3. ``pip install --no-deps`` of MXNet, when missing (its own ``numpy<2`` would otherwise
   replace the runtime's NumPy 2), and last of d2lrnn's wheel;
4. in the running interpreter it does what start-up would have done with the new files:
   it runs their ``.pth`` files (d2lrnn's import hook; setuptools' ``distutils``), so that
   ``import mxnet`` and ``import d2lrnn`` work without a restart.

The notebook's cell downloads the wheel and imports this module from it (a wheel is a zip
file), so only the standard library and pip are used. Everything it prints is one line.
"""
import importlib
import importlib.metadata
import importlib.util
import json
import re
import site
import subprocess
import sys
import tempfile
import time
import zipfile
import zipimport
from email.parser import Parser
from pathlib import Path

PREFIX = "d2lrnn set-up:"
# d2lrnn's requirements that a hosted runtime does not need: JupyterLab and the clone's tools
# (static pages, exercises). The runtime has its own front end; the package imports none of them.
FRONT_END = ("jupyterlab", "nbconvert", "nbformat", "jupyter-server-mathjax")
# What pip prints when it cannot reach an index or a file at all.
NO_CONNECTION = re.compile(r"NewConnectionError|Failed to establish a new connection|Name or service not known|"
                           r"Temporary failure in name resolution|ProxyError|ConnectTimeout|Network is unreachable")


class SetupError(Exception):
    """Why the set-up cannot go on: one line that says what to do."""


def platform_problem(wheel):
    """The one line for a computer PyPI has no MXNet 1.9.1 wheel for, naming its route; None elsewhere.

    The fact lives in d2lrnn/env/_platforms.py (standard library only), read here from the wheel
    without importing d2lrnn, which is not installed yet.
    """
    spec = zipimport.zipimporter(f"{wheel}/d2lrnn/env/").find_spec("_platforms")
    platforms = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(platforms)
    return platforms.no_wheel_message()


def normalize(name):
    """A distribution's name as pip compares it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement):
    """The distribution a requirement line names: 'numpy==2.3.5; python_version >= "3.13"' -> 'numpy'."""
    return normalize(re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement).group(1))


def wheel_requirements(wheel):
    """The requirements in ``wheel``'s metadata, extras left out (pip evaluates the other markers)."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n))
        metadata = Parser().parsestr(archive.read(name).decode("utf-8"))
    return [r for r in metadata.get_all("Requires-Dist", []) if not re.search(r"\bextra\s*==", r)]


def pip(*args):
    """Run ``python -m pip ARGS`` in this interpreter; SetupError with pip's reason when it fails."""
    # --retries: pip names a connection error only when it retries (a PIP_RETRIES=0 would hide it).
    done = subprocess.run([sys.executable, "-m", "pip", *args, "--disable-pip-version-check", "--no-input",
                           "--retries", "3"], capture_output=True, text=True)
    if done.returncode != 0:
        raise SetupError(pip_failure(done.stdout + done.stderr))
    return done.stdout


def pip_failure(output):
    """One line for a failed pip command, from its output."""
    if "No module named pip" in output:
        return "this Python has no pip: install it (python -m ensurepip) and run this cell again"
    if NO_CONNECTION.search(output):
        return ("pip cannot reach the package index (no network?): connect the runtime to the internet "
                "(on Kaggle: Settings > Internet on) and run this cell again")
    errors = [line[len("ERROR: "):] for line in output.splitlines() if line.startswith("ERROR: ")]
    return "pip failed: " + (errors[-1] if errors else (output.strip().splitlines() or ["no output"])[-1])


def installed():
    """``{normalized name: version}`` of every installed distribution, as pip sees them."""
    return {normalize(d["name"]): d["version"] for d in json.loads(pip("list", "--format=json"))}


def install_missing(wheel, before):
    """Install what is missing of MXNet and the requirements of both, then d2lrnn from ``wheel``.

    d2lrnn comes last, so that it is installed only when everything it needs is: the set-up
    cell, which runs where d2lrnn cannot be found, then tries again after a failure.
    """
    requirements = [r for r in wheel_requirements(wheel) if requirement_name(r) not in FRONT_END]
    ours = {requirement_name(r) for r in requirements}
    missing = [r for r in requirements if requirement_name(r) not in {*before, "mxnet"}]
    with tempfile.TemporaryDirectory() as tmp:
        # pip checks that d2lrnn's wheel suits this Python, and fetches MXNet's for this platform.
        mxnet = [r for r in requirements if requirement_name(r) == "mxnet" and "mxnet" not in before]
        pip("download", "--no-deps", "--dest", tmp, wheel, *mxnet)
        wheels = [str(w) for w in sorted(Path(tmp).glob("mxnet-*.whl"))]
        # MXNet's own requirements (requests, graphviz); NumPy is d2lrnn's to choose when it is missing.
        missing += [r for w in wheels for r in wheel_requirements(w)
                    if requirement_name(r) not in before and requirement_name(r) not in ours]
        if missing:
            constraints = Path(tmp, "installed.txt")  # pip must keep every installed version
            constraints.write_text("".join(f"{name}=={version}\n" for name, version in sorted(before.items())))
            pip("install", "--constraint", str(constraints), *missing)
        # --no-deps: MXNet's numpy<2 must not replace the runtime's NumPy (d2lrnn restores what MXNet needs).
        pip("install", "--no-deps", *wheels, wheel)
    importlib.invalidate_caches()


def start_up_files(names):
    """Do in this interpreter what start-up does with the ``.pth`` files that the distributions ``names`` installed."""
    for name in sorted(names):
        dist = importlib.metadata.distribution(name)
        sitedir = str(dist.locate_file(""))
        if sitedir not in sys.path:  # a user site-packages made by this install
            site.addsitedir(sitedir)
            continue
        for file in dist.files or []:
            if file.suffix == ".pth" and len(file.parts) == 1:
                site.addpackage(sitedir, file.name, None)
    importlib.invalidate_caches()


def install(wheel, started):
    """Install d2lrnn from the downloaded ``wheel`` and what it needs; print one line (also when it cannot)."""
    if wheel in sys.path:  # the cell put the wheel there to import this module: d2lrnn must come from site-packages
        sys.path.remove(wheel)
        sys.path_importer_cache.pop(wheel, None)
    try:
        problem = platform_problem(wheel)
        if problem:
            raise SetupError(problem)
        before = installed()
        install_missing(wheel, before)
        after = installed()
        added = sorted(set(after) - set(before))
        start_up_files(added)
    except SetupError as err:
        print(PREFIX, err)
        return False
    changed = [f"{name} {before[name]} -> {after.get(name, 'removed')}" for name in sorted(before)
               if after.get(name) != before[name]]
    others = [name for name in added if name not in ("d2lrnn", "mxnet")]
    what = f"installed d2lrnn {after['d2lrnn']}" + (f", mxnet {after['mxnet']}" if "mxnet" in added else "")
    what += f" and {len(others)} more ({', '.join(others)})" if others else ""
    kept = (f"changed {', '.join(changed)}: restart the runtime before going on" if changed
            else "no installed version changed")
    print(f"{PREFIX} {what} in {time.monotonic() - started:.0f} s; {kept}")
    return not changed
