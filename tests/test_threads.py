"""The default thread count: the affinity mask lowered to the cgroup CPU quota, read from fake files."""
import pytest

from d2lrnn.env import _busy, _mxnet_load, _threads
from d2lrnn.env._environment import EnvironmentVariableError

V2_MOUNT = "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate\n"
V1_MOUNTS = ("31 23 0:28 {root} /sys/fs/cgroup/cpu,cpuacct ro,relatime - cgroup cgroup rw,cpu,cpuacct\n"
             "32 23 0:29 {root} /sys/fs/cgroup/memory ro,relatime - cgroup cgroup rw,memory\n")


def fake_root(tmp_path, cgroup, mountinfo, files):
    """A directory laid out like / with the given /proc/self files and cgroup files."""
    (tmp_path / "proc/self").mkdir(parents=True)
    (tmp_path / "proc/self/cgroup").write_text(cgroup)
    (tmp_path / "proc/self/mountinfo").write_text(mountinfo)
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    return tmp_path


@pytest.fixture
def eight_cores(monkeypatch):
    monkeypatch.setattr(_threads.os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)


def test_cgroup_v2_quota_in_a_container(tmp_path, eight_cores):
    # Kubernetes CPU limit of 2 on an 8-core node: the pod's own cgroup is / in its namespace.
    root = fake_root(tmp_path, "0::/\n", V2_MOUNT, {"sys/fs/cgroup/cpu.max": "200000 100000\n"})
    assert _threads.cgroup_cpu_limit(root) == 2.0
    assert _threads.available_cpus(root) == 2


def test_cgroup_v2_smallest_quota_on_the_path_wins(tmp_path, eight_cores):
    root = fake_root(tmp_path, "0::/kubepods/pod1/ctr\n", V2_MOUNT, {
        "sys/fs/cgroup/kubepods/cpu.max": "max 100000\n",
        "sys/fs/cgroup/kubepods/pod1/cpu.max": "150000 100000\n",  # 1.5 CPUs for the pod
        "sys/fs/cgroup/kubepods/pod1/ctr/cpu.max": "max 100000\n",
    })
    assert _threads.cgroup_cpu_limit(root) == 1.5
    assert _threads.available_cpus(root) == 1  # rounded down


def test_cgroup_v2_without_quota(tmp_path, eight_cores):
    root = fake_root(tmp_path, "0::/user.slice\n", V2_MOUNT, {"sys/fs/cgroup/user.slice/cpu.max": "max 100000\n"})
    assert _threads.cgroup_cpu_limit(root) is None
    assert _threads.available_cpus(root) == 8


def test_cgroup_v1_docker_cpus(tmp_path, eight_cores):
    # docker run --cpus 3 with cgroup v1: the mount's root is the container's cgroup.
    cgroup = "4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n0::/\n"
    root = fake_root(tmp_path, cgroup, V1_MOUNTS.format(root="/docker/abc"), {
        "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us": "300000\n",
        "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n",
    })
    assert _threads.cgroup_cpu_limit(root) == 3.0
    assert _threads.available_cpus(root) == 3


def test_cgroup_v1_without_quota_and_a_nested_limit(tmp_path, eight_cores):
    cgroup = "3:cpu,cpuacct:/batch/job\n"
    files = {"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us": "-1\n",
             "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n"}
    root = fake_root(tmp_path, cgroup, V1_MOUNTS.format(root="/"), files)
    assert _threads.cgroup_cpu_limit(root) is None
    (root / "sys/fs/cgroup/cpu,cpuacct/batch").mkdir()
    (root / "sys/fs/cgroup/cpu,cpuacct/batch/cpu.cfs_quota_us").write_text("50000\n")
    (root / "sys/fs/cgroup/cpu,cpuacct/batch/cpu.cfs_period_us").write_text("100000\n")
    assert _threads.cgroup_cpu_limit(root) == 0.5
    assert _threads.available_cpus(root) == 1  # never below one


