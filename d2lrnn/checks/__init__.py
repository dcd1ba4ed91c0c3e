"""Feedback for the exercise notebooks: run a student's function against the reference and say what is wrong.

Each ``check_*`` function prints one verdict and returns True (correct) or False. A
mistake in the checked function, an exception included, is reported in the verdict
rather than raised, so a notebook never stores an error output. The reference is
``d2lrnn.scratch``, which the tests prove equal to Gluon's fused layers; it is refused
when handed in as the student's own (``own_work``), and so are pasted copies of it in the
graded copy that ``grading.fresh_checks()`` loads anew for graded cells. The
training-run checks are in ``checks.training_runs``.
"""
import itertools
import traceback

import numpy as np
from mxnet import init, nd

from ..env._mxnet_errors import mxnet_reason
from ..facts import CELLS
from ..models import make_rnn_layer
from .own_work import refuse_reference
from .training_runs import check_divergence, check_runs, expected_num_parameters  # noqa: F401 (checks.check_runs)
from ..scratch import LAYER_PARAMS, STEPS, deep_rnn
from .feedback import Mistake, report as _report

# True in the copy that grading.fresh_checks() loads for graded cells: pasted copies of the
# reference are then refused too. The worked solution notebook shows the reference code and
# runs the checks on it, so ungraded checks accept it (the reference itself never).
GRADED = False
TOLERANCE, TOLERANCE_TEXT = 1e-5, "1e-5"
BATCH_SIZE, NUM_INPUTS, NUM_HIDDENS, NUM_STEPS = 3, 5, 4, 4
GATE_NAMES = {"i": "input gate", "f": "forget gate", "g": "candidate memory", "o": "output gate",
              "r": "reset gate", "z": "update gate", "n": "candidate state"}


def check_rnn_cell(rnn_cell):
    """Check ``rnn_cell(X, state, params)`` against the reference tanh RNN step; print a verdict, return True/False."""
    return _report("rnn_cell", lambda: _check_cell(rnn_cell, "rnn"))


def check_gru_cell(gru_cell):
    """Check ``gru_cell(X, state, params)`` against the reference GRU step; print a verdict, return True/False."""
    return _report("gru_cell", lambda: _check_cell(gru_cell, "gru"))


def check_lstm_cell(lstm_cell):
    """Check ``lstm_cell(X, state, params)`` against the reference LSTM step; print a verdict, return True/False."""
    return _report("lstm_cell", lambda: _check_cell(lstm_cell, "lstm"))


def check_deep_rnn(deep_rnn_fn):
    """Check ``deep_rnn(inputs, state, params, cell)`` against the reference stacking loop; print a verdict, return True/False."""
    return _report("deep_rnn", lambda: _check_deep_rnn(deep_rnn_fn))


def check_against_gluon(deep_rnn_fn, rnn_cell, gru_cell, lstm_cell):
    """Run the student's ``deep_rnn`` with each of their cells on Gluon's weights and compare with the fused layer.

    Prints one verdict per cell; returns True when all three agree with Gluon.
    """
    cells = {"rnn": rnn_cell, "gru": gru_cell, "lstm": lstm_cell}
    return all([_report(f"deep_rnn with {name}_cell", lambda c=name: _check_against_gluon(deep_rnn_fn, c, cells[c]))
                for name in cells])


def _call(fn, name, *args, hint=""):
    """``fn(*args)``; any exception becomes a ``Mistake`` that says where it happened."""
    try:
        return fn(*args)
    except NotImplementedError as err:
        where = traceback.extract_tb(err.__traceback__)[-1].name
        raise Mistake(f"not implemented yet: `{where}` still raises NotImplementedError. Replace that "
                      "line with your code, run its cell, then run this check again.") from err
    except Exception as err:  # a bug in the student's code: reported, not hidden
        raise Mistake(_describe_error(err, fn, name, hint)) from err


def _describe_error(err, fn, name, hint):
    message = mxnet_reason(err) if str(err).strip() else ""
    code = getattr(fn, "__code__", None)
    frames = [f for f in traceback.extract_tb(err.__traceback__)
              if code is not None and f.filename == code.co_filename]
    where = f" at `{frames[-1].line}`" if frames and frames[-1].line else ""
    text = f"calling `{name}` raised {type(err).__name__}{where}: {message}"
    if hint and "shape" in message.lower():
        text += f". Hint: {hint}"
    return text


