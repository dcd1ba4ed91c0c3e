#!/usr/bin/env python3
"""Side-by-side training benchmark for the chapter's deep RNN (issue 5).

    python benchmarks/bench_train.py            # the full benchmark (about 10 min on 2 quiet cores)
    python benchmarks/bench_train.py --quick    # one short round, no time-to-quality run
    python benchmarks/bench_train.py --device gpu   # d2lrnn and PyTorch on GPU 0 (no chapter helper)

Trains the chapter's configuration (2-layer LSTM, 256 hidden units, the first 10,000
characters of The Time Machine, batch 32 x 35 steps, lr 5, clipping 1, consecutive
sampling) for a fixed number of epochs per implementation, each run in its own process,
round-robin over several rounds, and prints tokens/s, seconds/epoch, GFLOP/s, ratios,
the fraction of a float32 matrix-multiply ceiling measured the same way, and peak RSS.

Peers: d2lrnn's trainer as shipped; the chapter's own helper (d2l==0.9.2 from PyPI,
installed once into benchmarks/_work/d2l092 and run unchanged); PyTorch, when importable.
GRU and tanh-RNN are measured for d2lrnn and PyTorch as well, and a time-to-quality run
measures how long d2lrnn's trainer takes to reach training perplexity 1.1.

The parent process never imports MXNet or PyTorch: every measurement is a child process
(this script with ``--child KIND``) that prints one JSON line prefixed with ``RESULT_TAG``.
"""
import argparse
import contextlib
import io
import json
import math
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata, util
from pathlib import Path

SCRIPT = Path(__file__).resolve()
REPO = SCRIPT.parent.parent
WORK = SCRIPT.parent / "_work"  # git-ignored: the d2l 0.9.2 install, corpus, logs, results

# The chapter's configuration.
CHAPTER = {"num_hiddens": 256, "num_layers": 2, "num_steps": 35, "batch_size": 32,
           "lr": 5.0, "clipping_theta": 1.0, "num_examples": 10000}
PREFIXES = ["traveller", "time traveller"]
CELLS = ("lstm", "gru", "rnn")
CELL_NAMES = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN-tanh"}
TORCH_LAYERS = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}
# The chapter's lr 5 is for its LSTM; a tanh RNN diverges with it (d2lrnn stops at epoch 6
# of the chapter's setting with perplexity 3.6e5), so it trains with lr 1, as d2l 1.0 does.
CELL_LR = {"lstm": 5.0, "gru": 5.0, "rnn": 1.0}
GATES = {"lstm": 4, "gru": 3, "rnn": 1}  # weight blocks per layer: 4 LSTM gates, 3 GRU, 1 plain RNN

HELPER_VERSION = "0.9.2"  # the d2l release the 2019 chapter imports
TORCH_PIN = "torch==2.13.0"  # the optional `benchmark` extra in pyproject.toml
RESULT_TAG = "BENCH_RESULT "
TARGET_PPL = 1.1
CHAPTER_EPOCHS = 500
MATMUL_N = 2048

# Targets from issue 5.
TARGET_VS_TORCH = 1.2
TARGET_VS_HELPER = 2.5
TARGET_CEILING = 0.75
TARGET_RSS = 1 << 30
TARGET_CHAPTER_SECONDS = 180.0


# ---------------------------------------------------------------------------------------
# Model arithmetic and data order (shared by parent and children, no MXNet/PyTorch needed)

def flops_per_token(cell, vocab_size, num_hiddens, num_layers):
    """Matrix-multiply FLOPs per token, forward + backward, for one-hot -> RNN -> dense.

    Layer l maps its input (size V for l = 1, H above) and the previous hidden state
    (size H) to G*H gate pre-activations: 2*G*H*(in_l + H) FLOPs. The dense head adds
    2*H*V. Backward costs twice the forward (gradients for inputs and for weights), so
    the total is 3x the forward. Element-wise gate math, biases and softmax are left out.
    """
    gates = GATES[cell]
    forward = 2 * num_hiddens * vocab_size  # dense head
    for layer in range(num_layers):
        inputs = vocab_size if layer == 0 else num_hiddens
        forward += 2 * gates * num_hiddens * (inputs + num_hiddens)
    return 3 * forward


FLOP_FORMULA = ("FLOP/token = 3 x [sum over layers 2*G*H*(in + H) + 2*H*V], in = V for layer 1 "
                "and H above, G = 4 (LSTM), 3 (GRU), 1 (RNN); matrix multiplies only, "
                "backward = 2x forward")


def consecutive_layout(corpus_len, batch_size, num_steps, rng):
    """``(offset, row_len, num_batches)`` of one epoch of consecutive sampling.

    The same arithmetic and the same draw from ``rng`` as ``d2lrnn.data_iter_consecutive``:
    the corpus from ``offset`` is cut into ``batch_size`` rows of ``row_len`` tokens, and
    minibatch k is columns [k*num_steps, (k+1)*num_steps) with targets shifted by one.
    """
    offset = rng.randrange(num_steps)
    row_len = (corpus_len - offset) // batch_size
    return offset, row_len, (row_len - 1) // num_steps


