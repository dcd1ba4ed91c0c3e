"""Checkpoints: round trip, atomic saves, interrupted saves recovered, directories that are not ours left alone, damaged files named."""
import json
import os
import re
import subprocess
import sys
import textwrap

import mxnet as mx
import numpy as np
import pytest
from mxnet import nd
from mxnet.gluon import rnn

import d2lrnn
from d2lrnn.store import checkpoint
from d2lrnn.store.checkpoint import CheckpointError
from d2lrnn.store.checkpoint_files import sha256
from tiny import run


@pytest.fixture(scope="module")
def trained(tiny_data):
    model, history = run(tiny_data, num_epochs=2, verbose=False)
    return model, tiny_data[1], history


def _logits(model, vocab):
    X = nd.array([vocab[list("the time")]])
    return model(X, model.begin_state(batch_size=1))[0].asnumpy()


def _tree(path):
    """Every entry under ``path``, relative, sorted: what a user would see with ``find``."""
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def test_round_trip(tmp_path, trained):
    model, vocab, history = trained
    checkpoint.save(tmp_path / "ck", model, vocab, history, extra={"lr": 2.0})
    loaded, loaded_vocab, loaded_history, config = checkpoint.load(tmp_path / "ck", mx.cpu())
    assert np.array_equal(_logits(model, vocab), _logits(loaded, loaded_vocab))
    assert loaded_vocab == vocab and loaded_history == history
    assert config["cell"] == "lstm" and config["num_layers"] == 2 and config["num_hiddens"] == 16
    assert config["extra"] == {"lr": 2.0} and config["bidirectional"] is False
    assert _tree(tmp_path) == ["ck", "ck/manifest.json", "ck/save-1", "ck/save-1/config.json",
                               "ck/save-1/history.json", "ck/save-1/params.params", "ck/save-1/vocab.json"]


def test_a_second_save_replaces_the_first_and_leaves_nothing_behind(tmp_path, trained):
    model, vocab, history = trained
    checkpoint.save(tmp_path / "ck", model, vocab, history)
    checkpoint.save(tmp_path / "ck", model, vocab, history, extra={"n": 2})
    assert checkpoint.load(tmp_path / "ck", mx.cpu())[3]["extra"] == {"n": 2}
    assert [p for p in _tree(tmp_path) if p.count("/") < 2] == ["ck", "ck/manifest.json", "ck/save-2"]


def test_bidirectional_layers_round_trip(tmp_path, tiny_data):
    _, vocab = tiny_data
    model = d2lrnn.RNNModel(rnn.GRU(8, num_layers=2, bidirectional=True), len(vocab))
    model.initialize()
    _logits(model, vocab)  # the dense layer's input size is known after one call
    checkpoint.save(tmp_path / "ck", model, vocab)
    loaded, _, _, config = checkpoint.load(tmp_path / "ck", mx.cpu())
    assert config["bidirectional"] is True
    assert np.array_equal(_logits(model, vocab), _logits(loaded, vocab))


def test_layers_a_checkpoint_cannot_rebuild_are_refused_before_saving(tmp_path, tiny_data):
    _, vocab = tiny_data
    relu = d2lrnn.RNNModel(rnn.RNN(8), len(vocab))
    relu.initialize()
    _logits(relu, vocab)
    with pytest.raises(ValueError, match="only tanh RNN layers"):
        checkpoint.save(tmp_path / "ck", relu, vocab)
    assert not (tmp_path / "ck").exists()


def test_interrupted_save_keeps_the_previous_checkpoint(tmp_path, trained, monkeypatch):
    model, vocab, history = trained
    checkpoint.save(tmp_path / "ck", model, vocab, history)

    def crash(path):
        raise KeyboardInterrupt  # as if Ctrl-C arrived while hashing the files
    monkeypatch.setattr(checkpoint, "sha256", crash)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save(tmp_path / "ck", model, vocab, history, extra={"new": True})
    monkeypatch.undo()
    assert checkpoint.load(tmp_path / "ck", mx.cpu())[3]["extra"] == {}
    assert [p for p in _tree(tmp_path) if p.count("/") < 2] == ["ck", "ck/manifest.json", "ck/save-1"]


