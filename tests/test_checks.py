"""The exercise checks catch each typical mistake with the right message and pass correct code.

The implementations here are written independently of ``d2lrnn.scratch`` (other
formulas, other loop orders), so a pass means "computes the same", not "is the same code".
"""
import functools
import importlib.util
import inspect
import sys

import mxnet as mx
import pytest
from mxnet import nd
from mxnet.gluon import rnn

import d2lrnn
from d2lrnn import checks, scratch
from d2lrnn.store.history import History


def verdict(check, *fns, capsys, **kwargs):
    """(returned bool, printed text) of one check."""
    passed = check(*fns, **kwargs)
    return passed, capsys.readouterr().out


def affine(X, W, b):
    return nd.FullyConnected(X, W, b, num_hidden=W.shape[0])  # X W^T + b


# ---------------------------------------------------------------- RNN cells

def rnn_right(X, state, params):
    W_xh, W_hh, b_xh, b_hh = params
    return (nd.tanh(affine(X, W_xh, b_xh) + affine(state[0], W_hh, b_hh)),)


def rnn_relu(X, state, params):
    W_xh, W_hh, b_xh, b_hh = params
    return (nd.relu(affine(X, W_xh, b_xh) + affine(state[0], W_hh, b_hh)),)


def rnn_ignores_state(X, state, params):
    W_xh, W_hh, b_xh, b_hh = params
    return (nd.tanh(affine(X, W_xh, b_xh) + b_hh),)


def rnn_no_tuple(X, state, params):
    return rnn_right(X, state, params)[0]


def rnn_untransposed(X, state, params):
    W_xh, W_hh, b_xh, b_hh = params
    return (nd.tanh(nd.dot(X, W_xh) + b_xh + nd.dot(state[0], W_hh) + b_hh),)


def rnn_transposed_result(X, state, params):
    return (rnn_right(X, state, params)[0].T,)


def rnn_no_hidden_bias(X, state, params):
    W_xh, W_hh, b_xh, b_hh = params
    return (nd.tanh(affine(X, W_xh, b_xh) + nd.dot(state[0], W_hh, transpose_b=True)),)


def rnn_stub(X, state, params):
    raise NotImplementedError("write rnn_cell")


@pytest.mark.parametrize("fn, message", [
    (rnn_stub, "not implemented yet: `rnn_stub` still raises NotImplementedError"),
    (rnn_relu, "it uses relu; the RNN cell uses tanh"),
    (rnn_ignores_state, "the previous hidden state H is not used (the state is not carried)"),
    (rnn_no_tuple, "it returned a single array; return the new state as a tuple, `return (H,)` (note the comma)"),
    (rnn_untransposed, "raised MXNetError at `return (nd.tanh(nd.dot(X, W_xh) + b_xh + nd.dot(state[0], W_hh) "
                       "+ b_hh),)`: Check failed"),
    (rnn_untransposed, "Hint: MXNet stores each weight as (num_gates * num_hiddens, num_inputs)"),
    (rnn_transposed_result, "wrong shape: H has shape (4, 3) (it is transposed), but should be "
                            "(batch_size, num_hiddens) = (3, 4)"),
    (rnn_no_hidden_bias, "the hidden bias b_h (h2h_bias) is missing"),
])
def test_rnn_cell_mistakes_are_named(fn, message, capsys):
    passed, out = verdict(checks.check_rnn_cell, fn, capsys=capsys)
    assert passed is False
    assert out.startswith("\u2718 rnn_cell: ") and message in out


# ---------------------------------------------------------------- GRU cells

def gru_parts(X, H, params, order=(0, 1, 2)):
    """Per-gate affine maps of X and H, in the order the test asks for."""
    W_x, W_h, b_x, b_h = params
    h = H.shape[1]
    rows = [slice(k * h, (k + 1) * h) for k in order]
    xs = [affine(X, W_x[r], b_x[r]) for r in rows]
    hs = [affine(H, W_h[r], b_h[r]) for r in rows]
    return xs, hs


