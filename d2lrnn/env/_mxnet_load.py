"""MXNet's thread count, chosen while MXNet loads and nowhere else.

MXNet (and its OpenMP runtime) read ``OMP_NUM_THREADS`` once, while ``import mxnet`` loads
``libmxnet.so``; left unset, MXNet 1.9 uses half the CPUs (see ``_threads``). So when MXNet
is loaded in a process that imported d2lrnn (or through the start-up hook, which imports
d2lrnn at the first ``import mxnet``), the finder below wraps MXNet's loader:

- ``OMP_NUM_THREADS`` unset: it is set to the CPUs this process may use for the duration of
  MXNet's load and removed again afterwards, so the process's environment, and with it every
  child process's, is as the user left it (a child that loads MXNet chooses for itself);
- set to a whole number >= 1: MXNet reads it as it is;
- set to anything else: ``EnvironmentVariableError``, one line, instead of MXNet's abort of
  the whole interpreter (SIGABRT) inside its parser.

``mxnet_threads()`` tells how many threads MXNet uses (or will use) in this process.
"""
import os
import sys
from importlib.machinery import PathFinder

from . import _threads
from ._environment import omp_num_threads

_chosen = None  # the OMP_NUM_THREADS value this process's MXNet was loaded with, once loaded


class _ThreadsWhileLoading:
    """Wraps MXNet's loader: runs the module with the thread count set, then restores the environment."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        global _chosen
        threads = omp_num_threads()  # EnvironmentVariableError before MXNet parses a bad value
        if threads is not None:
            _chosen = threads
            self.loader.exec_module(module)
            return
        value = str(_threads.available_cpus())
        os.environ[_threads.ENV_VAR] = value
        try:
            self.loader.exec_module(module)
            _chosen = int(value)
        finally:
            if os.environ.get(_threads.ENV_VAR) == value:
                del os.environ[_threads.ENV_VAR]

    def __getattr__(self, name):  # get_source, get_filename, ... as the real loader has them
        return getattr(self.loader, name)


class MXNetFinder:
    """A ``sys.meta_path`` finder for ``mxnet`` only: MXNet's own spec, with the loader above."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "mxnet":
            return None
        spec = PathFinder.find_spec(fullname, path, target)
        if spec is not None and spec.loader is not None and not isinstance(spec.loader, _ThreadsWhileLoading):
            spec.loader = _ThreadsWhileLoading(spec.loader)
        return spec


def install():
    """Put ``MXNetFinder`` first on ``sys.meta_path``, once; warn when MXNet is loaded already."""
    if _threads.mxnet_loaded():
        _threads.warn_mxnet_loaded_first()
    elif not any(isinstance(finder, MXNetFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, MXNetFinder())


def mxnet_threads():
    """MXNet's OpenMP threads in this process: as loaded, or as ``import mxnet`` would choose now."""
    if _chosen is not None:
        return _chosen
    threads = omp_num_threads()
    return threads if threads is not None else _threads.available_cpus()
