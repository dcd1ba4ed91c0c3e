"""What a training run records about itself: settings, text fingerprints, model, divergence.

The exercise checks (``d2lrnn.checks.check_runs``) rely on this record, and on a run of N
epochs being the first N epochs of a longer run with the same seed (so that a stored
40-epoch run tells what a student's 10-epoch run shows).
"""
import mxnet as mx
import numpy as np
import pytest
from mxnet.gluon import rnn

import d2lrnn
from d2lrnn.store import checkpoint
from d2lrnn.store.history import History, text_fingerprint
from d2lrnn.facts import consecutive_layout, epoch_rng
from tiny import run, tiny_model


def test_fingerprint_names_the_sequence_not_its_type():
    assert text_fingerprint([1, 2, 3]) == text_fingerprint(np.array([1, 2, 3], dtype=np.float32))
    assert text_fingerprint([1, 2, 3])["num_tokens"] == 3
    assert text_fingerprint([1, 2, 3]) != text_fingerprint([3, 2, 1])
    assert text_fingerprint([1, 2, 3]) != text_fingerprint([1, 2, 3, 4])


def test_train_records_settings_texts_and_model(tiny_data):
    corpus_indices, vocab = tiny_data
    train, valid = d2lrnn.split_corpus(corpus_indices, 0.2)
    _, history = run((train, vocab), num_epochs=2, lr=2.0, verbose=False, valid_indices=valid)
    (record,) = history.trained_on
    assert record == {"first_epoch": 1, "lr": 2.0, "clipping_theta": 1.0, "num_steps": 10, "batch_size": 4,
                      "sampling": "consecutive", "seed": 0, "train_text": text_fingerprint(train),
                      "valid_text": text_fingerprint(valid),
                      "model": {"cell": "lstm", "num_layers": 2, "num_hiddens": 16}}
    updates = [consecutive_layout(len(train), 4, 10, epoch_rng(0, epoch))[2] for epoch in (1, 2)]
    assert history.num_updates == sum(updates) and history.num_tokens == [n * 4 * 10 for n in updates]
    assert history.diverged_at is None


def test_a_continued_history_records_each_call(tiny_data):
    corpus_indices, vocab = tiny_data
    model, history = run(tiny_data, num_epochs=2, verbose=False)
    d2lrnn.train(model, corpus_indices[:300], vocab, mx.cpu(), 1, 10, 0.5, 1.0, 4, [], seed=1,
                 history=history, verbose=False)
    assert [r["first_epoch"] for r in history.trained_on] == [1, 3]
    assert history.record_of(2)["lr"] == 2.0 and history.record_of(3)["lr"] == 0.5
    assert history.trained_on[1]["train_text"] == text_fingerprint(corpus_indices[:300])
    assert history.trained_on[1]["valid_text"] is None


def test_divergence_is_recorded_in_the_errors_history(tiny_data):
    with pytest.raises(d2lrnn.TrainingDivergedError) as err:
        run(tiny_data, num_epochs=20, lr=100, clipping_theta=1, verbose=False)
    history = err.value.history
    assert history.diverged_at == len(history) + 1
    assert history.diverged_perplexity > len(tiny_data[1]) ** 2
    assert history.trained_on[0]["lr"] == 100
    assert f"diverged at epoch {history.diverged_at}" in repr(history)


def test_a_model_without_a_gluon_layer_records_no_model(tiny_data):
    corpus_indices, vocab = tiny_data
    model = d2lrnn.RNNModelScratch(len(vocab), 8, 1, "gru")
    _, history = run(tiny_data, num_epochs=1, model=model, verbose=False)
    assert history.trained_on[0]["model"] is None


def test_checkpoints_keep_the_record_and_older_histories_still_load(tiny_data, tmp_path):
    model, history = run(tiny_data, num_epochs=1, verbose=False)
    checkpoint.save(tmp_path / "ck", model, tiny_data[1], history)
    loaded = checkpoint.load(tmp_path / "ck", mx.cpu())[2]
    assert loaded.trained_on == history.trained_on and loaded.epoch == history.epoch
    old = History([1], [5.0], [0.1], [40])  # as older versions built it: no record
    assert old.num_updates is None and old.trained_on == [] and old.diverged_at is None


def test_n_epochs_are_the_first_n_epochs_of_a_longer_run(tiny_data):
    """Initialisation is seeded once, each epoch's minibatches come from (seed, epoch): the budget changes nothing before it."""
    corpus_indices, vocab = tiny_data
    train, valid = d2lrnn.split_corpus(corpus_indices, 0.2)

    def histories(num_epochs):
        mx.random.seed(0)
        model = tiny_model(vocab, cell=rnn.GRU)
        model.initialize(mx.init.Xavier())
        return d2lrnn.train(model, train, vocab, mx.cpu(), num_epochs, 10, 2.0, 1.0, 4, ["the "], seed=0,
                            valid_indices=valid, verbose=False, progress=False, live_plot=False)
    short, long = histories(2), histories(5)
    assert short.perplexity == long.perplexity[:2] and short.val_perplexity == long.val_perplexity[:2]
