"""Figures and tables for training runs. Functions draw on an axis they are given (or a new one) and change no global settings."""
import io
import itertools

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

from .early_stopping import best_held_out


def plot_perplexity(history, ax=None, label=None, logy=True):
    """Training perplexity per epoch from a ``History``; returns the axis."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3))
    # A single epoch is a point, which a line alone would not show.
    ax.plot(history.epoch, history.perplexity, label=label, marker="o" if len(history) == 1 else None)
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))  # no epoch 1.5
    if len(history) == 1:  # matplotlib's range around one point is narrower than an epoch
        ax.set_xlim(history.epoch[0] - 0.5, history.epoch[0] + 0.5)
    ax.set_ylabel("training perplexity")
    if logy:
        ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    if label is not None:
        ax.legend()
    return ax


class LivePlot:
    """A perplexity plot that redraws in place in a notebook while training runs.

    Unlike d2l's ``Animator`` it updates only its own output (so the printed lines of
    the same cell stay) and changes no notebook settings: each frame is a PNG image.
    From the start it shows labelled axes over the whole run, epochs ``first_epoch`` to
    ``last_epoch``, and a note that the first epoch is on its way.
    """

    def __init__(self, first_epoch=1, last_epoch=None, figsize=(5, 3)):
        from IPython.display import display
        self.first_epoch = first_epoch
        self.last_epoch = first_epoch if last_epoch is None else last_epoch
        self.fig, self.ax = plt.subplots(figsize=figsize)
        self._empty("waiting for the first epoch…")
        # Outside IPython, display() gives no handle: the figure is then only drawn.
        self.handle = display(self._png(), display_id=True)

    def _epoch_range(self):
        """The x axis of the whole run, with a margin so the end points are not on the frame."""
        margin = max(0.5, 0.02 * (self.last_epoch - self.first_epoch))
        self.ax.set_xlim(self.first_epoch - margin, self.last_epoch + margin)

    def _empty(self, note):
        self.ax.cla()
        self.ax.set_xlabel("epoch")
        self.ax.set_ylabel("training perplexity")
        self.ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        self.ax.set_yticks([])
        self._epoch_range()
        self.ax.text(0.5, 0.5, note, transform=self.ax.transAxes, ha="center", va="center",
                     color="0.4")

    def _png(self):
        from IPython.display import Image
        buffer = io.BytesIO()
        self.fig.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
        return Image(data=buffer.getvalue(), format="png")

    def _show(self):
        if self.handle is not None:
            self.handle.update(self._png())

    def update(self, history):
        self.ax.cla()
        plot_perplexity(history, ax=self.ax)
        self._epoch_range()
        self._show()

    def finish(self, history):
        """Draw the final state and release the figure, leaving the last image in the output."""
        if len(history):
            self.update(history)
        else:
            self._empty("stopped before the first epoch ended")
            self._show()
        plt.close(self.fig)


def _finish_axes(ax, x, logy):
    """Labels, scale, grid and legend shared by ``plot_runs`` and ``plot_seeds``."""
    ax.set_xlabel("epoch" if x == "epoch" else "training tokens seen")
    ax.set_ylabel("perplexity")
    if logy:
        ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def plot_runs(histories, ax=None, logy=True, x="epoch"):
    """Perplexity of several runs on one axis: training dashed, validation solid, one colour per run.

    ``histories`` maps a label to a ``History``. ``x="tokens"`` puts the number of
    training tokens seen so far on the horizontal axis instead of the epoch, which
    compares runs on corpora of different sizes fairly. Returns the axis.
    """
    if not histories:
        raise ValueError("histories must map at least one label to a History")
    if x not in ("epoch", "tokens"):
        raise ValueError(f"x must be 'epoch' or 'tokens', got {x!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    for i, (label, history) in enumerate(histories.items()):
        color = f"C{i % 10}"
        xs = history.epoch if x == "epoch" else list(itertools.accumulate(history.num_tokens))
        ax.plot(xs, history.perplexity, linestyle="--", color=color, label=f"{label} (training)")
        if history.val_perplexity:
            ax.plot(xs, history.val_perplexity, linestyle="-", color=color,
                    label=f"{label} (validation)")
    return _finish_axes(ax, x, logy)


def markdown_table(header, rows, align=None):
    """A Markdown table with padded columns, so it also reads well as plain text.

    ``align`` has one letter per column, ``'l'`` or ``'r'`` (default: all left).
    """
    align = align or "l" * len(header)
    if len(align) != len(header) or set(align) - {"l", "r"}:
        raise ValueError(f"align must have one letter 'l' or 'r' per column ({len(header)}), got {align!r}")
    # A '|' inside a cell would end the cell: escape it as Markdown does.
    cells = [[str(c).replace("|", "\\|") for c in row] for row in [header, *rows]]
    for row in cells[1:]:
        if len(row) != len(header):
            raise ValueError(f"every row needs {len(header)} cells, one per column of "
                             f"{list(header)}, got {row}")
    widths = [max(len(row[j]) for row in cells) for j in range(len(header))]

    def line(row):
        return "| " + " | ".join(c.rjust(w) if a == "r" else c.ljust(w)
                                 for c, w, a in zip(row, widths, align)) + " |"

    rule = "|" + "|".join("-" * (w + 1) + ":" if a == "r" else "-" * (w + 2)
                          for w, a in zip(widths, align)) + "|"
    return "\n".join([line(cells[0]), rule] + [line(row) for row in cells[1:]])


def results_table(histories, num_params=None):
    """One Markdown row per run: parameters, epochs, seconds per epoch, final training and validation perplexity.

    ``histories`` maps a label to a ``History``; ``num_params`` maps the same labels
    to parameter counts (see ``d2lrnn.num_parameters``). Runs without validation
    data show ``-`` in the validation columns.
    """
    if not histories:
        raise ValueError("histories must map at least one label to a History")
    num_params = num_params or {}
    header = ["run", "parameters", "epochs", "s/epoch", "train ppl", "valid ppl",
              "best valid ppl (epoch)"]
    rows = []
    for label, h in histories.items():
        if len(h) == 0:
            raise ValueError(f"run {label!r} has no epochs to report")
        if h.val_perplexity:
            best, best_epoch = best_held_out(h)
            valid = f"{h.val_perplexity[-1]:.2f}"
            best_text = f"{best:.2f} ({best_epoch})"
        else:
            valid = best_text = "-"
        params = f"{num_params[label]:,}" if label in num_params else "-"
        rows.append([label, params, str(len(h)), f"{sum(h.seconds) / len(h):.2f}",
                     f"{h.perplexity[-1]:.2f}", valid, best_text])
    return markdown_table(header, rows, align="lrrrrrr")


def _check_seed_runs(runs):
    if not runs:
        raise ValueError("runs must map at least one label to a list of Histories, one per seed")
    for label, histories in runs.items():
        if not histories or any(len(h) == 0 for h in histories):
            raise ValueError(f"run {label!r} needs at least one History with epochs, got {histories!r}")
        if any(h.epoch != histories[0].epoch for h in histories):
            raise ValueError(f"the seeds of run {label!r} must cover the same epochs")


def _mean(values):
    return sum(values) / len(values)


def plot_seeds(runs, ax=None, logy=True, x="epoch"):
    """Runs repeated with several seeds: mean perplexity as a line, the range over the seeds as a band.

    ``runs`` maps a label to a list of ``History``, one per seed, over the same epochs.
    Validation: solid mean with a shaded band from the lowest to the highest seed;
    training: dashed mean. ``x="tokens"`` as in ``plot_runs``. Returns the axis.
    """
    _check_seed_runs(runs)
    if x not in ("epoch", "tokens"):
        raise ValueError(f"x must be 'epoch' or 'tokens', got {x!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    for i, (label, histories) in enumerate(runs.items()):
        color, first = f"C{i % 10}", histories[0]
        xs = first.epoch if x == "epoch" else list(itertools.accumulate(first.num_tokens))
        n = len(histories)
        train = [_mean(values) for values in zip(*(h.perplexity for h in histories))]
        ax.plot(xs, train, linestyle="--", color=color, label=f"{label} (training, mean of {n})")
        if all(h.val_perplexity for h in histories):
            valid = list(zip(*(h.val_perplexity for h in histories)))
            ax.fill_between(xs, [min(v) for v in valid], [max(v) for v in valid], color=color, alpha=0.2,
                            linewidth=0, label=f"{label} (validation, range of {n})")
            ax.plot(xs, [_mean(v) for v in valid], linestyle="-", color=color,
                    label=f"{label} (validation, mean of {n})")
    return _finish_axes(ax, x, logy)


def mean_and_range(values, digits=2):
    """``'mean (min–max)'`` of ``values``, e.g. ``'6.51 (6.40–6.70)'``; the value alone for one."""
    if not values:
        raise ValueError("values must not be empty")
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{_mean(values):.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def seeds_table(runs, num_params=None):
    """One Markdown row per run over its seeds: mean (min–max) of the best validation perplexity,
    the epoch range where it was reached, the validation and training perplexity after the
    last epoch, and the seconds per epoch.

    ``runs`` maps a label to a list of ``History`` with validation perplexities, one per seed.
    """
    _check_seed_runs(runs)
    num_params = num_params or {}
    header = ["run", "parameters", "seeds", "best valid ppl", "epoch of best", "valid ppl at end",
              "train ppl at end", "s/epoch"]
    rows = []
    for label, histories in runs.items():
        if not all(h.val_perplexity for h in histories):
            raise ValueError(f"run {label!r} has seeds without validation perplexities")
        best = [best_held_out(h) for h in histories]  # (perplexity, epoch) per seed
        best_epochs = [epoch for _, epoch in best]
        rows.append([label, f"{num_params[label]:,}" if label in num_params else "-", str(len(histories)),
                     mean_and_range([value for value, _ in best]),
                     f"{min(best_epochs)}–{max(best_epochs)}" if len(histories) > 1 else str(best_epochs[0]),
                     mean_and_range([h.val_perplexity[-1] for h in histories]),
                     mean_and_range([h.perplexity[-1] for h in histories]),
                     mean_and_range([sum(h.seconds) / len(h) for h in histories])])
    return markdown_table(header, rows, align="lrrrrrrr")
