"""Reports: best-so-far curve values, tables, self-contained and escaped HTML."""

import csv
import os

import numpy as np
import optuna

import hpo
from hpo.report import best_so_far, trial_table, write_report


def _study(values, direction="minimize", name="s"):
    study = optuna.create_study(direction=direction, study_name=name)
    dist = {"<script>alert(1)</script>": optuna.distributions.FloatDistribution(0, 1)}
    for i, v in enumerate(values):
        t = study.ask(dist)
        if v is None:
            study.tell(t, state=optuna.trial.TrialState.FAIL)
        else:
            study.tell(t, v)
    return study


def test_best_so_far_values():
    study = _study([None, 3.0, 5.0, 1.0, None, 2.0])
    np.testing.assert_array_equal(best_so_far(study), [np.nan, 3.0, 3.0, 1.0, 1.0, 1.0])
    study = _study([1.0, 0.5, 4.0], direction="maximize")
    np.testing.assert_array_equal(best_so_far(study), [1.0, 1.0, 4.0])


def test_trial_table_is_sorted_best_first():
    header, rows = trial_table(_study([3.0, 1.0, 2.0]))
    assert header[:3] == ["trial", "value", "feasible"]
    assert [r[0] for r in rows] == [1, 2, 0]


def test_report_from_a_stored_study_is_self_contained_and_escaped(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    tuner = hpo.Tuner({"<script>alert(1)</script>": hpo.Float(0, 1)}, storage=url, study_name="<b>x</b>", seed=0)
    tuner.optimize(lambda p: (list(p.values())[0] - 0.5) ** 2, 6, show_progress_bar=False)
    t = tuner.ask()
    tuner.tell(t, state="fail", reason="<img src=x onerror=alert(2)>")
    study = optuna.load_study(study_name="<b>x</b>", storage=url)
    path = write_report(study, str(tmp_path / "out"), optimum=0.0)
    page = open(path).read()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "<b>x</b>" not in page
    assert "data:image/png;base64," in page and "http" not in page.replace("http-equiv", "")
    with open(tmp_path / "out" / "trials.csv") as f:
        rows = list(csv.reader(f))
    assert len(rows) == 1 + 6 and float(rows[1][1]) == min(float(r[1]) for r in rows[1:])
    assert os.path.getsize(tmp_path / "out" / "best_so_far.png") > 1000