KILL_DURING_SAVE = textwrap.dedent("""
    import os, sys
    import d2lrnn
    from d2lrnn.store import checkpoint
    model, vocab, history, _ = checkpoint.load(sys.argv[1], d2lrnn.try_gpu())
    history.epoch.append(99); history.perplexity.append(1.0)
    history.seconds.append(1.0); history.num_tokens.append(1)
    if sys.argv[2] == 'before-commit':  # the new save-2 is complete, the manifest not yet replaced
        checkpoint._write_manifest = lambda *a: os._exit(9)
    else:  # the manifest names save-2, the old save-1 is not removed yet
        commit = checkpoint._write_manifest
        checkpoint._write_manifest = lambda *a: (commit(*a), os._exit(9))
    checkpoint.save(sys.argv[1], model, vocab, history)
""")


@pytest.mark.parametrize("moment, last_epoch", [("before-commit", 2), ("after-commit", 99)])
def test_a_kill_during_a_save_is_recovered_next_time(tmp_path, trained, moment, last_epoch, capsys):
    model, vocab, history = trained
    ck = tmp_path / "ck"
    checkpoint.save(ck, model, vocab, history)
    killed = subprocess.run([sys.executable, "-c", KILL_DURING_SAVE, str(ck), moment])
    assert killed.returncode == 9
    assert checkpoint.load(ck, mx.cpu())[2].epoch[-1] == last_epoch  # one complete checkpoint loads
    assert len([p for p in ck.iterdir() if p.name.startswith("save-")]) == 2  # the other is a leftover
    checkpoint.prepare(ck)  # the next use of the directory tidies it
    assert "removed what an interrupted save left in" in capsys.readouterr().err
    assert sorted(p.name for p in ck.iterdir()) == ["manifest.json", "save-2" if last_epoch == 99 else "save-1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck"]  # nothing hidden beside it


def _user_folder(tmp_path):
    docs = tmp_path / "mydocs"
    docs.mkdir()
    (docs / "thesis.tex").write_text("my work")
    docs.chmod(0o755)
    return docs


@pytest.mark.parametrize("make, message", [
    (_user_folder, "is not empty and is not a d2lrnn checkpoint .*'thesis.tex'.*nothing was changed"),
    (lambda t: (t / "notes.txt").write_text("notes") and t / "notes.txt", "is a file, not a directory"),
    (lambda t: (t / "link").symlink_to(t / "missing") or t / "link", "is a broken symbolic link"),
    (lambda t: (t / "notes.txt").write_text("notes") and t / "notes.txt" / "ck",
     "cannot create .*notes.txt/ck: .*notes.txt is a file"),
])
def test_a_path_that_is_not_ours_is_refused_and_left_alone(tmp_path, trained, make, message):
    model, vocab, history = trained
    path = make(tmp_path)
    before = {p: (p.lstat().st_mode, p.read_bytes() if p.is_file() else None)
              for p in [tmp_path, *tmp_path.rglob("*")]}
    for attempt in (lambda: checkpoint.prepare(path), lambda: checkpoint.save(path, model, vocab, history)):
        with pytest.raises(CheckpointError, match=message):
            attempt()
        after = {p: (p.lstat().st_mode, p.read_bytes() if p.is_file() else None)
                 for p in [tmp_path, *tmp_path.rglob("*")]}
        assert after == before


def test_the_current_directory_is_refused_when_it_holds_files(tmp_path, monkeypatch, trained):
    model, vocab, history = trained
    (tmp_path / "script.py").write_text("print('mine')")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CheckpointError, match=r"^\. is not empty and is not a d2lrnn checkpoint"):
        checkpoint.save(".", model, vocab, history)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["script.py"]


