"""Bad arguments to the Python API fail at once with a message naming the argument; NumPy integers work."""
import mxnet as mx
import numpy as np
import pytest
from mxnet.gluon import rnn

import d2lrnn
from d2lrnn.store import checkpoint
from tiny import run, tiny_model


@pytest.fixture(scope="module")
def trained(tiny_data):
    return run(tiny_data, num_epochs=1, verbose=False)[0]


def _train(tiny_data, model=None, corpus=None, vocab=None, **kwargs):
    corpus_indices, data_vocab = tiny_data
    model = model if model is not None else tiny_model(data_vocab)
    return d2lrnn.train_and_predict_rnn_gluon(
        model, 16, corpus if corpus is not None else corpus_indices, vocab or data_vocab, mx.cpu(),
        kwargs.pop("num_epochs", 1), 10, 2.0, 1.0, 4, ["the "], verbose=False, **kwargs)


def test_a_model_sized_for_another_vocabulary_is_refused(tiny_data):
    _, vocab = tiny_data
    with pytest.raises(ValueError, match=f"the model predicts 50 tokens but the vocabulary has {len(vocab)}"):
        _train(tiny_data, model=d2lrnn.RNNModel(rnn.LSTM(8), 50))


def test_indices_outside_the_vocabulary_are_refused(tiny_data):
    corpus_indices, vocab = tiny_data
    with pytest.raises(ValueError, match=f"corpus_indices holds index {len(vocab)}, outside the vocabulary"):
        _train(tiny_data, corpus=corpus_indices[:-1] + [len(vocab)])
    with pytest.raises(ValueError, match="corpus_indices holds index -1"):
        _train(tiny_data, corpus=[-1] + corpus_indices)
    with pytest.raises(ValueError, match="flat list of integer token indices"):
        _train(tiny_data, corpus=[0.5] + corpus_indices)


def test_a_missing_model_is_named(tiny_data):
    corpus_indices, vocab = tiny_data
    with pytest.raises(TypeError, match="model must be a d2lrnn.RNNModel .* got NoneType"):
        d2lrnn.train_and_predict_rnn_gluon(None, 16, corpus_indices, vocab, mx.cpu(), 1, 10, 2.0,
                                           1.0, 4, ["the "])


@pytest.mark.parametrize("name, value, error, message", [
    ("vocab", "abc", TypeError, "vocab must be a d2lrnn.Vocab .* got str"),
    ("seed", -1, ValueError, "seed must be None or an integer >= 0, got -1"),
    ("seed", 1.5, ValueError, "seed must be None or an integer >= 0, got 1.5"),
    ("num_epochs", 2.0, ValueError, "num_epochs must be a positive integer, got 2.0"),
    ("save_every", -1, ValueError, "save_every must be a number of seconds >= 0"),
])
def test_training_arguments_are_named(tiny_data, name, value, error, message):
    with pytest.raises(error, match=message):
        _train(tiny_data, **{name: value})


def test_numpy_integers_are_integers(tiny_data, trained):
    _, vocab = tiny_data
    history = _train(tiny_data, num_epochs=np.int64(2))
    assert len(history) == 2
    text = d2lrnn.predict_rnn_gluon("the", np.int64(5), trained, vocab, mx.cpu(),
                                    temperature=np.float64(1.0), top_k=np.int32(3), seed=np.int64(0))
    assert len(text) == 8


@pytest.mark.parametrize("kwargs, error, message", [
    ({"model": None}, TypeError, "model must be a d2lrnn.RNNModel"),
    ({"vocab": None}, TypeError, "vocab must be a d2lrnn.Vocab"),
    ({"seed": -1}, ValueError, "seed must be None or an integer >= 0"),
    ({"vocab": d2lrnn.Vocab("the cat")}, ValueError, "the model predicts .* tokens but the vocabulary has 7"),
])
def test_prediction_arguments_are_named(tiny_data, trained, kwargs, error, message):
    args = {"prefix": "the", "num_chars": 5, "model": trained, "vocab": tiny_data[1], "ctx": mx.cpu(), **kwargs}
    with pytest.raises(error, match=message):
        d2lrnn.predict_rnn_gluon(**args)


@pytest.mark.parametrize("bad", [True, "abc", 2.5, 0])
def test_load_data_time_machine_names_num_examples(bad):
    with pytest.raises(ValueError, match=f"num_examples must be a positive integer, got {bad!r}"):
        d2lrnn.load_data_time_machine(bad)


def test_numpy_num_examples(tmp_path):
    corpus_indices, _ = d2lrnn.load_data_time_machine(np.int64(100))
    assert len(corpus_indices) == 100


@pytest.mark.parametrize("save_every, num_epochs, saves", [(0, 5, 5), (3600, 8, 4)])
def test_save_every_bounds_what_a_kill_can_lose(tmp_path, tiny_data, monkeypatch, save_every, num_epochs, saves):
    """save_every=0 saves after every epoch; a long interval still saves at each quarter of the run."""
    calls = []
    real_save = checkpoint.save
    monkeypatch.setattr(checkpoint, "save", lambda *a, **k: (calls.append(a[3].epoch[-1]), real_save(*a, **k)))
    _train(tiny_data, num_epochs=num_epochs, checkpoint_dir=tmp_path / "ck", save_every=save_every)
    assert len(calls) == saves
    assert calls[-1] == num_epochs


def test_a_bad_checkpoint_dir_fails_before_the_first_epoch(tmp_path, tiny_data, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(checkpoint.CheckpointError, match="is a file, not a directory"):
        _train(tiny_data, checkpoint_dir=tmp_path / "notes.txt")
    assert (tmp_path / "notes.txt").read_text() == "mine"
