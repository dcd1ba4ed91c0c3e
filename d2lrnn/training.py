"""One training loop for character language models, plus prediction, clipping and perplexity.

Any model with the ``RNNModel`` calling convention works: ``model(X, state)`` with X
of shape (batch_size, num_steps) returns ``(logits, state)`` with logits of shape
(num_steps * batch_size, vocab_size), ``model.begin_state(batch_size=, ctx=)``, and
its parameters in ``model.collect_params()``.
"""
import math
import numbers
import random
import time
from dataclasses import dataclass, field

import mxnet as mx
from mxnet import autograd, gluon, init, nd
from mxnet.gluon import loss as gloss

from .data import check_corpus_length, data_iter_consecutive, data_iter_random

SAMPLERS = {"consecutive": data_iter_consecutive, "random": data_iter_random}


class TrainingDivergedError(FloatingPointError):
    """Training produced an infinite or NaN loss; ``history`` holds the epochs before it."""

    def __init__(self, message, history):
        super().__init__(message)
        self.history = history


@dataclass
class History:
    """Per-epoch record of a training run: perplexity, seconds and tokens seen.

    ``val_perplexity`` holds the held-out perplexity after each epoch, and stays
    empty when training had no validation data. ``seconds`` is training time only.
    """

    epoch: list = field(default_factory=list)
    perplexity: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    num_tokens: list = field(default_factory=list)
    val_perplexity: list = field(default_factory=list)

    def append(self, epoch, perplexity, seconds, num_tokens, val_perplexity=None):
        self.epoch.append(epoch)
        self.perplexity.append(perplexity)
        self.seconds.append(seconds)
        self.num_tokens.append(num_tokens)
        if val_perplexity is not None:
            self.val_perplexity.append(val_perplexity)

    def __len__(self):
        return len(self.epoch)

    @property
    def tokens_per_sec(self):
        """Training throughput over the whole run (0 before the first epoch)."""
        total = sum(self.seconds)
        return sum(self.num_tokens) / total if total > 0 else 0.0

    def __repr__(self):
        if not self.epoch:
            return "History(0 epochs)"
        valid = (f", validation perplexity {self.val_perplexity[0]:.2f} -> {self.val_perplexity[-1]:.2f}"
                 if self.val_perplexity else "")
        return (f"History({len(self)} epochs, perplexity {self.perplexity[0]:.2f} -> "
                f"{self.perplexity[-1]:.2f}{valid}, {sum(self.seconds) / len(self):.3f} s/epoch, "
                f"{self.tokens_per_sec:,.0f} tokens/s)")


