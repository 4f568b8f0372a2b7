"""Reports: best-so-far curve values, tables, self-contained and escaped HTML."""

import csv
import os

import numpy as np
import optuna

import hpo
from hpo.report import best_so_far, hypervolume_history, pareto_table, predicted_front, trial_table, write_report


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


def _mo_study(points, name="mo", constraints=None):
    """A 2-objective study (minimise, maximise) with given values and optional constraints."""
    study = optuna.create_study(directions=["minimize", "maximize"], study_name=name)
    dist = {"<script>alert(1)</script>": optuna.distributions.FloatDistribution(0, 1)}
    for i, v in enumerate(points):
        t = study.ask(dist)
        if constraints is not None:
            t.set_constraint("0", constraints[i])
        study.tell(t, list(v))
    return study


def test_hypervolume_history_of_a_staircase():
    # min f1, max f2, reference (4, 0): the hypervolume is the union of boxes [f1, 4] x [0, f2].
    study = _mo_study([(3, 1), (2, 2), (1, 3), (2.5, 0.5)])
    curve, ref = hypervolume_history(study, ref_point=[4.0, 0.0])
    np.testing.assert_allclose(ref, [4.0, 0.0])
    # (3, 1): 1; (2, 2) dominates it: 2 x 2 = 4; (1, 3) dominates both: 3 x 3 = 9; (2.5, 0.5) adds nothing.
    np.testing.assert_allclose(curve, [1.0, 4.0, 9.0, 9.0])


def test_pareto_table_skips_dominated_and_infeasible_trials():
    # min f1, max f2: (1, 1), (2, 2), (3, 3) trade off; (2.5, 1.5) is dominated by (2, 2); the
    # infeasible (0.5, 5) would dominate them all.
    study = _mo_study([(3, 3), (1, 1), (2, 2), (2.5, 1.5), (0.5, 5)], constraints=[-1, -1, -1, -1, 2])
    header, rows = pareto_table(study)
    assert header[:3] == ["trial", "value_0", "value_1"]
    assert [r[0] for r in rows] == [1, 2, 0]  # sorted by the first objective


def test_multi_objective_report_from_a_stored_study(tmp_path):
    url = f"sqlite:///{tmp_path / 'mo.db'}"
    space = {"<script>alert(1)</script>": hpo.Float(0, 1), "y": hpo.Float(0, 1)}
    tuner = hpo.Tuner(space, directions=["minimize", "minimize"], storage=url, study_name="<i>mo</i>", seed=0, n_startup=8)
    tuner.optimize(lambda p: (p["y"], 1 - list(p.values())[0] * p["y"] ** 0.5), 10, show_progress_bar=False)
    study = optuna.load_study(study_name="<i>mo</i>", storage=url)
    path = write_report(study, str(tmp_path / "out"))
    page = open(path).read()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<i>mo</i>" not in page and page.count("data:image/png;base64,") == 2
    with open(tmp_path / "out" / "pareto.csv") as f:
        rows = list(csv.reader(f))
    assert sorted(int(r[0]) for r in rows[1:]) == sorted(t.number for t in tuner.pareto_front())
    for name in ("pareto.png", "hypervolume.png"):
        assert os.path.getsize(tmp_path / "out" / name) > 1000


def test_predicted_front_is_non_dominated_and_near_the_true_front():
    # f1 = x, f2 = 1 - x on [0, 1]: every point is Pareto-optimal, the front is f1 + f2 = 1.
    study = optuna.create_study(directions=["minimize", "minimize"])
    for x in np.linspace(0, 1, 8):
        t = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
        study.tell(t, [float(t.params["x"]), 1 - float(t.params["x"])])
    front = predicted_front(study, n_points=256)
    assert len(front) > 10
    np.testing.assert_allclose(front.sum(axis=1), 1.0, atol=0.02)
