"""What the benchmark measures: the chapter's configuration, the per-cell learning rates, the targets of issue 5."""
from pathlib import Path

from d2lrnn import facts
from d2lrnn.facts import CELLS as CELL_TABLE

BENCHMARKS = Path(__file__).resolve().parent.parent
REPO = BENCHMARKS.parent
SCRIPT = BENCHMARKS / "bench_train.py"
WORK = BENCHMARKS / "_work"  # git-ignored: the d2l 0.9.2 install, corpus, logs, results

# The chapter's configuration (its number of epochs is the time-to-quality run's default).
CHAPTER = {**facts.MODEL, **facts.TRAINING}
CHAPTER_EPOCHS = facts.NUM_EPOCHS
PREFIXES = list(facts.PREFIXES)
CELLS = tuple(CELL_TABLE)
CELL_NAMES = {name: cell.layer + (f"-{cell.activation}" if cell.activation else "") for name, cell in CELL_TABLE.items()}
# The chapter's lr 5 is for its LSTM; a tanh RNN diverges with it (d2lrnn stops at epoch 6
# of the chapter's setting with perplexity 3.6e5), so it trains with lr 1, as d2l 1.0 does.
CELL_LR = {"lstm": CHAPTER["lr"], "gru": CHAPTER["lr"], "rnn": 1.0}

HELPER_VERSION = "0.9.2"  # the d2l release the 2019 chapter imports
TORCH_PIN = "torch==2.13.0"  # the optional `benchmark` extra in pyproject.toml
RESULT_TAG = "BENCH_RESULT "
TARGET_PPL = 1.1
MATMUL_N = 2048

# Targets from issue 5.
TARGET_VS_TORCH = 1.2
TARGET_VS_HELPER = 2.5
TARGET_CEILING = 0.75
TARGET_RSS = 1 << 30
TARGET_CHAPTER_SECONDS = 180.0


def flops_per_token(cell, vocab_size, num_hiddens, num_layers):
    """Matrix-multiply FLOPs per token, forward + backward, for one-hot -> RNN -> dense.

    Layer l maps its input (size V for l = 1, H above) and the previous hidden state
    (size H) to G*H gate pre-activations: 2*G*H*(in_l + H) FLOPs. The dense head adds
    2*H*V. Backward costs twice the forward (gradients for inputs and for weights), so
    the total is 3x the forward. Element-wise gate math, biases and softmax are left out.
    """
    gates = CELL_TABLE[cell].num_gates
    forward = 2 * num_hiddens * vocab_size  # dense head
    for layer in range(num_layers):
        inputs = vocab_size if layer == 0 else num_hiddens
        forward += 2 * gates * num_hiddens * (inputs + num_hiddens)
    return 3 * forward


FLOP_FORMULA = ("FLOP/token = 3 x [sum over layers 2*G*H*(in + H) + 2*H*V], in = V for layer 1 "
                "and H above, G = " + ", ".join(f"{c.num_gates} ({c.layer})" for c in CELL_TABLE.values())
                + "; matrix multiplies only, backward = 2x forward")


def describe_config(args, vocab_size):
    """The configuration line printed under the machine."""
    return (f"{CHAPTER['num_layers']} layers, {args.num_hiddens} hidden, vocabulary {vocab_size} "
            f"(first {CHAPTER['num_examples']:,} characters), batch {CHAPTER['batch_size']} × "
            f"{CHAPTER['num_steps']} steps, lr {CHAPTER['lr']:g} (tanh RNN: {CELL_LR['rnn']:g}), "
            f"clipping {CHAPTER['clipping_theta']:g}, {CHAPTER['sampling']} sampling, seed {args.seed}, "
            f"{'GPU 0' if args.device == 'gpu' else 'CPU'}")
