"""How much a class on one JupyterHub server needs, per student: memory, CPU, time. Writes JSON.

Runs as root, with .ci/hub-setup's environment, a class like tests/hub's: JupyterHub from
deploy/hub/, an instructor and ``--students`` students (Unix users made for the run and
removed after it), everyone acting through their own server. It measures

- each single-user server's and each kernel's resident memory (RSS, the process and its
  children): idle (server started; kernel started with d2lrnn and MXNet imported) and
  the peak while all students train at once;
- the chapter's training run by every student at the same moment, in their own kernel:
  the chapter's code cells (notebooks/deep-rnn.ipynb) up to its training cell, as a lab runs
  them (the run that early stopping ends), or with ``num_epochs`` set to ``--epochs``; per
  student the wall time, the epochs trained and the CPU their kernel got (CPU seconds / wall
  seconds);
- the class's wall time (first kernel starts training to last one done);
- autograding time per submission: every student submits the solved ``deep-rnn-scratch``
  and ``gru-vs-lstm``; the instructor autogrades them one student at a time with
  ``D2LRNN_QUICK=1`` (as docs/teaching.md recommends).

The load average before the run is recorded: stored figures must come from an otherwise
idle machine (load average < 1 at the start).

    sudo .venv/bin/python scripts/hub_sizing.py --students 10 --out hub-sizing.json             # the lab's run
    sudo .venv/bin/python scripts/hub_sizing.py --students 2 --epochs 1 --out /tmp/try.json  # a try
"""
import argparse
import asyncio
import datetime
import importlib.util
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import psutil

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("hub_class", REPO / "tools" / "hub_class.py")
hub_class = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hub_class)

INSTRUCTOR = "d2lsize-teacher"
ASSIGNMENTS = ("deep-rnn-scratch", "gru-vs-lstm")
SAMPLE_EVERY = 0.5  # seconds between memory and CPU samples


def chapter_code(num_epochs=None):
    """The chapter's code cells up to its training, one string per cell; with ``num_epochs``, that
    setting replaced (and the sampled epochs cut to it)."""
    nb = nbformat.read(REPO / "notebooks" / "deep-rnn.ipynb", as_version=4)
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cells.append(cell.source)
        if "train_and_predict_rnn_gluon(model" in cell.source:
            return cells
        if num_epochs is not None and re.search(r"^num_epochs, .*=", cell.source, flags=re.M):  # the settings
            cells.append(f"num_epochs = {num_epochs}  # hub_sizing.py: a shortened run\n"
                         "sample_epochs = [e for e in sample_epochs if e <= num_epochs]")
    raise RuntimeError("notebooks/deep-rnn.ipynb has no training cell `train_and_predict_rnn_gluon(model, ...)`")


class Sampler:
    """Polls, in a thread, the RSS and CPU time of every process of the given users, by server and kernel."""

    def __init__(self, uids):
        self.uids = uids  # name -> uid
        self.peak = {}  # (name, 'server' | 'kernel') -> peak RSS in bytes
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def roles(uid):
        """{'server': bytes, 'kernel': bytes}: the RSS of a user's server and of their kernels, now."""
        rss = {"server": 0, "kernel": 0}
        for proc in psutil.process_iter(["uids", "cmdline", "memory_info"]):
            info = proc.info
            if not info["uids"] or info["uids"].real != uid or not info["memory_info"]:
                continue
            cmd = " ".join(info["cmdline"] or [])
            role = "kernel" if "ipykernel" in cmd else "server" if "jupyterhub-singleuser" in cmd else None
            if role:
                rss[role] += info["memory_info"].rss
        return rss

    def _run(self):
        while not self._stop.is_set():
            for name, uid in self.uids.items():
                for role, rss in self.roles(uid).items():
                    self.peak[(name, role)] = max(self.peak.get((name, role), 0), rss)
            self._stop.wait(SAMPLE_EVERY)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def cpu_seconds(uid):
    """CPU seconds (user + system) used so far by a user's kernels."""
    total = 0.0
    for proc in psutil.process_iter(["uids", "cmdline", "cpu_times"]):
        info = proc.info
        if info["uids"] and info["uids"].real == uid and "ipykernel" in " ".join(info["cmdline"] or []):
            total += info["cpu_times"].user + info["cpu_times"].system
    return total


