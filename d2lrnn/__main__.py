"""``python -m d2lrnn``: train the chapter's model from the command line."""
import sys

from .runs.cli import main

sys.exit(main())
