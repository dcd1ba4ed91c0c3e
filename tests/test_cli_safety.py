"""The command line never loses a user's files or a run: refused paths, signals, interrupted saves."""
import fcntl
import os
import pty
import signal
import struct
import subprocess
import sys
import termios

import pytest

import d2lrnn
from d2lrnn.store import checkpoint

TINY = ("--num-hiddens", "16", "--num-layers", "1", "--num-examples", "2000", "--lr", "4")


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "d2lrnn", *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd)


def _snapshot(root):
    """Every path under ``root`` with its mode and content: proof that nothing changed."""
    return {p: (p.lstat().st_mode, p.read_bytes() if p.is_file() and not p.is_symlink() else None)
            for p in [root, *root.rglob("*")]}


def _refused(result, path_text):
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and path_text in lines[0], result.stderr
    assert "epoch" not in result.stdout  # refused before training started


@pytest.mark.parametrize("make, message", [
    ("folder", "is not empty and is not a d2lrnn checkpoint"),
    ("file", "is a file, not a directory"),
    ("link to file", "is a file, not a directory"),
    ("under a file", "is a file, not a directory"),
])
@pytest.mark.slow
def test_checkpoint_dir_that_is_not_ours_is_refused_before_training(tmp_path, make, message):
    (tmp_path / "mydocs").mkdir()
    (tmp_path / "mydocs" / "thesis.tex").write_text("months of work")
    (tmp_path / "notes.txt").write_text("notes")
    (tmp_path / "link").symlink_to(tmp_path / "notes.txt")
    target = {"folder": "mydocs", "file": "notes.txt", "link to file": "link",
              "under a file": "notes.txt/run"}[make]
    before = _snapshot(tmp_path)
    result = run_cli("train", "--checkpoint-dir", str(tmp_path / target), "--num-epochs", "1", *TINY)
    _refused(result, message)
    assert _snapshot(tmp_path) == before


@pytest.mark.slow
def test_current_directory_is_refused_when_not_empty(tmp_path):
    (tmp_path / "analysis.py").write_text("print(1)")
    before = _snapshot(tmp_path)
    result = run_cli("train", "--checkpoint-dir", ".", "--num-epochs", "1", *TINY, cwd=tmp_path)
    _refused(result, ". is not empty and is not a d2lrnn checkpoint")
    assert _snapshot(tmp_path) == before


@pytest.mark.slow
def test_a_new_run_into_an_existing_checkpoint_says_it_replaces_it(tmp_path):
    ck = str(tmp_path / "ck")
    assert run_cli("train", "--num-epochs", "2", "--checkpoint-dir", ck, *TINY).returncode == 0
    again = run_cli("train", "--num-epochs", "1", "--checkpoint-dir", ck, *TINY)
    assert again.returncode == 0, again.stderr
    assert "holds the checkpoint of epoch 2; this new run replaces it" in again.stderr


# A child that runs ``python -m d2lrnn ARGS`` (d2lrnn/__main__.py, as Python runs it) and sends itself a signal at a known point, so that no test waits or polls:
# 'MODULE.FUNCTION:N' after the Nth call of d2lrnn.MODULE.FUNCTION, or 'import mxnet' when
# MXNet's import has begun (its first submodule is looked up).
CHILD = """
import os, runpy, signal, sys
signum, at, sys.argv = signal.Signals[sys.argv[1]], sys.argv[2], ["-m", *sys.argv[3:]]

class SignalDuringImport:
    def find_spec(self, name, path=None, target=None):
        if name == "mxnet.base":
            os.kill(os.getpid(), signum)
        return None

if at == "import mxnet":
    sys.meta_path.insert(0, SignalDuringImport())
else:
    import importlib
    target, count = at.split(":")
    module_name, function_name = target.split(".")
    module = importlib.import_module("d2lrnn." + module_name)
    real, calls = getattr(module, function_name), []

    def counting(*args, **kwargs):
        result = real(*args, **kwargs)
        calls.append(1)
        if len(calls) == int(count):
            os.kill(os.getpid(), signum)
        return result
    setattr(module, function_name, counting)  # looked up in the module at each call
runpy.run_module("d2lrnn", run_name="__main__")
"""


def run_signalled(signum, at, *args):
    """``python -m d2lrnn ARGS`` that receives ``signum`` at ``at`` (see CHILD); the finished process."""
    return subprocess.run([sys.executable, "-c", CHILD, signal.Signals(signum).name, at, *args],
                          capture_output=True, text=True, timeout=300)


def test_sigterm_stops_after_the_minibatch_saves_and_exits_143(tmp_path):
    ck = tmp_path / "ck"
    # TINY's corpus makes one minibatch per epoch: the signal arrives during epoch 3.
    done = run_signalled(signal.SIGTERM, "fast.clipped_sgd_step:3", "train", "--checkpoint-dir", str(ck),
                         "--save-every", "3600", "--num-epochs", "50", *TINY)
    assert done.returncode == 143, done.stderr
    assert "Traceback" not in done.stderr
    assert "SIGTERM: stopped after 2 complete epochs" in done.stderr and f"checkpoint saved to {ck}" in done.stderr
    _, _, history, _ = checkpoint.load(ck, d2lrnn.try_gpu())
    assert history.interrupted and history.stop_signal == "SIGTERM" and history.epoch == [1, 2]