def _exp(x):
    """``math.exp`` that gives ``inf`` instead of raising on overflow and keeps NaN."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def perplexity(logits, labels):
    """exp(mean cross-entropy) of ``logits`` (n, vocab_size) against integer ``labels`` (n,)."""
    loss = gloss.SoftmaxCrossEntropyLoss()(logits, labels)  # (n,)
    return _exp(loss.mean().asscalar())


def check_eval_length(corpus_indices, batch_size):
    """Raise ``ValueError`` unless every one of ``batch_size`` rows gets an input and a target."""
    if len(corpus_indices) < 2 * batch_size:
        raise ValueError(
            f"the held-out corpus has {len(corpus_indices)} tokens, but evaluating with "
            f"batch_size={batch_size} needs at least {2 * batch_size} (two per row); "
            "hold out more text or use a smaller batch_size")


def evaluate_perplexity(model, corpus_indices, batch_size, num_steps, ctx):
    """Perplexity of ``model`` on ``corpus_indices``, read in order with the state carried, without gradients.

    The corpus is cut into ``batch_size`` rows read left to right in windows X, Y of
    shape (batch_size, num_steps) (the last window may be shorter), so the result
    does not depend on ``num_steps`` and every token but the first of each row is
    predicted exactly once. The last ``len % batch_size`` tokens are not used.
    """
    _check_positive("batch_size", batch_size, integer=True)
    _check_positive("num_steps", num_steps, integer=True)
    check_eval_length(corpus_indices, batch_size)
    row_len = len(corpus_indices) // batch_size
    rows = nd.array(corpus_indices[:row_len * batch_size], ctx=ctx).reshape((batch_size, row_len))
    loss = gloss.SoftmaxCrossEntropyLoss()
    loss_sum = nd.zeros((1,), ctx=ctx)
    with autograd.pause(train_mode=False):
        state = model.begin_state(batch_size=batch_size, ctx=ctx)
        for i in range(0, row_len - 1, num_steps):
            n = min(num_steps, row_len - 1 - i)
            X, Y = rows[:, i:i + n], rows[:, i + 1:i + 1 + n]  # (batch_size, n)
            output, state = model(X, state)  # output: (n * batch_size, vocab_size)
            loss_sum += loss(output, Y.T.reshape((-1,))).sum()
    return _exp(loss_sum.asscalar() / ((row_len - 1) * batch_size))


def grad_clipping(params, theta, ctx=None):
    """Rescale the gradients of ``params`` in place so their global L2 norm is at most ``theta``.

    ``params`` are NDArrays with gradients attached (``[p.data() for p in ...]``).
    Returns the norm before clipping as a (1,) NDArray; nothing is copied to the
    host, so training never waits here. ``ctx`` is accepted for call compatibility.
    """
    norm = nd.sqrt(nd.add_n(*[(p.grad ** 2).sum() for p in params]))  # (1,)
    # theta / max(norm, theta) is exactly 1 when norm <= theta: gradients unchanged.
    scale = theta / nd.maximum(norm, theta)
    for p in params:
        nd.broadcast_mul(p.grad, scale, out=p.grad)
    return norm


def check_prefix(prefix, vocab):
    """Raise ``ValueError`` unless ``prefix`` is a non-empty string of characters in ``vocab``."""
    if not isinstance(prefix, str) or not prefix:
        raise ValueError(f"prefix must be a non-empty string, got {prefix!r}")
    unknown = sorted({ch for ch in prefix if ch not in vocab.token_to_idx})
    if unknown:
        raise ValueError(
            f"prefix {prefix!r} contains characters that are not in the vocabulary: "
            f"{unknown}; the model only knows {''.join(vocab.idx_to_token[1:])!r}"
            " (text is lower-cased during preprocessing)")


def predict_rnn_gluon(prefix, num_chars, model, vocab, ctx):
    """``prefix`` followed by ``num_chars`` greedily predicted characters."""
    check_prefix(prefix, vocab)
    if not isinstance(num_chars, int) or num_chars < 0:
        raise ValueError(f"num_chars must be a non-negative integer, got {num_chars!r}")
    state = model.begin_state(batch_size=1, ctx=ctx)
    output = [vocab[prefix[0]]]
    for t in range(len(prefix) - 1 + num_chars):
        X = nd.array([[output[-1]]], ctx=ctx)  # (1, 1)
        Y, state = model(X, state)  # Y: (1, vocab_size)
        if t < len(prefix) - 1:
            output.append(vocab[prefix[t + 1]])  # warm up on the prefix
        else:
            output.append(int(Y.argmax(axis=1).asscalar()))
    return "".join(vocab.to_tokens(output))


def _check_positive(name, value, integer):
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind) or not value > 0 \
            or not math.isfinite(value):
        what = "a positive integer" if integer else "a positive finite number"
        raise ValueError(f"{name} must be {what}, got {value!r}")


def check_training_args(corpus_indices, vocab, num_epochs, num_steps, lr,
                        clipping_theta, batch_size, prefixes, sampling):
    """Raise ``ValueError`` with the argument's name for anything training cannot use."""
    _check_positive("num_epochs", num_epochs, integer=True)
    _check_positive("num_steps", num_steps, integer=True)
    _check_positive("batch_size", batch_size, integer=True)
    _check_positive("lr", lr, integer=False)
    _check_positive("clipping_theta", clipping_theta, integer=False)
    if sampling not in SAMPLERS:
        raise ValueError(f"sampling must be one of {sorted(SAMPLERS)}, got {sampling!r}")
    check_corpus_length(corpus_indices, batch_size, num_steps, sampling)
    if isinstance(prefixes, str):
        raise ValueError("prefixes must be a list of strings, e.g. ['traveller'], not a single string")
    for prefix in prefixes:
        check_prefix(prefix, vocab)


