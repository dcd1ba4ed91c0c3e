"""The machine a benchmark ran on: CPU, memory, load, versions, thread settings."""
import contextlib
import os
import platform
import re
import subprocess
import sys
from importlib import util
from pathlib import Path

from d2lrnn.env._threads import available_cpus

from .config import HELPER_VERSION, REPO
from .peers import version

SIMD_FLAGS = ["avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "neon", "asimd"]
THREAD_ENV_PREFIXES = ("OMP_", "MXNET_", "KMP_", "MKL_", "DNNL_", "ONEDNN_", "OPENBLAS_", "GOMP_")


def _read_cpuinfo():
    info = {"model": platform.processor() or platform.machine(), "flags": set(), "cores": None}
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        if sys.platform == "darwin":
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                info["model"] = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"],
                                               capture_output=True, text=True).stdout.strip()
        return info
    if m := re.search(r"^model name\s*:\s*(.+)$", text, flags=re.M):
        info["model"] = m.group(1).strip()
    if m := re.search(r"^flags\s*:\s*(.+)$", text, flags=re.M):
        info["flags"] = set(m.group(1).split())
    cores = set(re.findall(r"^physical id\s*:\s*(\d+)\s*$.*?^core id\s*:\s*(\d+)\s*$", text,
                           flags=re.M | re.S))
    info["cores"] = len(cores) or None
    return info


def _git_commit():
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "d2lrnn"],
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if head.returncode != 0:
        return None
    return head.stdout.strip() + (" (d2lrnn/ has uncommitted changes)" if dirty.stdout.strip() else "")


def describe_machine():
    """CPU, memory, load, versions and thread-related environment, as a dict for the JSON."""
    cpu = _read_cpuinfo()
    mem = None
    with contextlib.suppress(OSError):
        if m := re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text(), flags=re.M):
            mem = int(m.group(1)) * 1024
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    env = {k: v for k, v in sorted(os.environ.items()) if k.startswith(THREAD_ENV_PREFIXES)}
    return {"cpu": cpu["model"], "logical_cpus": os.cpu_count(), "available_cpus": available_cpus(),
            "physical_cores": cpu["cores"], "simd": [f for f in SIMD_FLAGS if f in cpu["flags"]],
            "memory_bytes": mem, "loadavg": load, "os": platform.platform(),
            "python": platform.python_version(), "mxnet": version("mxnet"), "numpy": version("numpy"),
            "d2l (environment)": version("d2l"), "torch": version("torch") if util.find_spec("torch") else None,
            "git": _git_commit(), "thread_env": env}


def fmt_threads(threads):
    """A child's thread report in a few words: '2 (OMP_NUM_THREADS set by d2lrnn)'."""
    if not threads:
        return "?"
    if "torch_threads" in threads:
        return f"{threads['torch_threads']} (set_num_threads)"
    before = threads.get("omp_num_threads_before_import")
    how = threads["mxnet_threads_source"] if threads["mxnet_threads_source"] != "OMP_NUM_THREADS" else (
        "OMP_NUM_THREADS" if before else "OMP_NUM_THREADS set by d2lrnn")
    return f"{threads['mxnet_threads']} ({how})"


def print_machine(machine, prep, threads, peers):
    """The '## Machine' section."""
    gib = f"{machine['memory_bytes'] / 2 ** 30:.0f} GiB" if machine["memory_bytes"] else "?"
    print("## Machine\n")
    print(f"- CPU: {machine['cpu']}; {machine['logical_cpus']} logical CPUs, "
          f"{machine['available_cpus']} available to this process, physical cores: "
          f"{machine['physical_cores'] or '?'}; SIMD: {', '.join(machine['simd']) or '?'}; memory {gib}")
    print(f"- OS: {machine['os']}; Python {machine['python']}; mxnet {machine['mxnet']} "
          f"(oneDNN {'on' if prep['mxnet_features']['MKLDNN'] else 'off'}); numpy {machine['numpy']}; "
          f"torch {machine['torch'] or 'not installed'}; d2l {HELPER_VERSION} (chapter helper, "
          f"benchmarks/_work/d2l092)")
    print(f"- d2lrnn {prep['d2lrnn_version']} from {Path(prep['d2lrnn_file']).parent}, commit {machine['git'] or '?'}")
    kinds = {p.key.split("/")[0] for p in peers}
    print(f"- threads: d2lrnn gives MXNet {fmt_threads(prep['threads'])}; the matmul ceiling runs the same"
          + (f"; PyTorch gets torch.set_num_threads({threads})" if "torch" in kinds else "")
          + ("; the chapter helper runs with the environment as it is" if "helper" in kinds else "")
          + (f", and once more with OMP_NUM_THREADS={threads}" if "helper-omp" in kinds else ""))
    print(f"- thread-related environment: {machine['thread_env'] or 'none set'}")
    if machine["loadavg"]:
        load = machine["loadavg"][0]
        busy = load > 0.5 * machine["available_cpus"]
        print(f"- load average before the run: {load:.2f}"
              + ("  <-- the machine is busy; OpenMP timings under contention are not representative"
                 if busy else ""))
