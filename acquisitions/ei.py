"""Log expected improvement (noise-free observations) and noisy expected improvement.

Both are maximised; models' outputs are "larger is better". Values are in log space
(Ament et al., "Unexpected Improvements to Expected Improvement", NeurIPS 2023), so the
acquisition keeps useful gradients where plain EI underflows to zero.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from scipy import special
from botorch.acquisition import AcquisitionFunction
from botorch.acquisition.analytic import LogExpectedImprovement, _log_ei_helper
from botorch.acquisition.logei import qLogExpectedImprovement, qLogNoisyExpectedImprovement
from botorch.acquisition.objective import GenericMCObjective
from botorch.models.model import Model
from botorch.sampling import SobolQMCNormalSampler

__all__ = ["LogEI", "log_ei", "log_nei", "qmc_sampler"]

_SQRT_2PI = math.sqrt(2.0 * math.pi)


class _LogH(torch.autograd.Function):
    """``log h(u)``, ``h(u) = phi(u) + u Phi(u)`` (the standardised EI), by BoTorch's stable
    ``_log_ei_helper``, with the closed-form derivative ``Phi(u) / h(u) = exp(log Phi(u) - log
    h(u))``: one autograd node instead of the helper's ~40 (their overhead dominated). For
    :class:`acquisitions.pareto.LogEHVI`; :class:`LogEI` differentiates in closed form."""

    @staticmethod
    def forward(ctx, u: torch.Tensor) -> torch.Tensor:
        value = _log_ei_helper(u)
        ctx.save_for_backward(u, value)
        return value

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        u, value = ctx.saved_tensors
        return grad * torch.exp(torch.special.log_ndtr(u) - value)


class LogEI(AcquisitionFunction):
    """Analytic log expected improvement over ``best_f`` for a model with a fast marginal
    posterior and its gradient in closed form: ``model.mean_and_variance_grad(X)`` maps ``b x d``
    points to ``b`` means and variances and their ``b x d`` gradients in each point (as
    :class:`hpo.surrogate.LeanGP`). The same values and gradients as BoTorch's
    ``LogExpectedImprovement`` (tested), at a fraction of the per-evaluation cost: autograd's
    per-operation overhead was about half of the acquisition optimiser's time, and
    :meth:`value_and_grad` avoids it altogether.

    Args:
        model: The model; it must have ``mean_and_variance_grad``.
        best_f: The incumbent, in the model's output units.
    """

    def __init__(self, model: Model, best_f: float | torch.Tensor) -> None:
        super().__init__(model=model)
        if not callable(getattr(model, "mean_and_variance_grad", None)):
            raise TypeError(f"LogEI needs a model with mean_and_variance_grad(X), but got {type(model).__name__}.")
        self.register_buffer("best_f", torch.as_tensor(best_f, dtype=torch.float64).reshape(()))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """``X``: a ``batch_shape x 1 x d``-dim Tensor; returns ``batch_shape`` log-EI values,
        differentiable in ``X`` (one autograd node)."""
        if X.shape[-2] != 1:
            raise ValueError(f"LogEI scores single points (q = 1), but got q = {X.shape[-2]}.")
        shape = X.shape[:-2]
        flat = X.reshape(-1, X.shape[-1])
        if torch.is_grad_enabled() and X.requires_grad:
            return _ValueWithGrad.apply(flat, self).reshape(shape)
        return self.value_and_grad(flat, grad=False)[0].reshape(shape)

    def value_and_grad(self, X: torch.Tensor, grad: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Log-EI at ``b x d`` points and (with ``grad``) its gradient in each point (``b``,
        ``b x d``), in closed form on numpy arrays (no autograd, no per-operation overhead of
        torch's): with ``s = sqrt(var)`` and ``u = (mean - best_f) / s``, log-EI is ``log h(u) +
        log s`` (``h(u) = phi(u) + u Phi(u)``, by :func:`_log_h`), ``d/dmean = g / s`` and ``d/ds
        = (1 - g u) / s`` with ``g = Phi(u) / h(u)``, the derivative of ``log h``."""
        moments = self.model.mean_and_variance_grad(X, grad=grad)
        mean, var, d_mean, d_var = (None if m is None else m.detach().numpy() for m in moments)
        sigma = np.sqrt(np.maximum(var, 1e-12))  # as BoTorch's analytic acquisitions
        u = (mean - float(self.best_f)) / sigma
        log_h = _log_h(u)
        value = torch.from_numpy(log_h + np.log(sigma))
        if not grad:
            return value, None
        g = np.exp(special.log_ndtr(u) - log_h)
        d_sigma = np.where(var > 1e-12, 0.5 / sigma, 0.0)  # d s / d var, 0 where clamped
        by_var = (1.0 - g * u) / sigma * d_sigma
        return value, torch.from_numpy((g / sigma)[:, None] * d_mean + by_var[:, None] * d_var)