def gru_right(X, state, params):
    (x_r, x_z, x_n), (h_r, h_z, h_n) = gru_parts(X, state[0], params)
    r, z = nd.sigmoid(x_r + h_r), nd.sigmoid(x_z + h_z)
    n = nd.tanh(x_n + r * h_n)
    return (n + z * (state[0] - n),)  # = z * H + (1 - z) * n


def gru_swapped_gates(X, state, params):
    (x_r, x_z, x_n), (h_r, h_z, h_n) = gru_parts(X, state[0], params, order=(1, 0, 2))
    r, z = nd.sigmoid(x_r + h_r), nd.sigmoid(x_z + h_z)
    n = nd.tanh(x_n + r * h_n)
    return (z * state[0] + (1 - z) * n,)


def gru_flipped_update(X, state, params):
    (x_r, x_z, x_n), (h_r, h_z, h_n) = gru_parts(X, state[0], params)
    r, z = nd.sigmoid(x_r + h_r), nd.sigmoid(x_z + h_z)
    n = nd.tanh(x_n + r * h_n)
    return ((1 - z) * state[0] + z * n,)


def gru_reset_before(X, state, params):
    W_x, W_h, b_x, b_h = params
    H = state[0]
    h = H.shape[1]
    (x_r, x_z, x_n), (h_r, h_z, _) = gru_parts(X, H, params)
    r, z = nd.sigmoid(x_r + h_r), nd.sigmoid(x_z + h_z)
    n = nd.tanh(x_n + affine(r * H, W_h[2 * h:], b_h[2 * h:]))
    return (z * H + (1 - z) * n,)


def gru_unsplit(X, state, params):
    W_x, W_h, b_x, b_h = params
    return (nd.sigmoid(affine(X, W_x, b_x) + affine(state[0], W_h, b_h)),)


@pytest.mark.parametrize("fn, message", [
    (gru_swapped_gates, "wrong gate order: your code reads the stacked blocks of the weights as z, r, n, "
                        "but MXNet stacks them as r (reset gate), z (update gate), n (candidate state)"),
    (gru_flipped_update, "the update gate is used the other way round: MXNet computes "
                         "H = Z * H_prev + (1 - Z) * H_tilda"),
    (gru_reset_before, "the reset gate is applied before the matrix multiplication"),
    (gru_unsplit, "wrong shape: H has shape (3, 12) (all the gates together: split them with "
                  "nd.split(..., num_outputs=3, axis=1))"),
])
def test_gru_cell_mistakes_are_named(fn, message, capsys):
    passed, out = verdict(checks.check_gru_cell, fn, capsys=capsys)
    assert passed is False
    assert out.startswith("\u2718 gru_cell: ") and message in out


# ---------------------------------------------------------------- LSTM cells

def lstm_step(X, state, params, order=(0, 1, 2, 3), tanh_c=True, carry_c=True):
    W_x, W_h, b_x, b_h = params
    H, C = state
    h = H.shape[1]
    pre = [affine(X, W_x[k * h:(k + 1) * h], b_x[k * h:(k + 1) * h])
           + affine(H, W_h[k * h:(k + 1) * h], b_h[k * h:(k + 1) * h]) for k in order]
    i, f, o = nd.sigmoid(pre[0]), nd.sigmoid(pre[1]), nd.sigmoid(pre[3])
    C = (f * C if carry_c else 0) + i * nd.tanh(pre[2])
    return (o * (nd.tanh(C) if tanh_c else C), C)


def lstm_right(X, state, params):
    return lstm_step(X, state, params)


def lstm_swapped_input_forget(X, state, params):
    return lstm_step(X, state, params, order=(1, 0, 2, 3))


def lstm_ifog(X, state, params):
    return lstm_step(X, state, params, order=(0, 1, 3, 2))


def lstm_ignores_memory(X, state, params):
    return lstm_step(X, state, params, carry_c=False)


def lstm_returns_c_first(X, state, params):
    return lstm_step(X, state, params)[::-1]


def lstm_no_tanh_on_c(X, state, params):
    return lstm_step(X, state, params, tanh_c=False)


def lstm_only_h(X, state, params):
    return (lstm_step(X, state, params)[0],)


def lstm_stub(X, state, params):
    raise NotImplementedError


