"""The measurements, each run in its own process (``bench_train.py --child KIND``).

A child prints one line ``RESULT_TAG`` + JSON on stdout; everything else goes to stderr.
The PyTorch child is in ``torch_child``; ``bench_train.CHILDREN`` names them all.
"""
import contextlib
import io
import json
import os
import platform
import random
import re
import shutil
import sys
import time
from importlib import util
from pathlib import Path

import _d2lrnn_hook
from d2lrnn.env import _mxnet_load
from d2lrnn.env._threads import ENV_VAR as OMP_ENV

from .config import CHAPTER, HELPER_VERSION, PREFIXES, RESULT_TAG


def _usage():
    """Peak RSS in bytes, CPU seconds and involuntary context switches of this process so far."""
    import resource
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = usage.ru_maxrss if sys.platform == "darwin" else usage.ru_maxrss * 1024  # macOS: bytes, Linux: KiB
    # Many involuntary switches per second mean other processes took the cores away.
    return {"peak_rss_bytes": peak, "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "involuntary_switches": usage.ru_nivcsw}


def mxnet_omp_threads():
    """How many OpenMP threads MXNet 1.9 uses in this environment (src/engine/openmp.cc).

    Unset, MXNet halves omp_get_num_procs(), the CPUs of the affinity mask (not the cgroup quota).
    """
    if os.environ.get("MXNET_OMP_MAX_THREADS"):
        return int(os.environ["MXNET_OMP_MAX_THREADS"]), "MXNET_OMP_MAX_THREADS"
    if os.environ.get(OMP_ENV):
        return int(os.environ[OMP_ENV]), OMP_ENV
    if _mxnet_load._chosen is not None:  # d2lrnn set it while MXNet loaded
        return _mxnet_load._chosen, "OMP_NUM_THREADS set by d2lrnn"
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    x86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")
    return max(1, cpus // 2 if x86 else cpus), "unset: MXNet uses half the CPUs" if x86 else "unset"


def thread_report():
    """MXNet's threads here, and OMP_NUM_THREADS as the user set it (None: d2lrnn chose it)."""
    threads, source = mxnet_omp_threads()
    return {"omp_num_threads_before_import": os.environ.get(OMP_ENV),
            "omp_num_threads": os.environ.get(OMP_ENV),
            "mxnet_threads": threads, "mxnet_threads_source": source}


def boundaries_to_epochs(bounds, num_tokens):
    """Per-epoch seconds from epoch boundary timestamps (len = epochs + 1)."""
    seconds = [b - a for a, b in zip(bounds, bounds[1:])]
    return {"epoch_seconds": seconds, "epoch_tokens": list(num_tokens),
            "epoch_end_seconds": [b - bounds[0] for b in bounds[1:]]}


def run_config(args):
    """The settings of one training child, as reported with its result."""
    return {"cell": args.cell, "num_hiddens": args.num_hiddens, "num_layers": CHAPTER["num_layers"],
            "num_steps": CHAPTER["num_steps"], "batch_size": CHAPTER["batch_size"],
            "lr": args.lr, "clipping_theta": CHAPTER["clipping_theta"],
            "num_epochs": args.epochs, "seed": args.seed}


def _ctx(args):
    """Where a child computes: GPU 0 for ``--device gpu``, else the CPU."""
    import mxnet as mx
    return mx.gpu(0) if args.device == "gpu" else mx.cpu()


def _gpu_report(args):
    """For ``--device gpu``: why d2lrnn would not use GPU 0 (None when it can), and whether PyTorch sees CUDA."""
    if args.device != "gpu":
        return {}
    from d2lrnn.env.device import gpu_problem
    problem = gpu_problem(0)
    torch_cuda = None
    if util.find_spec("torch") is not None:
        import torch
        torch_cuda = torch.cuda.is_available()
    return {"gpu_problem": problem.reason if problem else None, "torch_cuda": torch_cuda}


def child_prepare(args):
    """Load the data through d2lrnn, write it for the PyTorch child, lay out the helper's ../data."""
    import d2lrnn
    import mxnet as mx
    corpus_indices, vocab = d2lrnn.load_data_time_machine(CHAPTER["num_examples"])
    source = d2lrnn.fetch(d2lrnn.TIME_MACHINE)
    corpus_file = Path(args.work) / "corpus.json"
    corpus_file.parent.mkdir(parents=True, exist_ok=True)
    corpus_file.write_text(json.dumps({"idx_to_token": vocab.idx_to_token,
                                       "corpus_indices": list(corpus_indices)}))
    # The 2019 helper opens '../data/timemachine.txt' relative to its working directory.
    helper_data = Path(args.work) / "d2l092-run" / "data"
    helper_data.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, helper_data / "timemachine.txt")
    (helper_data.parent / "cwd").mkdir(exist_ok=True)
    features = mx.runtime.Features()
    return {"kind": "prepare", "d2lrnn_version": d2lrnn.__version__, "d2lrnn_file": d2lrnn.__file__,
            "versions": d2lrnn.versions(), "data_file": str(source),
            "vocab_size": len(vocab), "corpus_len": len(corpus_indices),
            "corpus_file": str(corpus_file), "helper_cwd": str(helper_data.parent / "cwd"),
            "mxnet_features": {name: features.is_enabled(name) for name in ("MKLDNN", "OPENMP", "BLAS_OPEN", "BLAS_MKL")},
            "threads": thread_report(), **_gpu_report(args)}


def child_d2lrnn(args):
    """d2lrnn's trainer as shipped; epoch boundaries are taken from outside via ``history=``."""
    import d2lrnn
    import mxnet as mx

    class TimedHistory(d2lrnn.History):
        """A History that also notes the wall clock when the trainer finishes an epoch."""

        def __init__(self):
            super().__init__()
            self.stamps = []

        def append(self, *a, **kw):
            self.stamps.append(time.perf_counter())
            super().append(*a, **kw)

    corpus_indices, vocab = d2lrnn.load_data_time_machine(CHAPTER["num_examples"])
    model = d2lrnn.RNNModel(d2lrnn.make_rnn_layer(args.cell, args.num_hiddens, CHAPTER["num_layers"]), len(vocab))
    history, diverged = TimedHistory(), None
    start = time.perf_counter()
    try:
        d2lrnn.train_and_predict_rnn_gluon(
            model, args.num_hiddens, corpus_indices, vocab, _ctx(args), args.epochs, CHAPTER["num_steps"],
            args.lr, CHAPTER["clipping_theta"], CHAPTER["batch_size"], PREFIXES,
            seed=args.seed, progress=False, verbose=False, history=history)
    except d2lrnn.TrainingDivergedError as e:  # keep the epochs before it, report it
        diverged = str(e).split(":")[0]
    mx.nd.waitall()
    end = time.perf_counter()
    if len(history.stamps) != len(history) or (diverged is None and len(history) != args.epochs):
        raise RuntimeError(f"expected {args.epochs} epochs in the history, got {len(history)} "
                           f"({len(history.stamps)} appends); the trainer's history= contract changed")
    # Epoch k ends when the trainer records it; the last one when the call has returned
    # and all queued work is done (or, after a divergence, at the last recorded epoch).
    bounds = [start] + (history.stamps if diverged else history.stamps[:-1] + [end])
    return {"kind": "d2lrnn", "config": run_config(args), "diverged": diverged,
            **boundaries_to_epochs(bounds, history.num_tokens),
            "perplexity": list(history.perplexity), "self_reported_seconds": list(history.seconds),
            "vocab_size": len(vocab), "threads": thread_report(), "d2lrnn_file": d2lrnn.__file__}


class _Tee(io.TextIOBase):
    """Writes to stderr and keeps a copy (the helper prints its perplexity lines)."""

    def __init__(self):
        self.copy = io.StringIO()

    def write(self, text):
        sys.stderr.write(text)
        return self.copy.write(text)


def _import_helper(helper_dir):
    """d2l 0.9.2 from ``helper_dir``, imported with OMP_NUM_THREADS as the user left it."""
    # This process imported d2lrnn for its settings (MXNet-free), which would choose MXNet's
    # threads as it loads; a student's own d2l environment has no d2lrnn, so its finders step aside.
    sys.meta_path[:] = [f for f in sys.meta_path
                        if not isinstance(f, (_mxnet_load.MXNetFinder, _d2lrnn_hook.Finder))]
    sys.path.insert(0, str(Path(helper_dir).resolve()))
    import d2l
    if d2l.__version__ != HELPER_VERSION or not Path(d2l.__file__).resolve().is_relative_to(
            Path(helper_dir).resolve()):
        raise RuntimeError(f"imported d2l {d2l.__version__} from {d2l.__file__}, wanted "
                           f"{HELPER_VERSION} from {helper_dir}")
    return d2l


def child_helper(args):
    """The 2019 chapter's helper, d2l 0.9.2, called unchanged; run with cwd = its work folder."""
    if args.epochs < 4:
        raise ValueError("the d2l 0.9.2 helper computes epoch % (num_epochs // 4), so it needs "
                         "at least 4 epochs")
    d2l = _import_helper(args.helper_dir)
    import mxnet as mx
    from d2lrnn.models import make_rnn_layer
    helper_train = sys.modules["d2l.train"]  # `d2l.train` is a function: `from .train import *`

    corpus_indices, vocab = d2l.load_data_time_machine()  # reads ../data/timemachine.txt
    same_corpus = None
    if args.corpus_file:
        reference = json.loads(Path(args.corpus_file).read_text())
        same_corpus = (reference["corpus_indices"] == list(corpus_indices)
                       and reference["idx_to_token"] == list(vocab.idx_to_token))

    # Observe epoch boundaries from outside: the helper calls data_iter_consecutive once
    # at the start of each epoch. The wrapper only notes the time and counts tokens.
    stamps, tokens = [], []
    original_iter = helper_train.data_iter_consecutive

    def observed_iter(*a, **kw):
        stamps.append(time.perf_counter())
        tokens.append(0)
        for X, Y in original_iter(*a, **kw):
            tokens[-1] += X.size
            yield X, Y

    helper_train.data_iter_consecutive = observed_iter
    random.seed(args.seed)
    mx.random.seed(args.seed)
    model = d2l.RNNModel(make_rnn_layer(args.cell, args.num_hiddens, CHAPTER["num_layers"]), len(vocab))
    tee = _Tee()
    with contextlib.redirect_stdout(tee):
        # prefixes=[]: no text generation inside the timed epochs (d2lrnn runs verbose=False).
        d2l.train_and_predict_rnn_gluon(
            model, args.num_hiddens, corpus_indices, vocab, mx.cpu(), args.epochs,
            CHAPTER["num_steps"], args.lr, CHAPTER["clipping_theta"],
            CHAPTER["batch_size"], [])
    mx.nd.waitall()
    end = time.perf_counter()
    printed = {int(e): float(p) for e, p in
               re.findall(r"epoch (\d+), perplexity ([0-9.eE+-]+|inf|nan)", tee.copy.getvalue())}
    return {"kind": "helper", "config": run_config(args), **boundaries_to_epochs(stamps + [end], tokens),
            "perplexity_printed": printed, "vocab_size": len(vocab), "same_corpus": same_corpus,
            "threads": thread_report(), "d2l_file": d2l.__file__}


# The same float32 product on the two libraries MXNet can use: mx.nd.dot runs on the wheel's
# BLAS, FullyConnected (no bias: data @ weight.T) on oneDNN, which the LSTM's operator uses too.
# On an Intel Xeon with AVX-512 they differ fourfold, so both are measured and the higher counts.
MATMUL_LIBRARIES = {
    "dot": lambda mx, a, b: mx.nd.dot(a, b),
    "fully_connected": lambda mx, a, b: mx.nd.FullyConnected(a, b, num_hidden=b.shape[0], no_bias=True),
}


def child_matmul(args):
    """float32 (n x n) @ (n x n) with mx.nd.dot and with FullyConnected, under d2lrnn's thread settings."""
    import mxnet as mx  # after d2lrnn (imported with this module), which set the thread count
    n = args.matmul_n
    a = mx.nd.random.uniform(shape=(n, n), dtype="float32", ctx=_ctx(args))
    b = mx.nd.random.uniform(shape=(n, n), dtype="float32", ctx=_ctx(args))
    gflops = {}
    for name, product in MATMUL_LIBRARIES.items():
        for _ in range(3):
            product(mx, a, b).wait_to_read()
        gflops[name] = []
        for _ in range(args.matmul_reps):
            start = time.perf_counter()
            product(mx, a, b).wait_to_read()
            gflops[name].append(2 * n ** 3 / (time.perf_counter() - start) / 1e9)
    return {"kind": "matmul", "n": n, "gflops": gflops, "threads": thread_report()}


def run_as_child(child, args):
    """Run the measurement ``child(args)`` with its chatter on stderr; print its one result line."""
    real_stdout = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):
        result = child(args)
    result.update(_usage())
    real_stdout.write(RESULT_TAG + json.dumps(result) + "\n")
    real_stdout.flush()
