"""OptunaSampler inside plain Optuna studies."""

import math
import warnings

import numpy as np
import optuna
import pytest

import hpo


def _objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -3.0, 3.0)
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    q = trial.suggest_float("q", 0.0, 1.0, step=0.25)
    n = trial.suggest_int("n", -4, 4)
    width = trial.suggest_int("width", 8, 512, log=True)
    s = trial.suggest_int("s", 0, 12, step=3)
    act = trial.suggest_categorical("act", ["relu", "tanh", None])
    return x**2 + (math.log10(lr) + 3) ** 2 + q + abs(n - 1) + abs(math.log2(width) - 6) + s / 3 + (act != "tanh")


def test_every_distribution_type_is_sampled_inside_its_domain():
    study = optuna.create_study(sampler=hpo.OptunaSampler(seed=0, n_startup=5))
    study.optimize(_objective, n_trials=9)
    assert study.sampler.last_acquisition in ("ei", "nei")  # the model, not the Sobol design, chose the last
    for t in study.trials:
        p = t.params
        assert -3 <= p["x"] <= 3 and 1e-5 <= p["lr"] <= 1e-1
        assert p["q"] in (0.0, 0.25, 0.5, 0.75, 1.0)
        assert isinstance(p["n"], int) and -4 <= p["n"] <= 4
        assert isinstance(p["width"], int) and 8 <= p["width"] <= 512
        assert p["s"] in (0, 3, 6, 9, 12)
        assert p["act"] in ("relu", "tanh", None)
    assert len({tuple(sorted(t.params.items(), key=str)) for t in study.trials}) == 9


def test_beats_random_search_on_a_quadratic():
    def obj(trial):
        return (trial.suggest_float("a", -5, 5) - 1.2) ** 2 + (trial.suggest_float("b", -5, 5) + 0.7) ** 2

    study = optuna.create_study(sampler=hpo.OptunaSampler(seed=0))
    study.optimize(obj, n_trials=15)
    # The optimum is 0; random search's median best after 15 trials is about 1.3.
    assert study.best_value < 0.01


def test_conditional_parameters_are_sampled_independently_with_one_warning():
    def obj(trial):
        kind = trial.suggest_categorical("kind", ["a", "b"])
        x = trial.suggest_float("x", 0, 1)
        if kind == "a":
            return x + trial.suggest_float("extra_a", 0, 1)
        return x + trial.suggest_int("extra_b", 1, 4)

    study = optuna.create_study(sampler=hpo.OptunaSampler(seed=1, n_startup=4))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        study.optimize(obj, n_trials=10)
    msgs = [str(w.message) for w in caught if issubclass(w.category, hpo.HPOWarning)]
    assert len([m for m in msgs if "'extra_a'" in m]) <= 1 and len([m for m in msgs if "'extra_b'" in m]) <= 1
    assert any("outside the joint search space" in m for m in msgs)
    for t in study.trials:
        assert ("extra_a" in t.params) == (t.params["kind"] == "a")


def test_nan_failed_and_pruned_trials_do_not_break_sampling():
    # Failures cluster where training diverges (large x), as they do in practice.
    def obj(trial):
        x = trial.suggest_float("x", 0, 1)
        if x > 0.85:
            return float("nan")  # Optuna records a FAIL
        if 0.6 < x <= 0.7:
            raise optuna.TrialPruned()
        if 0.7 < x <= 0.85:
            raise ValueError("diverged")
        return (x - 0.25) ** 2

    inside = 0  # model-based trials in the failing region (x > 0.6), over all seeds
    for seed in range(8):
        study = optuna.create_study(sampler=hpo.OptunaSampler(seed=seed, n_startup=4))
        study.optimize(obj, n_trials=15, catch=(ValueError,))
        states = [t.state for t in study.trials]
        assert len(states) == 15
        assert states.count(optuna.trial.TrialState.FAIL) + states.count(optuna.trial.TrialState.PRUNED) >= 1
        assert study.best_value < 1e-3
        inside += sum(t.params["x"] > 0.6 for t in study.trials[4:])
    # The model learned the failing region: of the 8 x 11 trials after the start, random search
    # would put 35 there (40% of the box); measured 12. (Once the optimum is pinned, a late trial
    # or two still explores there: "the last five avoid it", asserted on seed 0 before, held on 2
    # of these 8 seeds, and on 3 of seeds 0-5 before the likelihood moved to numpy.)
    assert inside <= 16


