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
