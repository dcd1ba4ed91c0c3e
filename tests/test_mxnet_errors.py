"""MXNet's error messages reduced to the reason a user can act on (d2lrnn.env._mxnet_errors)."""
import pytest

from d2lrnn.env._mxnet_errors import mxnet_reason

FULL_DISK = ('Traceback (most recent call last):\n  File "../3rdparty/dmlc-core/src/io/local_filesys.cc", '
             'line 38\nMXNetError: Check failed: std: :fwrite(ptr, 1, size, fp_) == size: FileStream.Write incomplete')
NO_FILE = ('Traceback (most recent call last):\n  File "../src/io/local_filesys.cc", line 209\n'
           'MXNetError: Check failed: allow_null: LocalFileSystem::Open "ck/a.params": No such file or directory')


@pytest.mark.parametrize("message, reason", [
    (FULL_DISK, "FileStream.Write incomplete"),  # measured: mx.nd.save onto a full tmpfs
    (NO_FILE, 'LocalFileSystem::Open "ck/a.params": No such file or directory'),
    ("[12:00:00] src/io/local_filesys.cc:209: Check failed: No space left on device",
     "Check failed: No space left on device"),
    ("Failed loading Parameter 'w' from saved params: shape incompatible expected (5, 4) vs saved (3, 4)",
     "Failed loading Parameter 'w' from saved params: shape incompatible expected (5, 4) vs saved (3, 4)"),
    ("", "RuntimeError"),
])
def test_the_reason_not_the_traceback(message, reason):
    assert mxnet_reason(RuntimeError(message)) == reason


def test_long_reasons_are_cut():
    assert mxnet_reason(RuntimeError("x" * 500), limit=10) == "x" * 10