def test_affinity_below_the_quota_wins(tmp_path, monkeypatch):
    monkeypatch.setattr(_threads.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    root = fake_root(tmp_path, "0::/\n", V2_MOUNT, {"sys/fs/cgroup/cpu.max": "400000 100000\n"})
    assert _threads.available_cpus(root) == 2


def test_no_proc_or_unreadable_values_mean_no_limit(tmp_path, eight_cores):
    assert _threads.cgroup_cpu_limit(tmp_path) is None  # macOS, Windows: nothing to read
    root = fake_root(tmp_path, "0::/\n", V2_MOUNT, {"sys/fs/cgroup/cpu.max": "lots\n"})
    assert _threads.cgroup_cpu_limit(root) is None
    assert _threads.available_cpus(root) == 8


def test_escaped_mount_point(tmp_path, eight_cores):
    mount = "30 23 0:26 / /sys/fs/my\\040cgroup rw - cgroup2 cgroup2 rw\n"
    root = fake_root(tmp_path, "0::/\n", mount, {"sys/fs/my cgroup/cpu.max": "100000 100000\n"})
    assert _threads.cgroup_cpu_limit(root) == 1.0



def test_busy_hint_only_when_the_load_is_near_the_cpus():
    assert _busy.busy_hint(1.4, 2, 2) is None  # 0.7 of the CPUs: still fine
    assert _busy.busy_hint(3.0, 2, 1) is None  # one thread already
    assert _busy.busy_hint(3.0, 2, 2, "PASSIVE") is None  # threads that do not spin
    hint = _busy.busy_hint(1.5, 2, 2)
    assert hint == ("note: this machine is busy (load average 1.5 over the last minute, 2 usable CPUs), "
                    "so training with 2 OpenMP threads may be many times slower; if it is, restart "
                    "Python or Jupyter with OMP_NUM_THREADS=1 set beforehand")
    assert "\n" not in hint


def test_training_prints_the_busy_hint_once_per_process(monkeypatch, capsys):
    import mxnet as mx
    import d2lrnn
    monkeypatch.setattr(_busy, "_busy_checked", False)
    monkeypatch.setattr(_busy, "available_cpus", lambda root="/": 2)
    monkeypatch.setattr(_mxnet_load, "_chosen", 2)  # as if MXNet had loaded with 2 threads
    monkeypatch.delenv("OMP_WAIT_POLICY")  # the tests' passive waiting would silence the hint
    monkeypatch.setattr(_busy.os, "getloadavg", lambda: (1.9, 1.0, 0.5))
    text = "the time traveller smiled. " * 20
    vocab = d2lrnn.Vocab(text)
    for _ in range(2):  # a notebook that trains twice
        model = d2lrnn.RNNModel(mx.gluon.rnn.GRU(8), len(vocab))
        d2lrnn.train_and_predict_rnn_gluon(model, 8, vocab[list(text)], vocab, mx.cpu(), 1, 10, 1.0,
                                           1.0, 4, ["the"], seed=0, verbose=False, progress=False,
                                           live_plot=False)
    err = capsys.readouterr().err
    assert err.count("note: this machine is busy (load average 1.9") == 1


def test_an_unusable_wait_policy_is_reported_where_training_reads_it(monkeypatch):
    monkeypatch.setattr(_busy, "_busy_checked", False)
    monkeypatch.setenv("OMP_WAIT_POLICY", "sleepy")
    with pytest.raises(EnvironmentVariableError, match="OMP_WAIT_POLICY='sleepy' is neither 'active' nor 'passive'"):
        _busy.hint_if_busy(getloadavg=lambda: (0.3, 0.3, 0.3))


def test_no_busy_hint_on_a_quiet_machine_or_without_getloadavg(monkeypatch, capsys):
    monkeypatch.setattr(_busy, "_busy_checked", False)
    monkeypatch.setattr(_busy, "available_cpus", lambda root="/": 2)
    monkeypatch.setattr(_mxnet_load, "_chosen", 2)
    assert _busy.hint_if_busy(getloadavg=lambda: (0.3, 0.3, 0.3)) is False
    # A quiet start is the answer for the process: the load after its own training is not asked.
    assert _busy.hint_if_busy(getloadavg=lambda: (2.2, 1.5, 0.8)) is False
    monkeypatch.setattr(_busy, "_busy_checked", False)
    monkeypatch.delattr(_busy.os, "getloadavg")  # Windows
    assert _busy.hint_if_busy() is False
    assert capsys.readouterr().err == ""
