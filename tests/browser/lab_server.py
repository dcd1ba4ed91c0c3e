"""JupyterLab on 127.0.0.1 with a random token, over a folder, for the browser test.

It is started as the README says (``JUPYTER_CONFIG_PATH`` naming the repository's
``jupyter-config/``), with its own configuration, settings and workspaces in a temporary
folder, so the user's ``~/.jupyter`` is neither read nor written.
"""
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """``with LabServer(root, home) as lab:`` starts ``jupyter lab``; ``lab.url(path)`` adds the token."""

    def __init__(self, root_dir, home, log_path, config_path, user_settings=None,
                 startup_timeout=180):
        """``user_settings`` maps a plugin id such as ``'@jupyterlab/notebook-extension:tracker'``
        to the settings a user would have chosen in JupyterLab's settings editor."""
        self.root_dir, self.home = Path(root_dir), Path(home)
        self.config_path = Path(config_path)
        self.user_settings = user_settings or {}
        self.log_path = Path(log_path)
        self.startup_timeout = startup_timeout
        self.port, self.token = _free_port(), secrets.token_hex(16)
        self.process = None

    def _env(self):
        env = dict(os.environ)
        for name, sub in [("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                          ("JUPYTER_RUNTIME_DIR", "runtime"),
                          ("JUPYTERLAB_SETTINGS_DIR", "lab-settings"),
                          ("JUPYTERLAB_WORKSPACES_DIR", "lab-workspaces")]:
            (self.home / sub).mkdir(parents=True, exist_ok=True)
            env[name] = str(self.home / sub)
        env["JUPYTER_CONFIG_PATH"] = str(self.config_path)
        for plugin, values in self.user_settings.items():
            package, name = plugin.split(":")
            path = self.home / "lab-settings" / package / f"{name}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        return env

    def command(self):
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
               f"--port={self.port}", "--port-retries=0", f"--IdentityProvider.token={self.token}",
               f"--ServerApp.root_dir={self.root_dir}"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        return cmd

    def url(self, path=""):
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def _ready(self):
        request = urllib.request.Request(self.url("api/status"),
                                         headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def __enter__(self):
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(self.command(), cwd=self.root_dir, env=self._env(),
                                        stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.startup_timeout
        while not self._ready():
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with status {self.process.returncode}; "
                                   f"its log: {self.log_path}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"jupyter lab did not answer within {self.startup_timeout} s; "
                                   f"its log: {self.log_path}")
            time.sleep(0.5)
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()
        return False
