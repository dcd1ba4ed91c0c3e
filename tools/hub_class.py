"""A class on JupyterHub, for tests/hub and scripts/hub_sizing.py: Unix users, the hub from deploy/hub/, each user's server as a client.

``unix_users(names)`` creates the users (refusing names that exist) and removes them, with
every process they still run, however the test ends. ``Hub`` starts JupyterHub from the
repository's configuration in a temporary root (its state, the exchange, a copy of
deploy/hub/) and stops it, and the proxy and servers it started, by process id.
``UserServer`` is what one user does through their own server with their own token: files
(the contents API), notebooks run in their own kernel (the kernels API and its websocket),
and nbgrader's assignment list (fetch, submit, fetch feedback). ``class_servers`` logs a
class in and starts their servers; ``instructor_releases`` is the instructor's first step.
Root only (it creates users and starts the hub as root, as a class's server does).
"""
import asyncio
import base64
import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import nbformat
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

REPO = Path(__file__).resolve().parent.parent
PREFIX = Path(os.environ.get("D2LRNN_HUB_PREFIX", "/opt/d2lrnn-hub"))
HUB_PYTHON = PREFIX / "venv" / "bin" / "python"


def _free_port_block(count=3):
    """A port p with p .. p+count-1 free on 127.0.0.1 (the hub, its internal API, the proxy's API)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + count > 65535:
            continue
        ok = True
        for p in range(port, port + count):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", p))
                except OSError:
                    ok = False
        if ok:
            return port
    raise RuntimeError("no block of free ports on 127.0.0.1")


def _pids_of(uid):
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if entry.stat().st_uid == uid:
                    pids.append(int(entry.name))
    return pids


def _kill_pids(pids, timeout=10):
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while pids and time.monotonic() < deadline:
        pids = [p for p in pids if Path(f"/proc/{p}").exists()]
        time.sleep(0.2)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def unix_users(names):
    """Create Unix users ``names`` (homes readable by their owner only); remove them and their processes afterwards."""
    existing = [n for n in names if _exists(n)]
    if existing:
        raise RuntimeError(f"users {existing} already exist: the test creates its own users and "
                           "never touches others; remove them (userdel -r) if a crashed run left them")
    created = []
    try:
        for name in names:
            subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", name], check=True)
            created.append(name)
            home = Path(pwd.getpwnam(name).pw_dir)
            os.chmod(home, 0o700)
        yield {n: pwd.getpwnam(n) for n in names}
    finally:
        for name in created:
            _kill_pids(_pids_of(pwd.getpwnam(name).pw_uid))
            subprocess.run(["userdel", "--remove", name], capture_output=True)


def _exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


class Hub:
    """JupyterHub from deploy/hub/jupyterhub_config.py on 127.0.0.1, in a temporary root."""

    def __init__(self, root, instructors, env=None):
        self.root = Path(root)
        self.port = _free_port_block()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = secrets.token_hex(32)
        self.exchange = self.root / "exchange"
        self.state = self.root / "state"
        self.log_path = self.root / "jupyterhub.log"
        self.instructors = instructors
        self.extra_env = env or {}
        self.process = None

    def __enter__(self):
        os.chmod(self.root, 0o755)
        shutil.copytree(REPO / "deploy" / "hub", self.root / "hub")
        subprocess.run(["chmod", "-R", "a+rX", str(self.root / "hub")], check=True)
        self.state.mkdir(mode=0o700)
        self.exchange.mkdir()
        os.chmod(self.exchange, 0o777)  # as docs/teaching.md says: writable by everyone
        env = dict(os.environ, D2LRNN_HUB_STATE=str(self.state), D2LRNN_EXCHANGE=str(self.exchange),
                   D2LRNN_HUB_PORT=str(self.port), D2LRNN_HUB_API_TOKEN=self.token,
                   D2LRNN_HUB_INSTRUCTORS=",".join(self.instructors), **self.extra_env)
        for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
            env.pop(name, None)  # all on loopback; the test's dead proxy must not reach the hub
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [str(HUB_PYTHON), "-m", "jupyterhub", "-f", str(self.root / "hub" / "jupyterhub_config.py")],
            cwd=self.state, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait_ready(120)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyterhub exited ({self.process.returncode}):\n{self.log()}")
            try:
                asyncio.run(self.api("GET", "/hub/api/"))
                return
            except (OSError, HTTPClientError):
                time.sleep(0.5)
        raise RuntimeError(f"jupyterhub did not answer within {timeout} s:\n{self.log()}")

    def log(self):
        return self.log_path.read_text(errors="replace")[-6000:]

    def __exit__(self, *exc):
        if self.process is not None and self.process.poll() is None:
            # SIGTERM: the hub stops the servers it started (cleanup_servers) and its proxy.
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        proxy_pid = self.state / "jupyterhub-proxy.pid"
        if proxy_pid.exists():  # a proxy the hub left running
            with contextlib.suppress(ValueError):
                pid = int(proxy_pid.read_text())
                if Path(f"/proc/{pid}").exists() and b"configurable-http-proxy" in \
                        Path(f"/proc/{pid}/cmdline").read_bytes():
                    _kill_pids([pid])
        if not self._log.closed:
            self._log.close()

    async def api(self, method, path, token=None, body=None, raise_error=True):
        """``(status, decoded JSON or text)`` of a request to the hub's address with ``token`` (default: the service's)."""
        return await request(self.url + path, token or self.token, method, body, raise_error)


async def request(url, token, method="GET", body=None, raise_error=True, timeout=300):
    headers = {"Authorization": f"token {token}"}
    data = None
    if body is not None:
        data = json.dumps(body)
        headers["Content-Type"] = "application/json"
    elif method in ("POST", "PUT", "PATCH"):
        data = ""
    req = HTTPRequest(url, method=method, headers=headers, body=data, request_timeout=timeout,
                      follow_redirects=False)
    response = await AsyncHTTPClient().fetch(req, raise_error=raise_error)
    text = response.body.decode() if response.body else ""
    try:
        return response.code, json.loads(text) if text else None
    except json.JSONDecodeError:
        return response.code, text


class UserServer:
    """One user's single-user server, reached through the hub's proxy with that user's own token."""

    def __init__(self, hub, name, token):
        self.hub, self.name, self.token = hub, name, token
        self.url = f"{hub.url}/user/{name}"

    async def start(self, timeout=300):
        code, _ = await self.hub.api("POST", f"/hub/api/users/{self.name}/server", token=self.token)
        assert code in (201, 202), code
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _, user = await self.hub.api("GET", f"/hub/api/users/{self.name}", token=self.token)
            if user["servers"].get("", {}).get("ready"):
                return
            await asyncio.sleep(1)
        raise RuntimeError(f"{self.name}'s server did not start in {timeout} s:\n{self.hub.log()}")

    async def get(self, path, **kw):
        return await request(f"{self.url}{path}", self.token, "GET", **kw)

    async def write_file(self, path, data):
        """Upload the bytes ``data`` to ``path`` (relative to the home), through the contents API."""
        await self.put(f"/api/contents/{quote(path)}", {"type": "file", "format": "base64",
                                                         "content": base64.b64encode(data).decode()})

    async def exists(self, path):
        code, _ = await self.get(f"/api/contents/{quote(path)}?content=0", raise_error=False)
        return code == 200

    async def read_file(self, path):
        """The text of the file at ``path`` (relative to the home), through the contents API."""
        _, model = await self.get(f"/api/contents/{quote(path)}?content=1&type=file&format=text")
        return model["content"]

    async def post(self, path, body=None, **kw):
        return await request(f"{self.url}{path}", self.token, "POST", body, **kw)

    async def put(self, path, body):
        return await request(f"{self.url}{path}", self.token, "PUT", body)

    async def read_notebook(self, path):
        _, model = await self.get(f"/api/contents/{quote(path)}?content=1&type=notebook")
        return nbformat.from_dict(model["content"])

    async def write_notebook(self, path, nb):
        await request(f"{self.url}/api/contents/{quote(path)}", self.token, "PUT",
                      {"type": "notebook", "format": "json", "content": nb})

    async def nbgrader(self, action, assignment):
        """nbgrader's assignment list in this server: ``fetch``, ``submit`` or ``fetch_feedback``;
        its answer, ``{"success": ..., "value": the assignments or the error}``."""
        _, listed = await self.post(f"/assignments/{action}",
                                    {"course_id": "d2lrnn", "assignment_id": assignment})
        return listed

    @contextlib.asynccontextmanager
    async def kernel(self, cwd=""):
        """A kernel of this server (working directory ``cwd``, relative to the home); yields a ``Kernel``."""
        _, session = await self.post("/api/sessions", {"path": f"{cwd}/run-{uuid.uuid4().hex[:8]}",
                                                       "type": "console", "kernel": {"name": "python3"}})
        kernel_id = session["kernel"]["id"]
        ws_url = self.url.replace("http://", "ws://") + f"/api/kernels/{kernel_id}/channels"
        ws = await websocket_connect(HTTPRequest(ws_url, headers={"Authorization": f"token {self.token}"}),
                                     max_message_size=64 * 1024 * 1024)
        try:
            yield Kernel(ws, kernel_id)
        finally:
            ws.close()
            await request(f"{self.url}/api/sessions/{session['id']}", self.token, "DELETE",
                          raise_error=False)


