"""A class on a real JupyterHub: release, fetch, work, submit, collect, autograde, feedback.

JupyterHub (deploy/hub/jupyterhub_config.py, on 127.0.0.1) with configurable-http-proxy
and the local process spawner gives an instructor and five students, real Unix users made
for the test, each their own single-user server. Everyone acts only through their own
server with their own API token: the instructor copies the course into their home and
runs nbgrader in their kernel to release `deep-rnn-scratch` and `gru-vs-lstm` to an
exchange in a temporary folder; each student fetches both with nbgrader's assignment list
in their server, fills them in (solved, with a known mistake, or untouched), runs them in
their own kernel as Run All would, and submits; the instructor collects, autogrades
(D2LRNN_QUICK=1), makes and releases feedback, and the students fetch it. The tests then
check every score, that every submission arrived unaltered, and that a student can reach
neither another student's server nor their files, the other submissions or the
instructor's course.

The machinery is tools/hub_class.py's. Needs root and .ci/hub-setup's environment; ``D2LRNN_HUB_TEST=1`` turns it on (.ci/run
sets it for one Python). About 5 minutes on 2 cores. Everything it starts is stopped and
the users it made are removed, also when it fails.
"""
import asyncio
import importlib.util
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from course import COMPARISONS, GATES_MISTAKE, STATE_MISTAKE, with_mistake
from tiny import REPO


def _load(name):
    """A module of tools/ (a folder of scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(name, REPO / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hub_class = _load("hub_class")
HUB_PYTHON, Hub, NBGRADER, request = hub_class.HUB_PYTHON, hub_class.Hub, hub_class.NBGRADER, hub_class.request

SCRATCH, COMPARISON = "deep-rnn-scratch", "gru-vs-lstm"
INSTRUCTOR = "d2lhub-teacher"
# What each student hands in, as (deep-rnn-scratch, gru-vs-lstm), and the scores to expect.
# The last one hands deep-rnn-scratch in twice; the second submission is the one graded.
PLANS = {
    "d2lhub-s1": (("solved",), "solved"),
    "d2lhub-s2": (("gates",), "solved"),
    "d2lhub-s3": (("state",), "untouched"),
    "d2lhub-s4": (("untouched",), "untouched"),
    "d2lhub-s5": (("gates", "solved"), "untouched"),
}
SCORES = {"solved": 10, "gates": 6, "state": 5, "untouched": 0}  # deep-rnn-scratch, of 10
COMPARISON_POINTS = COMPARISONS[COMPARISON]  # gru-vs-lstm's points, as the grading test counts them
COMPARISON_SCORES = {"solved": COMPARISON_POINTS, "untouched": 0}
CLASS_TIMEOUT = 900  # seconds for the whole class, from the first server's start to the last feedback

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hub_switch():
    if os.environ.get("D2LRNN_HUB_TEST") != "1":
        pytest.skip("D2LRNN_HUB_TEST=1 turns on the hub test (root and .ci/hub-setup needed; .ci/run sets it)")
    if os.geteuid() != 0:
        pytest.fail("D2LRNN_HUB_TEST=1 but not root: the hub test creates Unix users; run it as root")
    if not HUB_PYTHON.is_file():
        pytest.fail(f"D2LRNN_HUB_TEST=1 but {HUB_PYTHON} is missing: run .ci/hub-setup first")
    if not (Path(os.environ.get("D2LRNN_DATA_DIR", "")) / "timemachine.txt").is_file():
        pytest.fail("D2LRNN_HUB_TEST=1 but D2LRNN_DATA_DIR holds no timemachine.txt: the students' kernels "
                    "read the corpus from there (tests/conftest.py sets it to ../shared/data when that exists)")


def filled(release, assignment, plan):
    """The student's notebook: the released one, solved, solved with a known mistake, or untouched."""
    if plan == "untouched":
        return release
    right = hub_class.solved(release, hub_class.source(assignment))
    mistakes = {"gates": GATES_MISTAKE, "state": STATE_MISTAKE}
    return with_mistake(right, *mistakes[plan]) if plan in mistakes else right


def solutions(nb):
    """The student's answers: the source of every solution cell, by grade id."""
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution")}


GRADEBOOK = """
from nbgrader.api import Gradebook
found = {}
with Gradebook("sqlite:///gradebook.db") as gb:
    for a in %r:
        for s in %r:
            sub = gb.find_submission_notebook(a, a, s)
            found.setdefault(s, {})[a] = [sub.score, sub.max_score, {g.name: g.score for g in sub.grades}]
print(json.dumps(found))
"""

PROBE = """
import json, os
tried = {}
for what, path in %r.items():
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            open(path, "rb").read(1)
        tried[what] = "read"
    except PermissionError:
        tried[what] = "refused"
    except OSError as e:
        tried[what] = type(e).__name__
print(json.dumps(tried))
"""

KERNEL_TRANSPORT = """
import json
from ipykernel.connect import get_connection_info
print(json.dumps(get_connection_info(unpack=True)["transport"]))
"""


