"""GPU selection: each reason to fall back to the CPU, with a substituted probe; the real kernels on the CPU."""
import mxnet as mx
import numpy as np
import pytest

from d2lrnn import chapter, cli
from d2lrnn.env import device

NO_KERNEL = ("Traceback (most recent call last):\n  File \"../src/operator/mxnet_op.h\", line 1020\n"
             "MXNetError: Check failed: err == cudaSuccess (209 vs. 0) : Name: mxnet_generic_kernel "
             "ErrStr:no kernel image is available for execution on the device")


class FakeProbe:
    """Answers like MXNetProbe for a described machine; counts the kernel runs."""

    def __init__(self, cuda=True, nvidia=True, gpus=1, count_error=None, kernel_error=None,
                 agrees=True, described=("NVIDIA T4", (7, 5))):
        self.cuda, self.nvidia, self.gpus, self.count_error = cuda, nvidia, gpus, count_error
        self.kernel_error, self.agrees, self.described = kernel_error, agrees, described
        self.runs = []

    def cuda_build(self):
        return self.cuda

    def nvidia_gpu_present(self):
        return self.nvidia

    def num_gpus(self):
        if self.count_error:
            raise mx.base.MXNetError(self.count_error)
        return self.gpus

    def describe(self, i):
        return self.described

    def run_kernels(self, i):
        self.runs.append(i)
        error = self.kernel_error(i) if callable(self.kernel_error) else self.kernel_error
        if error:
            raise error
        return self.agrees


@pytest.fixture
def machine(monkeypatch):
    """Install a FakeProbe built from keyword arguments, with empty per-process caches."""
    def install(**kwargs):
        probe = FakeProbe(**kwargs)
        monkeypatch.setattr(device, "_probe", probe)
        monkeypatch.setattr(device, "_checked", {})
        monkeypatch.setattr(device, "_said", set())
        return probe
    return install


def test_a_working_gpu_is_chosen_after_its_kernels_ran(machine, capsys):
    probe = machine(gpus=2)
    assert chapter.try_gpu() == mx.gpu(0) and chapter.try_gpu(1) == mx.gpu(1)
    assert device.try_all_gpus() == [mx.gpu(0), mx.gpu(1)]
    assert probe.runs == [0, 1]  # each GPU probed once per process
    assert capsys.readouterr().err == ""


def test_cpu_build_without_gpu_is_silent(machine, capsys):
    probe = machine(cuda=False, nvidia=False)
    assert chapter.try_gpu() == mx.cpu() and device.try_all_gpus() == [mx.cpu()]
    assert probe.runs == [] and capsys.readouterr().err == ""
    with pytest.raises(cli.CommandError, match="^--device gpu: no usable GPU: the installed mxnet is the "
                       "CPU-only build and there is no NVIDIA GPU. Use --device cpu or --device auto.$"):
        cli.resolve_device("gpu")


def test_cpu_build_on_a_gpu_machine_says_which_package(machine, capsys):
    machine(cuda=False, nvidia=True)
    assert chapter.try_gpu() == mx.cpu() and chapter.try_gpu() == mx.cpu()
    err = capsys.readouterr().err.splitlines()
    assert err == ["d2lrnn: using the CPU: this machine has an NVIDIA GPU, but the installed mxnet is the "
                   "CPU-only build; for the GPU install one of mxnet-cu112 ... mxnet-cu117 instead (see "
                   "docs/setup.md, GPU)"]  # once, though asked twice


def test_architecture_not_covered(machine, capsys):
    probe = machine(kernel_error=mx.base.MXNetError(NO_KERNEL), described=("NVIDIA H200", (9, 0)))
    assert chapter.try_gpu() == mx.cpu() and device.try_all_gpus() == [mx.cpu()]
    assert probe.runs == [0]
    assert capsys.readouterr().err.splitlines() == [
        "d2lrnn: using the CPU: GPU 0 (NVIDIA H200, compute capability 9.0) cannot run MXNet 1.9.1's GPU "
        "code, which the mxnet-cu112 ... mxnet-cu117 wheels carry for compute capability 5.0, 6.0, 7.0, "
        "8.0, 8.6 (and later minor versions of those) only: architecture not covered"]
    with pytest.raises(cli.CommandError, match=r"^--device gpu: no usable GPU: GPU 0 \(NVIDIA H200, compute "
                       r"capability 9\.0\) cannot run .* architecture not covered\. Use --device cpu"):
        cli.resolve_device("gpu")


