"""Shared test set-up: offline data, the short notebook schedule, a loopback HTTP server, no network.

Tests never use the network, by construction:
- When ``$D2LRNN_DATA_DIR`` is unset and the offline copies in ``../shared/data`` (beside the
  repository) exist, the loader is pointed there; the notebooks that nbval runs and the
  command-line tests' subprocesses inherit these settings.
- Every process the tests start sends HTTP(S) through a proxy address where nothing
  listens (loopback excepted), so a download that the offline data does not cover fails at
  once with the loader's message naming where the file must be put; inside the test process
  itself, a guard refuses any socket connection that is not to this machine.
"""
import http.server
import ipaddress
import os
import socket
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"

os.environ.setdefault("D2LRNN_QUICK", "1")
# On a machine shared with other jobs, OpenMP threads that spin while waiting for each
# other made the tests 5-10 times slower; passive waiting changes no result. It must be
# set before MXNet (and its OpenMP runtime) loads, here and in the notebook kernels.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")
if not os.environ.get("D2LRNN_DATA_DIR") and (SHARED_DATA / "timemachine.txt").is_file():
    os.environ["D2LRNN_DATA_DIR"] = str(SHARED_DATA)

# urllib (the loader's downloads) honours these in this process and every child process.
for _name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
    os.environ[_name] = "http://127.0.0.1:9"  # the discard port: nothing listens there
os.environ["no_proxy"] = os.environ["NO_PROXY"] = "127.0.0.1,localhost,::1"

import d2lrnn  # noqa: E402  (after the environment is set)
import course  # noqa: E402
from tiny import TEXT  # noqa: E402


def _local(address):
    if not isinstance(address, tuple):  # AF_UNIX paths
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# Everything collected from these is slow (see pyproject.toml's markers): nbval's notebook
# executions, the browser test, nbgrader's end-to-end grading. Slow tests elsewhere carry
# @pytest.mark.slow themselves.
SLOW_PATHS = (REPO / "notebooks", REPO / "tests" / "browser", REPO / "tests" / "test_grading.py")


# What can differ by Python, run on every Python by CI (`-m "not slow or per_python"` with the
# fast tier; see .ci/run): the start-up hook and the NumPy names, the environment's handling,
# NumPy 1 against 2 in one environment, the stand-in hosted runtime (on 3.12 and 3.13 only) and
# the chapter's notebook.
PER_PYTHON_PATHS = (REPO / "tests" / "test_compat.py", REPO / "tests" / "test_lazy_import.py",
                    REPO / "tests" / "test_environment.py", REPO / "tests" / "test_existing_environment.py",
                    REPO / "tests" / "test_hosted_runtime.py", REPO / "notebooks" / "deep-rnn.ipynb")


def _under(path, paths):
    return any(path == p or p in path.parents for p in paths)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _under(item.path, SLOW_PATHS):
            item.add_marker(pytest.mark.slow)
        if _under(item.path, PER_PYTHON_PATHS):
            item.add_marker(pytest.mark.per_python)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Refuse socket connections to anything but this machine, naming the offline data."""
    real_connect = socket.socket.connect

    def connect(sock, address):
        if not _local(address):
            raise OSError(f"tests do not use the network (tried {address}); put the offline data in "
                          f"{SHARED_DATA} or set D2LRNN_DATA_DIR to a directory that holds it")
        return real_connect(sock, address)
    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture(scope="session")
def tiny_data():
    """``(corpus_indices, vocab)`` of the tests' short text (see tiny.py)."""
    vocab = d2lrnn.Vocab(TEXT)
    return vocab[list(TEXT)], vocab


@pytest.fixture(scope="session")
def generated_course(tmp_path_factory):
    """The course with every assignment generated once (see course.py): ``.course``, ``.env``, ``.written``."""
    before = course.repo_state()
    yield course.make_generated_course(tmp_path_factory.mktemp("course"))
    assert course.repo_state() == before, "generating or grading wrote into the repository"


@pytest.fixture(scope="session")
def graded(generated_course):
    """The course after autograding and feedback of the deep-rnn-scratch submissions (course.grade_scratch); its folder."""
    before = course.repo_state()
    course.grade_scratch(generated_course.course, generated_course.env)
    yield generated_course.course
    assert course.repo_state() == before, "grading wrote into the repository"


@pytest.fixture(scope="session")
def graded_comparisons(generated_course):
    """The course after autograding and feedback of the open-ended exercises (course.grade_comparisons); its folder."""
    before = course.repo_state()
    course.grade_comparisons(generated_course.course, generated_course.env)
    yield generated_course.course
    assert course.repo_state() == before, "grading wrote into the repository"


@pytest.fixture(scope="session")
def timemachine_bytes():
    """The verified bytes of timemachine.txt, from the configured data directory."""
    return d2lrnn.fetch(d2lrnn.TIME_MACHINE).read_bytes()


class _Handler(http.server.BaseHTTPRequestHandler):
    routes = {}  # path -> (status, body bytes, extra behaviour)

    def do_GET(self):  # noqa: N802 (http.server's naming)
        status, body, mode = self.routes.get(self.path, (404, b"not found", None))
        self.send_response(status)
        # 'truncate' announces the full length, sends half and hangs up.
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "truncate":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if mode == "stall":
            self.server.stop_stalling.wait(10)
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class LoopbackServer:
    """Serves byte strings at paths on 127.0.0.1; ``url(path)`` builds the address."""

    def __init__(self):
        handler = type("Handler", (_Handler,), {"routes": {}})
        self.routes = handler.routes
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.stop_stalling = threading.Event()
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, path, body, status=200, mode=None):
        self.routes[path] = (status, body, mode)
        return self.url(path)

    def url(self, path):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self):
        self.httpd.stop_stalling.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = LoopbackServer()
    yield s
    s.close()
