"""Statistics over the kept epochs, the Markdown tables, the targets of issue 5, the closing lines."""
import statistics

from .config import (CELL_LR, CELL_NAMES, CHAPTER, CHAPTER_EPOCHS, TARGET_CEILING,
                     TARGET_CHAPTER_SECONDS, TARGET_PPL, TARGET_RSS, TARGET_VS_HELPER, TARGET_VS_TORCH)
from .machine import fmt_threads


def stats(values):
    """Median, min, max and count of ``values``; None when there are none."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)} if values else None


def kept_rate(run, warmup):
    """tokens/s of one run over its epochs after the first ``warmup``."""
    kept = list(zip(run["epoch_seconds"], run["epoch_tokens"]))[warmup:]
    return sum(t for _, t in kept) / sum(s for s, _ in kept)


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
    tps = stats(rates)
    return {"tokens_per_s": tps, "seconds_per_epoch": stats(seconds),
            "gflops": tps["median"] * fpt / 1e9, "perplexity_last": statistics.median(ppl) if ppl else None,
            "peak_rss_bytes": max(rss), "runs": len(peer.runs), "threads": peer.runs[-1].get("threads"),
            "diverged": diverged}


def _fmt_rate(s):
    return f"{s['median']:,.0f} ({s['min']:,.0f}–{s['max']:,.0f})"


def _fmt_sec(s):
    return f"{s['median']:.3f} ({s['min']:.3f}–{s['max']:.3f})"


def _table_row(peer, s, ceiling):
    if s is None:
        return f"| {peer.label} | – | failed: {'; '.join(peer.errors)[:200]} | | | | | |"
    frac = f"{s['gflops'] / ceiling:.0%}" if ceiling else "–"
    ppl = f"{s['perplexity_last']:.3f}" if s["perplexity_last"] is not None else "–"
    if s["diverged"]:
        ppl += f" (diverged in {len(s['diverged'])} of {s['runs']} runs: {s['diverged'][0]})"
    return (f"| {peer.label} | {fmt_threads(s['threads'])} | {_fmt_rate(s['tokens_per_s'])} "
            f"| {_fmt_sec(s['seconds_per_epoch'])} | {s['gflops']:.1f} | {frac} | {ppl} "
            f"| {s['peak_rss_bytes'] / 2 ** 20:,.0f} MiB |")


def print_table(cell, peers, summaries, ceiling, fpt, epochs, warmup, cpu=None):
    """One cell's table, then its tokens/s ratios when more than one implementation finished."""
    lr_note = "" if CELL_LR[cell] == CHAPTER["lr"] else " (the chapter's lr 5 diverges for a tanh RNN)"
    print(f"\n### {CELL_NAMES[cell]}: lr {CELL_LR[cell]:g}{lr_note}, {fpt / 1e6:.3f} MFLOP per token "
          f"(forward + backward), {epochs} epochs per run, first {warmup} discarded; median (min–max) "
          f"over the kept epochs of all rounds; CPU: {cpu or '?'}\n")
    print("| implementation | threads | tokens/s | s/epoch | GFLOP/s | of matmul ceiling "
          "| perplexity after last epoch | peak RSS |")
    print("| --- | --- | --: | --: | --: | --: | --: | --: |")
    for peer in peers:
        print(_table_row(peer, summaries.get(peer.key), ceiling))
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


def _ratio_line(ours, other, target, what):
    if ours is None or other is None:
        return "SKIP", f"d2lrnn ≥ {target}× {what} tokens/s (LSTM): not measured"
    r = ours["tokens_per_s"]["median"] / other["tokens_per_s"]["median"]
    return ("PASS" if r >= target else "FAIL",
            f"d2lrnn ≥ {target}× {what} tokens/s (LSTM): {r:.2f}× "
            f"({ours['tokens_per_s']['median']:,.0f} vs {other['tokens_per_s']['median']:,.0f})")


def _rss_line(ours, ttq_run):
    if ttq_run is not None and "error" not in ttq_run:
        rss, what = ttq_run["peak_rss_bytes"], f"the {len(ttq_run['perplexity'])}-epoch time-to-quality run"
    elif ours is not None:
        rss, what = ours["peak_rss_bytes"], "benchmark runs; the long run was skipped"
    else:
        return "SKIP", "peak RSS of the chapter training < 1 GiB: not measured"
    return ("PASS" if rss < TARGET_RSS else "FAIL",
            f"peak RSS of the chapter training < 1 GiB: {rss / 2 ** 20:,.0f} MiB ({what})")


