"""Gaussian-process surrogates: build, fit (warm-started), and the logged fallback chain.

Notation: n observations, d encoded input columns (see :mod:`hpo.space`), m outputs.
Every model is float64, normalises its inputs with the search space's bounds (not the data's, so
the scale does not drift as trials arrive) and standardises each output.

Each output's lengthscale prior is chosen when its hyperparameters are optimised (from 20
observations on; see ``_PRIORS`` and :func:`fit_model` for when): the GP is fitted under BoTorch's
dimension-scaled prior and under Optuna's balanced one, and the one whose fit predicts its own
held-out points better (leave-one-out, by a margin) is kept.

Each optimisation starts from the previous fit's hyperparameters, and after every 10% of growth
in the data also from the defaults, keeping the higher posterior: the marginal likelihood has
several optima (signal vs. noise), and a warm start alone stays in the one it found on fewer
points (``_RESTART_GROWTH``).

Fallback chain when fitting fails (steps 1-3 are numerical retries; reaching step 4 warns once
per output, with every step's reason, so it is never silent):
    1. maximise the marginal likelihood starting from the previous fit's hyperparameters;
    2. maximise it again from the priors' default initial values;
    3. maximise it from the defaults with the noise floor raised from 1e-8 to 1e-6 (a very
       smooth objective, e.g. linear in its inputs, can make the kernel matrix singular at the
       low floor);
    4. keep the default (prior-mode) hyperparameters without fitting.
Step 4 still gives a calibrated-enough model for Bayesian optimisation; there is no silent
fall back to random search.

The models are BoTorch ``SingleTaskGP``s, but the two hot loops run on plain arrays: the
marginal likelihood is maximised by :func:`_lean_fit` (GPyTorch's objective and bounds, a
closed-form gradient, numpy), and :class:`LeanGP` evaluates the posterior for the acquisitions
that only read it (its marginal moments and their gradient in numpy, the joint posterior in
torch). Both equal GPyTorch's numbers to ~1e-9 (tested); GPyTorch's per-call overhead made them
3-5x slower at the sizes hpo sees, and torch's per-operation overhead (~5-10 us) 2-4x slower
again (see the performance issue's note and the README's benchmark section).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy import optimize, stats
from scipy.linalg import lapack
from botorch.models import ModelListGP, SingleTaskGP
from botorch.models.model import Model
from botorch.posteriors.gpytorch import GPyTorchPosterior
from botorch.models.kernels.categorical import CategoricalKernel
from botorch.models.transforms.input import Normalize
from botorch.models.transforms.outcome import Standardize
from gpytorch.constraints import GreaterThan
from gpytorch.distributions import MultivariateNormal
from linear_operator.operators import DenseLinearOperator
from gpytorch.kernels import ProductKernel, RBFKernel
from gpytorch.likelihoods import GaussianLikelihood
from gpytorch.priors import GammaPrior, LogNormalPrior, Prior
from torch.distributions import Distribution, constraints
from torch.nn import Module

from hpo.errors import HPOWarning

__all__ = [
    "BalancedLengthscalePrior",
    "LeanGP",
    "OutputWarp",
    "SurrogateCache",
    "fit_model",
    "noise_ratio",
    "warp_outputs",
]

# Noise floor in standardised units. BoTorch's default (1e-4) keeps a deterministic objective's
# posterior from interpolating closely. With 1e-6 the model could not tell apart values within
# ~1e-3 standard deviations of the best, and Branin's median regret at 50 trials stalled at 8e-5;
# with 1e-8 it is 1.6e-6 over 10 seeds (see the core issue's note). Cholesky failures add jitter.
_MIN_NOISE = 1e-8
_SAFE_NOISE = 1e-6  # the floor of fallback step 3
# Gamma(1.1, 30) on the noise variance (standardised units), as Optuna's GPSampler: mode 0.0033,
# and nearly flat towards 0, so a deterministic objective can be interpolated. BoTorch's default
# LogNormal(-4, 1) charges ~48 nats for a noise of 1e-6; with it the median regret at 50 trials
# was 2x (Branin) and 1.4x (Hartmann6) worse over 5 seeds (see the core issue's note).
_NOISE_PRIOR = (1.1, 30.0)
# Yeo-Johnson exponent range for output warping; beyond it the warp only amplifies outliers.
_WARP_LAMBDA = (-3.0, 3.0)
# L-BFGS-B budgets. A warm start is already near the optimum of a likelihood that changed by one
# observation, so a loose relative tolerance stops it early; each ask() continues from there.
_WARM_OPTIONS = {"maxiter": 100, "ftol": 1e-6}
_COLD_OPTIONS = {"maxiter": 200}
# Refit schedule. Up to _REFIT_ALWAYS_BELOW observations the hyperparameters are re-optimised at
# every step; beyond, only once the data have grown by _REFIT_GROWTH since the last optimisation
# (in between, the model conditions on all data with the last hyperparameters). One exact
# likelihood evaluation costs ~130 ms at n = 1000 on this machine (Cholesky and inverse), and a
# warm fit needs 10-30; one new point among 300+ barely moves the optimum.
_REFIT_ALWAYS_BELOW = 300
_REFIT_GROWTH = 1.05
# Beyond this many observations the hyperparameters are optimised on a random subset of this size
# (a function of n only, so reproducible) and the model then conditions on all observations: one
# likelihood evaluation costs O(subset^3) instead of O(n^3) (~130 ms at n = 1000, ~20 ms at 500),
# which kept the refitting ask at 1000 trials at 4.2 s. Hyperparameters are global properties of
# the function (lengthscales, signal and noise level), which a uniform subset of 500 estimates
# nearly as well as all the points.
_FIT_SUBSET = 500
# The lengthscale priors fit_model chooses between, per output (see fit_model for when), by the
# fitted models' leave-one-out predictive density (_loo_log_density). "dim-scaled" is BoTorch's
# LogNormal(sqrt(2) + log(d) / 2, sqrt(3)) (Hvarfner et al., 2024): median lengthscale ~10 in 6
# dimensions, so a column must earn its relevance, and irrelevant columns cost nothing. "balanced"
# is Optuna GPSampler's (BalancedLengthscalePrior), pulling every lengthscale towards the box's
# width. Each alone lost badly somewhere (see the performance issue's note): with dim-scaled,
# columns with a secondary effect were fitted as irrelevant and their variation as noise (DTLZ2's
# distance term, hparams4's cliff); with balanced, irrelevant columns kept phantom variation
# (Hartmann6 with six dead columns: median regret 0.0089 -> 0.50; ZDT1's first objective).
_PRIORS = ("dim-scaled", "balanced")
# The first prior is kept unless another predicts held-out points better by this much (mean log
# density per point): near-ties are decided by the noise of leave-one-out on a few dozen points,
# and a wrong switch to "balanced" costs more (phantom variation in dead columns) than the reverse.
_PRIOR_MARGIN = 0.1
# Up to this many observations both priors are fitted and compared at every optimisation; beyond,
# only once the data have grown by _COMPARE_GROWTH since the last comparison, and in between the
# chosen prior alone is fitted (the second fit made an ask ~10-40% dearer; the benchmarks at
# budget 50 ran with a comparison at every ask).
_COMPARE_ALWAYS_BELOW = 50
# Below this many observations only the first prior is fitted: leave-one-out over a dozen points
# is too noisy to choose by (multi-fidelity on (x, steps), 14 trials: the balanced prior won it
# and the recommendation moved from x = 0.707 to 0.905, the optimum being 0.7).
_COMPARE_FROM = 20
_COMPARE_GROWTH = 1.1
# A warm-started optimisation of an output's hyperparameters is followed by one from the defaults,
# keeping the higher posterior, whenever the data have grown by this factor since the last such
# restart (about 25 restarts over 1000 trials). The likelihood has several optima and a warm start
# stays in the one it found on fewer points: on DTLZ2 after 50 trials the warm fit of the first
# objective (long lengthscales on the distance columns, noise 0.05) was 22 nats below the fit from
# the defaults (noise 1e-5), and "auto" took the deterministic problem for a noisy one.
_RESTART_GROWTH = 1.1
# Keys of a model's state_dict that are hyperparameters (not data-dependent transforms).
_HYPER_PREFIXES = ("covar_module.", "likelihood.", "mean_module.")


@dataclass
class SurrogateCache:
    """Hyperparameters of the previous fit per output, to warm-start the next one.

    One cache belongs to one study and one search space; the engine drops entries whose shapes
    no longer match.
    """

    states: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)
    warned: set[str] = field(default_factory=set)
    fitted_at: dict[str, int] = field(default_factory=dict)  # observations at the last optimisation
    priors: dict[str, str] = field(default_factory=dict)  # the lengthscale prior chosen per output
    compared_at: dict[str, int] = field(default_factory=dict)  # observations at the last choice
    restarted_at: dict[str, int] = field(default_factory=dict)  # observations at the last fit from defaults


def _warn_once(cache: SurrogateCache, key: str, message: str) -> None:
    if key not in cache.warned:
        cache.warned.add(key)
        warnings.warn(message, HPOWarning, stacklevel=3)


def _build(
    train_X: torch.Tensor, train_Y: torch.Tensor, bounds: torch.Tensor, cat_dims: Sequence[int], prior: str = "dim-scaled"
):
    """One GP for one output. ``train_X``: ``n x d``; ``train_Y``: ``n x 1``; ``bounds``: ``2 x d``;
    ``prior``: the lengthscale prior, one of ``_PRIORS``."""
    d = train_X.shape[-1]
    likelihood = GaussianLikelihood(
        noise_prior=GammaPrior(*_NOISE_PRIOR),
        noise_constraint=GreaterThan(_MIN_NOISE, transform=None, initial_value=1e-3),
    )
    if cat_dims:
        cats = sorted(cat_dims)
        ords = [i for i in range(d) if i not in set(cats)]
        return SingleTaskGP(
            train_X,
            train_Y,
            covar_module=_mixed_kernel(d, ords, cats, prior),
            likelihood=likelihood,
            input_transform=Normalize(d=d, bounds=bounds, indices=ords) if ords else None,
            outcome_transform=Standardize(m=1),
        )
    # RBF with ARD lengthscales, as BoTorch's default kernel (Matern-5/2 with the dimension-scaled
    # prior was 2.6x worse on Branin, no better on Hartmann6).
    return SingleTaskGP(
        train_X,
        train_Y,
        covar_module=RBFKernel(ard_num_dims=d, **_lengthscale_options(prior, d)),
        likelihood=likelihood,
        input_transform=Normalize(d=d, bounds=bounds),
        outcome_transform=Standardize(m=1),
    )


class BalancedLengthscalePrior(Prior):
    """``log p(l) = -w (l^2 + 1 / l^2)`` (unnormalised) on each lengthscale of the unit cube.

    Optuna GPSampler's lengthscale prior (there on ``1 / l^2``, the same expression): symmetric in
    ``log l`` about ``l = 1``, the width of the normalised input range, so a lengthscale of 10 or
    of 0.1 costs ``~10 w`` nats. One of the two priors :func:`fit_model` chooses between (see
    ``_PRIORS``).
    """

    arg_constraints: dict = {}
    support = constraints.positive

    def __init__(self, weight: float = 0.1) -> None:
        Module.__init__(self)
        Distribution.__init__(self, batch_shape=torch.Size(), validate_args=False)
        self.weight = float(weight)
        self._transform = None

    @property
    def mode(self) -> torch.Tensor:
        return torch.tensor(1.0, dtype=torch.float64)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return -self.weight * (x * x + 1.0 / (x * x))


def _lengthscale_options(prior: str, d: int) -> dict:
    """The prior and constraint of a kernel's lengthscales (a fresh prior per kernel, as GPyTorch
    registers it as a submodule); the lower bound 0.025 is BoTorch's, for numerical stability.
    ``"dim-scaled"`` is BoTorch's default, ``get_covar_module_with_dim_scaled_prior``'s prior for
    ``d`` input columns."""
    if prior == "dim-scaled":
        ls_prior = LogNormalPrior(loc=math.sqrt(2.0) + 0.5 * math.log(d), scale=math.sqrt(3.0))
    elif prior == "balanced":
        ls_prior = BalancedLengthscalePrior()
    else:
        raise ValueError(f"the lengthscale prior must be one of {_PRIORS}, but got {prior!r}.")
    return {
        "lengthscale_prior": ls_prior,
        "lengthscale_constraint": GreaterThan(2.5e-2, transform=None, initial_value=ls_prior.mode),
    }


def _mixed_kernel(d: int, ords: Sequence[int], cats: Sequence[int], prior: str):
    """RBF over the ordinal columns times an exponential Hamming kernel over the categorical ones.

    ``k(x, x') = exp(-|x_o - x'_o|^2_l / 2) * exp(-mean_c [x_c != x'_c] / l_c)``: one ARD kernel in
    which a differing category counts as a distance, as Optuna's GPSampler does. BoTorch's
    MixedSingleTaskGP adds the two kernels to their product (``k_o + k_c + k_o k_c``); its additive
    parts let a category's effect carry over unchanged to every point of the ordinal space. On a
    problem whose continuous optimum moves with the categories (categorical5) it settled in a
    second-best combination in all 5 seeds (median regret 0.15 at 50 trials; 9.5e-5 with the
    product), and on the mixed problem in 2 of 3 (0.016, 0.11; the product: 5 of 5 below 2e-5).
    The product was also 2.5x faster per ask (see the performance issue's note). Every
    lengthscale has the prior ``prior`` of the continuous kernel for the full ``d``.
    """

    categorical = CategoricalKernel(
        ard_num_dims=len(cats), active_dims=list(cats), **_lengthscale_options(prior, d)
    )
    if not ords:
        return categorical
    ordinal = RBFKernel(ard_num_dims=len(ords), active_dims=list(ords), **_lengthscale_options(prior, d))
    return ordinal * categorical


def _cholesky(K: torch.Tensor) -> torch.Tensor:
    """Cholesky factor of ``K`` (``... x n x n``), adding jitter 1e-8, 1e-7, 1e-6 to the diagonal
    as needed (as GPyTorch's ``psd_safe_cholesky``)."""
    L, info = torch.linalg.cholesky_ex(K)
    jitter = 1e-8
    while bool((info > 0).any()) and jitter <= 1e-6:
        L, info = torch.linalg.cholesky_ex(K + jitter * torch.eye(K.shape[-1], dtype=K.dtype))
        jitter *= 10.0
    if bool((info > 0).any()):
        raise torch.linalg.LinAlgError("the kernel matrix is not positive definite even with jitter 1e-6")
    return L


class _Parts:
    """The tensors that define one of :func:`_build`'s GPs, read from the GPyTorch modules.

    The kernel is ``k(x, x') = exp(-|x_o - x'_o|^2_l / 2) * exp(-mean_c [x_c != x'_c] / l_c)``
    (either factor absent when there are no such columns), plus a constant mean and Gaussian
    noise; every hyperparameter's GPyTorch transform is the identity (``transform=None``), so the
    raw values are the hyperparameters themselves, bounded below by their constraints.
    """

    def __init__(self, model) -> None:
        covar = model.covar_module
        kernels = list(covar.kernels) if isinstance(covar, ProductKernel) else [covar]
        self.rbf = next((k for k in kernels if isinstance(k, RBFKernel)), None)
        self.cat = next((k for k in kernels if isinstance(k, CategoricalKernel)), None)
        self.ords = self.rbf.active_dims if self.rbf is not None and self.rbf.active_dims is not None else None
        self.cats = self.cat.active_dims if self.cat is not None else None
        if (self.rbf is None and self.cat is None) or len(kernels) != (self.rbf is not None) + (self.cat is not None):
            raise TypeError(f"the lean GP path knows RBF and categorical kernels, but got {covar!r}")
        # (module, raw parameter name, lower bound, prior or None), in the order of the vector
        noise = model.likelihood.noise_covar
        self.params = [
            (k, "raw_lengthscale", float(k.raw_lengthscale_constraint.lower_bound), k.lengthscale_prior)
            for k in (self.rbf, self.cat)
            if k is not None
        ]
        self.params.append((noise, "raw_noise", float(noise.raw_noise_constraint.lower_bound), noise.noise_prior))
        self.params.append((model.mean_module, "raw_constant", -math.inf, None))
        self._sizes = [getattr(m, name).numel() for m, name, _, _ in self.params]
        self._slices = [slice(a - b, a) for a, b in zip(np.cumsum(self._sizes), self._sizes)]
        self._log_priors = [None if prior is None else _log_prior(prior) for _, _, _, prior in self.params]

    def vector(self) -> torch.Tensor:
        return torch.cat([getattr(m, name).detach().reshape(-1) for m, name, _, _ in self.params])

    def lower(self) -> list[float]:
        return [low for m, name, low, _ in self.params for _ in range(getattr(m, name).numel())]

    def split(self, theta: torch.Tensor) -> list[torch.Tensor]:
        return list(torch.split(theta, self._sizes))

    def load(self, theta: torch.Tensor) -> None:
        with torch.no_grad():
            for (m, name, _, _), value in zip(self.params, self.split(theta)):
                getattr(m, name).copy_(value.reshape(getattr(m, name).shape))

    def differ(self, A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
        """``[a_c != b_c]`` over the categorical columns: ``... x a x b x c`` (0.0 or 1.0)."""
        return (A[..., self.cats].unsqueeze(-2) != B[..., self.cats].unsqueeze(-3)).to(A.dtype)

    def kernel(self, A: torch.Tensor, B: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        """``k(A, B)`` for ``... x a x d`` and ``... x b x d`` (input-transformed, batch shapes
        broadcasting): ``... x a x b``. Differentiable in ``A``."""
        values = self.split(theta)
        K, i = None, 0
        if self.rbf is not None:
            ls = values[i]
            i += 1
            a, b = (A, B) if self.ords is None else (A[..., self.ords], B[..., self.ords])
            center = b.mean(-2, keepdim=True)  # as GPyTorch: centring keeps the expanded square accurate
            a, b = (a - center) / ls, (b - center) / ls
            sq = (a * a).sum(-1, keepdim=True) + (b * b).sum(-1).unsqueeze(-2) - 2.0 * a @ b.transpose(-1, -2)
            K = torch.exp(-0.5 * sq.clamp_min(0.0))
        if self.cat is not None:
            ls = values[i]
            factor = torch.exp(-(self.differ(A, B) @ (1.0 / ls)) / len(ls))
            K = factor if K is None else K * factor
        return K

    def neg_mll(
        self, theta: np.ndarray, X: np.ndarray, y: np.ndarray, differ: np.ndarray | None = None
    ) -> tuple[float, np.ndarray]:
        """GPyTorch's ``ExactMarginalLogLikelihood`` (with the priors, over ``n``), negated, and
        its gradient in ``theta``, in closed form (``d mll / d theta_i = tr((a a^T - K^-1) dK/d
        theta_i) / 2``, ``a = K^-1 (y - c)``), on numpy arrays (``X``: input-transformed, ``n x
        d``; ``y``: ``n``): autograd through the kernel cost ~3 ms per evaluation at n = 100, the
        closed form in torch 0.38 ms at n = 25 (per-operation overhead), in numpy 0.09 ms.
        ``differ``: :meth:`differ` of ``X`` with itself, if already built (it does not change
        during a fit)."""
        values = [theta[part] for part in self._slices]
        noise, constant = values[-2], values[-1]
        n = len(y)
        K, grads, i = np.ones((n, n)), [], 0
        if self.rbf is not None:
            ls = values[i]
            i += 1
            x = X if self.ords is None else X[:, self.ords]
            x = x - x.mean(0)  # (centred, as GPyTorch: the expanded square stays accurate)
            a = x / ls
            K = K * _squared_exponential(a, a, (a * a).sum(1))
        if self.cat is not None:
            differ = differ if differ is not None else self.differ(torch.from_numpy(X), torch.from_numpy(X)).numpy()
            K = K * np.exp(-(differ @ (1.0 / values[i])) / len(values[i]))
        r = y - constant
        L, alpha, inverse = _factorise(K + noise * np.eye(n), r)
        mll = -0.5 * float(r @ alpha) - float(np.log(np.diagonal(L)).sum()) - 0.5 * n * math.log(2 * math.pi)
        W = np.outer(alpha, alpha) - inverse
        M = W * K
        if self.rbf is not None:
            # sum_ab M_ab (x_aj - x_bj)^2 = 2 (M 1) . x_j^2 - 2 x_j^T M x_j  (M is symmetric)
            spread = 2.0 * (M.sum(1) @ (x * x)) - 2.0 * ((M @ x) * x).sum(0)
            grads.append(0.5 * spread / values[0] ** 3)
        if self.cat is not None:
            ls = values[i]
            grads.append(0.5 * np.tensordot(M, differ, axes=([0, 1], [0, 1])) / (len(ls) * ls**2))
        grads.append(0.5 * np.trace(W).reshape(1))
        grads.append(alpha.sum().reshape(1))
        for log_prior, value, g in zip(self._log_priors, values, grads):
            if log_prior is not None:
                logp, dlogp = log_prior(value)
                mll += logp
                g += dlogp
        return -mll / n, -np.concatenate(grads) / n


def _squared_exponential(a: np.ndarray, b: np.ndarray, b_norms: np.ndarray) -> np.ndarray:
    """``exp(-|a_i - b_j|^2 / 2)`` for rows already centred and divided by the lengthscales (``a x
    d`` and ``b x d``; ``b_norms``: ``|b_j|^2``) by the expanded square, as :meth:`_Parts.kernel`
    computes it in torch: ``a x b``."""
    return np.exp(-0.5 * np.maximum((a * a).sum(1)[:, None] + b_norms - 2.0 * a @ b.T, 0.0))


def _factorise(Ky: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(L, Ky^-1 r, Ky^-1)`` for ``n x n`` ``Ky`` and ``r`` (``n``), by LAPACK's potrf, potrs
    and potri (torch's Cholesky and cholesky_inverse cost ~80 us more per call at n = 25); where
    potrf fails, :func:`_cholesky`'s jitter steps give the factor."""
    L, info = lapack.dpotrf(Ky, lower=1, clean=1)
    if info:
        L = _cholesky(torch.from_numpy(Ky)).numpy()
    alpha, info = lapack.dpotrs(L, r, lower=1)
    inverse, info2 = lapack.dpotri(L, lower=1)  # the lower triangle; the upper stays L's zeros
    if info or info2:
        raise np.linalg.LinAlgError(f"dpotrs / dpotri failed (info={info}, {info2})")
    inverse = inverse + inverse.T
    inverse[np.diag_indices_from(inverse)] *= 0.5
    return L, alpha, inverse


def _log_prior(prior) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """The summed log density of ``prior`` and its gradient as a function of numpy arrays, in
    closed form with the prior's constants read once (torch's distributions, or reading the
    constants at every call, cost more than the rest of an evaluation); LogNormal, Gamma and
    :class:`BalancedLengthscalePrior`."""
    if isinstance(prior, LogNormalPrior):
        mu, s = float(prior.loc), float(prior.scale)
        const = -math.log(s) - 0.5 * math.log(2 * math.pi)

        def lognormal(x: np.ndarray) -> tuple[float, np.ndarray]:
            log_x = np.log(x)
            z = (log_x - mu) / s
            return float((const - log_x - 0.5 * z * z).sum()), -(1.0 + z / s) / x

        return lognormal
    if isinstance(prior, GammaPrior):
        a, b = float(prior.concentration), float(prior.rate)
        const = a * math.log(b) - math.lgamma(a)

        def gamma(x: np.ndarray) -> tuple[float, np.ndarray]:
            return float((const + (a - 1.0) * np.log(x) - b * x).sum()), (a - 1.0) / x - b

        return gamma
    if isinstance(prior, BalancedLengthscalePrior):
        w = prior.weight

        def balanced(x: np.ndarray) -> tuple[float, np.ndarray]:
            return float(-w * (x * x + 1.0 / (x * x)).sum()), -w * (2.0 * x - 2.0 / x**3)

        return balanced
    raise TypeError(f"no closed-form log density for the prior {type(prior).__name__}")


def _loo_log_density(model) -> float:
    """The mean leave-one-out log predictive density of a fitted GP (in eval mode) at its
    training points, in standardised units, with the hyperparameters held fixed: with ``Ky = K +
    noise I`` and ``a = Ky^-1 (y - c)``, point i's held-out prediction has mean ``y_i - a_i /
    [Ky^-1]_ii`` and variance ``1 / [Ky^-1]_ii`` (Rasmussen and Williams, 2006, eq. 5.12)."""
    parts = _Parts(model)
    theta = parts.vector()
    X = model.train_inputs[0].detach()
    y = model.train_targets.detach()
    noise, constant = parts.split(theta)[-2:]
    Ky = parts.kernel(X, X, theta) + noise * torch.eye(len(y), dtype=X.dtype)
    _, alpha, inverse = _factorise(Ky.numpy(), (y - constant).numpy())
    diag = np.diagonal(inverse)
    var, residual = 1.0 / diag, alpha / diag
    return float(np.mean(-0.5 * np.log(2 * math.pi * var) - 0.5 * residual**2 / var))


def _lean_fit(model, options: Mapping[str, float]) -> float:
    """Maximise the marginal likelihood of one of :func:`_build`'s GPs (in train mode) by
    L-BFGS-B over its raw hyperparameters, as BoTorch's ``fit_gpytorch_mll`` does, but on plain
    tensors: the same objective and bounds at ~1/6 of the cost per evaluation (GPyTorch's and
    linear_operator's per-call overhead dominated at n <= a few hundred; see the performance
    issue's note). Returns the minimised objective (negative log marginal likelihood plus
    negative log prior, per point); raises when the optimiser fails."""
    parts = _Parts(model)
    X = model.transform_inputs(model.train_inputs[0]).detach()
    y = model.train_targets.detach().numpy()
    differ = parts.differ(X, X).numpy() if parts.cat is not None else None
    X = X.numpy()
    x0 = parts.vector().numpy()
    bounds = [(None if low == -math.inf else low, None) for low in parts.lower()]
    x0 = np.maximum(x0, [low for low in parts.lower()])
    result = optimize.minimize(
        parts.neg_mll, x0, args=(X, y, differ), jac=True, method="L-BFGS-B", bounds=bounds, options=dict(options)
    )
    if not np.all(np.isfinite(result.x)):
        raise RuntimeError(f"L-BFGS-B returned non-finite hyperparameters ({result.message})")
    parts.load(torch.as_tensor(result.x, dtype=torch.float64))
    return float(result.fun)


class LeanGP(Model):
    """The posterior of a GP fitted by :func:`fit_model`, computed on plain tensors and arrays.

    The same numbers as the ``SingleTaskGP``'s posterior (to ~1e-10; tested), without GPyTorch's
    lazy tensors, which made one evaluation of log-EI cost ~7-10 ms at n <= 100 (batch of 10)
    and the acquisition's L-BFGS-B half of an ask (see the performance issue's note). The
    acquisitions that only read the posterior use it: EI and noisy EI (analytic or MC) and the
    knowledge gradient, whose fantasies :class:`acquisitions.kg.OneShotKnowledgeGradient`
    computes from the joint posterior; CONFIG's believer conditions, and keeps the GPyTorch model.

    Args:
        model: A fitted single-output ``SingleTaskGP`` from :func:`fit_model` (in eval mode).
    """

    _num_outputs = 1

    def __init__(self, model) -> None:
        super().__init__()
        self._parts = _Parts(model)
        self._theta = self._parts.vector()
        self._X = model.train_inputs[0].detach()  # n x d, input-transformed (eval mode)
        values = self._parts.split(self._theta)
        self._noise, constant = float(values[-2]), float(values[-1])
        n = len(self._X)
        K = self._parts.kernel(self._X, self._X, self._theta) + self._noise * torch.eye(n, dtype=self._X.dtype)
        self._L = _cholesky(K)  # n x n
        r = (model.train_targets.detach() - constant).unsqueeze(-1)
        self._alpha = torch.cholesky_solve(r, self._L).squeeze(-1)  # n
        self._constant = constant
        # the input transform (Normalize over some columns, or none) as an affine map
        self._offset = torch.zeros(self._X.shape[-1], dtype=self._X.dtype)
        self._scale = torch.ones(self._X.shape[-1], dtype=self._X.dtype)
        transform = getattr(model, "input_transform", None)
        if transform is not None:
            columns = getattr(transform, "indices", None)
            columns = slice(None) if columns is None else columns
            self._offset[columns] = transform.offset.reshape(-1)
            self._scale[columns] = transform.coefficient.reshape(-1)
        ot = model.outcome_transform
        self._mean, self._sd = float(ot.means.reshape(-1)[0]), float(ot.stdvs.reshape(-1)[0])
        self._moments = _Moments(self)

    def mean_and_variance(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The marginal posterior mean and variance at each point of ``X`` (``batch_shape x d``),
        each ``batch_shape``, differentiable in ``X`` by a closed-form gradient (one autograd
        node instead of ~100: the per-operation overhead of autograd was most of an analytic
        acquisition's cost). Categorical columns get zero gradient, as in BoTorch's kernel."""
        shape = X.shape[:-1]
        mean, var = _MeanVariance.apply(X.reshape(-1, X.shape[-1]), self)
        return mean.reshape(shape), var.reshape(shape)

    def mean_and_variance_grad(
        self, X: torch.Tensor, grad: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """The marginal posterior mean and variance at each of the ``b x d`` points ``X`` (each
        ``b``) and, with ``grad``, their gradients in each point's own inputs (each ``b x d``;
        a point's moments depend on it alone), in closed form on numpy arrays (see
        :class:`_Moments`); categorical columns get zero gradient, as in BoTorch's kernel."""
        return tuple(None if a is None else torch.from_numpy(a) for a in self._moments(X.detach().numpy(), grad))

    def covariance_with(self, P: torch.Tensor) -> Callable[..., tuple[torch.Tensor, torch.Tensor | None]]:
        """The posterior covariances with the ``p x d`` points ``P`` as a function ``(X, grad=True)
        -> (b x p, b x p x d or None)`` of ``b x d`` points ``X``, with their gradients in each
        point of ``X`` in closed form on numpy arrays (:meth:`_Moments.covariance_with`; P's side
        computed here, once)."""
        covariance = self._moments.covariance_with(P.detach().numpy())

        def of(X: torch.Tensor, grad: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
            cov, d_cov = covariance(X.detach().numpy(), grad)
            return torch.from_numpy(cov), None if d_cov is None else torch.from_numpy(d_cov)

        return of

    @property
    def num_outputs(self) -> int:
        return 1

    @property
    def batch_shape(self) -> torch.Size:
        return torch.Size()

    def posterior(
        self, X: torch.Tensor, output_indices=None, observation_noise: bool = False, posterior_transform=None, **kwargs
    ) -> GPyTorchPosterior:
        """The joint posterior at ``X`` (``batch_shape x q x d``), in the output's own units."""
        if output_indices not in (None, [0]):
            raise ValueError(f"LeanGP has one output, but got output_indices={output_indices!r}.")
        Xt = (X - self._offset) / self._scale
        Ks = self._parts.kernel(Xt, self._X, self._theta)  # batch x q x n
        mean = self._constant + Ks @ self._alpha  # batch x q
        # one triangular solve with every (batch, q) column: broadcasting L over the batch would
        # copy it per batch element (1 ms of a 2 ms evaluation at n = 90, batch 10)
        n = len(self._X)
        V = torch.linalg.solve_triangular(self._L, Ks.reshape(-1, n).T, upper=False)  # n x (batch q)
        V = V.T.reshape(Ks.shape)  # batch x q x n
        cov = self._parts.kernel(Xt, Xt, self._theta) - V @ V.transpose(-1, -2)  # batch x q x q
        if observation_noise is True:
            cov = cov + self._noise * torch.eye(cov.shape[-1], dtype=cov.dtype)
        # a lazy covariance, as GPyTorch's own posterior: a dense Tensor would be factorised here
        # without jitter (and fail on the near-singular covariance of nearby points); samplers
        # factorise it with jitter as needed
        posterior = GPyTorchPosterior(
            MultivariateNormal(self._mean + self._sd * mean, DenseLinearOperator((self._sd**2) * cov))
        )
        return posterior if posterior_transform is None else posterior_transform(posterior)


class _Moments:
    """:meth:`LeanGP.mean_and_variance_grad` on numpy arrays, with the training side of the
    kernel computed once: torch's per-operation overhead (~5-10 us for each of ~40 small
    operations) was most of an evaluation at the sizes an acquisition optimiser asks for (10
    points against a few dozen observations). The kernel is :meth:`_Parts.kernel`'s (centred on
    the training points, as GPyTorch). With ``a = K^-1 (y - c)``, ``w = K^-1 k(x)`` and ``dk_i/dx_j
    = -k_i (x_j - x_ij) / l_j^2`` (RBF columns, after the input transform): ``d mean/dx_j = sum_i
    a_i dk_i/dx_j`` and ``d var/dx_j = -2 sum_i w_i dk_i/dx_j``."""

    def __init__(self, gp: "LeanGP") -> None:
        parts = gp._parts
        values = [v.numpy() for v in parts.split(gp._theta)]
        train = gp._X.numpy()
        self.offset, self.scale = gp._offset.numpy(), gp._scale.numpy()
        self.L, self.alpha = gp._L.numpy(), gp._alpha.numpy()
        self.mean, self.sd, self.constant = gp._mean, gp._sd, gp._constant
        self.rbf = parts.rbf is not None
        self.cols = slice(None) if parts.ords is None else list(parts.ords)
        self.cats = None if parts.cat is None else list(parts.cats)
        if self.rbf:
            self.ls = values[0]
            self.train = train[:, self.cols]
            self.center = self.train.mean(0)
            self.b = (self.train - self.center) / self.ls
            self.b_norms = (self.b * self.b).sum(1)
        if self.cats is not None:
            self.cat_weights = 1.0 / values[1 if self.rbf else 0] / len(self.cats)
            self.train_cats = train[:, self.cats]

    def __call__(
        self, X: np.ndarray, grad: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
        Xt = (X - self.offset) / self.scale  # b x d
        K = self._kernel(Xt)  # b x n
        V, _ = lapack.dtrtrs(self.L, K.T, lower=1)  # n x b
        mean = self.mean + self.sd * (self.constant + K @ self.alpha)
        var = self.sd**2 * np.maximum(1.0 - (V * V).sum(0), 0.0)
        if not grad:
            return mean, var, None, None
        d_mean, d_var = np.zeros_like(Xt), np.zeros_like(Xt)
        if self.rbf:
            x = Xt[:, self.cols]
            W = lapack.dtrtrs(self.L, V, lower=1, trans=1)[0].T  # b x n: K^-1 k(x)

            def along(C: np.ndarray) -> np.ndarray:  # sum_i C_i dk_i/dx for C = weights * k
                return -(C.sum(1)[:, None] * x - C @ self.train) / self.ls**2

            d_mean[:, self.cols] = self.sd * along(K * self.alpha)
            d_var[:, self.cols] = -2.0 * self.sd**2 * along(K * W)
        return mean, var, d_mean / self.scale, d_var / self.scale

    def covariance_with(self, P: np.ndarray) -> Callable[[np.ndarray, bool], tuple[np.ndarray, np.ndarray | None]]:
        """The posterior covariances with ``p`` points ``P`` as a function of ``b`` points ``X``:
        ``sd^2 (k(x, P) - k(x) K^-1 k(P))`` (``b x p``) and, with ``grad``, their gradients in each
        point of ``X`` (``b x p x d``; RBF columns: ``dk(x, y)/dx_j = -k(x, y) (x_j - y_j) /
        l_j^2``); ``K^-1 k(P)`` is solved once, here."""
        Pt = (P - self.offset) / self.scale
        B = lapack.dpotrs(self.L, self._kernel(Pt).T, lower=1)[0]  # n x p: K^-1 k(P)
        B_train = np.einsum("iq,ij->qij", B, self.train) if self.rbf else None  # p x n x d'

        def covariance(X: np.ndarray, grad: bool) -> tuple[np.ndarray, np.ndarray | None]:
            Xt = (X - self.offset) / self.scale
            K_x = self._kernel(Xt)  # b x n
            K_xp = self._kernel(Xt, Pt)  # b x p
            KB = K_x @ B
            cov = self.sd**2 * (K_xp - KB)
            if not grad:
                return cov, None
            d_cov = np.zeros((*cov.shape, X.shape[-1]))
            if self.rbf:
                x = Xt[:, self.cols]
                d_prior = -K_xp[:, :, None] * (x[:, None, :] - Pt[:, self.cols][None, :, :])
                d_data = -(KB[:, :, None] * x[:, None, :] - np.einsum("bi,qij->bqj", K_x, B_train))
                d_cov[:, :, self.cols] = self.sd**2 * (d_prior - d_data) / self.ls**2
            return cov, d_cov / self.scale

        return covariance

    def _kernel(self, A: np.ndarray, B: np.ndarray | None = None) -> np.ndarray:
        """The kernel between input-transformed rows ``A`` (``a x d``) and ``B`` (``b x d``; by
        default the training rows, their side precomputed): ``a x b``."""
        K = np.ones((len(A), len(self.L) if B is None else len(B)))
        if self.rbf:
            if B is None:
                b, b_norms = self.b, self.b_norms
            else:
                b = (B[:, self.cols] - self.center) / self.ls
                b_norms = (b * b).sum(1)
            K = _squared_exponential((A[:, self.cols] - self.center) / self.ls, b, b_norms)
        if self.cats is not None:
            b_cats = self.train_cats if B is None else B[:, self.cats]
            differ = (A[:, self.cats][:, None, :] != b_cats[None, :, :]).astype(A.dtype)
            K = K * np.exp(-(differ @ self.cat_weights))
        return K


class _MeanVariance(torch.autograd.Function):
    """``(mean, variance)`` of a :class:`LeanGP` at ``b x d`` points as one autograd node, its
    gradient from :meth:`LeanGP.mean_and_variance_grad`."""

    @staticmethod
    def forward(ctx, X: torch.Tensor, gp: "LeanGP") -> tuple[torch.Tensor, torch.Tensor]:
        mean, var, d_mean, d_var = gp.mean_and_variance_grad(X, grad=ctx.needs_input_grad[0])
        ctx.save_for_backward(d_mean, d_var)
        return mean, var

    @staticmethod
    def backward(ctx, grad_mean: torch.Tensor, grad_var: torch.Tensor):
        d_mean, d_var = ctx.saved_tensors
        return grad_mean.unsqueeze(-1) * d_mean + grad_var.unsqueeze(-1) * d_var, None


def _hyperparameters(model) -> dict[str, torch.Tensor]:
    """A detached copy of the model's hyperparameters (its state without data-dependent transforms)."""
    return {k: v.detach().clone() for k, v in model.state_dict().items() if k.startswith(_HYPER_PREFIXES)}


def _fit_one(model, warm: Mapping[str, torch.Tensor] | None, cache: SurrogateCache, label: str, *, restart: bool = False):
    """Walk the fallback chain for one model; returns the fitted model (in eval mode).

    With ``restart``, a successful fit from ``warm`` is followed by one from the defaults, and the
    one with the higher posterior (likelihood times prior) is kept: a likelihood with several
    optima keeps a warm start in the basin it found with fewer points (see ``_RESTART_GROWTH``).
    """
    defaults = _hyperparameters(model)
    starts = []
    if _compatible(defaults, warm):
        starts.append(("previous fit", warm, _WARM_OPTIONS))
    starts.append(("defaults", defaults, _COLD_OPTIONS))
    starts.append(("defaults, noise >= 1e-6", defaults, _COLD_OPTIONS))
    reasons, fitted = [], []  # fitted: (negative log posterior, hyperparameters)
    for name, state, options in starts:
        if fitted and not (restart and name == "defaults"):
            break
        if name.endswith("1e-6"):
            model.likelihood.noise_covar.register_constraint(
                "raw_noise", GreaterThan(_SAFE_NOISE, transform=None, initial_value=1e-3)
            )
            state = {k: v for k, v in state.items() if "raw_noise" not in k}
            model.likelihood.noise = 1e-3
        model.load_state_dict(state, strict=False)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # failures are reported through the exception below
                value = _lean_fit(model, options)
            if all(torch.isfinite(p).all() for p in model.parameters()):
                fitted.append((value, _hyperparameters(model)))
            else:
                reasons.append(f"{name}: non-finite hyperparameters")
        except Exception as exc:  # noqa: BLE001 - every failure is reported and handled below
            reasons.append(f"{name}: {type(exc).__name__}: {exc}")
    if fitted:
        model.load_state_dict(min(fitted, key=lambda f: f[0])[1], strict=False)
        model.eval()
        return model
    _warn_once(
        cache,
        f"fit-{label}",
        f"GP fit failed for {label} ({'; '.join(reasons)}); using the prior-mode hyperparameters "
        "without fitting (fallback step 4 of hpo.surrogate).",
    )
    model.load_state_dict(defaults, strict=False)
    model.eval()
    return model


def fit_model(
    train_X: torch.Tensor,
    train_Y: torch.Tensor,
    *,
    bounds: torch.Tensor,
    cat_dims: Sequence[int] = (),
    cache: SurrogateCache | None = None,
    labels: Sequence[str] | None = None,
):
    """Fit one GP per output column.

    The hyperparameters are re-optimised (warm-started from ``cache``) at every call up to
    ``_REFIT_ALWAYS_BELOW`` observations, and beyond that only once the data have grown by
    ``_REFIT_GROWTH`` since the last optimisation; in between the cached ones are reused. Beyond
    ``_FIT_SUBSET`` observations they are optimised on a random subset of that size; the model
    returned conditions on all observations. From ``_COMPARE_FROM`` observations on, each
    optimisation fits both lengthscale priors of ``_PRIORS`` and keeps the one whose fit has the
    higher leave-one-out predictive density (``_PRIOR_MARGIN`` in favour of the first), up to
    ``_COMPARE_ALWAYS_BELOW`` observations and beyond that after ``_COMPARE_GROWTH`` growth;
    otherwise it fits the prior chosen last (the first before any choice).

    Args:
        train_X: A ``n x d``-dim float64 Tensor of encoded inputs.
        train_Y: A ``n x m``-dim float64 Tensor of outputs (finite).
        bounds: A ``2 x d``-dim Tensor of the encoded columns' bounds.
        cat_dims: Indices of the categorical columns (given a categorical kernel).
        cache: Warm-start state, updated in place with the new hyperparameters.
        labels: One name per output, the key of its warm-start state and of its warnings
            (default ``output 0``, ``output 1``, ...).

    Returns:
        A ``SingleTaskGP`` when ``m == 1``, else a ``ModelListGP``.
    """
    cache = cache if cache is not None else SurrogateCache()
    labels = list(labels) if labels is not None else [f"output {j}" for j in range(train_Y.shape[-1])]
    if len(labels) != train_Y.shape[-1]:
        raise ValueError(f"one label per output is needed, but got {len(labels)} for {train_Y.shape[-1]} outputs.")
    models = []
    n = len(train_X)
    subset = None
    if n > _FIT_SUBSET:
        subset = torch.as_tensor(np.sort(np.random.default_rng(n).permutation(n)[:_FIT_SUBSET]))
    for j, label in enumerate(labels):
        y = train_Y[:, j : j + 1]
        chosen = cache.priors.get(label)
        if chosen is not None and _REFIT_ALWAYS_BELOW < n and not _due(cache.fitted_at, label, n, _REFIT_GROWTH):
            model, state = _build(train_X, y, bounds, cat_dims, chosen), cache.states.get(f"{label} | {chosen}")
            if _compatible(model.state_dict(), state):
                model.load_state_dict(state, strict=False)
                model.eval()
                models.append(model)
                continue
        compare = n >= _COMPARE_FROM and (
            chosen is None or n < _COMPARE_ALWAYS_BELOW or _due(cache.compared_at, label, n, _COMPARE_GROWTH)
        )
        candidates = _PRIORS if compare else (chosen or _PRIORS[0],)
        fits = {prior: _fit_prior(train_X, y, bounds, cat_dims, prior, subset, cache, label) for prior in candidates}
        if compare:  # the fitted model (on the subset, if any) predicts its own held-out points
            chosen = max(
                candidates, key=lambda p: _loo_log_density(fits[p][1]) - (0.0 if p == _PRIORS[0] else _PRIOR_MARGIN)
            )
            cache.compared_at[label] = n
        else:
            chosen = candidates[0]
        cache.priors[label], cache.fitted_at[label] = chosen, n
        models.append(fits[chosen][0])
    return models[0] if len(models) == 1 else ModelListGP(*models)


def _fit_prior(train_X, y, bounds, cat_dims, prior: str, subset, cache: SurrogateCache, label: str):
    """Optimise one output's hyperparameters under one lengthscale prior (warm-started from, and
    saved to, its cache entry), on ``subset``'s rows if given; returns the model on all rows and
    the model fitted (the same one without a subset)."""
    key, n = f"{label} | {prior}", len(train_X)
    model = _build(train_X, y, bounds, cat_dims, prior)
    fit_on = model if subset is None else _build(train_X[subset], y[subset], bounds, cat_dims, prior)
    restart = _due(cache.restarted_at, key, n, _RESTART_GROWTH)
    if restart:
        cache.restarted_at[key] = n
    fitted = _fit_one(fit_on, cache.states.get(key), cache, label, restart=restart)
    if fitted is not model:
        model.load_state_dict(_hyperparameters(fitted), strict=False)
        model.eval()
    cache.states[key] = _hyperparameters(model)
    return model, fitted


def _due(marks: Mapping[str, int], key: str, n: int, growth: float) -> bool:
    """Whether a scheduled step (refit, prior comparison, restart) is due at ``n`` observations:
    never done for ``key`` (no entry in ``marks``), or the data have grown by ``growth`` since."""
    last = marks.get(key)
    return last is None or n >= last * growth


def _compatible(current: Mapping[str, torch.Tensor], state: Mapping[str, torch.Tensor] | None) -> bool:
    """Whether the hyperparameters ``state`` have the keys and shapes of ``current``'s."""
    return state is not None and all(k in current and current[k].shape == v.shape for k, v in state.items())


def noise_ratio(model) -> float:
    """Fitted noise standard deviation over the output's standard deviation (largest over outputs).

    Outputs are standardised, so their variance is 1 and the ratio is ``sqrt(min(noise, 1))``.
    """
    models = model.models if isinstance(model, ModelListGP) else [model]
    return max(min(float(m.likelihood.noise.detach().max()), 1.0) ** 0.5 for m in models)


def _yeojohnson_lambda(z: np.ndarray) -> float:
    """The maximum-likelihood Yeo-Johnson exponent of the values ``z`` within ``_WARP_LAMBDA``.

    The same answer as ``clip(scipy.stats.yeojohnson_normmax(z), *_WARP_LAMBDA)`` (the
    log-likelihood is unimodal in the exponent; tested), by the same bounded Brent search on a
    plain NumPy likelihood: scipy's took ~30 ms per ask in its argument-checking wrappers.
    """
    n, pos = len(z), z >= 0
    log_pos, log_neg = np.log1p(z[pos]), np.log1p(-z[~pos])
    jacobian = log_pos.sum() - log_neg.sum()  # sum sign(z) log1p(|z|)

    def negative_llf(lam: float) -> float:
        a, b = lam, 2.0 - lam
        up = log_pos if abs(a) < 1e-12 else np.expm1(a * log_pos) / a
        down = -log_neg if abs(b) < 1e-12 else -np.expm1(b * log_neg) / b
        var = np.concatenate([up, down]).var()
        if not (np.isfinite(var) and var > np.finfo(np.float64).tiny):
            return np.inf
        return 0.5 * n * math.log(var) - (lam - 1.0) * jacobian

    return float(optimize.fminbound(negative_llf, *_WARP_LAMBDA, xtol=1.48e-8))


@dataclass(frozen=True)
class OutputWarp:
    """A per-column monotone map fitted to ``n x m`` outputs: standardise, then Yeo-Johnson-warp
    towards a Gaussian and standardise again.

    Objectives of training runs are skewed (a few diverged runs with huge losses, many runs close
    to the best); a stationary GP fits them badly. The warp is monotone per column, so the order of
    configurations and the Pareto-optimal set are kept, and EI or hypervolume improvement computed
    on the warped scale favours the same regions (HEBO, Cowen-Rivers et al., 2022, uses the same
    power transform). The exponent is the maximum-likelihood one, clipped to ``_WARP_LAMBDA``.
    Being fitted, it maps other points too, e.g. a user's hypervolume reference point.
    """

    scale: np.ndarray  # (m,), each column's largest magnitude (1 if 0): no overflow near 1e308
    mean: np.ndarray  # (m,), of the scaled column
    sd: np.ndarray  # (m,), of the scaled column, 1 where it is constant
    lam: np.ndarray  # (m,), NaN where a column is not warped
    warped_mean: np.ndarray  # (m,)
    warped_sd: np.ndarray  # (m,)

    @classmethod
    def fit(cls, Y: np.ndarray) -> "OutputWarp":
        Y = np.asarray(Y, dtype=np.float64)
        m = Y.shape[1]
        scale = np.abs(Y).max(axis=0) if len(Y) else np.ones(m)
        scale = np.where(scale > 0, scale, 1.0)
        Y = Y / scale
        mean, sd = Y.mean(axis=0), Y.std(axis=0)
        sd = np.where(sd > 0, sd, 1.0)
        lam, wm, ws = np.full(m, np.nan), np.zeros(m), np.ones(m)
        for j in range(m):
            z = (Y[:, j] - mean[j]) / sd[j]
            if len(z) < 3 or not z.std() > 0:
                continue
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # overflow at extreme exponents; checked below
                candidate = _yeojohnson_lambda(z)
                w = stats.yeojohnson(z, lmbda=candidate)
            if np.all(np.isfinite(w)) and w.std() > 0:
                lam[j], wm[j], ws[j] = candidate, w.mean(), w.std()
        return cls(scale, mean, sd, lam, wm, ws)

    def __call__(self, Y: np.ndarray) -> np.ndarray:
        """The warped values of a ``k x m`` (or ``m``) array."""
        Y = np.asarray(Y, dtype=np.float64)
        out = (Y / self.scale - self.mean) / self.sd
        for j in np.flatnonzero(np.isfinite(self.lam)):
            with np.errstate(all="ignore"):
                column = stats.yeojohnson(out[..., j], lmbda=self.lam[j])
            out[..., j] = (column - self.warped_mean[j]) / self.warped_sd[j]
        return out


def warp_outputs(Y: np.ndarray) -> np.ndarray:
    """:class:`OutputWarp` fitted to ``Y`` and applied to it."""
    return OutputWarp.fit(Y)(Y)
