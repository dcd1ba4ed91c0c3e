"""Figures for training runs. Functions draw on an axis they are given (or a new one) and change no global settings."""
import io

import matplotlib.pyplot as plt


def plot_perplexity(history, ax=None, label=None, logy=True):
    """Training perplexity per epoch from a ``History``; returns the axis."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3))
    ax.plot(history.epoch, history.perplexity, label=label)
    ax.set_xlabel("epoch")
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
    """

    def __init__(self, figsize=(5, 3)):
        from IPython.display import display
        self.fig, self.ax = plt.subplots(figsize=figsize)
        # Outside IPython, display() gives no handle: the figure is then only drawn.
        self.handle = display(self._png(), display_id=True)

    def _png(self):
        from IPython.display import Image
        buffer = io.BytesIO()
        self.fig.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
        return Image(data=buffer.getvalue(), format="png")

    def update(self, history):
        self.ax.cla()
        plot_perplexity(history, ax=self.ax)
        if self.handle is not None:
            self.handle.update(self._png())

    def finish(self, history):
        """Draw the final state and release the figure, leaving the last image in the output."""
        if len(history):
            self.update(history)
        plt.close(self.fig)
