"""Where an epoch's minibatches come from, as plain arithmetic (no MXNet here).

``data.data_iter_consecutive`` builds its minibatches from ``consecutive_layout``, and the
trainer draws each epoch's from ``epoch_rng``; the benchmark's PyTorch peer uses both to
train on exactly the same minibatches.
"""
import random


def epoch_rng(seed, epoch):
    """The sampler's random source for one epoch: repeatable from (seed, epoch), so a
    resumed run draws the same minibatches as an uninterrupted one; unseeded when ``seed`` is None."""
    return random.Random(f"{seed}/{epoch}") if seed is not None else random.Random()


def consecutive_layout(corpus_len, batch_size, num_steps, rng):
    """``(offset, row_len, num_batches)`` of one epoch of consecutive sampling.

    The corpus from a random ``offset`` (below ``num_steps``, drawn from ``rng``) is cut
    into ``batch_size`` rows of ``row_len`` tokens; minibatch k is columns
    [k*num_steps, (k+1)*num_steps) of those rows, its targets the columns one further.
    """
    offset = rng.randrange(num_steps)
    row_len = (corpus_len - offset) // batch_size
    return offset, row_len, (row_len - 1) // num_steps
