"""d2lrnn: the helper package for the d2l.ai chapter "Deep Recurrent Neural Networks" (MXNet Gluon).

``import d2lrnn as d2l`` gives the chapter's API: ``load_data_time_machine``,
``try_gpu``, ``RNNModel``, ``train_and_predict_rnn_gluon``, ``predict_rnn_gluon``, and for
the from-scratch models of Exercise 1 ``RNNModelScratch``, ``from_gluon`` and
``train_and_predict_rnn``. The 2019 book's from-scratch sections (rnn-scratch, gru, lstm)
also find ``sgd``, ``to_onehot``, ``predict_rnn``, ``grad_clipping``, the two minibatch
samplers and ``train_and_predict_rnn`` called with their functions (``chapter2019``).

Importing d2lrnn sets ``OMP_NUM_THREADS`` to the number of available CPUs when it
is unset, because MXNet reads it only once, when it is imported (import d2lrnn
before mxnet). A value you set yourself is never changed.
"""
import os

from ._threads import set_default_omp_threads

set_default_omp_threads()

from .data import (  # noqa: E402  (mxnet must be imported after the thread setting)
    Vocab, check_corpus_length, data_iter_consecutive, data_iter_random, load_data_books,
    load_data_time_machine, min_corpus_length, preprocess, read_gutenberg, split_corpus,
    strip_gutenberg)
from .device import try_all_gpus, try_gpu  # noqa: E402
from .download import (  # noqa: E402
    TIME_MACHINE, ChecksumError, DownloadError, Resource, fetch, gutenberg_resource,
    resolve_data_dir)
from . import checkpoint  # noqa: E402
from .chapter2019 import FunctionModel, predict_rnn, sgd, to_onehot, use_svg_display  # noqa: E402
from .history import History  # noqa: E402
from .models import RNNModel, make_rnn_layer, num_parameters  # noqa: E402
from .plotting import LivePlot, markdown_table, plot_perplexity, plot_runs, results_table  # noqa: E402
from .predict import predict_rnn_gluon  # noqa: E402
from .scratch import RNNModelScratch, from_gluon  # noqa: E402
from .training import (  # noqa: E402
    TrainingDivergedError, evaluate_perplexity, grad_clipping, perplexity, train,
    train_and_predict_rnn, train_and_predict_rnn_gluon, train_and_predict_rnn_model)

__version__ = "0.1.0"

QUICK_ENV = "D2LRNN_QUICK"


def quick_mode():
    """True when ``$D2LRNN_QUICK`` is set to 1: notebooks then train a short schedule (tests, CI)."""
    return os.environ.get(QUICK_ENV, "0") == "1"


def versions():
    """Versions that decide the numbers a notebook shows, as one line."""
    import platform

    import mxnet
    import numpy
    from importlib.metadata import version
    return (f"python {platform.python_version_tuple()[0]}.{platform.python_version_tuple()[1]}, "
            f"mxnet {mxnet.__version__}, numpy {numpy.__version__}, d2l {version('d2l')}, "
            f"d2lrnn {__version__}")
