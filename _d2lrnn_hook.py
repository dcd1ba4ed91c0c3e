"""d2lrnn's start-up hook: MXNet 1.9.1 loads on today's NumPy whatever is imported first.

Installing d2lrnn puts ``d2lrnn-import-hook.pth`` into site-packages; Python runs its one line
(``import _d2lrnn_hook; _d2lrnn_hook.install()``) at start-up, as setuptools does for
``distutils``. ``install`` only adds a finder to ``sys.meta_path``: nothing is imported at
start-up (neither NumPy nor MXNet), so an interpreter that never uses them pays nothing.

The finder acts on two imports, before the module loads, and then steps aside:

- ``mxnet``: imports ``d2lrnn`` first, whose set-up restores the NumPy names MXNet 1.9.1
  still uses (``d2lrnn.env._compat``), checks the environment variables MXNet reads and chooses
  its thread count. So ``import mxnet`` as a notebook's first line works as if ``import
  d2lrnn`` had come before it.
- ``IPython.display``: adds ``set_matplotlib_formats``, which IPython 9 removed and the 2019
  book calls, as the delegate to matplotlib-inline that IPython 7.23-8 had.
"""
import sys


def set_matplotlib_formats(*formats, **kwargs):
    """IPython's former ``display.set_matplotlib_formats``: matplotlib-inline's, which it called."""
    from matplotlib_inline.backend_inline import set_matplotlib_formats as set_formats

    set_formats(*formats, **kwargs)


class _AddAfterLoading:
    """Wraps a module's loader; once the module has run, adds the names it no longer defines."""

    def __init__(self, loader, names):
        self.loader, self.names = loader, names

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        for name, value in self.names.items():
            if not hasattr(module, name):
                setattr(module, name, value)

    def __getattr__(self, name):  # get_source, get_filename, ... as the real loader has them
        return getattr(self.loader, name)


class Finder:
    """A ``sys.meta_path`` finder that prepares the imports above and finds nothing itself."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname == "mxnet":
            import d2lrnn  # noqa: F401  (its set-up runs before MXNet loads)
        elif fullname == "IPython.display":
            from importlib.machinery import PathFinder

            spec = PathFinder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _AddAfterLoading(spec.loader,
                                               {"set_matplotlib_formats": set_matplotlib_formats})
                return spec
        return None


def install():
    """Put the finder first on ``sys.meta_path``, once."""
    if not any(isinstance(finder, Finder) for finder in sys.meta_path):
        sys.meta_path.insert(0, Finder())
