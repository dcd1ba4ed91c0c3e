"""Let MXNet 1.9.1 load on the NumPy and Python versions we pin; runs before MXNet is imported.

MXNet 1.9.1 (2022, the last 1.x release) uses ``np.bool``, an alias that NumPy 1.24
removed: with NumPy 1.26, ``import mxnet`` itself fails with ``AttributeError: module
'numpy' has no attribute 'bool'``. Importing d2lrnn first puts the alias back (as the
builtin ``bool``, which is what it always was). MXNet also imports ``distutils``, which
Python 3.12 no longer ships; setuptools provides it, and pyproject.toml depends on it there.

If ``import mxnet`` ran first and failed, importing d2lrnn afterwards restores the alias and
MXNet then imports (measured: the chapter's ops work), but its thread count can no longer be
set; ``_threads`` warns and says to restart.
"""
import importlib.util
import sys

import numpy


def restore_numpy_bool():
    """Define ``numpy.bool = bool`` where NumPy (1.24 to 1.26) lacks it; return True if it did."""
    if "bool" in vars(numpy):  # NumPy 2 has its own numpy.bool; an earlier call set ours
        return False
    numpy.bool = bool
    return True


def check_distutils():
    """Raise ImportError, saying what to install, when ``distutils`` cannot be imported."""
    if importlib.util.find_spec("distutils") is None:
        raise ImportError(
            f"MXNet imports distutils, which Python {sys.version_info.major}."
            f"{sys.version_info.minor} does not ship: pip install setuptools "
            "(pip install -e . installs the pinned version).")
