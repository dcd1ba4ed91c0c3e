"""The files inside a checkpoint: what each must contain, read back with every value checked.

A checkpoint may have been edited or truncated; each reader here raises ``CheckpointError`` naming the file and what is wrong with it,
never a ``KeyError`` or ``TypeError`` from deep inside.
"""
import hashlib
import json
from pathlib import Path

from ..facts import is_integer, is_number
from ..data import Vocab
from .history import History
from ..models import LAYER_CLASSES, RNNModel, layer_config, make_rnn_layer

FILES = ("params.params", "vocab.json", "config.json", "history.json")
FORMAT = 2  # written into manifest.json and config.json


class CheckpointError(ValueError):
    """A checkpoint directory is missing, incomplete, corrupt, does not fit, or cannot be written."""


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def model_config(model):
    """The configuration that rebuilds ``model``: cell, num_layers, num_hiddens, vocab_size, bidirectional, dropout.

    Raises ``TypeError``/``ValueError`` for a model a checkpoint could not restore.
    """
    if not isinstance(model, RNNModel):
        raise TypeError(f"checkpoints hold d2lrnn.RNNModel models, got {type(model).__name__}")
    c = model.config
    if c.mode == "rnn_relu":
        raise ValueError("only tanh RNN layers can be checkpointed (rnn.RNN(..., activation='tanh'))")
    if c.lstm_state_clip[:2] != (None, None) or c.dtype != "float32":
        raise ValueError("checkpoints restore float32 layers without lstm_state_clip_min/max; "
                         "this layer uses other settings")
    return {"cell": c.cell, "num_layers": c.num_layers, "num_hiddens": c.num_hiddens,
            "vocab_size": model.vocab_size, "bidirectional": c.bidirectional, "dropout": c.dropout}


def build_model(config):
    """A fresh, uninitialised ``RNNModel`` for a configuration from ``model_config``."""
    layer = make_rnn_layer(config["cell"], config["num_hiddens"], config["num_layers"],
                           bidirectional=config["bidirectional"], dropout=config["dropout"])
    return RNNModel(layer, config["vocab_size"])


def _read_json(path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path} is not valid JSON ({e}); the checkpoint is damaged") from e


def _fail(path, what):
    raise CheckpointError(f"{path} {what}; the checkpoint is damaged or was edited, save it again")


def _is_int(value, low=1):
    return is_integer(value) and value >= low


def read_manifest(path):
    """The manifest: ``{'d2lrnn_checkpoint': 2, 'current': 'save-N' or None, 'sha256': {file: digest}}``."""
    manifest = _read_json(path)
    if not isinstance(manifest, dict):
        _fail(path, f"holds a JSON {type(manifest).__name__}, not an object")
    current, digests = manifest.get("current"), manifest.get("sha256")
    if manifest.get("d2lrnn_checkpoint") != FORMAT:
        _fail(path, f"has checkpoint format {manifest.get('d2lrnn_checkpoint')!r}; this d2lrnn reads format {FORMAT}")
    if not (current is None or isinstance(current, str) and current.startswith("save-")
            and current[5:].isdigit()):
        _fail(path, f"names {current!r} as the current save (expected 'save-N' or null)")
    if not isinstance(digests, dict) or (current is not None and (
            set(digests) != set(FILES) or not all(isinstance(v, str) for v in digests.values()))):
        _fail(path, f"does not list the files {list(FILES)} with their SHA-256")
    return manifest


def read_config(path):
    """``config.json``, with every field's type and range checked."""
    config = _read_json(path)
    if not isinstance(config, dict):
        _fail(path, f"holds a JSON {type(config).__name__}, not an object")
    if config.get("format") != FORMAT:
        _fail(path, f"has format {config.get('format')!r}; this d2lrnn reads format {FORMAT}")
    if config.get("cell") not in LAYER_CLASSES:
        _fail(path, f"has cell {config.get('cell')!r}; expected one of {sorted(LAYER_CLASSES)}")
    for name in ("num_layers", "num_hiddens", "vocab_size"):
        if not _is_int(config.get(name)):
            _fail(path, f"has {name} {config.get(name)!r}; expected a positive integer")
    if not isinstance(config.get("bidirectional"), bool):
        _fail(path, f"has bidirectional {config.get('bidirectional')!r}; expected true or false")
    dropout = config.get("dropout")
    if not is_number(dropout) or not 0 <= dropout < 1:
        _fail(path, f"has dropout {dropout!r}; expected a number from 0 to below 1")
    if not isinstance(config.get("extra"), dict):
        _fail(path, f"has extra {config.get('extra')!r}; expected an object")
    return config


def read_vocab(path, vocab_size):
    """``vocab.json`` as a ``Vocab`` of ``vocab_size`` tokens."""
    tokens = _read_json(path)
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        _fail(path, "is not a JSON list of strings")
    if len(tokens) != vocab_size:
        _fail(path, f"has {len(tokens)} tokens but config.json says vocab_size {vocab_size}")
    try:
        return Vocab.from_tokens(tokens)
    except ValueError as e:
        _fail(path, f"is not a vocabulary ({e})")


def read_history(path):
    """``history.json`` as a ``History``; unknown keys (from newer versions) are ignored."""
    data = _read_json(path)
    if not isinstance(data, dict):
        _fail(path, f"holds a JSON {type(data).__name__}, not an object")
    lists = ("epoch", "perplexity", "seconds", "num_tokens", "val_perplexity")
    for name in lists:
        values = data.get(name, [])
        if not isinstance(values, list) or not all(is_number(v) for v in values):
            _fail(path, f"has {name} {str(values)[:40]}; expected a list of numbers")
    if not all(_is_int(e) for e in data.get("epoch", [])):
        _fail(path, "has epoch numbers that are not positive integers")
    lengths = {len(data.get(name, [])) for name in lists[:4]}
    if len(lengths) > 1 or len(data.get("val_perplexity", [])) not in (0, *lengths):
        _fail(path, "has lists of different lengths (one entry per epoch expected)")
    if not isinstance(data.get("interrupted", False), bool):
        _fail(path, f"has interrupted {data['interrupted']!r}; expected true or false")
    if data.get("stop_signal") not in (None, "SIGINT", "SIGTERM"):
        _fail(path, f"has stop_signal {data['stop_signal']!r}; expected null, 'SIGINT' or 'SIGTERM'")
    trained_on = data.get("trained_on", [])  # absent in checkpoints of older versions
    if not isinstance(trained_on, list) or not all(isinstance(r, dict) and _is_int(r.get("first_epoch"))
                                                   for r in trained_on):
        _fail(path, "has trained_on that is not a list of records with a first_epoch")
    epochs = ("diverged_at", "best_epoch", "stopped_early_at", "restored_epoch")  # the last three: absent before
    for name in epochs:
        if data.get(name) is not None and not _is_int(data[name]):
            _fail(path, f"has {name} {data[name]!r}; expected null or an epoch number")
    fields = {name: data[name] for name in (*lists, "interrupted", "stop_signal", "trained_on", *epochs,
                                           "diverged_perplexity") if name in data}
    return History(**fields)
