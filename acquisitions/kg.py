"""Knowledge gradient: the expected gain in the best posterior mean from observing X.

    KG(X) = E_y[ max_x' mu_{n+1}(x' | X, y) ] - max_x' mu_n(x')

(Frazier, "A Tutorial on Bayesian Optimization", 2018, section 4.2). It is computed in BoTorch's
one-shot form (Balandat et al., 2020): the inner maximisers, one per fantasy, are optimised jointly
with X, so :func:`optimize_acqf` handles KG like any q-batch acquisition. ``current_value`` (the
second term) is subtracted, so values are the real expected gain, not a shifted surrogate.

The multi-fidelity, cost-aware form is the same class plus three arguments: a cost model, a
``project`` map that moves a design to the target fidelity (the value is always judged there),
and the fidelity columns. BoTorch's ``qMultiFidelityKnowledgeGradient`` already splits them
this way; :func:`knowledge_gradient` only chooses between the two.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
from botorch.acquisition import PosteriorMean
from botorch.acquisition.cost_aware import InverseCostWeightedUtility
from botorch.acquisition.knowledge_gradient import qKnowledgeGradient, qMultiFidelityKnowledgeGradient
from botorch.acquisition.utils import project_to_target_fidelity
from botorch.models.deterministic import DeterministicModel
from botorch.models.model import Model
from botorch.optim import optimize_acqf
from botorch.sampling import SobolQMCNormalSampler

__all__ = ["current_best_mean", "knowledge_gradient"]


def current_best_mean(
    model: Model,
    bounds: torch.Tensor,
    *,
    fixed_features: Mapping[int, float] | None = None,
    num_restarts: int = 10,
    raw_samples: int = 512,
) -> torch.Tensor:
    """``max_x mu_n(x)`` over the box ``bounds`` (a ``2 x d``-dim Tensor), a 0-dim Tensor.

    ``fixed_features`` pins columns, e.g. the fidelity columns at their target values.
    """
    _, value = optimize_acqf(
        PosteriorMean(model),
        bounds=bounds,
        q=1,
        num_restarts=num_restarts,
        raw_samples=raw_samples,
        fixed_features=dict(fixed_features) if fixed_features else None,
    )
    return value.detach().reshape(())


def knowledge_gradient(
    model: Model,
    *,
    current_value: torch.Tensor,
    num_fantasies: int = 64,
    X_pending: torch.Tensor | None = None,
    seed: int = 0,
    cost_model: DeterministicModel | None = None,
    target_fidelities: Mapping[int, float] | None = None,
) -> qKnowledgeGradient:
    """One-shot (multi-fidelity, cost-aware) knowledge gradient.

    Args:
        model: A fitted single-output model ("larger is better").
        current_value: ``max_x mu_n(x)`` (see :func:`current_best_mean`), subtracted from the
            fantasy maxima. For multi-fidelity use, the maximum at the target fidelities.
        num_fantasies: Quasi-MC fantasy samples of the observation at X.
        X_pending: A ``p x d``-dim Tensor of points being evaluated, or None.
        seed: Seed of the fantasy base samples.
        cost_model: Cost of evaluating a design, a model mapping ``batch x q x d`` to
            ``batch x q x 1`` (e.g. BoTorch's ``AffineFidelityCostModel``). With it, the gain is
            divided by the cost (``InverseCostWeightedUtility``): gain per unit of cost.
        target_fidelities: Column -> target value of the fidelity columns; required with
            ``cost_model``. The inner maximisation is judged at these fidelities.

    Returns:
        An acquisition whose ``forward`` takes ``batch x (q + num_fantasies) x d`` (the design
        and the inner maximisers) and returns ``batch`` values; ``evaluate(X, bounds)`` gives the
        KG of a ``batch x q x d`` design by solving the inner problem.
    """
    sampler = SobolQMCNormalSampler(sample_shape=torch.Size([num_fantasies]), seed=seed)
    if cost_model is None:
        if target_fidelities is not None:
            raise ValueError("`target_fidelities` is given without `cost_model`; give both or neither.")
        return qKnowledgeGradient(
            model, num_fantasies=num_fantasies, sampler=sampler, current_value=current_value, X_pending=X_pending
        )
    if not target_fidelities:
        raise ValueError(f"`target_fidelities` must name the fidelity columns, but got {target_fidelities!r}.")
    targets = dict(target_fidelities)
    project: Callable[[torch.Tensor], torch.Tensor] = lambda X: project_to_target_fidelity(  # noqa: E731
        X=X, target_fidelities=targets, d=X.shape[-1]
    )
    return qMultiFidelityKnowledgeGradient(
        model,
        num_fantasies=num_fantasies,
        sampler=sampler,
        current_value=current_value,
        cost_aware_utility=InverseCostWeightedUtility(cost_model=cost_model),
        project=project,
        X_pending=X_pending,
    )