def test_missing_cudnn_sub_library(machine, capsys):
    error = mx.base.MXNetError("Could not load library libcudnn_adv_infer.so.8. Error: "
                               "libcudnn_adv_infer.so.8: cannot open shared object file")
    machine(kernel_error=error)
    assert chapter.try_gpu() == mx.cpu()
    assert capsys.readouterr().err.splitlines() == [
        "d2lrnn: using the CPU: a CUDA 11 or cuDNN 8 library is missing or of the wrong version (Could not "
        "load library libcudnn_adv_infer.so.8. Error: libcudnn_adv_infer.so.8: cannot open shared object "
        "file); see docs/setup.md, GPU"]


def test_old_driver_no_gpu_seen_no_such_gpu_and_wrong_results(machine):
    machine(count_error="CUDA: CUDA driver version is insufficient for CUDA runtime version")
    assert device.gpu_problem(0).reason.startswith("the NVIDIA driver is too old for MXNet's CUDA 11 runtime")
    machine(gpus=0)
    assert device.gpu_problem(0).reason == ("MXNet (a CUDA build) sees no GPU; check nvidia-smi and "
                                            "CUDA_VISIBLE_DEVICES")
    machine(gpus=1)
    assert device.gpu_problem(3).reason == "there is no GPU 3: MXNet sees 1 (numbered from 0)"
    machine(agrees=False, described=None)
    assert device.gpu_problem(0).reason == "GPU 0 ran MXNet's test kernels but their results differ from the CPU's"
    machine(kernel_error=mx.base.MXNetError("out of memory"), described=None)
    assert device.gpu_problem(0).reason == "GPU 0 (GPU 0) failed MXNet's test kernels: out of memory"


def test_try_all_gpus_keeps_the_working_ones(machine, capsys):
    machine(gpus=3, kernel_error=lambda i: mx.base.MXNetError(NO_KERNEL) if i == 1 else None)
    assert device.try_all_gpus() == [mx.gpu(0), mx.gpu(2)]
    assert capsys.readouterr().err == ""


def test_covered_compute_capabilities():
    assert [cc for cc in [(3, 7), (5, 0), (5, 2), (6, 1), (7, 0), (7, 5), (8, 0), (8, 6), (8, 9), (9, 0),
                          (10, 0), (12, 0)] if device.covered(cc)] == \
        [(5, 0), (5, 2), (6, 1), (7, 0), (7, 5), (8, 0), (8, 6), (8, 9)]


def test_the_test_kernels_compute_the_right_numbers_on_the_cpu():
    product, lstm_step = device.run_test_kernels(mx.cpu())
    assert product.tolist() == [[7, 10], [15, 22]]
    # One LSTM step from a zero state, by hand. Parameters: W_x (8, 2), W_h (8, 2), b_x (8,), b_h (8,);
    # gates in the order i, f, g, o; with h = c = 0 the forget gate and W_h play no part.
    params = np.arange(4 * 2 * 4 + 16, dtype=np.float32) / 100
    w_x, b_x, b_h = params[:16].reshape(8, 2), params[32:40], params[40:48]
    z = w_x.sum(axis=1) + b_x + b_h
    sig = lambda v: 1 / (1 + np.exp(-v))
    i, g, o = sig(z[0:2]), np.tanh(z[4:6]), sig(z[6:8])
    assert lstm_step.shape == (1, 1, 2)
    np.testing.assert_allclose(lstm_step[0, 0], o * np.tanh(i * g), rtol=1e-5)


def test_readme_states_the_same_compute_capabilities():
    from pathlib import Path
    readme = (Path(__file__).resolve().parent.parent / "docs" / "setup.md").read_text()
    listed = ";".join(f"{m}.{n}" for m, n in device.WHEEL_COMPUTE_CAPABILITIES)
    assert f'`MXNET_CUDA_ARCH "{listed}"`' in readme


@pytest.mark.parametrize("gpus, ctx, message", [
    (0, mx.gpu(0), r"ctx=gpu\(0\) but MXNet sees no GPU here"),
    (1, mx.gpu(1), r"ctx=gpu\(1\) but MXNet sees 1 GPU here"),
    (2, mx.gpu(5), r"ctx=gpu\(5\) but MXNet sees 2 GPUs here"),
])
def test_check_ctx_names_the_gpus_there_are(gpus, ctx, message):
    with pytest.raises(ValueError, match=message + r"; use d2l.try_gpu\(\)"):
        device.check_ctx(ctx, probe=FakeProbe(gpus=gpus))
    device.check_ctx(mx.gpu(gpus - 1), probe=FakeProbe(gpus=gpus)) if gpus else None
    device.check_ctx(mx.cpu(), probe=FakeProbe(gpus=gpus))