class Kernel:
    """Runs code in a kernel over its websocket, as JupyterLab does, and collects the outputs."""

    def __init__(self, ws, kernel_id):
        self.ws, self.id, self.session = ws, kernel_id, uuid.uuid4().hex

    async def execute(self, code, timeout=600):
        """``(outputs, error)`` of running ``code``: nbformat outputs, and the error output or None."""
        msg_id = uuid.uuid4().hex
        await self.ws.write_message(json.dumps({
            "header": {"msg_id": msg_id, "username": "", "session": self.session, "date": "",
                       "msg_type": "execute_request", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}}))
        outputs, error, count, idle, replied = [], None, None, False, False
        deadline = time.monotonic() + timeout
        while not (idle and replied):
            raw = await asyncio.wait_for(self.ws.read_message(), max(1, deadline - time.monotonic()))
            if raw is None:
                raise RuntimeError("the kernel's websocket closed")
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if msg["channel"] == "shell" and kind == "execute_reply":
                replied, count = True, msg["content"].get("execution_count")
            elif kind == "status":
                idle = msg["content"]["execution_state"] == "idle"
            elif kind in ("stream", "display_data", "execute_result", "error"):
                output = nbformat.v4.output_from_msg(msg)
                outputs.append(output)
                if kind == "error":
                    error = output
        return outputs, error, count

    async def run_notebook(self, nb):
        """Run All, as in JupyterLab: every code cell in order, stopping at an error unless the
        cell is tagged ``raises-exception``; the notebook with its outputs."""
        nb = nbformat.from_dict(nb)
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            cell.outputs, error, cell.execution_count = await self.execute(cell.source)
            if error is not None and "raises-exception" not in cell.metadata.get("tags", []):
                break
        return nb

    async def run(self, code):
        """The text the code prints; raise with the traceback when it fails."""
        outputs, error, _ = await self.execute(code)
        if error is not None:
            raise RuntimeError("\n".join(error.traceback))
        return "".join(o.get("text", "") for o in outputs if o.output_type == "stream")


