"""JupyterHub for a class on one server: each student a Unix user with their own single-user server.

Run as root, from the virtual environment that ``.ci/hub-setup`` makes (an interpreter every
user can read): ``/opt/d2lrnn-hub/venv/bin/jupyterhub -f deploy/hub/jupyterhub_config.py``.
tests/hub/test_class.py starts it exactly so, for a whole class on 127.0.0.1. The settings
that differ between a class and the test come from the environment:

- ``D2LRNN_HUB_STATE``: folder for the hub's database, cookie secret and the students'
  nbgrader settings (default ``/srv/d2lrnn-hub``);
- ``D2LRNN_EXCHANGE``: nbgrader's exchange folder (default ``/srv/nbgrader/exchange``);
- ``D2LRNN_HUB_PORT``: the port of the hub's public address, on 127.0.0.1 (default 8000);
  put a TLS-terminating web server in front of it for a real class;
- ``D2LRNN_HUB_INSTRUCTORS``: the instructors' user names, comma-separated: only their
  servers get nbgrader's formgrader and *Create Assignment* (students get the assignment list);
- ``D2LRNN_HUB_API_TOKEN``: when set, a service ``class-admin`` with this token and the
  hub's admin role (the test's, or an instructor's script's, way in);
- ``D2LRNN_DATA_DIR``, ``D2LRNN_QUICK``: passed on to every single-user server;
- ``D2LRNN_HUB_PROXY``: configurable-http-proxy's command (default: the one .ci/hub-setup installs).

Students log in with their Unix password (PAM). The folder of this file must be readable by
every user: their servers read nbgrader's settings (course ``d2lrnn``, the exchange) from
``jupyter/`` beside it, and the students' servers also ``jupyter-students/``.
"""
import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (JupyterHub provides get_config)

state = Path(os.environ.get("D2LRNN_HUB_STATE", "/srv/d2lrnn-hub"))
exchange = os.environ.get("D2LRNN_EXCHANGE", "/srv/nbgrader/exchange")
instructors = set(filter(None, os.environ.get("D2LRNN_HUB_INSTRUCTORS", "").split(",")))
bin_dir = Path(sys.executable).parent  # the hub's virtual environment, also the students'

# Only on this machine's loopback: the hub, its proxy and every single-user server.
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = int(os.environ.get("D2LRNN_HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = c.JupyterHub.port + 1
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{c.JupyterHub.port + 2}"
c.ConfigurableHTTPProxy.command = [os.environ.get(
    "D2LRNN_HUB_PROXY", "/opt/d2lrnn-hub/node/node_modules/.bin/configurable-http-proxy")]
c.Spawner.ip = "127.0.0.1"

c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(state / "jupyterhub-proxy.pid")

c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allow_existing_users = True  # the users that the admin (or the service) adds

if os.environ.get("D2LRNN_HUB_API_TOKEN"):
    c.JupyterHub.services = [{"name": "class-admin", "api_token": os.environ["D2LRNN_HUB_API_TOKEN"]}]
    c.JupyterHub.load_roles = [{"name": "admin", "services": ["class-admin"]}]

# Each user's server: JupyterLab in their home, as their Unix user, from the hub's environment.
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(bin_dir / "jupyterhub-singleuser")]
# Kernels talk to their server over Unix sockets in the user's runtime folder, not TCP ports on
# 127.0.0.1: every server picks its kernels' ports on its own, so two students starting kernels
# at the same moment can pick the same port, and a server then reads another student's kernel
# ("Invalid Signature" in the log, a kernel that never answers; seen in the hub test).
c.Spawner.args = ["--KernelManager.transport=ipc"]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 180  # a busy machine starts MXNet-laden servers slowly
c.Spawner.http_timeout = 180
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every server it started

c.Spawner.environment = {
    "D2LRNN_EXCHANGE": exchange,
    "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",  # nbgrader runs alembic from PATH
    # Several students share the cores: one OpenMP thread each, waiting passively.
    "OMP_NUM_THREADS": "1",
    "OMP_WAIT_POLICY": "passive",
    **{name: os.environ[name] for name in ("D2LRNN_DATA_DIR", "D2LRNN_QUICK") if name in os.environ},
}


def jupyter_config_path(spawner):
    """nbgrader's settings for everyone (jupyter/), and for students the instructor's tools turned off (jupyter-students/)."""
    here = Path(__file__).resolve().parent
    folders = [here / "jupyter"] if spawner.user.name in instructors else [here / "jupyter-students", here / "jupyter"]
    spawner.environment = {**spawner.environment, "JUPYTER_CONFIG_PATH": os.pathsep.join(map(str, folders))}


c.Spawner.pre_spawn_hook = jupyter_config_path
