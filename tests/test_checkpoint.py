"""Checkpoints: round trip, atomic saves, corrupt or mismatched directories, resume."""
import json

import mxnet as mx
import numpy as np
import pytest
from mxnet import nd

import d2lrnn
from d2lrnn import checkpoint
from d2lrnn.checkpoint import CheckpointError
from test_training import TEXT, run, tiny_model


@pytest.fixture(scope="module")
def tiny_data():
    vocab = d2lrnn.Vocab(TEXT)
    return vocab[list(TEXT)], vocab


@pytest.fixture(scope="module")
def trained(tiny_data):
    model, history = run(tiny_data, num_epochs=2, verbose=False)
    return model, tiny_data[1], history


def _logits(model, vocab):
    X = nd.array([vocab[list("the time")]])
    return model(X, model.begin_state(batch_size=1))[0].asnumpy()


def test_round_trip(tmp_path, trained):
    model, vocab, history = trained
    checkpoint.save(tmp_path / "ck", model, vocab, history, extra={"lr": 2.0})
    loaded, loaded_vocab, loaded_history, config = checkpoint.load(tmp_path / "ck", mx.cpu())
    assert np.array_equal(_logits(model, vocab), _logits(loaded, loaded_vocab))
    assert loaded_vocab == vocab and loaded_history == history
    assert config["cell"] == "lstm" and config["num_layers"] == 2 and config["num_hiddens"] == 16
    assert config["extra"] == {"lr": 2.0}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck"]  # no temporary directories left


def test_interrupted_save_keeps_the_previous_checkpoint(tmp_path, trained, monkeypatch):
    model, vocab, history = trained
    checkpoint.save(tmp_path / "ck", model, vocab, history)

    def crash(path):
        raise KeyboardInterrupt  # as if Ctrl-C arrived while hashing the files
    monkeypatch.setattr(checkpoint, "_sha256", crash)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save(tmp_path / "ck", model, vocab, history)
    monkeypatch.undo()
    assert checkpoint.load(tmp_path / "ck", mx.cpu())[2] == history
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck"]


@pytest.mark.parametrize("damage, message", [
    (lambda d: (d / "params.params").write_bytes((d / "params.params").read_bytes()[:100]),
     "params.params does not match the checkpoint's manifest"),
    (lambda d: (d / "manifest.json").unlink(), "manifest.json is missing"),
    (lambda d: (d / "vocab.json").unlink(), "vocab.json is missing"),
    (lambda d: (d / "manifest.json").write_text("{not json"), "manifest.json is corrupt"),
])
def test_damaged_checkpoints_do_not_load(tmp_path, trained, damage, message):
    model, vocab, history = trained
    checkpoint.save(tmp_path / "ck", model, vocab, history)
    damage(tmp_path / "ck")
    with pytest.raises(CheckpointError, match=message):
        checkpoint.load(tmp_path / "ck", mx.cpu())


def test_missing_directory(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint directory at .*--checkpoint-dir"):
        checkpoint.load(tmp_path / "nothing", mx.cpu())


def test_mismatched_run_is_refused(trained):
    model, vocab, _ = trained
    config = checkpoint.model_config(model)
    other = d2lrnn.Vocab("a different text with other characters: xyzq!")
    with pytest.raises(CheckpointError, match="vocabulary .* differs"):
        checkpoint.check_compatible(config, vocab, other)
    with pytest.raises(CheckpointError, match="cell is 'lstm' in the checkpoint but 'gru'"):
        checkpoint.check_compatible(config, vocab, vocab, cell="gru")
    checkpoint.check_compatible(config, vocab, vocab, cell="lstm", num_layers=2, num_hiddens=16)


def test_vocab_model_size_mismatch_on_save(tmp_path, trained):
    model, _, history = trained
    with pytest.raises(CheckpointError, match="vocab_size"):
        checkpoint.save(tmp_path / "ck", model, d2lrnn.Vocab("ab"), history)


def test_resume_gives_the_same_numbers(tmp_path, tiny_data):
    corpus_indices, vocab = tiny_data
    _, straight = run(tiny_data, num_epochs=4, seed=11, verbose=False)
    model, first = run(tiny_data, num_epochs=2, seed=11, verbose=False)
    checkpoint.save(tmp_path / "ck", model, vocab, first)
    model, vocab2, history, _ = checkpoint.load(tmp_path / "ck", mx.cpu())
    resumed = d2lrnn.train(model, corpus_indices, vocab2, mx.cpu(), 2, 10, 2.0, 1.0, 4, ["the "],
                           seed=11, history=history, verbose=False)
    assert resumed.epoch == [1, 2, 3, 4]
    assert resumed.perplexity == pytest.approx(straight.perplexity, rel=1e-6)


def test_only_rnn_models_are_checkpointed():
    with pytest.raises(TypeError, match="RNNModel"):
        checkpoint.model_config(mx.gluon.nn.Dense(3))
