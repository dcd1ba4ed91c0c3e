"""d2lrnn: the helper package for the d2l.ai chapter "Deep Recurrent Neural Networks" (MXNet Gluon).

``import d2lrnn as d2l`` gives the chapter's API: ``load_data_time_machine``,
``try_gpu``, ``RNNModel``, ``train_and_predict_rnn_gluon``, ``predict_rnn_gluon``, and for
the from-scratch models of Exercise 1 ``RNNModelScratch``, ``from_gluon`` and
``train_and_predict_rnn``. The 2019 book's from-scratch sections (rnn-scratch, gru, lstm)
also find ``sgd``, ``to_onehot``, ``predict_rnn``, ``grad_clipping``, the two minibatch
samplers and ``train_and_predict_rnn`` called with their functions (``chapter2019``).

Import d2lrnn before mxnet. Importing it does three things, all before MXNet loads:
it checks the environment variables it reads (``OMP_NUM_THREADS``, ``OMP_WAIT_POLICY``,
``D2LRNN_QUICK``, ``D2LRNN_DATA_DIR``) and raises ``EnvironmentVariableError`` for an
unusable one; it defines ``numpy.bool = bool`` where NumPy lacks it (MXNet 1.9.1 fails to
import on NumPy >= 1.24 without it; see ``_compat``); and it sets ``OMP_NUM_THREADS`` to
the CPUs the process may use when it is unset, because MXNet reads it only once, when it
is imported. A value you set yourself is never changed.
"""
from . import _environment
from ._compat import check_distutils, restore_numpy_bool
from ._environment import QUICK_ENV, EnvironmentVariableError
from ._threads import set_default_omp_threads

_environment.check_environment_on_import()
restore_numpy_bool()
check_distutils()
set_default_omp_threads()

from .data import (  # noqa: E402  (mxnet must be imported after the compat and thread settings)
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
from .plotting import (LivePlot, markdown_table, mean_and_range, plot_perplexity, plot_runs,  # noqa: E402
                       plot_seeds, results_table, seeds_table)
from .predict import predict_rnn_gluon  # noqa: E402
from .scratch import RNNModelScratch, from_gluon  # noqa: E402
from .training import (  # noqa: E402
    TrainingDivergedError, evaluate_perplexity, grad_clipping, perplexity, train,
    train_and_predict_rnn, train_and_predict_rnn_gluon, train_and_predict_rnn_model)

__version__ = "0.1.0"


def quick_mode():
    """True when ``$D2LRNN_QUICK`` is set to 1: notebooks then train a short schedule (tests, CI)."""
    return _environment.quick_mode()


def versions():
    """Versions that decide the numbers a notebook shows, as one line."""
    import platform

    import mxnet
    import numpy
    return (f"python {platform.python_version_tuple()[0]}.{platform.python_version_tuple()[1]}, "
            f"mxnet {mxnet.__version__}, numpy {numpy.__version__}, d2lrnn {__version__}")
