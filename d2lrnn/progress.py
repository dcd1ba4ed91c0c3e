"""Feedback while training: the chapter's printed lines, a progress bar, a live plot in notebooks, a clean stop on Ctrl-C."""
import numbers
import signal
import sys
import threading
import time

from .plotting import LivePlot
from .predict import predict_rnn_gluon


def in_notebook():
    """True inside a Jupyter kernel (where rich display and widgets work)."""
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _resolve(flag, default):
    if flag == "auto":
        return default
    if isinstance(flag, bool):
        return flag
    raise ValueError(f"expected True, False or 'auto', got {flag!r}")


class NotebookBar:
    """tqdm's progress bar as text that redraws in place in a notebook output.

    Unlike tqdm's widget it needs no widget state, so the saved notebook shows the
    final bar. It has the small part of tqdm's interface the monitor uses. ``NCOLS``
    characters fit on one line of a notebook in JupyterLab at 1280 pixels with the file
    browser open (about 112 do; tests/browser checks it); the epochs per second are left
    out, the postfix has the tokens per second.
    """

    NCOLS = 100
    FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}{postfix}]"

    def __init__(self, total, desc="training", unit="epoch"):
        from IPython.display import display
        self.n, self.total, self.desc, self.unit, self.postfix, self.redraw = 0, total, desc, unit, "", False
        self.start = time.perf_counter()
        self.handle = display(self._text(), display_id=True)

    def _text(self):
        from IPython.display import Pretty
        from tqdm import tqdm
        return Pretty(tqdm.format_meter(self.n, self.total, time.perf_counter() - self.start,
                                        prefix=self.desc, unit=self.unit, postfix=self.postfix,
                                        ncols=self.NCOLS, bar_format=self.FORMAT))

    def set_postfix(self, **kwargs):
        self.postfix, self.redraw = ", ".join(f"{k}={v}" for k, v in kwargs.items()), True

    def update(self, n=1):
        self.n += n
        if self.handle is not None:
            self.handle.update(self._text())
        self.redraw = False

    def close(self):
        if self.redraw and self.handle is not None:  # a postfix set after the last update (early stopping's)
            self.handle.update(self._text())
        # the last drawn bar stays in the output


class TrainingMonitor:
    """Progress bar (``progress``) and live perplexity plot (``live_plot``) for one run.

    ``'auto'`` shows the bar when stderr is a terminal or in a notebook, and the plot
    in notebooks only.
    """

    def __init__(self, num_epochs, first_epoch=1, progress="auto", live_plot="auto"):
        notebook = in_notebook()
        self.bar, self.postfix = None, {}
        if _resolve(progress, notebook or sys.stderr.isatty()):
            if notebook:
                self.bar = NotebookBar(num_epochs)
            else:
                from tqdm import tqdm
                self.bar = tqdm(total=num_epochs, desc="training", unit="epoch", leave=True)
        self.plot = (LivePlot(first_epoch, first_epoch + num_epochs - 1)
                     if _resolve(live_plot, notebook) else None)
        self.num_epochs = num_epochs
        self.first_epoch = first_epoch
        self.every = max(1, num_epochs // 50)  # about 50 plot updates per run

    def epoch_done(self, history):
        epoch = history.epoch[-1]
        done = epoch - self.first_epoch + 1
        if self.bar is not None:
            # Training throughput of this run so far, as History.tokens_per_sec counts it (not the last
            # epoch's alone): the bar's last value is the speed that the history reports for the run.
            tokens_per_s = sum(history.num_tokens[-done:]) / sum(history.seconds[-done:])
            self.postfix = {"epoch": epoch, "perplexity": f"{history.perplexity[-1]:.3f}",
                            "tokens_per_s": f"{tokens_per_s:,.0f}"}
            self.bar.set_postfix(**self.postfix)
            self.bar.update(1)
        if self.plot is not None and (done % self.every == 0 or done == self.num_epochs):
            self.plot.update(history)

    def write(self, text):
        """Print a line of ``text`` to stdout without running it into a terminal progress bar."""
        if self.bar is not None and not isinstance(self.bar, NotebookBar):
            self.bar.write(text)  # clears the bar, prints the line, redraws the bar below it
        else:
            print(text, flush=True)

    def close(self, history):
        if self.bar is not None:
            if history.stopped_early_at is not None and self.postfix:  # a short bar that is not an interruption
                # The bar's n/total already shows the last epoch: its place in the postfix makes room for the note.
                final = {key: value for key, value in self.postfix.items() if key != "epoch"}
                self.bar.set_postfix(**final, stopped="early")
            self.bar.close()
        if self.plot is not None:
            self.plot.finish(history)


class StopOnInterrupt:
    """Context manager: the first Ctrl-C (or kernel interrupt) or SIGTERM only sets ``requested``.

    ``requested`` becomes the signal's name, ``'SIGINT'`` or ``'SIGTERM'``. The training
    loop checks it after each minibatch, so weights are never left half-updated. A
    second Ctrl-C raises ``KeyboardInterrupt`` at once; a second SIGTERM exits with
    status 143. Outside the main thread, where signal handlers cannot be installed,
    signals behave as usual.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.requested = None
        self._previous = {}

    def _handler(self, signum, frame):
        if self.requested:
            if signum == signal.SIGTERM:
                raise SystemExit(128 + signal.SIGTERM)
            raise KeyboardInterrupt
        self.requested = signal.Signals(signum).name
        key = "Ctrl-C" if signum == signal.SIGINT else "SIGTERM"
        print(f"\n{self.requested}: stopping after the current minibatch (send {key} again to "
              "abort now)", file=sys.stderr, flush=True)

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = {s: signal.signal(s, self._handler) for s in self.SIGNALS}
        return self

    def __exit__(self, *exc):
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        return False


def report_epochs(num_epochs, first=1, predict_epochs=None):
    """The chapter prints four times (at each quarter) and predicts at the half and the end.

    Counted in epochs of this run (1 to ``num_epochs``). ``predict_epochs``, epoch numbers
    as the history counts them (from ``first``), replaces the chapter's two predictions.
    """
    report = sorted({max(1, k * num_epochs // 4) for k in range(1, 5)})
    predict = {max(1, num_epochs // 2), num_epochs}
    if predict_epochs is not None:
        last = first + num_epochs - 1
        outside = [e for e in predict_epochs if isinstance(e, bool) or not isinstance(e, numbers.Integral)
                   or not first <= e <= last]
        if isinstance(predict_epochs, (str, bytes)) or outside:
            raise ValueError(f"predict_epochs must be epoch numbers of this run, {first} to {last}; "
                             f"got {outside or predict_epochs!r}")
        predict = {e - first + 1 for e in predict_epochs}
    return report, predict


def print_report(monitor, epoch, ppl, val_ppl, seconds, prefixes, pred_len, model, vocab, ctx):
    """The chapter's epoch line (without a time when ``seconds`` is None), and a prediction for each of ``prefixes``."""
    valid = "" if val_ppl is None else f", validation perplexity {val_ppl:f}"
    clock = "" if seconds is None else f", time {seconds:.2f} sec"
    monitor.write(f"epoch {epoch}, perplexity {ppl:f}{valid}{clock}")
    for prefix in prefixes:
        monitor.write(" - " + predict_rnn_gluon(prefix, pred_len, model, vocab, ctx))