def _log_h(u: np.ndarray) -> np.ndarray:
    """``log h(u)``, ``h(u) = phi(u) + u Phi(u)``: BoTorch's ``_log_ei_helper`` (accurate for
    ``|u|`` up to 1e100) on numpy arrays, its branches unchanged: ``log h`` directly above ``u =
    -1``; below, ``log phi(u) + log(1 - exp(w))`` with ``w = log(|u| Phi(u) / phi(u))`` from the
    scaled complementary error function, and beyond ``u = -1e6`` the leading term ``-2 log|u|``."""
    upper = np.maximum(u, -1.0)
    log_upper = np.log(np.exp(-0.5 * upper * upper) / _SQRT_2PI + upper * special.ndtr(upper))
    lower = np.minimum(u, -1.0)
    far = np.maximum(lower, -1e6)
    w = np.log(special.erfcx(-far / math.sqrt(2.0)) * np.abs(far)) + 0.5 * math.log(math.pi / 2.0)
    log1mexp = np.where(w > -math.log(2.0), np.log(-np.expm1(w)), np.log1p(-np.exp(w)))
    log_lower = -0.5 * u * u - math.log(_SQRT_2PI) + np.where(u > -1e6, log1mexp, -2.0 * np.log(np.abs(lower)))
    return np.where(u > -1.0, log_upper, log_lower)


class _ValueWithGrad(torch.autograd.Function):
    """An acquisition's closed-form ``value_and_grad(X)`` (``b x d`` -> ``b``, ``b x d``; as
    :meth:`LogEI.value_and_grad`) as one autograd node."""

    @staticmethod
    def forward(ctx, X: torch.Tensor, acqf: AcquisitionFunction) -> torch.Tensor:
        value, grad = acqf.value_and_grad(X)
        ctx.save_for_backward(grad)
        return value

    @staticmethod
    def backward(ctx, grad_value: torch.Tensor):
        (grad,) = ctx.saved_tensors
        return grad_value.unsqueeze(-1) * grad, None


def qmc_sampler(mc_samples: int, seed: int) -> SobolQMCNormalSampler:
    """Seeded quasi-MC normal base samples for the MC acquisitions of this package."""
    # NOTE: fixed quasi-random base samples make the MC acquisition a deterministic, smooth function
    # of X, so it can be optimised by L-BFGS and the same seed gives the same suggestion.
    return SobolQMCNormalSampler(sample_shape=torch.Size([mc_samples]), seed=seed)


def log_ei(
    model: Model,
    *,
    best_f: float | torch.Tensor,
    X_pending: torch.Tensor | None = None,
    constraints: list[Callable[[torch.Tensor], torch.Tensor]] | None = None,
    objective_index: int | None = None,
    mc_samples: int = 128,
    seed: int = 0,
) -> AcquisitionFunction:
    """Log expected improvement over ``best_f``.

    Args:
        model: A fitted single-output model.
        best_f: The incumbent (best observed value), in the model's output units.
        X_pending: A ``p x d``-dim Tensor of points still being evaluated, or None. With pending
            points (or constraints) the MC form qLogEI is used, which scores a candidate jointly
            with the pending points, so a parallel worker is steered away from them.
        constraints: Callables mapping ``sample_shape x batch_shape x q x m`` samples to
            ``sample_shape x batch_shape x q`` values, feasible where ``<= 0`` (BoTorch's convention).
        objective_index: For a multi-output model (objective and constraints), the output that
            is the objective.
        mc_samples: Quasi-MC samples for the MC form.
        seed: Seed of the quasi-MC base samples.

    Returns:
        An acquisition whose ``forward(X)`` maps a ``batch_shape x q x d``-dim Tensor to
        ``batch_shape`` log-EI values (``q = 1`` for the analytic form).
    """
    if X_pending is None and not constraints and objective_index is None:
        if callable(getattr(model, "mean_and_variance_grad", None)):
            return LogEI(model, best_f)
        return LogExpectedImprovement(model=model, best_f=best_f)
    objective = None
    if objective_index is not None:
        objective = GenericMCObjective(lambda Z, X=None: Z[..., objective_index])
    return qLogExpectedImprovement(
        model=model,
        best_f=best_f,
        sampler=qmc_sampler(mc_samples, seed),
        objective=objective,
        X_pending=X_pending,
        constraints=constraints,
    )


def log_nei(
    model: Model,
    *,
    X_baseline: torch.Tensor,
    X_pending: torch.Tensor | None = None,
    constraints: list[Callable[[torch.Tensor], torch.Tensor]] | None = None,
    objective: GenericMCObjective | None = None,
    mc_samples: int = 128,
    seed: int = 0,
) -> AcquisitionFunction:
    """Noisy log expected improvement: the incumbent is the (uncertain) best of ``X_baseline``.

    Args:
        model: A fitted single-output model.
        X_baseline: A ``n x d``-dim Tensor of the points already observed.
        X_pending: A ``p x d``-dim Tensor of points still being evaluated, or None.
        constraints: As in :func:`log_ei`.
        objective: Maps the model's ``sample_shape x batch_shape x q x m`` samples to the
            scalar maximised (e.g. a scalarisation of several outputs); None for a
            single-output model.
        mc_samples: Quasi-MC samples.
        seed: Seed of the quasi-MC base samples.

    Returns:
        An acquisition mapping ``batch_shape x q x d`` to ``batch_shape`` values.
    """
    # NOTE: pruning the baseline draws its own quasi-MC seed from torch's global generator; a
    # forked, seeded generator makes the pruned set (and so the acquisition) a function of `seed`
    # without touching the caller's random state.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return qLogNoisyExpectedImprovement(
            model=model,
            X_baseline=X_baseline,
            sampler=qmc_sampler(mc_samples, seed),
            objective=objective,
            X_pending=X_pending,
            constraints=constraints,
            prune_baseline=True,
        )
