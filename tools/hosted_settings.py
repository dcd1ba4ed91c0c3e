"""Where hosted runtimes get d2lrnn from, and which repository the launch links open: the one place.

``python tools/setup_cells.py`` writes both into every notebook's first cells and README's launch
links; run it after changing them. No release of d2lrnn is published and no public address of this
repository is recorded, so both are empty for now: the set-up cell then says that no release is
published yet, and no launch links are written. A course that publishes its own copy sets its own
addresses here (see docs/setup.md, "Hosted runtimes").
"""
# The address of the d2lrnn wheel that the set-up cell downloads, ending in the wheel's file name
# (d2lrnn-<version>-py3-none-any.whl). $D2LRNN_WHEEL_URL, where set, overrides it at run time.
WHEEL_URL = ""
# The GitHub repository ("owner/name") and branch whose notebooks the Colab and Binder links open.
REPOSITORY = ""
BRANCH = "main"