def _close(a, b):
    return float(nd.abs(a - b).max().asscalar()) < TOLERANCE


def _max_diff(a, b):
    return float(nd.abs(a - b).max().asscalar())


def _random(rng, shape):
    return nd.array(rng.uniform(-1, 1, shape))


# ---------------------------------------------------------------- one step of a cell

def _cell_case(cell, seed):
    """Random X (batch_size, num_inputs), state and MXNet-layout params for one step of ``cell``."""
    rng = np.random.RandomState(seed)
    rows = CELLS[cell].num_gates * NUM_HIDDENS
    X = _random(rng, (BATCH_SIZE, NUM_INPUTS))
    state = tuple(_random(rng, (BATCH_SIZE, NUM_HIDDENS)) for _ in range(CELLS[cell].num_state_arrays))
    params = tuple(_random(rng, shape) for shape in
                   [(rows, NUM_INPUTS), (rows, NUM_HIDDENS), (rows,), (rows,)])
    return X, state, params


def _check_state_tuple(result, cell, what):
    """Raise a ``Mistake`` unless ``result`` is a tuple of (batch_size, num_hiddens) arrays like ``cell``'s state."""
    want = CELLS[cell].num_state_arrays
    names = CELLS[cell].state_tuple
    if isinstance(result, nd.NDArray):
        raise Mistake(f"{what} a single array; return the new state as a tuple, `return {names}`"
                      + (" (note the comma)" if want == 1 else ""))
    if not isinstance(result, (tuple, list)) or len(result) != want \
            or not all(isinstance(r, nd.NDArray) for r in result):
        got = (f"{len(result)} value{'s' if len(result) != 1 else ''}" if isinstance(result, (tuple, list))
               else type(result).__name__)
        raise Mistake(f"{what} {got}; return the new state as a tuple of {want} array(s), `return {names}`")
    want_shape = (BATCH_SIZE, NUM_HIDDENS)
    for name, r in zip(CELLS[cell].state, result):
        if r.shape != want_shape:
            hint = ""
            if r.shape == want_shape[::-1]:
                hint = " (it is transposed)"
            elif len(r.shape) == 2 and r.shape[1] == CELLS[cell].num_gates * NUM_HIDDENS:
                hint = " (all the gates together: split them with nd.split(..., num_outputs=" \
                       f"{CELLS[cell].num_gates}, axis=1))"
            raise Mistake(f"wrong shape: {name} has shape {r.shape}{hint}, but should be "
                          f"(batch_size, num_hiddens) = {want_shape}")


def _permuted(params, order):
    """``params`` with the gate blocks of every weight and bias taken in ``order``."""
    num_gates = len(order)
    return tuple(nd.concat(*[nd.split(p, num_outputs=num_gates, axis=0)[k] for k in order], dim=0)
                 if num_gates > 1 else p for p in params)


def _negate_block(params, block, num_gates):
    """``params`` with one gate block negated: sigmoid(-a) = 1 - sigmoid(a) turns Z into 1 - Z."""
    sign = nd.ones((num_gates * NUM_HIDDENS,))
    sign[block * NUM_HIDDENS:(block + 1) * NUM_HIDDENS] = -1
    return tuple(nd.broadcast_mul(p, sign.reshape((-1,) + (1,) * (p.ndim - 1))) for p in params)


def _gru_reset_before_matmul(X, state, params):
    """The d2l book's GRU: the reset gate scales H before the multiplication, (R * H) W_hn^T."""
    W_x, W_h, b_x, b_h = params
    H, = state
    X_r, X_z, X_n = nd.split(nd.dot(X, W_x, transpose_b=True) + b_x, num_outputs=3, axis=1)
    H_r, H_z, _ = nd.split(nd.dot(H, W_h, transpose_b=True) + b_h, num_outputs=3, axis=1)
    R, Z = nd.sigmoid(X_r + H_r), nd.sigmoid(X_z + H_z)
    W_hn, b_hn = W_h[2 * NUM_HIDDENS:], b_h[2 * NUM_HIDDENS:]
    H_tilda = nd.tanh(X_n + nd.dot(R * H, W_hn, transpose_b=True) + b_hn)
    return (Z * H + (1 - Z) * H_tilda,)


def _rnn_relu(X, state, params):
    W_xh, W_hh, b_xh, b_hh = params
    H, = state
    return (nd.relu(nd.dot(X, W_xh, transpose_b=True) + b_xh + nd.dot(H, W_hh, transpose_b=True) + b_hh),)


