"""The static pages offline: one page opened over file:// with the network cut off typesets its equations.

``python tools/static_html.py`` puts MathJax beside the pages; Chromium, with every network
request refused (DevTools' offline mode), opens the chapter's page from disk and the test
waits for MathJax's output. The same page pointing at nbconvert's default, a CDN, must stay
raw: that shows the network really is off.
"""
import time

import pytest

from lab_page import start_chromium, wait_for
from tiny import load_tool


CDN = "https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js?config=TeX-AMS_CHTML-full,Safe"
# Typeset equations (MathJax 2's output elements) and TeX still raw in the text.
READ_MATH = """
    const text = document.body.innerText;
    return {typeset: document.querySelectorAll('.MathJax, .MathJax_Display, .MathJax_CHTML').length,
            raw: (text.match(/\\$\\$|\\\\frac|\\\\mathbf|\\$[^$\\n]+\\$/g) || []).slice(0, 5)};
"""


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    out = tmp_path_factory.mktemp("html")
    load_tool("static_html").build(out)
    return out


@pytest.fixture(scope="module")
def offline_chrome(browser_paths, tmp_path_factory):
    driver = start_chromium(*browser_paths, tmp_path_factory.mktemp("chromium-offline"))
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    yield driver
    driver.quit()


def test_a_page_typesets_its_equations_offline(pages, offline_chrome):
    offline_chrome.get((pages / "deep-rnn.html").as_uri())
    def typeset():
        math = offline_chrome.execute_script(READ_MATH)
        return math if math["typeset"] and not math["raw"] else None

    math = wait_for(typeset, 60, "MathJax to typeset the page's equations offline")
    assert math["typeset"] >= 5, math


def test_the_same_page_with_mathjax_from_a_cdn_stays_raw_offline(pages, offline_chrome):
    page = pages / "deep-rnn.html"
    cdn_page = pages / "deep-rnn-cdn.html"
    text = page.read_text()
    local = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
    assert local in text
    cdn_page.write_text(text.replace(local, CDN))
    offline_chrome.get(cdn_page.as_uri())
    time.sleep(5)  # ample time for MathJax, were it there
    math = offline_chrome.execute_script(READ_MATH)
    assert math["typeset"] == 0 and math["raw"], math
