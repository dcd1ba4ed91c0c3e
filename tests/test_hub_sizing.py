"""scripts/hub_sizing.py without a hub: the chapter's code it runs, the limits it derives, its argument checks.

The measuring itself needs root and a hub (see docs/teaching.md, "Measured sizing"); it is
run by hand on an idle machine, and its figures are checked against the deployment here
once they are recorded.
"""
import importlib.util
import re

import pytest
import yaml

from tiny import REPO, load_tool

spec = importlib.util.spec_from_file_location("hub_sizing", REPO / "scripts" / "hub_sizing.py")
sizing = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sizing)
RECORDED = REPO / "docs" / "hub-sizing.json"


def test_the_students_run_the_chapters_cells_up_to_its_training_with_fewer_epochs():
    cells = sizing.chapter_code(20)
    # Students run the set-up cell first, as a notebook starts; on a class's server it does nothing.
    assert cells[0] == load_tool("setup_cells").setup_source()
    assert "import d2lrnn as d2l" in cells[1]
    assert "train_and_predict_rnn_gluon(model" in cells[-1]
    settings = next(i for i, c in enumerate(cells) if re.search(r"^num_epochs, .*=", c, flags=re.M))
    assert cells[settings + 1].startswith("num_epochs = 20  #")
    assert sum(c.startswith("num_epochs = 20") for c in cells) == 1
    namespace = {"sample_epochs": [10, 50, 500]}  # the epochs to sample from must be epochs of the run
    exec(cells[settings + 1], namespace)
    assert namespace["sample_epochs"] == [10]


def test_by_default_the_students_run_the_chapters_cells_as_a_lab_does():
    cells = sizing.chapter_code()
    assert "train_and_predict_rnn_gluon(model" in cells[-1] and "patience=patience" in cells[-1]
    assert not any("hub_sizing.py" in c for c in cells)  # nothing replaced: early stopping ends the run


def test_limits_follow_the_figures():
    figures = {"a": {"server_idle_mib": 130.0, "kernel_peak_mib": 400.0, "cpu_share": 0.43},
               "b": {"server_idle_mib": 120.0, "kernel_peak_mib": 420.0, "cpu_share": 0.38}}
    # 130 + 420 = 550 MiB -> 768M; 1.5 x 550 = 825 -> 1024M; the smallest share 0.38 -> 0.35
    assert sizing.recommended(figures) == {"memory": {"guarantee": "768M", "limit": "1024M"},
                                           "cpu": {"guarantee": 0.35, "limit": 1}}
    figures["b"]["cpu_share"] = 0.01
    assert sizing.recommended(figures)["cpu"]["guarantee"] == 0.05


@pytest.mark.parametrize("args", [["--students", "0"], ["--epochs", "0"]])
def test_bad_counts_stop_with_one_line(args, tmp_path):
    with pytest.raises(SystemExit) as stop:
        sizing.main([*args, "--out", str(tmp_path / "x.json")])
    assert stop.value.code == "error: --students and --epochs must be at least 1"


def test_the_recorded_figures_are_the_deployments_limits_and_the_guides_table():
    if not RECORDED.is_file():
        pytest.skip(f"{RECORDED.relative_to(REPO)} not recorded yet (docs/teaching.md, 'Measured sizing')")
    import json
    record = json.loads(RECORDED.read_text())
    assert record["machine"]["load_average_at_start"][0] < 1, "record the figures on an idle machine"
    single_user = yaml.safe_load((REPO / "deploy" / "z2jh" / "config.yaml").read_text())["singleuser"]
    assert {"memory": single_user["memory"], "cpu": single_user["cpu"]} == record["recommended"]
    guide = (REPO / "docs" / "teaching.md").read_text()
    assert "to be recorded" not in guide
    for key in ("server_idle_mib", "server_peak_mib", "kernel_idle_mib", "kernel_peak_mib"):
        assert re.search(rf"\b{record['summary'][key]['max']:g} MiB\b", guide), key
