"""MXNet 1.9.1 on today's NumPy: the names it needs are derived from its sources, and it loads first.

The list of NumPy names in ``d2lrnn.env._compat`` is typed by hand; these tests derive the names
MXNet's installed Python sources use, ask a fresh interpreter (NumPy untouched) which of them
this NumPy lacks, and check that the layer defines exactly those, as NumPy 1.x did.
"""
import ast
import importlib.util
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy
import pytest

import _d2lrnn_hook
from d2lrnn.env import _compat

MXNET_DIR = Path(importlib.util.find_spec("mxnet").submodule_search_locations[0])


def _numpy_aliases(tree):
    """Names a module binds to NumPy itself (``import numpy as np``, ``as _np``, ``as onp``, ...)."""
    return {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
            for alias in node.names if alias.name == "numpy"}


def mxnet_numpy_names():
    """``{name: a file that uses it}``: every NumPy attribute MXNet's Python sources use.

    Found as ``np.NAME`` for any alias of NumPy, ``from numpy import NAME``, and the names in
    ``numpy_dispatch_protocol``'s ``_NUMPY_*`` lists, which it looks up with ``getattr(np, name)``.
    """
    used = {}
    for path in sorted(MXNET_DIR.rglob("*.py")):
        with warnings.catch_warnings():  # MXNet's "\d" in plain strings: invalid escape sequences
            warnings.simplefilter("ignore")
            tree = ast.parse(path.read_text(encoding="utf-8"))
        where = str(path.relative_to(MXNET_DIR))
        aliases = _numpy_aliases(tree)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in aliases):
                used.setdefault(node.attr, where)
            elif isinstance(node, ast.ImportFrom) and node.module == "numpy" and node.level == 0:
                for alias in node.names:
                    used.setdefault(alias.name, where)
            elif (path.name == "numpy_dispatch_protocol.py" and isinstance(node, ast.Assign)
                  and isinstance(node.value, ast.List)
                  and any(isinstance(t, ast.Name) and t.id.startswith("_NUMPY_") for t in node.targets)):
                for element in node.value.elts:
                    used.setdefault(element.value, where)
    return used


def _resolves(name):
    """True when ``numpy.name`` (a dotted name for a submodule's attribute) can be looked up."""
    value = numpy
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for part in name.split("."):
            try:
                value = getattr(value, part)
            except AttributeError:
                return False
    return True


def missing_in_a_fresh_numpy(names):
    """The ``names`` a NumPy that no one has touched lacks (asked of a new interpreter)."""
    code = ("import json, sys, warnings, numpy\n"
            "warnings.simplefilter('ignore')\n"
            "def resolves(name):\n"
            "    value = numpy\n"
            "    for part in name.split('.'):\n"
            "        try:\n"
            "            value = getattr(value, part)\n"
            "        except AttributeError:\n"
            "            return False\n"
            "    return True\n"
            "print(json.dumps(sorted(n for n in json.load(sys.stdin) if not resolves(n))))\n")
    out = subprocess.run([sys.executable, "-c", code], input=json.dumps(sorted(names)),
                         capture_output=True, text=True, check=True, timeout=120).stdout
    return set(json.loads(out))


def test_the_layer_defines_exactly_the_names_mxnet_uses_and_numpy_lacks():
    used = mxnet_numpy_names()
    assert len(used) > 200  # the scan sees MXNet's NumPy use, not an empty folder
    missing = missing_in_a_fresh_numpy(used)
    not_provided = {name: used[name] for name in missing if name not in _compat.former_names()}
    assert not not_provided, f"NumPy {numpy.__version__} lacks names MXNet uses: {not_provided}"
    unused = set(_compat.former_names()) - set(used)
    assert not unused, f"the layer restores names MXNet 1.9.1 does not use: {sorted(unused)}"
    assert all(_resolves(name) for name in used)  # after the layer, in this process


def test_names_numpy_still_has_are_never_replaced():
    names = sorted(_compat.former_names())
    out = _fresh_python(
        f"import numpy\nnames = {names!r}\n"
        "before = {n: id(vars(numpy)[n]) for n in names if n in vars(numpy)}\n"
        "import d2lrnn\n"
        "after = {n: id(vars(numpy)[n]) for n in before}\n"
        "print(before == after, d2lrnn.env._compat.missing_names())\n")
    assert out.split() == ["True", "[]"]  # kept what NumPy has, added the rest


