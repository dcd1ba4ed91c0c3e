"""The run-time table of docs/teaching.md, made from the progress bars stored in the worked notebooks.

Usage, from anywhere: ``python tools/run_times.py`` prints the table; ``--write`` puts it into
docs/teaching.md between its two ``run-times`` markers. tests/test_run_times.py fails when the
table there differs from what the stored notebooks say, so re-recording a notebook means running
this with ``--write``.
"""
import argparse
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GUIDE = REPO / "docs" / "teaching.md"
NOTEBOOKS = {  # the worked notebooks with training runs, in the order of the chapter
    "deep-rnn.ipynb": "the chapter",
    "deep-rnn-scratch.ipynb": "worked solution",
    "gru-vs-lstm.ipynb": "worked solution",
    "more-books.ipynb": "worked solution",
}
BEGIN = "<!-- run-times: made by tools/run_times.py from the stored notebooks; do not edit by hand -->"
END = "<!-- end of run-times -->"
# The final state of a NotebookBar: "training: 100%|███| 500/500 [13:47<00:00, ..., tokens_per_s=5,048]"
# A run that early stopping ended shows fewer epochs than it was given, and "stopped=early" in its postfix.
BAR = re.compile(r"^training: +\d+%\|.*\| (\d+)/(\d+) \[(\d+(?::\d+){1,2})<([^\]\n]*)\]", re.M)
SPEED = re.compile(r"tokens_per_s=(\d{1,3}(?:,\d{3})*)")


def seconds(clock):
    """'13:47' or '1:02:03' -> seconds."""
    value = 0
    for part in clock.split(":"):
        value = 60 * value + int(part)
    return value


def clock(total):
    """Seconds -> 'm:ss' (or 'h:mm:ss'), as tqdm writes elapsed times."""
    h, rest = divmod(int(total), 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def bars(path):
    """(epochs, elapsed 'm:ss', tokens per second) of every progress bar stored in the notebook, in order."""
    found = []
    for cell in json.loads(Path(path).read_text())["cells"]:
        for output in cell.get("outputs", []):
            text = "".join(output.get("data", {}).get("text/plain", ""))
            for done, total, elapsed, postfix in BAR.findall(text):
                speed = SPEED.search(postfix).group(1)
                if done != total and "stopped=early" not in postfix:
                    raise ValueError(f"{Path(path).name}: a progress bar stopped at {done}/{total}; "
                                     "record the notebook again with complete runs")
                found.append((int(done), elapsed, speed))
    return found


def table(notebook_dir=REPO / "notebooks"):
    """The markdown table: per notebook, its training runs and their time by the progress bars."""
    rows = ["| notebook | training runs | time by the progress bars | each run: epochs, time, training tokens/s |",
            "| --- | --: | --: | --- |"]
    for name, role in NOTEBOOKS.items():
        runs = bars(Path(notebook_dir) / name)
        total = clock(sum(seconds(elapsed) for _, elapsed, _ in runs))
        each = "; ".join(f"{epochs}, {elapsed}, {speed}" for epochs, elapsed, speed in runs)
        rows.append(f"| `notebooks/{name}` ({role}) | {len(runs)} | {total} | {each} |")
    return "\n".join(rows)


def replace_table(guide_text, new_table, begin=BEGIN, end=END):
    """``guide_text`` with the text between the markers ``begin`` and ``end`` replaced by ``new_table``."""
    start, stop = guide_text.find(begin), guide_text.find(end)
    if start < 0 or stop < start:
        raise ValueError(f"{GUIDE.name} has no markers {begin!r} ... {end!r} around its table; put them back")
    return guide_text[:start + len(begin)] + "\n" + new_table + "\n" + guide_text[stop:]


def command_line(argv, description, make_table, what, begin=BEGIN, end=END):
    """The tools' shared command: print ``make_table()``, or with ``--write`` put it into docs/teaching.md
    between ``begin`` and ``end``; a ValueError becomes one ``error:`` line."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--write", action="store_true", help="write the table into docs/teaching.md")
    args = parser.parse_args(argv)
    try:
        new_table = make_table()
        if args.write:
            GUIDE.write_text(replace_table(GUIDE.read_text(), new_table, begin, end))
            print(f"wrote {what} into {GUIDE.relative_to(REPO)}")
        else:
            print(new_table)
    except ValueError as err:
        sys.exit(f"error: {err}")


def main(argv=None):
    command_line(argv, __doc__.splitlines()[0], table, "the table")


if __name__ == "__main__":
    main()
