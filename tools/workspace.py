"""Copy the notebooks into a folder of your own, so that running them leaves the clone as it is.

``python tools/workspace.py [DIR]`` (default ``workspace/``, which git ignores). Files
already in DIR are never overwritten: run it again after a ``git pull`` to get new
notebooks without losing your work. Exit status 0, or 1 with one ``error:`` line.
"""
import argparse
import shutil
import sys
from pathlib import Path

from _repo import notebooks_dir  # tools/_repo.py (this folder is on sys.path)


def copy_notebooks(dest, source=None):
    """Copy every file under ``source`` (the repository's notebooks) to ``dest``, keeping files already there.

    Returns ``(copied, kept)``, two lists of paths relative to ``dest``.
    """
    source = Path(source) if source is not None else notebooks_dir()
    dest = Path(dest)
    if dest.resolve() == source.resolve() or source.resolve() in dest.resolve().parents:
        raise ValueError(f"{dest} is inside {source}: choose a folder outside it")
    if dest.exists() and not dest.is_dir():
        raise ValueError(f"{dest} exists and is not a folder")
    copied, kept = [], []
    for path in sorted(source.rglob("*")):
        if path.is_dir() or ".ipynb_checkpoints" in path.parts:
            continue
        relative = path.relative_to(source)
        target = dest / relative
        if target.exists():
            kept.append(relative)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        copied.append(relative)
    return copied, kept


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python tools/workspace.py",
        description="Copy the notebooks to a folder of your own (files already there are kept), "
                    "then open that folder in JupyterLab: the clone stays as it is.")
    parser.add_argument("dir", nargs="?", default="workspace", help="where to copy (default: workspace)")
    args = parser.parse_args(argv)
    try:
        copied, kept = copy_notebooks(args.dir)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"copied {len(copied)} files to {args.dir}/")
    if kept:
        print(f"kept {len(kept)} files already there: {', '.join(map(str, kept))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
