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
The parts are in ``benchmarks/trainbench/``; method and results in ``benchmarks/README.md``.
"""
import argparse
import json
import os
import statistics
import sys
import time
from importlib import util
from pathlib import Path

HERE = Path(__file__).resolve().parent
# This checkout's d2lrnn (for its settings here, and as what the children measure), then trainbench.
sys.path[:0] = [p for p in (str(HERE.parent), str(HERE)) if p not in sys.path[:2]]

from trainbench.children import (MATMUL_LIBRARIES, child_d2lrnn, child_helper, child_matmul,  # noqa: E402
                                 child_prepare, run_as_child)
from trainbench.config import (CELL_LR, CELLS, CHAPTER, CHAPTER_EPOCHS, FLOP_FORMULA,  # noqa: E402
                               MATMUL_N, RESULT_TAG, TORCH_PIN, WORK, describe_config, flops_per_token)
from trainbench.machine import describe_machine, print_machine  # noqa: E402
from trainbench.peers import (Peer, build_peers, child_options, ensure_helper, peer_env,  # noqa: E402
                              run_child)
from trainbench.report import (evaluate_targets, kept_rate, matmul_ceiling, print_ceiling, print_table,  # noqa: E402
                               print_ttq, summarize)
from trainbench.torch_child import child_torch  # noqa: E402

__all__ = ["RESULT_TAG", "main"]
CHILDREN = {"prepare": child_prepare, "d2lrnn": child_d2lrnn, "helper": child_helper,
            "torch": child_torch, "matmul": child_matmul}


class BenchError(Exception):
    """A problem that stops the benchmark: reported in one line, exit status 1."""


def build_parser():
    """The options; those of child mode are hidden from --help. (Over 40 lines: one line per option.)"""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] + " Full description: "
                                     "see the module docstring and benchmarks/README.md.")
    add = parser.add_argument
    add("--quick", action="store_true",
        help="one round of 4 epochs and no time-to-quality run (a smoke test, not a measurement)")
    add("--rounds", type=int, default=5, help="rounds over all peers (default 5)")
    add("--epochs", type=int, default=10, help="epochs per run (default 10; the helper needs ≥ 4)")
    add("--warmup", type=int, default=1, help="epochs discarded at the start of each run (default 1)")
    add("--cells", default=",".join(CELLS), help=f"comma-separated subset of {','.join(CELLS)}")
    add("--skip-helper", action="store_true", help="leave out the d2l 0.9.2 helper")
    add("--no-helper-omp", dest="helper_omp", action="store_false",
        help="leave out the helper run with OMP_NUM_THREADS set to d2lrnn's thread count")
    add("--skip-torch", action="store_true", help="leave out PyTorch even when importable")
    add("--skip-ttq", action="store_true", help="leave out the time-to-quality run")
    add("--ttq-epochs", type=int, default=CHAPTER_EPOCHS,
        help=f"epochs of the time-to-quality run (default {CHAPTER_EPOCHS}, the chapter's)")
    add("--seed", type=int, default=0)
    add("--device", choices=["cpu", "gpu"], default="cpu",
        help="where d2lrnn, PyTorch and the matmul ceiling compute (default cpu); gpu "
             "uses GPU 0 and leaves out the chapter helper, which runs on the CPU only")
    add("--num-hiddens", type=int, default=CHAPTER["num_hiddens"],
        help=f"hidden units (default {CHAPTER['num_hiddens']}, the chapter's; smaller only to try the script out)")
    add("--matmul-n", type=int, default=MATMUL_N)
    add("--matmul-reps", type=int, default=10)
    add("--timeout", type=float, default=3600, help="seconds before a child is stopped")
    add("--json", type=Path, help="where to write all results (default benchmarks/_work/results/)")
    add("--strict", action="store_true", help="exit with status 1 when a target fails")
    # Child mode (used by the parent and the tests).
    add("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    add("--cell", choices=CELLS, default="lstm", help=argparse.SUPPRESS)
    add("--threads", type=int, help=argparse.SUPPRESS)
    add("--lr", type=float, help=argparse.SUPPRESS)
    add("--corpus-file", help=argparse.SUPPRESS)
    add("--helper-dir", help=argparse.SUPPRESS)
    add("--work", default=str(WORK), help=argparse.SUPPRESS)
    return parser


def check_args(parser, args):
    """Apply --quick, split --cells, and stop with a usage error for values that cannot work."""
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
    args.use_helper = "lstm" in args.cells and not args.skip_helper and args.device == "cpu"
    if args.use_helper and args.epochs < 4:
        parser.error("the d2l 0.9.2 helper computes epoch % (num_epochs // 4), so --epochs must be "
                     "at least 4 (or pass --skip-helper)")


def prepare(args, notes):
    """Run the preparation child, install the helper, find PyTorch; return (prep, helper_ok, torch_ok)."""
    print("preparing data (d2lrnn.load_data_time_machine) ...", flush=True)
    prep = run_child("prepare", ["--work", WORK, "--device", args.device], timeout=args.timeout,
                     log=WORK / "logs" / "prepare.log")
    if "error" in prep:
        raise BenchError(f"the preparation child failed: {prep['error']}")
    if prep.get("gpu_problem"):
        raise BenchError(f"--device gpu: no usable GPU: {prep['gpu_problem']}")
    helper_ok = False
    if args.use_helper:
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
    return prep, helper_ok, torch_ok


def run_rounds(peers, args, prep, threads):
    """Every peer once per round, the start of the order rotated each round; results go into the peers."""
    print(f"\n{len(peers)} runs per round × {args.rounds} rounds, {args.epochs} epochs each:", flush=True)
    for r in range(args.rounds):
        for peer in peers[r % len(peers):] + peers[:r % len(peers)]:
            t0 = time.perf_counter()
            log = WORK / "logs" / f"round{r + 1}-{peer.key.replace('/', '-')}.log"
            res = run_child(peer.kind, child_options(peer, args, prep, threads), env=peer_env(peer),
                            cwd=peer.cwd, timeout=args.timeout, log=log)
            took = time.perf_counter() - t0
            if "error" in res:
                peer.errors.append(res["error"])
                print(f"  round {r + 1}: {peer.key:16s} FAILED after {took:.0f} s: {res['error']}", flush=True)
                continue
            peer.runs.append(res)
            what = (" / ".join(f"{statistics.median(g):.0f}" for g in res["gflops"].values()) + " GFLOP/s"
                    if peer.kind == "matmul"
                    else f"{kept_rate(res, args.warmup):,.0f} tokens/s")
            print(f"  round {r + 1}: {peer.key:16s} {what:>18s}  ({took:.0f} s with start-up)", flush=True)


def run_ttq(args, prep, threads):
    """d2lrnn's LSTM for --ttq-epochs epochs, or None with --skip-ttq."""
    if args.skip_ttq:
        return None
    print(f"\ntime-to-quality: d2lrnn LSTM, {args.ttq_epochs} epochs, chapter settings ...", flush=True)
    peer = Peer("ttq", "d2lrnn (as shipped)", "d2lrnn", "lstm")
    return run_child("d2lrnn", child_options(peer, args, prep, threads, epochs=args.ttq_epochs),
                     env=peer_env(peer), timeout=args.timeout, log=WORK / "logs" / "ttq.log")


