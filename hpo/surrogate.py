"""Gaussian-process surrogates: build, fit (warm-started), and the logged fallback chain.

Notation: n observations, d encoded input columns (see :mod:`hpo.space`), m outputs.
Every model is float64, normalises its inputs with the search space's bounds (not the data's, so
the scale does not drift as trials arrive) and standardises each output.

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
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy import stats
from botorch.fit import fit_gpytorch_mll
from botorch.models import ModelListGP, SingleTaskGP
from botorch.models.kernels.categorical import CategoricalKernel
from botorch.models.transforms.input import Normalize
from botorch.models.transforms.outcome import Standardize
from gpytorch.constraints import GreaterThan
from gpytorch.kernels import RBFKernel
from gpytorch.likelihoods import GaussianLikelihood
from gpytorch.mlls import ExactMarginalLogLikelihood
from gpytorch.priors import GammaPrior, LogNormalPrior

from hpo.errors import HPOWarning

__all__ = ["OutputWarp", "SurrogateCache", "fit_model", "noise_ratio", "warp_outputs"]

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


def _warn_once(cache: SurrogateCache, key: str, message: str) -> None:
    if key not in cache.warned:
        cache.warned.add(key)
        warnings.warn(message, HPOWarning, stacklevel=3)


def _build(train_X: torch.Tensor, train_Y: torch.Tensor, bounds: torch.Tensor, cat_dims: Sequence[int]):
    """One GP for one output. ``train_X``: ``n x d``; ``train_Y``: ``n x 1``; ``bounds``: ``2 x d``."""
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
            covar_module=_mixed_kernel(d, ords, cats),
            likelihood=likelihood,
            input_transform=Normalize(d=d, bounds=bounds, indices=ords) if ords else None,
            outcome_transform=Standardize(m=1),
        )
    # BoTorch's default kernel: RBF with a dimension-scaled lengthscale prior (Hvarfner et al.,
    # 2024). Matern-5/2 with the same prior was 2.6x worse on Branin, no better on Hartmann6.
    return SingleTaskGP(
        train_X,
        train_Y,
        likelihood=likelihood,
        input_transform=Normalize(d=d, bounds=bounds),
        outcome_transform=Standardize(m=1),
    )


def _mixed_kernel(d: int, ords: Sequence[int], cats: Sequence[int]):
    """RBF over the ordinal columns times an exponential Hamming kernel over the categorical ones.

    ``k(x, x') = exp(-|x_o - x'_o|^2_l / 2) * exp(-mean_c [x_c != x'_c] / l_c)``: one ARD kernel in
    which a differing category counts as a distance, as Optuna's GPSampler does. BoTorch's
    MixedSingleTaskGP adds the two kernels to their product (``k_o + k_c + k_o k_c``); its additive
    parts let a category's effect carry over unchanged to every point of the ordinal space. On a
    problem whose continuous optimum moves with the categories (categorical5) it settled in a
    second-best combination in all 5 seeds (median regret 0.15 at 50 trials; 9.5e-5 with the
    product), and on the mixed problem in 2 of 3 (0.016, 0.11; the product: 5 of 5 below 2e-5).
    The product was also 2.5x faster per ask (see the performance issue's note). Every
    lengthscale has the dimension-scaled prior of the continuous kernel (Hvarfner et al., 2024)
    for the full ``d``.
    """

    def prior() -> LogNormalPrior:  # as botorch's get_covar_module_with_dim_scaled_prior
        return LogNormalPrior(loc=math.sqrt(2.0) + 0.5 * math.log(d), scale=math.sqrt(3.0))

    def constraint() -> GreaterThan:
        return GreaterThan(2.5e-2, transform=None, initial_value=prior().mode)

    categorical = CategoricalKernel(
        ard_num_dims=len(cats), active_dims=list(cats), lengthscale_prior=prior(), lengthscale_constraint=constraint()
    )
    if not ords:
        return categorical
    ordinal = RBFKernel(
        ard_num_dims=len(ords), active_dims=list(ords), lengthscale_prior=prior(), lengthscale_constraint=constraint()
    )
    return ordinal * categorical


def _fit_one(model, warm: Mapping[str, torch.Tensor] | None, cache: SurrogateCache, label: str):
    """Walk the fallback chain for one model; returns the fitted model (in eval mode)."""
    defaults = {k: v.clone() for k, v in model.state_dict().items() if k.startswith(_HYPER_PREFIXES)}
    starts = []
    if warm is not None and all(k in defaults and defaults[k].shape == v.shape for k, v in warm.items()):
        starts.append(("previous fit", warm, _WARM_OPTIONS))
    starts.append(("defaults", defaults, _COLD_OPTIONS))
    starts.append(("defaults, noise >= 1e-6", defaults, _COLD_OPTIONS))
    reasons = []
    for name, state, options in starts:
        if name.endswith("1e-6"):
            model.likelihood.noise_covar.register_constraint(
                "raw_noise", GreaterThan(_SAFE_NOISE, transform=None, initial_value=1e-3)
            )
            state = {k: v for k, v in state.items() if "raw_noise" not in k}
            model.likelihood.noise = 1e-3
        model.load_state_dict(state, strict=False)
        mll = ExactMarginalLogLikelihood(model.likelihood, model)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # BoTorch's retries report through the exception below
                fit_gpytorch_mll(mll, optimizer_kwargs={"options": options})
            ok = all(torch.isfinite(p).all() for p in model.parameters())
            if ok:
                model.eval()
                return model
            reasons.append(f"{name}: non-finite hyperparameters")
        except Exception as exc:  # noqa: BLE001 - every failure is reported and handled below
            reasons.append(f"{name}: {type(exc).__name__}: {exc}")
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
    for j, label in enumerate(labels):
        model = _build(train_X, train_Y[:, j : j + 1], bounds, cat_dims)
        model = _fit_one(model, cache.states.get(label), cache, label)
        cache.states[label] = {
            k: v.detach().clone() for k, v in model.state_dict().items() if k.startswith(_HYPER_PREFIXES)
        }
        models.append(model)
    return models[0] if len(models) == 1 else ModelListGP(*models)


def noise_ratio(model) -> float:
    """Fitted noise standard deviation over the output's standard deviation (largest over outputs).

    Outputs are standardised, so their variance is 1 and the ratio is ``sqrt(min(noise, 1))``.
    """
    models = model.models if isinstance(model, ModelListGP) else [model]
    return max(min(float(m.likelihood.noise.detach().max()), 1.0) ** 0.5 for m in models)


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
                warnings.simplefilter("ignore")  # overflow while bracketing lambda; checked below
                candidate = float(np.clip(stats.yeojohnson_normmax(z), *_WARP_LAMBDA))
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
