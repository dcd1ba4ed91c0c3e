"""The notebooks as static HTML pages, with the outputs stored in them, and an index page.

``python tools/static_html.py [--out build/html]`` writes one page per notebook (the
pictures embedded, links between notebooks pointing at their pages) and ``index.html``,
and MathJax beside them (``mathjax/``, from the pinned jupyter-server-mathjax package), so
that the equations render without a network. Nothing is executed. Exit status 0, or 1 with
one ``error:`` line.
"""
import argparse
import html
import os
import re
import shutil
import sys
from pathlib import Path

from _repo import notebooks_dir  # tools/_repo.py (this folder is on sys.path)

# A link to a notebook, in Markdown: ](name.ipynb) or ](name.ipynb#anchor)
NOTEBOOK_LINK = re.compile(r"(\]\([^)\s]*?)\.ipynb([#)])")
MATHJAX = "mathjax"  # the folder beside the pages
# The configuration that jupyter-server-mathjax ships: TeX and MathML in, HTML-CSS out; Safe
# keeps the pages' TeX from running scripts (nbconvert's default asks for the same from a CDN).
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"


def copy_mathjax(out):
    """Copy MathJax's files to ``out/mathjax``; return that folder."""
    import jupyter_server_mathjax
    source = Path(jupyter_server_mathjax.__file__).parent / "static"
    target = Path(out) / MATHJAX
    shutil.copytree(source, target, dirs_exist_ok=True)
    return target


def mathjax_url(page, out):
    """MathJax's address relative to ``page`` (a path under ``out``), for the page's ``<script>``."""
    relative = os.path.relpath(Path(out) / MATHJAX / "MathJax.js", Path(page).parent)
    return f"{Path(relative).as_posix()}?config={MATHJAX_CONFIG}"


def _title(nb, fallback):
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            heading = re.search(r"^#\s+(.+)$", cell.source, flags=re.M)
            if heading:
                return heading.group(1).strip()
    return fallback


def render_notebook(path, exporter):
    """``(title, html)`` of one notebook, with links to other notebooks pointing at their pages."""
    import nbformat
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = NOTEBOOK_LINK.sub(r"\1.html\2", cell.source)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"path": str(path.parent)}})
    return _title(nb, path.stem), body


def _index(pages):
    items = "\n".join(f'  <li><a href="{html.escape(str(href))}">{html.escape(title)}</a> '
                      f'<code>{html.escape(str(href.with_suffix(".ipynb")))}</code></li>'
                      for href, title in pages)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">"
            "<title>d2lrnn notebooks</title></head>\n<body>\n<h1>d2lrnn notebooks</h1>\n"
            "<p>The notebooks with the outputs of their stored runs. To run them, see the "
            "README.</p>\n<ul>\n" + items + "\n</ul>\n</body>\n</html>\n")


def build(out, source=None):
    """Write one page per notebook under ``source`` and ``index.html`` to ``out``; return the pages."""
    from nbconvert import HTMLExporter
    source = Path(source) if source is not None else notebooks_dir()
    out = Path(out)
    from jinja2 import DictLoader
    # JupyterLab's page, less require.js, which only ipywidgets need (the notebooks have none)
    # and which nbconvert would load from a CDN: the pages load nothing from the network.
    offline = DictLoader({"offline.html.j2": "{%- extends 'lab/index.html.j2' -%}\n"
                                             "{%- block html_head_js_requirejs -%}{%- endblock -%}\n"})
    exporter = HTMLExporter(template_name="lab", template_file="offline.html.j2", extra_loaders=[offline],
                            embed_images=True)
    pages = []
    notebooks = [p for p in source.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts]
    # The chapter first, then the other solutions, then the exercises.
    for path in sorted(notebooks, key=lambda p: (p.parent != source, p.name != "deep-rnn.ipynb", p.name)):
        href = path.relative_to(source).with_suffix(".html")
        exporter.mathjax_url = mathjax_url(out / href, out)
        title, body = render_notebook(path, exporter)
        (out / href).parent.mkdir(parents=True, exist_ok=True)
        (out / href).write_text(body, encoding="utf-8")
        pages.append((href, title))
    (out / "index.html").write_text(_index(pages), encoding="utf-8")
    copy_mathjax(out)
    return pages


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python tools/static_html.py",
        description="Render the notebooks, with their stored outputs, as HTML pages and an index.")
    parser.add_argument("--out", default="build/html", help="output folder (default: build/html)")
    args = parser.parse_args(argv)
    try:
        pages = build(args.out)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {len(pages)} pages and {Path(args.out) / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
