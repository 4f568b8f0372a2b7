"""The benchmark harness: regret bookkeeping and summaries."""

import numpy as np
import optuna
import pytest

import hpo
from hpo import bench
from objectives import synthetic


def test_run_one_regret_is_best_so_far_of_true_values():
    problem = synthetic.branin()
    r = bench.run_one(problem, "random", seed=0, budget=12)
    assert len(r.regret) == len(r.seconds) == 12
    assert all(a >= b for a, b in zip(r.regret, r.regret[1:]))
    assert min(r.regret) >= 0.0
    # the same seed gives the same random-search run
    assert r.regret == bench.run_one(problem, "random", seed=0, budget=12).regret


def test_summary_medians_and_table():
    runs = [
        bench.RunResult("p", "s", seed, regret=[float(seed + 1)] * 3, seconds=[0.1] * 3) for seed in range(5)
    ]
    (row,) = bench.summarize(runs)
    assert row["median_regret"] == 3.0 and row["q25_regret"] == 2.0 and row["q75_regret"] == 4.0
    assert row["sec_per_trial"] == pytest.approx(0.1)
    assert "median regret" in bench.format_table([row])


def test_unknown_sampler_is_named():
    with pytest.raises(hpo.HPOValueError, match="sampler must be one of"):
        bench.run_one(synthetic.branin(), "cmaes", seed=0, budget=1)


def test_hpo_beats_random_on_branin_at_equal_budget():
    problem = synthetic.branin()
    # A single seed may still be exploring Branin's third basin at 25 trials; the median may not.
    ours = np.median([bench.run_one(problem, "hpo", seed=s, budget=25).regret[-1] for s in range(3)])
    rand = np.median([bench.run_one(problem, "random", seed=s, budget=25).regret[-1] for s in range(5)])
    assert ours < 0.01 and rand > 0.05


def test_constrained_run_records_cumulative_regret_and_violation():
    problem = synthetic.gramacy()
    r = bench.run_one(problem, "random", seed=3, budget=6)
    # Random search proposes the same points whatever it is told: replay them.
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    steps, viol = [], []
    for _ in range(6):
        t = study.ask(fixed_distributions=problem.space.to_optuna())
        steps.append(max(problem.fn(t.params) - problem.optimum, 0.0))
        viol.append(sum(max(c, 0.0) for c in problem.constraints(t.params)))
        study.tell(t, problem.fn(t.params))
    np.testing.assert_allclose(r.cumulative_regret, np.cumsum(steps))
    np.testing.assert_allclose(r.violation, np.cumsum(viol))
    (row,) = bench.summarize([r])
    assert row["median_cumulative_regret"] == pytest.approx(sum(steps))
    assert bench.run_one(synthetic.infeasible_branin(), "random", seed=0, budget=2).cumulative_regret is None


def test_plot_curves_writes_a_png(tmp_path):
    runs = [bench.run_one(synthetic.gramacy(), s, seed=0, budget=4) for s in ("random", "tpe")]
    bench.plot_curves(runs, str(tmp_path / "c.png"))
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _runs(problem, sampler, finals, budget=3):
    """RunResults whose regret is ``final`` at every trial and whose seconds are 0.5 per trial."""
    return [bench.RunResult(problem, sampler, seed, [f] * budget, [0.5] * budget) for seed, f in enumerate(finals)]


def test_normalised_regret_and_geometric_mean_by_hand():
    results = (
        _runs("p1", "random", [3.0, 4.0, 5.0])  # median 4
        + _runs("p1", "hpo", [1.0, 1.0, 2.0])  # median 1 -> 1 / 4 = 0.25
        + _runs("p1", "optuna-gp", [2.0, 2.0, 9.0])  # median 2 -> 0.5
        + _runs("p2", "random", [0.5, 0.4, 0.6])  # median 0.5
        + _runs("p2", "hpo", [1.0, 0.0, 3.0])  # median 1 -> 2
        + _runs("p2", "optuna-gp", [0.25, 0.1, 7.0])  # median 0.25 -> 0.5
    )
    s = bench.broad_summary(results, budgets=[3])
    norm = {(r["problem"], r["sampler"]): r["normalised"] for r in s["rows"]}
    assert norm[("p1", "hpo")] == 0.25 and norm[("p1", "optuna-gp")] == 0.5
    assert norm[("p2", "hpo")] == 2.0 and norm[("p2", "optuna-gp")] == 0.5
    assert norm[("p1", "random")] == norm[("p2", "random")] == 1.0
    gm = s["geometric_mean"][3]
    assert gm["hpo"] == pytest.approx(np.sqrt(0.25 * 2.0))  # 0.7071
    assert gm["optuna-gp"] == pytest.approx(np.sqrt(0.5 * 0.5))  # 0.5
    assert gm["random"] == pytest.approx(1.0)
    assert s["share"][3] == 0.5  # hpo <= optuna-gp on p1 only
    text = bench.format_broad_table(s)
    # samplers in order of appearance (random, hpo, optuna-gp), then hpo / optuna-gp
    assert "| p1 | 1 | 0.25 | 0.5 | 0.5 |" in text
    assert "| **geometric mean** | 1 | 0.707 | 0.5 | 1.41 |" in text
    assert "hpo <= optuna-gp (normalised regret) on 1 of 2 problems (50%)" in text


