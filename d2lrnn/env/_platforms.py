"""Which computers PyPI has an MXNet 1.9.1 wheel for, and the route for those it has none for.

MXNet 1.9.1 (the last 1.x release) has wheels for Linux x86-64 and ARM64 and for Intel Macs
only. On an Apple-silicon Mac or on Windows, ``pip install`` stops with a resolver error that
does not say what to do (apache/mxnet#20992, #21180); ``no_wheel_message`` is the line to
show instead. docs/setup.md ("Which route for which computer") has the table for people.

This file is the one place for that fact, and it is self-contained: it imports only the
standard library (no NumPy, no MXNet, nothing of d2lrnn), so a notebook's set-up cell can
load it by its path, or carry its text, before d2lrnn is installed. ``exit_if_no_mxnet`` is
what ``python -m d2lrnn`` (``d2lrnn/__main__.py``) runs first.
"""
import importlib.util
import platform
import sys

SETUP_DOC = "docs/setup.md, 'Which route for which computer'"

# (system, machine), normalised by _normalise: the platforms with an mxnet==1.9.1 wheel on PyPI
# (manylinux2014_x86_64, manylinux2014_aarch64, macosx_10_13_x86_64).
WHEEL_PLATFORMS = frozenset({("Linux", "x86_64"), ("Linux", "arm64"), ("Darwin", "x86_64")})

ROUTE_APPLE_SILICON = ("an x86-64 Python under Rosetta 2, which installs the Intel-Mac wheel "
                       "(uv python install cpython-3.12-macos-x86_64), or a Linux container")
ROUTE_WINDOWS = "WSL2 (Linux inside Windows: wsl --install), where the Linux wheel installs"
ROUTE_ELSEWHERE = ("a Linux x86-64 or ARM64 machine or container, an Intel Mac, "
                   "a hosted notebook runtime or the class hub")

_MACHINES = {"amd64": "x86_64", "x64": "x86_64", "x86_64": "x86_64", "arm64": "arm64", "aarch64": "arm64"}


def _normalise(system, machine):
    """``(system, machine)`` as ``platform.system()`` and ``platform.machine()`` name them, in one
    spelling: Windows' AMD64 is x86_64, Linux's aarch64 is arm64, Cygwin and MSYS are Windows."""
    if system.upper().startswith(("CYGWIN", "MSYS", "MINGW")):
        system = "Windows"
    return system, _MACHINES.get(machine.lower(), machine.lower())


def route_for(system, machine):
    """The route for a computer without an MXNet 1.9.1 wheel, as a phrase; None where PyPI has one."""
    system, machine = _normalise(system, machine)
    if (system, machine) in WHEEL_PLATFORMS:
        return None
    if system == "Darwin" and machine == "arm64":
        return ROUTE_APPLE_SILICON
    if system == "Windows":
        return ROUTE_WINDOWS
    return ROUTE_ELSEWHERE


def platform_name(system, machine):
    """'macOS on arm64 (Apple silicon)', 'Windows on AMD64', 'Linux on armv7l': for messages."""
    normalised = _normalise(system, machine)
    name = {"Darwin": "macOS"}.get(normalised[0], system)
    return f"{name} on {machine}" + (" (Apple silicon)" if normalised == ("Darwin", "arm64") else "")


def no_wheel_message(system=None, machine=None):
    """One line naming this computer (or the one given) and its route; None where PyPI has a wheel."""
    system = platform.system() if system is None else system
    machine = platform.machine() if machine is None else machine
    route = route_for(system, machine)
    if route is None:
        return None
    return (f"MXNet 1.9.1, which d2lrnn needs, has no wheel for {platform_name(system, machine)}, "
            f"so pip cannot install it here; use {route} (see {SETUP_DOC})")


def missing_mxnet_message():
    """The line for a Python in which MXNet is not installed: the route, or how to install it."""
    return no_wheel_message() or (
        f"MXNet is not installed in this Python ({sys.executable}): install d2lrnn with its "
        f"dependencies (the README's command, or pip install of the wheel without --no-deps)")


def exit_if_no_mxnet():
    """For the command line: print one error line and exit 1 when MXNet is not installed."""
    if importlib.util.find_spec("mxnet") is None:
        print(f"error: {missing_mxnet_message()}", file=sys.stderr)
        raise SystemExit(1)
