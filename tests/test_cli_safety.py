"""The command line never loses a user's files or a run: refused paths, signals, interrupted saves."""
import fcntl
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import time

import pytest

import d2lrnn
from d2lrnn.runs import checkpoint

TINY = ("--num-hiddens", "16", "--num-layers", "1", "--num-examples", "2000", "--lr", "4")
# Slow enough per epoch that a signal arrives mid-run: about 0.3 s per epoch on 2 cores.
SLOW = ("--num-hiddens", "256", "--num-layers", "2", "--num-examples", "10000", "--num-epochs", "200")


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


def test_current_directory_is_refused_when_not_empty(tmp_path):
    (tmp_path / "analysis.py").write_text("print(1)")
    before = _snapshot(tmp_path)
    result = run_cli("train", "--checkpoint-dir", ".", "--num-epochs", "1", *TINY, cwd=tmp_path)
    _refused(result, ". is not empty and is not a d2lrnn checkpoint")
    assert _snapshot(tmp_path) == before


def test_a_new_run_into_an_existing_checkpoint_says_it_replaces_it(tmp_path):
    ck = str(tmp_path / "ck")
    assert run_cli("train", "--num-epochs", "2", "--checkpoint-dir", ck, *TINY).returncode == 0
    again = run_cli("train", "--num-epochs", "1", "--checkpoint-dir", ck, *TINY)
    assert again.returncode == 0, again.stderr
    assert "holds the checkpoint of epoch 2; this new run replaces it" in again.stderr


def _start(*args):
    return subprocess.Popen([sys.executable, "-m", "d2lrnn", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _wait_for_training(proc):
    """Return once the run has printed its first line and trained for a moment."""
    first = proc.stdout.readline()
    assert first, proc.stderr.read()
    time.sleep(3)
    return first


def test_sigterm_stops_after_the_minibatch_saves_and_exits_143(tmp_path):
    ck = tmp_path / "ck"
    proc = _start("train", "--checkpoint-dir", str(ck), "--save-every", "3600", *SLOW)
    _wait_for_training(proc)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    assert "SIGTERM: stopped after" in err and f"checkpoint saved to {ck}" in err
    _, _, history, _ = checkpoint.load(ck, d2lrnn.try_gpu())
    assert history.interrupted and history.stop_signal == "SIGTERM"


def test_ctrl_c_saves_and_exits_130_and_resume_continues(tmp_path):
    ck = tmp_path / "ck"
    proc = _start("train", "--checkpoint-dir", str(ck), *SLOW)
    _wait_for_training(proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in err, err
    assert "SIGINT: stopped after" in err
    done = len(checkpoint.load(ck, d2lrnn.try_gpu())[2])
    resumed = run_cli("train", "--resume", "--checkpoint-dir", str(ck), "--num-epochs", "1")
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming after epoch {done}" in resumed.stdout


@pytest.mark.parametrize("signum, aborts_with", [(signal.SIGINT, KeyboardInterrupt),
                                                (signal.SIGTERM, SystemExit)])
def test_the_first_signal_asks_to_stop_and_the_second_aborts(signum, aborts_with, capsys):
    from d2lrnn.progress import StopOnInterrupt
    with StopOnInterrupt() as interrupt:
        os.kill(os.getpid(), signum)
        time.sleep(0.1)  # Python runs the handler here
        assert interrupt.requested == signal.Signals(signum).name
        with pytest.raises(aborts_with):
            os.kill(os.getpid(), signum)
            time.sleep(0.1)
    assert "stopping after the current minibatch" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # handlers restored


def _loading_mxnet(pid):
    """True once MXNet's shared library is mapped into process ``pid``: it is being imported."""
    try:
        return "libmxnet" in open(f"/proc/{pid}/maps").read()
    except OSError:
        return False


@pytest.mark.parametrize("moment", ["while MXNet loads", "while generating"])
def test_ctrl_c_during_start_up_or_generate_exits_130_in_one_line(tmp_path, moment):
    ck = str(tmp_path / "ck")
    assert run_cli("train", "--num-epochs", "1", "--checkpoint-dir", ck, *TINY).returncode == 0
    proc = _start("generate", "--checkpoint", ck, "--prefix", "the", "--num-chars", "1000000")
    if moment == "while MXNet loads":
        deadline = time.monotonic() + 60
        while not _loading_mxnet(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.002)
    else:
        time.sleep(8)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.strip() == "interrupted (Ctrl-C): stopped"


def test_an_interrupted_save_is_tidied_by_the_next_run(tmp_path):
    ck = tmp_path / "ck"
    assert run_cli("train", "--num-epochs", "1", "--checkpoint-dir", str(ck), *TINY).returncode == 0
    (ck / ".partial-save-7").mkdir()  # what a kill during a save leaves
    (ck / ".partial-save-7" / "params.params").write_bytes(b"half")
    resumed = run_cli("train", "--resume", "--checkpoint-dir", str(ck), "--num-epochs", "1")
    assert resumed.returncode == 0, resumed.stderr
    assert "removed what an interrupted save left" in resumed.stderr
    assert sorted(p.name for p in ck.iterdir()) == ["manifest.json", "save-2"]


def test_edited_training_settings_in_a_checkpoint_are_named(tmp_path):
    import json
    from d2lrnn.runs.checkpoint_files import sha256
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


def test_generate_names_a_bad_seed():
    result = run_cli("generate", "--checkpoint", "x", "--prefix", "a", "--seed", "-1")
    assert result.returncode == 2
    assert "argument --seed: must be an integer >= 0, got -1" in result.stderr


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
