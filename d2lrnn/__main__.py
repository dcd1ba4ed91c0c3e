"""``python -m d2lrnn`` and the ``d2lrnn`` command: train the chapter's model, or generate text.

Loading MXNet takes a few seconds; Ctrl-C meanwhile stops the command with one line and exit
status 130 instead of a traceback from inside MXNet's import. The handler is this command's
own and is put back to Python's usual one before the command runs (training then installs
its own while it trains, see ``progress.StopOnInterrupt``). An environment variable that
cannot be used is one line and exit status 2, before MXNet loads; MXNet not installed is one
line and exit status 1, naming the route for a computer that PyPI has no MXNet wheel for
(``env/_platforms``).
"""
import os
import signal
import sys

from .env import _platforms
from .env._environment import EnvironmentVariableError, check_environment

INTERRUPTED, USAGE_ERROR = 130, 2  # the command's exit statuses after Ctrl-C and for a usage error


def _interrupted_while_loading(signum, frame):
    print("\ninterrupted (Ctrl-C): stopped", file=sys.stderr, flush=True)
    os._exit(INTERRUPTED)  # nothing of ours is open yet: no file, no checkpoint


def run(argv=None):
    """The command: check the environment, load the command line (MXNet), run it; the exit status."""
    _platforms.exit_if_no_mxnet()
    previous = signal.signal(signal.SIGINT, _interrupted_while_loading)
    try:
        check_environment()
        from .cli import main
    except EnvironmentVariableError as e:
        print(f"error: {e}", file=sys.stderr)
        return USAGE_ERROR
    finally:
        signal.signal(signal.SIGINT, previous)
    return main(argv)


if __name__ == "__main__":
    sys.exit(run())
