"""Everything a training run does around the chapter's loop (``chapter.train_and_predict_rnn_gluon``).

The loop itself, in the book's shape, is in chapter.py: minibatches, loss, backward, clip,
step. ``TrainingRun`` is what it calls around those steps: it checks every argument before
any work, hybridizes the model, draws each epoch's minibatches, sums the loss on the device,
and at the end of each epoch computes the perplexity, stops a diverging run (restoring the
last good weights), validates, prints the chapter's lines, draws the progress bar and the
live plot, saves checkpoints, and stops cleanly on Ctrl-C or SIGTERM.

Any model with the ``RNNModel`` calling convention works: ``model(X, state)`` with X of
shape (batch_size, num_steps) returns ``(logits, state)`` with logits of shape
(num_steps * batch_size, vocab_size), ``model.begin_state(batch_size=, ctx=)``, and its
parameters in ``model.collect_params()``.
"""
import numbers
import os
import sys
import time
import warnings

from mxnet import gluon, nd

from .data import check_corpus_length, sampler
from .early_stopping import BestEpoch, check_early_stopping
from .env._busy import hint_if_busy
from .env.device import check_ctx
from .evaluation import check_eval_length, evaluate_perplexity
from .facts import (check_model, check_positive, check_seed, check_vocab, corpus_array, epoch_rng, get_sampling,
                    is_diverged, perplexity_from_loss)
from .models import RNNModel, check_kernel
from .predict import check_prefix
from .progress import StopOnInterrupt, TrainingMonitor, print_report, report_epochs
from .store import checkpoint
from .store.history import History, text_fingerprint


class TrainingDivergedError(FloatingPointError):
    """Training produced an infinite or NaN loss; ``history`` holds the epochs before it."""

    def __init__(self, message, history):
        super().__init__(message)
        self.history = history


def check_training_args(corpus_indices, vocab, num_epochs, num_steps, lr,
                        clipping_theta, batch_size, prefixes, sampling, seed=None):
    """Raise ``ValueError``/``TypeError`` with the argument's name for anything training cannot use."""
    check_vocab(vocab)
    check_positive("num_epochs", num_epochs, integer=True)
    check_positive("num_steps", num_steps, integer=True)
    check_positive("batch_size", batch_size, integer=True)
    check_positive("lr", lr, integer=False)
    check_positive("clipping_theta", clipping_theta, integer=False)
    check_seed(seed)
    get_sampling(sampling)  # ValueError naming the choices
    corpus_array(corpus_indices, len(vocab))
    check_corpus_length(corpus_indices, batch_size, num_steps, sampling)
    if isinstance(prefixes, str) or not isinstance(prefixes, (list, tuple)):
        raise ValueError(f"prefixes must be a list of strings, e.g. ['traveller'], got {prefixes!r}")
    for prefix in prefixes:
        check_prefix(prefix, vocab)


