"""The chapter's code in the book's shape: ``try_gpu``, ``RNNModel``, ``train_and_predict_rnn_gluon``, ``predict_rnn_gluon``.

``d2l.train_and_predict_rnn_gluon??`` in Jupyter shows the training loop as the book writes
it: minibatches, loss, backward, clip, step. It is the package's one loop (``train`` is the
same loop on a model that is already initialised). Where the rest lives:

- ``RNNModel`` (models.py): one-hot input, the recurrent layer, the dense layer. It sits
  below the checkpoint store, which rebuilds it.
- ``predict_rnn_gluon`` (predict.py): the prefix, then one predicted character at a time.
- ``fast.py``: what makes the model and the loop fast (packed weights, one fused update),
  on by default; ``fast=False`` runs the book's way, with the same numbers.
- ``training.TrainingRun``: what the loop does around its steps (checking the arguments,
  the progress bar, printing, checkpoints, divergence, validation, Ctrl-C).
"""
import mxnet as mx
from mxnet import autograd, gluon, init, nd
from mxnet.gluon import loss as gloss

from . import fast as fast_path
from .env import device
from .models import RNNModel  # noqa: F401 (the chapter's API, defined below the checkpoint store)
from .predict import predict_rnn_gluon  # noqa: F401 (the chapter's API)
from .training import TrainingRun


def try_gpu(i=0):
    """``mx.gpu(i)`` when MXNet can compute on that GPU, else ``mx.cpu()`` (saying why once)."""
    return mx.gpu(i) if device.gpu_works(i) else mx.cpu()


def grad_clipping(params, theta, ctx=None):
    """Rescale the gradients of ``params`` in place so that their global L2 norm is at most ``theta``.

    ``params`` are NDArrays with gradients attached (``[p.data() for p in ...]``). Returns
    the norm before clipping as a (1,) NDArray, read on the device: training never waits
    here. ``ctx`` is accepted for the book's calls.
    """
    norm = fast_path.global_norm([p.grad for p in params])  # sqrt of every gradient's sum of squares, (1,)
    scale = theta / nd.maximum(norm, theta)  # exactly 1 when norm <= theta: gradients unchanged
    for p in params:
        nd.broadcast_mul(p.grad, scale, out=p.grad)
    return norm


def train_and_predict_rnn_gluon(model, num_hiddens, corpus_indices, vocab, ctx, num_epochs, num_steps,
                                lr, clipping_theta, batch_size, prefixes, *, seed=None, initialize=True,
                                fast=True, **options):
    """Initialise ``model``, train it with clipped SGD and print its progress; return a ``History``.

    Weights start from N(0, 0.01^2), biases from 0 (Gluon gives them their own initialiser,
    which wins over the one passed to ``initialize``); ``seed`` makes that and the minibatches
    repeatable. ``num_hiddens`` is unused, kept so that the chapter's calls work unchanged.
    ``initialize=False`` keeps the model's weights (``train``). ``fast=False`` clips the
    gradients and steps a ``gluon.Trainer`` as the book does (fast.py says how the two differ).
    ``options`` (sampling, validation, checkpoints, progress, ...): see ``training.TrainingRun``.
    """
    run = TrainingRun(model, corpus_indices, vocab, ctx, num_epochs, num_steps, lr, clipping_theta,
                      batch_size, prefixes, seed=seed, fast=fast, **options)  # every argument checked first
    if initialize:
        if seed is not None:
            mx.random.seed(seed)
        model.initialize(ctx=ctx, force_reinit=True, init=init.Normal(0.01))
    loss = gloss.SoftmaxCrossEntropyLoss()
    params = [p.data(ctx) for p in run.trainable]  # the weights that training changes
    trainer = None if fast else gluon.Trainer(run.trainable, "sgd", {"learning_rate": lr})
    with run:  # progress bar, Ctrl-C, checkpoints; the model is hybridized
        for epoch, lr in run.epochs():  # lr: times lr_schedule(epoch) when given one
            state = None
            for X, Y in run.minibatches(epoch):  # X, Y: (batch_size, num_steps)
                if state is None or not run.sampling.carries_state:
                    state = model.begin_state(batch_size=batch_size, ctx=ctx)
                else:
                    state = [s.detach() for s in state]  # keep the values, cut the graph
                with autograd.record():
                    output, state = model(X, state)  # (num_steps * batch_size, vocab_size)
                    y = Y.T.reshape((-1,))  # time-major, like output
                    l = loss(output, y).mean()
                l.backward()
                if fast:  # the three lines below in one fused update
                    fast_path.clipped_sgd_step(params, lr, clipping_theta)
                else:
                    grad_clipping(params, clipping_theta, ctx)
                    trainer.set_learning_rate(lr)
                    trainer.step(1)  # the loss is a mean already: no further averaging
                run.add_loss(l, y.size)  # summed on the device, read once per epoch
            run.end_epoch(epoch)  # perplexity, divergence, validation, printing, checkpoints
    return run.history


def train(model, corpus_indices, vocab, ctx, num_epochs, num_steps, lr, clipping_theta, batch_size,
          prefixes, **options):
    """Train an initialised ``model`` for ``num_epochs`` more epochs; return its ``History``.

    The chapter's loop without its initialisation (``train_and_predict_rnn_gluon``, whose
    options it takes). Works for any model with ``RNNModel``'s calling convention.
    """
    return train_and_predict_rnn_gluon(model, None, corpus_indices, vocab, ctx, num_epochs, num_steps, lr,
                                       clipping_theta, batch_size, prefixes, initialize=False, **options)
