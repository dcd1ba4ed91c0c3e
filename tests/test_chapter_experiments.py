"""scripts/layer_timescales.py and scripts/cures.py: their measurements on tiny models, and quick runs."""
import json
import os
import subprocess
import sys
from pathlib import Path

import mxnet as mx
import pytest
from mxnet import autograd, nd
from mxnet.gluon import rnn

import d2lrnn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import chapter_runs  # noqa: E402
import cures  # noqa: E402
import layer_timescales  # noqa: E402


def _fused(vocab_size, num_hiddens=8, num_layers=2, seed=0):
    mx.random.seed(seed)
    model = d2lrnn.RNNModel(rnn.LSTM(num_hiddens, num_layers=num_layers), vocab_size)
    model.initialize(mx.init.Uniform(0.5))
    model(nd.zeros((1, 1)), model.begin_state(batch_size=1))
    return model


def test_dropout_model_is_the_fused_model_without_dropout_and_drops_while_training():
    fused = _fused(6)
    X = nd.array([[0, 1, 2, 3, 4], [5, 4, 3, 2, 1]])  # (batch_size, num_steps)
    state = [nd.random.normal(shape=s.shape) for s in fused.begin_state(batch_size=2)]
    for p in (0.0, 0.5):
        mine = chapter_runs.lstm_with_dropout(6, 8, 2, p)
        mine.initialize()
        mine(X, mine.begin_state(batch_size=2))
        for a, b in zip(fused.collect_params().values(), mine.collect_params().values()):
            b.set_data(a.data())  # same shapes, same order
        want, want_state = fused(X, state)
        got, got_state = mine(X, state)
        for a, b in zip([want, *want_state], [got, *got_state]):
            assert a.shape == b.shape and nd.abs(a - b).max().asscalar() < 1e-5
        with autograd.record(train_mode=True):
            dropped = mine(X, state)[0]
        assert (nd.abs(dropped - want).max().asscalar() > 1e-3) == (p > 0)


def test_a_layer_reset_at_zero_state_changes_nothing_and_a_real_one_does():
    model = _fused(6)
    text = [i % 6 for i in range(7 * 40)]  # 2 rows of 140
    extra, num_windows = layer_timescales.reset_extra_loss(model, text, 2, 0, 20, mx.cpu())
    assert num_windows == 6 and set(extra) == {"none", "layer 1", "layer 2", "all"}
    # The first window starts from the zero state, where a reset changes nothing: all four agree there.
    # Averaged over windows they differ, and never in the reference.
    assert all(len(v) == 20 for v in extra.values())
    assert extra["layer 1"] != extra["none"] and extra["layer 2"] != extra["none"]
    first, _ = layer_timescales.reset_extra_loss(model, text[:2 * 21], 2, 0, 20, mx.cpu())
    assert first["layer 1"] == first["none"] == first["all"]
    with pytest.raises(ValueError, match="too short for a warm-up of 130 and a window of 20"):
        layer_timescales.reset_extra_loss(model, text, 2, 130, 20, mx.cpu())


def test_forget_gates_are_the_f_block_of_gluons_lstm():
    model = _fused(6, num_layers=1)
    text = [3, 1, 4, 1, 5, 2]
    (means,) = layer_timescales.forget_gates(model, text, 1, 1, mx.cpu())
    W_x, W_h, b_x, b_h = (getattr(model.rnn, f"l0_{n}").data() for n in ("i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias"))
    # From the zero state the gates are the input's column of W_x plus the biases; block f is rows 8-15.
    f = nd.sigmoid(W_x[8:16, 3] + b_x[8:16] + b_h[8:16])
    assert nd.abs(nd.array(means) - f).max().asscalar() < 1e-6


def test_halving_schedule():
    factor = cures.halving(100)
    assert [factor(e) for e in (1, 100, 101, 200, 201, 500)] == [1, 1, 0.5, 0.5, 0.25, 0.0625]


@pytest.mark.parametrize("script, args", [("layer_timescales.py", ["--seeds", "0"]),
                                          ("cures.py", ["--seeds", "0", "--labels", "dropout 0.2",
                                                        "lr halved every 100 epochs"])])
def test_quick_runs_write_their_results(tmp_path, script, args):
    out = tmp_path / "r.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / script), "--quick", "--out", str(out), *args],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["complete"] and result["quick"] and result["machine_at_start"]["cpus"] >= 1
    for run in result["runs"]:
        assert len(run["history"]["perplexity"]) == chapter_runs.QUICK["num_epochs"]
    if script == "cures.py":
        assert [r["label"] for r in result["runs"]] == ["dropout 0.2", "lr halved every 100 epochs"]
        assert all(len(r["history"]["val_perplexity"]) == chapter_runs.QUICK["num_epochs"] for r in result["runs"])
    else:
        (run,) = result["runs"]
        assert [len(g) for g in run["forget_gate_means"]] == [256, 256]
        assert len(run["reset_loss"]["layer 2"]) == layer_timescales.SETTINGS["window"]