def final_notes(notes, machine, peers, helper_ok, torch_ok):
    """The notes under the results: load, how time is measured, corpus identity, PyTorch's set-up."""
    if hasattr(os, "getloadavg"):
        notes.append(f"load average before the run {machine['loadavg'][0]:.2f}, after it "
                     f"{os.getloadavg()[0]:.2f} ({machine['available_cpus']} CPUs; the second includes "
                     "the benchmark's own runs)")
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
    return notes


def print_results(args, peers, fpts, ttq_run, threads, cpu):
    """The '## Results' section: one table per cell, the ceiling, time to quality; returns (summaries, ceiling, gflops)."""
    matmul = next(p for p in peers if p.kind == "matmul")
    gflops = {name: [g for run in matmul.runs for g in run["gflops"][name]] for name in MATMUL_LIBRARIES}
    ceiling = matmul_ceiling(gflops)
    summaries = {p.key: summarize(p, args.warmup, fpts[p.cell]) for p in peers if p.cell and p.runs}
    print("\n## Results")
    for cell in args.cells:
        print_table(cell, [p for p in peers if p.cell == cell], summaries, ceiling, fpts[cell],
                    args.epochs, args.warmup, cpu)
    print()
    print_ceiling(gflops, matmul, args, threads, fpts["lstm"], cpu)
    if ttq_run is not None:
        print_ttq(ttq_run, args.seed)
    return summaries, ceiling, gflops


def measure(args):
    """The parent: prepare, run every peer, print the report, save all numbers; returns the exit status."""
    started = time.time()
    machine = describe_machine()
    notes = [f"FLOPs: {FLOP_FORMULA}."]
    prep, helper_ok, torch_ok = prepare(args, notes)
    threads = prep["threads"]["mxnet_threads"]
    peers = build_peers(args, prep, torch_ok, helper_ok, threads)
    print_machine(machine, prep, threads, peers)
    fpts = {cell: flops_per_token(cell, prep["vocab_size"], args.num_hiddens, CHAPTER["num_layers"])
            for cell in CELLS}
    config = describe_config(args, prep["vocab_size"])
    print(f"- configuration: {config}" + ("" if args.num_hiddens == CHAPTER["num_hiddens"] else
                                          f"  <-- NOT the chapter's {CHAPTER['num_hiddens']} hidden units"))
    run_rounds(peers, args, prep, threads)
    ttq_run = run_ttq(args, prep, threads)
    summaries, ceiling, gflops = print_results(args, peers, fpts, ttq_run, threads, machine["cpu"])
    print("\nNotes:")
    for note in final_notes(notes, machine, peers, helper_ok, torch_ok):
        print(f"- {note}")
    print("\n## Targets (issue 5)\n")
    target_lines = evaluate_targets(summaries, ceiling, ttq_run, machine["cpu"])
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
    if any(p.errors for p in peers) or (ttq_run is not None and "error" in ttq_run):
        return 1
    return 1 if args.strict and any(s == "FAIL" for s, _ in target_lines) else 0


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.child:
        args.lr = CELL_LR[args.cell] if args.lr is None else args.lr
        run_as_child(CHILDREN[args.child], args)
        return 0
    check_args(parser, args)
    try:
        return measure(args)
    except BenchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
