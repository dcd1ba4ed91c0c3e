"""d2lrnn: the helper package for the d2l.ai chapter "Deep Recurrent Neural Networks" (MXNet Gluon).

``import d2lrnn as d2l`` gives the chapter's API: ``load_data_time_machine``,
``try_gpu``, ``RNNModel``, ``train_and_predict_rnn_gluon``, ``predict_rnn_gluon``, and for
the from-scratch models of Exercise 1 ``RNNModelScratch``, ``from_gluon`` and
``train_and_predict_rnn``. The 2019 book's from-scratch sections (rnn-scratch, gru, lstm)
also find ``sgd``, ``to_onehot``, ``predict_rnn``, ``grad_clipping``, the two minibatch
samplers and ``train_and_predict_rnn`` called with their functions (``chapter2019``).

Importing d2lrnn does three things, all before MXNet loads: it checks the environment
variables it reads (``OMP_NUM_THREADS``, ``OMP_WAIT_POLICY``, ``D2LRNN_QUICK``,
``D2LRNN_DATA_DIR``) and raises ``EnvironmentVariableError`` for an unusable one; it puts
back the NumPy names MXNet 1.9.1 still uses where this NumPy removed them (see
``env/_compat``); and it sets ``OMP_NUM_THREADS`` to the CPUs the process may use when it is
unset, because MXNet reads it only once, when it is imported. A value you set yourself is
never changed. The installed start-up hook (``_d2lrnn_hook``) imports d2lrnn whenever
``mxnet`` is imported first, so the order of imports does not matter.

MXNet itself loads at the first use of a name that needs it (``d2l.RNNModel``,
``from d2lrnn import train``, ``d2lrnn.models``): the names below are looked up in their
modules on first access (PEP 562), so the MXNet-free ``d2lrnn.facts`` (cells, settings,
sampling, divergence, argument rules) can be imported without it, e.g. by the benchmark's
parent. docs/package.md shows the layout: the chapter at the top, ``env/`` (set-up),
``store/`` (history, checkpoints), ``cli`` (command line), ``checks/`` (the exercises' checks) and ``facts``.
"""
import importlib

from .env import _environment
from .env._compat import check_distutils, restore_numpy_names
from .env._environment import QUICK_ENV, EnvironmentVariableError
from .env._threads import set_default_omp_threads

_environment.quiet_ctrl_c_while_loading()
_environment.check_environment_on_import()
restore_numpy_names()
check_distutils()
set_default_omp_threads()

__version__ = "0.1.0"

# The one table of the lazy exports: module (under d2lrnn) -> the public names it defines.
# Each module and subpackage is also an attribute named by its last part (``d2lrnn.checkpoint``,
# ``d2lrnn.device``, ``d2lrnn.store``); names and modules are imported on first access (see __getattr__).
_EXPORTS = {
    "data": ("Vocab", "check_corpus_length", "data_iter_consecutive", "data_iter_random",
             "load_data_books", "load_data_time_machine", "min_corpus_length", "preprocess",
             "read_gutenberg", "split_corpus", "strip_gutenberg"),
    "download": ("TIME_MACHINE", "ChecksumError", "DownloadError", "Resource", "fetch",
                 "gutenberg_resource", "resolve_data_dir"),
    "models": ("RNNModel", "make_rnn_layer", "num_parameters"),
    "scratch": ("RNNModelScratch", "from_gluon"),
    "chapter": ("grad_clipping", "train", "train_and_predict_rnn_gluon", "try_gpu"),
    "fast": (),
    "training": ("TrainingDivergedError",),
    "evaluation": ("evaluate_perplexity", "perplexity"),
    "store.history": ("History",),
    "predict": ("predict_rnn_gluon",),
    "plotting": ("LivePlot", "markdown_table", "mean_and_range", "plot_perplexity", "plot_runs",
                 "plot_seeds", "results_table", "seeds_table"),
    "progress": (),
    "chapter2019": ("FunctionModel", "predict_rnn", "sgd", "to_onehot", "train_and_predict_rnn",
                    "train_and_predict_rnn_model", "use_svg_display"),
    "grading": (),
    "verdicts": (),
    "facts": (),
    "checks": (),
    "checks.own_work": (),
    "checks.training_runs": (),
    "checks.feedback": (),
    "env": (),
    "env.device": ("try_all_gpus",),
    "store": (),
    "store.checkpoint": (),
    "store.checkpoint_files": (),
    "cli": (),
}
_NAMES = {name: module for module, names in _EXPORTS.items() for name in names}
_LAZY = {**{module.rpartition(".")[2]: module for module in _EXPORTS}, **_NAMES}  # and the modules

__all__ = sorted([*_NAMES, "checkpoint", "QUICK_ENV", "EnvironmentVariableError", "quick_mode", "versions",
                  "__version__"])


def __getattr__(name):
    """Import the module that defines ``name`` on first access (PEP 562), and keep the value."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f".{_LAZY[name]}", __name__)
    value = getattr(module, name) if name in _NAMES else module
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_LAZY))


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
