"""Environment variables are checked before MXNet loads: one line naming the variable, no abort."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from d2lrnn.env import _environment

REPO = Path(__file__).resolve().parent.parent

# What `import d2lrnn` raises, and whether MXNet had been loaded by then.
IMPORT_PROBE = ("import sys\n"
                "try:\n"
                "    import d2lrnn\n"
                "except ValueError as e:\n"
                "    print(type(e).__name__, e)\n"
                "print('mxnet loaded' if 'mxnet' in sys.modules else 'mxnet not loaded')\n")

BAD = [
    ("OMP_NUM_THREADS", "abc", "OMP_NUM_THREADS='abc' is not a whole number of threads >= 1"),
    ("OMP_NUM_THREADS", "4,2", "OMP_NUM_THREADS='4,2' is not a whole number of threads >= 1"),
    ("OMP_NUM_THREADS", "0", "OMP_NUM_THREADS='0' is not a whole number of threads >= 1"),
    ("OMP_WAIT_POLICY", "sleepy", "OMP_WAIT_POLICY='sleepy' is neither 'active' nor 'passive'"),
    ("D2LRNN_QUICK", "yes", "D2LRNN_QUICK='yes' must be 1"),
]


def _run(args, env):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=300,
                          cwd=REPO, env={**os.environ, **env})


@pytest.mark.parametrize("name, value, message", BAD)
def test_import_raises_before_mxnet_loads(name, value, message):
    result = _run(["-c", IMPORT_PROBE], {name: value})
    assert result.returncode == 0, result.stderr  # not SIGABRT (-6) inside MXNet's parser
    raised, loaded = result.stdout.splitlines()
    assert raised.startswith(f"EnvironmentVariableError {message}") and loaded == "mxnet not loaded"


@pytest.mark.parametrize("name, value, message", BAD)
def test_command_prints_one_line_and_exits_2(name, value, message):
    result = _run(["-m", "d2lrnn", "--num-epochs", "1"], {name: value})
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {message}"), result.stderr
    assert result.stdout == ""


def test_data_dir_that_is_a_file(tmp_path):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    for value in (a_file, a_file / "data"):
        result = _run(["-m", "d2lrnn", "--num-epochs", "1"], {"D2LRNN_DATA_DIR": str(value)})
        assert result.returncode == 2
        assert result.stderr.splitlines() == [
            f"error: D2LRNN_DATA_DIR={str(value)!r}: {a_file} is a file, not a directory; point "
            "D2LRNN_DATA_DIR at a directory for the data files, or unset it"]
    assert a_file.read_text() == "mine"


def test_values_that_work():
    env = {"OMP_NUM_THREADS": " 2 ", "OMP_WAIT_POLICY": "PASSIVE", "D2LRNN_QUICK": "0",
           "D2LRNN_DATA_DIR": "~/not/yet/made"}
    assert _environment.omp_num_threads(env) == 2
    assert _environment.wait_policy(env) == "passive"
    assert _environment.quick_mode(env) is False and _environment.quick_mode({"D2LRNN_QUICK": "1"})
    assert _environment.data_dir(env) == Path.home() / "not/yet/made"
    empty = dict.fromkeys(env, "")  # an empty variable counts as unset
    assert [_environment.omp_num_threads(empty), _environment.wait_policy(empty),
            _environment.quick_mode(empty), _environment.data_dir(empty)] == [None, None, False, None]
    _environment.check_environment(env)
    with pytest.raises(_environment.EnvironmentVariableError, match="2147483648"):
        _environment.omp_num_threads({"OMP_NUM_THREADS": "2147483648"})  # past MXNet's C int


def test_started_as_command():
    assert _environment.started_as_command(["-m", "--num-epochs", "1"])
    assert _environment.started_as_command(["/home/me/.venv/bin/d2lrnn", "train"])
    assert not _environment.started_as_command(["/usr/lib/python3/site-packages/ipykernel_launcher.py"])
    assert not _environment.started_as_command(["train.py"])
    assert not _environment.started_as_command([])