def evaluate_targets(summaries, ceiling, ttq_run, cpu=None):
    """PASS/FAIL/SKIP lines for the targets of issue 5 (the ceiling's line names the CPU: figures differ between CPUs)."""
    ours = summaries.get("d2lrnn/lstm")
    lines = [_ratio_line(ours, summaries.get("torch/lstm"), TARGET_VS_TORCH, "PyTorch"),
             _ratio_line(ours, summaries.get("helper/lstm"), TARGET_VS_HELPER,
                         "the chapter helper (default threads)")]
    if ours is None or not ceiling:
        lines.append(("SKIP", f"d2lrnn ≥ {TARGET_CEILING:.0%} of the matmul ceiling: not measured"))
    else:
        f = ours["gflops"] / ceiling
        lines.append(("PASS" if f >= TARGET_CEILING else "FAIL",
                      f"d2lrnn ≥ {TARGET_CEILING:.0%} of the matmul ceiling (LSTM): {f:.0%} "
                      f"({ours['gflops']:.1f} of {ceiling:.1f} GFLOP/s" + (f"; {cpu})" if cpu else ")")))
    lines.append(_rss_line(ours, ttq_run))
    if ttq_run is not None and "error" not in ttq_run and len(ttq_run["perplexity"]) >= CHAPTER_EPOCHS:
        t = ttq_run["epoch_end_seconds"][CHAPTER_EPOCHS - 1]
        lines.append(("PASS" if t < TARGET_CHAPTER_SECONDS else "FAIL",
                      f"the chapter's {CHAPTER_EPOCHS} epochs < {TARGET_CHAPTER_SECONDS / 60:.0f} min "
                      f"(trainer only, no progress bar or plot): {t:.1f} s"))
    else:
        lines.append(("SKIP", f"the chapter's {CHAPTER_EPOCHS} epochs < 3 min: needs the "
                              f"time-to-quality run with --ttq-epochs ≥ {CHAPTER_EPOCHS}"))
    return lines


def matmul_ceiling(gflops):
    """The ceiling: the higher median of the libraries measured ({library: [GFLOP/s, ...]}), None if none ran."""
    medians = [statistics.median(g) for g in gflops.values() if g]
    return max(medians) if medians else None


def print_ceiling(gflops, matmul, args, threads, fpt_lstm, cpu=None):
    """The matmul ceiling lines: each library's figure, and which one is the ceiling."""
    ceiling = matmul_ceiling(gflops)
    if ceiling is None:
        print(f"float32 matmul ceiling: failed ({'; '.join(matmul.errors)})")
        return
    labels = {"dot": "mx.nd.dot (the wheel's BLAS)", "fully_connected": "mx.nd.FullyConnected, no bias (oneDNN)"}
    print(f"float32 matmul, {args.matmul_n}², {threads} threads, own process each round, CPU: {cpu or '?'}:")
    for name, values in gflops.items():
        if values:
            g = stats(values)
            mark = "  <-- the ceiling" if g["median"] == ceiling else ""
            print(f"- {labels.get(name, name)}: {g['median']:.1f} GFLOP/s median ({g['min']:.1f}–{g['max']:.1f}, "
                  f"{g['n']} products){mark}")
    print(f"float32 matmul ceiling: {ceiling:.1f} GFLOP/s = {ceiling * 1e9 / fpt_lstm:,.0f} tokens/s of the LSTM")


def print_ttq(ttq_run, seed):
    """The time-to-quality line."""
    if "error" in ttq_run:
        print(f"time to perplexity ≤ {TARGET_PPL}: failed ({ttq_run['error']})")
        return
    hit = time_to_quality(ttq_run)
    n = len(ttq_run["perplexity"])
    print(f"time to training perplexity ≤ {TARGET_PPL} (d2lrnn, LSTM, seed {seed}): "
          + (f"{hit[0]:.1f} s (epoch {hit[1]}; clock starts at the training call)" if hit else
             f"not reached in {n} epochs (last perplexity {ttq_run['perplexity'][-1]:.3f})")
          + f"; {n} epochs took {ttq_run['epoch_end_seconds'][-1]:.1f} s, "
          f"peak RSS {ttq_run['peak_rss_bytes'] / 2 ** 20:,.0f} MiB"
          + (f"; {ttq_run['diverged']}" if ttq_run["diverged"] else ""))
