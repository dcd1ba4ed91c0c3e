"""Save a trained model with its vocabulary, configuration and history; load it back anywhere.

A checkpoint directory holds ``manifest.json`` and one folder ``save-N`` with
``params.params`` (MXNet parameters), ``vocab.json``, ``config.json`` and
``history.json``. The manifest names the current ``save-N`` and the SHA-256 of
each of its files. A save writes ``.partial-save-N`` inside the directory, renames
it to ``save-N`` and then replaces the manifest in one atomic rename: that rename
is the moment the new checkpoint takes over. Whatever a kill leaves behind (a
partial folder, the superseded ``save-M``) is ours, is never loaded, and is
removed the next time the directory is used.

A directory is used for checkpoints only when it is new, empty, or already a
d2lrnn checkpoint (``prepare``); nothing else in it is ever deleted or renamed.
"""
import dataclasses
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from mxnet.base import MXNetError

from ..env._mxnet_errors import mxnet_reason
from .checkpoint_files import (FILES, FORMAT, CheckpointError, build_model, model_config, read_config,
                               read_history, read_manifest, read_vocab, sha256)
from .history import History

__all__ = ["CheckpointError", "FORMAT", "check_compatible", "describe", "load", "model_config",
           "prepare", "save"]

MANIFEST = "manifest.json"
SAVE = re.compile(r"save-(\d+)")
# Entries of ours that a save leaves only when it is interrupted.
LEFTOVER = re.compile(r"\.partial-save-\d+|\.partial-probe-.*|\.manifest\.json\.tmp")


def _one_line(e, directory=None):
    """An OS or MXNet error as one short line; a write MXNet left incomplete says the free space."""
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    reason = mxnet_reason(e, limit=200)
    if directory is not None and "Write incomplete" in reason:
        try:
            reason += f" ({shutil.disk_usage(directory).free // 1024} KiB free on that disk)"
        except OSError:
            pass
    return reason


def _owned(directory):
    """True when ``directory`` holds a d2lrnn manifest."""
    path = directory / MANIFEST
    if not path.is_file():
        return False
    try:
        read_manifest(path)
    except CheckpointError:
        return False
    return True


def _refuse_unusable(directory):
    """Raise ``CheckpointError`` unless ``directory`` is new, empty, ours, or holds only our leftovers."""
    if directory.is_symlink() and not directory.exists():
        raise CheckpointError(f"{directory} is a broken symbolic link; remove it or choose another "
                              "checkpoint directory")
    if directory.exists() and not directory.is_dir():
        raise CheckpointError(f"{directory} is a file, not a directory; choose a new checkpoint "
                              f"directory (for example {directory.with_name(directory.name + '-run')})")
    for parent in directory.parents:
        if parent.exists():
            if not parent.is_dir():
                raise CheckpointError(f"cannot create {directory}: {parent} is a file, not a directory")
            break
    if not directory.is_dir() or _owned(directory):
        return
    others = [p.name for p in directory.iterdir() if not LEFTOVER.fullmatch(p.name)]
    if others:
        raise CheckpointError(
            f"{directory} is not empty and is not a d2lrnn checkpoint (it holds {others[0]!r}"
            f"{f' and {len(others) - 1} more' if len(others) > 1 else ''}); nothing was changed. "
            f"Give a new directory, for example {directory / 'checkpoint'}")


def _write_manifest(directory, manifest):
    """Replace ``manifest.json`` atomically (write a temporary file, flush it to disk, rename)."""
    tmp = directory / ".manifest.json.tmp"
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, directory / MANIFEST)


def _clean_leftovers(directory, current):
    """Remove what interrupted saves of ours left in ``directory``; returns the names removed."""
    removed = []
    for p in directory.iterdir():
        superseded = SAVE.fullmatch(p.name) and p.name != current and p.is_dir()
        if LEFTOVER.fullmatch(p.name) or superseded:
            shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
            removed.append(p.name)
    return removed


