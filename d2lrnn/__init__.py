"""d2lrnn: the helper package for the d2l.ai chapter "Deep Recurrent Neural Networks" (MXNet Gluon).

``import d2lrnn as d2l`` gives the chapter's API: ``load_data_time_machine``,
``try_gpu``, ``RNNModel``, ``train_and_predict_rnn_gluon``, ``predict_rnn_gluon`` and
``grad_clipping`` (the loop itself is in ``chapter``, in the book's shape), and for the
from-scratch models of Exercise 1 ``RNNModelScratch``, ``from_gluon`` and
``train_and_predict_rnn``. The 2019 book's from-scratch sections (rnn-scratch, gru, lstm)
also find ``sgd``, ``to_onehot``, ``predict_rnn``, the two minibatch samplers and
``train_and_predict_rnn`` called with their functions (``chapter2019``).

Importing d2lrnn does two things, both before MXNet loads, and nothing else: it puts back
the NumPy names MXNet 1.9.1 still uses where this NumPy removed them (see ``env/_compat``),
and it arranges for MXNet's thread count to be chosen while MXNet loads (see
``env/_mxnet_load``: ``OMP_NUM_THREADS`` is set to the CPUs the process may use for the
duration of MXNet's load when you have not set it, and removed again, so child processes
inherit your environment unchanged). It installs no signal handler (training does, while it
runs, and the command line) and checks an environment variable only where it uses it. The
installed start-up hook (``_d2lrnn_hook``) imports d2lrnn whenever ``mxnet`` is imported
first, so the order of imports does not matter.

MXNet itself loads at the first use of a name that needs it (``d2l.RNNModel``,
``from d2lrnn import train``, ``d2lrnn.models``): the names below are looked up in their
modules on first access (PEP 562), so the MXNet-free ``d2lrnn.facts`` (cells, settings,
sampling, divergence, argument rules) can be imported without it, e.g. by the benchmark's
parent. docs/package.md shows the layout: the chapter at the top, ``env/`` (set-up),
``store/`` (history, checkpoints), ``cli`` (command line), ``checks/`` (the exercises' checks) and ``facts``.
"""
import importlib
import importlib.util

from .env import _environment, _mxnet_load
from .env._environment import QUICK_ENV, EnvironmentVariableError

# Without NumPy there is no MXNet to prepare (d2lrnn installed with --no-deps, say): the import
# still works, and ``python -m d2lrnn`` says in one line what to install (env/_platforms).
if importlib.util.find_spec("numpy") is not None:
    from .env._compat import check_distutils, restore_numpy_names
    restore_numpy_names()
    check_distutils()
_mxnet_load.install()

__version__ = "0.1.0"

# The one table of the lazy exports: module (under d2lrnn) -> the public names it defines.
# Each module and subpackage is also an attribute named by its last part (``d2lrnn.checkpoint``,
# ``d2lrnn.device``, ``d2lrnn.store``); names and modules are imported on first access (see __getattr__).
_EXPORTS = {
    "data": ("Vocab", "check_corpus_length", "data_iter_consecutive", "data_iter_random",
             "load_data_books", "load_data_time_machine", "load_held_out_time_machine", "min_corpus_length", "preprocess",
             "read_gutenberg", "split_corpus", "strip_gutenberg"),
    "download": ("TIME_MACHINE", "ChecksumError", "DownloadError", "Resource", "fetch",
                 "gutenberg_resource", "resolve_data_dir"),
    "models": ("RNNModel", "make_rnn_layer", "num_parameters"),
    "scratch": ("RNNModelScratch", "from_gluon"),
    "chapter": ("grad_clipping", "train", "train_and_predict_rnn_gluon", "try_gpu"),
    "fast": (),
    "training": ("TrainingDivergedError",),
    "evaluation": ("evaluate_perplexity", "perplexity"),
    "early_stopping": ("best_held_out", "replay"),
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
                  "mxnet_threads",
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


def mxnet_threads():
    """MXNet's CPU threads in this process (``OMP_NUM_THREADS`` as MXNet loaded, or will load, with it)."""
    return _mxnet_load.mxnet_threads()


def versions():
    """Versions that decide the numbers a notebook shows, as one line."""
    import platform

    import mxnet
    import numpy
    return (f"python {platform.python_version_tuple()[0]}.{platform.python_version_tuple()[1]}, "
            f"mxnet {mxnet.__version__}, numpy {numpy.__version__}, d2lrnn {__version__}")