def test_parallel_threads_get_distinct_points():
    def obj(trial):
        return (trial.suggest_float("x", -1, 1) - 0.1) ** 2 + trial.suggest_float("y", -1, 1) ** 2

    study = optuna.create_study(sampler=hpo.OptunaSampler(seed=0, n_startup=4))
    study.optimize(obj, n_trials=12, n_jobs=2)
    points = [(t.params["x"], t.params["y"]) for t in study.trials]
    assert len(study.trials) == 12 and len(set(points)) == 12
    gaps = [math.dist(a, b) for i, a in enumerate(points) for b in points[i + 1 :]]
    assert min(gaps) > 1e-6


def test_running_trials_steer_the_next_point_away():
    # Early in a run (5 observations of a bimodal function) three asks in a row, none told yet,
    # must not pile up on one spot.
    study = optuna.create_study(sampler=hpo.OptunaSampler(seed=0, n_startup=5))
    dist = {"x": optuna.distributions.FloatDistribution(0, 1), "y": optuna.distributions.FloatDistribution(0, 1)}
    for _ in range(5):
        t = study.ask(dist)
        x, y = t.params["x"], t.params["y"]
        study.tell(t, -math.exp(-20 * ((x - 0.2) ** 2 + (y - 0.3) ** 2)) - math.exp(-20 * ((x - 0.8) ** 2 + (y - 0.7) ** 2)))
    running = [study.ask(dist) for _ in range(3)]
    points = [(t.params["x"], t.params["y"]) for t in running]
    assert min(math.dist(a, b) for i, a in enumerate(points) for b in points[i + 1 :]) > 0.02


def test_multi_objective_history_signs_and_failures():
    """Minimised objectives are negated per direction; a failed trial takes each column's worst."""
    sampler = hpo.OptunaSampler(seed=0, n_startup=1)
    study = optuna.create_study(directions=["minimize", "maximize"], sampler=sampler)
    dist = {"x": optuna.distributions.FloatDistribution(0, 1)}
    for values in ([1.0, 5.0], [3.0, 7.0], None):
        t = study.ask(dist)
        study.tell(t, values, state=None if values else optuna.trial.TrialState.FAIL)
    trial = study.ask(dist)
    space = hpo.SearchSpace.from_optuna(dist)
    _, Y, C, _ = sampler._history(study, space, study.trials, skip=study.trials[-1].number)
    np.testing.assert_array_equal(Y, [[-1.0, 5.0], [-3.0, 7.0], [-3.0, 5.0]])
    assert C is None and trial.number == 3


def test_multi_objective_reference_point_must_match_the_directions():
    sampler = hpo.OptunaSampler(seed=0, n_startup=1, ref_point=[1.0, 2.0, 3.0])
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
    t = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    study.tell(t, [1.0, 2.0])
    with pytest.raises(hpo.HPOValueError, match="one value per direction"):
        study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    with pytest.raises(hpo.HPOValueError, match="ref_point"):
        hpo.OptunaSampler(ref_point=["a", 1.0])


def test_sampler_pickles_without_its_lock_and_caches():
    import pickle

    sampler = hpo.OptunaSampler(seed=7, acquisition="nei")
    clone = pickle.loads(pickle.dumps(sampler))
    assert clone.seed == 7 and clone.settings == sampler.settings
    study = optuna.create_study(sampler=clone)
    study.optimize(lambda t: (t.suggest_float("x", -1, 1) - 0.3) ** 2, n_trials=6)
    assert len(study.trials) == 6


