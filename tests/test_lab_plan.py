"""docs/teaching.md's lab plan is what the stored notebooks and docs/hub-sizing.json say, and it fits a 90-minute lab."""
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))
import lab_plan  # noqa: E402
import run_times  # noqa: E402


def test_the_guides_lab_plan_is_made_from_the_records():
    guide = (REPO / "docs" / "teaching.md").read_text()
    assert run_times.replace_table(guide, lab_plan.table(), lab_plan.BEGIN, lab_plan.END) == guide, \
        "docs/teaching.md's lab plan differs from the notebooks and docs/hub-sizing.json: run tools/lab_plan.py --write"


def test_the_core_path_fits_the_lab():
    _, total = lab_plan.plan()
    assert total <= lab_plan.LAB_MINUTES


def _markdown(text):
    return {"cell_type": "markdown", "id": "m", "metadata": {}, "source": text}


def test_reading_time_leaves_out_comments_and_the_skipped_sections(tmp_path):
    path = tmp_path / "nb.ipynb"
    cells = [_markdown("# Title " + "word " * 198), _markdown("## Extension " + "x " * 1000),
             _markdown("<!-- not read: a b c -->## Summary " + "y " * 198)]
    path.write_text(json.dumps({"cells": cells}))
    assert lab_plan.reading_minutes(path) == pytest.approx((200 + 1002 + 200) / 200)
    assert lab_plan.reading_minutes(path, "## Extension", "## Summary") == pytest.approx(400 / 200)


def test_a_sizing_record_of_a_shortened_run_is_refused(tmp_path):
    record = json.loads((REPO / "docs" / "hub-sizing.json").read_text()) | {"epochs": 20}
    (tmp_path / "sizing.json").write_text(json.dumps(record))
    with pytest.raises(ValueError, match="measured a run of 20 epochs, not the chapter's lab run"):
        lab_plan.plan(sizing_path=tmp_path / "sizing.json")
