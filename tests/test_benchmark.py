"""benchmarks/bench_train.py keeps working: its arithmetic, its data order, its child runs.

No timing is asserted; the children run one tiny configuration with one thread.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import d2lrnn

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "benchmarks" / "bench_train.py"
HELPER_DIR = REPO / "benchmarks" / "_work" / "d2l092"

sys.path.insert(0, str(REPO / "benchmarks"))
from trainbench import config, machine, peers, report  # noqa: E402
from trainbench.config import RESULT_TAG, flops_per_token  # noqa: E402
from trainbench.peers import Peer  # noqa: E402


def test_flops_per_token_follow_the_stated_formula():
    # The "about 5.06 MFLOP per token" for the chapter's LSTM: V = 44, H = 256, 2 layers.
    assert flops_per_token("lstm", 44, 256, 2) == 3 * (2 * 4 * 256 * (44 + 256)
                                                             + 2 * 4 * 256 * (256 + 256)
                                                             + 2 * 256 * 44) == 5_056_512
    assert flops_per_token("gru", 44, 256, 2) == 3 * (6 * 256 * 300 + 6 * 256 * 512 + 512 * 44)
    assert flops_per_token("rnn", 44, 256, 1) == 3 * (2 * 256 * 300 + 2 * 256 * 44)


def test_pytorch_peer_sees_the_minibatches_of_d2lrnn():
    corpus, _ = d2lrnn.load_data_time_machine()
    batch_size, num_steps = 32, 35
    # d2lrnn's trainer and the PyTorch child draw each epoch's minibatches from epoch_rng(seed, epoch).
    from d2lrnn.facts import consecutive_layout, epoch_rng
    for seed, epoch in [(0, 1), (0, 2), (7, 1), (123, 40)]:
        theirs = [(X.asnumpy().astype(int).tolist(), Y.asnumpy().astype(int).tolist())
                  for X, Y in d2lrnn.data_iter_consecutive(corpus, batch_size, num_steps,
                                                           rng=epoch_rng(seed, epoch))]
        # What the PyTorch child builds: rows of the corpus from the offset, sliced per minibatch.
        offset, row_len, num_batches = consecutive_layout(
            len(corpus), batch_size, num_steps, epoch_rng(seed, epoch))
        rows = [corpus[offset + r * row_len:offset + (r + 1) * row_len] for r in range(batch_size)]
        ours = [([row[i:i + num_steps] for row in rows], [row[i + 1:i + 1 + num_steps] for row in rows])
                for i in range(0, num_batches * num_steps, num_steps)]
        assert len(theirs) == 8 and ours == theirs


def _run_child(args, cwd=REPO, extra_env=None):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO), **(extra_env or {})}
    proc = subprocess.run([sys.executable, str(SCRIPT), "--child", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [l for l in proc.stdout.splitlines() if l.startswith(RESULT_TAG)]
    assert len(lines) == 1, proc.stdout  # the one JSON line; training chatter goes to stderr
    return json.loads(lines[0][len(RESULT_TAG):])


def _check_epochs(result, epochs):
    assert len(result["epoch_seconds"]) == len(result["epoch_tokens"]) == epochs
    assert all(s > 0 for s in result["epoch_seconds"])
    # 10,000 characters, 32 rows, 35 steps: 8 minibatches of 32 x 35 whatever the offset.
    assert result["epoch_tokens"] == [8 * 32 * 35] * epochs
    assert result["epoch_end_seconds"] == pytest.approx(
        [sum(result["epoch_seconds"][:k + 1]) for k in range(epochs)])
    assert 50 * 2 ** 20 < result["peak_rss_bytes"] < 4 * 2 ** 30


@pytest.mark.slow
def test_d2lrnn_child_reports_one_measurement():
    result = _run_child(["d2lrnn", "--cell", "lstm", "--epochs", "2", "--num-hiddens", "8"])
    assert result["kind"] == "d2lrnn" and result["diverged"] is None
    assert result["config"] == {"cell": "lstm", "num_hiddens": 8, "num_layers": 2, "num_steps": 35,
                                "batch_size": 32, "lr": 5.0, "clipping_theta": 1.0,
                                "num_epochs": 2, "seed": 0}
    _check_epochs(result, 2)
    # The measurement is the trainer's own run: its History comes back with it.
    assert len(result["perplexity"]) == len(result["self_reported_seconds"]) == 2
    assert 1 < result["perplexity"][1] < result["perplexity"][0] < result["vocab_size"] == 44
    assert result["threads"]["omp_num_threads"] == "1" and result["threads"]["mxnet_threads"] == 1
    assert Path(result["d2lrnn_file"]).resolve() == REPO / "d2lrnn" / "__init__.py"


@pytest.mark.slow
@pytest.mark.skipif(not (HELPER_DIR / "d2l" / "__init__.py").is_file(),
                    reason="d2l 0.9.2 is not installed in benchmarks/_work (the benchmark installs it)")
def test_helper_child_runs_the_2019_helper_in_its_data_layout(tmp_path):
    (tmp_path / "data").mkdir()
    shutil.copyfile(d2lrnn.fetch(d2lrnn.TIME_MACHINE), tmp_path / "data" / "timemachine.txt")
    (tmp_path / "cwd").mkdir()
    corpus, vocab = d2lrnn.load_data_time_machine()
    corpus_file = tmp_path / "corpus.json"
    corpus_file.write_text(json.dumps({"idx_to_token": vocab.idx_to_token, "corpus_indices": corpus}))
    result = _run_child(["helper", "--epochs", "4", "--num-hiddens", "8", "--helper-dir", HELPER_DIR,
                         "--corpus-file", corpus_file], cwd=tmp_path / "cwd")
    assert result["kind"] == "helper" and result["same_corpus"] is True
    _check_epochs(result, 4)
    assert sorted(result["perplexity_printed"], key=int) == ["1", "2", "3", "4"]
    assert Path(result["d2l_file"]).resolve().is_relative_to(HELPER_DIR.resolve())


def _fake_run(tokens_per_s, epochs=4, rss=300 * 2 ** 20):
    return {"epoch_seconds": [1.0] + [8960 / tokens_per_s] * (epochs - 1),
            "epoch_tokens": [8960] * epochs, "perplexity": [30.0, 20.0, 15.0, 12.0][:epochs],
            "peak_rss_bytes": rss, "threads": None}


def test_summary_discards_warmup_and_targets_compare_medians():
    fpt = flops_per_token("lstm", 44, 256, 2)
    runs = {key: Peer(key, key, key.split("/")[0], "lstm") for key in
            ("d2lrnn/lstm", "torch/lstm", "helper/lstm")}
    runs["d2lrnn/lstm"].runs = [_fake_run(30000), _fake_run(29000), _fake_run(31000)]
    runs["torch/lstm"].runs = [_fake_run(26000)]
    runs["helper/lstm"].runs = [_fake_run(11900)]
    summaries = {k: report.summarize(p, warmup=1, fpt=fpt) for k, p in runs.items()}
    ours = summaries["d2lrnn/lstm"]
    assert ours["tokens_per_s"]["median"] == pytest.approx(30000)  # the 1-second warm-up epochs are gone
    assert ours["tokens_per_s"]["n"] == 9 and ours["tokens_per_s"]["min"] == pytest.approx(29000)
    assert ours["seconds_per_epoch"]["median"] == pytest.approx(8960 / 30000)
    assert ours["gflops"] == pytest.approx(30000 * fpt / 1e9)
    assert ours["perplexity_last"] == 12.0 and ours["peak_rss_bytes"] == 300 * 2 ** 20
    ceiling = ours["gflops"] / 0.8
    status = {text.split(":")[0]: s for s, text in report.evaluate_targets(summaries, ceiling, None)}
    assert status == {
        "d2lrnn ≥ 1.2× PyTorch tokens/s (LSTM)": "FAIL",  # 1.15×
        "d2lrnn ≥ 2.5× the chapter helper (default threads) tokens/s (LSTM)": "PASS",  # 2.52×
        "d2lrnn ≥ 75% of the matmul ceiling (LSTM)": "PASS",
        "peak RSS of the chapter training < 1 GiB": "PASS",
        "the chapter's 500 epochs < 3 min": "SKIP",
    }
    ttq = {"perplexity": [5.0] * 10 + [1.09] * 490, "epoch_end_seconds": [0.4 * k for k in range(1, 501)],
           "peak_rss_bytes": 2 ** 30}
    assert report.time_to_quality(ttq) == (pytest.approx(4.4), 11)
    status = {text.split(":")[0]: s for s, text in report.evaluate_targets(summaries, None, ttq)}
    assert status["peak RSS of the chapter training < 1 GiB"] == "FAIL"
    assert status["the chapter's 500 epochs < 3 min (trainer only, no progress bar or plot)"] == "FAIL"
    assert status["d2lrnn ≥ 75% of the matmul ceiling"] == "SKIP"


@pytest.mark.slow
def test_device_gpu_without_a_usable_gpu_stops_with_one_line():
    problem = d2lrnn.device.gpu_problem(0)
    if problem is None or not problem.usual:
        pytest.skip("not a CPU-only build on a machine without a GPU")
    proc = subprocess.run([sys.executable, str(SCRIPT), "--device", "gpu", "--quick", "--skip-torch",
                           "--cells", "lstm"], cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == ["error: --device gpu: no usable GPU: the installed mxnet is the "
                                        "CPU-only build and there is no NVIDIA GPU"]


def test_device_reaches_every_child_but_the_cpu_only_helper():
    args = argparse.Namespace(matmul_n=64, matmul_reps=2, device="gpu", epochs=2, seed=0, num_hiddens=8)
    prep = {"corpus_file": "c.json"}
    for kind, cell in [("d2lrnn", "lstm"), ("torch", "gru"), ("matmul", None), ("helper", "lstm")]:
        opts = [str(o) for o in peers.child_options(Peer(kind, "", kind, cell), args, prep, 2)]
        assert ("--device" in opts and opts[opts.index("--device") + 1] == "gpu") == (kind != "helper")


def test_parent_imports_no_mxnet_and_gives_children_the_users_environment():
    # The parent reads d2lrnn's settings; importing d2lrnn leaves OMP_NUM_THREADS unset, so the
    # chapter helper runs as a student runs it.
    code = ("import os, runpy, sys; bench = runpy.run_path(sys.argv[1]); "
            "from trainbench.peers import Peer, peer_env; "
            "print('mxnet' in sys.modules, 'torch' in sys.modules, os.environ.get('OMP_NUM_THREADS'), "
            "peer_env(Peer('helper/lstm', '', 'helper', 'lstm')).get('OMP_NUM_THREADS'), "
            "peer_env(Peer('t', '', 'torch', 'gru', env={'OMP_NUM_THREADS': '5'}))['OMP_NUM_THREADS'])")
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    proc = subprocess.run([sys.executable, "-c", code, str(SCRIPT)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["False", "False", "None", "None", "5"]


def test_configuration_is_the_chapters_and_threads_are_described():
    assert config.CHAPTER == {"cell": "lstm", "num_layers": 2, "num_hiddens": 256, "num_steps": 35,
                              "batch_size": 32, "lr": 5.0, "clipping_theta": 1.0,
                              "num_examples": 10000, "sampling": "consecutive"}
    assert config.CELL_NAMES == {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN-tanh"}
    assert "G = 4 (LSTM), 3 (GRU), 1 (RNN)" in config.FLOP_FORMULA
    report_of = {"mxnet_threads": 2, "mxnet_threads_source": "OMP_NUM_THREADS"}
    assert machine.fmt_threads({**report_of, "omp_num_threads_before_import": None}) == \
        "2 (OMP_NUM_THREADS set by d2lrnn)"
    assert machine.fmt_threads({**report_of, "omp_num_threads_before_import": "2"}) == "2 (OMP_NUM_THREADS)"


def test_the_matmul_ceiling_measures_blas_and_onednn_and_keeps_the_higher(capsys):
    from trainbench.children import child_matmul
    result = child_matmul(argparse.Namespace(matmul_n=64, matmul_reps=2, device="cpu"))
    assert sorted(result["gflops"]) == ["dot", "fully_connected"]
    assert all(len(g) == 2 and min(g) > 0 for g in result["gflops"].values())
    # The Xeon figures: the wheel's BLAS 78 GFLOP/s, oneDNN 333.
    gflops = {"dot": [78.0, 77.0, 79.0], "fully_connected": [333.0, 320.0, 340.0]}
    assert report.matmul_ceiling(gflops) == 333.0 and report.matmul_ceiling({"dot": []}) is None
    args = argparse.Namespace(matmul_n=2048)
    report.print_ceiling(gflops, Peer("matmul", "", "matmul"), args, 2, 5_056_512, cpu="Intel Xeon X")
    out = capsys.readouterr().out
    assert "CPU: Intel Xeon X" in out and "mx.nd.dot (the wheel's BLAS): 78.0 GFLOP/s median" in out
    assert "(oneDNN): 333.0 GFLOP/s median (320.0–340.0, 3 products)  <-- the ceiling" in out
    assert "ceiling: 333.0 GFLOP/s = 65,856 tokens/s of the LSTM" in out
    ours = {"gflops": 173.0, "peak_rss_bytes": 2 ** 29, "tokens_per_s": {"median": 1.0}}
    status = report.evaluate_targets({"d2lrnn/lstm": ours}, 333.0, None, cpu="Intel Xeon X")
    assert any("52% (173.0 of 333.0 GFLOP/s; Intel Xeon X)" in text for _, text in status)