class TrainingRun:
    """One call of the chapter's loop: its checks, minibatches, loss sum and end-of-epoch work.

    ``TrainingRun(model, ...)`` checks every argument (``ValueError``/``TypeError`` naming it);
    ``with run:`` prepares the model (hybridized unless ``hybridize=False``; it must be
    initialised by then) and the progress display; ``run.epochs()`` yields ``(epoch, lr)``
    until the run ends or is stopped, ``run.minibatches(epoch)`` the epoch's ``(X, Y)``,
    ``run.add_loss(l, n)`` adds a minibatch's mean loss, ``run.end_epoch(epoch)`` does the rest.

    Options: ``sampling`` ('consecutive' carries the hidden state across an epoch's
    minibatches, detached; 'random' starts each from zeros) and ``seed`` (the minibatches of
    each epoch; ``train_and_predict_rnn_gluon`` also seeds MXNet before initialising).
    ``history`` continues an earlier run (epochs are numbered on from it).
    ``checkpoint_dir`` (checked first: new, empty or a checkpoint) saves a checkpoint after an
    epoch once ``save_every`` seconds have passed since the last save, at each printed epoch,
    at the end and when stopped. Ctrl-C or SIGTERM stops after the current minibatch and the
    loop returns the history so far (``history.interrupted`` is True, ``history.stop_signal``
    names the signal). A perplexity that is infinite, NaN or above vocab_size**2 (a loss twice
    that of uniform guessing) counts as divergence: the weights of the last good epoch are
    restored and ``TrainingDivergedError`` is raised, its ``history`` with ``diverged_at`` set.
    With ``valid_indices`` the perplexity on that held-out text (``evaluate_perplexity``) is
    recorded after every epoch in ``history.val_perplexity`` and printed on the epoch lines;
    the seconds recorded are training time only. ``lr_schedule(epoch)``, a function of the
    epoch number (counted on from ``history``), gives the factor by which ``lr`` is multiplied
    in that epoch. ``predict_epochs`` (epoch numbers of this run) prints the epoch line and the
    predictions at those epochs instead of the chapter's half and end; the four timed lines
    stay. ``verbose=False`` prints nothing; ``progress`` and ``live_plot`` (True, False or
    'auto') pick the progress bar and the live plot. ``history.trained_on`` records the
    settings and the fingerprints of the training and held-out texts of this call.
    With ``valid_indices``, ``patience`` (epochs) stops the run once that many epochs in a row
    brought no new lowest held-out perplexity, and ``restore_best=True`` ends the call with the
    weights of its best held-out epoch (early_stopping.py); ``history.best_epoch``,
    ``stopped_early_at`` and ``restored_epoch`` record what happened.
    """

    def __init__(self, model, corpus_indices, vocab, ctx, num_epochs, num_steps, lr, clipping_theta,
                 batch_size, prefixes, *, fast=True, sampling="consecutive", seed=None, pred_len=50,
                 verbose=True, progress="auto", live_plot="auto", history=None, checkpoint_dir=None,
                 checkpoint_extra=None, save_every=60.0, hybridize=True, valid_indices=None,
                 lr_schedule=None, predict_epochs=None, patience=None, restore_best=False):
        check_model(model)
        check_training_args(corpus_indices, vocab, num_epochs, num_steps, lr,
                            clipping_theta, batch_size, prefixes, sampling, seed)
        check_ctx(ctx)
        warning = check_kernel(model.config, ctx) if isinstance(model, RNNModel) else None  # or raises
        _check_extras(vocab, batch_size, valid_indices, save_every, lr_schedule)
        _check_fast(fast, model)
        check_early_stopping(patience, restore_best, valid_indices)
        if warning:  # once every argument is known to be good
            _warn_at_caller(warning)
        self.early_stopping = (patience, restore_best)
        self.model, self.vocab, self.ctx, self.num_epochs = model, vocab, ctx, num_epochs
        self.num_steps, self.lr, self.clipping_theta, self.batch_size = num_steps, lr, clipping_theta, batch_size
        self.prefixes, self.sampling, self.seed, self.pred_len = prefixes, get_sampling(sampling), seed, pred_len
        self.verbose, self.progress, self.live_plot, self.hybridize = verbose, progress, live_plot, hybridize
        self.checkpoint = (checkpoint_dir, save_every, checkpoint_extra)
        self.valid_indices, self.lr_schedule = valid_indices, lr_schedule
        self.history = history if history is not None else History()
        self.first = len(self.history) + 1
        self.report, self.predict = report_epochs(num_epochs, self.first, predict_epochs)
        # Converted once: making an NDArray from a NumPy slice each epoch is ~20x faster than from a list.
        self.corpus = corpus_array(corpus_indices, len(vocab))
        # Frozen parameters (grad_req 'null') have no gradient and stay as they are.
        self.trainable = [p for p in model.collect_params().values() if p.grad_req != "null"]

    def __enter__(self):
        model, history = self.model, self.history
        _prepare_model(model, self.vocab, self.ctx, self.hybridize)  # now the starting weights can be kept
        history.interrupted, history.stop_signal = False, None
        history.diverged_at = history.diverged_perplexity = None
        history.best_epoch = history.stopped_early_at = history.restored_epoch = None
        self.best = BestEpoch(*self.early_stopping, list(model.collect_params().values()), self.ctx)
        _record(history, model, self.corpus, self.valid_indices, self.lr, self.clipping_theta, self.num_steps,
                self.batch_size, self.sampling.name, self.seed)
        self.saver = _Saver(*self.checkpoint, model, self.vocab, history)
        self.last_good = [p.data(self.ctx).copy() for p in model.collect_params().values()]
        self.monitor = TrainingMonitor(self.num_epochs, self.first, self.progress, self.live_plot)
        self.period_start = time.perf_counter()
        self.interrupt = StopOnInterrupt().__enter__()  # left in __exit__
        return self

    def __exit__(self, *exc):
        try:
            self.interrupt.__exit__(*exc)
        finally:
            self.monitor.close(self.history)

    def epochs(self):
        """``(epoch, lr)`` for each epoch of this run (lr times ``lr_schedule(epoch)`` with one), until stopped."""
        for epoch in range(self.first, self.first + self.num_epochs):
            if self.history.interrupted:
                return
            if self.history.stopped_early_at is not None:
                break
            yield epoch, _epoch_lr(self.lr, self.lr_schedule, epoch)
        self._restore_best()

    def _restore_best(self):
        """At the end of an uninterrupted run: the best held-out epoch's weights, when asked for, saved."""
        restored = self.best.restore()
        if restored is not None:
            self.history.restored_epoch = restored
            if self.verbose:
                self.monitor.write(f"restored the weights of epoch {restored}, whose validation perplexity "
                                   f"{self.best.perplexity:f} is the lowest of this run")
            self.saver.save(now=True)

    def minibatches(self, epoch):
        """The epoch's ``(X, Y)``, each (batch_size, num_steps); stops after the minibatch during which a stop was asked."""
        self.loss_sum, self.num_tokens = nd.zeros((1,), ctx=self.ctx), 0
        self.start = time.perf_counter()
        for X, Y in sampler(self.sampling.name)(self.corpus, self.batch_size, self.num_steps, self.ctx,
                                                 epoch_rng(self.seed, epoch)):
            yield X, Y
            if self.interrupt.requested:
                self.history.interrupted, self.history.stop_signal = True, self.interrupt.requested
                return

    def add_loss(self, l, num_tokens):
        """Add a minibatch's mean loss ``l`` (1,) over ``num_tokens`` targets, on the device (read once per epoch)."""
        self.loss_sum += l * num_tokens
        self.num_tokens += num_tokens

    def end_epoch(self, epoch):
        """Perplexity, divergence, validation, history, progress, the chapter's lines and checkpoints of ``epoch``."""
        history, monitor = self.history, self.monitor
        if history.interrupted:
            monitor.write(f"stopped during epoch {epoch}; the history holds the {len(history)} "
                          "complete epochs, the model keeps its latest weights")
            self.saver.save(now=True)
            return
        ppl = perplexity_from_loss(self.loss_sum.asscalar() / self.num_tokens)
        params = list(self.model.collect_params().values())
        if is_diverged(ppl, len(self.vocab)):
            for p, good in zip(params, self.last_good):
                p.set_data(good)
            raise _diverged(epoch, ppl, self.vocab, _epoch_lr(self.lr, self.lr_schedule, epoch),
                            self.clipping_theta, history)
        seconds = time.perf_counter() - self.start
        val_ppl = None if self.valid_indices is None else \
            evaluate_perplexity(self.model, self.valid_indices, self.batch_size, self.num_steps, self.ctx)
        history.append(epoch, ppl, seconds, self.num_tokens, val_perplexity=val_ppl)
        if val_ppl is not None and self.best.update(epoch, val_ppl):
            history.best_epoch = epoch
        self.last_good = [p.data(self.ctx).copy() for p in params]
        monitor.epoch_done(history)
        done = epoch - self.first + 1
        if (done in self.report or done in self.predict) and self.verbose:
            period = time.perf_counter() - self.period_start if done in self.report else None
            print_report(monitor, epoch, ppl, val_ppl, period, self.prefixes if done in self.predict else (),
                         self.pred_len, self.model, self.vocab, self.ctx)
        stop = self.best.should_stop(epoch)
        if stop:
            history.stopped_early_at = epoch
            if self.verbose:
                monitor.write(f"stopped early after epoch {epoch}: the validation perplexity was lowest at epoch "
                              f"{self.best.epoch} ({self.best.perplexity:f}), {self.best.patience} epochs before")
        self.saver.save(now=done in self.report or done == self.num_epochs or stop)
        if done in self.report:
            self.period_start = time.perf_counter()


