"""Command line: ``python -m d2lrnn [train] ...`` and ``python -m d2lrnn generate ...``.

Without a sub-command it trains the chapter's model and prints the chapter's lines.
Exit codes: 0 success, 1 runtime error (data, checkpoint, divergence, device),
2 usage error, 130 stopped with Ctrl-C, 143 stopped with SIGTERM (training saves a
checkpoint first when one was asked for).
"""
import argparse
import signal
import sys

import mxnet as mx

from . import checkpoint, settings
from .data import load_data_books, load_data_time_machine, split_corpus
from .device import gpu_problem, try_gpu
from .download import DownloadError
from .models import RNNModel, make_rnn_layer
from .predict import predict_rnn_gluon
from .training import TrainingDivergedError, train, train_and_predict_rnn_gluon
from ._args import check_positive, check_seed

# The chapter's settings; a resumed run takes the checkpoint's settings instead.
MODEL_DEFAULTS = dict(settings.MODEL)
TRAIN_DEFAULTS = {**settings.TRAINING, "seed": None, "books": None, "valid_fraction": None}
COMMANDS = ("train", "generate")


class CommandError(Exception):
    """A runtime problem to report in one line and exit with status 1."""


def _arg_type(convert, ok, requirement):
    """An argparse ``type=``: ``convert`` the text, then insist on ``ok(value)``."""
    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {requirement}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"must be {requirement}, got {value}")
        return value
    return parse


_positive_int = _arg_type(int, lambda v: v >= 1, "a positive integer")
_non_negative_int = _arg_type(int, lambda v: v >= 0, "an integer >= 0")
_positive_float = _arg_type(float, lambda v: 0 < v < float("inf"), "a positive finite number")
_non_negative_float = _arg_type(float, lambda v: 0 <= v < float("inf"), "a finite number >= 0")
_fraction = _arg_type(float, lambda v: 0 < v < 1, "a number strictly between 0 and 1, e.g. 0.1")
_temperature = _arg_type(float, lambda v: 0 <= v < float("inf"), "a finite number >= 0 (0 = greedy)")


def _add_device(p):
    p.add_argument("--device", choices=["auto", "cpu", "gpu"], default="auto",
                   help="where to compute: the GPU if MXNet can run on it (auto, the default: it runs a test "
                        "kernel first), the CPU, or the GPU (an error, with the reason, when it cannot be used)")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m d2lrnn",
        description="Train character-level deep RNN language models on The Time Machine and "
                    "generate text with them. Without a command, 'train' runs with the "
                    "chapter's settings.",
        epilog="Exit codes: 0 success, 1 runtime error, 2 usage error, 130 stopped with Ctrl-C, "
               "143 stopped with SIGTERM.")
    sub = parser.add_subparsers(dest="command", metavar="{train,generate}")

    _add_train_command(sub)
    _add_generate_command(sub)
    return parser


def _add_train_command(sub):
    t = sub.add_parser(
        "train", help="train a model (the default command)",
        description="Train a model and print perplexity and samples, as the chapter does. "
                    "Defaults are the chapter's: 2-layer LSTM, 256 hidden units, 500 epochs, "
                    "35 steps, batch 32, lr 5, clipping 1, the first 10,000 characters.")
    t.add_argument("--cell", choices=["lstm", "gru", "rnn"], default=None,
                   help="recurrent cell; rnn uses tanh (default lstm)")
    t.add_argument("--num-layers", type=_positive_int, default=None, help="stacked layers (default 2)")
    t.add_argument("--num-hiddens", type=_positive_int, default=None, help="hidden units per layer (default 256)")
    t.add_argument("--num-epochs", "--epochs", type=_positive_int, default=settings.NUM_EPOCHS,
                   help=f"epochs to train, more epochs when resuming (default {settings.NUM_EPOCHS})")
    t.add_argument("--num-steps", type=_positive_int, default=None, help="time steps per minibatch (default 35)")
    t.add_argument("--batch-size", type=_positive_int, default=None, help="sequences per minibatch (default 32)")
    t.add_argument("--lr", type=_positive_float, default=None, help="SGD learning rate (default 5)")
    t.add_argument("--clipping-theta", type=_positive_float, default=None,
                   help="clip the global gradient norm to this (default 1)")
    t.add_argument("--num-examples", type=_positive_int, default=None,
                   help="characters of the book to train on (default 10000)")
    t.add_argument("--sampling", choices=["consecutive", "random"], default=None,
                   help="minibatch sampling (default consecutive)")
    t.add_argument("--books", type=_positive_int, nargs="+", default=None, metavar="EBOOK",
                   help="train on Project Gutenberg ebooks by number (e.g. 35 36 for The Time "
                        "Machine and The War of the Worlds; --num-examples then applies to each "
                        "book) instead of the chapter's file")
    t.add_argument("--valid-fraction", type=_fraction, default=None,
                   help="hold out the last fraction of the text (of each book) and report "
                        "validation perplexity, e.g. 0.1 (default: no validation)")
    t.add_argument("--seed", type=_non_negative_int, default=None,
                   help="make the run repeatable (default: not seeded)")
    t.add_argument("--data-dir", default=None,
                   help="where timemachine.txt is cached (default: $D2LRNN_DATA_DIR or a per-user cache)")
    t.add_argument("--prefix", action="append", dest="prefixes", default=None,
                   help="text to continue when reporting (repeatable; default 'traveller' and 'time traveller')")
    t.add_argument("--checkpoint-dir", default=None,
                   help="save checkpoints here (a new or empty directory, or an earlier "
                        "checkpoint): every --save-every seconds, at each report, at the end, "
                        "and on Ctrl-C or SIGTERM")
    t.add_argument("--save-every", type=_non_negative_float, default=60.0, metavar="SECONDS",
                   help="with --checkpoint-dir, save after an epoch once this many seconds have "
                        "passed since the last save (default 60; 0 = every epoch)")
    t.add_argument("--resume", action="store_true",
                   help="continue from the checkpoint in --checkpoint-dir, with its model and settings")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_device(t)


