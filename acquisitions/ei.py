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
from botorch.acquisition.logei import TAU_MAX, TAU_RELU, qLogExpectedImprovement, qLogNoisyExpectedImprovement
from botorch.acquisition.objective import GenericMCObjective
from botorch.models.model import Model
from botorch.sampling import SobolQMCNormalSampler
from botorch.utils.sampling import draw_sobol_normal_samples
from linear_operator.utils.cholesky import psd_safe_cholesky
from torch.nn.functional import softplus

__all__ = [
    "ClosedFormAcquisition",
    "LogEI",
    "PendingLogEI",
    "log_ei",
    "log_fatplus_and_grad",
    "log_nei",
    "qmc_sampler",
]

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


class _ValueWithGrad(torch.autograd.Function):
    """A :class:`ClosedFormAcquisition`'s ``value_and_grad(X)`` as one autograd node."""

    @staticmethod
    def forward(ctx, X: torch.Tensor, acqf: "ClosedFormAcquisition") -> torch.Tensor:
        value, grad = acqf.value_and_grad(X)
        ctx.save_for_backward(grad)
        return value

    @staticmethod
    def backward(ctx, grad_value: torch.Tensor):
        (grad,) = ctx.saved_tensors
        return grad_value.unsqueeze(-1) * grad, None