def _check_fast(fast, model):
    """Raise ``ValueError`` unless ``fast`` is a bool, and ``fast=False`` has a Gluon model to step."""
    if not isinstance(fast, bool):
        raise ValueError(f"fast must be True or False, got {fast!r}")
    if not fast and not isinstance(model, gluon.Block):
        raise ValueError("fast=False steps a gluon.Trainer, which needs a Gluon model (RNNModel or "
                         f"RNNModelScratch), got {type(model).__name__}; use fast=True")


def _check_output_width(model, vocab, ctx):
    """Raise ``ValueError`` unless ``model``, run on one token, predicts ``len(vocab)`` tokens."""
    check_model(model)
    logits, _ = model(nd.zeros((1, 1), ctx=ctx), model.begin_state(batch_size=1, ctx=ctx))
    if logits.shape[-1] != len(vocab):
        raise ValueError(f"the model predicts {logits.shape[-1]} tokens but the vocabulary has "
                         f"{len(vocab)}; build it with vocab_size=len(vocab)")


class _Saver:
    """Checkpoints during a run: every ``every`` seconds at most, and whenever ``now`` is asked."""

    def __init__(self, directory, every, extra, model, vocab, history):
        self.directory, self.every, self.args = directory, every, (model, vocab, history)
        self.extra, self.last = extra, time.perf_counter()
        if directory is not None:
            checkpoint.model_config(model)  # fail now, not at the first save, if it cannot be saved
            checkpoint.prepare(directory)  # and refuse a directory that is not ours

    def save(self, now=False):
        if self.directory is not None and (now or time.perf_counter() - self.last >= self.every):
            checkpoint.save(self.directory, *self.args, extra=self.extra)
            self.last = time.perf_counter()


