"""The environment variables d2lrnn reads, each checked where d2lrnn uses it.

An unusable value raises ``EnvironmentVariableError``, one line that names the variable and
what to set, where d2lrnn reads it: ``OMP_NUM_THREADS`` as MXNet loads (``_mxnet_load``: MXNet
itself would abort the whole interpreter, SIGABRT, inside its parser), ``OMP_WAIT_POLICY``
when training first looks at the machine's load (``_busy.hint_if_busy``), ``D2LRNN_QUICK``
in ``quick_mode()`` and ``D2LRNN_DATA_DIR`` when the data directory is resolved. Importing
d2lrnn or MXNet checks none of the others, so a program that never asks d2lrnn for them is not
stopped by them. The command line checks them all before it starts (``check_environment``).
"""
import os
import re
from pathlib import Path

from ._threads import ENV_VAR as OMP_ENV, WAIT_POLICY_ENV, available_cpus

QUICK_ENV = "D2LRNN_QUICK"
DATA_DIR_ENV = "D2LRNN_DATA_DIR"  # where download.fetch looks for and caches the data


class EnvironmentVariableError(ValueError):
    """An environment variable that d2lrnn or MXNet reads has a value they cannot use."""


def _value(environ, name):
    """The variable's value without surrounding blanks; an empty value counts as unset (None)."""
    value = environ.get(name, "").strip()
    return value or None


def omp_num_threads(environ=os.environ):
    """``$OMP_NUM_THREADS`` as an int, or None when unset."""
    value = _value(environ, OMP_ENV)
    if value is None:
        return None
    # MXNet parses it as a C int and aborts on anything else; libgomp ignores 0.
    if not re.fullmatch(r"[0-9]+", value) or not 1 <= int(value) < 2 ** 31:
        raise EnvironmentVariableError(
            f"{OMP_ENV}={environ[OMP_ENV]!r} is not a whole number of threads >= 1; set it to, "
            f"e.g., {OMP_ENV}=1, or unset it to use the CPUs this process may use "
            f"({available_cpus()} here)")
    return int(value)


def wait_policy(environ=os.environ):
    """``$OMP_WAIT_POLICY`` as 'active' or 'passive', or None when unset."""
    value = _value(environ, WAIT_POLICY_ENV)
    if value is None:
        return None
    if value.lower() not in ("active", "passive"):
        raise EnvironmentVariableError(
            f"{WAIT_POLICY_ENV}={environ[WAIT_POLICY_ENV]!r} is neither 'active' nor 'passive'; "
            f"set {WAIT_POLICY_ENV}=passive on a machine shared with other jobs, or unset it")
    return value.lower()


def quick_mode(environ=os.environ):
    """True when ``$D2LRNN_QUICK`` is 1, False when it is 0 or unset."""
    value = _value(environ, QUICK_ENV)
    if value not in (None, "0", "1"):
        raise EnvironmentVariableError(
            f"{QUICK_ENV}={environ[QUICK_ENV]!r} must be 1 (train the notebooks' short schedule) "
            f"or 0 (the full one); set one of them or unset it")
    return value == "1"


def data_dir(environ=os.environ):
    """``$D2LRNN_DATA_DIR`` as a Path, or None when unset; a path to (or under) a file is refused."""
    value = _value(environ, DATA_DIR_ENV)
    if value is None:
        return None
    path = Path(value).expanduser()
    for existing in (p for p in (path, *path.parents) if p.exists()):
        if not existing.is_dir():
            raise EnvironmentVariableError(
                f"{DATA_DIR_ENV}={environ[DATA_DIR_ENV]!r}: {existing} is a file, not a directory; "
                f"point {DATA_DIR_ENV} at a directory for the data files, or unset it")
        break
    return path


def check_environment(environ=os.environ):
    """Raise ``EnvironmentVariableError`` for the first unusable variable, before MXNet reads any."""
    omp_num_threads(environ)
    wait_policy(environ)
    quick_mode(environ)
    data_dir(environ)