def recommended(per_student):
    """The single-user guarantees and limits that follow from the figures (docs/teaching.md, "Measured sizing").

    Memory guarantee: the largest idle server plus the largest kernel peak; memory limit: that
    with 50 % headroom; both rounded up to 256 MiB. CPU limit 1 (one OpenMP thread each);
    CPU guarantee the smallest share a kernel got while the whole class trained, rounded
    down to 0.05 (at least 0.05).
    """
    def round_up(mib_value):
        return int(-(-mib_value // 256) * 256)
    need = max(s["server_idle_mib"] for s in per_student.values()) + \
        max(s["kernel_peak_mib"] for s in per_student.values())
    share = min(s["cpu_share"] for s in per_student.values())
    return {"memory": {"guarantee": f"{round_up(need)}M", "limit": f"{round_up(1.5 * need)}M"},
            "cpu": {"guarantee": round(max(1, int(share * 20)) / 20, 2), "limit": 1}}


def mib(n):
    return round(n / 2**20, 1)


def summary(values):
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


async def student_trains(server, cells, uid, barrier):
    async with server.kernel() as k:
        await k.run("import d2lrnn, mxnet")
        idle = Sampler.roles(uid)
        await barrier.wait()
        cpu0, t0 = cpu_seconds(uid), time.monotonic()
        for code in cells:
            await k.run(code)
        wall = time.monotonic() - t0
        cpu = cpu_seconds(uid) - cpu0
        epochs = int(await k.run("print(len(history))"))
        return {"idle": idle, "wall_s": wall, "cpu_s": cpu, "epochs": epochs, "start": t0, "end": t0 + wall}


async def measure(hub, users, students, num_epochs):
    names = [INSTRUCTOR, *students]
    servers = await hub_class.class_servers(hub, names)
    idle_servers = {n: Sampler.roles(users[n].pw_uid)["server"] for n in students}
    cells = chapter_code(num_epochs)
    barrier = asyncio.Barrier(len(students))
    with Sampler({n: users[n].pw_uid for n in students}) as sampler:
        runs = await asyncio.gather(*(student_trains(servers[n], cells, users[n].pw_uid, barrier) for n in students))
    per_student = {}
    for name, run in zip(students, runs):
        per_student[name] = {
            "server_idle_mib": mib(idle_servers[name]), "server_peak_mib": mib(sampler.peak[(name, "server")]),
            "kernel_idle_mib": mib(run["idle"]["kernel"]), "kernel_peak_mib": mib(sampler.peak[(name, "kernel")]),
            "train_wall_s": round(run["wall_s"], 1), "epochs": run["epochs"], "cpu_s": round(run["cpu_s"], 1),
            "cpu_share": round(run["cpu_s"] / run["wall_s"], 3)}
    class_wall = max(r["end"] for r in runs) - min(r["start"] for r in runs)

    # Autograding: everyone hands in the solved exercises; the instructor grades one submission at a time.
    teacher = servers[INSTRUCTOR]
    await hub_class.instructor_releases(teacher, ASSIGNMENTS)
    for name in students:
        for a in ASSIGNMENTS:
            await servers[name].nbgrader("fetch", a)
            release = await servers[name].read_notebook(f"{a}/{a}.ipynb")
            await servers[name].write_notebook(f"{a}/{a}.ipynb", hub_class.solved(release, hub_class.source(a)))
            await servers[name].nbgrader("submit", a)
    grading = {a: [] for a in ASSIGNMENTS}
    async with teacher.kernel("course") as k:
        await k.run(hub_class.NBGRADER)
        await k.run("import os; os.environ['D2LRNN_QUICK'] = '1'")  # the autograder's short runs
        for a in ASSIGNMENTS:
            await k.run(f"nbgrader('collect', {a!r})")
            for name in students:
                start = time.monotonic()
                await k.run(f"nbgrader('autograde', {a!r}, '--student', {name!r})")
                grading[a].append(round(time.monotonic() - start, 1))
    return {
        "recommended": recommended(per_student),
        "per_student": per_student,
        "summary": {key: summary([s[key] for s in per_student.values()])
                    for key in next(iter(per_student.values()))},
        "class_train_wall_s": round(class_wall, 1),
        "autograde_s_per_submission": {a: summary(t) | {"all": t} for a, t in grading.items()},
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=10, help="number of students (default 10)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs of the chapter's training per student (default: the chapter's run as a lab runs "
                             "it, which early stopping ends)")
    parser.add_argument("--out", required=True, help="the JSON file to write")
    args = parser.parse_args(argv)
    if args.students < 1 or (args.epochs is not None and args.epochs < 1):
        sys.exit("error: --students and --epochs must be at least 1")
    if os.geteuid() != 0:
        sys.exit("error: hub_sizing.py creates Unix users and starts JupyterHub: run it as root")
    if not hub_class.HUB_PYTHON.is_file():
        sys.exit(f"error: {hub_class.HUB_PYTHON} is missing: run .ci/hub-setup first")
    data_dir = os.environ.get("D2LRNN_DATA_DIR")
    if not data_dir or not (Path(data_dir) / "timemachine.txt").is_file():
        sys.exit("error: set D2LRNN_DATA_DIR to a folder with timemachine.txt (for example ../shared/data)")
    os.environ.pop("D2LRNN_QUICK", None)  # the students train for real
    load_at_start = os.getloadavg()
    students = [f"d2lsize-s{i}" for i in range(1, args.students + 1)]
    root = Path(tempfile.mkdtemp(prefix="d2lrnn-sizing-"))
    try:
        shutil.copytree(data_dir, root / "data")
        subprocess.run(["chmod", "-R", "a+rX", str(root)], check=True)  # every user reads the data
        with hub_class.unix_users([INSTRUCTOR, *students]) as users:
            with hub_class.Hub(root, [INSTRUCTOR], env={"D2LRNN_DATA_DIR": str(root / "data")}) as hub:
                started = time.monotonic()
                figures = asyncio.run(measure(hub, users, students, args.epochs))
                figures["run_wall_s"] = round(time.monotonic() - started, 1)
    finally:
        shutil.rmtree(root)
    record = {
        "what": "scripts/hub_sizing.py: a class on one JupyterHub server (deploy/hub/), per student",
        "students": args.students, "epochs": args.epochs,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
                    "platform": platform.platform(), "load_average_at_start": load_at_start},
        **figures,
    }
    Path(args.out).write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps({"summary": record["summary"], "recommended": record["recommended"]}, indent=1))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
