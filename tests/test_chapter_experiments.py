"""scripts/layer_timescales.py and scripts/cures.py: their measurements on tiny models, and quick runs."""
import json
import os
import subprocess
import sys
from pathlib import Path

import mxnet as mx
import numpy as np
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


def test_step_by_step_lstm_reproduces_gluons_fused_layer():
    # Two layers of 8 units with weights far from zero, so that wrong gate blocks would show.
    model = _fused(6)
    text = [3, 1, 4, 1, 5, 2, 0, 5, 3, 5, 4, 2, 1, 0, 3, 3, 2, 5]  # 2 rows of 9
    layers, top = layer_timescales.lstm_steps(model, text, 2, mx.cpu())
    rows = nd.array(text).reshape((2, 9))
    Y, (H, C) = model.rnn(nd.one_hot(rows.T, 6), model.begin_state(batch_size=2))  # Y: (9, 2, 8)
    assert top.shape == Y.shape == (9, 2, 8)
    assert nd.abs(top - Y).max().asscalar() < 1e-5
    for l, (F, H_l, C_l) in enumerate(layers):
        assert F.shape == (9, 2, 8) and ((F > 0) & (F < 1)).all()
        assert nd.abs(H_l - H[l]).max().asscalar() < 1e-5 and nd.abs(C_l - C[l]).max().asscalar() < 1e-5
    # From the zero state the bottom layer's gates are the input's column of W_x plus the biases; block f is rows 8-15.
    W_x, b_x, b_h = (getattr(model.rnn, f"l0_{n}").data() for n in ("i2h_weight", "i2h_bias", "h2h_bias"))
    f = nd.sigmoid(W_x[8:16, 3] + b_x[8:16] + b_h[8:16]).asnumpy()
    assert np.abs(layers[0][0][0, 0] - f).max() < 1e-6
    with pytest.raises(ValueError, match="5 characters make no row of 8"):
        layer_timescales.lstm_steps(model, text[:5], 8, mx.cpu())


def test_retention_is_the_product_of_the_forget_gates_that_follow():
    forget = np.full((60, 1, 2), 0.5)
    forget[:, 0, 1] = 1.0
    forget[30, 0, 1] = 0.0  # a unit that keeps everything but clears its cell at step 30
    kept = layer_timescales.retention(forget, 5, [1, 10, 50])
    assert set(kept) == {1, 10, 50} and all(r.shape == (5, 1, 2) for r in kept.values())  # starts 5..9
    assert np.allclose(kept[1][:, 0, 0], 0.5) and np.allclose(kept[10][:, 0, 0], 0.5 ** 10)
    assert np.allclose(kept[10][:, 0, 1], 1.0)  # steps t+1..t+10 <= 19
    assert np.allclose(kept[50][:, 0, 1], 0.0)  # every window of 50 after a start <= 9 crosses step 30
    later = layer_timescales.retention(forget, 31, [1, 10])  # starts 31..49, after the cleared step
    assert np.allclose(later[10][:, 0, 1], 1.0) and np.allclose(later[1][:, 0, 0], 0.5)
    with pytest.raises(ValueError, match="rows of 60 characters leave no start after a warm-up of 10"):
        layer_timescales.retention(forget, 10, [50])


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
        assert run["best_epoch"] in run["history"]["epoch"]
        for model in ("trained", "untrained"):
            for text in ("training", "held-out"):
                layers = run["gates"][model][text]
                assert len(layers) == 2 and [len(layer["retention"]["10"]["unit_medians"]) for layer in layers] == [256, 256]
                q1, median, q3 = layers[1]["retention"]["1"]["quartiles"]
                assert 0 < q1 <= median <= q3 < 1
        assert len(run["reset_loss"]["layer 2"]) == layer_timescales.SETTINGS["window"]