def epoch_rng(seed, epoch):
    """The sampler's random source for one epoch, as d2lrnn's trainer derives it."""
    return random.Random(f"{seed}/{epoch}")


# ---------------------------------------------------------------------------------------
# Children: each prints one line RESULT_TAG + JSON on stdout; everything else goes to stderr.

def _exp(x):
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _usage():
    """Peak RSS in bytes, CPU seconds and involuntary context switches of this process so far."""
    import resource
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = usage.ru_maxrss if sys.platform == "darwin" else usage.ru_maxrss * 1024  # macOS: bytes, Linux: KiB
    # Many involuntary switches per second mean other processes took the cores away.
    return {"peak_rss_bytes": peak, "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "involuntary_switches": usage.ru_nivcsw}


def _mxnet_omp_threads(cpus):
    """How many OpenMP threads MXNet 1.9 uses in this environment (src/engine/openmp.cc)."""
    if os.environ.get("MXNET_OMP_MAX_THREADS"):
        return int(os.environ["MXNET_OMP_MAX_THREADS"]), "MXNET_OMP_MAX_THREADS"
    if os.environ.get("OMP_NUM_THREADS"):
        return int(os.environ["OMP_NUM_THREADS"]), "OMP_NUM_THREADS"
    x86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")
    return max(1, cpus // 2 if x86 else cpus), "unset: MXNet uses half the CPUs" if x86 else "unset"


def _available_cpus():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _thread_report(omp_before):
    threads, source = _mxnet_omp_threads(_available_cpus())
    return {"omp_num_threads_before_import": omp_before,
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
            "mxnet_threads": threads, "mxnet_threads_source": source}


def _boundaries_to_epochs(bounds, num_tokens):
    """Per-epoch seconds from epoch boundary timestamps (len = epochs + 1)."""
    seconds = [b - a for a, b in zip(bounds, bounds[1:])]
    return {"epoch_seconds": seconds, "epoch_tokens": list(num_tokens),
            "epoch_end_seconds": [b - bounds[0] for b in bounds[1:]]}


def _config(args):
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
    from d2lrnn.device import gpu_problem
    problem = gpu_problem(0)
    torch_cuda = None
    if util.find_spec("torch") is not None:
        import torch
        torch_cuda = torch.cuda.is_available()
    return {"gpu_problem": problem.reason if problem else None, "torch_cuda": torch_cuda}


def _make_gluon_layer(cell, num_hiddens):
    from mxnet.gluon import rnn
    if cell == "lstm":
        return rnn.LSTM(hidden_size=num_hiddens, num_layers=CHAPTER["num_layers"])
    if cell == "gru":
        return rnn.GRU(hidden_size=num_hiddens, num_layers=CHAPTER["num_layers"])
    return rnn.RNN(hidden_size=num_hiddens, num_layers=CHAPTER["num_layers"], activation="tanh")


def child_prepare(args):
    """Load the data through d2lrnn, write it for the PyTorch child, lay out the helper's ../data."""
    omp_before = os.environ.get("OMP_NUM_THREADS")
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
            "threads": _thread_report(omp_before), **_gpu_report(args)}


def child_d2lrnn(args):
    """d2lrnn's trainer as shipped; epoch boundaries are taken from outside via ``history=``."""
    omp_before = os.environ.get("OMP_NUM_THREADS")
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
    ctx = _ctx(args)
    model = d2lrnn.RNNModel(_make_gluon_layer(args.cell, args.num_hiddens), len(vocab))
    history, diverged = TimedHistory(), None
    start = time.perf_counter()
    try:
        d2lrnn.train_and_predict_rnn_gluon(
            model, args.num_hiddens, corpus_indices, vocab, ctx, args.epochs, CHAPTER["num_steps"],
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
    return {"kind": "d2lrnn", "config": _config(args), "diverged": diverged,
            **_boundaries_to_epochs(bounds, history.num_tokens),
            "perplexity": list(history.perplexity), "self_reported_seconds": list(history.seconds),
            "vocab_size": len(vocab), "threads": _thread_report(omp_before),
            "d2lrnn_file": d2lrnn.__file__}


class _Tee(io.TextIOBase):
    """Writes to stderr and keeps a copy (the helper prints its perplexity lines)."""

    def __init__(self):
        self.copy = io.StringIO()

    def write(self, text):
        sys.stderr.write(text)
        return self.copy.write(text)


def child_helper(args):
    """The 2019 chapter's helper, d2l 0.9.2, called unchanged; run with cwd = its work folder."""
    omp_before = os.environ.get("OMP_NUM_THREADS")
    if args.epochs < 4:
        raise ValueError("the d2l 0.9.2 helper computes epoch % (num_epochs // 4), so it needs "
                         "at least 4 epochs")
    sys.path.insert(0, str(Path(args.helper_dir).resolve()))
    import d2l
    if d2l.__version__ != HELPER_VERSION or not Path(d2l.__file__).resolve().is_relative_to(
            Path(args.helper_dir).resolve()):
        raise RuntimeError(f"imported d2l {d2l.__version__} from {d2l.__file__}, wanted "
                           f"{HELPER_VERSION} from {args.helper_dir}")
    import mxnet as mx
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
    model = d2l.RNNModel(_make_gluon_layer(args.cell, args.num_hiddens), len(vocab))
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
    return {"kind": "helper", "config": _config(args), **_boundaries_to_epochs(stamps + [end], tokens),
            "perplexity_printed": printed, "vocab_size": len(vocab), "same_corpus": same_corpus,
            "threads": _thread_report(omp_before), "d2l_file": d2l.__file__}


def child_torch(args):
    """PyTorch nn.LSTM/GRU/RNN with the same model, data order, SGD and global-norm clipping."""
    import torch
    from torch import nn

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device("cuda:0" if args.device == "gpu" else "cpu")
    data = json.loads(Path(args.corpus_file).read_text())
    corpus, vocab_size = data["corpus_indices"], len(data["idx_to_token"])
    num_hiddens, batch_size, num_steps = args.num_hiddens, CHAPTER["batch_size"], CHAPTER["num_steps"]
    layer_cls = getattr(nn, TORCH_LAYERS[args.cell])
    extra = {"nonlinearity": "tanh"} if args.cell == "rnn" else {}

    class TorchRNNModel(nn.Module):
        """One-hot tokens -> recurrent layer -> dense logits, like d2lrnn.RNNModel."""

        def __init__(self):
            super().__init__()
            self.rnn = layer_cls(vocab_size, num_hiddens, CHAPTER["num_layers"], **extra)
            self.dense = nn.Linear(num_hiddens, vocab_size)

        def forward(self, X, state):
            inputs = nn.functional.one_hot(X.T, vocab_size).float()  # (num_steps, batch_size, vocab_size)
            Y, state = self.rnn(inputs, state)  # (num_steps, batch_size, num_hiddens)
            return self.dense(Y.reshape(-1, num_hiddens)), state  # (num_steps * batch_size, vocab_size)

    model = TorchRNNModel().to(device)
    with torch.no_grad():  # the chapter's init.Normal(0.01) for weights; Gluon's biases start at 0
        for name, p in model.named_parameters():
            nn.init.zeros_(p) if "bias" in name else nn.init.normal_(p, 0.0, 0.01)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    params = list(model.parameters())

    bounds, tokens, perplexities = [time.perf_counter()], [], []
    for epoch in range(1, args.epochs + 1):
        offset, row_len, num_batches = consecutive_layout(len(corpus), batch_size, num_steps,
                                                          epoch_rng(args.seed, epoch))
        rows = torch.tensor(corpus[offset:offset + row_len * batch_size], device=device).view(batch_size, row_len)
        state, loss_sum, n = None, 0.0, 0
        for i in range(0, num_batches * num_steps, num_steps):
            X, Y = rows[:, i:i + num_steps], rows[:, i + 1:i + 1 + num_steps]
            if state is not None:  # keep values, cut the graph
                state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
            output, state = model(X, state)
            y = Y.T.reshape(-1)  # time-major, like output
            loss = loss_fn(output, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(params, CHAPTER["clipping_theta"])
            optimizer.step()
            loss_sum += loss.item() * y.numel()
            n += y.numel()
        bounds.append(time.perf_counter())
        tokens.append(n)
        perplexities.append(_exp(loss_sum / n))
    # d2lrnn's criterion, reported only: PyTorch trains on regardless.
    bad = [e for e, p in enumerate(perplexities, 1) if not p <= vocab_size ** 2]
    diverged = f"perplexity above vocab_size**2 from epoch {bad[0]}" if bad else None
    return {"kind": "torch", "config": _config(args), "diverged": diverged,
            **_boundaries_to_epochs(bounds, tokens),
            "perplexity": perplexities, "vocab_size": vocab_size,
            "threads": {"torch_threads": torch.get_num_threads(),
                        "omp_num_threads": os.environ.get("OMP_NUM_THREADS")},
            "torch_version": torch.__version__}


def child_matmul(args):
    """float32 (n x n) @ (n x n) with mx.nd.dot, under the thread settings d2lrnn gives MXNet."""
    omp_before = os.environ.get("OMP_NUM_THREADS")
    import d2lrnn  # noqa: F401  (sets the thread count as it does for training)
    import mxnet as mx
    n = args.matmul_n
    a = mx.nd.random.uniform(shape=(n, n), dtype="float32", ctx=_ctx(args))
    b = mx.nd.random.uniform(shape=(n, n), dtype="float32", ctx=_ctx(args))
    for _ in range(3):
        mx.nd.dot(a, b).wait_to_read()
    gflops = []
    for _ in range(args.matmul_reps):
        start = time.perf_counter()
        mx.nd.dot(a, b).wait_to_read()
        gflops.append(2 * n ** 3 / (time.perf_counter() - start) / 1e9)
    return {"kind": "matmul", "n": n, "gflops": gflops, "threads": _thread_report(omp_before)}


CHILDREN = {"prepare": child_prepare, "d2lrnn": child_d2lrnn, "helper": child_helper,
            "torch": child_torch, "matmul": child_matmul}


def run_as_child(args):
    real_stdout = sys.stdout
    if args.child in ("prepare", "d2lrnn", "matmul"):
        sys.path.insert(0, str(REPO))  # measure the d2lrnn of this checkout
    with contextlib.redirect_stdout(sys.stderr):
        result = CHILDREN[args.child](args)
    result.update(_usage())
    real_stdout.write(RESULT_TAG + json.dumps(result) + "\n")
    real_stdout.flush()


# ---------------------------------------------------------------------------------------
# Parent: machine description, scheduling, aggregation, tables, targets.

@dataclass
class Peer:
    """One implementation in one cell configuration, measured once per round."""

    key: str  # unique, e.g. 'd2lrnn/lstm'
    label: str
    kind: str  # a CHILDREN name
    cell: str = None
    env: dict = field(default_factory=dict)  # added to the parent's environment
    cwd: str = None
    runs: list = field(default_factory=list)  # child results
    errors: list = field(default_factory=list)


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


def _version(dist):
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


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
    cpu = _read_cpuinfo()
    interesting = ["avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "neon", "asimd"]
    mem = None
    with contextlib.suppress(OSError):
        if m := re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text(), flags=re.M):
            mem = int(m.group(1)) * 1024
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    env = {k: v for k, v in sorted(os.environ.items())
           if k.startswith(("OMP_", "MXNET_", "KMP_", "MKL_", "DNNL_", "ONEDNN_", "OPENBLAS_", "GOMP_"))}
    return {"cpu": cpu["model"], "logical_cpus": os.cpu_count(), "available_cpus": _available_cpus(),
            "physical_cores": cpu["cores"], "simd": [f for f in interesting if f in cpu["flags"]],
            "memory_bytes": mem, "loadavg": load, "os": platform.platform(),
            "python": platform.python_version(), "mxnet": _version("mxnet"), "numpy": _version("numpy"),
            "d2l (environment)": _version("d2l"), "torch": _version("torch") if util.find_spec("torch") else None,
            "git": _git_commit(), "thread_env": env}


def ensure_helper(target):
    """Install d2l==0.9.2 (no dependencies) into ``target`` once; return a note or raise."""
    init = target / "d2l" / "__init__.py"
    if init.is_file() and f"__version__ = '{HELPER_VERSION}'" in init.read_text():
        return f"d2l {HELPER_VERSION} already in {target}"
    shutil.rmtree(target, ignore_errors=True)
    cmd = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile", "--target",
           str(target), f"d2l=={HELPER_VERSION}"]
    print(f"installing the chapter's helper: {' '.join(cmd[2:])}", flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 or not init.is_file():
        raise RuntimeError(f"could not install d2l=={HELPER_VERSION} into {target} (pip exit "
                           f"{proc.returncode}): {proc.stderr.strip()[-500:]}")
    return f"installed d2l {HELPER_VERSION} into {target}"


def run_child(kind, options, *, env=None, cwd=None, timeout=None, log=None):
    """Run ``--child kind`` in a fresh interpreter; return its result dict or {'error': ...}."""
    cmd = [sys.executable, str(SCRIPT), "--child", kind, *map(str, options)]
    try:
        proc = subprocess.run(cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return {"error": f"timed out after {e.timeout:.0f} s"}
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(f"$ {' '.join(cmd)}\n(cwd {cwd or os.getcwd()}, exit {proc.returncode})\n"
                       f"--- stdout\n{proc.stdout}--- stderr\n{proc.stderr}")
    lines = [l for l in proc.stdout.splitlines() if l.startswith(RESULT_TAG)]
    if proc.returncode != 0 or not lines:
        tail = proc.stderr.strip().splitlines()[-1:] or ["(no output)"]
        return {"error": f"exit {proc.returncode}: {tail[0][:300]}" + (f" (log: {log})" if log else "")}
    return json.loads(lines[-1][len(RESULT_TAG):])


def _env(peer):
    return {**os.environ, **peer.env}


def _stats(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)} if values else None


def summarize(peer, warmup, fpt):
    """Pool the kept epochs of every run of ``peer``: tokens/s and seconds/epoch statistics."""
    seconds, rates, ppl, rss = [], [], [], []
    diverged = [run["diverged"] for run in peer.runs if run.get("diverged")]
    for run in peer.runs:
        kept = list(zip(run["epoch_seconds"], run["epoch_tokens"]))[warmup:]
        seconds += [s for s, _ in kept]
        rates += [t / s for s, t in kept]
        rss.append(run["peak_rss_bytes"])
        if run.get("perplexity"):
            ppl.append(run["perplexity"][-1])
        elif run.get("perplexity_printed"):
            last = max(run["perplexity_printed"], key=int)
            ppl.append(run["perplexity_printed"][last])
    if not rates:
        return None
    tps = _stats(rates)
    return {"tokens_per_s": tps, "seconds_per_epoch": _stats(seconds),
            "gflops": tps["median"] * fpt / 1e9, "perplexity_last": statistics.median(ppl) if ppl else None,
            "peak_rss_bytes": max(rss), "runs": len(peer.runs), "threads": peer.runs[-1].get("threads"),
            "diverged": diverged}


def _fmt_rate(s):
    return f"{s['median']:,.0f} ({s['min']:,.0f}–{s['max']:,.0f})"


def _fmt_sec(s):
    return f"{s['median']:.3f} ({s['min']:.3f}–{s['max']:.3f})"


def _fmt_threads(threads):
    if not threads:
        return "?"
    if "torch_threads" in threads:
        return f"{threads['torch_threads']} (set_num_threads)"
    before = threads.get("omp_num_threads_before_import")
    how = threads["mxnet_threads_source"] if threads["mxnet_threads_source"] != "OMP_NUM_THREADS" else (
        "OMP_NUM_THREADS" if before else "OMP_NUM_THREADS set by d2lrnn")
    return f"{threads['mxnet_threads']} ({how})"


def print_table(cell, peers, summaries, ceiling, fpt, epochs, warmup):
    lr_note = "" if CELL_LR[cell] == CHAPTER["lr"] else " (the chapter's lr 5 diverges for a tanh RNN)"
    print(f"\n### {CELL_NAMES[cell]}: lr {CELL_LR[cell]:g}{lr_note}, {fpt / 1e6:.3f} MFLOP per token "
          f"(forward + backward), {epochs} epochs per run, first {warmup} discarded; median (min–max) "
          "over the kept epochs of all rounds\n")
    print("| implementation | threads | tokens/s | s/epoch | GFLOP/s | of matmul ceiling "
          "| perplexity after last epoch | peak RSS |")
    print("| --- | --- | --: | --: | --: | --: | --: | --: |")
    for peer in peers:
        s = summaries.get(peer.key)
        if s is None:
            print(f"| {peer.label} | – | failed: {'; '.join(peer.errors)[:200]} | | | | | |")
            continue
        frac = f"{s['gflops'] / ceiling:.0%}" if ceiling else "–"
        ppl = f"{s['perplexity_last']:.3f}" if s["perplexity_last"] is not None else "–"
        if s["diverged"]:
            ppl += f" (diverged in {len(s['diverged'])} of {s['runs']} runs: {s['diverged'][0]})"
        print(f"| {peer.label} | {_fmt_threads(s['threads'])} | {_fmt_rate(s['tokens_per_s'])} "
              f"| {_fmt_sec(s['seconds_per_epoch'])} | {s['gflops']:.1f} | {frac} | {ppl} "
              f"| {s['peak_rss_bytes'] / 2 ** 20:,.0f} MiB |")
    done = [p for p in peers if summaries.get(p.key)]
    if len(done) > 1:
        print("\ntokens/s ratio, row ÷ column (medians):\n")
        print("| | " + " | ".join(p.label for p in done) + " |")
        print("| --- |" + " --: |" * len(done))
        for row in done:
            r = summaries[row.key]["tokens_per_s"]["median"]
            cells = [f"{r / summaries[col.key]['tokens_per_s']['median']:.2f}×" for col in done]
            print(f"| {row.label} | " + " | ".join(cells) + " |")


def time_to_quality(run, target=TARGET_PPL):
    """(seconds, epoch) when the training perplexity first reaches ``target``, else None."""
    for epoch, (ppl, end) in enumerate(zip(run["perplexity"], run["epoch_end_seconds"]), start=1):
        if ppl <= target:
            return end, epoch
    return None


def evaluate_targets(summaries, ceiling, ttq_run):
    """PASS/FAIL/SKIP lines for the targets of issue 5."""
    lines = []
    ours = summaries.get("d2lrnn/lstm")

    def ratio_line(other_key, target, what):
        other = summaries.get(other_key)
        if ours is None or other is None:
            lines.append(("SKIP", f"d2lrnn ≥ {target}× {what} tokens/s (LSTM): not measured"))
            return
        r = ours["tokens_per_s"]["median"] / other["tokens_per_s"]["median"]
        lines.append(("PASS" if r >= target else "FAIL",
                      f"d2lrnn ≥ {target}× {what} tokens/s (LSTM): {r:.2f}× "
                      f"({ours['tokens_per_s']['median']:,.0f} vs {other['tokens_per_s']['median']:,.0f})"))

    ratio_line("torch/lstm", TARGET_VS_TORCH, "PyTorch")
    ratio_line("helper/lstm", TARGET_VS_HELPER, "the chapter helper (default threads)")
    if ours is None or not ceiling:
        lines.append(("SKIP", f"d2lrnn ≥ {TARGET_CEILING:.0%} of the matmul ceiling: not measured"))
    else:
        f = ours["gflops"] / ceiling
        lines.append(("PASS" if f >= TARGET_CEILING else "FAIL",
                      f"d2lrnn ≥ {TARGET_CEILING:.0%} of the matmul ceiling (LSTM): {f:.0%} "
                      f"({ours['gflops']:.1f} of {ceiling:.1f} GFLOP/s)"))
    if ttq_run is not None and "error" not in ttq_run:
        rss, what = ttq_run["peak_rss_bytes"], f"the {len(ttq_run['perplexity'])}-epoch time-to-quality run"
    elif ours is not None:
        rss, what = ours["peak_rss_bytes"], "benchmark runs; the long run was skipped"
    else:
        rss = None
    if rss is None:
        lines.append(("SKIP", "peak RSS of the chapter training < 1 GiB: not measured"))
    else:
        lines.append(("PASS" if rss < TARGET_RSS else "FAIL",
                      f"peak RSS of the chapter training < 1 GiB: {rss / 2 ** 20:,.0f} MiB ({what})"))
    if ttq_run is not None and "error" not in ttq_run and len(ttq_run["perplexity"]) >= CHAPTER_EPOCHS:
        t = ttq_run["epoch_end_seconds"][CHAPTER_EPOCHS - 1]
        lines.append(("PASS" if t < TARGET_CHAPTER_SECONDS else "FAIL",
                      f"the chapter's {CHAPTER_EPOCHS} epochs < {TARGET_CHAPTER_SECONDS / 60:.0f} min "
                      f"(trainer only, no progress bar or plot): {t:.1f} s"))
    else:
        lines.append(("SKIP", f"the chapter's {CHAPTER_EPOCHS} epochs < 3 min: needs the "
                              f"time-to-quality run with --ttq-epochs ≥ {CHAPTER_EPOCHS}"))
    return lines


def build_peers(args, prep, torch_ok, helper_ok, threads):
    peers = []
    for cell in args.cells:
        peers.append(Peer(f"d2lrnn/{cell}", "d2lrnn (as shipped)", "d2lrnn", cell))
        if cell == "lstm" and helper_ok:
            user_omp = os.environ.get("OMP_NUM_THREADS")
            default = "default threads" + (f": your OMP_NUM_THREADS={user_omp}" if user_omp else "")
            peers.append(Peer("helper/lstm", f"d2l 0.9.2 helper ({default})", "helper", cell,
                              cwd=prep["helper_cwd"]))
            if args.helper_omp and user_omp != str(threads):
                peers.append(Peer("helper-omp/lstm", f"d2l 0.9.2 helper (OMP_NUM_THREADS={threads})",
                                  "helper", cell, env={"OMP_NUM_THREADS": str(threads)},
                                  cwd=prep["helper_cwd"]))
        if torch_ok:
            peers.append(Peer(f"torch/{cell}", f"PyTorch {_version('torch')} nn.{TORCH_LAYERS[cell]}",
                              "torch", cell, env={"OMP_NUM_THREADS": str(threads)}))
    peers.append(Peer("matmul", f"mx.nd.dot {args.matmul_n}² float32", "matmul"))
    return peers


def child_options(peer, args, prep, threads, epochs=None):
    if peer.kind == "matmul":
        return ["--matmul-n", args.matmul_n, "--matmul-reps", args.matmul_reps, "--device", args.device]
    opts = ["--cell", peer.cell, "--epochs", epochs or args.epochs, "--seed", args.seed,
            "--num-hiddens", args.num_hiddens] + (["--device", args.device] if peer.kind != "helper" else [])
    if peer.kind == "helper":
        opts += ["--helper-dir", WORK / "d2l092", "--corpus-file", prep["corpus_file"]]
    if peer.kind == "torch":
        opts += ["--threads", threads, "--corpus-file", prep["corpus_file"]]
    return opts


def print_machine(machine, prep, threads, peers):
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
    print(f"- threads: d2lrnn gives MXNet {_fmt_threads(prep['threads'])}; the matmul ceiling runs the same"
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] + " Full description: "
                                     "see the module docstring and README.md.")
    parser.add_argument("--quick", action="store_true",
                        help="one round of 4 epochs and no time-to-quality run (a smoke test, not a measurement)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds over all peers (default 5)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs per run (default 10; the helper needs ≥ 4)")
    parser.add_argument("--warmup", type=int, default=1, help="epochs discarded at the start of each run (default 1)")
    parser.add_argument("--cells", default="lstm,gru,rnn", help="comma-separated subset of lstm,gru,rnn")
    parser.add_argument("--skip-helper", action="store_true", help="leave out the d2l 0.9.2 helper")
    parser.add_argument("--no-helper-omp", dest="helper_omp", action="store_false",
                        help="leave out the helper run with OMP_NUM_THREADS set to d2lrnn's thread count")
    parser.add_argument("--skip-torch", action="store_true", help="leave out PyTorch even when importable")
    parser.add_argument("--skip-ttq", action="store_true", help="leave out the time-to-quality run")
    parser.add_argument("--ttq-epochs", type=int, default=CHAPTER_EPOCHS,
                        help=f"epochs of the time-to-quality run (default {CHAPTER_EPOCHS}, the chapter's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=["cpu", "gpu"], default="cpu",
                        help="where d2lrnn, PyTorch and the matmul ceiling compute (default cpu); gpu "
                             "uses GPU 0 and leaves out the chapter helper, which runs on the CPU only")
    parser.add_argument("--num-hiddens", type=int, default=CHAPTER["num_hiddens"],
                        help="hidden units (default 256, the chapter's; smaller only to try the script out)")
    parser.add_argument("--matmul-n", type=int, default=MATMUL_N)
    parser.add_argument("--matmul-reps", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=3600, help="seconds before a child is stopped")
    parser.add_argument("--json", type=Path, help="where to write all results (default benchmarks/_work/results/)")
    parser.add_argument("--strict", action="store_true", help="exit with status 1 when a target fails")
    # Child mode (used by the parent and the tests).
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--cell", choices=CELLS, default="lstm", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--lr", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--corpus-file", help=argparse.SUPPRESS)
    parser.add_argument("--helper-dir", help=argparse.SUPPRESS)
    parser.add_argument("--work", default=str(WORK), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        if args.lr is None:
            args.lr = CELL_LR[args.cell]
        run_as_child(args)
        return 0

    if args.quick:
        args.rounds, args.epochs, args.skip_ttq, args.matmul_reps = 1, 4, True, 5
    args.cells = [c.strip() for c in args.cells.split(",") if c.strip()]
    if not args.cells or any(c not in CELLS for c in args.cells):
        parser.error(f"--cells must be a comma-separated subset of {','.join(CELLS)}, got {args.cells}")
    for name in ("rounds", "epochs", "num_hiddens", "matmul_n", "matmul_reps", "ttq_epochs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if not 0 <= args.warmup < args.epochs:
        parser.error(f"--warmup must be between 0 and --epochs - 1 ({args.epochs - 1}), got {args.warmup}")
    use_helper = "lstm" in args.cells and not args.skip_helper and args.device == "cpu"
    if use_helper and args.epochs < 4:
        parser.error("the d2l 0.9.2 helper computes epoch % (num_epochs // 4), so --epochs must be "
                     "at least 4 (or pass --skip-helper)")

    started = time.time()
    machine = describe_machine()
    notes = [f"FLOPs: {FLOP_FORMULA}."]
    print("preparing data (d2lrnn.load_data_time_machine) ...", flush=True)
    prep = run_child("prepare", ["--work", WORK, "--device", args.device], timeout=args.timeout,
                     log=WORK / "logs" / "prepare.log")
    if "error" in prep:
        print(f"error: the preparation child failed: {prep['error']}", file=sys.stderr)
        return 1
    if prep.get("gpu_problem"):
        print(f"error: --device gpu: no usable GPU: {prep['gpu_problem']}", file=sys.stderr)
        return 1
    threads = prep["threads"]["mxnet_threads"]
    helper_ok = False
    if use_helper:
        try:
            notes.append(ensure_helper(WORK / "d2l092") + "; it imports mxnet, numpy, matplotlib and "
                         "IPython from this environment")
            helper_ok = True
        except RuntimeError as e:
            notes.append(f"chapter helper skipped: {e}")
    torch_ok = not args.skip_torch and util.find_spec("torch") is not None
    if not torch_ok and not args.skip_torch:
        notes.append(f"PyTorch skipped: torch is not importable (pip install -e \".[benchmark]\", "
                     f"which pins {TORCH_PIN})")
    elif torch_ok and args.device == "gpu" and not prep["torch_cuda"]:
        torch_ok = False
        notes.append("PyTorch skipped: this torch build sees no CUDA GPU (install a CUDA build of torch)")
    peers = build_peers(args, prep, torch_ok, helper_ok, threads)
    print_machine(machine, prep, threads, peers)
    fpts = {cell: flops_per_token(cell, prep["vocab_size"], args.num_hiddens, CHAPTER["num_layers"])
            for cell in CELLS}
    config = (f"{CHAPTER['num_layers']} layers, {args.num_hiddens} hidden, vocabulary {prep['vocab_size']} "
              f"(first {CHAPTER['num_examples']:,} characters), batch {CHAPTER['batch_size']} × "
              f"{CHAPTER['num_steps']} steps, lr {CHAPTER['lr']:g} (tanh RNN: {CELL_LR['rnn']:g}), "
              f"clipping {CHAPTER['clipping_theta']:g}, "
              f"consecutive sampling, seed {args.seed}, {'GPU 0' if args.device == 'gpu' else 'CPU'}")
    print(f"- configuration: {config}"
          + ("" if args.num_hiddens == CHAPTER["num_hiddens"] else
             f"  <-- NOT the chapter's {CHAPTER['num_hiddens']} hidden units"))

    print(f"\n{len(peers)} runs per round × {args.rounds} rounds, {args.epochs} epochs each:", flush=True)
    for r in range(args.rounds):
        order = peers[r % len(peers):] + peers[:r % len(peers)]  # rotate the start each round
        for peer in order:
            t0 = time.perf_counter()
            log = WORK / "logs" / f"round{r + 1}-{peer.key.replace('/', '-')}.log"
            res = run_child(peer.kind, child_options(peer, args, prep, threads), env=_env(peer),
                            cwd=peer.cwd, timeout=args.timeout, log=log)
            took = time.perf_counter() - t0
            if "error" in res:
                peer.errors.append(res["error"])
                print(f"  round {r + 1}: {peer.key:16s} FAILED after {took:.0f} s: {res['error']}", flush=True)
                continue
            peer.runs.append(res)
            if peer.kind == "matmul":
                what = f"{statistics.median(res['gflops']):.1f} GFLOP/s"
            else:
                kept = list(zip(res["epoch_seconds"], res["epoch_tokens"]))[args.warmup:]
                what = f"{sum(t for _, t in kept) / sum(s for s, _ in kept):,.0f} tokens/s"
            print(f"  round {r + 1}: {peer.key:16s} {what:>18s}  ({took:.0f} s with start-up)", flush=True)

    matmul = next(p for p in peers if p.kind == "matmul")
    gflops = [g for run in matmul.runs for g in run["gflops"]]
    ceiling = statistics.median(gflops) if gflops else None

    ttq_run = None
    if not args.skip_ttq:
        print(f"\ntime-to-quality: d2lrnn LSTM, {args.ttq_epochs} epochs, chapter settings ...", flush=True)
        ttq_peer = Peer("ttq", "d2lrnn (as shipped)", "d2lrnn", "lstm")
        ttq_run = run_child("d2lrnn", child_options(ttq_peer, args, prep, threads, epochs=args.ttq_epochs),
                            env=_env(ttq_peer), timeout=args.timeout, log=WORK / "logs" / "ttq.log")

    summaries = {p.key: summarize(p, args.warmup, fpts[p.cell]) for p in peers if p.cell and p.runs}
    print("\n## Results")
    for cell in args.cells:
        print_table(cell, [p for p in peers if p.cell == cell], summaries, ceiling, fpts[cell],
                    args.epochs, args.warmup)
    print()
    if ceiling:
        g = _stats(gflops)
        print(f"float32 matmul ceiling ({args.matmul_n}² mx.nd.dot, {threads} threads, own process each "
              f"round): {g['median']:.1f} GFLOP/s median ({g['min']:.1f}–{g['max']:.1f}, {g['n']} products) "
              f"= {g['median'] * 1e9 / fpts['lstm']:,.0f} tokens/s of the LSTM")
    else:
        print(f"float32 matmul ceiling: failed ({'; '.join(matmul.errors)})")
    if ttq_run is not None:
        if "error" in ttq_run:
            print(f"time to perplexity ≤ {TARGET_PPL}: failed ({ttq_run['error']})")
        else:
            hit = time_to_quality(ttq_run)
            n = len(ttq_run["perplexity"])
            print(f"time to training perplexity ≤ {TARGET_PPL} (d2lrnn, LSTM, seed {args.seed}): "
                  + (f"{hit[0]:.1f} s (epoch {hit[1]}; clock starts at the training call)" if hit else
                     f"not reached in {n} epochs (last perplexity {ttq_run['perplexity'][-1]:.3f})")
                  + f"; {n} epochs took {ttq_run['epoch_end_seconds'][-1]:.1f} s, "
                  f"peak RSS {ttq_run['peak_rss_bytes'] / 2 ** 20:,.0f} MiB"
                  + (f"; {ttq_run['diverged']}" if ttq_run["diverged"] else ""))
    print("\nNotes:")
    if hasattr(os, "getloadavg"):
        notes.append(f"load average before the run {machine['loadavg'][0]:.2f}, after it "
                     f"{os.getloadavg()[0]:.2f} ({machine['available_cpus']} CPUs; the second includes the benchmark's own runs)")
    notes.append("tokens/s is measured from outside each trainer: d2lrnn's epochs end when it "
                 "appends to the History passed as history="
                 + ("; the helper's epochs start when it calls data_iter_consecutive (wrapped to note "
                    "the time); the helper is called with prefixes=[] so that no epoch includes text "
                    "generation, like d2lrnn with verbose=False" if helper_ok else ""))
    helper_run = next((p.runs[0] for p in peers if p.kind == "helper" and p.runs), None)
    if helper_run is not None:
        notes.append("the helper's corpus and vocabulary are "
                     + ("identical to d2lrnn's" if helper_run["same_corpus"] else "NOT identical to d2lrnn's"))
    if torch_ok:
        notes.append("PyTorch: one-hot input, N(0, 0.01²) weights and zero biases, SGD, "
                     "clip_grad_norm_ (which divides by norm + 1e-6), state detached between "
                     "minibatches, the same minibatches as d2lrnn for the same seed")
    for note in notes:
        print(f"- {note}")

    print("\n## Targets (issue 5)\n")
    target_lines = evaluate_targets(summaries, ceiling, ttq_run)
    for status, text in target_lines:
        print(f"{status}  {text}")

    out = args.json or WORK / "results" / time.strftime("bench-%Y%m%d-%H%M%S.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "machine": machine, "prepare": prep, "config": config, "args": {k: str(v) for k, v in vars(args).items()},
        "flops_per_token": fpts, "matmul_gflops": gflops, "ceiling_gflops": ceiling,
        "peers": [{"key": p.key, "label": p.label, "runs": p.runs, "errors": p.errors,
                   "summary": summaries.get(p.key)} for p in peers],
        "time_to_quality_run": ttq_run, "targets": target_lines}, indent=1))
    print(f"\nall numbers: {out}  (child logs: {WORK / 'logs'}; {time.time() - started:.0f} s in all)")
    failed = any(p.errors for p in peers) or (ttq_run is not None and "error" in ttq_run)
    if failed:
        return 1
    return 1 if args.strict and any(s == "FAIL" for s, _ in target_lines) else 0


if __name__ == "__main__":
    sys.exit(main())