def test_normalised_regret_clips_and_handles_a_solved_reference():
    lo, hi = bench.NORMALISED_RANGE
    assert bench.normalised_regret(0.0, 2.0) == lo == 1e-3  # an exact hit counts as 1000x better, no more
    assert bench.normalised_regret(1e-9, 2.0) == lo
    assert bench.normalised_regret(5e4, 2.0) == hi
    assert bench.normalised_regret(0.0, 0.0) == 1.0  # both solved: a tie with random
    assert bench.normalised_regret(0.3, 0.0) == hi  # random solved it, the sampler did not
    with pytest.raises(hpo.HPOValueError, match="regrets must be >= 0"):
        bench.normalised_regret(float("nan"), 1.0)


def test_budgets_are_read_from_one_run():
    # The best-so-far regret after 25/50/100 trials of one 100-trial run, and its seconds.
    curve = [100.0 - t for t in range(100)]
    runs = [bench.RunResult("p", s, 0, curve, [0.01 * t for t in range(100)]) for s in ("random", "tpe")]
    rows = {r["budget"]: r for r in bench.broad_summary(runs, budgets=[100, 25, 50])["rows"] if r["sampler"] == "tpe"}
    assert [rows[b]["median_regret"] for b in (25, 50, 100)] == [76.0, 51.0, 1.0]
    assert rows[25]["sec_per_trial"] == pytest.approx(0.01 * 12)  # mean of 0.00 .. 0.24
    assert rows[100]["sec_per_trial_at_end"] == pytest.approx(0.01 * 94.5)  # mean of 0.90 .. 0.99
    # and on a real run: TPE's first 25 trials do not depend on the trials after them
    problem = synthetic.branin()
    long = bench.run_one(problem, "tpe", seed=4, budget=40)
    short = bench.run_one(problem, "tpe", seed=4, budget=25)
    rand = bench.run_one(problem, "random", seed=4, budget=40)
    (row,) = [r for r in bench.broad_summary([long, rand], budgets=[25])["rows"] if r["sampler"] == "tpe"]
    assert row["median_regret"] == short.regret[-1] == long.regret[24]
    with pytest.raises(hpo.HPOValueError, match="shortest run"):
        bench.broad_summary([long, rand], budgets=[41])


def test_broad_summary_needs_the_reference_on_every_problem():
    with pytest.raises(hpo.HPOValueError, match="reference sampler 'random'"):
        bench.broad_summary(_runs("p", "hpo", [1.0]), budgets=[1])


def test_run_reuses_finished_runs():
    problem = synthetic.branin()
    old = bench.RunResult("branin", "random", 1, [9.0, 8.0, 7.0], [0.0, 0.0, 0.0])
    results = bench.run([problem], ["random"], [0, 1], 2, done=[old])
    assert results[1].regret == [9.0, 8.0]  # cut to the budget, not run again
    assert results[0].regret == bench.run_one(problem, "random", seed=0, budget=2).regret


def test_growth_times_asks_at_each_history_size():
    rows = bench.growth(synthetic.branin(), "random", [3, 0, 8], asks=2)
    assert [r["n"] for r in rows] == [0, 3, 8]
    assert all(0.0 < r["min"] <= r["median"] <= r["max"] < 1.0 for r in rows)
    # a sampler slower than the limit stops after the first size
    assert len(bench.growth(synthetic.branin(), "random", [0, 3], asks=1, time_limit=0.0)) == 1
    table = bench.format_growth(rows)
    assert table.splitlines()[0] == "| completed trials | random s/ask (min-max) |"
    assert table.splitlines()[-1].startswith("| 8 | ")


def test_cli_broad_budgets_and_resume(tmp_path, capsys):
    import json

    from hpo.cli import main

    out = tmp_path / "broad.json"
    argv = ["bench", "--problems", "branin,rosenbrock4", "--samplers", "random,tpe", "--seeds", "2", "--budgets", "4,8", "--out", str(out)]
    assert main(argv) == 0
    data = json.loads(out.read_text())
    assert len(data["runs"]) == 8 and len(data["summary"]) == 2 * 2 * 2  # (problem, sampler, budget) rows
    assert set(data["geometric_mean"]) == {"4", "8"} and data["geometric_mean"]["8"]["random"] == 1.0
    assert "### budget 8" in capsys.readouterr().out
    # resuming runs nothing again: the same runs come back
    assert main(argv + ["--resume"]) == 0
    assert json.loads(out.read_text())["runs"] == data["runs"]
    assert "resuming: 8 runs" in capsys.readouterr().out


def test_cli_growth_writes_its_table(tmp_path, capsys):
    from hpo.cli import main

    out = tmp_path / "growth.txt"
    argv = ["bench", "--growth", "--samplers", "random", "--growth-sizes", "0,3", "--growth-asks", "1", "--out", str(out)]
    assert main(argv) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "seconds per ask on hartmann6 after n completed (random) trials"
    assert [l.split("|")[1].strip() for l in lines[-2:]] == ["0", "3"]