@pytest.mark.parametrize("fn, message", [
    (lstm_stub, "not implemented yet: `lstm_stub` still raises NotImplementedError"),
    (lstm_swapped_input_forget, "wrong gate order: your code reads the stacked blocks of the weights as "
                                "f, i, g, o, but MXNet stacks them as i (input gate), f (forget gate), "
                                "g (candidate memory), o (output gate)"),
    (lstm_ifog, "reads the stacked blocks of the weights as i, f, o, g, but MXNet stacks them as i"),
    (lstm_ignores_memory, "the previous memory cell C is not used (the state is not carried)"),
    (lstm_returns_c_first, "it returned (C, H); return (H, C)"),
    (lstm_no_tanh_on_c, "wrong values: H differ from the reference by up to"),
    (lstm_no_tanh_on_c, "C is right, so look at the output gate O and H = O * tanh(C)"),
    (lstm_only_h, "it returned 1 value; return the new state as a tuple of 2 array(s), `return (H, C)`"),
])
def test_lstm_cell_mistakes_are_named(fn, message, capsys):
    passed, out = verdict(checks.check_lstm_cell, fn, capsys=capsys)
    assert passed is False
    assert out.startswith("\u2718 lstm_cell: ") and message in out


@pytest.mark.parametrize("check, fn, name", [
    (checks.check_rnn_cell, rnn_right, "rnn_cell"),
    (checks.check_gru_cell, gru_right, "gru_cell"),
    (checks.check_lstm_cell, lstm_right, "lstm_cell"),
])
def test_correct_cells_pass(check, fn, name, capsys):
    passed, out = verdict(check, fn, capsys=capsys)
    assert passed is True
    assert out.startswith(f"\u2714 {name} is correct: ") and "Well done!" in out


# ---------------------------------------------------------------- the stacking loop

def stack_time_outer(inputs, state, params, cell):
    """Correct, with the loops the other way round: time outside, layers inside."""
    layer_states = [tuple(s[l] for s in state) for l in range(len(params))]
    outputs = []
    for X in inputs:
        for l, layer_params in enumerate(params):
            layer_states[l] = cell(X, layer_states[l], layer_params)
            X = layer_states[l][0]
        outputs.append(X)
    return nd.stack(*outputs), [nd.stack(*[ls[i] for ls in layer_states]) for i in range(len(state))]


def stack_with(inputs, state, params, cell, *, restart_each_step=False, feed_inputs=False,
               return_layer=None, start_from_layer0=False, return_given_state=False,
               unstacked_outputs=False, per_layer_state=False, concat_time=False):
    """The layer-outer loop with one chosen mistake."""
    layer_inputs, finals, per_layer = list(inputs), [], []
    for l, layer_params in enumerate(params):
        start = tuple(s[0 if start_from_layer0 else l] for s in state)
        layer_state, outputs = start, []
        for X in (list(inputs) if feed_inputs else layer_inputs):
            layer_state = cell(X, start if restart_each_step else layer_state, layer_params)
            outputs.append(layer_state[0])
        finals.append(layer_state)
        per_layer.append(outputs)
        layer_inputs = outputs
    top = per_layer[min(return_layer, len(params) - 1)] if return_layer is not None else layer_inputs
    new_state = [nd.stack(*[f[i] for f in finals]) for i in range(len(state))]
    if return_given_state:
        new_state = state
    if per_layer_state:
        new_state = finals
    if unstacked_outputs:
        return top, new_state
    if concat_time:
        return nd.concat(*top, dim=0), new_state
    return nd.stack(*top), new_state


def deep_rnn_stub(inputs, state, params, cell):
    raise NotImplementedError("write deep_rnn")


def wrong(**mistake):
    return lambda inputs, state, params, cell: stack_with(inputs, state, params, cell, **mistake)


