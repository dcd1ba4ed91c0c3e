"""Early stopping: watch the held-out perplexity, stop when it has not improved for a while, keep the best weights.

A model that trains long enough on a short text memorises it: its training perplexity keeps
falling while its perplexity on held-out text, after reaching its lowest value, rises again.
``train(..., valid_indices=..., patience=P)`` stops after ``P`` epochs in a row without a new
lowest held-out perplexity; ``restore_best=True`` gives the model, at the end of the call, the
weights it had after its best held-out epoch. Both look at the epochs of the current call only
(the weights of an earlier call's epochs are gone), and both are recorded in the ``History``
(``best_epoch``, ``stopped_early_at``, ``restored_epoch``) and so in checkpoints.
"""
import numbers


def check_early_stopping(patience, restore_best, valid_indices):
    """Raise ``ValueError`` naming the argument for a patience or restore_best that training cannot use."""
    if patience is not None and (isinstance(patience, bool) or not isinstance(patience, numbers.Integral)
                                 or patience < 1):
        raise ValueError(f"patience must be a whole number of epochs >= 1 (or None: no early stopping), "
                         f"got {patience!r}")
    if not isinstance(restore_best, bool):
        raise ValueError(f"restore_best must be True or False, got {restore_best!r}")
    if (patience is not None or restore_best) and valid_indices is None:
        name = "patience" if patience is not None else "restore_best"
        raise ValueError(f"{name} watches the held-out perplexity, so it needs valid_indices (held-out "
                         "text, e.g. the second part of split_corpus(corpus_indices))")


class BestEpoch:
    """The best held-out epoch of this call so far, its weights when they are to be restored, and when to stop.

    ``params`` are the model's ``Parameter`` objects; a copy of their values is kept (on ``ctx``)
    at each new best when ``restore_best`` is True.
    """

    def __init__(self, patience, restore_best, params, ctx):
        self.patience, self.restore_best, self.params, self.ctx = patience, restore_best, params, ctx
        self.epoch = self.perplexity = self.weights = None

    def update(self, epoch, val_perplexity):
        """Take the held-out perplexity after ``epoch``; True when it is the lowest of this call so far."""
        if self.perplexity is not None and not val_perplexity < self.perplexity:
            return False
        self.epoch, self.perplexity = epoch, val_perplexity
        if self.restore_best:
            self.weights = [p.data(self.ctx).copy() for p in self.params]
        return True

    def should_stop(self, epoch):
        """True when ``patience`` epochs have passed, up to ``epoch``, since the best one."""
        return self.patience is not None and self.epoch is not None and epoch - self.epoch >= self.patience

    def restore(self):
        """Give the model the best epoch's weights (when kept); the epoch restored, or None."""
        if self.weights is None:
            return None
        for p, value in zip(self.params, self.weights):
            p.set_data(value)
        return self.epoch


def best_held_out(history):
    """``(perplexity, epoch)`` of the lowest held-out perplexity in ``history``: the one measure the
    notebooks compare runs by (over seeds, with the epoch it came at).

    The first such epoch when several tie. ``ValueError`` for a history without held-out perplexities.
    """
    if not history.val_perplexity:
        raise ValueError("this History has no held-out perplexities: train with valid_indices=... to get them")
    i = min(range(len(history.val_perplexity)), key=history.val_perplexity.__getitem__)
    return history.val_perplexity[i], history.epoch[i]


def replay(epochs, val_perplexity, patience):
    """What ``train(..., patience=patience, restore_best=True)`` would have done on a run that recorded
    ``val_perplexity`` after each of ``epochs``: ``(stop_epoch, best_epoch, best_perplexity)``.

    ``stop_epoch`` is the last epoch trained (the last of ``epochs`` when patience never ran out);
    the rule is ``BestEpoch``'s, so a stored run without early stopping answers exactly what the
    same run with it would have kept, without training again.
    """
    if len(epochs) != len(val_perplexity) or not epochs:
        raise ValueError("epochs and val_perplexity must be equally long and not empty")
    check_early_stopping(patience, False, val_perplexity)
    best = BestEpoch(patience, False, [], None)
    for epoch, value in zip(epochs, val_perplexity):
        best.update(epoch, value)
        if best.should_stop(epoch):
            return epoch, best.epoch, best.perplexity
    return epochs[-1], best.epoch, best.perplexity
