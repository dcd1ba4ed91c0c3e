"""Where the repository's notebooks are, for the clone-only tools in this folder."""
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def notebooks_dir():
    """``notebooks/`` of this clone; ``FileNotFoundError`` when the folder is missing."""
    if not NOTEBOOKS.is_dir():
        raise FileNotFoundError(f"no notebooks folder at {NOTEBOOKS}: run the tools from a complete "
                                "clone of the repository")
    return NOTEBOOKS