def _report_epochs(num_epochs):
    """The chapter prints four times (at each quarter) and predicts at the half and the end."""
    report = sorted({max(1, k * num_epochs // 4) for k in range(1, 5)})
    predict = {max(1, num_epochs // 2), num_epochs}
    return report, predict


def train(model, corpus_indices, vocab, ctx, num_epochs, num_steps, lr, clipping_theta,
          batch_size, prefixes, *, sampling="consecutive", seed=None, pred_len=50,
          verbose=True, valid_indices=None):
    """Train an already initialised ``model`` with SGD and gradient clipping; return a ``History``.

    Consecutive sampling carries the hidden state across the minibatches of an
    epoch (detached, so gradients stop at the batch boundary); random sampling
    starts every minibatch from a zero state. Loss is summed on the device and read
    once per epoch. An infinite or NaN perplexity restores the weights of the last
    good epoch and raises ``TrainingDivergedError``. With ``valid_indices`` the
    perplexity on that held-out text (``evaluate_perplexity``) is recorded after
    every epoch in ``history.val_perplexity`` and printed on the epoch lines.
    """
    check_training_args(corpus_indices, vocab, num_epochs, num_steps, lr,
                        clipping_theta, batch_size, prefixes, sampling)
    if valid_indices is not None:
        check_eval_length(valid_indices, batch_size)
    rng = random.Random(seed)
    sampler = SAMPLERS[sampling]
    loss = gloss.SoftmaxCrossEntropyLoss()
    # Finish deferred initialisation now, so the starting weights can be kept.
    model(nd.zeros((1, 1), ctx=ctx), model.begin_state(batch_size=1, ctx=ctx))
    param_list = list(model.collect_params().values())
    trainer = gluon.Trainer(model.collect_params(), "sgd",
                            {"learning_rate": lr, "momentum": 0, "wd": 0})
    report, predict = _report_epochs(num_epochs)
    history = History()
    last_good = [p.data(ctx).copy() for p in param_list]
    period_start = time.perf_counter()
    for epoch in range(1, num_epochs + 1):
        start = time.perf_counter()
        loss_sum, num_tokens, state = nd.zeros((1,), ctx=ctx), 0, None
        for X, Y in sampler(corpus_indices, batch_size, num_steps, ctx, rng):
            if state is None or sampling == "random":
                state = model.begin_state(batch_size=batch_size, ctx=ctx)
            else:
                state = [s.detach() for s in state]  # keep values, cut the graph
            with autograd.record():
                output, state = model(X, state)  # output: (num_steps * batch_size, vocab_size)
                y = Y.T.reshape((-1,))  # time-major, like output
                l = loss(output, y).mean()
            l.backward()
            grad_clipping([p.data(ctx) for p in param_list], clipping_theta)
            trainer.step(1)
            loss_sum += l * y.size
            num_tokens += y.size
        ppl = _exp(loss_sum.asscalar() / num_tokens)
        if not math.isfinite(ppl):
            for p, good in zip(param_list, last_good):
                p.set_data(good)
            raise TrainingDivergedError(
                f"training diverged at epoch {epoch}: perplexity is {ppl}. lr={lr} with "
                f"clipping_theta={clipping_theta} is too aggressive for this model; try a "
                "smaller lr (the chapter uses 5 for an LSTM) or a smaller clipping_theta. "
                f"The weights of epoch {epoch - 1} were restored.", history)
        seconds = time.perf_counter() - start
        val_ppl = None
        if valid_indices is not None:
            val_ppl = evaluate_perplexity(model, valid_indices, batch_size, num_steps, ctx)
        history.append(epoch, ppl, seconds, num_tokens, val_perplexity=val_ppl)
        last_good = [p.data(ctx).copy() for p in param_list]
        if verbose and epoch in report:
            valid = "" if val_ppl is None else f", validation perplexity {val_ppl:f}"
            print(f"epoch {epoch}, perplexity {ppl:f}{valid}, "
                  f"time {time.perf_counter() - period_start:.2f} sec")
            if epoch in predict:
                for prefix in prefixes:
                    print(" -", predict_rnn_gluon(prefix, pred_len, model, vocab, ctx))
            period_start = time.perf_counter()
    return history


def train_and_predict_rnn_gluon(model, num_hiddens, corpus_indices, vocab, ctx, num_epochs,
                                num_steps, lr, clipping_theta, batch_size, prefixes, *,
                                sampling="consecutive", seed=None, verbose=True,
                                valid_indices=None):
    """The chapter's trainer: initialise ``model`` with N(0, 0.01^2), train, print, return a ``History``.

    ``num_hiddens`` is unused and kept so the chapter's calls work unchanged.
    ``seed`` makes initialisation and sampling repeatable. ``valid_indices``: see ``train``.
    """
    check_training_args(corpus_indices, vocab, num_epochs, num_steps, lr,
                        clipping_theta, batch_size, prefixes, sampling)
    if seed is not None:
        mx.random.seed(seed)
    model.initialize(ctx=ctx, force_reinit=True, init=init.Normal(0.01))
    return train(model, corpus_indices, vocab, ctx, num_epochs, num_steps, lr, clipping_theta,
                 batch_size, prefixes, sampling=sampling, seed=seed, verbose=verbose,
                 valid_indices=valid_indices)
