"""Several objectives: noisy expected hypervolume improvement (in log space) and ParEGO.

Notation: n observations, m objectives, k constraints, q candidates. Objectives are "larger is
better" here (callers negate minimised ones); constraints are feasible where ``<= 0``.

- :func:`log_ehvi` scores candidates by the expected gain in hypervolume over the observed
  Pareto front (noise-free observations: the front is known, one box decomposition serves every
  sample, so it is cheap).
- :func:`log_nehvi` scores candidates by the expected gain in hypervolume of the (uncertain) Pareto
  front of the observed points (Daulton et al. 2021, in log space as in Ament et al. 2023);
  BoTorch's box decompositions make it exact but exponential in m, so it serves up to
  :data:`MAX_HV_OBJECTIVES` objectives.
- :func:`parego` beyond that: noisy log-EI of an augmented Chebyshev scalarisation with random
  weights on the simplex (Knowles 2006), new weights every step.
- :func:`infer_reference_point`: the rule used when the user gives no reference point.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from botorch.acquisition import AcquisitionFunction
from botorch.acquisition.multi_objective.logei import (
    qLogExpectedHypervolumeImprovement,
    qLogNoisyExpectedHypervolumeImprovement,
)
from botorch.acquisition.multi_objective.objective import IdentityMCMultiOutputObjective
from botorch.acquisition.objective import GenericMCObjective
from botorch.models.model import Model
from botorch.utils.multi_objective.box_decompositions.dominated import DominatedPartitioning
from botorch.utils.multi_objective.box_decompositions.non_dominated import FastNondominatedPartitioning
from botorch.utils.multi_objective.pareto import is_non_dominated
from botorch.utils.multi_objective.scalarization import get_chebyshev_scalarization
from botorch.utils.sampling import sample_simplex

from acquisitions.ei import log_nei, qmc_sampler

__all__ = [
    "MAX_HV_OBJECTIVES",
    "non_dominated",
    "hypervolume",
    "infer_reference_point",
    "log_ehvi",
    "log_nehvi",
    "parego",
]

# qLogNEHVI's box decompositions grow exponentially with m; beyond this, ParEGO.
MAX_HV_OBJECTIVES = 4


def non_dominated(Y: torch.Tensor) -> torch.Tensor:
    """The Pareto-optimal rows of ``Y`` (maximisation), duplicates kept once.

    Args:
        Y: A ``n x m``-dim Tensor of objective values.

    Returns:
        A ``n``-dim bool Tensor, True where no other row is at least as good everywhere and
        strictly better somewhere.
    """
    if len(Y) == 0:
        return torch.zeros(0, dtype=torch.bool)
    return is_non_dominated(Y, deduplicate=True)


def hypervolume(Y: torch.Tensor, ref_point: torch.Tensor) -> float:
    """The hypervolume dominated by ``Y`` and bounded below by ``ref_point`` (maximisation).

    Args:
        Y: A ``n x m``-dim Tensor of objective values (any rows; dominated ones add nothing).
        ref_point: A ``m``-dim Tensor.

    Returns:
        The Lebesgue measure of {y : ref_point <= y <= some row of Y}; 0 when no row is above
        ``ref_point`` in every objective.
    """
    Y = Y[(Y > ref_point).all(dim=-1)]
    if len(Y) == 0:
        return 0.0
    return float(DominatedPartitioning(ref_point=ref_point, Y=Y).compute_hypervolume())


def infer_reference_point(Y: torch.Tensor, scale: float = 0.1) -> torch.Tensor:
    """The reference point when the user gives none: ``worst - scale * (best - worst)``.

    Worst and best are each objective's extremes over all rows of ``Y`` (larger is better), so
    every observed point, and each end of the front, adds hypervolume; ``scale = 0.1`` is the
    usual margin (Optuna's GPSampler puts it 10% beyond the worst standardised value). A
    reference drawn from the front alone (its nadir) shrinks with the front and can trap the
    search at one end of it (ZDT1: median gap 8.3 against 0.38, see the several-objectives
    note). Where an objective is constant, the margin is ``scale * max(|worst|, 1)``.

    Args:
        Y: A ``n x m``-dim Tensor of (feasible) objective values, ``n >= 1``.
        scale: The margin below the worst value, as a fraction of the observed range.

    Returns:
        A ``m``-dim Tensor, strictly below every row.
    """
    worst, best = Y.min(dim=0).values, Y.max(dim=0).values
    span = torch.where(best > worst, best - worst, worst.abs().clamp_min(1.0))
    return worst - scale * span


def log_ehvi(
    model: Model,
    *,
    ref_point: torch.Tensor,
    Y: torch.Tensor,
    n_objectives: int,
    constraints: list[Callable[[torch.Tensor], torch.Tensor]] | None = None,
    X_pending: torch.Tensor | None = None,
    mc_samples: int = 128,
    seed: int = 0,
) -> AcquisitionFunction:
    """Log expected hypervolume improvement over the observed front (noise-free observations).

    Args:
        model: A model whose first ``n_objectives`` outputs are the objectives (maximised) and
            whose remaining outputs, if any, are the constraints.
        ref_point: A ``n_objectives``-dim Tensor: the hypervolume's lower corner.
        Y: A ``f x n_objectives``-dim Tensor of the feasible observed objective values (maybe
            empty), whose Pareto front is the one to improve.
        n_objectives: ``m``.
        constraints: Callables mapping ``sample_shape x batch_shape x q x (m + k)`` samples to
            ``sample_shape x batch_shape x q`` values, feasible where ``<= 0``.
        X_pending: A ``p x d``-dim Tensor of points still being evaluated, or None; scored
            jointly with the candidate.
        mc_samples: Quasi-MC samples.
        seed: Seed of the quasi-MC base samples.

    Returns:
        An acquisition mapping ``batch_shape x q x d`` to ``batch_shape`` log-values.
    """
    partitioning = FastNondominatedPartitioning(ref_point=ref_point, Y=Y[(Y > ref_point).all(dim=-1)])
    return qLogExpectedHypervolumeImprovement(
        model=model,
        ref_point=ref_point,
        partitioning=partitioning,
        sampler=qmc_sampler(mc_samples, seed),
        objective=IdentityMCMultiOutputObjective(outcomes=list(range(n_objectives))),
        constraints=constraints,
        X_pending=X_pending,
    )


def log_nehvi(
    model: Model,
    *,
    ref_point: torch.Tensor,
    X_baseline: torch.Tensor,
    n_objectives: int,
    constraints: list[Callable[[torch.Tensor], torch.Tensor]] | None = None,
    X_pending: torch.Tensor | None = None,
    mc_samples: int = 128,
    seed: int = 0,
) -> AcquisitionFunction:
    """Noisy log expected hypervolume improvement.

    Args:
        X_baseline: A ``n x d``-dim Tensor of the observed points; their (uncertain) front is
            the one to improve.
        Others: as in :func:`log_ehvi`; ``seed`` also seeds the baseline pruning.

    Returns:
        An acquisition mapping ``batch_shape x q x d`` to ``batch_shape`` log-values.
    """
    objective = IdentityMCMultiOutputObjective(outcomes=list(range(n_objectives)))
    # NOTE: as in `acquisitions.ei.log_nei`, the baseline pruning seeds itself from torch's global
    # generator; a forked, seeded one keeps the acquisition a function of `seed`.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return qLogNoisyExpectedHypervolumeImprovement(
            model=model,
            ref_point=ref_point,
            X_baseline=X_baseline,
            sampler=qmc_sampler(mc_samples, seed),
            objective=objective,
            constraints=constraints,
            X_pending=X_pending,
            prune_baseline=True,
        )


def parego(
    model: Model,
    *,
    Y: torch.Tensor,
    X_baseline: torch.Tensor,
    n_objectives: int,
    constraints: list[Callable[[torch.Tensor], torch.Tensor]] | None = None,
    X_pending: torch.Tensor | None = None,
    mc_samples: int = 128,
    seed: int = 0,
) -> AcquisitionFunction:
    """ParEGO: noisy log-EI of an augmented Chebyshev scalarisation with random weights.

    Args:
        Y: A ``n x m``-dim Tensor of the observed objective values, which scale the
            scalarisation to [0, 1] per objective.
        X_baseline: A ``n x d``-dim Tensor of the observed points.
        Others: as in :func:`log_ehvi`; ``seed`` also draws the weights (uniform on the
            simplex).

    Returns:
        An acquisition mapping ``batch_shape x q x d`` to ``batch_shape`` log-values.
    """
    weights = sample_simplex(n_objectives, seed=seed, dtype=Y.dtype).squeeze(0)
    scalarize = get_chebyshev_scalarization(weights=weights, Y=Y)
    objective = GenericMCObjective(lambda Z, X=None: scalarize(Z[..., :n_objectives]))
    return log_nei(
        model, X_baseline=X_baseline, X_pending=X_pending, constraints=constraints, objective=objective,
        mc_samples=mc_samples, seed=seed,
    )
