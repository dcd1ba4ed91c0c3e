"""The NumPy names MXNet 1.9.1 still uses, put back where this NumPy removed them.

MXNet 1.9.1 (2022, the last 1.x release) talks to its own ``libmxnet.so`` through ctypes,
so it has no tie to NumPy's C API and runs on NumPy 1.24-1.26 and 2.x alike, but its Python
code reads NumPy names that were removed since: ``np.bool`` at import (NumPy 1.24 removed
it), on NumPy 2 also ``np.PZERO``, ``np.NaN``, ``np.sometrue`` and others, and in
``mxnet.numpy.fallback`` the financial functions that NumPy 1.20 moved to numpy-financial.
The names are defined on NumPy itself (MXNet's modules hold NumPy as ``np``, ``_np`` or
``onp``), in a process that imports d2lrnn or MXNet only, and only where NumPy lacks them.
``restore_numpy_names`` defines each missing one as what it meant before its removal; it
runs when d2lrnn is imported, which the start-up hook (``_d2lrnn_hook``) makes happen
before any ``import mxnet``. Names this NumPy still has are never replaced.

``tests/test_compat.py`` scans MXNet's installed sources for the NumPy names they use, so
a NumPy that removes another one fails a test instead of a student's notebook.
"""
import builtins
import importlib.util
import sys
import types
import warnings

import numpy

# NumPy 1.20 moved its financial functions to numpy-financial; mxnet/numpy/fallback.py names these.
_FINANCIAL = ("mirr", "npv", "pmt", "ppmt", "pv", "rate")


def _removed_financial(name):
    """What ``numpy.<name>`` was on NumPy 1.20-1.26: a function that says where it went."""
    message = (f"In accordance with NEP 32, the function {name} was removed from NumPy version "
               "1.20.  A replacement for this function is available in the numpy_financial "
               "library: https://pypi.org/project/numpy-financial")

    def removed(*args, **kwargs):
        raise RuntimeError(message)

    removed.__name__ = name
    return removed


def _msort(a):
    """NumPy 1.x ``msort``: a copy of ``a`` sorted along its first axis."""
    b = numpy.array(a, subok=True, copy=True)
    b.sort(axis=0)
    return b


def _in1d(ar1, ar2, assume_unique=False, invert=False, *, kind=None):
    """NumPy 1.x ``in1d``: ``isin`` of the flattened ``ar1``, a 1-D result."""
    return numpy.isin(numpy.asarray(ar1).ravel(), ar2, assume_unique=assume_unique,
                      invert=invert, kind=kind)


def _numpy_compat():
    """The part of NumPy 1.x's ``numpy.compat`` module that MXNet uses: ``basestring``."""
    module = types.ModuleType("numpy.compat", "NumPy 1.x's compat names that MXNet 1.9.1 uses.")
    module.basestring = str
    return module


def former_names():
    """``{name: value}``: each NumPy name MXNet 1.9.1 uses, as NumPy 1.x defined it.

    Exactly the names MXNet's sources use that some NumPy from 1.24 on lacks; the tests
    derive that list from MXNet's installed sources and compare.
    """
    inf, nan = float("inf"), float("nan")
    names = {
        "bool": builtins.bool, "int": builtins.int,  # aliases of the builtins until NumPy 1.24
        "PZERO": 0.0, "NZERO": -0.0, "PINF": inf, "NINF": -inf, "Inf": inf, "NaN": nan, "NAN": nan,
        "alltrue": numpy.all, "sometrue": numpy.any, "product": numpy.prod, "round_": numpy.round,
        "msort": _msort, "in1d": _in1d,
        "trapz": getattr(numpy, "trapezoid", None) or getattr(numpy, "trapz", None),
        "compat": _numpy_compat(),
    }
    names.update({name: _removed_financial(name) for name in _FINANCIAL})
    return names


def missing_names():
    """The names of ``former_names()`` that this NumPy lacks."""
    return sorted(name for name in former_names() if name not in vars(numpy) and not _lazy(name))


def _lazy(name):
    """True when NumPy still answers ``name`` through its module ``__getattr__`` (1.20-1.26)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "... was removed from NumPy 1.20", "np.bool will be ..."
        try:
            getattr(numpy, name)
        except AttributeError:
            return False
    return True


def restore_numpy_names():
    """Define on ``numpy`` each name of ``former_names()`` it lacks; return the names defined."""
    values = former_names()
    restored = missing_names()
    for name in restored:
        setattr(numpy, name, values[name])
    return restored


def check_distutils():
    """Raise ImportError, saying what to install, when ``distutils`` cannot be imported."""
    if importlib.util.find_spec("distutils") is None:
        raise ImportError(
            f"MXNet imports distutils, which Python {sys.version_info.major}."
            f"{sys.version_info.minor} does not ship: pip install setuptools "
            "(pip install -e . installs the pinned version).")