async def student_works(student, plan):
    """Fetch, fill in, Run All in the student's own kernel, submit; return what was submitted, by assignment."""
    handed_in = {}
    for a in (SCRATCH, COMPARISON):
        await student.nbgrader("fetch", a)
        handed_in[f"{a} carries the chapter"] = await student.exists(f"{a}/chapter/deep-rnn.md")
        path = f"{a}/{a}.ipynb"
        release = await student.read_notebook(path)
        versions = plan[0] if a == SCRATCH else (plan[1],)
        handed_in[a] = []
        for version in versions:
            nb = filled(release, a, version)
            async with student.kernel(a) as k:
                nb = await k.run_notebook(nb)
            await student.write_notebook(path, nb)
            listed = await student.nbgrader("submit", a)
            assert listed["success"], f"{student.name}: submit {a} failed: {listed['value']}"
            handed_in[a].append(solutions(nb))
            if len(versions) > 1:
                await asyncio.sleep(1.1)  # nbgrader's submissions are named by their time, to the second
    return handed_in


async def run_class(hub, users):
    record = {"times": {}}
    t0 = time.monotonic()
    servers = await hub_class.class_servers(hub, [INSTRUCTOR, *PLANS])
    record["times"]["servers started"] = time.monotonic() - t0
    teacher = servers[INSTRUCTOR]

    await hub_class.instructor_releases(teacher, (SCRATCH, COMPARISON))
    record["times"]["released"] = time.monotonic() - t0
    handed_in = await asyncio.gather(*(student_works(servers[n], plan) for n, plan in PLANS.items()))
    record["handed_in"] = dict(zip(PLANS, handed_in))
    record["times"]["submitted"] = time.monotonic() - t0

    async with teacher.kernel("course") as k:
        await k.run(NBGRADER)
        for a in (SCRATCH, COMPARISON):
            await k.run(f"nbgrader('collect', {a!r})")
            start = time.monotonic()
            await k.run(f"nbgrader('autograde', {a!r})")
            record["times"][f"autograde {a}"] = time.monotonic() - start
            await k.run(f"nbgrader('generate_feedback', {a!r}); nbgrader('release_feedback', {a!r})")
        record["grades"] = json.loads(await k.run(GRADEBOOK % ((SCRATCH, COMPARISON), list(PLANS))))
    record["collected"] = {
        s: {a: solutions(await teacher.read_notebook(f"course/submitted/{s}/{a}/{a}.ipynb"))
            for a in (SCRATCH, COMPARISON)} for s in PLANS}

    record["feedback"] = {}
    for name in PLANS:
        await servers[name].nbgrader("fetch_feedback", SCRATCH)
        _, folder = await servers[name].get(f"/api/contents/{SCRATCH}/feedback")
        stamps = [item["name"] for item in folder["content"]]
        record["feedback"][name] = await servers[name].read_file(f"{SCRATCH}/feedback/{max(stamps)}/{SCRATCH}.html")
    record["times"]["feedback fetched"] = time.monotonic() - t0

    record["access"] = await probe_access(hub, servers, users)
    return record


async def probe_access(hub, servers, users):
    """What one student's token and kernel reach of another's server, files and submissions, and of the instructor's."""
    me, other = "d2lhub-s1", "d2lhub-s2"
    token = servers[me].token
    inbound = hub.exchange / "d2lrnn" / "inbound"
    others_submission = next(p for p in inbound.glob(f"{other}+{SCRATCH}+*/{SCRATCH}.ipynb"))
    home = {n: users[n].pw_dir for n in users}
    paths = {
        "other's notebook": f"{home[other]}/{SCRATCH}/{SCRATCH}.ipynb",
        "other's home": home[other],
        "inbound listing": str(inbound),
        "feedback listing": str(hub.exchange / "d2lrnn" / "feedback"),
        "other's submission, by its full name": str(others_submission),
        "instructor's source": f"{home[INSTRUCTOR]}/course/source/{SCRATCH}/{SCRATCH}.ipynb",
        "instructor's gradebook": f"{home[INSTRUCTOR]}/course/gradebook.db",
        "own notebook": f"{home[me]}/{SCRATCH}/{SCRATCH}.ipynb",
    }
    async with servers[me].kernel() as k:
        files = json.loads(await k.run(PROBE % paths))
        transport = json.loads(await k.run(KERNEL_TRANSPORT))
    files["other's submission, name's random part"] = others_submission.parent.name.rsplit("+", 1)[1]
    statuses = {
        "other's server": (await request(f"{hub.url}/user/{other}/api/contents", token, raise_error=False))[0],
        "instructor's server": (await request(f"{hub.url}/user/{INSTRUCTOR}/api/contents", token,
                                              raise_error=False))[0],
        "start other's server": (await hub.api("POST", f"/hub/api/users/{other}/server", token=token,
                                               raise_error=False))[0],
        "other's tokens": (await hub.api("GET", f"/hub/api/users/{other}/tokens", token=token,
                                         raise_error=False))[0],
        "own server": (await servers[me].get("/api/contents", raise_error=False))[0],
        "formgrader, student": (await servers[me].get("/formgrader", raise_error=False))[0],
        "formgrader, instructor": (await servers[INSTRUCTOR].get("/formgrader", raise_error=False))[0],
    }
    return {"files": files, "http": statuses, "kernel transport": transport}