@pytest.mark.parametrize("fn, message", [
    (deep_rnn_stub, "not implemented yet: `deep_rnn_stub` still raises NotImplementedError"),
    (wrong(restart_each_step=True), "the state is not carried from one time step to the next: within a "
                                    "layer, each step must start from the state the previous step returned "
                                    "(with 1 layer of rnn_cell)"),
    (wrong(feed_inputs=True), "layers are not stacked: every layer reads the original inputs. Layer l + 1 "
                              "must read the output sequence of layer l (with 3 layers of rnn_cell)"),
    (wrong(return_layer=0), "it returns the outputs of layer 1 of 3: only the top layer's outputs"),
    (wrong(return_layer=1), "it returns the outputs of layer 2 of 3"),
    (wrong(start_from_layer0=True), "every layer starts from the bottom layer's state, state[i][0]"),
    (wrong(return_given_state=True), "the outputs are right but it returns the state it was given "
                                     "(with 1 layer of rnn_cell)"),
    (wrong(unstacked_outputs=True), "outputs is a list of 4 arrays; stack them into one array of shape "
                                    "(num_steps, batch_size, num_hiddens) = (4, 3, 4)"),
    (wrong(concat_time=True), "wrong shape: outputs has shape (12, 4), but should be "
                              "(num_steps, batch_size, num_hiddens) = (4, 3, 4)"),
    (wrong(per_layer_state=True), "wrong shape: the new state is a list of 1: tuple, but should be a list "
                                  "of 1 array(s) of shape (num_layers, batch_size, num_hiddens) = (1, 3, 4)"),
])
def test_deep_rnn_mistakes_are_named(fn, message, capsys):
    passed, out = verdict(checks.check_deep_rnn, fn, capsys=capsys)
    assert passed is False
    assert out.startswith("\u2718 deep_rnn: ") and message in out


def test_feeding_inputs_to_every_layer_is_explained_when_the_shapes_clash(capsys):
    """With 5 input features and 4 hidden units, the unstacked loop fails inside the cell; the hint says why."""
    def feed_inputs_unless_square(inputs, state, params, cell):
        if inputs.shape[2] == checks.NUM_HIDDENS:
            return stack_time_outer(inputs, state, params, cell)
        return stack_with(inputs, state, params, cell, feed_inputs=True)
    passed, out = verdict(checks.check_deep_rnn, feed_inputs_unless_square, capsys=capsys)
    assert passed is False
    assert "raised MXNetError" in out and "Hint: layer 1 reads the inputs (5 features per step) but every " \
        "layer above reads the outputs of the layer below (4 features)" in out


@pytest.mark.parametrize("fn", [stack_time_outer, wrong()])
def test_correct_stacking_passes(fn, capsys):
    passed, out = verdict(checks.check_deep_rnn, fn, capsys=capsys)
    assert passed is True
    assert out.startswith("\u2714 deep_rnn is correct: ") and "Well done!" in out


# ---------------------------------------------------------------- against Gluon

def test_check_against_gluon_passes_correct_code_and_names_the_stub(capsys):
    passed, out = verdict(checks.check_against_gluon, stack_time_outer, rnn_right, gru_right, lstm_right,
                          capsys=capsys)
    assert passed is True and out.count("\u2714") == 3
    assert "same outputs and state as Gluon's fused rnn.LSTM" in out
    passed, out = verdict(checks.check_against_gluon, stack_time_outer, rnn_right, gru_right, lstm_stub,
                          capsys=capsys)
    assert passed is False
    lines = out.splitlines()
    assert lines[0].startswith("\u2714 deep_rnn with rnn_cell") and lines[1].startswith("\u2714 deep_rnn with gru_cell")
    assert lines[2] == ("\u2718 deep_rnn with lstm_cell: not implemented yet: `lstm_stub` still raises "
                        "NotImplementedError. Replace that line with your code, run its cell, then run "
                        "this check again.")


def test_check_against_gluon_catches_a_wrong_cell(capsys):
    passed, out = verdict(checks.check_against_gluon, stack_time_outer, rnn_right, gru_swapped_gates,
                          lstm_right, capsys=capsys)
    assert passed is False
    assert "\u2718 deep_rnn with gru_cell: outputs or state differ from Gluon's rnn.GRU by up to" in out
    assert "run check_gru_cell and check_deep_rnn to find out where" in out


# ---------------------------------------------------------------- the package's own solution handed in