def _cell_diagnoses(cell, X, state, params):
    """(message, what the reference gives for that mistake) pairs, the likeliest mistakes first."""
    ref = STEPS[cell]
    gates = CELLS[cell].gates
    zero = [s.zeros_like() for s in state]
    W_x, W_h, b_x, b_h = params
    yield ("the previous hidden state H is not used (the state is not carried): the new state must "
           "depend on H through W_h", lambda: ref(X, (zero[0],) + state[1:], params))
    if cell == "lstm":
        yield ("the previous memory cell C is not used (the state is not carried): C = F * C_prev + I * C_tilda",
               lambda: ref(X, (state[0], zero[1]), params))
    for order in itertools.permutations(range(len(gates))):
        if list(order) != sorted(order):
            yours = tuple(gates[order.index(j)] for j in range(len(gates)))
            names = ", ".join(f"{g} ({GATE_NAMES[g]})" for g in gates)
            yield (f"wrong gate order: your code reads the stacked blocks of the weights as "
                   f"{', '.join(yours)}, but MXNet stacks them as {names}",
                   lambda o=order: ref(X, state, _permuted(params, o)))
    if cell == "gru":
        yield ("the update gate is used the other way round: MXNet computes H = Z * H_prev + (1 - Z) * H_tilda",
               lambda: ref(X, state, _negate_block(params, 1, 3)))
        yield ("the reset gate is applied before the matrix multiplication, (R * H) W_hn^T as in the d2l "
               "book; MXNet applies it after: H_tilda = tanh(X_n + R * (H W_hn^T + b_hn))",
               lambda: _gru_reset_before_matmul(X, state, params))
    if cell == "rnn":
        yield ("it uses relu; the RNN cell uses tanh", lambda: _rnn_relu(X, state, params))
    yield "the input bias b_x (i2h_bias) is missing", lambda: ref(X, state, (W_x, W_h, b_x.zeros_like(), b_h))
    yield "the hidden bias b_h (h2h_bias) is missing", lambda: ref(X, state, (W_x, W_h, b_x, b_h.zeros_like()))


def _check_cell(fn, cell):
    name = f"{cell}_cell"
    refuse_reference(fn, name, STEPS[cell], copies=GRADED)
    hint = ("MXNet stores each weight as (num_gates * num_hiddens, num_inputs): multiply with "
            "nd.dot(X, W_x, transpose_b=True)")
    for seed in (0, 1):
        X, state, params = _cell_case(cell, seed)
        result = _call(fn, name, X, state, params, hint=hint)
        _check_state_tuple(result, cell, "it returned")
        want = STEPS[cell](X, state, params)
        if all(_close(r, w) for r, w in zip(result, want)):
            continue
        if cell == "lstm" and _close(result[0], want[1]) and _close(result[1], want[0]):
            raise Mistake("it returned (C, H); return (H, C), the hidden state first, as Gluon does")
        for message, variant in _cell_diagnoses(cell, X, state, params):
            if all(_close(r, v) for r, v in zip(result, variant())):
                raise Mistake(message)
        wrong = [n for n, r, w in zip(CELLS[cell].state, result, want)
                 if not _close(r, w)]
        detail = ""
        if cell == "lstm" and wrong == ["H"]:
            detail = "; C is right, so look at the output gate O and H = O * tanh(C)"
        raise Mistake(f"wrong values: {' and '.join(wrong)} differ from the reference by up to "
                      f"{max(_max_diff(r, w) for r, w in zip(result, want)):.3g}{detail}. Compare each line "
                      "with the equations above")
    return (f"it matches the reference {cell.upper()} step on random inputs (batch_size {BATCH_SIZE}, "
            f"{NUM_INPUTS} inputs, {NUM_HIDDENS} hidden units) to within {TOLERANCE_TEXT}. Well done!")


# ---------------------------------------------------------------- the stacking loop

def _stack_case(cell, num_layers, num_inputs, seed):
    """Random inputs (num_steps, batch_size, num_inputs), Gluon-layout state and per-layer params."""
    rng = np.random.RandomState(seed)
    rows = CELLS[cell].num_gates * NUM_HIDDENS
    inputs = _random(rng, (NUM_STEPS, BATCH_SIZE, num_inputs))
    state = [_random(rng, (num_layers, BATCH_SIZE, NUM_HIDDENS)) for _ in range(CELLS[cell].num_state_arrays)]
    params = [tuple(_random(rng, shape) for shape in
                    [(rows, num_inputs if l == 0 else NUM_HIDDENS), (rows, NUM_HIDDENS), (rows,), (rows,)])
              for l in range(num_layers)]
    return inputs, state, params


