"""Where the repository's notebooks are: beside the package, in a clone (``pip install -e .``)."""
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def notebooks_dir():
    """``notebooks/`` of the clone this package runs from; a clear error when installed without one."""
    if not NOTEBOOKS.is_dir():
        raise FileNotFoundError(f"no notebooks folder at {NOTEBOOKS}: install d2lrnn from a clone "
                                "of the repository with 'pip install -e .'")
    return NOTEBOOKS
