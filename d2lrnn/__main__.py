"""``python -m d2lrnn``: train the chapter's model from the command line."""
import sys

from .cli import main

sys.exit(main())
