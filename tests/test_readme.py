"""The README lists every command-line flag and every environment variable the project reads."""
import re
from pathlib import Path

import pytest

from d2lrnn.cli import build_parser

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()


def _flags(command):
    sub = next(a for a in build_parser()._actions if a.dest == "command").choices[command]
    return {option for action in sub._actions for option in action.option_strings
            if option.startswith("--") and option != "--help"}


@pytest.mark.parametrize("command", ["train", "generate"])
def test_every_flag_is_in_the_readme(command):
    missing = sorted(f for f in _flags(command) if f"`{f}" not in README)
    assert not missing, f"README.md does not mention {missing} of '{command}'"


def test_every_environment_variable_is_in_the_readme_table():
    # The package, the tests, and the notebooks' set-up cell (written by tools/setup_cells.py).
    sources = [*(REPO / "d2lrnn").rglob("*.py"), *(REPO / "tests").rglob("*.py"), REPO / "tools" / "setup_cells.py"]
    read = {name for path in sources
            for name in re.findall(r"\"((?:D2LRNN|OMP|MXNET)_[A-Z_]+)\"", path.read_text())}
    table = set(re.findall(r"^\| `((?:D2LRNN|OMP|MXNET)_[A-Z_]+)` \|", README, flags=re.M))
    assert read and read == table


def test_the_check_can_fail(monkeypatch):
    monkeypatch.setattr(__import__(__name__), "README", README.replace("`--save-every", "`--save"))
    with pytest.raises(AssertionError, match="--save-every"):
        test_every_flag_is_in_the_readme("train")


@pytest.mark.parametrize("page", [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")),
                                  REPO / "benchmarks" / "README.md"], ids=lambda p: p.name)
def test_relative_links_resolve(page):
    for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        assert (page.parent / target.split("#")[0]).exists(), f"{page.name}: broken link {target}"
