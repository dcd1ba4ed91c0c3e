"""Command line: ``python -m d2lrnn`` trains the chapter's model and prints the chapter's lines.

Exit codes: 0 success, 1 runtime error (data, divergence), 2 usage error.
"""
import argparse
import sys

from mxnet.gluon import rnn

from .data import load_data_time_machine
from .device import try_gpu
from .download import DownloadError
from .models import RNNModel
from .training import TrainingDivergedError, train_and_predict_rnn_gluon

CHAPTER_PREFIXES = ["traveller", "time traveller"]


def make_rnn_layer(cell, num_hiddens, num_layers):
    """A fused Gluon layer: ``'lstm'``, ``'gru'`` or ``'rnn'`` (tanh, not Gluon's relu default)."""
    if cell == "lstm":
        return rnn.LSTM(hidden_size=num_hiddens, num_layers=num_layers)
    if cell == "gru":
        return rnn.GRU(hidden_size=num_hiddens, num_layers=num_layers)
    if cell == "rnn":
        return rnn.RNN(hidden_size=num_hiddens, num_layers=num_layers, activation="tanh")
    raise ValueError(f"cell must be 'lstm', 'gru' or 'rnn', got {cell!r}")


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def _positive_float(text):
    value = float(text)
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {value}")
    return value


def build_parser():
    p = argparse.ArgumentParser(
        prog="python -m d2lrnn",
        description="Train the chapter's deep RNN language model on The Time Machine "
                    "(defaults: 2-layer LSTM, 256 hidden units, 500 epochs, 35 steps, "
                    "batch 32, lr 5, clipping 1) and print perplexity and samples.")
    p.add_argument("--cell", choices=["lstm", "gru", "rnn"], default="lstm",
                   help="recurrent cell (rnn uses tanh); default lstm")
    p.add_argument("--num-layers", type=_positive_int, default=2, help="stacked layers; default 2")
    p.add_argument("--num-hiddens", type=_positive_int, default=256, help="hidden units per layer; default 256")
    p.add_argument("--num-epochs", "--epochs", type=_positive_int, default=500, help="default 500")
    p.add_argument("--num-steps", type=_positive_int, default=35, help="time steps per minibatch; default 35")
    p.add_argument("--batch-size", type=_positive_int, default=32, help="default 32")
    p.add_argument("--lr", type=_positive_float, default=5.0, help="SGD learning rate; default 5")
    p.add_argument("--clipping-theta", type=_positive_float, default=1.0,
                   help="clip the global gradient norm to this; default 1")
    p.add_argument("--num-examples", type=_positive_int, default=10000,
                   help="characters of the book to train on; default 10000")
    p.add_argument("--sampling", choices=["consecutive", "random"], default="consecutive")
    p.add_argument("--seed", type=int, default=None, help="make the run repeatable")
    p.add_argument("--data-dir", default=None,
                   help="where timemachine.txt is cached (default: $D2LRNN_DATA_DIR or a per-user cache)")
    p.add_argument("--prefix", action="append", dest="prefixes", default=None,
                   help="text to continue (repeatable); default 'traveller' and 'time traveller'")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        corpus_indices, vocab = load_data_time_machine(args.num_examples, data_dir=args.data_dir)
        ctx = try_gpu()
        model = RNNModel(make_rnn_layer(args.cell, args.num_hiddens, args.num_layers), len(vocab))
        print(f"{args.cell} x {args.num_layers} layers, {args.num_hiddens} hidden, "
              f"{len(corpus_indices)} characters, vocabulary {len(vocab)}, on {ctx}", flush=True)
        train_and_predict_rnn_gluon(
            model, args.num_hiddens, corpus_indices, vocab, ctx, args.num_epochs,
            args.num_steps, args.lr, args.clipping_theta, args.batch_size,
            args.prefixes or CHAPTER_PREFIXES, sampling=args.sampling, seed=args.seed)
    except (DownloadError, TrainingDivergedError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0
