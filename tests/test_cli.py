"""``python -m d2lrnn``: prints the chapter's lines; exit codes 0, 1 and 2."""
import os
import subprocess
import sys


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "d2lrnn", *args], capture_output=True,
                          text=True, timeout=300, env={**os.environ, **(env or {})})


def test_trains_and_prints_the_chapter_lines():
    result = run_cli("--num-epochs", "4", "--num-hiddens", "16", "--num-layers", "2",
                     "--cell", "gru", "--num-examples", "2000", "--seed", "1")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("gru x 2 layers, 16 hidden, 2000 characters")
    assert [l.split(",")[0] for l in lines if l.startswith("epoch")] == \
        ["epoch 1", "epoch 2", "epoch 3", "epoch 4"]
    assert sum(l.startswith(" - traveller") for l in lines) == 2
    assert sum(l.startswith(" - time traveller") for l in lines) == 2


def test_same_seed_same_perplexities():
    args = ("--num-epochs", "2", "--num-hiddens", "8", "--num-layers", "1", "--cell", "rnn",
            "--num-examples", "2000", "--seed", "3", "--lr", "1")
    perplexities = [[l.split(",")[1] for l in run_cli(*args).stdout.splitlines() if l.startswith("epoch")]
                    for _ in range(2)]
    assert perplexities[0] == perplexities[1] and len(perplexities[0]) == 2


def test_usage_errors_exit_2():
    for args in (["--num-epochs", "0"], ["--cell", "transformer"], ["--lr", "-1"], ["--bogus"]):
        result = run_cli(*args)
        assert result.returncode == 2, args
        assert "usage:" in result.stderr


def test_runtime_error_exits_1_with_a_message(tmp_path):
    result = run_cli("--num-epochs", "1", "--num-examples", "2000", "--prefix", "Zebra",
                     "--num-hiddens", "8", "--num-layers", "1")
    assert result.returncode == 1
    assert "not in the vocabulary" in result.stderr and "Traceback" not in result.stderr


def test_help_lists_the_flags():
    out = run_cli("--help").stdout
    for flag in ("--cell", "--num-layers", "--num-hiddens", "--num-epochs", "--lr", "--seed", "--data-dir"):
        assert flag in out