def _add_generate_command(sub):
    g = sub.add_parser("generate", help="continue a prefix with a saved model",
                       description="Load a checkpoint and continue a prefix. Temperature 0 (the "
                                   "default) picks the most likely character each time.")
    g.add_argument("--checkpoint", required=True, help="checkpoint directory written by 'train --checkpoint-dir'")
    g.add_argument("--prefix", required=True, help="text to continue (characters in the model's vocabulary)")
    g.add_argument("--num-chars", type=_non_negative_int, default=100, help="characters to generate (default 100)")
    g.add_argument("--temperature", type=_temperature, default=0.0,
                   help="0 = greedy (default); 1 = sample from the model; <1 sharper, >1 more random")
    g.add_argument("--top-k", type=_positive_int, default=None, help="sample only among the k most likely characters")
    g.add_argument("--seed", type=_non_negative_int, default=None, help="make sampling repeatable")
    _add_device(g)


def resolve_device(device):
    """The MXNet context for ``--device``; ``CommandError`` when a GPU is demanded but missing."""
    if device == "cpu":
        return mx.cpu()
    if device == "gpu":
        problem = gpu_problem(0)
        if problem is not None:
            raise CommandError(f"--device gpu: no usable GPU: {problem.reason}. Use --device cpu or --device auto.")
        return mx.gpu(0)
    return try_gpu()


def _settings(args, saved):
    """Explicit flags, else the checkpoint's settings when resuming, else the chapter's."""
    out = {}
    for name, default in {**MODEL_DEFAULTS, **TRAIN_DEFAULTS}.items():
        value = getattr(args, name)
        out[name] = value if value is not None else saved.get(name, default)
    return out


def load_corpus(s, data_dir):
    """``(train_indices, valid_indices or None, vocab)`` for the settings ``s``."""
    if s["books"]:
        corpora, vocab = load_data_books(s["books"], num_examples=s["num_examples"], data_dir=data_dir)
    else:
        corpus, vocab = load_data_time_machine(s["num_examples"], data_dir=data_dir)
        corpora = [corpus]
    if s["valid_fraction"] is None:
        return [i for c in corpora for i in c], None, vocab
    # Hold out the end of each book, so every book is represented in both parts.
    parts = [split_corpus(c, s["valid_fraction"]) for c in corpora]
    return [i for p in parts for i in p[0]], [i for p in parts for i in p[1]], vocab


def _saved_setting_ok(name, value):
    """True when a training setting stored in a checkpoint has a usable type and value."""
    try:
        if name in ("num_steps", "batch_size", "num_examples"):
            check_positive(name, value)
        elif name in ("lr", "clipping_theta"):
            check_positive(name, value, integer=False)
        elif name == "seed":
            check_seed(value)
        elif name == "sampling":
            return value in ("consecutive", "random")
        elif name == "books":
            return value is None or isinstance(value, list) and bool(value) and all(
                _saved_setting_ok("num_examples", book) for book in value)
        elif name == "valid_fraction":
            return value is None or _saved_setting_ok("lr", value) and value < 1
    except ValueError:
        return False
    return True


