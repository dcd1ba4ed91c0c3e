"""MXNet 1.9.1 on NumPy 1.26 and Python 3.12: what breaks without d2lrnn's compat step, and what it says."""
import os
import subprocess
import sys

import numpy
import pytest

from d2lrnn.env import _compat


def test_numpy_bool_is_the_builtin_after_import():
    assert numpy.bool is bool
    assert _compat.restore_numpy_bool() is False  # already done, nothing to do again


@pytest.mark.slow
@pytest.mark.skipif(tuple(map(int, numpy.__version__.split(".")[:2])) < (1, 24),
                    reason="NumPy before 1.24 still has np.bool")
def test_mxnet_first_fails_and_d2lrnn_after_it_says_to_restart():
    # Measured in a fresh interpreter: `import mxnet` itself fails on NumPy >= 1.24; importing
    # d2lrnn afterwards restores the alias, MXNet then works, and a warning says to restart.
    code = (
        "import warnings\n"
        "try:\n"
        "    import mxnet\n"
        "except AttributeError as e:\n"
        "    print('mxnet failed:', str(e).splitlines()[0])\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always', RuntimeWarning)\n"
        "    import d2lrnn\n"
        "print([str(w.message) for w in caught if w.category is RuntimeWarning])\n"
        "import mxnet as mx\n"
        "print('sum', mx.nd.ones((2, 3)).sum().asscalar())\n")
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120, check=True).stdout
    assert "mxnet failed: module 'numpy' has no attribute 'bool'" in out
    assert "mxnet was imported before d2lrnn (an import that failed counts too)" in out
    assert "Restart Python (in Jupyter: the kernel) and import d2lrnn first" in out
    assert "sum 6.0" in out


def test_missing_distutils_says_what_to_install(monkeypatch):
    monkeypatch.setattr(_compat.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match=r"MXNet imports distutils, .*: pip install setuptools"):
        _compat.check_distutils()