def _check_stack_result(result, state, num_layers):
    """Raise a ``Mistake`` unless ``result`` is (outputs, new state) with the reference's structure and shapes."""
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise Mistake("it should return two things, `return outputs, new_state`")
    outputs, new_state = result
    want = (NUM_STEPS, BATCH_SIZE, NUM_HIDDENS)
    if isinstance(outputs, (list, tuple)):
        raise Mistake(f"outputs is a list of {len(outputs)} arrays; stack them into one array of shape "
                      f"(num_steps, batch_size, num_hiddens) = {want} with nd.stack(*outputs)")
    if not isinstance(outputs, nd.NDArray) or outputs.shape != want:
        got = outputs.shape if isinstance(outputs, nd.NDArray) else type(outputs).__name__
        hint = ""
        if got == (num_layers, BATCH_SIZE, NUM_HIDDENS) and num_layers != NUM_STEPS:
            hint = " (one entry per layer? return the top layer's output at every time step)"
        raise Mistake(f"wrong shape: outputs has shape {got}{hint}, but should be "
                      f"(num_steps, batch_size, num_hiddens) = {want}")
    want_state = (num_layers, BATCH_SIZE, NUM_HIDDENS)
    ok = isinstance(new_state, (list, tuple)) and len(new_state) == len(state) and \
        all(isinstance(s, nd.NDArray) and s.shape == want_state for s in new_state)
    if not ok:
        if isinstance(new_state, (list, tuple)):
            got = f"a list of {len(new_state)}: " + ", ".join(
                str(s.shape) if isinstance(s, nd.NDArray) else type(s).__name__ for s in new_state)
        else:
            got = type(new_state).__name__
        raise Mistake(f"wrong shape: the new state is {got}, but should be a list of {len(state)} array(s) "
                      f"of shape (num_layers, batch_size, num_hiddens) = {want_state}, like the state it "
                      "was given; stack the layers' final states with nd.stack")
    return outputs, new_state


def _stack_output_diagnoses(inputs, state, params, cell_fn):
    """(message, outputs the reference gives for that mistake) pairs."""
    num_layers = len(params)
    yield ("the state is not carried from one time step to the next: within a layer, each step must "
           "start from the state the previous step returned",
           lambda: nd.stack(*[deep_rnn(inputs[t:t + 1], state, params, cell_fn)[0][0]
                              for t in range(NUM_STEPS)]))
    if num_layers > 1:
        yield ("layers are not stacked: every layer reads the original inputs. Layer l + 1 must read "
               "the output sequence of layer l",
               lambda: deep_rnn(inputs, [s[-1:] for s in state], params[-1:], cell_fn)[0])
        for k in range(1, num_layers):
            yield (f"it returns the outputs of layer {k} of {num_layers}: only the top layer's outputs "
                   "are returned (and each layer reads the outputs of the layer below)",
                   lambda k=k: deep_rnn(inputs, [s[:k] for s in state], params[:k], cell_fn)[0])
        yield ("every layer starts from the bottom layer's state, state[i][0]: each layer has its own "
               "state, layer l starts from state[i][l]",
               lambda: deep_rnn(inputs, [nd.broadcast_to(s[:1], s.shape) for s in state], params, cell_fn)[0])
        yield ("layer l starts from the final state of layer l - 1 instead of its own state: "
               "take layer l's state from state[i][l] before its time loop",
               lambda: _chained_layers(inputs, state, params, cell_fn))


def _chained_layers(inputs, state, params, cell_fn):
    """The outputs of a stack whose layers hand their final state to the layer above."""
    layer_state = [s[:1] for s in state]
    outputs = inputs
    for layer_params in params:
        outputs, layer_state = deep_rnn(outputs, layer_state, [layer_params], cell_fn)
    return outputs