@pytest.mark.parametrize("check, fn, message", [
    (checks.check_rnn_cell, scratch.rnn_cell, "this rnn_cell is the package's own function "
                                              "(d2lrnn.scratch.rnn_cell), not yours"),
    (checks.check_gru_cell, scratch.gru_cell, "this gru_cell is the package's own function"),
    (checks.check_lstm_cell, scratch.lstm_cell, "this lstm_cell is the package's own function"),
    (checks.check_deep_rnn, scratch.deep_rnn, "this deep_rnn is the package's own function "
                                              "(d2lrnn.scratch.deep_rnn)"),
    (checks.check_rnn_cell, scratch.gru_cell, "this rnn_cell is the package's own function "
                                              "(d2lrnn.scratch.gru_cell)"),
    (checks.check_lstm_cell, functools.partial(scratch.lstm_cell), "this lstm_cell is the package's own"),
])
def test_the_packages_own_functions_are_refused(check, fn, message, capsys):
    passed, out = verdict(check, fn, capsys=capsys)
    assert passed is False
    assert message in out and "Write " in out, out


def test_against_gluon_refuses_the_packages_own_functions(capsys):
    passed, out = verdict(checks.check_against_gluon, scratch.deep_rnn, rnn_right, gru_right, lstm_right,
                          capsys=capsys)
    assert passed is False and out.count("this deep_rnn is the package's own function") == 3
    passed, out = verdict(checks.check_against_gluon, stack_time_outer, rnn_right, scratch.gru_cell, lstm_right,
                          capsys=capsys)
    assert passed is False and "\u2718 deep_rnn with gru_cell: this gru_cell is the package's own" in out


def pasted(tmp_path, function, strip_comments=False):
    """``function``'s source from d2lrnn.scratch pasted into a module of its own (as into a notebook cell)."""
    source = inspect.getsource(function)
    if strip_comments:
        source = "\n".join(line.split("  #")[0] for line in source.splitlines())
    path = tmp_path / f"pasted_{function.__name__}_{strip_comments}.py"
    path.write_text("from mxnet import nd\n\n\n" + source + "\n")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, function.__name__)


@pytest.mark.parametrize("check, function", [(checks.check_gru_cell, scratch.gru_cell),
                                             (checks.check_lstm_cell, scratch.lstm_cell),
                                             (checks.check_deep_rnn, scratch.deep_rnn)])
def test_a_pasted_copy_is_refused_when_graded_and_the_same_code_written_anew_passes(check, function, tmp_path,
                                                                                    capsys):
    from d2lrnn.grading import fresh_checks
    graded = getattr(fresh_checks(), check.__name__)
    passed, out = verdict(graded, pasted(tmp_path, function), capsys=capsys)
    assert passed is False
    assert f"is a copy of the package's own d2lrnn.scratch.{function.__name__}, comments and all" in out
    # Without the reference's comments the same statements are what a student may well write: accepted.
    passed, out = verdict(graded, pasted(tmp_path, function, strip_comments=True), capsys=capsys)
    assert passed is True, out
    # Ungraded, as the worked solution notebook runs them, the checks accept the shown reference code.
    passed, out = verdict(check, pasted(tmp_path, function), capsys=capsys)
    assert passed is True, out


def test_fresh_checks_ignore_what_a_notebook_replaced(monkeypatch, capsys):
    """A cell that replaces a check, or the reference a check compares with, does not reach fresh_checks()."""
    from d2lrnn.grading import fresh_checks
    monkeypatch.setattr(checks, "check_lstm_cell", lambda fn: True)
    monkeypatch.setitem(scratch.STEPS, "lstm", lstm_swapped_input_forget)
    fresh = fresh_checks()
    assert fresh is not checks and fresh.STEPS["lstm"] is not lstm_swapped_input_forget
    passed, out = verdict(fresh.check_lstm_cell, lstm_swapped_input_forget, capsys=capsys)
    assert passed is False and "wrong gate order" in out
    assert not [name for name in sys.modules if name.startswith("_d2lrnn_fresh_")]
    passed, out = verdict(fresh.check_lstm_cell, lstm_right, capsys=capsys)
    assert passed is True, out


# ---------------------------------------------------------------- training runs

