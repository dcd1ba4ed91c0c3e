"""The graded cells' entry point: ``fresh_checks()``, the exercise checks loaded anew from the installed files.

The copy it returns grades: it also refuses pasted copies of the reference (``own_work``).

A notebook runs in one Python process, so a cell could replace a function of
``d2lrnn.checks`` or the reference of ``d2lrnn.scratch`` that a check compares with.
``fresh_checks`` reads ``checks/`` and the package modules it imports from this package's
folder into new module objects, under a private name that no cell knows in advance, and
drops that name from ``sys.modules`` again: what a cell changed in the modules it imported
does not reach them. It cannot stop code that replaces this function, Python's import
machinery or MXNet itself; docs/teaching.md says what a determined student can still do.
"""
import importlib
import secrets
import sys
import types
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def fresh_checks():
    """A new copy of ``d2lrnn.checks`` (with its own ``scratch``, ``checks.training_runs``, ...) read from the installed files."""
    name = f"_d2lrnn_fresh_{secrets.token_hex(8)}"
    package = types.ModuleType(name, "d2lrnn's modules, loaded anew for grading")
    package.__path__ = [str(PACKAGE_DIR)]  # submodules are found in the installed folder only
    package.__file__ = str(PACKAGE_DIR / "__init__.py")
    sys.modules[name] = package
    try:
        checks = importlib.import_module(f"{name}.checks")
    finally:
        for module in [m for m in sys.modules if m == name or m.startswith(f"{name}.")]:
            del sys.modules[module]
    for fn in (checks.check_rnn_cell, checks.check_runs, checks.deep_rnn):  # read from the folder, not a cell
        if not Path(fn.__code__.co_filename).resolve().is_relative_to(PACKAGE_DIR):
            raise RuntimeError(f"{fn.__name__} was not loaded from {PACKAGE_DIR}; reinstall d2lrnn")
    checks.GRADED = True  # graded: refuse pasted copies of the reference as well
    return checks