def _check_deep_rnn(fn):
    refuse_reference(fn, "deep_rnn", deep_rnn, copies=GRADED)
    probes = [("rnn", 1, NUM_INPUTS), ("rnn", 3, NUM_HIDDENS), ("rnn", 3, NUM_INPUTS), ("lstm", 2, NUM_INPUTS)]
    for seed, (cell, num_layers, num_inputs) in enumerate(probes):
        inputs, state, params = _stack_case(cell, num_layers, num_inputs, seed)
        cell_fn = STEPS[cell]
        hint = (f"layer 1 reads the inputs ({num_inputs} features per step) but every layer above reads "
                f"the outputs of the layer below ({NUM_HIDDENS} features)")
        result = _call(fn, "deep_rnn", inputs, state, params, cell_fn, hint=hint)
        outputs, new_state = _check_stack_result(result, state, num_layers)
        want_outputs, want_state = deep_rnn(inputs, state, params, cell_fn)
        setting = f"(with {num_layers} layer{'s' if num_layers > 1 else ''} of {cell}_cell)"
        if not _close(outputs, want_outputs):
            for message, variant in _stack_output_diagnoses(inputs, state, params, cell_fn):
                if _close(outputs, variant()):
                    raise Mistake(f"{message} {setting}")
            raise Mistake(f"wrong outputs {setting}: they differ from the reference by up to "
                          f"{_max_diff(outputs, want_outputs):.3g}")
        if all(_close(s, w) for s, w in zip(new_state, want_state)):
            continue
        if all(_close(s, w) for s, w in zip(new_state, state)):
            raise Mistake(f"the outputs are right but it returns the state it was given {setting}: return "
                          "each layer's state after the last time step")
        if num_layers > 1 and all(_close(s, w[::-1]) for s, w in zip(new_state, want_state)):
            raise Mistake(f"the layers of the returned state are in reverse order {setting}: the bottom "
                          "layer comes first")
        if len(state) == 2 and _close(new_state[0], want_state[1]) and _close(new_state[1], want_state[0]):
            raise Mistake(f"the returned state is [C, H] {setting}; it should be [H, C], as Gluon's")
        wrong = [f"state[{i}][{l}]" for i, (s, w) in enumerate(zip(new_state, want_state))
                 for l in range(num_layers) if not _close(s[l], w[l])]
        raise Mistake(f"the outputs are right but the returned state is not {setting}: {', '.join(wrong)} "
                      "should be that layer's state after the last time step")
    return ("for 1 to 3 stacked layers of RNN and LSTM cells its outputs and final states match the "
            f"reference to within {TOLERANCE_TEXT}. Well done!")


# ---------------------------------------------------------------- against Gluon

def _gluon_name(cell):
    """How code builds Gluon's layer of ``cell``: 'rnn.LSTM', 'rnn.RNN(activation='tanh')'."""
    activation = CELLS[cell].activation
    return f"rnn.{CELLS[cell].layer}" + (f"(activation={activation!r})" if activation else "")


def _gluon_layer(cell):
    """Gluon's fused 2-layer layer of ``cell`` with its input size fixed, so its weights can be set at once."""
    return make_rnn_layer(cell, NUM_HIDDENS, num_layers=2, input_size=NUM_INPUTS)


def _check_against_gluon(deep_rnn_fn, cell, cell_fn):
    refuse_reference(deep_rnn_fn, "deep_rnn", deep_rnn, copies=GRADED)
    refuse_reference(cell_fn, f"{cell}_cell", STEPS[cell], copies=GRADED)
    layer = _gluon_layer(cell)
    layer.initialize(init.Zero())  # the weights are set below; MXNet's random generator is left alone
    rng = np.random.RandomState(7)
    for p in layer.collect_params().values():
        p.set_data(_random(rng, p.shape))
    inputs = _random(rng, (NUM_STEPS, BATCH_SIZE, NUM_INPUTS))
    state = [_random(rng, s.shape) for s in layer.begin_state(batch_size=BATCH_SIZE)]
    want_outputs, want_state = layer(inputs, state)
    params = [tuple(getattr(layer, f"l{l}_{name}").data() for name in LAYER_PARAMS) for l in range(2)]
    result = _call(deep_rnn_fn, "deep_rnn", inputs, state, params, cell_fn)
    outputs, new_state = _check_stack_result(result, state, 2)
    diff = max([_max_diff(outputs, want_outputs)] + [_max_diff(s, w) for s, w in zip(new_state, want_state)])
    if diff >= TOLERANCE:
        raise Mistake(f"outputs or state differ from Gluon's {_gluon_name(cell)} by up to {diff:.3g}; "
                      f"run check_{cell}_cell and check_deep_rnn to find out where")
    return (f"with 2 layers it gives the same outputs and state as Gluon's fused "
            f"{_gluon_name(cell)} with the same weights (to within {TOLERANCE_TEXT})")
