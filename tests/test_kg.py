"""Knowledge gradient: non-negative, equal to a brute-force nested expectation, zero where known;
the closed-form one-shot values equal BoTorch's fantasy models."""

import numpy as np
import pytest
import torch
from botorch.models import SingleTaskGP

from acquisitions.kg import OneShotKnowledgeGradient, current_best_mean, knowledge_gradient

BOUNDS = torch.tensor([[0.0], [1.0]], dtype=torch.float64)
GRID = torch.linspace(0, 1, 2001, dtype=torch.float64).unsqueeze(-1)


def _model(noise: float) -> SingleTaskGP:
    """A 1-D GP with fixed hyperparameters (no fitting, so the reference is exact)."""
    X = torch.tensor([[0.1], [0.35], [0.5], [0.8], [0.95]], dtype=torch.float64)
    Y = torch.tensor([[0.2], [0.9], [0.4], [-0.3], [0.1]], dtype=torch.float64)
    model = SingleTaskGP(X, Y, outcome_transform=None)
    model.covar_module.lengthscale = 0.15  # BoTorch's default kernel: RBF, unit output scale
    model.likelihood.noise = noise
    model.mean_module.constant.data.fill_(0.0)
    model.eval()
    return model


def _brute_force_kg(model, x: float, nodes: int = 60) -> float:
    """E_y[max_grid mu_{n+1}] - max_grid mu_n by Gauss-Hermite quadrature over the observation y."""
    X = torch.tensor([[x]], dtype=torch.float64)
    with torch.no_grad():
        post = model.posterior(X, observation_noise=True)
        mu, sd = post.mean.item(), post.variance.sqrt().item()
        base = model.posterior(GRID).mean.max().item()
        z, w = np.polynomial.hermite_e.hermegauss(nodes)  # weight exp(-z^2 / 2)
        w = w / w.sum()
        total = 0.0
        for zi, wi in zip(z, w):
            y = torch.tensor([[mu + sd * zi]], dtype=torch.float64)
            cond = model.condition_on_observations(X=X, Y=y)
            total += wi * cond.posterior(GRID).mean.max().item()
    return total - base


def _kg(model, x: float, fantasies: int = 256) -> float:
    current = current_best_mean(model, BOUNDS, num_restarts=20, raw_samples=256)
    acqf = knowledge_gradient(model, current_value=current, num_fantasies=fantasies, seed=0)
    return acqf.evaluate(torch.tensor([[[x]]], dtype=torch.float64), bounds=BOUNDS, num_restarts=10, raw_samples=256).item()


@pytest.mark.parametrize("x", [0.2, 0.42, 0.65])
def test_kg_matches_brute_force_nested_expectation(x):
    model = _model(noise=0.01)
    reference = _brute_force_kg(model, x)
    value = _kg(model, x)
    assert reference > 1e-3  # a point with real value of information
    # 256 quasi-MC fantasies against 60-node quadrature with a 2001-point inner grid
    assert value == pytest.approx(reference, rel=0.08, abs=2e-3)


def test_kg_is_nonnegative():
    model = _model(noise=0.01)
    for x in np.linspace(0.0, 1.0, 9):
        assert _kg(model, float(x), fantasies=64) >= -1e-6


def test_kg_is_zero_where_the_value_is_known_exactly():
    model = _model(noise=1e-8)  # noise-free: observing x = 0.35 again teaches nothing
    assert abs(_kg(model, 0.35, fantasies=64)) < 1e-5
    assert _kg(model, 0.65, fantasies=64) > 1e-3


def test_multi_fidelity_kg_needs_targets_and_divides_by_cost():
    from botorch.models.cost import AffineFidelityCostModel

    model = _model(noise=0.01)
    current = current_best_mean(model, BOUNDS)
    with pytest.raises(ValueError, match="target_fidelities"):
        knowledge_gradient(model, current_value=current, cost_model=AffineFidelityCostModel({0: 1.0}))
    with pytest.raises(ValueError, match="without `cost_model`"):
        knowledge_gradient(model, current_value=current, target_fidelities={0: 1.0})


