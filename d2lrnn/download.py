"""Download data files once, verify them, and keep them in a cache directory.

The cache directory is, in order: the ``data_dir`` argument, the environment
variable ``D2LRNN_DATA_DIR``, or a per-user cache directory. A directory that
already holds a verified file is only read, so it may be read-only.
"""
import hashlib
import http.client
import os
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .env._environment import DATA_DIR_ENV, data_dir as data_dir_from_environment
from .facts import is_integer

CHUNK_SIZE = 1 << 16


class DownloadError(OSError):
    """A data file could not be obtained: offline, a bad HTTP status, a short read."""


class ChecksumError(DownloadError):
    """A data file's bytes are not the ones that were pinned."""


@dataclass(frozen=True)
class Resource:
    """A file we know how to fetch: its cache name, canonical URL and pinned digests."""

    filename: str
    url: str
    sha1: str = None
    sha256: str = None


TIME_MACHINE = Resource(
    filename="timemachine.txt",
    url="https://d2l-data.s3-accelerate.amazonaws.com/timemachine.txt",
    sha1="090b5e7e70c295757f55df93cb0a180b9691891a",
    sha256="8424dbd9532ac81f7e5f0b6add90e6952baea29158309d7d1bf3884f4e12c516",
)


GUTENBERG_URL = "https://www.gutenberg.org/cache/epub/{ebook}/pg{ebook}.txt"


def gutenberg_resource(ebook):
    """The plain-text file of Project Gutenberg ebook number ``ebook``, cached as ``gutenberg/pg<ebook>.txt``.

    No checksum is pinned: Project Gutenberg revises its files now and then.
    """
    if not is_integer(ebook) or ebook < 1:
        raise ValueError(f"ebook must be a positive integer (a Project Gutenberg ebook number, "
                         f"e.g. 35 for The Time Machine), got {ebook!r}")
    return Resource(filename=f"gutenberg/pg{ebook}.txt", url=GUTENBERG_URL.format(ebook=ebook))


def default_data_dir():
    """The per-user cache directory used when neither argument nor environment names one."""
    if sys.platform.startswith("win"):
        base = os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local"
        return Path(base) / "d2lrnn" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "d2lrnn"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "d2lrnn"


def resolve_data_dir(data_dir=None):
    """The data directory to use: ``data_dir``, else ``$D2LRNN_DATA_DIR``, else the default."""
    if data_dir is not None:
        return Path(data_dir).expanduser()
    from_env = data_dir_from_environment()  # EnvironmentVariableError for a path to a file
    return from_env if from_env is not None else default_data_dir()


def _digests(path):
    sha1, sha256 = hashlib.sha1(), hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK_SIZE), b""):
            sha1.update(chunk)
            sha256.update(chunk)
    return sha1.hexdigest(), sha256.hexdigest()


def checksum_problem(resource, path):
    """None when ``path`` matches the resource's pinned digests, else a description of the mismatch."""
    sha1, sha256 = _digests(path)
    if resource.sha1 and sha1 != resource.sha1:
        return f"SHA-1 is {sha1}, expected {resource.sha1}"
    if resource.sha256 and sha256 != resource.sha256:
        return f"SHA-256 is {sha256}, expected {resource.sha256}"
    return None


def _how_to_supply(resource, target):
    return (
        f"Download {resource.url} on a machine that is online and copy it to "
        f"{target}, or set {DATA_DIR_ENV} (or pass data_dir=) to a directory "
        f"that holds {resource.filename}."
    )


def fetch(resource, data_dir=None, url=None, timeout=30.0):
    """Return the path of ``resource`` in the cache, downloading and verifying it if needed.

    ``url`` replaces the canonical URL (a mirror). A cached file whose digest does
    not match is downloaded again when the directory is writable, otherwise a
    ``ChecksumError`` says what to do. Downloads go to a temporary file in the same
    directory and are renamed into place only once complete and verified.
    """
    folder = resolve_data_dir(data_dir)
    target = folder / resource.filename
    url = url or resource.url
    if target.is_file():
        problem = checksum_problem(resource, target)
        if problem is None:
            return target
        if not os.access(target.parent, os.W_OK):
            raise ChecksumError(
                f"{target} is corrupt ({problem}) and its directory is read-only, "
                f"so it cannot be replaced. {_how_to_supply(resource, target)}"
            )
        # Corrupt cache entry in a writable directory: fetch a fresh copy over it.
    try:
        # The file name may hold a sub-folder (gutenberg/pg35.txt).
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DownloadError(
            f"cannot create the data directory {target.parent} ({e}). "
            f"{_how_to_supply(resource, target)}"
        ) from None  # the message names the reason: no second traceback
    _download_atomically(resource, url, target, timeout)
    return target


def _download_atomically(resource, url, target, timeout):
    try:
        handle, tmp_name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    except OSError as e:
        raise DownloadError(
            f"cannot write to the data directory {target.parent} ({e}). "
            f"{_how_to_supply(resource, target)}"
        ) from None  # the message names the reason: no second traceback
    tmp = Path(tmp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            _copy_url(url, out, timeout, resource, target)
        problem = checksum_problem(resource, tmp)
        if problem is not None:
            raise ChecksumError(
                f"the file downloaded from {url} is not the expected one ({problem}); "
                f"nothing was saved. {_how_to_supply(resource, target)}"
            )
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def _copy_url(url, out, timeout, resource, target):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status = getattr(response, "status", 200)
            if status != 200:
                raise DownloadError(
                    f"downloading {url} answered HTTP {status}, expected 200. "
                    f"{_how_to_supply(resource, target)}"
                )
            expected = response.headers.get("Content-Length")
            received = 0
            for chunk in iter(lambda: response.read(CHUNK_SIZE), b""):
                out.write(chunk)
                received += len(chunk)
    except DownloadError:
        raise
    except urllib.error.HTTPError as e:
        raise DownloadError(
            f"downloading {url} failed with HTTP {e.code} {e.reason}. "
            f"{_how_to_supply(resource, target)}"
        ) from None  # the message names the reason: no second traceback
    except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
        # Offline, DNS failure, refused connection, timeout, connection cut short.
        reason = getattr(e, "reason", e)
        raise DownloadError(
            f"could not download {url} ({reason}). {_how_to_supply(resource, target)}"
        ) from None  # the message names the reason: no second traceback
    if expected is not None and received != int(expected):
        raise DownloadError(
            f"download of {url} stopped after {received} of {expected} bytes; "
            f"nothing was saved. {_how_to_supply(resource, target)}"
        )
