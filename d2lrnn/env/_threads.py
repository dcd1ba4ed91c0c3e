"""How many OpenMP threads MXNet should use, and a hint when the machine is busy.

MXNet reads ``OMP_NUM_THREADS`` once, when it is first imported. Left unset,
MXNet 1.9 assumes hyper-threading and uses half the CPUs: on a 2-core laptop or
CI machine that is one thread, about half the speed of two. More threads than the
process may use are far worse: in a container whose CPU quota (Kubernetes CPU limit,
``docker run --cpus``) is below the cores it sees, OpenMP threads wait for each other
and training ran 13-14 times slower. So the default is the CPUs the process may use:
its affinity mask, lowered to its cgroup CPU quota. ``_mxnet_load`` applies it while
MXNet loads, and only then.

Nothing here imports MXNet; the cgroup files are read directly (no third-party library).
"""
import os
import re
import sys
import warnings
from pathlib import Path

ENV_VAR = "OMP_NUM_THREADS"
WAIT_POLICY_ENV = "OMP_WAIT_POLICY"


def _unescape(field):
    """A path field of /proc/self/mountinfo, whose spaces and tabs are written as octal escapes."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def _cpu_controller_dirs(root):
    """``(version, directory)`` for each cgroup directory that may limit this process's CPU time.

    Read from ``proc/self/cgroup`` and ``proc/self/mountinfo`` under ``root``; the
    process's own cgroup and its ancestors up to the mount point, innermost first.
    """
    try:
        memberships = (root / "proc/self/cgroup").read_text().splitlines()
        mounts = (root / "proc/self/mountinfo").read_text().splitlines()
    except OSError:  # not Linux, or /proc not mounted: no cgroup limit to apply
        return []
    paths = {}  # version -> this process's cgroup path in that hierarchy
    for line in memberships:
        hierarchy, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        if hierarchy == "0" and controllers == "":
            paths["v2"] = path
        elif "cpu" in controllers.split(","):
            paths["v1"] = path
    dirs = []
    for line in mounts:
        fields, _, tail = line.partition(" - ")
        fields, tail = fields.split(), tail.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        mount_root, mount_point = _unescape(fields[3]), _unescape(fields[4])
        if tail[0] == "cgroup2":
            version = "v2"
        elif tail[0] == "cgroup" and "cpu" in tail[2].split(","):
            version = "v1"
        else:
            continue
        if version not in paths:
            continue
        path = paths[version]
        # Inside a container the mount's root is the container's own cgroup; a path
        # outside it (another cgroup namespace) leaves only the mount point itself.
        if mount_root != "/":
            inside = path == mount_root or path.startswith(mount_root + "/")
            path = path[len(mount_root):] if inside else "/"
        top = root / mount_point.lstrip("/")
        here = top / path.strip("/")
        while True:
            dirs.append((version, here))
            if here == top:
                break
            here = here.parent
    return dirs


def _quota(version, directory):
    """CPUs allowed by the quota written in ``directory`` (a float), or None when none is set."""
    try:
        if version == "v2":  # cpu.max: "<quota> <period>" or "max <period>"
            quota, period = (directory / "cpu.max").read_text().split()[:2]
            if quota == "max":
                return None
        else:
            quota = (directory / "cpu.cfs_quota_us").read_text().strip()  # -1: no quota
            period = (directory / "cpu.cfs_period_us").read_text().strip()
        quota, period = int(quota), int(period)
    except (OSError, ValueError):  # no such file at this level, or not a number: no quota here
        return None
    return quota / period if quota > 0 and period > 0 else None


def cgroup_cpu_limit(root="/"):
    """CPUs that this process's cgroup CPU quota allows (cgroup v1 or v2; a float), or None when unlimited.

    ``root`` is where ``/proc`` and ``/sys`` are looked for (tests point it at fake files).
    The smallest quota on the path from the process's cgroup up to the mount point wins.
    """
    limits = [q for q in (_quota(v, d) for v, d in _cpu_controller_dirs(Path(root))) if q is not None]
    return min(limits) if limits else None


def available_cpus(root="/"):
    """Number of CPUs this process may use: its affinity mask, lowered to its cgroup CPU quota.

    A fractional quota is rounded down (1.5 CPUs -> 1); the result is at least 1.
    """
    if hasattr(os, "sched_getaffinity"):
        cpus = len(os.sched_getaffinity(0))
    else:
        cpus = os.cpu_count() or 1
    limit = cgroup_cpu_limit(root)
    if limit is not None:
        cpus = min(cpus, int(limit))
    return max(1, cpus)


def mxnet_loaded():
    """True when any part of MXNet is loaded, even by an ``import mxnet`` that failed."""
    return any((name == "mxnet" or name.startswith("mxnet.")) and module is not None
               for name, module in list(sys.modules.items()))


def warn_mxnet_loaded_first():
    """Warn that MXNet loaded before d2lrnn could choose its threads (no start-up hook)."""
    warnings.warn(
        "mxnet was imported before d2lrnn (an import that failed counts too) without d2lrnn's start-up "
        "hook (python -S, or d2lrnn not installed), so d2lrnn could not choose its thread count and "
        "MXNet may use only half the CPUs. Restart Python (in Jupyter: the kernel) and import d2lrnn "
        "first, or set OMP_NUM_THREADS before starting Python.",
        RuntimeWarning,
        stacklevel=4,
    )