def _brute_force_kg_pair(model, xs, nodes: int = 40) -> float:
    """Batch KG of two points: 2-D Gauss-Hermite quadrature over their joint observations y.

    The updated mean on the grid is linear in y: mu_n(grid) + C S^-1 (y - mu), with C the posterior
    covariance of f(grid) and f(xs), and S the covariance of the noisy observations at xs.
    """
    X = torch.tensor([[x] for x in xs], dtype=torch.float64)
    with torch.no_grad():
        joint = model.posterior(torch.cat([GRID, X]))
        mean, cov = joint.mean.squeeze(-1), joint.covariance_matrix
        n = len(GRID)
        mu_grid, mu = mean[:n], mean[n:]
        S = cov[n:, n:] + model.likelihood.noise * torch.eye(2, dtype=torch.float64)
        gain = torch.linalg.solve(S, cov[n:, :n])  # 2 x n
        L = torch.linalg.cholesky(S)
        z, w = np.polynomial.hermite_e.hermegauss(nodes)
        Z = torch.tensor(np.stack(np.meshgrid(z, z, indexing="ij"), -1).reshape(-1, 2))
        W = torch.tensor(np.outer(w, w).reshape(-1) / w.sum() ** 2)
        updated = mu_grid + (Z @ L.T) @ gain  # nodes^2 x n: y - mu = L z
    return float((W * updated.max(dim=-1).values).sum() - mu_grid.max())


def test_batch_kg_of_two_points_matches_brute_force_and_beats_either_alone():
    model = _model(noise=0.01)
    current = current_best_mean(model, BOUNDS, num_restarts=20, raw_samples=256)
    acqf = knowledge_gradient(model, current_value=current, num_fantasies=256, seed=0)
    pair = acqf.evaluate(torch.tensor([[[0.2], [0.65]]], dtype=torch.float64), bounds=BOUNDS, num_restarts=10, raw_samples=256).item()
    reference = _brute_force_kg_pair(model, (0.2, 0.65))
    assert pair == pytest.approx(reference, rel=0.08, abs=2e-3)
    assert reference > max(_brute_force_kg(model, 0.2), _brute_force_kg(model, 0.65)) + 1e-3


def test_multi_fidelity_kg_is_the_gain_at_full_fidelity_per_unit_of_cost():
    # A 2-D GP over (x, fidelity s) whose kernel ignores s (lengthscale 1e6): an observation at any s
    # teaches exactly what the 1-D model's observation at x does, so MF-KG(x, s) * cost(s) must be
    # the 1-D KG(x) of the brute-force reference, with cost(s) = 0.1 + s.
    from botorch.models.cost import AffineFidelityCostModel

    one_d = _model(noise=0.01)
    X1 = one_d.train_inputs[0]
    s = torch.tensor([[0.2], [1.0], [0.5], [0.3], [1.0]], dtype=torch.float64)
    model = SingleTaskGP(torch.cat([X1, s], dim=-1), one_d.train_targets.unsqueeze(-1), outcome_transform=None)
    model.covar_module.lengthscale = torch.tensor([[0.15, 1e6]], dtype=torch.float64)
    model.likelihood.noise = 0.01
    model.mean_module.constant.data.fill_(0.0)
    model.eval()
    bounds = torch.tensor([[0.0, 0.1], [1.0, 1.0]], dtype=torch.float64)
    current = current_best_mean(model, bounds, fixed_features={1: 1.0}, num_restarts=20, raw_samples=256)
    acqf = knowledge_gradient(
        model, current_value=current, num_fantasies=256, seed=0,
        cost_model=AffineFidelityCostModel({1: 1.0}, fixed_cost=0.1), target_fidelities={1: 1.0},
    )
    reference = _brute_force_kg(one_d, 0.42)
    for fidelity in (0.1, 0.5, 1.0):
        X = torch.tensor([[[0.42, fidelity]]], dtype=torch.float64)
        value = acqf.evaluate(X, bounds=bounds, num_restarts=10, raw_samples=256).item()
        assert value * (0.1 + fidelity) == pytest.approx(reference, rel=0.08, abs=2e-3)