@pytest.fixture(scope="module")
def class_run(hub_switch):
    """The whole class, once; the record of what happened (times, grades, submissions, feedback, access)."""
    # Every user must enter the root (pytest's own temporary folders are root's only).
    root = Path(tempfile.mkdtemp(prefix="d2lrnn-hub-"))
    try:
        # The students' kernels read the corpus: a copy that every user can read.
        data = root / "data"
        shutil.copytree(os.environ["D2LRNN_DATA_DIR"], data)
        subprocess.run(["chmod", "-R", "a+rX", str(root)], check=True)
        with hub_class.unix_users([INSTRUCTOR, *PLANS]) as users:
            with Hub(root, [INSTRUCTOR], env={"D2LRNN_QUICK": "1", "D2LRNN_DATA_DIR": str(data)}) as hub:
                try:
                    record = asyncio.run(asyncio.wait_for(run_class(hub, users), CLASS_TIMEOUT))
                except BaseException as e:
                    raise RuntimeError(f"the class run failed ({e!r}); the hub's log ends:\n{hub.log()}") from e
                record["inbound"] = sorted("+".join(p.name.split("+")[:2])
                                           for p in (hub.exchange / "d2lrnn" / "inbound").iterdir())
    finally:
        shutil.rmtree(root)
    print(json.dumps(record["times"], indent=1))
    return record


def test_each_fetched_assignment_carries_the_chapter_it_links_to(class_run):
    for student in PLANS:
        assert all(class_run["handed_in"][student][f"{a} carries the chapter"] for a in (SCRATCH, COMPARISON))


def test_every_submission_arrived_once_per_hand_in(class_run):
    expected = sorted(f"{s}+{a}" for s, plan in PLANS.items()
                      for a, versions in ((SCRATCH, plan[0]), (COMPARISON, (plan[1],))) for _ in versions)
    assert class_run["inbound"] == expected


def test_the_instructor_collected_each_students_last_hand_in_unaltered(class_run):
    for student in PLANS:
        for a in (SCRATCH, COMPARISON):
            assert class_run["collected"][student][a] == class_run["handed_in"][student][a][-1], (student, a)
    # Two students' answers differ where their plans do: nothing was mixed up or overwritten.
    collected = class_run["collected"]
    assert collected["d2lhub-s1"][SCRATCH] != collected["d2lhub-s2"][SCRATCH]


@pytest.mark.parametrize("student", PLANS)
def test_every_score_is_what_the_hand_in_deserves(class_run, student):
    scratch_plan, comparison_plan = PLANS[student][0][-1], PLANS[student][1]
    grades = class_run["grades"][student]
    assert grades[SCRATCH][:2] == [SCORES[scratch_plan], 10], grades[SCRATCH]
    assert grades[COMPARISON][:2] == [COMPARISON_SCORES[comparison_plan], COMPARISON_POINTS], grades[COMPARISON]


def test_the_feedback_names_each_students_mistake(class_run):
    feedback = class_run["feedback"]
    assert "wrong gate order" in feedback["d2lhub-s2"] and "wrong gate order" not in feedback["d2lhub-s1"]
    assert "every layer starts from the bottom layer" in feedback["d2lhub-s3"]
    assert "not implemented yet" in feedback["d2lhub-s4"]
    assert "wrong gate order" not in feedback["d2lhub-s5"]  # the graded hand-in is the second, solved one


def test_a_student_reads_only_their_own_files(class_run):
    files = dict(class_run["access"]["files"])
    assert files.pop("own notebook") == "read"
    # nbgrader's exchange hides a submission rather than locking it: the instructor, another
    # Unix user, must read it, so the file is readable by all, but no student can list the
    # inbound folder and the folder's name ends in 9 random bytes (72 bits) that only the
    # submitter's own cache (in their home) records. Reading it needs that name.
    assert files.pop("other's submission, by its full name") == "read"
    assert len(files.pop("other's submission, name's random part")) == 12
    assert files == {what: "refused" for what in files}, files


def test_a_students_token_reaches_only_their_own_server(class_run):
    http = class_run["access"]["http"]
    assert http["own server"] == 200
    for what in ("other's server", "instructor's server", "start other's server", "other's tokens"):
        assert http[what] in (403, 404), (what, http[what])


def test_only_the_instructor_has_the_formgrader(class_run):
    http = class_run["access"]["http"]
    # The instructor's formgrader answers by sending the browser on to its assignments page.
    assert http["formgrader, student"] == 404 and http["formgrader, instructor"] in (200, 302), http


def test_kernels_talk_to_their_server_over_unix_sockets(class_run):
    # TCP ports on 127.0.0.1 are shared by every student's server: two kernels started at the
    # same moment can get the same port (deploy/hub/jupyterhub_config.py says what follows).
    assert class_run["access"]["kernel transport"] == "ipc"