def _check_saved_settings(extra, directory):
    """Raise ``CheckpointError`` unless the training settings a checkpoint stored are usable."""
    for name, value in extra.items():
        if name in TRAIN_DEFAULTS and not _saved_setting_ok(name, value):
            raise checkpoint.CheckpointError(
                f"{directory}: config.json has the training setting {name} = {value!r}, which "
                "cannot be used; the checkpoint was edited or damaged, start a new run")


def _open_checkpoint_dir(args, ctx):
    """Check --checkpoint-dir before any work; when resuming, load it: ``(model, vocab, history, saved)``."""
    if args.resume and not args.checkpoint_dir:
        raise CommandError("--resume needs --checkpoint-dir DIR (the checkpoint to continue)")
    if not args.checkpoint_dir:
        return None, None, None, {}
    if args.resume:
        model, vocab, history, config = checkpoint.load(args.checkpoint_dir, ctx)
        _check_saved_settings(config["extra"], args.checkpoint_dir)
        checkpoint.prepare(args.checkpoint_dir)  # writable?
        return model, vocab, history, {**config, **config["extra"]}
    directory = checkpoint.prepare(args.checkpoint_dir)
    held = checkpoint.describe(directory)
    if held:
        print(f"note: {directory} holds {held}; this new run replaces it at its first save "
              "(use --resume to continue it instead)", file=sys.stderr)
    return None, None, None, {}


def run_train(args):
    ctx = resolve_device(args.device)
    saved_model, saved_vocab, history, saved = _open_checkpoint_dir(args, ctx)
    s = _settings(args, saved)
    corpus_indices, valid_indices, vocab = load_corpus(s, args.data_dir)
    if args.resume:
        checkpoint.check_compatible(saved, saved_vocab, vocab, args.cell, args.num_layers, args.num_hiddens)
        model = saved_model
    else:
        model = RNNModel(make_rnn_layer(s["cell"], s["num_hiddens"], s["num_layers"]), len(vocab))
    print(f"{s['cell']} x {s['num_layers']} layers, {s['num_hiddens']} hidden, "
          f"{len(corpus_indices)} training characters"
          + (f", {len(valid_indices)} held out" if valid_indices else "")
          + f", vocabulary {len(vocab)}, on {ctx}"
          + (f", resuming after epoch {len(history)}" if args.resume else ""), flush=True)
    extra = {k: s[k] for k in TRAIN_DEFAULTS}
    common = dict(sampling=s["sampling"], seed=s["seed"], progress=False if args.no_progress else "auto",
                  live_plot=False, checkpoint_dir=args.checkpoint_dir, checkpoint_extra=extra,
                  save_every=args.save_every, valid_indices=valid_indices)
    train_args = (corpus_indices, vocab, ctx, args.num_epochs, s["num_steps"], s["lr"],
                  s["clipping_theta"], s["batch_size"], args.prefixes or list(settings.PREFIXES))
    if args.resume:
        history = train(model, *train_args, history=history, **common)
    else:
        history = train_and_predict_rnn_gluon(model, s["num_hiddens"], *train_args, **common)
    if history.interrupted:
        where = f"; checkpoint saved to {args.checkpoint_dir}" if args.checkpoint_dir else ""
        print(f"{history.stop_signal}: stopped after {len(history)} complete epochs{where}",
              file=sys.stderr)
        return 128 + signal.Signals[history.stop_signal]
    if args.checkpoint_dir:
        print(f"checkpoint saved to {args.checkpoint_dir}")
    return 0


def run_generate(args):
    ctx = resolve_device(args.device)
    model, vocab, _, _ = checkpoint.load(args.checkpoint, ctx)
    print(predict_rnn_gluon(args.prefix, args.num_chars, model, vocab, ctx,
                            temperature=args.temperature, top_k=args.top_k, seed=args.seed))
    return 0


def main(argv=None):
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C raises KeyboardInterrupt again
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help")):
        argv.insert(0, "train")  # the chapter's training is the default command
    try:
        args = build_parser().parse_args(argv)
        return run_train(args) if args.command == "train" else run_generate(args)
    except (CommandError, DownloadError, TrainingDivergedError, checkpoint.CheckpointError,
            ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted (Ctrl-C): stopped", file=sys.stderr)
        return 130
