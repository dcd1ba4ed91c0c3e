"""Progress bar, live plot and their switches."""
import types
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


def test_the_bar_shows_the_runs_speed_as_the_history_counts_it(capsys):
    """Not the last epoch's speed: at the end the bar and History give the same tokens per second."""
    history = d2lrnn.History()
    monitor = TrainingMonitor(3, first_epoch=1, progress=True, live_plot=False)
    for epoch, seconds in [(1, 0.5), (2, 0.5), (3, 1.0)]:  # 1,000 tokens each: 2,000, 2,000, 1,000 per second
        history.append(epoch, 10.0, seconds, 1000)
        monitor.epoch_done(history)
    monitor.close(history)
    last = capsys.readouterr().err.strip().split("\r")[-1]
    assert history.tokens_per_sec == 1500 and "tokens_per_s=1,500" in last, last


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


def test_live_plot_shows_the_whole_run_before_the_first_epoch():
    plot = d2lrnn.LivePlot(first_epoch=1, last_epoch=8)
    low, high = plot.ax.get_xlim()
    assert low < 1 and 8 < high < 9
    assert plot.ax.get_xlabel() == "epoch" and plot.ax.get_ylabel() == "training perplexity"
    assert [t.get_text() for t in plot.ax.texts] == ["waiting for the first epoch…"]
    plot.update(_history(2))
    assert not list(plot.ax.texts) and plot.ax.get_xlim() == (low, high)  # the range stays put
    plot.finish(_history(2))


def test_live_plot_stopped_before_any_epoch():
    plot = d2lrnn.LivePlot(first_epoch=11, last_epoch=20)
    plot.finish(d2lrnn.History())
    assert [t.get_text() for t in plot.ax.texts] == ["stopped before the first epoch ended"]
    assert plot.ax.get_xlim()[0] < 11 < 20 < plot.ax.get_xlim()[1]


@pytest.mark.parametrize("epochs", [1, 3, 8])
def test_epoch_ticks_are_whole_numbers(epochs):
    ax = d2lrnn.plot_perplexity(_history(epochs))
    ax.figure.canvas.draw()
    ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks)
    assert ax.lines[0].get_marker() == ("o" if epochs == 1 else "None")
    plt.close(ax.figure)


def test_notebook_bar_fits_its_width_at_the_end_of_a_long_run():
    from d2lrnn.progress import NotebookBar
    bar = NotebookBar(500)
    bar.set_postfix(epoch=500, perplexity="1.022", tokens_per_s="31,174")
    bar.update(500)
    text = bar._text().data
    assert len(text) <= NotebookBar.NCOLS and text.endswith("tokens_per_s=31,174]")
    assert "|" in text and "500/500" in text


def test_an_early_stopped_runs_bar_is_redrawn_whole_with_the_note():
    from d2lrnn.progress import NotebookBar, TrainingMonitor
    monitor = TrainingMonitor(500, progress=True, live_plot=False)
    monitor.bar = NotebookBar(500)  # as in a notebook
    drawn = []
    monitor.bar.handle = types.SimpleNamespace(update=lambda text: drawn.append(text.data))
    history = d2lrnn.History(epoch=list(range(1, 167)), perplexity=[2.207] * 166, seconds=[0.2] * 166,
                             num_tokens=[9000] * 166)
    for n in range(1, 167):
        monitor.epoch_done(d2lrnn.History(epoch=history.epoch[:n], perplexity=history.perplexity[:n],
                                          seconds=history.seconds[:n], num_tokens=history.num_tokens[:n]))
    history.stopped_early_at = 166
    monitor.close(history)
    assert len(drawn) == 167 and drawn[-1].endswith("tokens_per_s=45,000, stopped=early]"), drawn[-1]
    assert "166/500" in drawn[-1] and len(drawn[-1]) <= NotebookBar.NCOLS and "epoch=" not in drawn[-1]