BOOKS = {"Time Machine": 35, "War of the Worlds": 36}
HIDDENS = 16


@pytest.fixture(scope="module")
def books():
    """Two short real books with one vocabulary: (train_parts, valid_parts, vocab)."""
    corpora, vocab = d2lrnn.load_data_books(list(BOOKS.values()), num_examples=3000)
    train_parts, valid_parts = {}, {}
    for name, indices in zip(BOOKS, corpora):
        train_parts[name], valid_parts[name] = d2lrnn.split_corpus(indices, valid_fraction=0.2)
    return train_parts, valid_parts, vocab


def trained(vocab, train, valid, num_epochs=2, lr=1.0, layer=rnn.LSTM, num_layers=2, clipping_theta=1.0):
    """(History, parameter count) of a real tiny run, as a notebook's train_run keeps them."""
    mx.random.seed(0)
    model = d2lrnn.RNNModel(layer(HIDDENS, num_layers=num_layers), len(vocab))
    model.initialize(mx.init.Xavier())
    history = d2lrnn.train(model, train, vocab, mx.cpu(), num_epochs, 10, lr, clipping_theta, 4, [], seed=0,
                           valid_indices=valid, verbose=False, progress=False, live_plot=False)
    return history, d2lrnn.num_parameters(model)


def check(books, histories, runs, **kwargs):
    """check_runs on the books, with the histories' parameter counts, as a graded cell calls it."""
    train_parts, valid_parts, vocab = books
    histories, num_params = {k: h for k, (h, _) in histories.items()}, {k: n for k, (_, n) in histories.items()}
    return checks.check_runs(histories, num_params, runs, len(vocab), HIDDENS,
                             **{"train_texts": train_parts, "valid_texts": valid_parts, **kwargs})


def two_runs(books, one_book_epochs=2, two_books_epochs=1, **changes):
    """Exercise 3 of more-books in small: one book, then both, at equal updates (or as ``changes`` say)."""
    train_parts, valid_parts, vocab = books
    tm, wotw = "Time Machine", "War of the Worlds"
    both = changes.get("both_text", train_parts[tm] + train_parts[wotw])
    return {tm: trained(vocab, changes.get("one_text", train_parts[tm]), changes.get("one_valid", valid_parts[tm]),
                        one_book_epochs),
            "both": trained(vocab, both, valid_parts[tm], two_books_epochs)}


TWO_RUNS = {"Time Machine": dict(cell="lstm", num_layers=2, train=["Time Machine"], valid="Time Machine", epochs=2),
            "both": dict(cell="lstm", num_layers=2, train=["Time Machine", "War of the Worlds"],
                         valid="Time Machine", epochs=1)}


def test_expected_num_parameters_is_the_model_count():
    for (cell, num_layers), size in [(("lstm", 2), 848_173), (("rnn", 2), 220_717), (("gru", 2), 639_021),
                                     (("lstm", 3), 1_374_509)]:
        assert checks.expected_num_parameters(cell, num_layers, 45, 256) == size
    model = d2lrnn.RNNModel(rnn.GRU(8, num_layers=3), 7)
    model.initialize()
    model(nd.zeros((2, 3)), model.begin_state(batch_size=2))
    assert checks.expected_num_parameters("gru", 3, 7, 8) == d2lrnn.num_parameters(model)


def test_runs_trained_as_asked_pass(books, capsys):
    runs = two_runs(books)
    passed, out = verdict(check, books, runs, TWO_RUNS, capsys=capsys, equal_updates=True)
    assert passed is True, out
    updates = min(h.num_updates for h, _ in runs.values())
    assert abs(runs["both"][0].num_updates - runs["Time Machine"][0].num_updates) <= 2
    best = min(runs["both"][0].val_perplexity)
    assert out.startswith(f"\u2714 runs are complete: every run is there, trained on the texts asked for for at "
                          f"least its epochs, each with about {updates:,} updates, validated on held-out text")
    assert f"both {best:.2f})" in out


