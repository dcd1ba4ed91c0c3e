"""d2lrnn added to an environment that already has NumPy 2 and JupyterLab, and the same numbers there.

The test builds such an environment (a JupyterHub image, in small): a new virtual
environment of this Python with NumPy 2.2.6 and JupyterLab, then runs the command that
docs/setup.md gives ("An environment you already have"), read from the page itself. NumPy
must still be 2.2.6 afterwards, and the chapter's model must train there. On Python 3.11
and 3.12 this environment has NumPy 1.26.4, so the same short seeded run in both compares
NumPy 1 with NumPy 2: the perplexities must agree to float32 rounding.

It installs from PyPI (the one test that does: what it checks is an installation), so it
is marked slow; uv's cache makes it take about a minute once the project is installed.
"""
import json
import os
import re
import shutil
import sys
from pathlib import Path

import numpy
import pytest

from tiny import project_uv, run_checked as _run

REPO = Path(__file__).resolve().parent.parent
HUB_NUMPY = "2.2.6"  # a NumPy 2 that is not our pin for any Python: it must stay as it is
HUB_JUPYTERLAB = "4.6.6"

pytestmark = pytest.mark.slow

# A short seeded run of the chapter's model (2-layer LSTM; fewer units and characters).
CHAPTER_RUN = """
import json, sys
import mxnet as mx
from mxnet.gluon import rnn
import d2lrnn as d2l
corpus_indices, vocab = d2l.load_data_time_machine(num_examples=3000)
mx.random.seed(0)
model = d2l.RNNModel(rnn.LSTM(64, num_layers=2), len(vocab))
history = d2l.train_and_predict_rnn_gluon(model, 64, corpus_indices, vocab, mx.cpu(), 4, 35, 5, 1, 8,
                                          ['time traveller'], seed=0, verbose=False)
import numpy
print(json.dumps({"numpy": numpy.__version__, "perplexity": history.perplexity}))
"""


def _docs_command():
    """The bash command of docs/setup.md's section "An environment you already have"."""
    text = (REPO / "docs" / "setup.md").read_text()
    section = text.split("## An environment you already have", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```bash\n(.*?)\n```", section, flags=re.S).group(1)


def _online_env(bin_dir):
    """This process's environment with ``bin_dir`` first on PATH and no proxy that blocks PyPI."""
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("http_proxy", "https_proxy", "no_proxy", "virtual_env")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    return env


@pytest.fixture(scope="module")
def hub_environment(tmp_path_factory):
    """A virtual environment with NumPy 2 and JupyterLab, to which the docs' command added d2lrnn."""
    uv = project_uv()
    root = tmp_path_factory.mktemp("hub")
    venv, src = root / "venv", root / "src"
    _run([sys.executable, "-m", "venv", str(venv)])
    env = _online_env(venv / "bin")
    # --no-config: not our pyproject's [tool.uv] overrides, which would pin NumPy as we do
    _run([str(uv), "pip", "install", "--no-config", "--python", str(venv / "bin" / "python"),
          f"numpy=={HUB_NUMPY}", f"jupyterlab=={HUB_JUPYTERLAB}"], env=env, cwd=root)
    # A copy of the clone's tracked files, so that the command's installed.txt lands there.
    tracked = _run(["git", "ls-files", "-z"], cwd=REPO).split("\0")
    for name in filter(None, tracked):
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, src / name)
    _run(["bash", "-c", f"set -euo pipefail; {_docs_command()}"], cwd=src, env=env)
    return venv / "bin" / "python", env


def test_the_docs_command_keeps_numpy_and_jupyterlab(hub_environment):
    python, env = hub_environment
    out = _run([str(python), "-c", "import numpy, jupyterlab, mxnet; "
                "print(numpy.__version__, jupyterlab.__version__, mxnet.__version__)"], env=env)
    assert out.split() == [HUB_NUMPY, HUB_JUPYTERLAB, "1.9.1"]


def test_same_perplexities_on_numpy_1_and_2(hub_environment):
    python, env = hub_environment
    there = json.loads(_run([str(python), "-c", CHAPTER_RUN], env=env))
    here = json.loads(_run([sys.executable, "-c", CHAPTER_RUN]))
    assert there["numpy"] == HUB_NUMPY and here["numpy"] == numpy.__version__
    assert len(there["perplexity"]) == len(here["perplexity"]) == 4
    assert here["perplexity"][-1] < here["perplexity"][0]  # it trained
    # float32 arithmetic in the same order: equal up to float32 rounding of the reported values
    assert there["perplexity"] == pytest.approx(here["perplexity"], rel=1e-5)
