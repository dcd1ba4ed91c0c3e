"""``python tools/static_html.py``: every notebook as a page, built without a warning."""
import re
import subprocess
import sys

import pytest

from tiny import REPO, load_tool

_repo = load_tool("_repo")


@pytest.mark.slow
def test_builds_every_page_without_a_warning(tmp_path):
    out = tmp_path / "html"
    done = subprocess.run([sys.executable, str(REPO / "tools" / "static_html.py"), "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    notebooks = sorted(p.relative_to(_repo.NOTEBOOKS) for p in _repo.NOTEBOOKS.rglob("*.ipynb")
                       if ".ipynb_checkpoints" not in p.parts)
    pages = sorted(p.relative_to(out) for p in out.rglob("*.html") if p.name != "index.html")
    assert pages == [p.with_suffix(".html") for p in notebooks]
    index = (out / "index.html").read_text()
    assert re.findall(r'href="([^"]+)"', index)[0] == "deep-rnn.html"
    assert sorted(re.findall(r'href="([^"]+)"', index)) == sorted(map(str, pages))
    for page in pages:
        text = (out / page).read_text()
        for link in re.findall(r'(?:href|src)="([^"#:?]+)(?:[#?][^"]*)?"', text):
            assert (out / page).parent.joinpath(link).exists(), f"{page}: broken link {link}"
        assert ".ipynb)" not in text and 'href="deep-rnn.ipynb' not in text


@pytest.mark.slow
def test_stored_outputs_and_pictures_are_in_the_page(tmp_path):
    load_tool("static_html").build(tmp_path, source=_repo.NOTEBOOKS)
    page = (tmp_path / "deep-rnn.html").read_text()
    assert 'src="data:image/svg+xml;base64,' in page  # the diagram, embedded
    assert page.count('src="data:image/png;base64,') >= 2  # the stored figures
    assert "mxnet 1.9.1, numpy" in page  # a stored text output


def test_the_pages_load_mathjax_from_beside_them_not_from_the_network(tmp_path):
    load_tool("static_html").build(tmp_path, source=_repo.NOTEBOOKS)
    for page, to_mathjax in [("deep-rnn.html", "mathjax"), ("exercises/deep-rnn-scratch.html", "../mathjax")]:
        text = (tmp_path / page).read_text()
        scripts = re.findall(r'<script[^>]*src="([^"]+)"', text)
        assert f"{to_mathjax}/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe" in scripts, scripts
        assert not [s for s in scripts if "://" in s], scripts  # nothing from a CDN
    assert (tmp_path / "mathjax" / "MathJax.js").is_file()
    assert (tmp_path / "mathjax" / "config" / "TeX-AMS-MML_HTMLorMML-full.js").is_file()
