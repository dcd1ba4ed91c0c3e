"""Early stopping: patience on the held-out perplexity, the best epoch's weights restored, recorded and saved."""
import json

import mxnet as mx
import pytest

import d2lrnn
from d2lrnn.early_stopping import BestEpoch, best_held_out, replay
from d2lrnn.store import checkpoint
from d2lrnn.store.checkpoint_files import read_history
from tiny import TEXT, tiny_model

# Held-out text unlike the repeated training text: its perplexity stops improving after a few epochs.
OTHER = "we can go backward in time? the traveller moved forward, smiled and left the space. " * 3


def _data():
    vocab = d2lrnn.Vocab(TEXT + OTHER)
    return vocab[list(TEXT)], vocab[list(OTHER)], vocab


def _train(num_epochs=40, model=None, **options):
    train_indices, valid_indices, vocab = _data()
    model = model or tiny_model(vocab)
    options = {"verbose": False, "valid_indices": valid_indices, **options}
    history = d2lrnn.train_and_predict_rnn_gluon(model, 16, train_indices, vocab, mx.cpu(), num_epochs, 10, 2.0,
                                                 1.0, 4, ["the "], seed=0, progress=False, live_plot=False,
                                                 **options)
    return model, history, valid_indices


def test_patience_stops_once_that_many_epochs_brought_no_new_best(capsys):
    _, history, _ = _train(patience=3, verbose=True)
    val = history.val_perplexity
    assert history.stopped_early_at is not None and len(history) == history.stopped_early_at < 40
    assert history.best_epoch == 1 + val.index(min(val))
    assert history.stopped_early_at - history.best_epoch == 3
    for epoch in range(1, len(history)):  # before the last epoch, patience had not run out
        assert epoch - (1 + val.index(min(val[:epoch]))) < 3
    assert f"stopped early after epoch {history.stopped_early_at}: the validation perplexity was lowest at " \
           f"epoch {history.best_epoch}" in capsys.readouterr().out
    assert history.restored_epoch is None  # not asked for


def test_restore_best_ends_with_the_weights_of_the_best_held_out_epoch():
    model, history, valid_indices = _train(num_epochs=12, restore_best=True)
    assert history.stopped_early_at is None and len(history) == 12
    best = history.best_epoch
    assert history.restored_epoch == best and best < 12  # a later epoch was worse on held-out text
    after = d2lrnn.evaluate_perplexity(model, valid_indices, 4, 10, mx.cpu())
    assert after == history.val_perplexity[best - 1] != history.val_perplexity[-1]


def test_a_patience_that_never_runs_out_changes_nothing():
    _, plain, _ = _train(num_epochs=8)
    _, patient, _ = _train(num_epochs=8, patience=100)
    assert patient.perplexity == plain.perplexity and patient.val_perplexity == plain.val_perplexity
    assert patient.stopped_early_at is None and plain.best_epoch == patient.best_epoch


def test_the_checkpoint_holds_the_restored_weights_and_the_record(tmp_path):
    model, history, valid_indices = _train(patience=3, restore_best=True, checkpoint_dir=tmp_path / "ck",
                                           save_every=3600)
    loaded, _, saved, _ = checkpoint.load(tmp_path / "ck", mx.cpu())
    assert (saved.best_epoch, saved.stopped_early_at, saved.restored_epoch) == \
        (history.best_epoch, history.stopped_early_at, history.best_epoch)
    assert d2lrnn.evaluate_perplexity(loaded, valid_indices, 4, 10, mx.cpu()) == \
        history.val_perplexity[history.best_epoch - 1]


