"""CONFIG, constrained EI, and the infeasibility declaration."""

import math
import warnings

import numpy as np
import optuna
import pytest
import torch
from botorch.models import SingleTaskGP
from scipy.stats import norm

import hpo
from acquisitions.config import ConfigAcquisition, ConstraintLCB, config_beta, log_constrained_ei
from objectives import synthetic

X1 = torch.tensor([[0.1], [0.4], [0.6], [0.9]], dtype=torch.float64)


def _gp(Y):
    model = SingleTaskGP(X1, torch.tensor(Y, dtype=torch.float64).unsqueeze(-1), outcome_transform=None)
    model.covar_module.lengthscale = 0.2
    model.likelihood.noise = 1e-4
    model.eval()
    return model


def _mean_sd(model, X):
    with torch.no_grad():
        post = model.posterior(X)
    return post.mean.squeeze(-1).squeeze(-1), post.variance.sqrt().squeeze(-1).squeeze(-1)


def test_config_beta_schedule():
    assert config_beta(1, 2) == 1.0  # 0.2 * 2 * log 2 = 0.28, floored at 1
    assert config_beta(50, 2) == pytest.approx(0.4 * math.log(100))
    assert config_beta(100, 10) == pytest.approx(2 * math.log(200))
    with pytest.raises(ValueError, match="t >= 1"):
        config_beta(0, 2)


def test_config_acquisition_is_ucb_inside_and_below_floor_outside():
    f, g = _gp([0.0, 1.0, 0.5, -1.0]), _gp([1.0, -1.0, -0.5, 2.0])
    acqf = ConfigAcquisition(f, g, beta=4.0, floor=-50.0)
    X = torch.linspace(0, 1, 101, dtype=torch.float64).reshape(-1, 1, 1)
    values = acqf(X)
    mf, sf = _mean_sd(f, X)
    mg, sg = _mean_sd(g, X)
    lcb = mg - 2.0 * sg
    inside = lcb <= 0
    assert inside.any() and (~inside).any()
    torch.testing.assert_close(values[inside], (mf + 2.0 * sf)[inside])
    torch.testing.assert_close(values[~inside], -50.0 - lcb[~inside])
    assert values[~inside].max() < values[inside].min()
    torch.testing.assert_close(ConstraintLCB(g, beta=4.0)(X), -lcb)


def test_log_constrained_ei_is_log_ei_plus_log_probability_of_feasibility():
    from botorch.models import ModelListGP

    f, g = _gp([0.0, 1.0, 0.5, -1.0]), _gp([1.0, -1.0, -0.5, 2.0])
    acqf = log_constrained_ei(ModelListGP(f, g), best_f=0.8, n_constraints=1)
    X = torch.tensor([[[0.3]], [[0.45]], [[0.7]]], dtype=torch.float64)
    mf, sf = _mean_sd(f, X)
    mg, sg = _mean_sd(g, X)
    z = (mf - 0.8) / sf
    ei = sf * (z * torch.tensor(norm.cdf(z)) + torch.tensor(norm.pdf(z)))
    pof = torch.tensor(norm.cdf((0.0 - mg) / sg))
    torch.testing.assert_close(acqf(X).exp(), ei * pof, rtol=1e-5, atol=1e-12)


def _run(problem, acquisition, seed, n, storage=None, study_name=None):
    tuner = hpo.Tuner(problem.space, acquisition=acquisition, seed=seed, storage=storage, study_name=study_name)
    for _ in range(n):
        t = tuner.ask()
        tuner.tell(t, problem.fn(t.params), constraints=problem.constraints(t.params))
    return tuner


def test_infeasible_problem_is_declared_once_stored_and_resumed(tmp_path):
    problem = synthetic.infeasible_branin()
    url = f"sqlite:///{tmp_path / 'inf.db'}"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tuner = _run(problem, "config", 0, 30, storage=url, study_name="inf")
    declared = [w for w in caught if issubclass(w.category, hpo.HPOWarning) and "infeasible" in str(w.message)]
    assert len(declared) == 1
    evidence = tuner.infeasible
    assert evidence is not None and evidence["min_max_lcb"] > 0 and evidence["trial"] < 30
    assert evidence["n_observations"] >= hpo.engine.Settings().min_infeasible_observations
    # the declaration is stored: a resumed tuner sees it
    assert hpo.Tuner(problem.space, storage=url, study_name="inf").infeasible == evidence
    # it keeps exploring where feasibility is most likely: the constraint's minimum lies at
    # sin(x1) = -1, i.e. x1 = -pi/2 or 3 pi/2 in [-5, 10]
    late = [t.params["x1"] for t in tuner.trials[-5:]]
    assert np.median([min(abs(x + math.pi / 2), abs(x - 3 * math.pi / 2)) for x in late]) < 1.0


@pytest.mark.parametrize("acquisition", ["config", "cei"])
def test_feasible_problem_is_not_declared_and_found(acquisition):
    problem = synthetic.gramacy()
    tuner = _run(problem, acquisition, 1, 30)
    assert tuner.infeasible is None
    best = tuner.best_trial
    assert all(c <= 0 for c in problem.constraints(best.params))
    assert best.value - problem.optimum < 0.05  # random search's 30-trial median regret is ~0.3


def test_constraints_reach_the_engine_through_optuna_both_ways():
    def objective(trial):
        x = trial.suggest_float("x", 0.0, 1.0)
        trial.set_constraint("0", 0.5 - x)  # feasible for x >= 0.5
        return x

    def constraints_func(frozen):
        return [0.5 - frozen.params["x"]]

    for sampler, obj in [
        (hpo.OptunaSampler(seed=0, n_startup=5), objective),
        (hpo.OptunaSampler(seed=0, n_startup=5, constraints_func=constraints_func), lambda t: t.suggest_float("x", 0.0, 1.0)),
    ]:
        study = optuna.create_study(sampler=sampler)
        study.optimize(obj, n_trials=14)
        feasible = [t for t in study.trials if t.params["x"] >= 0.5]
        assert min(t.value for t in feasible) < 0.52
        assert sampler.last_acquisition == "cei"


def test_unconstrained_acquisition_on_constrained_problem_is_refused():
    problem = synthetic.gramacy()
    tuner = hpo.Tuner(problem.space, acquisition="kg", seed=0, n_startup=3)
    for _ in range(3):
        t = tuner.ask()
        tuner.tell(t, problem.fn(t.params), constraints=problem.constraints(t.params))
    with pytest.raises(hpo.HPOValueError, match="has constraints"):
        tuner.ask()