@pytest.mark.parametrize("make, runs, message", [
    # the ways to pass wrongly, each with what the student must fix
    (lambda b: {"Time Machine": trained(b[2], b[0]["Time Machine"], b[0]["Time Machine"])},
     {"Time Machine": ("lstm", 2)},
     "'Time Machine' was validated on the text it was trained on: that measures memorisation"),
    (lambda b: two_runs(b, one_book_epochs=1), TWO_RUNS,
     "'Time Machine' was trained for 1 epoch, but the question asks for at least 2: train it again"),
    (lambda b: two_runs(b, both_text=b[0]["Time Machine"]), TWO_RUNS,
     "'both' was trained on the training text of Time Machine only, but the question asks for the training "
     "text of Time Machine and War of the Worlds: pass exactly that text"),
    (lambda b: two_runs(b, both_text=b[0]["War of the Worlds"] + b[0]["Time Machine"], two_books_epochs=2),
     dict(TWO_RUNS, both=dict(TWO_RUNS["both"], epochs=2)),
     "the runs made different numbers of updates (Time Machine: 118, both: 238); the question compares them at "
     "equal updates"),
    (lambda b: two_runs(b, one_valid=b[1]["War of the Worlds"]), TWO_RUNS,
     "'Time Machine' was validated on the held-out text of War of the Worlds, but the question asks for the "
     "held-out text of Time Machine"),
    (lambda b: two_runs(b, one_valid=b[0]["Time Machine"][-500:]), TWO_RUNS,
     "'Time Machine' was validated on a text of 500 characters that is none of this exercise's texts"),
    (lambda b: {"Time Machine": trained(b[2], b[0]["Time Machine"], b[1]["Time Machine"], layer=rnn.GRU)},
     {"Time Machine": ("lstm", 2)}, "'Time Machine' is a GRU with 2 layers of 16 units, but the question asks "
                                    "for a LSTM with 2 layers of 16"),
])
def test_runs_not_trained_as_asked_are_named(books, make, runs, message, capsys):
    passed, out = verdict(check, books, make(books), runs, capsys=capsys, equal_updates=True)
    assert passed is False
    assert out.startswith("\u2718 runs: ") and message in out, out


def test_a_hand_made_history_is_refused(books, capsys):
    """A History built by hand (the issue's last way around the old check) has no training record."""
    history, size = trained(books[2], books[0]["Time Machine"], books[1]["Time Machine"])
    fake = History(history.epoch, history.perplexity, history.seconds, history.num_tokens, history.val_perplexity)
    passed, out = verdict(check, books, {"Time Machine": (fake, size)}, {"Time Machine": ("lstm", 2)},
                          capsys=capsys)
    assert passed is False
    assert "'Time Machine' has no record of what it was trained on, so it was not made by d2l.train" in out
    passed, out = verdict(check, books, {"Time Machine": ({"epoch": [1]}, size)}, {"Time Machine": ("lstm", 2)},
                          capsys=capsys)
    assert passed is False and "'Time Machine' is a dict, not the History that d2l.train returns" in out


def test_held_out_text_that_overlaps_the_training_text_is_named(books, capsys):
    train_parts, valid_parts, vocab = books
    tm = "Time Machine"
    leaky = {tm: train_parts[tm][-600:]}  # a notebook that reassigned its held-out text to training text
    runs = {tm: trained(vocab, train_parts[tm], leaky[tm])}
    passed, out = verdict(check, books, runs, {tm: ("lstm", 2)}, capsys=capsys,
                          train_texts={tm: train_parts[tm]}, valid_texts=leaky)
    assert passed is False
    assert "the held-out text of Time Machine shares text with the training text of Time Machine" in out


def test_a_diverged_run_is_not_a_result(books, capsys):
    train_parts, valid_parts, vocab = books
    with pytest.raises(d2lrnn.TrainingDivergedError) as err:
        trained(vocab, train_parts["Time Machine"], valid_parts["Time Machine"], lr=1e30, clipping_theta=1e30)
    passed, out = verdict(check, books, {"Time Machine": (err.value.history, 0)}, {"Time Machine": ("lstm", 2)},
                          capsys=capsys)
    assert passed is False and "'Time Machine' diverged at epoch 1 with lr=1e+30" in out


