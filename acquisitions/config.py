"""CONFIG: constrained optimisation by optimism over confidence bounds, and infeasibility.

Xu, Jiang, Svetozarevic, Jones, "Constrained Efficient Global Optimization of Expensive Black-box
Functions" (ICML 2023). With one GP per constraint g_i (feasible where g_i(x) <= 0) and the
objective f, written here for maximisation of f:

    optimistic feasible set   F_t = { x : LCB_i(x) = mu_i(x) - beta_t^1/2 sigma_i(x) <= 0 for all i }
    next point                argmax_{x in F_t} UCB_f(x) = mu_f(x) + beta_t^1/2 sigma_f(x)

(the paper minimises f's LCB; negating f gives this form). If F_t is empty the problem is
declared infeasible: the test is ``min_x max_i LCB_i(x) > 0``, found by optimising that function
(:class:`ConstraintLCB`), not by sampling a few points.

The multiplier schedule (see :func:`config_beta`) is ``beta_t = 0.2 * d * log(2 t)`` (Kandasamy
et al., "High Dimensional Bayesian Optimisation and Bandits via Additive Models", 2015), the
practical GP-UCB schedule, with a floor of 1 so early rounds stay optimistic.

Also here: constrained log EI (log EI plus the log probability of feasibility), for comparison.
"""

from __future__ import annotations

import math

import torch
from botorch.acquisition import AcquisitionFunction
from botorch.acquisition.analytic import LogConstrainedExpectedImprovement
from botorch.models import ModelListGP
from botorch.models.model import Model
from botorch.utils.transforms import t_batch_mode_transform

__all__ = ["config_beta", "ConfigAcquisition", "ConstraintLCB", "log_constrained_ei"]


def config_beta(t: int, d: int) -> float:
    """The confidence multiplier ``beta_t`` (squared) for round ``t >= 1`` in ``d`` dimensions."""
    if t < 1 or d < 1:
        raise ValueError(f"`t >= 1` and `d >= 1` must hold, but got ({t=}, {d=}).")
    return max(1.0, 0.2 * d * math.log(2 * t))


def _mean_sd(model: Model, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Posterior mean and sd at ``batch x 1 x d`` X, each ``batch x m``."""
    post = model.posterior(X)
    mean = post.mean.squeeze(-2)
    sd = post.variance.clamp_min(1e-18).sqrt().squeeze(-2)
    return mean, sd


class ConstraintLCB(AcquisitionFunction):
    """``-max_i LCB_i(x)``: maximising it finds the most optimistic point for feasibility.

    Its maximum is negative exactly when CONFIG's optimistic feasible set is empty.
    """

    def __init__(self, constraint_model: Model, beta: float) -> None:
        super().__init__(model=constraint_model)
        if not beta > 0:
            raise ValueError(f"`beta > 0` must hold, but got {beta=}.")
        self.root_beta = math.sqrt(beta)

    @t_batch_mode_transform(expected_q=1)
    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """X: ``batch x 1 x d`` -> ``batch`` values of ``-max_i LCB_i(x)``."""
        mean, sd = _mean_sd(self.model, X)
        return -(mean - self.root_beta * sd).max(dim=-1).values


class ConfigAcquisition(AcquisitionFunction):
    """CONFIG's step: ``UCB_f(x)`` on the optimistic feasible set, below every such value outside.

    Outside the set the value is ``floor - max_i LCB_i(x)``, which is below every UCB inside the
    set (``floor`` is chosen so) and rises towards the set, so a multi-start gradient optimiser is
    drawn to the set's boundary from infeasible starts.
    """

    def __init__(self, objective_model: Model, constraint_model: Model, beta: float, floor: float) -> None:
        super().__init__(model=objective_model)
        if not beta > 0:
            raise ValueError(f"`beta > 0` must hold, but got {beta=}.")
        self.constraint_model = constraint_model
        self.root_beta = math.sqrt(beta)
        self.floor = float(floor)

    @t_batch_mode_transform(expected_q=1)
    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """X: ``batch x 1 x d`` -> ``batch`` values."""
        mean_f, sd_f = _mean_sd(self.model, X)
        ucb = (mean_f + self.root_beta * sd_f)[..., 0]
        mean_g, sd_g = _mean_sd(self.constraint_model, X)
        violation = (mean_g - self.root_beta * sd_g).max(dim=-1).values
        return torch.where(violation <= 0, ucb, self.floor - violation)


def log_constrained_ei(
    model: ModelListGP, *, best_f: float | torch.Tensor, n_constraints: int
) -> LogConstrainedExpectedImprovement:
    """Log EI of output 0 times the probability that outputs ``1..n_constraints`` are ``<= 0``.

    Args:
        model: A ``ModelListGP`` whose first model is the objective (larger is better) and the
            rest the constraints (feasible where ``<= 0``).
        best_f: The best feasible observed objective value.
        n_constraints: Number of constraint outputs.
    """
    return LogConstrainedExpectedImprovement(
        model=model,
        best_f=best_f,
        objective_index=0,
        constraints={i: (None, 0.0) for i in range(1, n_constraints + 1)},
    )
