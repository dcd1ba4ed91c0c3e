"""Figures for training runs. Functions draw on an axis they are given (or a new one) and change no global settings."""
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

    Unlike d2l's ``Animator`` it updates its own display (so the printed lines of the
    same cell stay) and does not switch the notebook's figure format.
    """

    def __init__(self, figsize=(5, 3)):
        from IPython.display import display
        self.fig, self.ax = plt.subplots(figsize=figsize)
        # Outside IPython, display() gives no handle: the figure is then only drawn.
        self.handle = display(self.fig, display_id=True)

    def update(self, history):
        self.ax.cla()
        plot_perplexity(history, ax=self.ax)
        if self.handle is not None:
            self.handle.update(self.fig)

    def finish(self, history):
        """Draw the final state and release the figure, leaving the last image in the output."""
        self.update(history)
        plt.close(self.fig)
