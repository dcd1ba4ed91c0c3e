"""Perplexity: of logits against labels, and of a model reading a held-out text in order."""
from mxnet import autograd, nd
from mxnet.gluon import loss as gloss

from .facts import check_positive, perplexity_from_loss


def perplexity(logits, labels):
    """exp(mean cross-entropy) of ``logits`` (n, vocab_size) against integer ``labels`` (n,)."""
    loss = gloss.SoftmaxCrossEntropyLoss()(logits, labels)  # (n,)
    return perplexity_from_loss(loss.mean().asscalar())


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
    check_positive("batch_size", batch_size, integer=True)
    check_positive("num_steps", num_steps, integer=True)
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
    return perplexity_from_loss(loss_sum.asscalar() / ((row_len - 1) * batch_size))
