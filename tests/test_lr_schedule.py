"""train's lr_schedule: each epoch's learning rate is lr times the schedule's factor for that epoch."""
import mxnet as mx
import pytest

import d2lrnn

from tiny import run, tiny_model


def _continued(tiny_data, lrs):
    """Train one epoch per learning rate, continuing the history: what a schedule must reproduce."""
    corpus_indices, vocab = tiny_data
    mx.random.seed(0)
    model = tiny_model(vocab)
    model.initialize(ctx=mx.cpu(), force_reinit=True, init=mx.init.Normal(0.01))
    history = None
    for lr in lrs:
        history = d2lrnn.train(model, corpus_indices, vocab, mx.cpu(), 1, 10, lr, 1.0, 4, [], seed=0,
                               history=history, verbose=False, progress=False, live_plot=False)
    return history


def test_a_schedule_sets_each_epochs_learning_rate(tiny_data):
    _, scheduled = run(tiny_data, num_epochs=3, lr=2.0, lr_schedule=lambda epoch: 0.5 ** (epoch - 1),
                       verbose=False, progress=False, live_plot=False)
    assert scheduled.perplexity == _continued(tiny_data, [2.0, 1.0, 0.5]).perplexity
    _, constant = run(tiny_data, num_epochs=3, lr=2.0, verbose=False, progress=False, live_plot=False)
    assert constant.perplexity[0] == scheduled.perplexity[0] and constant.perplexity[1:] != scheduled.perplexity[1:]


@pytest.mark.parametrize("schedule, message", [
    (0.5, "lr_schedule must be None or a function of the epoch number, got 0.5"),
    (lambda epoch: 0, r"lr_schedule\(1\) returned 0; it must return a positive number"),
    (lambda epoch: float("nan"), r"lr_schedule\(1\) returned nan"),
    (lambda epoch: True, r"lr_schedule\(1\) returned True"),
])
def test_a_bad_schedule_is_named(tiny_data, schedule, message):
    with pytest.raises(ValueError, match=message):
        run(tiny_data, num_epochs=1, lr_schedule=schedule, verbose=False, progress=False, live_plot=False)