# A local Ray instance: 19 s on an idle 2-core machine (5.5 min once beside two other CPU-bound jobs).
def test_through_ray_tune(tmp_path):
    pytest.importorskip("ray.tune", reason="Ray Tune is not installed: pip install 'hpo[ray]'")
    import ray
    from ray import tune
    from ray.tune.search.optuna import OptunaSearch

    space = {"x": optuna.distributions.FloatDistribution(-5, 5), "y": optuna.distributions.FloatDistribution(-5, 5)}

    def trainable(config):
        return {"loss": (config["x"] - 1.0) ** 2 + (config["y"] + 0.5) ** 2}

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        search = OptunaSearch(space=space, sampler=hpo.OptunaSampler(seed=0), metric="loss", mode="min")
        results = tune.Tuner(
            trainable,
            tune_config=tune.TuneConfig(search_alg=search, num_samples=14, max_concurrent_trials=2),
            run_config=tune.RunConfig(verbose=0, storage_path=str(tmp_path)),
        ).fit()
    finally:
        ray.shutdown()
    losses = [r.metrics["loss"] for r in results]
    configs = {(r.config["x"], r.config["y"]) for r in results}
    assert len(losses) == 14 and len(configs) == 14 and not results.errors
    best = results.get_best_result(metric="loss", mode="min")
    assert best.metrics["loss"] == pytest.approx((best.config["x"] - 1) ** 2 + (best.config["y"] + 0.5) ** 2)
    assert best.metrics["loss"] < 1e-2  # the bowl's bottom in 14 trials (random search: median ~1.5)


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_forecast_pruner_stops_runs_headed_above_the_best_and_keeps_the_rest(direction):
    """Curves reported every 5 steps of 100: the first run (0.5 + e^(-t/30), 1% noise) completes,
    as there is no best yet; one headed for 1.2 is pruned with its reason as soon as the forecast
    is trusted (10 reports); one that learns slowly (0.3 + 2 e^(-t/40), behind the first at step
    50, ahead at the end) runs to the end; a NaN loss is pruned as diverged at the 5th report."""
    sign = 1.0 if direction == "minimize" else -1.0
    rng = np.random.default_rng(0)
    curves = [
        lambda t: 0.5 + math.exp(-t / 30) + 0.01 * rng.normal(),
        lambda t: 1.2 + math.exp(-t / 30) + 0.01 * rng.normal(),
        lambda t: 0.3 + 2.0 * math.exp(-t / 40) + 0.01 * rng.normal(),
        lambda t: 2.0 if t < 15 else math.nan,
    ]

    def objective(trial: optuna.Trial) -> float:
        for step in range(5, 101, 5):
            loss = curves[trial.number](step)
            trial.report(sign * loss, step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return sign * loss

    study = optuna.create_study(direction=direction, pruner=hpo.ForecastPruner(horizon=100))
    study.optimize(objective, n_trials=4)
    states = [t.state for t in study.trials]
    assert states == [optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED,
                      optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED]
    first, pruned, slow, diverged = study.trials
    assert max(pruned.intermediate_values) == 50  # the 10th report
    assert pruned.system_attrs["hpo:fail_reason"].startswith("forecast loss at step 100 is 1.2")
    assert sign * slow.intermediate_values[50] > sign * first.intermediate_values[50]  # behind midway
    assert sign * slow.value < sign * first.value and study.best_trial.number == 2
    assert abs(sign * slow.value - (0.3 + 2.0 * math.exp(-2.5))) < 0.05
    assert max(diverged.intermediate_values) == 25 and diverged.system_attrs["hpo:fail_reason"] == "the loss is nan at step 15"


def test_forecast_pruner_checks_its_arguments():
    with pytest.raises(hpo.HPOValueError, match="horizon >= 1"):
        hpo.ForecastPruner(horizon=0)
    with pytest.raises(hpo.HPOValueError, match="z >= 0"):
        hpo.ForecastPruner(horizon=10, z=-1.0)
