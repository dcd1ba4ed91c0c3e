"""The implementations measured side by side, and how the parent starts each one's child process."""
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import metadata

from d2lrnn.env._threads import ENV_VAR as OMP_ENV
from d2lrnn.facts import CELLS as CELL_TABLE

from .config import HELPER_VERSION, RESULT_TAG, SCRIPT, WORK


@dataclass
class Peer:
    """One implementation in one cell configuration, measured once per round."""

    key: str  # unique, e.g. 'd2lrnn/lstm'
    label: str
    kind: str  # a bench_train.CHILDREN name
    cell: str = None
    env: dict = field(default_factory=dict)  # added to the user's environment
    cwd: str = None
    runs: list = field(default_factory=list)  # child results
    errors: list = field(default_factory=list)


def version(dist):
    """The installed version of distribution ``dist``, or None."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def peer_env(peer):
    """The environment of ``peer``'s child: the user's, as they started Python, plus the peer's own."""
    return {**os.environ, **peer.env}


def build_peers(args, prep, torch_ok, helper_ok, threads):
    """Every implementation for every cell of ``args.cells``, then the matmul ceiling."""
    peers = []
    user_omp = os.environ.get(OMP_ENV)
    for cell in args.cells:
        peers.append(Peer(f"d2lrnn/{cell}", "d2lrnn (as shipped)", "d2lrnn", cell))
        if cell == "lstm" and helper_ok:
            default = "default threads" + (f": your {OMP_ENV}={user_omp}" if user_omp else "")
            peers.append(Peer("helper/lstm", f"d2l 0.9.2 helper ({default})", "helper", cell,
                              cwd=prep["helper_cwd"]))
            if args.helper_omp and user_omp != str(threads):
                peers.append(Peer("helper-omp/lstm", f"d2l 0.9.2 helper ({OMP_ENV}={threads})",
                                  "helper", cell, env={OMP_ENV: str(threads)}, cwd=prep["helper_cwd"]))
        if torch_ok:
            peers.append(Peer(f"torch/{cell}", f"PyTorch {version('torch')} nn.{CELL_TABLE[cell].layer}",
                              "torch", cell, env={OMP_ENV: str(threads)}))
    peers.append(Peer("matmul", f"matmul {args.matmul_n}² float32 (mx.nd.dot, FullyConnected)", "matmul"))
    return peers


def child_options(peer, args, prep, threads, epochs=None):
    """The command-line options of ``peer``'s child."""
    if peer.kind == "matmul":
        return ["--matmul-n", args.matmul_n, "--matmul-reps", args.matmul_reps, "--device", args.device]
    opts = ["--cell", peer.cell, "--epochs", epochs or args.epochs, "--seed", args.seed,
            "--num-hiddens", args.num_hiddens] + (["--device", args.device] if peer.kind != "helper" else [])
    if peer.kind == "helper":
        opts += ["--helper-dir", WORK / "d2l092", "--corpus-file", prep["corpus_file"]]
    if peer.kind == "torch":
        opts += ["--threads", threads, "--corpus-file", prep["corpus_file"]]
    return opts


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
        proc = subprocess.run(cmd, env=env if env is not None else os.environ, cwd=cwd,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
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
