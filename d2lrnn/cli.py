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

from . import facts
from .chapter import RNNModel, predict_rnn_gluon, train, train_and_predict_rnn_gluon, try_gpu
from .data import load_data_books, load_data_time_machine, split_corpus
from .download import DownloadError
from .env._environment import EnvironmentVariableError
from .env.device import gpu_problem
from .facts import (FRACTION, NON_NEGATIVE_INT, NON_NEGATIVE_NUMBER, POSITIVE_INT, POSITIVE_NUMBER,
                     SETTING_RULES, Rule)
from .models import make_rnn_layer
from .store import checkpoint
from .training import TrainingDivergedError

# The chapter's settings; a resumed run takes the checkpoint's settings instead.
MODEL_DEFAULTS = dict(facts.MODEL)
TRAIN_DEFAULTS = {**facts.TRAINING, "seed": None, "books": None, "valid_fraction": None}
COMMANDS = ("train", "generate")


class CommandError(Exception):
    """A runtime problem to report in one line and exit with status 1."""


def _arg_type(rule):
    """An argparse ``type=`` from one of the argument rules in ``facts``: parse the text, then check it."""
    def parse(text):
        try:
            value = rule.parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {rule.requirement}, got {text!r}") from None
        if not rule.ok(value):
            raise argparse.ArgumentTypeError(f"must be {rule.requirement}, got {value}")
        return value
    return parse


_positive_int = _arg_type(POSITIVE_INT)
_non_negative_int = _arg_type(NON_NEGATIVE_INT)
_positive_float = _arg_type(POSITIVE_NUMBER)
_non_negative_float = _arg_type(NON_NEGATIVE_NUMBER)
_fraction = _arg_type(FRACTION)
_temperature = _arg_type(Rule(NON_NEGATIVE_NUMBER.requirement + " (0 = greedy)", NON_NEGATIVE_NUMBER.ok, float))


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


def _chapter(name):
    """The chapter's value of setting ``name``, as the help texts show it ('5', not '5.0')."""
    value = {**MODEL_DEFAULTS, **TRAIN_DEFAULTS}[name]
    return f"{value:g}" if isinstance(value, float) else str(value)


def _add_train_command(sub):
    c = _chapter
    t = sub.add_parser(
        "train", help="train a model (the default command)",
        description="Train a model and print perplexity and samples, as the chapter does. "
                    f"Defaults are the chapter's: {c('num_layers')}-layer {c('cell').upper()}, "
                    f"{c('num_hiddens')} hidden units, {facts.NUM_EPOCHS} epochs, "
                    f"{c('num_steps')} steps, batch {c('batch_size')}, lr {c('lr')}, clipping "
                    f"{c('clipping_theta')}, the first {TRAIN_DEFAULTS['num_examples']:,} characters.")
    # Settings default to None, so that a resumed run can tell a flag from the checkpoint's value.
    t.add_argument("--cell", choices=list(facts.CELLS), default=None,
                   help=f"recurrent cell; rnn uses tanh (default {c('cell')})")
    t.add_argument("--num-layers", type=_positive_int, default=None, help=f"stacked layers (default {c('num_layers')})")
    t.add_argument("--num-hiddens", type=_positive_int, default=None,
                   help=f"hidden units per layer (default {c('num_hiddens')})")
    t.add_argument("--num-epochs", "--epochs", type=_positive_int, default=facts.NUM_EPOCHS,
                   help="epochs to train, more epochs when resuming (default %(default)s)")
    t.add_argument("--num-steps", type=_positive_int, default=None,
                   help=f"time steps per minibatch (default {c('num_steps')})")
    t.add_argument("--batch-size", type=_positive_int, default=None,
                   help=f"sequences per minibatch (default {c('batch_size')})")
    t.add_argument("--lr", type=_positive_float, default=None, help=f"SGD learning rate (default {c('lr')})")
    t.add_argument("--clipping-theta", type=_positive_float, default=None,
                   help=f"clip the global gradient norm to this (default {c('clipping_theta')})")
    t.add_argument("--num-examples", type=_positive_int, default=None,
                   help=f"characters of the book to train on (default {c('num_examples')})")
    t.add_argument("--sampling", choices=list(facts.SAMPLINGS), default=None,
                   help=f"minibatch sampling (default {c('sampling')})")
    t.add_argument("--books", type=_positive_int, nargs="+", default=None, metavar="EBOOK",
                   help="train on Project Gutenberg ebooks by number (e.g. 35 36 for The Time "
                        "Machine and The War of the Worlds; --num-examples then applies to each "
                        "book) instead of the chapter's file")
    t.add_argument("--valid-fraction", type=_fraction, default=None,
                   help="hold out the last fraction of the text (of each book) and report "
                        "validation perplexity, e.g. 0.1 (default: no validation)")
    t.add_argument("--patience", type=_positive_int, default=None, metavar="EPOCHS",
                   help="with --valid-fraction, stop once this many epochs in a row brought no new "
                        "lowest validation perplexity (default: train every epoch)")
    t.add_argument("--restore-best", action="store_true",
                   help="with --valid-fraction, end with the weights of the epoch of lowest "
                        "validation perplexity (saved to --checkpoint-dir too)")
    t.add_argument("--seed", type=_non_negative_int, default=None,
                   help="make the run repeatable (default: not seeded)")
    t.add_argument("--data-dir", default=None,
                   help="where timemachine.txt is cached (default: $D2LRNN_DATA_DIR or a per-user cache)")
    t.add_argument("--prefix", action="append", dest="prefixes", default=None,
                   help="text to continue when reporting (repeatable; default "
                        + " and ".join(repr(p) for p in facts.PREFIXES) + ")")
    t.add_argument("--checkpoint-dir", default=None,
                   help="save checkpoints here (a new or empty directory, or an earlier "
                        "checkpoint): every --save-every seconds, at each report, at the end, "
                        "and on Ctrl-C or SIGTERM")
    t.add_argument("--save-every", type=_non_negative_float, default=60.0, metavar="SECONDS",
                   help="with --checkpoint-dir, save after an epoch once this many seconds have "
                        "passed since the last save (default %(default)g; 0 = every epoch)")
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
    g.add_argument("--num-chars", type=_non_negative_int, default=100, help="characters to generate (default %(default)s)")
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


def _check_saved_settings(extra, directory):
    """Raise ``CheckpointError`` unless the training settings a checkpoint stored are usable."""
    for name, value in extra.items():
        if name in SETTING_RULES and not SETTING_RULES[name].ok(value):
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
                  save_every=args.save_every, valid_indices=valid_indices,
                  patience=args.patience, restore_best=args.restore_best)
    train_args = (corpus_indices, vocab, ctx, args.num_epochs, s["num_steps"], s["lr"],
                  s["clipping_theta"], s["batch_size"], args.prefixes or list(facts.PREFIXES))
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
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help")):
        argv.insert(0, "train")  # the chapter's training is the default command
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command == "train" and (args.patience or args.restore_best) and args.valid_fraction is None \
                and not args.resume:
            parser.error("--patience and --restore-best watch the validation perplexity: add --valid-fraction F")
        return run_train(args) if args.command == "train" else run_generate(args)
    except EnvironmentVariableError as e:  # like the variables checked before MXNet loads (__main__)
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (CommandError, DownloadError, TrainingDivergedError, checkpoint.CheckpointError,
            ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted (Ctrl-C): stopped", file=sys.stderr)
        return 130