@pytest.mark.parametrize("histories, sizes, message", [
    ({}, {}, "no run labelled 'LSTM, 2 layers' yet: train it in the cell above"),
    ({"LSTM 2 layers": 0}, {}, "no run labelled 'LSTM, 2 layers' yet (runs so far: 'LSTM 2 layers')"),
    ({"LSTM, 2 layers": History(trained_on=[{"first_epoch": 1}])}, {}, "'LSTM, 2 layers' was trained for 0 epochs"),
])
def test_missing_runs_are_named(histories, sizes, message, capsys):
    passed, out = verdict(checks.check_runs, histories, sizes, {"LSTM, 2 layers": ("lstm", 2)}, 45, 256,
                          capsys=capsys)
    assert passed is False
    assert out.startswith("\u2718 runs: ") and message in out, out


def test_the_parameter_count_is_checked(books, capsys):
    runs = {"Time Machine": trained(books[2], books[0]["Time Machine"], books[1]["Time Machine"])}
    passed, out = verdict(check, books, {"Time Machine": (runs["Time Machine"][0], 5)}, {"Time Machine": ("lstm", 2)},
                          capsys=capsys)
    want = checks.expected_num_parameters("lstm", 2, len(books[2]), HIDDENS)
    assert passed is False and f"'Time Machine' has 5 parameters, but a LSTM with 2 layers of 16 units" in out
    assert f"has {want:,}: check the cell" in out


def test_a_run_without_held_out_text_is_named(books, capsys):
    runs = {"Time Machine": trained(books[2], books[0]["Time Machine"], None)}
    passed, out = verdict(check, books, runs, {"Time Machine": ("lstm", 2)}, capsys=capsys)
    assert passed is False and "'Time Machine' has no validation perplexity: train it with valid_indices" in out


# ---------------------------------------------------------------- question 2's divergence

def test_a_caught_divergence_passes(books, capsys):
    train_parts, valid_parts, vocab = books
    with pytest.raises(d2lrnn.TrainingDivergedError) as err:
        trained(vocab, train_parts["Time Machine"], valid_parts["Time Machine"], lr=1e30, clipping_theta=1e30,
                layer=rnn.RNN)
    passed, out = verdict(checks.check_divergence, {"RNN, lr 5": err.value.history}, "RNN, lr 5", "rnn", 2, 1e30,
                          HIDDENS, capsys=capsys, train_texts={"Time Machine": train_parts["Time Machine"]})
    assert passed is True, out
    assert out.startswith("\u2714 divergence was observed: the RNN (tanh) with 2 layers diverged at epoch 1 with "
                          "lr=1e+30")


def test_question_2_cannot_be_passed_with_a_run_that_did_not_diverge(books, capsys):
    """The issue's case: a run that trains (in quick mode lr = 5 did not diverge in 1 epoch) is no divergence."""
    train_parts, valid_parts, vocab = books
    history, _ = trained(vocab, train_parts["Time Machine"], valid_parts["Time Machine"], lr=5, layer=rnn.RNN)
    texts = {"Time Machine": train_parts["Time Machine"]}
    passed, out = verdict(checks.check_divergence, {"RNN, lr 5": history}, "RNN, lr 5", "rnn", 2, 5, HIDDENS,
                          capsys=capsys, train_texts=texts)
    assert passed is False and "'RNN, lr 5' did not diverge: it trained 2 epochs at lr=5" in out
    passed, out = verdict(checks.check_divergence, {}, "RNN, lr 5", "rnn", 2, 5, HIDDENS, capsys=capsys,
                          train_texts=texts)
    assert passed is False and "except d2l.TrainingDivergedError as err:` and keep err.history in " \
        "diverged['RNN, lr 5']" in out
    history, _ = trained(vocab, train_parts["Time Machine"], valid_parts["Time Machine"], lr=1, layer=rnn.RNN)
    passed, out = verdict(checks.check_divergence, {"RNN, lr 5": history}, "RNN, lr 5", "rnn", 2, 5, HIDDENS,
                          capsys=capsys, train_texts=texts)
    assert passed is False and "'RNN, lr 5' was trained with lr=1, but the question asks what lr=5 does" in out
