"""Pick where to compute: a GPU on which MXNet has just run a test kernel, otherwise the CPU.

A GPU that MXNet can see is not always one it can use: the stock GPU wheels carry
code for some GPU generations only, and need the CUDA 11 and cuDNN 8 libraries. So
``gpu_works`` (which ``try_gpu`` asks) runs a matrix product and one step of the fused RNN
operator on the GPU, compares them with the CPU, and when that fails says why, once.
"""
import ctypes
import glob
import sys
from dataclasses import dataclass

import mxnet as mx
import numpy as np
from mxnet import nd

from ._mxnet_errors import mxnet_reason

# Compute capabilities with machine code in the mxnet-cu112 ... mxnet-cu117 1.9.1 wheels, which
# carry no PTX (MXNET_CUDA_ARCH in MXNet's config/distribution/linux_cu11*.cmake). Code built for
# X.y runs on X.z with z >= y (CUDA's binary compatibility), so 7.5 (T4) uses the 7.0 code.
WHEEL_COMPUTE_CAPABILITIES = ((5, 0), (6, 0), (7, 0), (8, 0), (8, 6))
WHEELS = "mxnet-cu112 ... mxnet-cu117"


def covered(capability):
    """True when the wheels carry code that a GPU of ``capability`` (major, minor) can run."""
    major, minor = capability
    return any(major == m and minor >= n for m, n in WHEEL_COMPUTE_CAPABILITIES)


def _capabilities_text():
    return ", ".join(f"{m}.{n}" for m, n in WHEEL_COMPUTE_CAPABILITIES)


def run_test_kernels(ctx):
    """A 2x2 matrix product and one step of a one-layer fused LSTM (``nd.RNN``) on ``ctx``, as NumPy."""
    a = nd.array([[1, 2], [3, 4]], ctx=ctx)
    hidden = inputs = 2
    # (4 gates x hidden x (inputs + hidden) weights, then 2 x 4 x hidden biases)
    params = nd.arange(4 * hidden * (inputs + hidden) + 8 * hidden, ctx=ctx) / 100
    x = nd.ones((1, 1, inputs), ctx=ctx)  # (num_steps, batch_size, inputs)
    h = c = nd.zeros((1, 1, hidden), ctx=ctx)  # (num_layers, batch_size, hidden)
    out = nd.RNN(x, params, h, c, state_size=hidden, num_layers=1, mode="lstm")
    return nd.dot(a, a).asnumpy(), out.asnumpy()


class MXNetProbe:
    """What this machine and the installed MXNet can do. The tests substitute a fake one."""

    def cuda_build(self):
        return mx.runtime.Features().is_enabled("CUDA")

    def nvidia_gpu_present(self):
        return bool(glob.glob("/proc/driver/nvidia/gpus/*"))  # Linux NVIDIA driver's GPU list

    def num_gpus(self):
        return mx.context.num_gpus()  # raises MXNetError when the driver cannot be used

    def describe(self, i):
        """``(name, (major, minor))`` of GPU ``i`` from the CUDA driver, or None when unavailable."""
        try:
            cuda = ctypes.CDLL("libcuda.so.1")
        except OSError:
            return None
        device, major, minor = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
        name = ctypes.create_string_buffer(128)
        if (cuda.cuInit(0) or cuda.cuDeviceGet(ctypes.byref(device), i)
                or cuda.cuDeviceGetAttribute(ctypes.byref(major), 75, device)  # ..._CAPABILITY_MAJOR
                or cuda.cuDeviceGetAttribute(ctypes.byref(minor), 76, device)  # ..._CAPABILITY_MINOR
                or cuda.cuDeviceGetName(name, len(name), device)):
            return None
        return name.value.decode(errors="replace"), (major.value, minor.value)

    def run_kernels(self, i):
        """The test kernels on GPU ``i``; True when they ran and agree with the CPU."""
        ours = run_test_kernels(mx.gpu(i))
        return all(np.allclose(g, c, rtol=1e-4, atol=1e-6) for g, c in zip(ours, run_test_kernels(mx.cpu())))


@dataclass(frozen=True)
class GpuProblem:
    """Why a GPU is not used: ``reason`` in one line; ``usual`` for a CPU-only build on a machine without one."""

    reason: str
    usual: bool = False