def test_an_empty_directory_becomes_a_checkpoint(tmp_path, trained):
    model, vocab, history = trained
    (tmp_path / "empty").mkdir()
    checkpoint.save(tmp_path / "empty", model, vocab, history)
    assert checkpoint.load(tmp_path / "empty", mx.cpu())[2] == history


def _mount_tmpfs(path, options, why_skip):
    """Mount a tmpfs with ``options`` on ``path`` (root only), or skip the test saying ``why_skip``."""
    path.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                      capture_output=True).returncode != 0:
        pytest.skip(why_skip)
    return path


@pytest.fixture
def read_only_dir(tmp_path):
    """A directory nobody can write to: chmod for a normal user, a read-only tmpfs for root."""
    path = tmp_path / "ro"
    if os.geteuid() != 0:
        path.mkdir()
        path.chmod(0o555)
        yield path
        path.chmod(0o755)
        return
    yield _mount_tmpfs(path, "ro,size=64k",
                       "running as root where tmpfs cannot be mounted: no directory is read-only here")
    subprocess.run(["umount", str(path)], check=True)


def test_an_unwritable_location_is_refused_before_any_work(read_only_dir):
    with pytest.raises(CheckpointError, match=r"cannot write checkpoints to .*ro/ck: .*choose a writable location"):
        checkpoint.prepare(read_only_dir / "ck")


@pytest.fixture
def small_disk(tmp_path):
    """A 512 KiB file system (tmpfs), so that a save can really run out of space."""
    path = _mount_tmpfs(tmp_path / "disk", "size=512k",
                        "cannot mount a small tmpfs here (needs root); the simulated full disk test still runs")
    yield path
    subprocess.run(["umount", str(path)], check=True)


