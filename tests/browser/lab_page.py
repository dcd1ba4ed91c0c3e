"""Drive JupyterLab in headless Chromium: open a notebook, run all cells from the menu, report what is wrong.

``problems(driver, stored)`` reads the open notebook's DOM and names every error output,
traceback, broken image, piece of LaTeX left unrendered, code cell that should have an
output and has none, and a progress bar that wraps; the test asserts the list is empty.
"""
import json
import re
import shutil
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

# As root Chromium needs --no-sandbox; the background-networking flags keep it from
# reaching out (this CI's network is closed, and a test must not depend on it).
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"]
VIEWPORT = (1280, 800)  # a laptop screen, with JupyterLab's file browser open


def find_browser():
    """``(chromium, chromedriver)`` paths, or None when either is missing."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def start_chromium(browser, driver, user_data_dir):
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in CHROMIUM_FLAGS + [f"--window-size={VIEWPORT[0]},{VIEWPORT[1] + 150}",
                                  f"--user-data-dir={user_data_dir}"]:
        options.add_argument(flag)
    chrome = webdriver.Chrome(options=options, service=Service(driver))
    # The viewport itself, whatever the window decorations of headless mode take.
    chrome.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": VIEWPORT[0], "height": VIEWPORT[1], "deviceScaleFactor": 1, "mobile": False})
    return chrome


def wait_for(condition, timeout, what, interval=0.5):
    """Poll ``condition()`` until it returns something truthy; return it, or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def _js(driver, script, *args):
    return driver.execute_script(script, *args)


def open_notebook(driver, lab, path, timeout=180):
    """Open ``path`` alone, in a JupyterLab workspace of its own, and wait for its idle kernel."""
    name = Path(path).name
    driver.get(lab.url(f"lab/workspaces/{Path(path).stem}/tree/{path}?reset&token={lab.token}"))
    wait_for(lambda: _js(driver, """
        const tab = document.querySelector('.lm-DockPanel-tabBar .lm-mod-current .lm-TabBar-tabLabel');
        const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
        const status = panel && panel.querySelector('.jp-Notebook-ExecutionIndicator');
        return tab && tab.textContent === arguments[0] && status && status.dataset.status === 'idle'
            && panel.querySelectorAll('.jp-Cell').length > 0;
        """, name), timeout, f"{path} to open with an idle kernel")


