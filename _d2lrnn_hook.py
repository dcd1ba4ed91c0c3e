"""d2lrnn's start-up hook: MXNet 1.9.1 loads on today's NumPy whatever is imported first.

Installing d2lrnn puts ``d2lrnn-import-hook.pth`` into site-packages; Python runs its one line
(``import _d2lrnn_hook; _d2lrnn_hook.install()``) at start-up, as setuptools does for
``distutils``. ``install`` only adds a finder to ``sys.meta_path``: nothing is imported at
start-up (neither NumPy nor MXNet), so an interpreter that never uses them pays nothing.

The finder acts on one import, ``mxnet``, before it loads: it imports ``d2lrnn`` first, whose
import restores the NumPy names MXNet 1.9.1 still uses (``d2lrnn.env._compat``), and lets
``d2lrnn.env._mxnet_load`` load MXNet with the thread count chosen for this process (set for
the load only; the environment is left as it was). That is all it changes: no other module,
no signal handler, no environment variable after the load. So ``import mxnet`` as a
notebook's first line works as if ``import d2lrnn`` had come before it.
"""
import sys


class Finder:
    """A ``sys.meta_path`` finder that prepares ``import mxnet`` and finds nothing else."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "mxnet":
            return None
        import d2lrnn  # noqa: F401  (restores NumPy's names before MXNet loads)
        from d2lrnn.env._mxnet_load import MXNetFinder

        return MXNetFinder().find_spec(fullname, path, target)


def install():
    """Put the finder first on ``sys.meta_path``, once."""
    if not any(isinstance(finder, Finder) for finder in sys.meta_path):
        sys.meta_path.insert(0, Finder())