@pytest.mark.parametrize("options, message", [
    ({"patience": 0}, "patience must be a whole number of epochs >= 1 (or None: no early stopping), got 0"),
    ({"patience": 2.5}, "patience must be a whole number of epochs >= 1"),
    ({"patience": True}, "patience must be a whole number of epochs >= 1"),
    ({"patience": "3"}, "patience must be a whole number of epochs >= 1"),
    ({"restore_best": "yes"}, "restore_best must be True or False, got 'yes'"),
    ({"patience": 3, "valid_indices": None}, "patience watches the held-out perplexity, so it needs valid_indices"),
    ({"restore_best": True, "valid_indices": None}, "restore_best watches the held-out perplexity"),
])
def test_bad_values_are_named_before_training(options, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        _train(num_epochs=1, **options)
    assert "\n" not in str(caught.value)


def test_a_damaged_record_in_a_checkpoint_is_named(tmp_path):
    path = tmp_path / "history.json"
    path.write_text(json.dumps({"epoch": [1], "perplexity": [2.0], "seconds": [0.1], "num_tokens": [10],
                                "best_epoch": "one"}))
    with pytest.raises(checkpoint.CheckpointError, match="has best_epoch 'one'; expected null or an epoch number"):
        read_history(path)
    path.write_text(json.dumps({"epoch": [1], "perplexity": [2.0], "seconds": [0.1], "num_tokens": [10]}))
    assert read_history(path).best_epoch is None  # a checkpoint of an older version


def test_best_epoch_keeps_the_first_of_equal_values():
    best = BestEpoch(patience=2, restore_best=False, params=[], ctx=mx.cpu())
    assert [best.update(e, v) for e, v in [(1, 5.0), (2, 4.0), (3, 4.0), (4, 4.5)]] == [True, True, False, False]
    assert best.epoch == 2 and best.should_stop(4) and not best.should_stop(3)
    assert best.restore() is None  # nothing kept without restore_best


TINY_RUN = ["train", "--num-hiddens", "8", "--num-layers", "1", "--num-examples", "2000", "--num-epochs", "6",
            "--lr", "4", "--seed", "0", "--no-progress"]


def test_the_command_line_restores_the_best_epoch_into_its_checkpoint(tmp_path, capsys):
    from d2lrnn import cli
    ck = tmp_path / "ck"
    assert cli.main([*TINY_RUN, "--valid-fraction", "0.2", "--patience", "2", "--restore-best",
                     "--checkpoint-dir", str(ck)]) == 0
    out = capsys.readouterr().out
    _, _, saved, _ = checkpoint.load(ck, mx.cpu())
    assert saved.restored_epoch == saved.best_epoch == 1 + saved.val_perplexity.index(min(saved.val_perplexity))
    assert f"restored the weights of epoch {saved.best_epoch}, whose validation perplexity" in out


@pytest.mark.parametrize("flag", [["--patience", "2"], ["--restore-best"]])
def test_the_command_line_asks_for_held_out_text_in_one_line(flag, capsys):
    from d2lrnn import cli
    with pytest.raises(SystemExit) as stopped:
        cli.main([*TINY_RUN, *flag])
    assert stopped.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith(
        "--patience and --restore-best watch the validation perplexity: add --valid-fraction F")


def test_replay_of_a_full_run_stops_where_training_with_patience_stopped():
    _, full, _ = _train(num_epochs=40)
    _, stopped, _ = _train(patience=3)
    stop, best, value = replay(full.epoch, full.val_perplexity, 3)
    assert (stop, best) == (stopped.stopped_early_at, stopped.best_epoch)
    assert value == min(stopped.val_perplexity) == best_held_out(stopped)[0]
    assert full.val_perplexity[:stop] == stopped.val_perplexity  # the same run up to the stop


def test_replay_and_best_held_out_on_lists():
    history = d2lrnn.History(epoch=[1, 2, 3, 4, 5], val_perplexity=[9.0, 5.0, 6.0, 5.0, 7.0])
    assert best_held_out(history) == (5.0, 2)  # the first of equal values
    assert replay(history.epoch, history.val_perplexity, 2) == (4, 2, 5.0)
    assert replay(history.epoch, history.val_perplexity, 9) == (5, 2, 5.0)  # patience never ran out
    with pytest.raises(ValueError, match="patience must be a whole number"):
        replay(history.epoch, history.val_perplexity, 0)
    with pytest.raises(ValueError, match="no held-out perplexities"):
        best_held_out(d2lrnn.History(epoch=[1], perplexity=[3.0]))


def test_the_progress_bar_of_an_early_stopped_run_says_so(capsys):
    train_indices, valid_indices, vocab = _data()
    d2lrnn.train_and_predict_rnn_gluon(tiny_model(vocab), 16, train_indices, vocab, mx.cpu(), 40, 10, 2.0, 1.0, 4,
                                       [], seed=0, valid_indices=valid_indices, patience=3, verbose=False,
                                       progress=True, live_plot=False)
    bar = capsys.readouterr().err.strip().splitlines()[-1].split("\r")[-1]
    assert "stopped=early" in bar and "/40 [" in bar and "100%" not in bar, bar
