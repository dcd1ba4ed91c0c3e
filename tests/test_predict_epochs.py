"""train's predict_epochs: samples at chosen epochs of the run, as training goes on."""
import pytest

from tiny import run


def test_samples_at_the_chosen_epochs(tiny_data, capsys):
    run(tiny_data, num_epochs=8, predict_epochs=[1, 3, 8], progress=False, live_plot=False)
    lines = capsys.readouterr().out.splitlines()
    headers = [line.split(",")[0] for line in lines if line.startswith("epoch")]
    # the chapter's four timed lines (2, 4, 6, 8) and an untimed line before each sample of epochs 1 and 3
    assert headers == ["epoch 1", "epoch 2", "epoch 3", "epoch 4", "epoch 6", "epoch 8"]
    timed = [line.split(",")[0] for line in lines if line.startswith("epoch") and "time" in line]
    assert timed == ["epoch 2", "epoch 4", "epoch 6", "epoch 8"]
    samples = [i for i, line in enumerate(lines) if line.startswith(" - ")]
    assert [lines[i - 1].split(",")[0] for i in samples] == ["epoch 1", "epoch 3", "epoch 8"]


def test_without_them_the_chapter_predicts_at_the_half_and_the_end(tiny_data, capsys):
    run(tiny_data, num_epochs=8, progress=False, live_plot=False)
    lines = capsys.readouterr().out.splitlines()
    samples = [i for i, line in enumerate(lines) if line.startswith(" - ")]
    assert [lines[i - 1].split(",")[0] for i in samples] == ["epoch 4", "epoch 8"]


@pytest.mark.parametrize("epochs", [[0], [9], [2.5], [True], "3"])
def test_epochs_outside_the_run_are_named(tiny_data, epochs):
    with pytest.raises(ValueError, match="predict_epochs must be epoch numbers of this run, 1 to 8"):
        run(tiny_data, num_epochs=8, predict_epochs=epochs, progress=False, live_plot=False)