def test_restored_names_mean_what_numpy_1_meant():
    names = _compat.former_names()
    assert names["bool"] is bool and names["int"] is int
    assert str(names["NZERO"]) == "-0.0" and names["PZERO"] == 0.0
    assert names["NINF"] == -float("inf") and names["Inf"] == names["PINF"] == float("inf")
    assert numpy.isnan(names["NaN"]) and numpy.isnan(names["NAN"])
    assert names["alltrue"]([[True, False]]) == False  # noqa: E712  (NumPy's bool)
    assert names["sometrue"]([[True, False]]) == True  # noqa: E712
    assert names["product"]([2, 3, 4]) == 24 and names["round_"](2.567, 1) == 2.6
    assert names["trapz"]([1, 2, 3]) == 4.0
    assert names["msort"](numpy.array([[3, 1], [1, 2]])).tolist() == [[1, 1], [3, 2]]
    # in1d flattens its first argument: a 2-D question gets a 1-D answer.
    assert names["in1d"]([[1, 2], [3, 4]], [2, 3]).tolist() == [False, True, True, False]
    assert names["in1d"]([1, 2], [2], invert=True).tolist() == [True, False]
    assert isinstance("s", names["compat"].basestring)
    with pytest.raises(RuntimeError, match=r"function npv was removed from NumPy version 1\.20.*numpy_financial"):
        names["npv"](0.1, [1, 2])


def _fresh_python(code, **env):
    """Run ``code`` in a new interpreter of this environment (the start-up hook active); its stdout."""
    environ = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    environ.update(env)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=environ, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_start_up_imports_neither_numpy_nor_mxnet():
    out = _fresh_python("import sys, json; print(json.dumps(sorted(sys.modules)))")
    loaded = set(json.loads(out))
    assert "_d2lrnn_hook" in loaded  # the .pth file ran
    assert not loaded & {"numpy", "mxnet", "d2lrnn", "IPython", "matplotlib"}


@pytest.mark.parametrize("first_line", ["import mxnet as mx", "from mxnet import nd",
                                        "from mxnet.gluon import rnn", "import numpy; import mxnet"])
def test_mxnet_imported_first_works_and_gets_the_threads(first_line):
    out = _fresh_python(
        f"{first_line}\n"
        "import os, sys, mxnet as mx\n"
        "from mxnet import autograd, nd\n"
        "from mxnet.gluon import rnn\n"
        "layer = rnn.LSTM(8, num_layers=2)\n"
        "layer.initialize()\n"
        "x = nd.ones((3, 2, 4))\n"
        "with autograd.record():\n"
        "    loss = layer(x).sum()\n"
        "loss.backward()\n"
        "import d2lrnn\n"
        "print(layer(x).shape, d2lrnn.mxnet_threads(), 'd2lrnn' in sys.modules, os.environ.get('OMP_NUM_THREADS'))\n")
    from d2lrnn.env import _threads
    assert out.split() == ["(3,", "2,", "8)", str(_threads.available_cpus()), "True", "None"]


def test_a_bad_variable_stops_import_mxnet_with_one_line_instead_of_an_abort():
    environ = {**os.environ, "OMP_NUM_THREADS": "abc"}
    result = subprocess.run([sys.executable, "-c", "import mxnet"], capture_output=True, text=True,
                            env=environ, timeout=120)
    assert result.returncode == 1  # an exception, not MXNet's SIGABRT (-6)
    assert "EnvironmentVariableError: OMP_NUM_THREADS='abc' is not a whole number" in result.stderr


def test_the_mxnet_numpy_interface_works():
    out = _fresh_python(
        "from mxnet import np, npx\n"
        "npx.set_np()\n"
        "a = np.array([[1., 2.], [3., 4.]])\n"
        "print(a[a > 1.5].tolist(), float(np.ones((2, 2)).sum()), (a @ a).shape, type(a).__module__)\n"
        "import mxnet.numpy.fallback as fallback\n"
        "print(fallback.in1d is not None, fallback.msort(np.array([[2., 1.], [1., 3.]]).asnumpy()).tolist())\n")
    assert out.splitlines() == ["[2.0, 3.0, 4.0] 4.0 (2, 2) mxnet.numpy",
                                "True [[1.0, 1.0], [2.0, 3.0]]"]


def test_the_hook_changes_no_other_library():
    # IPython 9 removed display.set_matplotlib_formats; the hook does not put it back.
    probe = "from IPython import display\nprint(sorted(vars(display)))\n"
    without_hook = "import sys\nsys.meta_path[:] = [f for f in sys.meta_path if type(f).__module__ != '_d2lrnn_hook']\n"
    assert _fresh_python("import mxnet\n" + probe) == _fresh_python(without_hook + probe)


def test_install_adds_the_finder_once():
    before = list(sys.meta_path)
    _d2lrnn_hook.install()
    _d2lrnn_hook.install()
    assert [f for f in sys.meta_path if isinstance(f, _d2lrnn_hook.Finder)] == \
        [f for f in before if isinstance(f, _d2lrnn_hook.Finder)]


def test_missing_distutils_says_what_to_install(monkeypatch):
    monkeypatch.setattr(_compat.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match=r"MXNet imports distutils, .*: pip install setuptools"):
        _compat.check_distutils()