def source(assignment):
    """The instructor's source notebook of ``assignment`` (course/source/), solutions included."""
    return nbformat.read(REPO / "course" / "source" / assignment / f"{assignment}.ipynb", as_version=4)


def solved(release, source_nb):
    """The released notebook with every solution cell written as the source's solution."""
    nb = nbformat.from_dict(release)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source_nb.cells if "nbgrader" in c.metadata}
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = answers[cell.metadata["nbgrader"]["grade_id"]]
    return nb


async def class_servers(hub, names):
    """Add the users to the hub, give each an API token of their own, start their servers; ``{name: UserServer}``."""
    await hub.api("POST", "/hub/api/users", body={"usernames": list(names)})
    servers = {}
    for name in names:
        _, made = await hub.api("POST", f"/hub/api/users/{name}/tokens", body={"note": "d2lrnn class"})
        servers[name] = UserServer(hub, name, made["token"])
    await asyncio.gather(*(s.start() for s in servers.values()))
    return servers


# In the instructor's kernel: nbgrader('collect', 'deep-rnn-scratch') and so on, from the course folder.
NBGRADER = """
import json, subprocess, sys
def nbgrader(*args):
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"nbgrader {args} failed:\\n{done.stdout[-3000:]}\\n{done.stderr[-3000:]}")
"""


async def instructor_releases(teacher, assignments):
    """The course, from the repository, into the instructor's home (~/course); generate and release ``assignments``."""
    course = REPO / "course"
    files = [course / "nbgrader_config.py"] + [p for a in assignments
                                               for p in sorted((course / "source" / a).rglob("*")) if p.is_file()]
    folders = {p.parent.relative_to(REPO).as_posix() for p in files} | {"course/source"}
    for folder in sorted(folders, key=len):
        await teacher.put(f"/api/contents/{folder}", {"type": "directory"})
    for path in files:
        await teacher.write_file(path.relative_to(REPO).as_posix(), path.read_bytes())
    async with teacher.kernel("course") as k:
        await k.run(NBGRADER)
        for a in assignments:
            await k.run(f"nbgrader('generate_assignment', {a!r}); nbgrader('release_assignment', {a!r})")