def _diverged(epoch, ppl, vocab, lr, clipping_theta, history):
    history.diverged_at, history.diverged_perplexity = epoch, ppl
    return TrainingDivergedError(
        f"training diverged at epoch {epoch}: perplexity is {ppl:.4g}, worse than "
        f"{len(vocab)}**2 (the square of what guessing uniformly gives). lr={lr} with "
        f"clipping_theta={clipping_theta} is too aggressive for this model; try a "
        "smaller lr (the chapter uses 5 for an LSTM) or a smaller clipping_theta. "
        f"The weights of epoch {epoch - 1} were restored.", history)


def _epoch_lr(lr, lr_schedule, epoch):
    """``lr`` times ``lr_schedule(epoch)`` (``lr`` without a schedule); ``ValueError`` for a bad factor."""
    if lr_schedule is None:
        return lr
    factor = lr_schedule(epoch)
    if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not 0 < factor < float("inf"):
        raise ValueError(f"lr_schedule({epoch}) returned {factor!r}; it must return a positive number, "
                         "the factor by which lr is multiplied in that epoch")
    return lr * factor


def _check_extras(vocab, batch_size, valid_indices, save_every, lr_schedule=None):
    """Raise ``ValueError`` for held-out data, a save interval or a schedule that training cannot use."""
    if lr_schedule is not None and not callable(lr_schedule):
        raise ValueError(f"lr_schedule must be None or a function of the epoch number, got {lr_schedule!r}")
    if valid_indices is not None:
        corpus_array(valid_indices, len(vocab))
        check_eval_length(valid_indices, batch_size)
    if isinstance(save_every, bool) or not isinstance(save_every, numbers.Real) or not save_every >= 0:
        raise ValueError(f"save_every must be a number of seconds >= 0, got {save_every!r}")


def _prepare_model(model, vocab, ctx, hybridize):
    """Hybridize ``model`` (when asked and possible) and check that it fits the vocabulary."""
    if ctx.device_type == "cpu":
        hint_if_busy()  # once per process: a busy machine can make OpenMP training crawl
    if hybridize and isinstance(model, gluon.HybridBlock):
        # One cached graph per input shape: same numbers, less Python work per minibatch.
        model.hybridize(static_alloc=True, static_shape=True)
    _check_output_width(model, vocab, ctx)


def _warn_at_caller(message):
    """A ``RuntimeWarning`` that names the first line outside this package (the user's call)."""
    package = os.path.dirname(os.path.abspath(__file__))
    level, frame = 2, sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package + os.sep):
        level, frame = level + 1, frame.f_back
    warnings.warn(message, RuntimeWarning, stacklevel=level)


def _describe_model(model):
    """``{'cell', 'num_layers', 'num_hiddens'}`` of an ``RNNModel`` with a Gluon layer, else None."""
    if not isinstance(model, RNNModel):
        return None
    c = model.config
    return {"cell": c.cell, "num_layers": c.num_layers, "num_hiddens": c.num_hiddens}


def _record(history, model, corpus, valid_indices, lr, clipping_theta, num_steps, batch_size, sampling, seed):
    """Add to ``history.trained_on`` what this call of ``train`` trains and validates on."""
    history.trained_on.append({
        "first_epoch": len(history) + 1, "lr": lr, "clipping_theta": clipping_theta,
        "num_steps": num_steps, "batch_size": batch_size, "sampling": sampling, "seed": seed,
        "train_text": text_fingerprint(corpus),
        "valid_text": None if valid_indices is None else text_fingerprint(valid_indices),
        "model": _describe_model(model)})
