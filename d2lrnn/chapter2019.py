"""The 2019 book's other function forms: its trainers for from-scratch models, ``sgd``, ``to_onehot``, ``predict_rnn``.

(``train_and_predict_rnn_gluon``, the chapter's own trainer, is in chapter.py.) Each trainer
here initialises the model, then hands it to ``chapter.train``, the one loop (which checks
every training argument).

The book's from-scratch sections describe a model by three functions, ``rnn(inputs,
state, params)``, ``get_params()`` and ``init_rnn_state(batch_size, num_hiddens, ctx)``.
``FunctionModel`` wraps them into an object with the ``RNNModel`` calling convention,
so that prediction and training run through the package's one ``predict_rnn_gluon`` and
one loop instead of copies of them.
"""
import mxnet as mx
from mxnet import gluon, nd

from .chapter import train
from .facts import check_model, check_positive, check_seed
from .predict import predict_rnn_gluon


def sgd(params, lr, batch_size):
    """Minibatch SGD in place: each NDArray p in ``params`` becomes p - lr * p.grad / batch_size."""
    check_positive("lr", lr, integer=False)
    check_positive("batch_size", batch_size, integer=True)
    _check_arrays_with_grad(params, "params")
    for param in params:
        param[:] = param - lr * param.grad / batch_size


def to_onehot(X, size):
    """X (batch_size, num_steps) of indices -> a list of num_steps one-hot arrays (batch_size, size)."""
    check_positive("size", size, integer=True)
    if not isinstance(X, nd.NDArray) or X.ndim != 2:
        raise ValueError(f"X must be a 2-D NDArray of shape (batch_size, num_steps), got "
                         f"{getattr(X, 'shape', type(X).__name__)}")
    return [nd.one_hot(x, size) for x in X.T]


def use_svg_display():
    """Draw Matplotlib figures in Jupyter as SVG, as the book's ``display.set_matplotlib_formats('svg')`` did.

    IPython 8 deprecated and IPython 9 removed ``IPython.display.set_matplotlib_formats``
    (and with it d2l 0.9.2's ``use_svg_display``); this calls its successor in
    ``matplotlib_inline``. It changes the current IPython session's figure format.
    """
    from matplotlib_inline.backend_inline import set_matplotlib_formats
    set_matplotlib_formats("svg")


def _check_arrays_with_grad(params, name, ctx=None):
    """Raise ``ValueError`` naming ``name[i]`` unless ``params`` are NDArrays with gradients (on ``ctx``)."""
    if isinstance(params, nd.NDArray) or not isinstance(params, (list, tuple)) or not params:
        raise ValueError(f"{name} must be a non-empty list of NDArrays, got {type(params).__name__}")
    for i, param in enumerate(params):
        if not isinstance(param, nd.NDArray):
            raise ValueError(f"{name}[{i}] must be an NDArray, got {type(param).__name__}")
        if param.grad is None:
            raise ValueError(f"{name}[{i}] has no gradient: call attach_grad() on every parameter "
                             "(the book's get_params does so before returning them)")
        if ctx is not None and param.context != ctx:
            raise ValueError(f"{name}[{i}] lives on {param.context}, but ctx is {ctx}: create the "
                             "parameters on the context you train on")


class _ArrayParameter:
    """One NDArray (gradient attached) seen through the part of Gluon's ``Parameter`` that ``train`` uses."""

    grad_req = "write"

    def __init__(self, array):
        self.array = array

    def data(self, ctx=None):
        return self.array

    def set_data(self, value):
        self.array[:] = value  # in place, so the book's rnn keeps seeing the same arrays


class FunctionModel:
    """The book's ``rnn``, ``params`` and ``init_rnn_state`` behind the ``RNNModel`` calling convention.

    ``model(X, state)`` with X (batch_size, num_steps) returns logits (num_steps *
    batch_size, vocab_size) and the new state; ``begin_state(batch_size=, ctx=)`` calls
    ``init_rnn_state``; ``collect_params()`` exposes ``params``, which training updates in place.
    """

    def __init__(self, rnn, params, init_rnn_state, num_hiddens, vocab_size, ctx=None):
        for name, fn in (("rnn", rnn), ("init_rnn_state", init_rnn_state)):
            if not callable(fn):
                raise TypeError(f"{name} must be a function, got {type(fn).__name__}")
        check_positive("num_hiddens", num_hiddens, integer=True)
        check_positive("vocab_size", vocab_size, integer=True)
        _check_arrays_with_grad(params, "params", ctx)
        self.rnn, self.params, self.init_rnn_state = rnn, list(params), init_rnn_state
        self.num_hiddens, self.vocab_size = num_hiddens, vocab_size

    def __call__(self, X, state):
        inputs = to_onehot(X, self.vocab_size)  # num_steps arrays of (batch_size, vocab_size)
        outputs, state = self.rnn(inputs, state, self.params)  # num_steps arrays of (batch_size, vocab_size)
        return nd.concat(*outputs, dim=0), state  # (num_steps * batch_size, vocab_size)

    def begin_state(self, batch_size, ctx=None):
        """The book's initial state: ``init_rnn_state(batch_size, num_hiddens, ctx)``, a tuple of arrays."""
        return self.init_rnn_state(batch_size, self.num_hiddens, ctx)

    def collect_params(self):
        """``{'param0': ..., ...}``, in the order of ``params``, like Gluon's ``collect_params``."""
        return {f"param{i}": _ArrayParameter(p) for i, p in enumerate(self.params)}


