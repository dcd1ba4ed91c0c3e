"""``python tools/workspace.py``: a copy of the notebooks to work in, never overwriting work."""
import subprocess
import sys

import pytest

from tiny import REPO, load_tool

_repo = load_tool("_repo")

copy_notebooks, main = load_tool("workspace").copy_notebooks, load_tool("workspace").main


def _files(folder):
    return sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file()
                  and ".ipynb_checkpoints" not in p.parts)


def test_copies_every_notebook_and_picture(tmp_path):
    copied, kept = copy_notebooks(tmp_path / "ws")
    assert sorted(copied) == _files(_repo.NOTEBOOKS) and kept == []
    assert {"deep-rnn.ipynb", "deep-rnn.svg"} <= {p.name for p in copied}
    assert any(p.parts[0] == "exercises" for p in copied)
    for p in copied:
        assert (tmp_path / "ws" / p).read_bytes() == (_repo.NOTEBOOKS / p).read_bytes()


def test_a_second_run_keeps_the_students_work(tmp_path):
    ws = tmp_path / "ws"
    copy_notebooks(ws)
    (ws / "deep-rnn.ipynb").write_text("my work")
    (ws / "exercises" / "more-books.ipynb").unlink()
    copied, kept = copy_notebooks(ws)
    assert [str(p) for p in copied] == ["exercises/more-books.ipynb"]
    assert (ws / "deep-rnn.ipynb").read_text() == "my work" and len(kept) > 1


def test_refuses_a_file_or_a_folder_inside_the_notebooks(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="not a folder"):
        copy_notebooks(tmp_path / "file")
    with pytest.raises(ValueError, match="inside"):
        copy_notebooks(tmp_path / "src" / "ws", source=tmp_path / "src")
    assert main([str(tmp_path / "file")]) == 1


def test_command_line(tmp_path):
    done = subprocess.run([sys.executable, str(REPO / "tools" / "workspace.py"), "ws"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"copied {len(_files(_repo.NOTEBOOKS))} files to ws/")
    again = subprocess.run([sys.executable, str(REPO / "tools" / "workspace.py"), "ws"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=120)
    assert again.stdout.startswith("copied 0 files to ws/\nkept ")
