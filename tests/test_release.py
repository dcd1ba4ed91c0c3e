"""A release: built from the clone, checked, installed into a fresh environment and used there.

The slow tests do what docs/release.md says a release needs. ``python -m build`` (with the
``release`` extra's pinned tools, in an environment of their own) makes the sdist from a
copy of the clone's tracked files and then the wheel from that sdist, into a temporary
folder; ``twine check`` passes both. The wheel goes into a new virtual environment of this
Python by the command docs/release.md gives for it (plain pip on 3.11 and 3.12, uv with the
NumPy override on 3.13), and is used from a folder outside the clone with no PYTHONPATH:
``import mxnet`` as the first line (the start-up hook), ``python -m d2lrnn train`` for two
epochs, and the ``d2lrnn`` command's ``generate`` from that checkpoint. They also ask PyPI,
through pip, which computers have an MXNet 1.9.1 wheel, and compare with d2lrnn/env/_platforms.

They install from PyPI, so they are slow: 1½ to 3½ minutes on Python 3.11 or 3.12 (pip
downloads every package; the longer on a busy machine), about 1½ on 3.13 with uv's cache filled.
"""
import ast
import configparser
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from d2lrnn.env._platforms import route_for
from tiny import project_uv, run_checked as _run

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
RELEASE_MD = (REPO / "docs" / "release.md").read_text()
VERSION = re.search(r'^__version__ = "(.+)"$', (REPO / "d2lrnn" / "__init__.py").read_text(), re.M).group(1)
ON_3_13 = sys.version_info >= (3, 13)


def _pin(name):
    """The version pyproject.toml pins ``name`` to for this Python."""
    for line in PYPROJECT["project"]["dependencies"]:
        requirement = Requirement(line)
        if requirement.name == name and (requirement.marker is None or requirement.marker.evaluate()):
            return str(requirement.specifier).removeprefix("==")
    raise AssertionError(f"pyproject.toml pins no {name} for this Python")


