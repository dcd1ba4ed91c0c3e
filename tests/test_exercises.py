"""The student notebooks in notebooks/exercises/ are exactly what nbgrader generates from course/source/.

The e2e grading tests are in test_grading.py; this file compares the generated notebooks
(made once per session by the ``generated_course`` fixture) with the committed ones.
"""
import filecmp
import re

import nbformat
import pytest

from tiny import REPO, load_course_tools

tools = load_course_tools()


def test_every_exercise_notebook_has_a_source_and_every_source_a_student_version():
    committed = sorted(p.stem for p in (REPO / "notebooks" / "exercises").glob("*.ipynb"))
    assert committed == tools.assignments()


@pytest.mark.slow
def test_the_committed_student_notebooks_are_the_generated_ones(generated_course):
    written = generated_course.written  # tools.generate, run once per session (conftest.py)
    assert [p.stem for p in written] == tools.assignments()
    for path in written:
        committed = REPO / "notebooks" / "exercises" / path.name
        assert filecmp.cmp(path, committed, shallow=False), \
            f"{committed.relative_to(REPO)} differs from its source: run `python tools/generate_exercises.py`"


def test_sources_keep_solutions_and_grading_where_nbgrader_expects_them():
    for name in tools.assignments():
        nb = nbformat.read(REPO / "course" / "source" / name / f"{name}.ipynb", as_version=4)
        graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
        solutions = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
        assert graded and solutions, name
        for cell in graded:
            assert cell.metadata.nbgrader["points"] > 0 and cell.metadata.nbgrader["locked"], cell.source
            # A graded check loads the installed checks anew (no cell can replace them), fails its
            # cell (so nbgrader counts it) and prints the check's message.
            assert cell.source.startswith("from d2lrnn.grading import fresh_checks"), cell.source
            assert "\nassert fresh_checks().check_" in cell.source, cell.source
            # Students and nbval can run past a failing check (JupyterLab's Run All honours the tag).
            assert "raises-exception" in cell.metadata.get("tags", []), cell.source
        for cell in solutions:
            assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source, cell.source


def test_the_teaching_guide_states_the_points_of_the_sources():
    guide = (REPO / "docs" / "teaching.md").read_text()
    stated = {name: int(points) for name, points in re.findall(r"^\| `([a-z-]+)` \| (\d+) \|", guide, flags=re.M)}
    total = {}
    for name in tools.assignments():
        nb = nbformat.read(REPO / "course" / "source" / name / f"{name}.ipynb", as_version=4)
        total[name] = sum(c.metadata.get("nbgrader", {}).get("points", 0) for c in nb.cells)
    assert stated == total


def _relative_targets(markdown):
    """The targets of Markdown links and pictures that point at files (no scheme, no bare anchor)."""
    targets = re.findall(r"\]\(([^)\s]+)\)", markdown)
    return [t.split("#")[0] for t in targets if "://" not in t and not t.startswith(("#", "mailto:"))]


def test_each_source_folder_carries_the_chapter_that_the_exercise_links_to(tmp_path):
    for name in tools.assignments():
        fresh = tmp_path / name
        tools.write_chapter(fresh)
        committed = REPO / "course" / "source" / name / "chapter"
        files = sorted(p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file())
        assert files == sorted(p.relative_to(committed) for p in committed.rglob("*") if p.is_file()), name
        for file in files:
            assert (fresh / file).read_bytes() == (committed / file).read_bytes(), \
                f"{committed / file} is stale: run `python tools/generate_exercises.py`"


def test_every_link_of_a_release_resolves_inside_the_release_folder(tmp_path):
    """What a student fetches is the release folder alone: the chapter is in it, the solutions are not."""
    course, env = tools.make_course(tmp_path / "course"), tools.isolated_env(tmp_path / "env")
    for name in tools.assignments():
        tools.nbgrader(course, "generate_assignment", name, env=env)
        release = course / "release" / name
        nb = nbformat.read(release / f"{name}.ipynb", as_version=4)
        pages = {release / f"{name}.ipynb": "\n".join(c.source for c in nb.cells if c.cell_type == "markdown"),
                 release / tools.CHAPTER_IN_RELEASE: (release / tools.CHAPTER_IN_RELEASE).read_text()}
        assert tools.CHAPTER_IN_RELEASE in _relative_targets(pages[release / f"{name}.ipynb"]), name
        for page, markdown in pages.items():
            for target in _relative_targets(markdown):
                resolved = (page.parent / target).resolve()
                assert resolved.is_file() and resolved.is_relative_to(release), f"{page.name}: {target}"
        assert not list(release.rglob("*.ipynb"))[1:], "a release carries its exercise only, no solution"


def test_the_clones_student_versions_link_to_the_chapter_notebook():
    for name in tools.assignments():
        nb = nbformat.read(REPO / "notebooks" / "exercises" / f"{name}.ipynb", as_version=4)
        targets = _relative_targets("\n".join(c.source for c in nb.cells if c.cell_type == "markdown"))
        assert tools.CHAPTER_IN_CLONE in targets, name
        for target in targets:
            assert (REPO / "notebooks" / "exercises" / target).is_file(), f"{name}: {target}"
