"""Save a trained model with its vocabulary, configuration and history; load it back anywhere.

A checkpoint is a directory holding ``params.params`` (MXNet parameters),
``vocab.json``, ``config.json``, ``history.json`` and, written last,
``manifest.json`` with the SHA-256 of every other file. It is assembled in a
temporary directory beside the target and renamed into place, and ``load``
verifies the manifest, so an interrupted or truncated save never loads.
"""
import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from mxnet.gluon import rnn

from .data import Vocab
from .models import RNNModel, make_rnn_layer
from .history import History

FORMAT = 1
FILES = ("params.params", "vocab.json", "config.json", "history.json")
CELLS = {"rnn": rnn.RNN, "gru": rnn.GRU, "lstm": rnn.LSTM}


class CheckpointError(ValueError):
    """A checkpoint directory is missing, incomplete, corrupt or does not fit."""


def model_config(model):
    """The configuration that rebuilds ``model``: cell, num_layers, num_hiddens, vocab_size."""
    if not isinstance(model, RNNModel):
        raise TypeError(f"checkpoints hold d2lrnn.RNNModel models, got {type(model).__name__}")
    layer = model.rnn
    cell = next(name for name, cls in CELLS.items() if type(layer) is cls)
    if cell == "rnn" and layer._mode != "rnn_tanh":
        raise ValueError("only tanh RNN layers can be checkpointed (rnn.RNN(..., activation='tanh'))")
    return {"cell": cell, "num_layers": layer._num_layers, "num_hiddens": layer._hidden_size,
            "vocab_size": model.vocab_size}


def build_model(config):
    """A fresh, uninitialised ``RNNModel`` for a configuration from ``model_config``."""
    cell = config["cell"]
    if cell not in CELLS:
        raise CheckpointError(f"unknown cell {cell!r} in the checkpoint; expected one of {sorted(CELLS)}")
    return RNNModel(make_rnn_layer(cell, config["num_hiddens"], config["num_layers"]), config["vocab_size"])


def _sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def save(directory, model, vocab, history=None, extra=None):
    """Write a checkpoint of ``model`` (initialised), ``vocab`` and ``history`` to ``directory``.

    ``extra`` is a JSON-serialisable dict stored in the configuration (e.g. training
    settings). An existing checkpoint in ``directory`` is replaced only once the new
    one is complete.
    """
    directory = Path(directory)
    config = model_config(model)
    if config["vocab_size"] != len(vocab):
        raise CheckpointError(f"the model has vocab_size {config['vocab_size']} but vocab has {len(vocab)} tokens")
    config.update(format=FORMAT, extra=extra or {})
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}.", suffix=".tmp"))
    try:
        model.save_parameters(str(tmp / "params.params"))
        (tmp / "vocab.json").write_text(json.dumps(vocab.idx_to_token))
        (tmp / "config.json").write_text(json.dumps(config, indent=1))
        (tmp / "history.json").write_text(json.dumps(dataclasses.asdict(history or History())))
        manifest = {name: _sha256(tmp / name) for name in FILES}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1))
        old = None
        if directory.exists():
            old = directory.with_name(f".{directory.name}.old-{os.getpid()}")
            os.replace(directory, old)
        os.replace(tmp, directory)
        if old is not None:
            shutil.rmtree(old)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return directory


def _read_checked(directory):
    directory = Path(directory)
    if not directory.is_dir():
        raise CheckpointError(
            f"no checkpoint directory at {directory}; train with a checkpoint directory first "
            "(python -m d2lrnn train --checkpoint-dir DIR)")
    manifest_path = directory / "manifest.json"
    if not manifest_path.is_file():
        raise CheckpointError(f"{directory} is not a complete checkpoint: manifest.json is missing "
                              "(the save was interrupted, or this is not a d2lrnn checkpoint)")
    try:
        manifest = json.loads(manifest_path.read_text())
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{manifest_path} is corrupt ({e})") from e
    for name in FILES:
        path = directory / name
        if not path.is_file():
            raise CheckpointError(f"{directory} is not a complete checkpoint: {name} is missing")
        if _sha256(path) != manifest.get(name):
            raise CheckpointError(f"{path} does not match the checkpoint's manifest: the file is "
                                  "truncated or was changed after saving; save the checkpoint again")
    config = json.loads((directory / "config.json").read_text())
    if config.get("format") != FORMAT:
        raise CheckpointError(f"{directory} has checkpoint format {config.get('format')}, this d2lrnn reads {FORMAT}")
    return directory, config


def load(directory, ctx):
    """Load a checkpoint onto ``ctx`` (CPU or GPU, whichever saved it): ``(model, vocab, history, config)``."""
    directory, config = _read_checked(directory)
    tokens = json.loads((directory / "vocab.json").read_text())
    vocab = Vocab.from_tokens(tokens)
    if len(vocab) != config["vocab_size"]:
        raise CheckpointError(f"{directory}: vocab.json has {len(vocab)} tokens but the model expects {config['vocab_size']}")
    model = build_model(config)
    model.load_parameters(str(directory / "params.params"), ctx=ctx)
    history_fields = {f.name for f in dataclasses.fields(History)}
    history = History(**{k: v for k, v in json.loads((directory / "history.json").read_text()).items()
                         if k in history_fields})
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
