"""The lab plan of docs/teaching.md: minutes per part of the core path, from the stored notebooks and docs/hub-sizing.json.

Usage, from anywhere: ``python tools/lab_plan.py`` prints the table; ``--write`` puts it into
docs/teaching.md between its two ``lab-plan`` markers. tests/test_lab_plan.py fails when the table
there differs from what the notebooks and the sizing record say, and when the core path's total
under the class configuration exceeds 90 minutes.

Reading time is the prose (Markdown cells, without HTML comments) at 200 words a minute. The
chapter's lab part is everything before its section "Extension" plus its summary and self-check.
Its training time on a machine of one's own is the first progress bar stored in the chapter (the
run that early stopping ends); under the class configuration it is the slowest student's wall time
in docs/hub-sizing.json, which scripts/hub_sizing.py measures with that same run. Writing the
exercise's code is an allowance we set, not a measurement: it is labelled as such.
"""
import json
import math
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run_times  # noqa: E402 (the progress bars, the clock format and the table markers)

REPO = run_times.REPO
NOTEBOOKS = REPO / "notebooks"
SIZING = REPO / "docs" / "hub-sizing.json"
BEGIN = "<!-- lab-plan: made by tools/lab_plan.py from the stored notebooks and docs/hub-sizing.json; do not edit by hand -->"
END = "<!-- end of lab-plan -->"
WORDS_PER_MINUTE = 200
CODING_ALLOWANCE_MIN = 30  # writing deep-rnn-scratch's four functions: our allowance, not a measurement
LAB_MINUTES = 90
COMMENT = re.compile(r"<!--.*?-->", re.S)


def reading_minutes(path, skip_from=None, resume_at=None):
    """Minutes to read the Markdown of a notebook at 200 words a minute; with ``skip_from``, the cells
    from the first whose text starts with it up to the first that starts with ``resume_at`` are left out."""
    cells = json.loads(Path(path).read_text())["cells"]
    words, skipping = 0, False
    for cell in cells:
        if cell["cell_type"] != "markdown":
            continue
        text = COMMENT.sub("", "".join(cell["source"])).lstrip()
        if skip_from and text.startswith(skip_from):
            skipping = True
        if resume_at and text.startswith(resume_at):
            skipping = False
        if not skipping:
            words += len(text.split())
    return words / WORDS_PER_MINUTE


def plan(notebook_dir=NOTEBOOKS, sizing_path=SIZING):
    """The core path's parts as dicts (minutes as numbers, the training times also as text) and the
    total under the class configuration, in minutes."""
    sizing = json.loads(Path(sizing_path).read_text())
    if sizing.get("epochs") is not None:
        raise ValueError(f"{Path(sizing_path).name} measured a run of {sizing['epochs']} epochs, not the chapter's lab "
                         "run: record it again with scripts/hub_sizing.py without --epochs")
    runs = run_times.bars(Path(notebook_dir) / "deep-rnn.ipynb")
    if not runs:
        raise ValueError("the chapter stores no progress bar: record notebooks/deep-rnn.ipynb first")
    epochs, elapsed, _ = runs[0]
    students = list(sizing["per_student"].values())
    in_class = max(s["train_wall_s"] for s in students) / 60
    class_epochs = "/".join(str(e) for e in sorted({s["epochs"] for s in students}))
    parts = [
        {"part": "the chapter, up to its *Extension* section, then its summary and self-check",
         "reading": reading_minutes(Path(notebook_dir) / "deep-rnn.ipynb", "## Extension", "## Summary"),
         "alone": f"{run_times.seconds(elapsed) / 60:.1f} ({epochs} epochs)",
         "class": in_class, "class_text": f"{in_class:.1f} ({class_epochs} epochs, {len(students)} students at once)"},
        {"part": "the exercise *Deep RNNs from scratch*, student version",
         "reading": reading_minutes(Path(notebook_dir) / "exercises" / "deep-rnn-scratch.ipynb"),
         "alone": "seconds (checks only)", "class": 0, "class_text": "seconds (checks only)"},
        {"part": "writing the exercise's four functions (our allowance, not a measurement)",
         "reading": CODING_ALLOWANCE_MIN, "alone": "-", "class": 0, "class_text": "-"},
    ]
    return parts, sum(p["reading"] + p["class"] for p in parts)


def table(notebook_dir=NOTEBOOKS, sizing_path=SIZING):
    parts, total = plan(notebook_dir, sizing_path)
    lines = ["| part of the core path | reading or writing, min | training on our 2-core machine alone, min | "
             "training under the class configuration, min |", "| --- | --: | --: | --: |"]
    for p in parts:
        lines.append(f"| {p['part']} | {p['reading']:.0f} | {p['alone']} | {p['class_text']} |")
    lines.append(f"| **total under the class configuration** | | | **{math.ceil(total)} of {LAB_MINUTES}** |")
    return "\n".join(lines)


def main(argv=None):
    run_times.command_line(argv, __doc__.splitlines()[0], table, "the lab plan", BEGIN, END)


if __name__ == "__main__":
    main()