def click_menu(driver, menu, item):
    """Click ``menu`` in the menu bar, then the entry whose label is ``item``."""
    bar = [m for m in driver.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-item") if m.text == menu]
    assert bar, f"no {menu!r} menu in JupyterLab's menu bar"
    bar[0].click()
    entries = wait_for(lambda: [e for e in driver.find_elements(
        By.CSS_SELECTOR, ".lm-Menu-item .lm-Menu-itemLabel") if e.text == item], 10,
        f"the menu entry {menu} > {item}")
    entries[0].click()


def kernel_status(driver):
    return _js(driver, "return document.querySelector("
                       "'.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator').dataset.status")


def prompts(driver):
    """The execution prompt of every code cell: '[3]:', '[*]:' (queued or running), '[ ]:'."""
    return _js(driver, "return [...document.querySelectorAll("
                       "'.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputArea-prompt')]"
                       ".map(e => e.textContent.trim())")


def all_cells_ran(driver):
    marks = prompts(driver)
    return (kernel_status(driver) == "idle" and marks
            and all(re.fullmatch(r"\[\d+\]:", m) for m in marks))


def scroll_to(driver, css, text=None):
    """Scroll the first element matching ``css`` (and containing ``text``) to the top of the notebook."""
    return _js(driver, """
        const [css, text] = arguments;
        const el = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) ' + css)]
            .find(e => text === null || e.textContent.includes(text));
        if (!el) return false;
        el.scrollIntoView({block: 'start'});
        return true;
        """, css, text)


# Everything the checks need, read from the DOM in one call.
_READ_CELLS = """
const cells = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell')];
return cells.map(cell => {
    const kind = cell.classList.contains('jp-CodeCell') ? 'code'
        : cell.classList.contains('jp-MarkdownCell') ? 'markdown' : 'raw';
    const outputs = [...cell.querySelectorAll('.jp-OutputArea-output')].map(o => {
        const pre = o.querySelector('pre') || o;
        const style = getComputedStyle(pre);
        return {mime: o.dataset.mimeType || '', text: o.textContent.slice(0, 2000),
                height: pre.getBoundingClientRect().height,
                lineHeight: parseFloat(style.lineHeight) || 1.2 * parseFloat(style.fontSize)};
    });
    const images = [...cell.querySelectorAll('img')].map(img => ({
        src: img.getAttribute("src").split("?")[0].slice(-80), ok: img.complete && img.naturalWidth > 0}));
    let prose = '';
    const rendered = cell.querySelector('.jp-RenderedMarkdown');
    if (rendered) {
        const copy = rendered.cloneNode(true);
        copy.querySelectorAll('code, pre, mjx-container, .MathJax').forEach(e => e.remove());
        prose = copy.textContent;
    }
    return {kind, outputs, images, prose,
            math: cell.querySelectorAll('mjx-container').length,
            prompt: (cell.querySelector('.jp-InputArea-prompt') || {textContent: ''}).textContent.trim()};
});
"""
RAW_LATEX = re.compile(r"\$[^$\s][^$]*\$|\\(begin|frac|mathbf|mathcal)\b")
ERROR_TEXT = re.compile(r"Traceback \(most recent call last\)|^\w*(Error|Exception)\b", re.M)


def read_cells(driver):
    return _js(driver, _READ_CELLS)


def math_rendered(driver):
    """True once no rendered Markdown cell shows raw LaTeX (MathJax typesets asynchronously)."""
    return not any(RAW_LATEX.search(c["prose"]) for c in read_cells(driver) if c["kind"] == "markdown")


def problems(cells, stored_path):
    """What a student would see go wrong in ``cells`` (from ``read_cells``), as sentences.

    ``stored_path`` is the notebook as committed: a code cell that has outputs there must
    have outputs here.
    """
    stored = json.loads(Path(stored_path).read_text())["cells"]
    found = []
    if [c["cell_type"] for c in stored] != [c["kind"] for c in cells]:
        return [f"JupyterLab shows {len(cells)} cells, the notebook has {len(stored)}: "
                "cannot match them up (is windowing on?)"]
    for i, (cell, saved) in enumerate(zip(cells, stored)):
        where = f"cell {i}"
        for image in cell["images"]:
            if not image["ok"]:
                found.append(f"{where}: broken image {image['src']!r}")
        if cell["kind"] == "markdown":
            raw = RAW_LATEX.search(cell["prose"])
            if raw:
                found.append(f"{where}: LaTeX not rendered: {raw.group(0)[:60]!r}")
            continue
        if cell["kind"] != "code":
            continue
        if not re.fullmatch(r"\[\d+\]:", cell["prompt"]):
            found.append(f"{where}: did not run (prompt {cell['prompt']!r})")
        if saved.get("outputs") and not cell["outputs"]:
            found.append(f"{where}: no output, but the committed notebook has "
                         f"{len(saved['outputs'])}")
        for out in cell["outputs"]:
            if "error" in out["mime"] or ERROR_TEXT.search(out["text"]):
                found.append(f"{where}: error output: {out['text'][:300]!r}")
            elif "stderr" in out["mime"]:
                found.append(f"{where}: text on stderr: {out['text'][:300]!r}")
            if out["text"].startswith("training:") and out["height"] > 1.5 * out["lineHeight"]:
                found.append(f"{where}: the progress bar wraps onto "
                             f"{round(out['height'] / out['lineHeight'])} lines: {out['text']!r}")
    return found


def toasts(driver):
    """Texts of the notifications JupyterLab shows in the corner (the news question is one)."""
    return _js(driver, "return [...document.querySelectorAll('.Toastify__toast')].map(e => e.textContent)")
