"""The download path against a loopback HTTP server: verify, cache, atomic writes, clear errors."""
import os
import socket
import stat
import traceback
from pathlib import Path

import pytest

import d2lrnn
from d2lrnn import download
from d2lrnn.download import ChecksumError, DownloadError, Resource, fetch

TM = d2lrnn.TIME_MACHINE


def _listing(folder):
    return sorted(p.name for p in Path(folder).iterdir())


def test_download_verifies_and_caches(server, tmp_path, timemachine_bytes):
    url = server.serve("/timemachine.txt", timemachine_bytes)
    path = fetch(TM, data_dir=tmp_path, url=url)
    assert path == tmp_path / "timemachine.txt"
    assert path.read_bytes() == timemachine_bytes
    assert _listing(tmp_path) == ["timemachine.txt"]  # no temporary file left behind
    # A second call uses the cache: the server no longer has the file.
    server.routes.clear()
    assert fetch(TM, data_dir=tmp_path, url=url) == path


def test_missing_directory_is_created(server, tmp_path, timemachine_bytes):
    url = server.serve("/tm", timemachine_bytes)
    path = fetch(TM, data_dir=tmp_path / "a" / "b", url=url)
    assert path.read_bytes() == timemachine_bytes


def test_read_only_directory_with_verified_file_is_only_read(tmp_path, timemachine_bytes, monkeypatch):
    (tmp_path / "timemachine.txt").write_bytes(timemachine_bytes)
    tmp_path.chmod(stat.S_IRUSR | stat.S_IXUSR)
    # Root ignores permission bits, so also make any write attempt fail loudly.
    def no_writes(*args, **kwargs):
        raise AssertionError("fetch tried to write to a directory that holds a verified file")
    monkeypatch.setattr(download.tempfile, "mkstemp", no_writes)
    try:
        assert fetch(TM, data_dir=tmp_path, url="http://127.0.0.1:9/unused") == tmp_path / "timemachine.txt"
    finally:
        tmp_path.chmod(0o755)


def test_corrupt_cache_is_downloaded_again(server, tmp_path, timemachine_bytes):
    (tmp_path / "timemachine.txt").write_bytes(timemachine_bytes[:-1] + b"X")
    url = server.serve("/tm", timemachine_bytes)
    path = fetch(TM, data_dir=tmp_path, url=url)
    assert path.read_bytes() == timemachine_bytes


def test_corrupt_cache_in_read_only_directory_is_an_error(tmp_path, timemachine_bytes, monkeypatch):
    corrupt = timemachine_bytes.replace(b"time", b"tide", 1)
    (tmp_path / "timemachine.txt").write_bytes(corrupt)
    monkeypatch.setattr(download.os, "access", lambda path, mode: False)
    with pytest.raises(ChecksumError, match=r"corrupt \(SHA-1 is [0-9a-f]{40}, expected 090b5e7e"):
        fetch(TM, data_dir=tmp_path)
    assert (tmp_path / "timemachine.txt").read_bytes() == corrupt  # nothing lost or replaced


def test_offline_without_cache_names_url_and_next_step(tmp_path):
    with socket.socket() as s:  # a port that nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/timemachine.txt"
    with pytest.raises(DownloadError) as err:
        fetch(TM, data_dir=tmp_path, url=url)
    message = str(err.value)
    assert url in message and TM.url in message
    assert "D2LRNN_DATA_DIR" in message and str(tmp_path / "timemachine.txt") in message
    assert _listing(tmp_path) == []
    _assert_one_traceback(err.value)


def _assert_one_traceback(error):
    """What Python and Jupyter print: our error's own traceback, not urllib's before it."""
    printed = "".join(traceback.format_exception(error))
    assert "direct cause" not in printed and "During handling" not in printed, printed


def test_http_error_status(server, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 404") as err:
        fetch(TM, data_dir=tmp_path, url=server.url("/missing.txt"))
    assert _listing(tmp_path) == []
    _assert_one_traceback(err.value)


def test_interrupted_download_leaves_no_partial_file(server, tmp_path, timemachine_bytes):
    url = server.serve("/tm", timemachine_bytes, mode="truncate")
    with pytest.raises(DownloadError):
        fetch(TM, data_dir=tmp_path, url=url)
    assert _listing(tmp_path) == []


def test_interrupted_download_without_pinned_hash_is_caught_by_length(server, tmp_path):
    unpinned = Resource("book.txt", url="http://unused.invalid/book.txt")
    url = server.serve("/book", b"x" * 1000, mode="truncate")
    with pytest.raises(DownloadError, match="stopped after 500 of 1000 bytes"):
        fetch(unpinned, data_dir=tmp_path, url=url)
    assert _listing(tmp_path) == []


def test_wrong_bytes_are_rejected_and_not_saved(server, tmp_path):
    url = server.serve("/tm", b"this is not the time machine")
    with pytest.raises(ChecksumError, match="not the expected one"):
        fetch(TM, data_dir=tmp_path, url=url)
    assert _listing(tmp_path) == []


def test_timeout(server, tmp_path):
    url = server.serve("/slow", b"abc", mode="stall")
    with pytest.raises(DownloadError, match="could not download"):
        fetch(TM, data_dir=tmp_path, url=url, timeout=0.3)
    assert _listing(tmp_path) == []


def test_data_dir_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("D2LRNN_DATA_DIR", str(tmp_path / "env"))
    assert download.resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"
    assert download.resolve_data_dir() == tmp_path / "env"
    monkeypatch.delenv("D2LRNN_DATA_DIR")
    monkeypatch.setattr(download.sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert download.resolve_data_dir() == tmp_path / "xdg" / "d2lrnn"


def test_loader_does_not_depend_on_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    corpus_indices, vocab = d2lrnn.load_data_time_machine(100)
    assert len(corpus_indices) == 100
    assert _listing(tmp_path) == []
