"""MXNet's errors as one line a user can read: its reason, not its traceback.

An ``MXNetError`` carries the C++ traceback in its message, which starts with
"Traceback (most recent call last):" and ends with the reason after a ``Check failed:``
expression. Every one-line error of d2lrnn that quotes MXNet goes through ``mxnet_reason``.
"""
import re

_NOISE = re.compile(r"^(Traceback \(most recent call last\)|File \"|\[bt\]|Stack trace|\d+: )")


def mxnet_reason(error, limit=300):
    """The last meaningful line of ``error``'s message, without MXNet's prefixes; at most ``limit`` characters."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    lines = [line for line in lines if not _NOISE.match(line)]
    if not lines:
        return type(error).__name__
    text = lines[-1].removeprefix("MXNetError: ")
    # "[12:00:00] src/io/local_filesys.cc:209: Check failed: EXPR: REASON" -> "REASON"
    text = re.sub(r"^\[[\d:]+\] \S+:\d+: ", "", text)
    checked = re.match(r"Check failed: .*?: (?=[A-Z])(.*)$", text)
    return (checked.group(1) if checked else text)[:limit]