def explain(error, i, described=None):
    """A ``GpuProblem`` for an error raised while GPU ``i`` ran the test kernels (or was counted)."""
    text = str(error)
    name, capability = described if described else (f"GPU {i}", None)
    where = f"GPU {i} ({name}" + (f", compute capability {capability[0]}.{capability[1]})" if capability else ")")
    if "no kernel image" in text or "invalid device function" in text:
        return GpuProblem(f"{where} cannot run MXNet 1.9.1's GPU code, which the {WHEELS} wheels carry "
                          f"for compute capability {_capabilities_text()} (and later minor versions of "
                          "those) only: architecture not covered")
    if "driver version is insufficient" in text:
        return GpuProblem(f"the NVIDIA driver is too old for MXNet's CUDA 11 runtime ({mxnet_reason(error)}); "
                          "update the driver")
    if any(key in text for key in ("libcudnn", "CUDNN", "libcublas", "libcudart", "libnvrtc",
                                   "cannot open shared object", "Could not load library")):
        return GpuProblem(f"a CUDA 11 or cuDNN 8 library is missing or of the wrong version "
                          f"({mxnet_reason(error)}); see docs/setup.md, GPU")
    return GpuProblem(f"{where} failed MXNet's test kernels: {mxnet_reason(error)}")


def gpu_problem(i=0, probe=None):
    """None when GPU ``i`` ran the test kernels correctly, else the ``GpuProblem`` that keeps it out."""
    probe = probe or _probe
    if not probe.cuda_build():
        if probe.nvidia_gpu_present():
            return GpuProblem(f"this machine has an NVIDIA GPU, but the installed mxnet is the CPU-only "
                              f"build; for the GPU install one of {WHEELS} instead (see docs/setup.md, GPU)")
        return GpuProblem("the installed mxnet is the CPU-only build and there is no NVIDIA GPU", usual=True)
    try:
        count = probe.num_gpus()
    except mx.base.MXNetError as e:
        return explain(e, i)
    if count == 0:
        return GpuProblem("MXNet (a CUDA build) sees no GPU; check nvidia-smi and CUDA_VISIBLE_DEVICES")
    if not 0 <= i < count:
        return GpuProblem(f"there is no GPU {i}: MXNet sees {count} (numbered from 0)")
    described = probe.describe(i)
    try:
        agrees = probe.run_kernels(i)
    except (mx.base.MXNetError, OSError) as e:
        return explain(e, i, described)
    if not agrees:
        return GpuProblem(f"GPU {i} ran MXNet's test kernels but their results differ from the CPU's")
    return None


_probe = MXNetProbe()
_checked = {}  # GPU index -> gpu_problem(), probed once per process
_said = set()  # reasons already printed


def _check(i):
    if i not in _checked:
        _checked[i] = gpu_problem(i)
    return _checked[i]


def _say_once(problem):
    if not problem.usual and problem.reason not in _said:
        _said.add(problem.reason)
        print(f"d2lrnn: using the CPU: {problem.reason}", file=sys.stderr, flush=True)


def num_gpus():
    """Number of GPUs MXNet sees (0 for a CPU-only build such as PyPI's ``mxnet``)."""
    try:
        return _probe.num_gpus() if _probe.cuda_build() else 0
    except mx.base.MXNetError:
        return 0


def check_ctx(ctx, probe=None):
    """Raise ``TypeError``/``ValueError`` unless ``ctx`` is an MXNet context this machine has.

    MXNet itself accepts ``ctx='cpu'`` or ``mx.gpu(0)`` without a GPU and fails later with
    its C++ traceback; this says what to pass instead.
    """
    if not isinstance(ctx, mx.Context):
        raise TypeError(f"ctx must be an MXNet context such as mx.cpu() or d2l.try_gpu(), got {ctx!r}")
    if ctx.device_type == "gpu":
        probe = probe or MXNetProbe()
        try:
            count = probe.num_gpus()
        except mx.base.MXNetError:
            count = 0
        if ctx.device_id >= count:
            have = f"{count} GPU{'s' if count != 1 else ''}" if count else "no GPU"
            raise ValueError(f"ctx={ctx} but MXNet sees {have} here; use d2l.try_gpu(), which "
                             "falls back to the CPU and says why")


def gpu_works(i=0):
    """True when GPU ``i`` ran the test kernels (probed once per process); else False, saying why once on stderr.

    ``try_gpu`` (chapter.py) picks the GPU with it.
    """
    problem = _check(i)
    if problem is not None:
        _say_once(problem)
    return problem is None


def try_all_gpus():
    """Every GPU that ran the test kernels, or ``[mx.cpu()]`` (saying why once on stderr)."""
    ctxs = [mx.gpu(i) for i in range(max(num_gpus(), 1)) if _check(i) is None]
    if not ctxs:
        _say_once(_check(0))
    return ctxs or [mx.cpu()]
