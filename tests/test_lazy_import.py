"""``import d2lrnn`` does its environment work at once and loads MXNet only at the first name that needs it."""
import pkgutil
import subprocess
import sys
from pathlib import Path

import d2lrnn

REPO = Path(__file__).resolve().parent.parent


def _run(code, **env):
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          timeout=120, env={**_clean_env(), **env})
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.split()


def _clean_env():
    import os
    return {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}


def test_import_restores_numpy_names_but_loads_no_mxnet_and_sets_no_variable():
    out = _run("import os, sys, numpy, d2lrnn; import d2lrnn.facts; "
               "print('mxnet' in sys.modules, os.environ.get('OMP_NUM_THREADS'), d2lrnn.mxnet_threads(), "
               "d2lrnn.env._compat.missing_names() == [] and hasattr(numpy, 'bool'))")
    assert out == ["False", "None", str(d2lrnn.env._threads.available_cpus()), "True"]


def test_first_use_loads_mxnet_with_the_threads_chosen():
    out = _run("import os, sys, d2lrnn as d2l; print('mxnet' in sys.modules); d2l.RNNModel; "
               "print('mxnet' in sys.modules, d2l.env._mxnet_load._chosen, os.environ.get('OMP_NUM_THREADS'))")
    assert out == ["False", "True", str(d2lrnn.env._threads.available_cpus()), "None"]


def test_every_public_name_and_module_resolves():
    for name in d2lrnn.__all__:
        assert getattr(d2lrnn, name) is not None, name
    # Every public module and subpackage is in the one table, reachable by its last name.
    modules = {m.name.removeprefix("d2lrnn.")
               for m in pkgutil.walk_packages([str(REPO / "d2lrnn")], prefix="d2lrnn.")
               if not m.name.rpartition(".")[2].startswith("_")}
    assert set(d2lrnn._EXPORTS) == modules
    for path in modules:
        assert getattr(d2lrnn, path.rpartition(".")[2]).__name__ == f"d2lrnn.{path}"
    assert {"RNNModel", "train", "checkpoint", "device", "facts", "versions"} <= set(dir(d2lrnn))


def test_star_import_and_unknown_names():
    namespace = {}
    exec("from d2lrnn import *", namespace)
    assert namespace["train_and_predict_rnn_gluon"] is d2lrnn.chapter.train_and_predict_rnn_gluon
    try:
        d2lrnn.no_such_name
    except AttributeError as e:
        assert str(e) == "module 'd2lrnn' has no attribute 'no_such_name'"
    else:
        raise AssertionError("d2lrnn.no_such_name did not raise AttributeError")
