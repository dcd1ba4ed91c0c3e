"""Tiny shared inputs for the tests: a short text, a small model, a short training run.

A helper module, not a test file: tests import from here (and get the ``tiny_data``
fixture from conftest.py), never from each other.
"""
import importlib.util
import subprocess
import sys
from pathlib import Path

import mxnet as mx
from mxnet import nd
from mxnet.gluon import rnn

import d2lrnn

REPO = Path(__file__).resolve().parent.parent
TEXT = ("the time traveller smiled. are you sure we can move freely in space? "
        "right and left we can go, backward and forward freely enough. ") * 8


def tiny_model(vocab, cell=rnn.LSTM, num_hiddens=16, num_layers=2):
    return d2lrnn.RNNModel(cell(num_hiddens, num_layers=num_layers), len(vocab))


def run(tiny_data, num_epochs=6, lr=2.0, clipping_theta=1.0, seed=0, prefixes=("the ",),
        model=None, **kwargs):
    """Train ``model`` (default: a 2-layer LSTM of 16 units) on ``tiny_data``: ``(model, history)``."""
    corpus_indices, vocab = tiny_data
    model = model or tiny_model(vocab)
    history = d2lrnn.train_and_predict_rnn_gluon(
        model, 16, corpus_indices, vocab, mx.cpu(), num_epochs, 10, lr, clipping_theta, 4,
        list(prefixes), seed=seed, **kwargs)
    return model, history


def book_rnn(inputs, state, params):
    """The book's rnn-scratch model: num_steps arrays (batch_size, vocab_size) -> as many logits."""
    W_xh, W_hh, b_h, W_hq, b_q = params
    H, = state
    outputs = []
    for X in inputs:
        H = nd.tanh(nd.dot(X, W_xh) + nd.dot(H, W_hh) + b_h)
        outputs.append(nd.dot(H, W_hq) + b_q)
    return outputs, (H,)


def init_rnn_state(batch_size, num_hiddens, ctx):
    return (nd.zeros((batch_size, num_hiddens), ctx=ctx),)


def book_params_of(scratch):
    """The book's [W_xh, W_hh, b_h, W_hq, b_q] holding the weights of a one-layer tanh ``RNNModelScratch``."""
    W_xh, W_hh, b_xh, b_hh = scratch.layer_params()[0]
    params = [W_xh.T, W_hh.T, b_xh + b_hh, scratch.dense_weight.data().T, scratch.dense_bias.data()]
    params = [p.copy() for p in params]
    for p in params:
        p.attach_grad()
    return params


def load_tool(name):
    """tools/NAME.py as a module (tools/ is a folder of scripts, not a package; it goes on
    sys.path, as it is for ``python tools/NAME.py``, so that the tools find tools/_repo.py)."""
    if str(REPO / "tools") not in sys.path:
        sys.path.append(str(REPO / "tools"))
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_course_tools():
    """tools/generate_exercises.py as a module."""
    return load_tool("generate_exercises")


def run_checked(args, **kwargs):
    """Run ``args`` (an install, a build, a fresh interpreter); its stdout, or fail with the end of its output."""
    result = subprocess.run(args, capture_output=True, text=True, timeout=900, **kwargs)
    assert result.returncode == 0, f"{args}: {result.stdout[-2000:]}{result.stderr[-3000:]}"
    return result.stdout


def project_uv():
    """The uv that the README's install command put beside this Python (tests that build environments use it)."""
    import pytest
    uv = Path(sys.executable).parent / "uv"
    if not uv.exists():
        pytest.fail(f"{uv} is missing: install the project with the README's command (it installs uv)")
    return uv
