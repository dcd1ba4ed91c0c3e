"""Environment variables: each checked where d2lrnn uses it, in one line; none stops a foreign `import mxnet`."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from d2lrnn.env import _environment

REPO = Path(__file__).resolve().parent.parent

BAD = [
    ("OMP_NUM_THREADS", "abc", "OMP_NUM_THREADS='abc' is not a whole number of threads >= 1"),
    ("OMP_NUM_THREADS", "4,2", "OMP_NUM_THREADS='4,2' is not a whole number of threads >= 1"),
    ("OMP_NUM_THREADS", "0", "OMP_NUM_THREADS='0' is not a whole number of threads >= 1"),
    ("OMP_WAIT_POLICY", "sleepy", "OMP_WAIT_POLICY='sleepy' is neither 'active' nor 'passive'"),
    ("D2LRNN_QUICK", "yes", "D2LRNN_QUICK='yes' must be 1"),
]


def _run(args, env, cwd=REPO):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=300,
                          cwd=cwd, env={**os.environ, **env})


@pytest.mark.slow
@pytest.mark.parametrize("name, value, message", BAD)
def test_command_prints_one_line_and_exits_2(name, value, message):
    result = _run(["-m", "d2lrnn", "--num-epochs", "1"], {name: value})
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {message}"), result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("name, value, message", BAD)
def test_import_d2lrnn_checks_nothing_it_does_not_use_yet(name, value, message):
    result = _run(["-c", "import sys, d2lrnn; print('mxnet' in sys.modules)"], {name: value})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False"]


def test_a_foreign_import_mxnet_is_not_stopped_by_d2lrnn_variables():
    # A program that never asks d2lrnn for its settings: d2lrnn's own variables do not concern it.
    code = "import mxnet as mx; print(mx.nd.ones((2,)).sum().asscalar())"
    for name, value in [("D2LRNN_QUICK", "yes"), ("OMP_WAIT_POLICY", "sleepy"),
                        ("D2LRNN_DATA_DIR", str(REPO / "README.md"))]:
        result = _run(["-c", code], {name: value})
        assert (result.returncode, result.stdout.split()) == (0, ["2.0"]), (name, result.stderr)


def test_quick_mode_reports_its_variable_where_it_is_read(monkeypatch):
    import d2lrnn
    monkeypatch.setenv("D2LRNN_QUICK", "yes")
    with pytest.raises(_environment.EnvironmentVariableError, match="D2LRNN_QUICK='yes' must be 1"):
        d2lrnn.quick_mode()


def test_data_dir_is_reported_where_it_is_resolved(tmp_path, monkeypatch):
    from d2lrnn import download
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    monkeypatch.setenv("D2LRNN_DATA_DIR", str(a_file / "data"))
    with pytest.raises(_environment.EnvironmentVariableError, match="is a file, not a directory"):
        download.resolve_data_dir()
    assert a_file.read_text() == "mine"


@pytest.mark.slow
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


# A package of someone else's whose import loads MXNet and that handles Ctrl-C itself.
FOREIGN_INIT = "import mxnet\n"
FOREIGN_MAIN = textwrap.dedent("""\
    import signal, sys
    import mxnet as mx
    handler = signal.getsignal(signal.SIGINT)
    print("handler", getattr(handler, "__module__", None), getattr(handler, "__name__", handler))
    try:
        signal.raise_signal(signal.SIGINT)
        print("not interrupted")
    except KeyboardInterrupt:
        print("own KeyboardInterrupt handling ran")
        sys.exit(7)
    """)


@pytest.mark.slow
def test_a_foreign_package_run_with_m_keeps_its_own_ctrl_c_handling(tmp_path):
    package = tmp_path / "foo"
    package.mkdir()
    (package / "__init__.py").write_text(FOREIGN_INIT)
    (package / "__main__.py").write_text(FOREIGN_MAIN)
    result = _run(["-m", "foo"], {}, cwd=tmp_path)
    assert result.returncode == 7, result.stderr
    assert result.stdout.splitlines() == ["handler _signal default_int_handler",
                                          "own KeyboardInterrupt handling ran"]


@pytest.mark.slow
def test_child_processes_inherit_the_environment_unchanged(tmp_path):
    # MXNet loads with d2lrnn's thread count, and the variable is gone again once it has loaded.
    code = ("import os, subprocess, sys, mxnet, d2lrnn\n"
            "child = subprocess.run([sys.executable, '-c', 'import os; print(os.environ.get(\"OMP_NUM_THREADS\"))'],"
            " capture_output=True, text=True).stdout.strip()\n"
            "print(os.environ.get('OMP_NUM_THREADS'), child, d2lrnn.mxnet_threads())\n")
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            cwd=tmp_path, env=env)
    from d2lrnn.env import _threads
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["None", "None", str(_threads.available_cpus())]


# MXNet's threads, counted: the process's threads after a matrix product and an element-wise op.
THREAD_COUNT = textwrap.dedent("""\
    import os
    import d2lrnn.env._threads as threads
    threads.available_cpus = lambda root="/": 3  # as on a 3-CPU machine
    import mxnet as mx
    a = mx.nd.random.uniform(shape=(1000, 1000))
    mx.nd.dot(a, a).wait_to_read()
    mx.nd.relu(mx.nd.random.uniform(shape=(5000000,))).wait_to_read()
    print(len(os.listdir('/proc/self/task')), os.environ.get('OMP_NUM_THREADS'))
    """)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="counts threads in /proc (Linux)")
def test_the_thread_count_chosen_while_mxnet_loads_takes_effect():
    def count(omp=None):
        env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
        env.update({} if omp is None else {"OMP_NUM_THREADS": omp})
        result = subprocess.run([sys.executable, "-c", THREAD_COUNT], capture_output=True, text=True,
                                timeout=300, env=env)
        assert result.returncode == 0, result.stderr
        return result.stdout.split()
    chosen, three, one = count(), count("3"), count("1")
    assert chosen[1] == "None" and three[1] == "3"  # the variable is gone once MXNet has loaded
    assert chosen[0] == three[0] != one[0]  # yet MXNet runs with the 3 threads chosen for it
