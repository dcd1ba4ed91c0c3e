"""Choose how many OpenMP threads MXNet uses, before MXNet is imported.

MXNet reads ``OMP_NUM_THREADS`` once, when it is first imported. Left unset,
MXNet 1.9 assumes hyper-threading and uses half the CPUs: on a 2-core laptop or
CI machine that is one thread, about half the speed of two.
"""
import os
import sys
import warnings

ENV_VAR = "OMP_NUM_THREADS"


def available_cpus():
    """Number of CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def mxnet_loaded():
    """True when any part of MXNet is loaded, even by an ``import mxnet`` that failed."""
    return any(name == "mxnet" or name.startswith("mxnet.") for name in sys.modules)


def set_default_omp_threads():
    """Set ``OMP_NUM_THREADS`` to the available CPUs unless the user already set it.

    Returns the value in effect. Warns when MXNet was imported first, because
    then the setting can no longer take effect in this process.
    """
    if os.environ.get(ENV_VAR):
        return os.environ[ENV_VAR]
    if mxnet_loaded():
        warnings.warn(
            "mxnet was imported before d2lrnn (an import that failed counts too), so "
            "OMP_NUM_THREADS could not be set for it and MXNet may use only half the CPUs. "
            "Restart Python (in Jupyter: the kernel) and import d2lrnn first, or set "
            "OMP_NUM_THREADS before starting Python.",
            RuntimeWarning,
            stacklevel=3,
        )
        return None
    os.environ[ENV_VAR] = str(available_cpus())
    return os.environ[ENV_VAR]