def _install_commands():
    """docs/release.md's two install commands: ``(plain pip, uv with overrides)``."""
    section = RELEASE_MD.split("## Installing a release", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)\n```", section, flags=re.S)
    assert len(blocks) == 2 and "uv" not in blocks[0] and "--override" in blocks[1], blocks
    return blocks


def test_the_uv_command_overrides_numpy_as_pyproject_does():
    # The wheel does not carry [tool.uv]; the docs' file must hold the same overrides.
    written = re.search(r"printf '%s\\n' (.*?) > overrides\.txt", _install_commands()[1]).group(1)
    lines = re.findall(r'"([^"]+)"', written)
    assert [str(Requirement(line)) for line in lines] == \
        [str(Requirement(line)) for line in PYPROJECT["tool"]["uv"]["override-dependencies"]]


def test_every_package_folder_is_a_package():
    # [tool.setuptools.packages.find] takes folders with an __init__.py; any other is left out of the wheel.
    folders = {p.parent for p in (REPO / "d2lrnn").rglob("*.py") if "__pycache__" not in p.parts}
    assert [f for f in folders if not (f / "__init__.py").is_file()] == []


def test_a_new_version_number_does_not_fail_the_stored_outputs():
    # The notebooks' versions line names d2lrnn's version; nbval's sanitizers must hide it.
    config = configparser.ConfigParser()
    config.read(REPO / "tests" / "nbval_sanitize.cfg")
    rules = [(config[s]["regex"], config[s]["replace"]) for s in config.sections()]
    text = f"python 3.11, mxnet 1.9.1, numpy 1.26.4, d2lrnn {VERSION}\n"
    bumped = text.replace(VERSION, "12.0.1rc1")
    for regex, replace in rules:
        text, bumped = re.sub(regex, replace, text), re.sub(regex, replace, bumped)
    assert text == bumped


# ---- the slow part: build, install, use ----

def _online_env(**extra):
    """This process's environment without the tests' proxy (installs reach PyPI), PYTHONPATH or venv."""
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("http_proxy", "https_proxy", "no_proxy", "virtual_env", "pythonpath")}
    return {**env, **extra}


@pytest.fixture(scope="module")
def tools(tmp_path_factory):
    """An environment with the release extra's build and twine, at their pins."""
    uv = project_uv()
    venv = tmp_path_factory.mktemp("tools") / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    _run([str(uv), "pip", "install", "--no-config", "--python", str(venv / "bin" / "python"),
          *PYPROJECT["project"]["optional-dependencies"]["release"]], env=_online_env())
    return venv / "bin"


@pytest.fixture(scope="module")
def dist(tools, tmp_path_factory):
    """The sdist and the wheel that ``python -m build`` makes from the clone's tracked files."""
    root = tmp_path_factory.mktemp("release")
    src, out = root / "src", root / "dist"
    untracked = _run(["git", "ls-files", "--others", "--exclude-standard", "d2lrnn", "_d2lrnn_hook.py", "d2lrnn_hosted.py"], cwd=REPO)
    if untracked:
        pytest.fail(f"not tracked by git, so not in a release: {' '.join(untracked.split())}; git add them")
    tracked = _run(["git", "ls-files", "-z"], cwd=REPO).split("\0")
    for name in filter(None, tracked):
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, src / name)
    _run([str(tools / "python"), "-m", "build", "--outdir", str(out), str(src)], env=_online_env())
    return {"sdist": out / f"d2lrnn-{VERSION}.tar.gz", "wheel": out / f"d2lrnn-{VERSION}-py3-none-any.whl",
            "tracked": tracked}


@pytest.mark.slow
def test_both_files_carry_the_one_version_and_twine_passes_them(tools, dist):
    assert dist["sdist"].is_file() and dist["wheel"].is_file()
    assert sorted(p.name for p in dist["wheel"].parent.iterdir()) == sorted(p.name for p in (dist["sdist"], dist["wheel"]))
    out = _run([str(tools / "twine"), "check", "--strict", str(dist["sdist"]), str(dist["wheel"])])
    assert out.count("PASSED") == 2
    metadata = zipfile.ZipFile(dist["wheel"]).read(f"d2lrnn-{VERSION}.dist-info/METADATA").decode()
    assert f"\nVersion: {VERSION}\n" in metadata


def _pth_line():
    """setup.py's PTH_LINE, read without running setup.py."""
    tree = ast.parse((REPO / "setup.py").read_text())
    return next(ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
                and [t.id for t in node.targets] == ["PTH_LINE"])


@pytest.mark.slow
def test_the_wheel_carries_the_hook_and_every_module(dist):
    wheel = zipfile.ZipFile(dist["wheel"])
    names = set(wheel.namelist())
    # The .pth file at the top of purelib, so site-packages runs it at start-up.
    assert {"d2lrnn-import-hook.pth", "_d2lrnn_hook.py", "d2lrnn_hosted.py"} <= names, sorted(names)[:10]
    assert wheel.read("d2lrnn-import-hook.pth").decode() == _pth_line()
    assert wheel.read("_d2lrnn_hook.py") == (REPO / "_d2lrnn_hook.py").read_bytes()
    tracked_modules = {n for n in dist["tracked"] if n.startswith("d2lrnn/") and n.endswith(".py")}
    assert {n for n in names if n.startswith("d2lrnn/")} == tracked_modules


@pytest.fixture(scope="module")
def installed(dist, tmp_path_factory):
    """A fresh environment of this Python with the wheel installed by docs/release.md's command."""
    user = tmp_path_factory.mktemp("user")
    (user / "dist").mkdir()
    shutil.copy2(dist["wheel"], user / "dist")
    command = _install_commands()[1 if ON_3_13 else 0].replace("python3", sys.executable)
    _run(["bash", "-c", f"set -euo pipefail; {command}"], cwd=user, env=_online_env())
    bin_dir = user / ".venv" / "bin"
    run_dir = tmp_path_factory.mktemp("elsewhere")  # outside the clone: nothing of it on sys.path
    return bin_dir, run_dir


def _use(args, installed):
    """Run ``args`` in the fresh environment from outside the clone, without PYTHONPATH or network."""
    bin_dir, run_dir = installed
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    return subprocess.run(args, capture_output=True, text=True, timeout=600, cwd=run_dir, env=env)


@pytest.mark.slow
def test_import_mxnet_first_works_through_the_hook(installed):
    bin_dir, _ = installed
    out = _use([str(bin_dir / "python"), "-c", "import mxnet, numpy, sys; "
                "print(mxnet.__version__, numpy.__version__, sys.modules['d2lrnn'].__file__)"], installed)
    assert out.returncode == 0, out.stderr[-3000:]
    mxnet_version, numpy_version, d2lrnn_file = out.stdout.split()
    assert (mxnet_version, numpy_version) == (_pin("mxnet"), _pin("numpy"))
    assert Path(d2lrnn_file).is_relative_to(bin_dir.parent)  # the installed copy, not the clone


@pytest.mark.slow
def test_train_then_generate_from_the_checkpoint(installed, tmp_path):
    bin_dir, _ = installed
    assert os.environ.get("D2LRNN_DATA_DIR"), "tests/conftest.py sets the offline data"
    checkpoint = tmp_path / "run"
    train = _use([str(bin_dir / "python"), "-m", "d2lrnn", "train", "--num-epochs", "2", "--num-examples", "2000",
                  "--num-hiddens", "16", "--seed", "0", "--no-progress", "--checkpoint-dir", str(checkpoint)], installed)
    assert train.returncode == 0, train.stderr[-3000:]
    perplexities = [float(p) for p in re.findall(r"^epoch \d+, perplexity ([\d.]+)", train.stdout, re.M)]
    assert len(perplexities) == 2 and perplexities[1] < perplexities[0]  # it trained
    generate = _use([str(bin_dir / "d2lrnn"), "generate", "--checkpoint", str(checkpoint),
                     "--prefix", "time traveller", "--num-chars", "20"], installed)
    assert generate.returncode == 0, generate.stderr[-3000:]
    text = generate.stdout.removesuffix("\n")
    assert text.startswith("time traveller") and len(text) == len("time traveller") + 20


# platform.system(), platform.machine() -> a platform tag of PyPI's wheels that such a computer installs.
PLATFORM_TAGS = {
    ("Linux", "x86_64"): "manylinux2014_x86_64",
    ("Linux", "aarch64"): "manylinux2014_aarch64",
    ("Darwin", "x86_64"): "macosx_14_0_x86_64",
    ("Darwin", "arm64"): "macosx_14_0_arm64",
    ("Windows", "AMD64"): "win_amd64",
    ("Windows", "ARM64"): "win_arm64",
}


@pytest.mark.slow
@pytest.mark.parametrize("computer", PLATFORM_TAGS, ids="-".join)
def test_pypi_has_an_mxnet_wheel_exactly_where_the_table_says(tools, computer, tmp_path):
    found = subprocess.run(
        [str(tools / "python"), "-m", "pip", "install", "--dry-run", "--quiet", "--no-deps", "--ignore-installed",
         "--only-binary=:all:", "--platform", PLATFORM_TAGS[computer], "--target", str(tmp_path),
         f"mxnet=={_pin('mxnet')}"], capture_output=True, text=True, timeout=300, env=_online_env())
    assert found.returncode in (0, 1), found.stderr[-2000:]
    if found.returncode == 1:  # pip's answer when no wheel fits: not a network failure
        assert "No matching distribution found for mxnet" in found.stderr, found.stderr[-2000:]
    assert (found.returncode == 0) == (route_for(*computer) is None)
