"""Every example runs on its own with a tiny budget and produces what its docstring promises."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import optuna
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_examples_are_numbered_and_tested():
    names = sorted(p.stem for p in EXAMPLES.glob("*.py"))
    assert names == sorted(n for n in names if n[:2].isdigit() and n[2] == "_")
    source = Path(__file__).read_text()
    assert all(f'load("{n}")' in source for n in names)


def test_ask_tell_resumes_from_sqlite(tmp_path):
    example = load("01_ask_tell")
    first = example.main(["--trials", "8", "--out", str(tmp_path)])
    values = [t.value for t in first["tuner"].trials]
    second = example.main(["--trials", "10", "--out", str(tmp_path)])
    trials = second["tuner"].trials
    assert len(trials) == 10 and [t.value for t in trials[:8]] == values
    best = second["best"]
    assert best.value == pytest.approx(example.validation_loss(best.params))
    assert best.value == min(t.value for t in trials) and best.value >= 0.1


def test_optuna_sampler_example():
    example = load("02_optuna_sampler")
    study = example.main(["--trials", "8", "--jobs", "2"])["study"]
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(done) == 8
    assert study.best_value == pytest.approx(example.branin(**study.best_params))
    assert study.best_value >= 0.397887 - 1e-6
    assert example.branin(math.pi, 2.275) == pytest.approx(0.397887, abs=1e-6)


def test_constraints_example_returns_the_best_feasible(capsys):
    example = load("03_constraints")
    out = example.main(["--trials", "12"])
    tuner, best = out["tuner"], out["best"]
    feasible = [t for t in tuner.trials if t.constraints[0] <= 0]
    assert feasible and best.number in {t.number for t in feasible}
    assert best.value == min(t.value for t in feasible)
    loss, memory = example.run(best.params)
    assert memory <= example.MEMORY_BUDGET_GB and loss == pytest.approx(best.value)


def test_rag_example_writes_a_feasible_front(tmp_path):
    example = load("04_rag_pareto")
    out = example.main(["--trials", "4", "--questions", "10", "--out", str(tmp_path / "report")])
    tuner, front = out["tuner"], out["front"]
    assert len(tuner.trials) == 4
    feasible = [t for t in tuner.trials if t.constraints[0] <= 0]
    assert {t.number for t in front} <= {t.number for t in feasible}
    signs = np.array([1.0, -1.0, -1.0])  # quality up, cost and latency down
    for t in front:  # no feasible trial dominates a front member
        v = np.array(t.values) * signs
        assert not any(np.all(np.array(o.values) * signs >= v) and np.any(np.array(o.values) * signs > v) for o in feasible)
    html = Path(out["report"]).read_text()
    assert "quality" in html and (tmp_path / "report" / "pareto.csv").exists()


@pytest.mark.slow  # ~50 s: make test took 16:41 once the fits restarted (tests/test_preference.py covers the objective)
def test_preference_example_respects_the_kl_budget(tmp_path):
    example = load("05_preference")
    out = example.main(["--trials", "3", "--small", "--out", str(tmp_path)])
    tuner, default = out["tuner"], out["default"]
    assert len(tuner.trials) == 3 and tuner.trials[0].params == example.DEFAULT  # the default is trial 0
    assert tuner.trials[0].value == default.reward and tuner.trials[0].constraints[0] == 0.0
    second = tuner.trials[1]  # constraint = KL - default's KL, recomputed from a fresh evaluation
    assert second.constraints[0] == pytest.approx(out["task"](second.params).kl - default.kl, abs=1e-9)
    if out["best"] is not None:
        assert out["best"].feasible and out["best"].value == max(t.value for t in tuner.trials if t.feasible)
    assert out["steps"] == sum(t.params["steps"] for t in tuner.trials)


def test_lr_schedule_example_counts_steps_and_recommends_a_full_run(tmp_path):
    example = load("06_lr_schedule")
    out = example.main(["--trials", "3", "--steps", "50", "--budget", "100", "--compare", "--out", str(tmp_path)])
    proxy, full, task = out["proxy"], out["full"], out["task"]
    trials = proxy.tuner.trials
    assert len(full["tuner"].trials) == 3 and full["steps"] == 3 * 50
    # T = 50, prefix 10, 3 trials: 2 configurations searched (2 x 10) and the best continued to
    # 50 (40); 1 searched and 2 continued is not possible.
    assert (proxy.searched, proxy.continued) == (2, 1)
    assert [t.params["steps"] for t in trials] == [10] * 2 + [50]
    assert proxy.steps == sum(t.steps for t in trials) == 2 * 10 + 40
    assert proxy.value == task(proxy.params)  # the answer's full run
    assert (tmp_path / "index.html").exists()


def test_lr_schedule_example_resumes_its_proxy_tuning(tmp_path, capsys):
    example = load("06_lr_schedule")
    argv = ["--trials", "3", "--steps", "50", "--budget", "100", "--out", str(tmp_path), "--resume", str(tmp_path / "kept")]
    first = example.main(argv)["proxy"]
    assert capsys.readouterr().out.count("proxy trial") == 3
    # Run again, the study finished: no run part is trained (each is logged), the answer and its
    # trained state are read back.
    again = example.main(argv)["proxy"]
    assert capsys.readouterr().out.count("proxy trial") == 0
    assert again.tuner.trials == first.tuner.trials and (again.params, again.value) == (first.params, first.value)
    assert again.state.step == 50 and all(
        (again.state.model[k] == first.state.model[k]).all() for k in first.state.model
    )


def test_lr_schedule_example_starts_both_tunings_from_the_default(tmp_path):
    from objectives.lr_schedule import DEFAULT

    example = load("06_lr_schedule")
    argv = ["--trials", "3", "--steps", "30", "--budget", "60", "--compare", "--from-default", "--out", str(tmp_path)]
    out = example.main(argv)
    proxy, full = out["proxy"].tuner.trials, out["full"]["tuner"].trials
    # The default schedule's full run is each tuning's first: the same run, the same loss (the
    # proxy's study records its first 6 steps, then the rest).
    assert [t.params for t in proxy[:2]] == [{**DEFAULT, "steps": 6}, {**DEFAULT, "steps": 30}]
    assert full[0].params == DEFAULT
    assert proxy[1].value == full[0].value == out["default"].val_loss == out["proxy"].start_values[0]
    assert out["proxy"].value <= proxy[1].value and out["full"]["val_loss"] <= full[0].value


def test_lr_schedule_example_measures_the_forecast(capsys):
    from objectives.lr_schedule import LMConfig, LRScheduleTask, forecast_errors

    example = load("06_lr_schedule")
    tiny = LRScheduleTask(0, steps=100, batch_size=8, model=LMConfig(layers=1, heads=2, width=32, context=32))
    out = example.measure_forecasts([tiny], starts=(0, 20), rates=(1e-3, 3e-3, 1e-2), tau=50)
    lines = capsys.readouterr().out.splitlines()
    assert "after 50 steps forecast from the first 5" in lines[0]
    errors = forecast_errors(out["curves"])
    last3 = forecast_errors(out["curves"], lambda losses, horizon: sum(losses[-3:]) / 3)
    for line, pick in ((lines[1], slice(0, 3)), (lines[2], slice(3, 6)), (lines[3], slice(0, 6))):
        assert f"hpo.forecast {100 * np.median(errors[pick]):5.2f}%" in line
        assert f"mean of the last 3 losses {100 * np.median(last3[pick]):5.2f}%" in line
    assert lines[1].split()[:3] == ["from", "step", "0"] and lines[3].split()[:2] == ["all", "starts"]


# ~90 s with the cooldown variant (~57 s without): slow, so `make test` stays under 15 minutes
# (15:51 with it); the example's default mode runs in
# test_lr_schedule_example_counts_steps_and_recommends_a_full_run
@pytest.mark.slow
def test_lr_schedule_example_measures_autolrs_against_the_tuned_cosine(tmp_path):
    example = load("06_lr_schedule")
    out = example.main(["--trials", "2", "--steps", "150", "--autolrs", "--out", str(tmp_path)])
    cosine, task = out["cosine"], out["task"]
    assert cosine["params"]["schedule"] == "cosine" and cosine["val_loss"] == task(cosine["params"])
    # Both runs stop at their first validation check at or below the cosine's loss, if any (at most
    # 2T, and the cooldown variant's final cooldown of T/10).
    for result, cooldown in ((out["autolrs"], 0), (out["autolrs_cooldown"], 15)):
        assert result.train_steps <= 2 * 150 + cooldown
        hits = [s for s, v in result.val_curve if v <= cosine["val_loss"]]
        assert result.reached_at == (hits[0] if hits else None)
    # The cooldown variant's probes are a stage long (50 steps) and end with 15 cooldown steps;
    # each stage continues its chosen probe (50 steps of the run, not of the search), whose
    # cooldown is the check at the stage's end. Every check but the run's last is a 15-step
    # cooldown branch, thrown away: those inside a stage (after 25 of its steps) cost 15 more.
    result = out["autolrs_cooldown"]
    probes = [p for stage in result.probes for p in stage]
    assert all(p.reason is None for p in probes)
    inside = sum((s - 15) % 50 != 0 for s, _ in result.val_curve)  # at run step s - 15
    assert result.search_steps == len(probes) * (50 + 15) - 50 * len(result.rates) + 15 * (inside - 1)
