"""Perplexity from a mean loss, and when a training run counts as diverged (no MXNet here)."""
import math


def perplexity_from_loss(mean_loss):
    """exp(mean cross-entropy): ``inf`` instead of an OverflowError, NaN kept."""
    try:
        return math.exp(mean_loss)
    except OverflowError:
        return math.inf


def is_diverged(ppl, vocab_size):
    """True for a perplexity that is infinite, NaN or above vocab_size**2 (a loss twice uniform guessing's)."""
    return not ppl <= vocab_size ** 2
