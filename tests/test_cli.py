"""``python -m d2lrnn``: prints the chapter's lines; exit codes 0, 1 and 2."""
import os
import subprocess
import sys

import pytest


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "d2lrnn", *args], capture_output=True,
                          text=True, timeout=300, env={**os.environ, **(env or {})})


@pytest.mark.slow
def test_trains_and_prints_the_chapter_lines():
    result = run_cli("--num-epochs", "4", "--num-hiddens", "16", "--num-layers", "2",
                     "--cell", "gru", "--num-examples", "2000", "--seed", "1")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("gru x 2 layers, 16 hidden, 2000 training characters")
    assert [l.split(",")[0] for l in lines if l.startswith("epoch")] == \
        ["epoch 1", "epoch 2", "epoch 3", "epoch 4"]
    assert sum(l.startswith(" - traveller") for l in lines) == 2
    assert sum(l.startswith(" - time traveller") for l in lines) == 2


@pytest.mark.slow
def test_same_seed_same_perplexities():
    args = ("--num-epochs", "2", "--num-hiddens", "8", "--num-layers", "1", "--cell", "rnn",
            "--num-examples", "2000", "--seed", "3", "--lr", "1")
    perplexities = [[l.split(",")[1] for l in run_cli(*args).stdout.splitlines() if l.startswith("epoch")]
                    for _ in range(2)]
    assert perplexities[0] == perplexities[1] and len(perplexities[0]) == 2


@pytest.mark.slow
def test_usage_errors_exit_2(capsys):
    result = run_cli("--num-epochs", "0")  # one real process for the exit status, the rest in this one
    assert result.returncode == 2 and "usage:" in result.stderr
    from d2lrnn import cli
    for args in (["--cell", "transformer"], ["--lr", "-1"], ["--bogus"],
                 ["--batch-size", "0"], ["--num-steps", "x"], ["--clipping-theta", "0"],
                 ["generate", "--prefix", "a"], ["generate", "--checkpoint", "d", "--prefix", "a", "--temperature", "-1"]):
        with pytest.raises(SystemExit) as stopped:
            cli.main(args)
        assert stopped.value.code == 2, args
        assert "usage:" in capsys.readouterr().err


def test_runtime_error_exits_1_with_a_message(tmp_path):
    result = run_cli("--num-epochs", "1", "--num-examples", "2000", "--prefix", "Zebra",
                     "--num-hiddens", "8", "--num-layers", "1")
    assert result.returncode == 1
    assert "not in the vocabulary" in result.stderr and "Traceback" not in result.stderr


def test_mxnets_own_kernel_for_two_layers_is_one_line_and_exit_2():
    result = run_cli("--num-epochs", "1", "--num-examples", "2000", "--num-hiddens", "8", "--num-layers", "2",
                     env={"MXNET_USE_MKLDNN_RNN": "0"})
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: MXNET_USE_MKLDNN_RNN=0 selects MXNet 1.9.1's own CPU kernel")
    assert result.stderr.count("\n") == 1 and "unset MXNET_USE_MKLDNN_RNN" in result.stderr


def test_help_lists_the_flags():
    out = run_cli("train", "--help").stdout
    for flag in ("--cell", "--num-layers", "--num-hiddens", "--num-epochs", "--lr", "--seed", "--data-dir"):
        assert flag in out


TINY = ("--num-hiddens", "16", "--num-layers", "1", "--num-examples", "2000", "--lr", "4")


@pytest.mark.slow
def test_train_save_generate_resume(tmp_path):
    ck = str(tmp_path / "ck")
    first = run_cli("train", "--num-epochs", "2", "--seed", "5", "--checkpoint-dir", ck, *TINY)
    assert first.returncode == 0, first.stderr
    assert f"checkpoint saved to {ck}" in first.stdout

    greedy = run_cli("generate", "--checkpoint", ck, "--prefix", "the time", "--num-chars", "30")
    assert greedy.returncode == 0, greedy.stderr
    assert greedy.stdout.startswith("the time") and len(greedy.stdout.rstrip("\n")) == 38
    sampled = [run_cli("generate", "--checkpoint", ck, "--prefix", "the", "--temperature", "1",
                       "--seed", "9", "--num-chars", "30").stdout for _ in range(2)]
    assert sampled[0] == sampled[1]

    resumed = run_cli("train", "--resume", "--checkpoint-dir", ck, "--num-epochs", "2")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming after epoch 2" in resumed.stdout
    assert [l.split(",")[0] for l in resumed.stdout.splitlines() if l.startswith("epoch")] == ["epoch 3", "epoch 4"]
    straight = run_cli("train", "--num-epochs", "4", "--seed", "5", *TINY)
    perplexities = lambda out: [l.split(",")[1] for l in out.splitlines() if l.startswith("epoch")]
    assert perplexities(resumed.stdout) == perplexities(straight.stdout)[2:]


@pytest.mark.slow
def test_checkpoint_errors_exit_1(tmp_path):
    missing = run_cli("generate", "--checkpoint", str(tmp_path / "none"), "--prefix", "a")
    assert missing.returncode == 1 and "no checkpoint directory" in missing.stderr
    ck = str(tmp_path / "ck")
    assert run_cli("train", "--num-epochs", "1", "--checkpoint-dir", ck, *TINY).returncode == 0
    other = run_cli("train", "--resume", "--checkpoint-dir", ck, "--num-epochs", "1", "--cell", "gru")
    assert other.returncode == 1 and "cell is 'lstm' in the checkpoint but 'gru'" in other.stderr
    other_data = run_cli("train", "--resume", "--checkpoint-dir", ck, "--num-epochs", "1", "--num-examples", "1500")
    assert other_data.returncode == 1 and "vocabulary" in other_data.stderr
    no_dir = run_cli("train", "--resume", "--num-epochs", "1")
    assert no_dir.returncode == 1 and "--resume needs --checkpoint-dir" in no_dir.stderr


@pytest.mark.slow
def test_device_gpu_without_gpu_exits_1():
    import d2lrnn
    problem = d2lrnn.device.gpu_problem(0)
    if problem is None or not problem.usual:
        import pytest
        pytest.skip("not a CPU-only build on a machine without a GPU")
    result = run_cli("--device", "gpu", "--num-epochs", "1")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: --device gpu: no usable GPU: the installed mxnet is the CPU-only build and there is "
        "no NVIDIA GPU. Use --device cpu or --device auto."]


@pytest.mark.slow
def test_subcommand_help_is_complete():
    train_help = run_cli("train", "--help").stdout
    for flag in ("--checkpoint-dir", "--resume", "--device", "--sampling", "--num-steps",
                 "--batch-size", "--clipping-theta", "--no-progress", "--prefix"):
        assert flag in train_help
    gen_help = run_cli("generate", "--help").stdout
    for flag in ("--checkpoint", "--prefix", "--num-chars", "--temperature", "--top-k", "--seed", "--device"):
        assert flag in gen_help
    top = run_cli("--help").stdout
    assert "train" in top and "generate" in top and "Exit codes" in top


@pytest.mark.slow
def test_books_with_validation():
    result = run_cli("--books", "35", "36", "--num-examples", "3000", "--valid-fraction", "0.2",
                     "--num-epochs", "2", "--num-hiddens", "16", "--num-layers", "1", "--seed", "0",
                     "--prefix", "the")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("lstm x 1 layers, 16 hidden, 4800 training characters, 1200 held out")
    assert all("validation perplexity" in l for l in lines if l.startswith("epoch"))
    assert run_cli("--valid-fraction", "1.5").returncode == 2
