"""Where the perplexity jumps, what did the gradient do? Train with the gradient norm logged.

Trains the chapter's two-layer LSTM (256 hidden units, lr 5, clipping 1, batch 32 x 35,
consecutive sampling, the chapter's N(0, 0.01^2) initialisation) with
``train_and_predict_rnn_gluon`` and records the global gradient norm *before* clipping of
every minibatch. It prints the epochs whose perplexity rose by more than 20 % over the
previous epoch, with the largest norms of that epoch and of the one before, next to the
median norm of the run.

    .venv/bin/python scripts/grad_norm_spikes.py --epochs 200 --seed 0 --out /tmp/norms.json
"""
import argparse
import json
import statistics

import d2lrnn as d2l
from d2lrnn import fast
from mxnet import gluon


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="also write per-epoch perplexities and norms as JSON")
    args = parser.parse_args()
    corpus_indices, vocab = d2l.load_data_time_machine()
    ctx = d2l.try_gpu()
    norms = []  # one (1,) NDArray per minibatch, read at the end: no host round trip in the loop
    step = fast.clipped_sgd_step

    def logging_step(params, lr, theta):
        norm = step(params, lr, theta)
        norms.append(norm)
        return norm

    fast.clipped_sgd_step = logging_step  # the training loop looks the name up in the module at each step
    model = d2l.RNNModel(gluon.rnn.LSTM(256, num_layers=2), len(vocab))
    history = d2l.train_and_predict_rnn_gluon(model, 256, corpus_indices, vocab, ctx, args.epochs, 35, 5, 1,
                                              32, [], seed=args.seed, verbose=False, progress=False,
                                              live_plot=False)
    values = [float(n.asscalar()) for n in norms]
    per_epoch = len(values) // len(history)
    epochs = [values[i * per_epoch:(i + 1) * per_epoch] for i in range(len(history))]
    median = statistics.median(values)
    print(f"{len(history)} epochs, {per_epoch} minibatches each; median gradient norm before "
          f"clipping {median:.2f} (clipped to 1)")
    ppl = history.perplexity
    for e in range(1, len(ppl)):
        if ppl[e] > 1.2 * ppl[e - 1]:
            print(f"epoch {e + 1}: perplexity {ppl[e - 1]:.2f} -> {ppl[e]:.2f}; largest norm in epoch "
                  f"{e}: {max(epochs[e - 1]):.1f}, in epoch {e + 1}: {max(epochs[e]):.1f}; "
                  f"next epochs' perplexity {', '.join(f'{p:.2f}' for p in ppl[e + 1:e + 6])}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"perplexity": ppl, "norms": epochs}, f)


if __name__ == "__main__":
    main()