def prepare(directory):
    """Make ``directory`` ready for checkpoints and return it as a ``Path``; ``CheckpointError`` if it cannot be.

    Accepted: a path that does not exist yet (it is created), an empty directory, or a
    d2lrnn checkpoint (left as it is until the next save). Refused, with nothing
    changed: a file, a broken link, a non-empty directory that is not a checkpoint,
    a location that cannot be created or written. Leftovers of an interrupted save
    are removed, with a note on stderr.
    """
    directory = Path(directory)
    _refuse_unusable(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if not (directory / MANIFEST).is_file():
            _write_manifest(directory, {"d2lrnn_checkpoint": FORMAT, "current": None, "sha256": {}})
        else:
            with tempfile.NamedTemporaryFile(dir=directory, prefix=".partial-probe-"):
                pass  # the directory is writable
    except OSError as e:
        raise CheckpointError(f"cannot write checkpoints to {directory}: {_one_line(e)}; "
                              "choose a writable location") from e
    manifest = read_manifest(directory / MANIFEST)
    removed = _clean_leftovers(directory, manifest.get("current"))
    if removed:
        print(f"note: removed what an interrupted save left in {directory} ({', '.join(sorted(removed))}); "
              "the checkpoint itself is intact", file=sys.stderr)
    return directory


def _next_save_name(directory):
    numbers = [int(m.group(1)) for p in directory.iterdir()
               if (m := SAVE.fullmatch(p.name.removeprefix(".partial-")))]
    return f"save-{max(numbers, default=0) + 1}"


def _write_files(folder, model, vocab, config, history):
    """Write the four checkpoint files into ``folder``, each flushed to disk."""
    model.save_parameters(str(folder / "params.params"))
    texts = {"vocab.json": json.dumps(vocab.idx_to_token),
             "config.json": json.dumps(config, indent=1),
             "history.json": json.dumps(dataclasses.asdict(history))}
    for name, text in texts.items():
        with open(folder / name, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())


def save(directory, model, vocab, history=None, extra=None):
    """Write a checkpoint of ``model`` (initialised), ``vocab`` and ``history`` to ``directory``.

    ``extra`` is a JSON-serialisable dict stored in the configuration (e.g. training
    settings). The previous checkpoint in ``directory`` stays the current one until the
    new one is complete; a failed save (a full disk, say) raises ``CheckpointError``
    and leaves it in place. ``directory`` must be acceptable to ``prepare``.
    """
    config = model_config(model)
    if config["vocab_size"] != len(vocab):
        raise CheckpointError(f"the model has vocab_size {config['vocab_size']} but vocab has {len(vocab)} tokens")
    config.update(format=FORMAT, extra=extra or {})
    for p in model.collect_params().values():
        try:
            p.data()
        except RuntimeError:
            raise ValueError("the model's parameters are not initialised yet: call "
                             "model.initialize() before saving") from None
    directory = prepare(directory)
    name = _next_save_name(directory)
    partial = directory / f".partial-{name}"
    try:
        partial.mkdir()
        _write_files(partial, model, vocab, config, history or History())
        digests = {f: sha256(partial / f) for f in FILES}
        os.replace(partial, directory / name)
        _write_manifest(directory, {"d2lrnn_checkpoint": FORMAT, "current": name, "sha256": digests})
    except BaseException as e:
        for leftover in (partial, directory / name):
            shutil.rmtree(leftover, ignore_errors=True)
        if not isinstance(e, (OSError, MXNetError)):
            raise
        raise CheckpointError(f"could not save a checkpoint to {directory}: {_one_line(e, directory)}; "
                              f"{describe(directory) or 'the previous checkpoint (if any)'} is unchanged") from e
    _clean_leftovers(directory, name)
    return directory


def describe(directory):
    """'the checkpoint of epoch N' when ``directory`` holds a loadable checkpoint, else None."""
    try:
        history = _read_all(Path(directory))[2]
    except (CheckpointError, OSError):
        return None
    return f"the checkpoint of epoch {history.epoch[-1]}" if history.epoch else "a checkpoint"


def _locate(directory):
    """The folder holding the files of the checkpoint in ``directory`` and their manifest digests."""
    if not directory.is_dir():
        raise CheckpointError(
            f"no checkpoint directory at {directory}; train with a checkpoint directory first "
            "(python -m d2lrnn train --checkpoint-dir DIR)")
    path = directory / MANIFEST
    if not path.is_file():
        raise CheckpointError(f"{directory} is not a checkpoint: manifest.json is missing "
                              "(this is not a d2lrnn checkpoint directory)")
    manifest = read_manifest(path)
    if manifest["current"] is None:
        raise CheckpointError(f"{directory} holds no saved model yet: the training run that "
                              "created it stopped before its first save")
    return directory / manifest["current"], manifest["sha256"]


def _read_all(directory):
    folder, digests = _locate(directory)
    for name in FILES:
        path = folder / name
        if not path.is_file():
            raise CheckpointError(f"{directory} is not a complete checkpoint: {path} is missing")
        if sha256(path) != digests[name]:
            raise CheckpointError(f"{path} does not match the checkpoint's manifest: the file is "
                                  "truncated or was changed after saving; save the checkpoint again")
    config = read_config(folder / "config.json")
    vocab = read_vocab(folder / "vocab.json", config["vocab_size"])
    history = read_history(folder / "history.json")
    return config, vocab, history, folder


def load(directory, ctx):
    """Load a checkpoint onto ``ctx`` (CPU or GPU, whichever saved it): ``(model, vocab, history, config)``.

    Every file is checked (digest, JSON type, values, parameter shapes) and a problem
    raises ``CheckpointError`` naming the file.
    """
    config, vocab, history, folder = _read_all(Path(directory))
    model = build_model(config)
    params = folder / "params.params"
    try:
        model.load_parameters(str(params), ctx=ctx)
    except (MXNetError, AssertionError, ValueError, KeyError) as e:
        raise CheckpointError(f"{params} does not fit the model that config.json describes "
                              f"({_one_line(e)})") from e
    return model, vocab, history, config


def check_compatible(config, checkpoint_vocab, vocab, cell=None, num_layers=None, num_hiddens=None):
    """Raise ``CheckpointError`` naming each difference between a checkpoint and the requested run."""
    problems = []
    for name, wanted in (("cell", cell), ("num_layers", num_layers), ("num_hiddens", num_hiddens)):
        if wanted is not None and config[name] != wanted:
            problems.append(f"{name} is {config[name]!r} in the checkpoint but {wanted!r} was requested")
    if checkpoint_vocab != vocab:
        problems.append(f"the data's vocabulary ({len(vocab)} tokens) differs from the checkpoint's "
                        f"({len(checkpoint_vocab)} tokens)")
    if problems:
        raise CheckpointError("the checkpoint does not fit this run: " + "; ".join(problems)
                              + ". Use the same settings and data, or a new checkpoint directory.")