def predict_rnn(prefix, num_chars, rnn, params, init_rnn_state, num_hiddens, vocab, ctx):
    """``prefix`` followed by ``num_chars`` greedily predicted characters, from the book's functions."""
    model = FunctionModel(rnn, params, init_rnn_state, num_hiddens, len(vocab), ctx)
    return predict_rnn_gluon(prefix, num_chars, model, vocab, ctx)


def _seed(seed):
    """Seed MXNet's generator (``seed`` checked first) so that initialisation is repeatable; None leaves it."""
    check_seed(seed)
    if seed is not None:
        mx.random.seed(seed)


def sampling_from_is_random_iter(is_random_iter):
    """'random' for True, 'consecutive' for False (the 2019 trainer's flag); ``ValueError`` otherwise."""
    if not isinstance(is_random_iter, bool):
        raise ValueError(f"is_random_iter must be True or False, got {is_random_iter!r}")
    return "random" if is_random_iter else "consecutive"


def train_and_predict_rnn_model(model, corpus_indices, vocab, ctx, is_random_iter, num_epochs,
                                num_steps, lr, clipping_theta, batch_size, prefixes, *, seed=None,
                                **train_kwargs):
    """The chapter's trainer for from-scratch model objects: initialise, train with ``train``, print, return a ``History``.

    ``model`` (e.g. ``RNNModelScratch``) takes the place of the 2019 book's ``rnn``,
    ``get_params``, ``init_rnn_state`` and ``num_hiddens``. Its parameters are
    re-initialised with their own initialisers (weights N(0, 0.01^2), biases 0, as the
    book's ``get_params``). ``is_random_iter`` picks random instead of consecutive sampling;
    further keywords go to ``train``.
    """
    sampling = sampling_from_is_random_iter(is_random_iter)
    check_model(model)
    _seed(seed)
    model.initialize(ctx=ctx, force_reinit=True)
    return train(model, corpus_indices, vocab, ctx, num_epochs, num_steps, lr, clipping_theta,
                 batch_size, prefixes, sampling=sampling, seed=seed, **train_kwargs)


def train_and_predict_rnn_functions(rnn, get_params, init_rnn_state, num_hiddens, corpus_indices,
                                    vocab, ctx, is_random_iter, num_epochs, num_steps, lr,
                                    clipping_theta, batch_size, prefixes, *, seed=None,
                                    **train_kwargs):
    """The 2019 book's trainer called with its functions: ``params = get_params()``, train with ``train``, return a ``History``.

    ``rnn(inputs, state, params)`` maps num_steps arrays (batch_size, vocab_size) to as
    many logits of the same shape and the new state; ``init_rnn_state(batch_size,
    num_hiddens, ctx)`` gives the initial state. Prints like the book's helper (four
    perplexity lines, predictions of 50 characters at the half and the end). ``seed``
    makes ``get_params`` and the sampling repeatable; further keywords go to ``train``.
    """
    if not callable(get_params):
        raise TypeError(f"get_params must be a function, got {type(get_params).__name__}")
    sampling = sampling_from_is_random_iter(is_random_iter)
    _seed(seed)
    model = FunctionModel(rnn, get_params(), init_rnn_state, num_hiddens, len(vocab), ctx)
    return train(model, corpus_indices, vocab, ctx, num_epochs, num_steps, lr, clipping_theta,
                 batch_size, prefixes, sampling=sampling, seed=seed, **train_kwargs)


def train_and_predict_rnn(model_or_rnn, *args, **kwargs):
    """The 2019 book's trainer for from-scratch models, in either of its two call forms; returns a ``History``.

    - With a model object (a Gluon ``Block`` such as ``RNNModelScratch``):
      ``train_and_predict_rnn(model, corpus_indices, vocab, ctx, is_random_iter, num_epochs,
      num_steps, lr, clipping_theta, batch_size, prefixes)``, see ``train_and_predict_rnn_model``.
    - With the book's functions, as its 2019 sections call it:
      ``train_and_predict_rnn(rnn, get_params, init_rnn_state, num_hiddens, corpus_indices,
      vocab, ctx, is_random_iter, num_epochs, num_steps, lr, clipping_theta, batch_size,
      prefixes)``, see ``train_and_predict_rnn_functions``, which wraps the functions into a
      model and trains it with ``train`` as well.
    """
    if isinstance(model_or_rnn, gluon.Block):
        return train_and_predict_rnn_model(model_or_rnn, *args, **kwargs)
    if callable(model_or_rnn):
        return train_and_predict_rnn_functions(model_or_rnn, *args, **kwargs)
    raise TypeError("the first argument of train_and_predict_rnn must be a model (a Gluon Block "
                    "such as RNNModelScratch) or the book's rnn function, got "
                    f"{type(model_or_rnn).__name__}")