def _fitted(d: int = 3):
    """A GP fitted by the engine's fit_model to 15 points of a smooth 3-D function: the model of
    an ask, with its learned noise and outcome and input transforms."""
    from hpo.surrogate import SurrogateCache, fit_model

    generator = torch.Generator().manual_seed(0)
    X = torch.rand(15, d, generator=generator, dtype=torch.float64)
    Y = torch.sin(6 * X).sum(-1, keepdim=True) - X[:, -1:]
    bounds = torch.stack([torch.zeros(d), torch.ones(d)]).double()
    return fit_model(X, Y, bounds=bounds, cat_dims=[], cache=SurrogateCache(), labels=["objective"])


@pytest.mark.parametrize("multi_fidelity", [False, True])
@pytest.mark.parametrize("pending", [False, True])
@pytest.mark.parametrize("lean", [False, True])
def test_one_shot_values_and_gradients_equal_botorchs_fantasy_models(multi_fidelity, pending, lean):
    # The closed-form fantasies against BoTorch's fantasy GPs (the same sampler and seed, so the
    # same fantasy observations) at random designs and inner points: equal to rounding.
    from botorch.acquisition.cost_aware import InverseCostWeightedUtility
    from botorch.acquisition.knowledge_gradient import qKnowledgeGradient, qMultiFidelityKnowledgeGradient
    from botorch.acquisition.utils import project_to_target_fidelity
    from botorch.models.cost import AffineFidelityCostModel
    from botorch.sampling import SobolQMCNormalSampler

    from hpo.surrogate import LeanGP

    d, F = 3, 16
    model = _fitted(d)
    generator = torch.Generator().manual_seed(1)
    kwargs = dict(num_fantasies=F, current_value=torch.tensor(0.7, dtype=torch.float64))
    if pending:
        kwargs["X_pending"] = torch.rand(2, d, generator=generator, dtype=torch.float64)
    reference_class = qKnowledgeGradient
    if multi_fidelity:
        reference_class = qMultiFidelityKnowledgeGradient
        kwargs |= dict(
            cost_aware_utility=InverseCostWeightedUtility(cost_model=AffineFidelityCostModel({d - 1: 1.0}, fixed_cost=0.1)),
            project=lambda X: project_to_target_fidelity(X=X, target_fidelities={d - 1: 1.0}, d=d),
        )
    reference = reference_class(model, sampler=SobolQMCNormalSampler(torch.Size([F]), seed=3), **kwargs)
    acqf = OneShotKnowledgeGradient(
        LeanGP(model) if lean else model, sampler=SobolQMCNormalSampler(torch.Size([F]), seed=3), **kwargs
    )
    X = torch.rand(7, 1 + F, d, generator=generator, dtype=torch.float64, requires_grad=True)
    expected = reference(X)
    (expected_grad,) = torch.autograd.grad(expected.sum(), X)
    value = acqf(X)
    (grad,) = torch.autograd.grad(value.sum(), X)
    assert expected.abs().min() > 1e-2  # real values, not zeros
    torch.testing.assert_close(value, expected, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(grad, expected_grad, rtol=1e-7, atol=1e-10)


def test_one_shot_kg_rejects_other_inner_values():
    from botorch.acquisition.objective import IdentityMCObjective

    with pytest.raises(ValueError, match="`objective` is not supported"):
        OneShotKnowledgeGradient(_model(noise=0.01), num_fantasies=4, objective=IdentityMCObjective())
