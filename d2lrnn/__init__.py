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

MXNet itself loads at the first use of a name that needs it (``d2l.RNNModel``,
``from d2lrnn import train``, ``d2lrnn.models``): the names below are looked up in their
modules on first access (PEP 562), so the MXNet-free modules (``cells``, ``settings``,
``sampling``, ``divergence``) can be imported without it, e.g. by the benchmark's parent.
"""
import importlib

from . import _environment
from ._compat import check_distutils, restore_numpy_bool
from ._environment import QUICK_ENV, EnvironmentVariableError
from ._threads import set_default_omp_threads

_environment.quiet_ctrl_c_while_loading()
_environment.check_environment_on_import()
restore_numpy_bool()
check_distutils()
set_default_omp_threads()

__version__ = "0.1.0"

# Public name -> the module that defines it; imported on first access (see __getattr__).
_HOMES = {
    "data": ("Vocab", "check_corpus_length", "data_iter_consecutive", "data_iter_random",
             "load_data_books", "load_data_time_machine", "min_corpus_length", "preprocess",
             "read_gutenberg", "split_corpus", "strip_gutenberg"),
    "device": ("try_all_gpus", "try_gpu"),
    "download": ("TIME_MACHINE", "ChecksumError", "DownloadError", "Resource", "fetch",
                 "gutenberg_resource", "resolve_data_dir"),
    "chapter2019": ("FunctionModel", "predict_rnn", "sgd", "to_onehot", "use_svg_display"),
    "history": ("History",),
    "models": ("RNNModel", "make_rnn_layer", "num_parameters"),
    "plotting": ("LivePlot", "markdown_table", "mean_and_range", "plot_perplexity", "plot_runs",
                 "plot_seeds", "results_table", "seeds_table"),
    "predict": ("predict_rnn_gluon",),
    "scratch": ("RNNModelScratch", "from_gluon"),
    "evaluation": ("evaluate_perplexity", "perplexity"),
    "optim": ("grad_clipping",),
    "training": ("TrainingDivergedError", "train", "train_and_predict_rnn",
                 "train_and_predict_rnn_gluon", "train_and_predict_rnn_model"),
}
_LAZY = {name: module for module, names in _HOMES.items() for name in names}
# Modules reachable as attributes (``d2lrnn.checkpoint.save``) without an import statement.
_SUBMODULES = ("cells", "chapter2019", "checkpoint", "checkpoint_files", "checks", "cli", "data",
               "device", "divergence", "download", "evaluation", "grading", "history", "models", "optim",
               "own_work", "plotting", "predict", "progress", "run_checks", "sampling", "scratch", "settings",
               "static_html", "training", "verdict", "workspace")

__all__ = sorted([*_LAZY, "checkpoint", "QUICK_ENV", "EnvironmentVariableError", "quick_mode",
                  "versions", "__version__"])


def __getattr__(name):
    """Import the module that defines ``name`` on first access (PEP 562), and keep the value."""
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_SUBMODULES))


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