def _fill(directory):
    with open(directory / "filler", "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError:
            pass


def test_a_full_disk_fails_the_save_cleanly_and_keeps_the_old_checkpoint(small_disk, trained):
    model, vocab, history = trained
    checkpoint.save(small_disk / "ck", model, vocab, history)
    _fill(small_disk)
    with pytest.raises(CheckpointError, match=r"could not save a checkpoint to .*ck: .*"
                                              r"the checkpoint of epoch 2 is unchanged") as caught:
        checkpoint.save(small_disk / "ck", model, vocab, history, extra={"new": True})
    # MXNet's reason or the OS's, never the first line of MXNet's traceback
    message = str(caught.value)
    assert "Traceback" not in message and "\n" not in message
    assert ("No space left on device" in message
            or re.search(r"FileStream\.Write incomplete \(\d+ KiB free on that disk\)", message)), message
    assert checkpoint.load(small_disk / "ck", mx.cpu())[3]["extra"] == {}
    assert sorted(p.name for p in (small_disk / "ck").iterdir()) == ["manifest.json", "save-1"]


def test_a_simulated_full_disk_fails_the_save_cleanly(tmp_path, trained, monkeypatch):
    model, vocab, history = trained
    checkpoint.save(tmp_path / "ck", model, vocab, history)

    def full(*args):
        raise mx.base.MXNetError("[12:00:00] src/io/local_filesys.cc:209: Check failed: No space left on device")
    monkeypatch.setattr(type(model), "save_parameters", full)
    with pytest.raises(CheckpointError, match="could not save a checkpoint .*Check failed: No space left"):
        checkpoint.save(tmp_path / "ck", model, vocab, history)
    monkeypatch.undo()
    assert sorted(p.name for p in (tmp_path / "ck").iterdir()) == ["manifest.json", "save-1"]


def _edit(ck, name, content):
    """Rewrite ``name`` of the current save and its digest in the manifest, as a determined editor would."""
    manifest = json.loads((ck / "manifest.json").read_text())
    path = ck / manifest["current"] / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    manifest["sha256"][name] = sha256(path)
    (ck / "manifest.json").write_text(json.dumps(manifest))


def _config_with(**changes):
    return lambda ck: _edit(ck, "config.json", {**json.loads(next(ck.glob("save-*/config.json")).read_text()),
                                                **changes})


@pytest.mark.parametrize("damage, message", [
    (lambda d: next(d.glob("save-*/params.params")).write_bytes(b"x"), r"params.params does not match the checkpoint's manifest"),
    (lambda d: (d / "manifest.json").unlink(), "manifest.json is missing"),
    (lambda d: next(d.glob("save-*/vocab.json")).unlink(), "vocab.json is missing"),
    (lambda d: (d / "manifest.json").write_text("{not json"), "manifest.json is not valid JSON"),
    (lambda d: (d / "manifest.json").write_text("[]"), "manifest.json holds a JSON list, not an object"),
    (lambda d: (d / "manifest.json").write_text("null"), "manifest.json holds a JSON NoneType, not an object"),
    (lambda d: (d / "manifest.json").write_text('{"d2lrnn_checkpoint": 2, "current": "../x", "sha256": {}}'),
     r"manifest.json names '../x' as the current save"),
    (lambda d: _edit(d, "config.json", "{oops"), r"save-1/config.json is not valid JSON"),
    (_config_with(num_layers="two"), r"config.json has num_layers 'two'; expected a positive integer"),
    (_config_with(format=1), r"config.json has format 1; this d2lrnn reads format 2"),
    (lambda d: (d / "manifest.json").write_text('{"config.json": "0"}'),
     r"manifest.json has checkpoint format None; this d2lrnn reads format 2"),
    (_config_with(cell="transformer"), r"config.json has cell 'transformer'"),
    (_config_with(bidirectional="yes"), r"config.json has bidirectional 'yes'"),
    (_config_with(extra=[]), r"config.json has extra \[\]"),
    (_config_with(num_hiddens=32), r"params.params does not fit the model that config.json describes"),
    (lambda d: _edit(d, "vocab.json", {"a": 1}), r"vocab.json is not a JSON list of strings"),
    (lambda d: _edit(d, "vocab.json", ["a", "b"]), r"vocab.json has 2 tokens but config.json says vocab_size"),
    (lambda d: _edit(d, "history.json", []), r"history.json holds a JSON list"),
    (lambda d: _edit(d, "history.json", {"epoch": "1,2", "perplexity": []}), r"history.json has epoch 1,2"),
    (lambda d: _edit(d, "history.json", {"epoch": [1, 2], "perplexity": [3.0]}), r"history.json has lists of different lengths"),
])
def test_damaged_checkpoints_fail_with_one_line_naming_the_file(tmp_path, trained, damage, message):
    model, vocab, history = trained
    checkpoint.save(tmp_path / "ck", model, vocab, history)
    damage(tmp_path / "ck")
    with pytest.raises(CheckpointError, match=message) as e:
        checkpoint.load(tmp_path / "ck", mx.cpu())
    assert "\n" not in str(e.value)


def test_a_directory_without_a_save_yet_says_so(tmp_path):
    checkpoint.prepare(tmp_path / "ck")
    with pytest.raises(CheckpointError, match="holds no saved model yet"):
        checkpoint.load(tmp_path / "ck", mx.cpu())


def test_mismatched_run_is_refused(trained):
    model, vocab, _ = trained
    config = checkpoint.model_config(model)
    other = d2lrnn.Vocab("a different text with other characters: xyzq!")
    with pytest.raises(CheckpointError, match="vocabulary .* differs"):
        checkpoint.check_compatible(config, vocab, other)
    with pytest.raises(CheckpointError, match="cell is 'lstm' in the checkpoint but 'gru'"):
        checkpoint.check_compatible(config, vocab, vocab, cell="gru")
    checkpoint.check_compatible(config, vocab, vocab, cell="lstm", num_layers=2, num_hiddens=16)


def test_an_uninitialised_model_is_refused(tmp_path, tiny_data):
    model = d2lrnn.RNNModel(rnn.LSTM(8), len(tiny_data[1]))
    with pytest.raises(ValueError, match="not initialised yet"):
        checkpoint.save(tmp_path / "ck", model, tiny_data[1])
    assert not (tmp_path / "ck").exists()


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
