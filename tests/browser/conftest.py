"""The browser test's switch, JupyterLab over a copy of the notebooks, and headless Chromium.

``D2LRNN_BROWSER_TEST=0`` skips the test; ``=1`` (what ``.ci/run`` sets unless told
otherwise) makes a missing browser a failure; unset, the test runs when Chromium and
ChromeDriver are on the PATH and is skipped, with the reason, when they are not.
"""
import os
import shutil
from pathlib import Path

import pytest

from lab_page import find_browser, start_chromium
from lab_server import LabServer

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
LAB_CONFIG = REPO / "jupyter-config"
# Every cell attached to the page, so that the DOM holds the whole notebook; JupyterLab's
# default ('contentVisibility') leaves off-screen cells empty to the test.
USER_SETTINGS = {"@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"}}


@pytest.fixture(scope="session")
def browser_paths():
    switch = os.environ.get("D2LRNN_BROWSER_TEST", "")
    if switch == "0":
        pytest.skip("D2LRNN_BROWSER_TEST=0 turns the browser test off")
    found = find_browser()
    if found:
        return found
    message = ("no chromium and chromedriver on the PATH (Debian: apt-get install chromium "
               "chromium-driver; .ci/browser-setup does it)")
    if switch == "1":
        pytest.fail(f"D2LRNN_BROWSER_TEST=1 but {message}; set D2LRNN_BROWSER_TEST=0 to skip")
    pytest.skip(f"{message}; D2LRNN_BROWSER_TEST=1 makes this a failure")


@pytest.fixture(scope="session")
def screenshots():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    return SCREENSHOTS


@pytest.fixture(scope="session")
def lab(browser_paths, tmp_path_factory):
    """JupyterLab over a temporary copy of notebooks/ (the clone is never written)."""
    tmp = tmp_path_factory.mktemp("lab")
    shutil.copytree(REPO / "notebooks", tmp / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    os.environ["D2LRNN_QUICK"] = "1"  # tests/conftest.py sets it too; the kernels inherit it
    with LabServer(tmp / "notebooks", tmp / "jupyter-home", tmp / "jupyterlab.log",
                   config_path=LAB_CONFIG, user_settings=USER_SETTINGS) as server:
        yield server


@pytest.fixture(scope="session")
def chrome(browser_paths, tmp_path_factory):
    driver = start_chromium(*browser_paths, tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()