class ClosedFormAcquisition(AcquisitionFunction):
    """An acquisition of one candidate (q = 1) with its gradient in closed form: subclasses
    define ``value_and_grad(X, grad)``, ``b x d`` points -> ``b`` values and (with ``grad``)
    their ``b x d`` gradients, without autograd. ``forward`` serves BoTorch's optimisers from it
    (one autograd node where the input requires a gradient), and ``hpo.engine`` runs L-BFGS-B
    on ``value_and_grad`` directly."""

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """``X``: a ``batch_shape x 1 x d``-dim Tensor; returns ``batch_shape`` values,
        differentiable in ``X``."""
        if X.shape[-2] != 1:
            raise ValueError(f"{type(self).__name__} scores single points (q = 1), but got q = {X.shape[-2]}.")
        shape = X.shape[:-2]
        flat = X.reshape(-1, X.shape[-1])
        if torch.is_grad_enabled() and X.requires_grad:
            return _ValueWithGrad.apply(flat, self).reshape(shape)
        return self.value_and_grad(flat, grad=False)[0].reshape(shape)

    def value_and_grad(self, X: torch.Tensor, grad: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
        raise NotImplementedError


class LogEI(ClosedFormAcquisition):
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


class PendingLogEI(ClosedFormAcquisition):
    """BoTorch's qLogEI of one candidate scored jointly with pending points (points still being
    evaluated), computed from a lean model's moments, with its gradient in closed form.

    qLogEI (:func:`log_ei` with ``X_pending``) averages over joint posterior samples of the
    candidate x and the pending points P a smoothed ``max_q (y_q - best_f)^+`` (BoTorch's
    ``log_fatplus`` with temperature ``TAU_RELU`` inside, its ``fatmax`` over the q points with
    ``TAU_MAX``, in log space). Here the joint samples are drawn pending points first: ``y_P = m_P
    + L z_P`` (``L L^T`` their posterior covariance, fixed for the ask) and ``y_x = m_x + a(x)^T
    z_P + sqrt(v_x - |a(x)|^2) z_x`` with ``a(x) = L^-1 cov(P, x)``, the same joint distribution as
    BoTorch's (which factorises with x first), so the same acquisition up to its quasi-MC error
    (tested against BoTorch's at 128 and 4,096 samples), while an evaluation needs only the
    candidate's moments and its covariances with P and their gradients
    (``model.mean_and_variance_grad`` and ``model.covariance_with(P)``, as
    :class:`hpo.surrogate.LeanGP`'s): no posterior objects, sampler or autograd. Hartmann6, 40 trials asked in batches of 4: 0.12 s per trial with
    BoTorch's form, ~0.05 with this one, 0.065 with Optuna GPSampler's.

    Args:
        model: The model (see above).
        best_f: The incumbent, in the model's output units.
        X_pending: A ``p x d``-dim Tensor of the pending points.
        mc_samples: Quasi-MC samples.
        seed: Seed of the quasi-MC base samples.
    """

    def __init__(
        self, model: Model, best_f: float | torch.Tensor, X_pending: torch.Tensor, mc_samples: int = 128, seed: int = 0
    ) -> None:
        super().__init__(model=model)
        needed = ("mean_and_variance_grad", "covariance_with")
        missing = [n for n in needed if not callable(getattr(model, n, None))]
        if missing:
            raise TypeError(f"PendingLogEI needs a model with {' and '.join(missing)}, but got {type(model).__name__}.")
        self._best = float(best_f)
        self._P = X_pending.detach().to(torch.float64)
        self._covariance = model.covariance_with(self._P)
        p = len(self._P)
        posterior = model.posterior(self._P.unsqueeze(0))
        self._L = psd_safe_cholesky(posterior.mvn.covariance_matrix.squeeze(0))  # p x p
        z = draw_sobol_normal_samples(d=p + 1, n=mc_samples, seed=seed, dtype=torch.float64)
        self._z_P, self._z_x = z[:, :p], z[:, p]  # samples x p, samples
        y_P = posterior.mean.reshape(1, p) + self._z_P @ self._L.T  # samples x p
        self._log_improvement_P, _ = log_fatplus_and_grad(y_P - self._best, grad=False)

    def value_and_grad(self, X: torch.Tensor, grad: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The values at ``b x d`` candidates and (with ``grad``) their gradients (``b``, ``b x d``)."""
        with torch.no_grad():
            mean, var, d_mean, d_var = self.model.mean_and_variance_grad(X, grad=grad)
            cov, d_cov = self._covariance(X, grad=grad)  # b x p (x d)
            a = torch.linalg.solve_triangular(self._L, cov.T, upper=False).T  # b x p
            var_given_P = var - (a * a).sum(-1)
            s = var_given_P.clamp_min(1e-12).sqrt()  # the candidate's sd given P
            y = mean[:, None] + a @ self._z_P.T + s[:, None] * self._z_x  # b x samples
            log_improvement, d_log_improvement = log_fatplus_and_grad(y - self._best, grad)  # b x samples
            # BoTorch's fatmax over the q = 1 + p points: M + TAU_MAX log sum_q p((M - l_q) / TAU_MAX)
            pending = self._log_improvement_P.expand(len(y), -1, -1)
            levels = torch.cat([log_improvement.unsqueeze(-1), pending], dim=-1)  # b x samples x (1 + p)
            top = levels.max(dim=-1, keepdim=True).values
            gap = (top - levels) / TAU_MAX + 1.0  # g + 1
            pareto = 2.0 / (gap * gap + 1.0)  # p(g) = 2 / ((g + 1)^2 + 1)
            total = pareto.sum(-1)
            per_sample = top.squeeze(-1) + TAU_MAX * total.log()  # b x samples
            value = torch.logsumexp(per_sample, dim=-1) - math.log(per_sample.shape[-1])
            if not grad:
                return value, None
            weight = (per_sample - torch.logsumexp(per_sample, dim=-1, keepdim=True)).exp()  # d value / d sample
            # d fatmax / d l_x: p'(g_x) / S away from the top, 1 + sum_(q != top) p'(g_q) / S at it
            d_pareto = -4.0 * gap / (gap * gap + 1.0) ** 2  # p'(g) in g = (M - l) / TAU_MAX
            at_top = levels[..., 0] >= top.squeeze(-1)
            others = (d_pareto.sum(-1) - d_pareto[..., 0]) / total
            d_level = torch.where(at_top, 1.0 + others, -d_pareto[..., 0] / total)
            g = weight * d_level * d_log_improvement  # d value / d y, b x samples
            d_a = torch.linalg.solve_triangular(self._L, d_cov.permute(1, 0, 2).reshape(len(self._P), -1), upper=False)
            d_a = d_a.reshape(len(self._P), len(X), -1).permute(1, 0, 2)  # b x p x d
            d_s = (d_var - 2.0 * torch.einsum("bp,bpd->bd", a, d_a)) / (2.0 * s[:, None])
            d_s[var_given_P <= 1e-12] = 0.0  # clamped there
            gradient = (
                g.sum(-1, keepdim=True) * d_mean
                + torch.einsum("bp,bpd->bd", g @ self._z_P, d_a)
                + (g @ self._z_x)[:, None] * d_s
            )
            return value, gradient


def log_fatplus_and_grad(x: torch.Tensor, grad: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    """BoTorch's ``log_fatplus(x, tau=TAU_RELU)`` (the log of its fat-tailed softplus, the
    smoothed improvement of its MC log acquisitions) and, with ``grad``, its derivative
    ``(sigmoid(t) - 0.2 t c^2) / fatplus`` with ``t = x / TAU_RELU`` and ``c = 1 / (1 + t^2)``, by
    in-place operations (``x`` itself is left alone)."""
    t = x / TAU_RELU
    cauchy = t.square().add_(1.0).reciprocal_()
    fatplus = softplus(t).add_(cauchy, alpha=0.1).mul_(TAU_RELU)  # times its temperature
    if not grad:
        return fatplus.log_(), None
    derivative = (torch.sigmoid(t) - 0.2 * t * cauchy.square()).div_(fatplus)
    return fatplus.log_(), derivative


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
    if not constraints and objective_index is None and callable(getattr(model, "covariance_with", None)):
        return PendingLogEI(model, best_f, X_pending, mc_samples=mc_samples, seed=seed)
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
