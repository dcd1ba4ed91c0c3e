"""A one-line hint when training starts on a machine that other work keeps busy.

OpenMP threads wait for each other, spinning, so on a machine whose cores other processes
hold, every step of a multi-threaded MXNet waits for its slowest thread (docs/setup.md).
"""
import os
import sys

from ._environment import wait_policy as wait_policy_setting
from ._mxnet_load import mxnet_threads
from ._threads import ENV_VAR, available_cpus

# "Busy" = the 1-minute load average is at least this fraction of the usable CPUs.
BUSY_LOAD_FRACTION = 0.75
_busy_checked = False  # the load is looked at once: later it counts this process's own training


def busy_hint(load, cpus, threads, wait_policy=None):
    """The one-line hint for a machine busy with other work, or None when it is not needed.

    ``load`` is the 1-minute load average, ``cpus`` the usable CPUs, ``threads`` MXNet's
    OpenMP threads, ``wait_policy`` ``$OMP_WAIT_POLICY``. OpenMP threads wait for each
    other, spinning, so when other processes hold the cores every step waits for the
    slowest thread; one thread suffers far less, and so do threads that wait passively
    (the advice the hint would give is then already taken).
    """
    if threads <= 1 or load < BUSY_LOAD_FRACTION * cpus or (wait_policy or "").lower() == "passive":
        return None
    return (f"note: this machine is busy (load average {load:.1f} over the last minute, {cpus} usable "
            f"CPUs), so training with {threads} OpenMP threads may be many times slower; if it is, "
            f"restart Python or Jupyter with {ENV_VAR}=1 set beforehand")


def hint_if_busy(getloadavg=None, file=None):
    """Print ``busy_hint`` to stderr (or ``file``) when the process first trains; True when printed.

    Only the first call looks at the load: after a training, the load average counts this
    process's own threads, and a notebook's second training would call its machine busy.
    ``getloadavg`` defaults to ``os.getloadavg`` (absent on Windows: then nothing is printed).
    An unusable ``$OMP_WAIT_POLICY`` raises ``EnvironmentVariableError`` here, where d2lrnn reads it.
    """
    global _busy_checked
    policy = wait_policy_setting()
    getloadavg = getloadavg or getattr(os, "getloadavg", None)
    if _busy_checked or getloadavg is None:
        return False
    _busy_checked = True
    hint = busy_hint(getloadavg()[0], available_cpus(), mxnet_threads(), policy)
    if hint is None:
        return False
    print(hint, file=file or sys.stderr, flush=True)
    return True
