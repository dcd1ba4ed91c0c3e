"""Progress bar, live plot and their switches."""
import matplotlib

matplotlib.use("Agg")  # noqa: E402  (figures are drawn off-screen in tests)
import matplotlib.pyplot as plt
import pytest

import d2lrnn
from d2lrnn.progress import TrainingMonitor


def _history(n):
    h = d2lrnn.History()
    for e in range(1, n + 1):
        h.append(e, 30.0 / e, 0.5, 1000)
    return h


def test_progress_bar_shows_epoch_perplexity_and_speed(capsys):
    monitor = TrainingMonitor(3, progress=True, live_plot=False)
    history = _history(3)
    for n in range(1, 4):
        sub = d2lrnn.History(history.epoch[:n], history.perplexity[:n], history.seconds[:n], history.num_tokens[:n])
        monitor.epoch_done(sub)
    monitor.close(history)
    err = capsys.readouterr().err
    assert "3/3" in err and "perplexity=10.000" in err and "tokens_per_s=2,000" in err


def test_progress_off_when_asked_or_not_a_terminal(capsys):
    for flag in (False, "auto"):  # under pytest stderr is not a terminal and this is no notebook
        monitor = TrainingMonitor(2, progress=flag, live_plot=flag)
        monitor.epoch_done(_history(1))
        monitor.close(_history(1))
        assert monitor.bar is None and monitor.plot is None
    assert capsys.readouterr().err == ""


def test_bad_switch_value():
    with pytest.raises(ValueError, match="expected True, False or 'auto'"):
        TrainingMonitor(2, progress="yes")


def test_live_plot_draws_and_releases_its_figure():
    plot = d2lrnn.LivePlot()
    plot.update(_history(2))
    assert [len(line.get_xdata()) for line in plot.ax.lines] == [2]
    plot.finish(_history(5))
    assert [len(line.get_xdata()) for line in plot.ax.lines] == [5]
    assert not plt.fignum_exists(plot.fig.number)


def test_notebook_bar_text():
    from d2lrnn.progress import NotebookBar
    bar = NotebookBar(3)
    bar.set_postfix(perplexity="2.000")
    bar.update()
    bar.update()
    text = bar._text().data
    assert text.startswith("training:  67%") and "2/3" in text and "perplexity=2.000" in text