@pytest.mark.slow
def test_ctrl_c_saves_and_exits_130_and_resume_continues(tmp_path):
    ck = tmp_path / "ck"
    done = run_signalled(signal.SIGINT, "fast.clipped_sgd_step:4", "train", "--checkpoint-dir", str(ck),
                         "--num-epochs", "50", *TINY)
    assert done.returncode == 130 and "Traceback" not in done.stderr, done.stderr
    assert "SIGINT: stopped after 3 complete epochs" in done.stderr
    assert len(checkpoint.load(ck, d2lrnn.try_gpu())[2]) == 3
    resumed = run_cli("train", "--resume", "--checkpoint-dir", str(ck), "--num-epochs", "1")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming after epoch 3" in resumed.stdout


@pytest.mark.parametrize("signum, aborts_with", [(signal.SIGINT, KeyboardInterrupt),
                                                (signal.SIGTERM, SystemExit)])
def test_the_first_signal_asks_to_stop_and_the_second_aborts(signum, aborts_with, capsys):
    from d2lrnn.progress import StopOnInterrupt
    with StopOnInterrupt() as interrupt:
        signal.raise_signal(signum)  # the Python handler has run when this returns
        assert interrupt.requested == signal.Signals(signum).name
        with pytest.raises(aborts_with):
            signal.raise_signal(signum)
    assert "stopping after the current minibatch" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # handlers restored


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["import mxnet", "predict.choose_next:100"],
                         ids=["while MXNet loads", "while generating"])
def test_ctrl_c_during_start_up_or_generate_exits_130_in_one_line(tmp_path, moment):
    ck = str(tmp_path / "ck")
    assert run_cli("train", "--num-epochs", "1", "--checkpoint-dir", ck, *TINY).returncode == 0
    done = run_signalled(signal.SIGINT, moment, "generate", "--checkpoint", ck, "--prefix", "the",
                         "--num-chars", "1000000")
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip() == "interrupted (Ctrl-C): stopped"
    assert done.stdout == ""


@pytest.mark.slow
def test_an_interrupted_save_is_tidied_by_the_next_run(tmp_path):
    ck = tmp_path / "ck"
    assert run_cli("train", "--num-epochs", "1", "--checkpoint-dir", str(ck), *TINY).returncode == 0
    (ck / ".partial-save-7").mkdir()  # what a kill during a save leaves
    (ck / ".partial-save-7" / "params.params").write_bytes(b"half")
    resumed = run_cli("train", "--resume", "--checkpoint-dir", str(ck), "--num-epochs", "1")
    assert resumed.returncode == 0, resumed.stderr
    assert "removed what an interrupted save left" in resumed.stderr
    assert sorted(p.name for p in ck.iterdir()) == ["manifest.json", "save-2"]


@pytest.mark.slow
def test_edited_training_settings_in_a_checkpoint_are_named(tmp_path):
    import json
    from d2lrnn.store.checkpoint_files import sha256
    ck = tmp_path / "ck"
    assert run_cli("train", "--num-epochs", "1", "--checkpoint-dir", str(ck), *TINY).returncode == 0
    manifest = json.loads((ck / "manifest.json").read_text())
    config_path = ck / manifest["current"] / "config.json"
    config = json.loads(config_path.read_text())
    config["extra"]["batch_size"] = "32"
    config_path.write_text(json.dumps(config))
    manifest["sha256"]["config.json"] = sha256(config_path)
    (ck / "manifest.json").write_text(json.dumps(manifest))
    result = run_cli("train", "--resume", "--checkpoint-dir", str(ck), "--num-epochs", "1")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "config.json has the training setting batch_size = '32'" in result.stderr


@pytest.mark.slow
def test_generate_names_a_bad_seed():
    result = run_cli("generate", "--checkpoint", "x", "--prefix", "a", "--seed", "-1")
    assert result.returncode == 2
    assert "argument --seed: must be an integer >= 0, got -1" in result.stderr


@pytest.mark.slow
def test_epoch_lines_start_on_their_own_line_under_a_progress_bar(tmp_path):
    """In a terminal the bar (stderr) and the epoch lines (stdout) share the screen."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 100 columns
    proc = subprocess.Popen([sys.executable, "-m", "d2lrnn", "--num-epochs", "4", *TINY],
                            stdout=terminal, stderr=terminal, close_fds=True)
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal closed: the program ended
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert proc.wait(timeout=120) == 0
    screen = b"".join(chunks).decode()
    assert "training: " in screen  # the bar was drawn
    starts = [i for i in range(len(screen)) if screen.startswith("epoch ", i)
              and screen[i + 6].isdigit() and not screen.startswith("epoch=", i)]
    assert len(starts) == 4
    assert all(i == 0 or screen[i - 1] in "\r\n" for i in starts), screen
