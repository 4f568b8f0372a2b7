"""The one pure step of hpo: (space, observations, running trials, settings) -> next candidate.

Notation: n completed observations, p pending (running) points, d encoded columns
(:mod:`hpo.space`), k constraints. The objective is "larger is better" here (callers negate
minimised objectives); constraints are feasible where ``<= 0``. Given the same inputs and seed,
:func:`suggest` returns the same point.

Choosing the acquisition is the table ``ACQUISITIONS`` plus one rule for ``"auto"``:
    a fidelity column        -> "mfkg" (cost-aware multi-fidelity knowledge gradient, see below)
    m > 4 objectives         -> "parego" (noisy log-EI of random Chebyshev scalarisations)
    m == 2, noisy            -> "nehvi" (noisy log expected hypervolume improvement)
    3 <= m <= 4, noisy       -> "mean-ehvi" (log EHVI over the front of the posterior mean)
    2 <= m <= 4              -> "ehvi"  (log expected hypervolume improvement over the observed front)
    with constraints         -> ``AUTO_CONSTRAINED`` (chosen by the constrained benchmark)
    noisy observations       -> "nei"  (noisy log expected improvement)
    otherwise                -> "ei"   (log expected improvement over the best observed value)
where "noisy" means the fitted noise standard deviation exceeds ``Settings.noise_threshold``
times the output's standard deviation (of some objective). Each objective's values are
Yeo-Johnson-warped before modelling (:class:`hpo.surrogate.OutputWarp`); the warp is monotone, so
the best point and the Pareto-optimal set are the same on either scale. With several objectives,
hypervolumes are measured on the warped scale, the reference point (given, or inferred as in
:func:`acquisitions.pareto.infer_reference_point`) mapped there too: the warp spreads out the
values near the front that a long tail of poor trials would otherwise squeeze together (on ZDT1,
median hypervolume gap 0.055 warped vs 0.38 unwarped, 5 seeds; see the several-objectives note).

**Multi-fidelity.** With a :class:`Fidelity` (a column such as training steps, whose upper bound is
the full run), the GP models (configuration, fidelity) jointly: the fidelity is one more input with
its own lengthscale, so short runs inform the prediction of full ones as far as the data show
they agree. "mfkg" picks both the configuration and the fidelity by the knowledge gradient of the
best posterior mean *at the full fidelity* per unit of cost, cost = ``overhead`` + fidelity /
full fidelity (Wu et al., "Practical Multi-fidelity Bayesian Optimization for Hyperparameter
Tuning", UAI 2019; BoTorch's ``qMultiFidelityKnowledgeGradient``). :func:`rank` orders the
evaluated configurations by their posterior mean at the full fidelity (the first is the
recommendation).

With constraints, and before any feasible observation, every step first asks whether CONFIG's
optimistic feasible set is empty (``min_x max_i LCB_i(x) > 0`` at the declaration multiplier,
after at least ``Settings.min_infeasible_observations`` constraint observations);
if so the problem is declared infeasible (:class:`Infeasibility`) and the step evaluates the
point most likely to be feasible instead.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import math
import numbers
import threading
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import torch
from botorch.acquisition import AcquisitionFunction
from botorch.generation.gen import _process_scipy_result, gen_candidates_scipy
from botorch.models import ModelListGP
from botorch.optim import optimize_acqf
from botorch.optim.batched_lbfgs_b import fmin_l_bfgs_b_batched
from botorch.optim.initializers import gen_batch_initial_conditions, initialize_q_batch
from botorch.optim.optimize_mixed import optimize_acqf_mixed_alternating
from botorch.utils.sampling import draw_sobol_samples
from scipy.stats import qmc
from threadpoolctl import ThreadpoolController

from acquisitions.config import ConfigAcquisition, ConstraintLCB, config_beta, log_constrained_ei
from acquisitions.ei import ClosedFormAcquisition, log_ei, log_nei
from acquisitions.kg import current_best_mean, knowledge_gradient
from acquisitions.pareto import (
    MAX_HV_OBJECTIVES,
    LogEHVI,
    SampledLogEHVI,
    acquisition_reference_point,
    log_ehvi,
    log_nehvi,
    parego,
)
from hpo.errors import HPOValueError
from hpo.space import SearchSpace
from hpo.surrogate import LeanGP, OutputWarp, SurrogateCache, fit_model, noise_ratio

__all__ = [
    "Settings",
    "Suggestion",
    "Infeasibility",
    "Fidelity",
    "rank",
    "ACQUISITIONS",
    "AUTO_CONSTRAINED",
    "suggest",
    "column_limits",
    "clip_to_limits",
    "initial_design",
    "default_n_startup",
    "MIN_DISTANCE",
]

# BoTorch draws initial conditions from torch's global generator; hpo seeds it inside
# ``torch.random.fork_rng`` (which restores the caller's state afterwards) and serialises engine
# steps with this lock so threads (Optuna's n_jobs) cannot interleave their seeds.
_ENGINE_LOCK = threading.RLock()


@dataclass(frozen=True)
class Settings:
    """Engine settings; every field is checked on construction.

    Attributes:
        acquisition: "auto" or a key of :data:`ACQUISITIONS`.
        n_startup: Completed trials drawn from the scrambled Sobol design before the model is
            used; None -> :func:`default_n_startup` of the dimension.
        num_restarts: Starting points of the acquisition optimiser (L-BFGS-B or, with discrete
            columns, BoTorch's alternating mixed optimiser).
        raw_samples: Quasi-random points scored to pick those starting points.
        mc_samples: Quasi-MC samples of the MC acquisitions (pending points, noisy EI).
        noise_threshold: Noise-to-signal standard deviation ratio above which "auto" treats the
            observations as noisy.
        kg_fantasies: Fantasy samples of the knowledge gradient.
        beta: CONFIG's squared confidence multiplier as a function of (round t, dimension d);
            default :func:`acquisitions.config.config_beta`.
        infeasible_root_beta: Confidence multiplier (not squared) of the infeasibility
            declaration; at least the search's own. 3 means a constraint is taken as violated
            everywhere only where its lower 99.87% bound is above 0.
        min_infeasible_observations: Constraint observations needed before a declaration. A GP
            fitted to a handful of nearly equal values is overconfident: with the tension spring's
            constraints log-warped, 6 observations (all ~1) "proved" infeasibility of a feasible
            problem; on Gardner's second problem (feasible on a few percent of the box) 12
            infeasible observations did once (seed 7). Before this many, the probe still aims
            at feasibility but declares nothing.
        num_threads: torch's intra-op threads and numpy's and SciPy's BLAS threads during a
            step (restored afterwards). hpo's matrices are small (n <= a few hundred), where
            threads cost more than they give: one thread was 10x faster than two for a 40-point,
            2-objective step with another process busy on the second core, and no slower on an
            idle machine (see the several-objectives issue's note). None leaves both alone.
    """

    acquisition: str = "auto"
    n_startup: int | None = None
    num_restarts: int = 10
    raw_samples: int = 512
    mc_samples: int = 128
    noise_threshold: float = 0.2
    kg_fantasies: int = 32
    beta: Callable[[int, int], float] = config_beta
    infeasible_root_beta: float = 3.0
    min_infeasible_observations: int = 20
    num_threads: int | None = 1

    def __post_init__(self) -> None:
        allowed = ("auto", *ACQUISITIONS)
        if self.acquisition not in allowed:
            raise HPOValueError(f"`acquisition` must be one of {allowed}, but got {self.acquisition!r}.")
        if self.n_startup is not None and (
            isinstance(self.n_startup, bool) or not isinstance(self.n_startup, int) or self.n_startup < 1
        ):
            raise HPOValueError(f"`n_startup >= 1` must hold, but got n_startup={self.n_startup!r}.")
        for name in ("num_restarts", "raw_samples", "mc_samples", "kg_fantasies", "min_infeasible_observations"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise HPOValueError(f"`{name} >= 1` must hold, but got {name}={value!r}.")
        if not 0.0 < self.noise_threshold < 1.0:
            raise HPOValueError(f"`0 < noise_threshold < 1` must hold, but got {self.noise_threshold!r}.")
        if not callable(self.beta):
            raise HPOValueError(f"`beta` must be a function (t, d) -> float, but got {self.beta!r}.")
        if self.num_threads is not None and (
            isinstance(self.num_threads, bool) or not isinstance(self.num_threads, int) or self.num_threads < 1
        ):
            raise HPOValueError(f"`num_threads >= 1` (or None) must hold, but got num_threads={self.num_threads!r}.")
        if not self.infeasible_root_beta > 0:
            raise HPOValueError(f"`infeasible_root_beta > 0` must hold, but got {self.infeasible_root_beta!r}.")


@dataclass(frozen=True)
class Fidelity:
    """A fidelity column: the resources a trial spends (e.g. training steps); more is more accurate.

    Attributes:
        column: The encoded column of the fidelity parameter (an ``Int`` or ``Float``, linear or
            log); its upper bound is the target fidelity (the full run).
        overhead: The fixed cost of a trial besides its fidelity, in units of a full run's cost
            (start-up, evaluation). It keeps the cheapest fidelity from looking free.
    """

    column: int
    overhead: float = 0.05

    def __post_init__(self) -> None:
        if isinstance(self.column, bool) or not isinstance(self.column, int) or self.column < 0:
            raise HPOValueError(f"`column >= 0` must hold, but got column={self.column!r}.")
        if not (isinstance(self.overhead, (int, float)) and 0.0 <= self.overhead < math.inf):
            raise HPOValueError(f"`overhead >= 0` must hold, but got overhead={self.overhead!r}.")

    @classmethod
    def of(cls, space: SearchSpace, name: str, overhead: float = 0.05) -> Fidelity:
        """The fidelity parameter ``name`` of ``space``; raises unless it is an ``Int`` or ``Float``
        of the space with ``0 < low < high``."""
        if name not in space:
            raise HPOValueError(f"`fidelity` must name a parameter of the space {list(space)}, but got {name!r}.")
        fidelity = cls(column=space.names.index(name), overhead=overhead)
        fidelity.check(space)
        return fidelity

    def check(self, space: SearchSpace) -> None:
        """Raise unless the column is a numeric parameter of ``space`` with a positive range."""
        if self.column >= len(space):
            raise HPOValueError(f"the fidelity column {self.column} is outside the {len(space)}-column space.")
        name = space.names[self.column]
        param = space[name]
        if not hasattr(param, "log") or not param.low < param.high or param.low <= 0:
            raise HPOValueError(
                f"the fidelity parameter must be an Int or Float with 0 < low < high, but got {name}={param!r}."
            )

    def cost(self, space: SearchSpace):
        """The cost model ``batch x q x d -> batch x q x 1``: overhead + fidelity / full fidelity."""
        from botorch.models.deterministic import GenericDeterministicModel

        j, log = self.column, space[space.names[self.column]].log
        top = float(space.bounds[1, j])

        def cost(X: torch.Tensor) -> torch.Tensor:
            v = X[..., j : j + 1]
            return self.overhead + (torch.exp(v - top) if log else v / top)

        return GenericDeterministicModel(cost, num_outputs=1)

    def target(self, space: SearchSpace) -> dict[int, float]:
        """Column -> encoded target (full) fidelity."""
        return {self.column: float(space.bounds[1, self.column])}


@dataclass(frozen=True)
class Infeasibility:
    """Evidence that no configuration is feasible.

    Attributes:
        min_max_lcb: ``min_x max_i LCB_i(x)`` at multiplier ``root_beta``: positive means every
            point violates some constraint even by its optimistic (lower) bound.
        x: The encoded point attaining it, the most likely to be feasible (``d``-dim).
        root_beta: The confidence multiplier used.
        n_observations: Observations of the constraints behind the declaration.
    """

    min_max_lcb: float
    x: np.ndarray
    root_beta: float
    n_observations: int


@dataclass(frozen=True)
class Suggestion:
    """The engine's answer.

    Attributes:
        x: The ``d``-dim encoded point to evaluate, on the space's grids and within its bounds.
        acquisition: What chose it ("ei", "nei", "kg", "config", "cei", or "feasibility" when
            the problem is declared infeasible).
        infeasible: The evidence, when the problem is declared infeasible; else None.
    """

    x: np.ndarray
    acquisition: str
    infeasible: Infeasibility | None = None


def default_n_startup(d: int) -> int:
    """Sobol points before the model takes over: ``2d``, at least 5 and at most 10."""
    return int(min(10, max(5, 2 * d)))


def initial_design(space: SearchSpace, *, seed: int, index: int) -> np.ndarray:
    """Point ``index`` of the space's scrambled Sobol sequence for ``seed``: a ``d``-dim array.

    Point ``index`` depends only on (seed, index), so parallel workers asking for different trial
    numbers get different, well-spread points.
    """
    sobol = qmc.Sobol(d=len(space), scramble=True, rng=np.random.default_rng(seed))
    if index:
        sobol.fast_forward(index)
    return space.sample_unit(sobol.random(1))[0]


@dataclass(frozen=True)
class _Step:
    """What an acquisition builder may use. Tensors are float64.

    model: objective GP(s) on (train_X, train_Y); train_Y is the warped objective (``n x 1``)
    or, with m objectives, the objectives as given (``n x m``, larger is better).
    constraint_model: GP(s) of the constraints, or None; feasible_Y, feasible_X: train_Y's and
    train_X's rows of the feasible observations (``f x m``, ``f x d``; maybe empty; all rows
    without constraints).
    X_pending: ``p x d`` or None.
    ref_point: the hypervolume's reference point (``m``), with several objectives.
    """

    model: object
    constraint_model: object | None
    n_constraints: int
    train_X: torch.Tensor
    train_Y: torch.Tensor
    feasible_Y: torch.Tensor
    feasible_X: torch.Tensor
    X_pending: torch.Tensor | None
    bounds: torch.Tensor
    settings: Settings
    seed: int
    ref_point: torch.Tensor | None = None
    cost_model: object | None = None  # with a fidelity: batch x q x d -> batch x q x 1
    target: dict[int, float] | None = None  # with a fidelity: column -> encoded full fidelity


def _ei(s: _Step) -> AcquisitionFunction:
    return log_ei(LeanGP(s.model), best_f=s.train_Y.max(), X_pending=s.X_pending, mc_samples=s.settings.mc_samples, seed=s.seed)


def _nei(s: _Step) -> AcquisitionFunction:
    return log_nei(
        LeanGP(s.model), X_baseline=s.train_X, X_pending=s.X_pending, mc_samples=s.settings.mc_samples, seed=s.seed
    )


def _kg(s: _Step) -> AcquisitionFunction:
    """The knowledge gradient; with a fidelity (``s.cost_model``, ``s.target``) the cost-aware
    multi-fidelity one, its current value and fantasy maxima judged at the target fidelity. The
    closed-form fantasies read only the joint posterior: the lean GP's (see acquisitions.kg)."""
    model = LeanGP(s.model)
    current = current_best_mean(
        model, s.bounds, fixed_features=s.target, num_restarts=s.settings.num_restarts,
        raw_samples=s.settings.raw_samples,
    )
    return knowledge_gradient(
        model, current_value=current, num_fantasies=s.settings.kg_fantasies, X_pending=s.X_pending, seed=s.seed,
        cost_model=s.cost_model, target_fidelities=s.target,
    )


def _mfkg(s: _Step) -> AcquisitionFunction:
    if s.cost_model is None:
        raise HPOValueError("acquisition 'mfkg' needs a fidelity parameter (Tuner(fidelity=...)).")
    return _kg(s)


def _believe(model, X_pending: torch.Tensor | None):
    """Kriging believer: condition on the posterior mean at pending points, shrinking the
    uncertainty there so an optimistic acquisition does not pick them again."""
    if X_pending is None:
        return model
    models = model.models if isinstance(model, ModelListGP) else [model]
    believed = []
    for m in models:
        with torch.no_grad():
            mean = m.posterior(X_pending).mean
        believed.append(m.condition_on_observations(X=m.transform_inputs(X_pending), Y=mean))
    return believed[0] if len(believed) == 1 else ModelListGP(*believed)


def _config(s: _Step) -> AcquisitionFunction:
    beta = float(s.settings.beta(max(1, len(s.train_X)), s.train_X.shape[-1]))
    span = float(s.train_Y.max() - s.train_Y.min())
    floor = float(s.train_Y.min()) - 10.0 * span - 1.0  # below every UCB inside the feasible set
    return ConfigAcquisition(
        _believe(s.model, s.X_pending), _believe(s.constraint_model, s.X_pending), beta=beta, floor=floor
    )


def _cei(s: _Step) -> AcquisitionFunction:
    # Without a feasible observation yet, the incumbent is the worst value, so EI x PoF is led by
    # the probability of feasibility.
    best = s.feasible_Y.max() if len(s.feasible_Y) else s.train_Y.min()
    cmodels = s.constraint_model.models if isinstance(s.constraint_model, ModelListGP) else [s.constraint_model]
    joint = ModelListGP(s.model, *cmodels)
    if s.X_pending is None:
        return log_constrained_ei(joint, best_f=best, n_constraints=s.n_constraints)
    constraints = [lambda Z, i=i: Z[..., i] for i in range(1, s.n_constraints + 1)]
    return log_ei(
        joint,
        best_f=best,
        X_pending=s.X_pending,
        constraints=constraints,
        objective_index=0,
        mc_samples=s.settings.mc_samples,
        seed=s.seed,
    )


def _joint(s: _Step):
    """Objective and constraint models as one model list, and the constraints as callables on
    its samples (outputs ``m .. m + k - 1``), or None without constraints."""
    m = s.train_Y.shape[-1]
    models = s.model.models if isinstance(s.model, ModelListGP) else [s.model]
    if s.constraint_model is None:
        return (s.model if m == 1 else ModelListGP(*models)), None
    cmodels = s.constraint_model.models if isinstance(s.constraint_model, ModelListGP) else [s.constraint_model]
    return ModelListGP(*models, *cmodels), [lambda Z, i=i: Z[..., m + i] for i in range(s.n_constraints)]


def _ehvi(s: _Step, front: Callable | None = None) -> AcquisitionFunction:
    """Log EHVI over the front of ``front(model)`` (an ``f x m`` Tensor), by default the observed
    feasible values.

    With three or more objectives and no pending points it is computed in closed form
    (:class:`LogEHVI`, on the lean posteriors); with two and no pending points by BoTorch's MC
    form evaluated on the lean posteriors (:class:`SampledLogEHVI`: the same values, per trial
    0.43 -> 0.13 s on BraninCurrin at 40 trials); with pending points by BoTorch's MC form
    itself, which scores them jointly with the candidate. Measured on one machine (budget 50, 10 seeds,
    median hypervolume gap, MC form -> closed form): VehicleSafety 4.94 -> 4.30 (Optuna's
    GPSampler 4.37), DTLZ2 m=3 0.480 -> 0.479, at 1.6-2.0 -> 0.30-0.43 s per trial. With two
    objectives the closed form was 2-3x faster too but did worse: ZDT3 left 5 of 10 runs stuck at
    15.2 (the front's last piece never reached; median 12.2 against 7.2, Optuna 8.4 on 5 seeds),
    DTLZ2 0.167 against 0.153 (BraninCurrin, ZDT1, ZDT2 as before). Where both forms' optimisers
    were compared on one ask, they agreed to 1e-3 where the improvement is not negligible and
    differed in the local optimum they reached; the MC form's smoothing, which floors its log
    values near -40, also flattens the small bumps between nearby observations (ZDT3, 40 trials:
    -4.06 for its choice against -5.84 for the closed form's, 0.03 apart). Not understood
    further; so two objectives keep the MC form."""
    model, constraints = _joint(s)
    Y = s.feasible_Y if front is None else front(model)
    m = s.train_Y.shape[-1]
    if s.X_pending is None:
        lean = [LeanGP(g) for g in model.models] if isinstance(model, ModelListGP) else [LeanGP(model)]
        if m >= 3:
            return LogEHVI(lean[:m], ref_point=s.ref_point, Y=Y, constraints=lean[m:])
        return SampledLogEHVI(
            lean[:m], ref_point=s.ref_point, Y=Y, constraints=lean[m:], mc_samples=s.settings.mc_samples, seed=s.seed
        )
    return log_ehvi(
        model, ref_point=s.ref_point, Y=Y, n_objectives=m, constraints=constraints,
        X_pending=s.X_pending, mc_samples=s.settings.mc_samples, seed=s.seed,
    )


def _nehvi(s: _Step) -> AcquisitionFunction:
    model, constraints = _joint(s)
    return log_nehvi(
        model, ref_point=s.ref_point, X_baseline=s.train_X, n_objectives=s.train_Y.shape[-1],
        constraints=constraints, X_pending=s.X_pending, mc_samples=s.settings.mc_samples, seed=s.seed,
    )


def _mean_ehvi(s: _Step) -> AcquisitionFunction:
    """Log EHVI over the Pareto front of the posterior mean at the (feasible) observed points: the
    noise-free stand-in for NEHVI with one box decomposition instead of one per MC sample. With
    three objectives NEHVI's decompositions cost ~12 s per ask at 30 trials (DTLZ2), this ~4 s
    in its MC form (now in closed form, a fraction of a second); DTLZ2 m=3's median gap at 50
    trials was 0.68 against NEHVI's 0.66 (5 seeds; seed noise, see the several-objectives note)."""

    def posterior_mean(model) -> torch.Tensor:
        with torch.no_grad():
            return model.posterior(s.feasible_X).mean[..., : s.train_Y.shape[-1]]

    return _ehvi(s, posterior_mean)


def _parego(s: _Step) -> AcquisitionFunction:
    model, constraints = _joint(s)
    return parego(
        model, Y=s.train_Y, X_baseline=s.train_X, n_objectives=s.train_Y.shape[-1], constraints=constraints,
        X_pending=s.X_pending, mc_samples=s.settings.mc_samples, seed=s.seed,
    )


@dataclass(frozen=True)
class _Acquisition:
    build: Callable[[_Step], AcquisitionFunction]
    constrained: bool  # handles black-box constraints
    one_shot: bool = False  # optimised jointly with its inner maximisers (continuous relaxation)
    multi_objective: bool = False  # scores several objectives (and only then applies)


ACQUISITIONS: dict[str, _Acquisition] = {
    "ei": _Acquisition(_ei, constrained=False),
    "nei": _Acquisition(_nei, constrained=False),
    "kg": _Acquisition(_kg, constrained=False, one_shot=True),
    "mfkg": _Acquisition(_mfkg, constrained=False, one_shot=True),
    "config": _Acquisition(_config, constrained=True),
    "cei": _Acquisition(_cei, constrained=True),
    "ehvi": _Acquisition(_ehvi, constrained=True, multi_objective=True),
    "nehvi": _Acquisition(_nehvi, constrained=True, multi_objective=True),
    "mean-ehvi": _Acquisition(_mean_ehvi, constrained=True, multi_objective=True),
    "parego": _Acquisition(_parego, constrained=True, multi_objective=True),
}
# Chosen by the constrained benchmark (see the KG/CONFIG issue's note).
AUTO_CONSTRAINED = "cei"


_MAX_DISCRETE_VALUES = 20
# Local starts: the best observed points, each perturbed by this fraction of the range.
_N_INCUMBENTS = 2
_LOCAL_WIDTH = 0.01
# Constraint columns beyond this magnitude are scaled down before modelling (see _check).
_HUGE = 1e100
MIN_DISTANCE = 1e-2
"""No suggestion lies closer than this to a pending point (``SearchSpace.unit_distance``)."""
# A noise-free problem's suggestion closer than this to an observation repeats it (see _optimize).
_DUPLICATE = 1e-6


def _optimize(
    acqf: AcquisitionFunction,
    space: SearchSpace,
    settings: Settings,
    *,
    relax: bool = False,
    incumbents: torch.Tensor | None = None,
    avoid: torch.Tensor | None = None,
    start_floor: float | None = None,
    limits: Mapping[int, tuple[float, float]] | None = None,
    seed: int = 0,
) -> torch.Tensor:
    """Maximise ``acqf`` over the space; returns a ``1 x d``-dim Tensor of encoded values.

    Discrete and categorical columns go to BoTorch's alternating mixed optimiser unless ``relax``,
    in which case every column is optimised continuously and the caller rounds.

    ``incumbents`` (a ``k x d``-dim Tensor, the best observed points) add local starts: each is
    perturbed by 1% of the range in its continuous columns, and L-BFGS-B starts there besides
    the usual best-of-``raw_samples`` starts (on a mixed space: with the incumbent's discrete and
    categorical values held, and the better of that and the mixed optimiser's answer wins). Late
    in a run the acquisition's maximum is a narrow peak beside the incumbent, which random starts
    rarely land on (Optuna's GPSampler likewise starts from its best trials).

    ``avoid`` (a ``n x d``-dim Tensor, the observed points of a noise-free problem): on a
    continuous space, the best local optimum of the restarts farther than ``_DUPLICATE`` from every
    row wins over a better one that repeats an observation (if there is one). Re-evaluating a
    deterministic objective teaches nothing, yet a GP's small fitted noise leaves a little
    posterior spread at observed points, and near a hypervolume's heavy ends that alone can score
    above the rest: on ZDT1 one run spent 28 of its last 35 trials re-evaluating one end of the
    front and never reached the other (see the several-objectives note).

    ``start_floor`` (continuous spaces): see :func:`_starts`.

    ``limits`` (:func:`column_limits`): columns kept within ``[low, high]`` (their bounds and
    grids narrowed, so every start lies within); a column with ``low == high`` is held at that
    value (BoTorch's ``fixed_features``).
    """
    limits = dict(limits or {})
    bounds = torch.as_tensor(space.bounds, dtype=torch.float64)
    for j, (low, high) in limits.items():
        bounds[0, j], bounds[1, j] = low, high
    categorical = space.categorical_dims
    grids = {j: [v for v in values if bounds[0, j] <= v <= bounds[1, j]] for j, values in space.discrete_dims.items()}
    fixed = {j: low for j, (low, high) in limits.items() if low == high}
    # Grids finer than _MAX_DISCRETE_VALUES are optimised as continuous and rounded afterwards:
    # BoTorch's discrete local search over them took ~27 s a step on the pressure-vessel problem
    # (two 161-value grids, four constraints) against ~1 s relaxed (see the KG/CONFIG issue's note).
    discrete = {j: v for j, v in grids.items() if len(v) <= _MAX_DISCRETE_VALUES and j not in fixed}
    local = None
    if incumbents is not None and len(incumbents) and not relax:
        generator = torch.Generator().manual_seed(seed)
        held = torch.zeros(bounds.shape[-1], dtype=torch.bool)
        held[[*discrete, *categorical]] = True
        width = torch.where(held, 0.0, (bounds[1] - bounds[0]) * _LOCAL_WIDTH)
        local = incumbents + width * torch.randn(incumbents.shape, generator=generator, dtype=torch.float64)
        local = torch.minimum(torch.maximum(local, bounds[0]), bounds[1]).unsqueeze(1)
    if (discrete or categorical) and not relax:
        X, value = optimize_acqf_mixed_alternating(
            acqf,
            bounds=bounds,
            discrete_dims=discrete or None,
            cat_dims=categorical or None,
            q=1,
            num_restarts=settings.num_restarts,
            raw_samples=settings.raw_samples,
            # BoTorch's default of 64 alternations cost ~30% more time for the same optimum on
            # the mixed benchmark problem (measured, see the core issue's note).
            options={"maxiter_alternating": 16},
            fixed_features=fixed or None,
        )
        for start in [] if local is None else local:
            held_here = {int(j): float(start[0, j]) for j in [*discrete, *categorical]} | fixed
            Xl, vl = optimize_acqf(
                acqf, bounds=bounds, q=1, num_restarts=1, raw_samples=None,
                batch_initial_conditions=start.unsqueeze(0), fixed_features=held_here, options={"maxiter": 200},
                gen_candidates=_generator(acqf),
            )
            if float(vl) > float(value):
                X, value = Xl, vl
    else:
        starts = None
        if local is not None or start_floor is not None:
            starts = _starts(acqf, bounds, settings, start_floor)
        if local is not None:
            starts = torch.cat([starts[: max(1, settings.num_restarts - len(local))], local])
        X, values = optimize_acqf(
            acqf,
            bounds=bounds,
            q=1,
            num_restarts=settings.num_restarts if starts is None else len(starts),
            raw_samples=settings.raw_samples if starts is None else None,
            batch_initial_conditions=starts,
            options={"maxiter": 200},
            fixed_features=fixed or None,
            return_best_only=False,
            gen_candidates=_generator(acqf),
        )
        X = _best_new(X.detach().reshape(len(X), -1), values.detach().reshape(-1), space, avoid)
    fine = {j: v for j, v in grids.items() if j not in discrete and j not in fixed}
    if fine and not relax:
        X = _snap_to_grids(acqf, X.detach().reshape(1, -1), bounds, fine, held=[*discrete, *categorical, *fixed])
    return X.detach().reshape(1, -1)


def _generator(acqf: AcquisitionFunction) -> Callable:
    """The candidate generator for ``optimize_acqf``: :func:`_gen_closed_form` for a
    :class:`ClosedFormAcquisition`, else BoTorch's ``gen_candidates_scipy``. (BoTorch's mixed
    optimiser, ``optimize_acqf_mixed_alternating``, always uses its own.)"""
    return _gen_closed_form if isinstance(acqf, ClosedFormAcquisition) else gen_candidates_scipy


def _gen_closed_form(
    initial_conditions: torch.Tensor,
    acquisition_function: AcquisitionFunction,
    lower_bounds: torch.Tensor | None = None,
    upper_bounds: torch.Tensor | None = None,
    options: Mapping | None = None,
    fixed_features: Mapping[int, float] | None = None,
    timeout_sec: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """BoTorch's ``gen_candidates_scipy`` (its batched L-BFGS-B from ``initial_conditions``, ``b
    x 1 x d``, with ``fixed_features`` held) for an acquisition with a closed-form
    ``value_and_grad`` (a :class:`ClosedFormAcquisition`): each evaluation without autograd or
    BoTorch's per-call wrapping, which took about half of the optimiser's time (Hartmann6, asks
    at 10-30 trials: 58 ms an ask, of which ~20 ms autograd's backward and ~7 ms wrapping).
    Returns the candidates (``b x 1 x d``) and their values (``b``), as BoTorch's does;
    ``timeout_sec`` (BoTorch's interface) must be None."""
    if timeout_sec is not None:
        raise HPOValueError(
            f"the closed-form candidate generator has no time limit, but got timeout_sec={timeout_sec}."
        )
    X0 = initial_conditions.detach().clone()
    d = X0.shape[-1]
    fixed = dict(fixed_features or {})
    free = [j for j in range(d) if j not in fixed]
    for j, value in fixed.items():
        X0[..., j] = value
    low = lower_bounds[free] if lower_bounds is not None else torch.full((len(free),), -math.inf, dtype=X0.dtype)
    high = upper_bounds[free] if upper_bounds is not None else torch.full((len(free),), math.inf, dtype=X0.dtype)
    x0 = torch.minimum(torch.maximum(X0[:, 0, free], low), high)

    def negated(x: np.ndarray, batch_indices: list[int]) -> tuple[np.ndarray, np.ndarray]:
        X = torch.from_numpy(x).reshape(len(batch_indices), len(free))
        if fixed:
            full = X0[batch_indices, 0].clone()
            full[:, free] = X
            X = full
        value, grad = acquisition_function.value_and_grad(X)
        return -value.numpy(), -(grad[:, free] if fixed else grad).numpy()

    options = {"maxiter": 2000, **(options or {})}
    xs, _, results = fmin_l_bfgs_b_batched(
        negated, x0.numpy(), bounds=list(zip(low.tolist(), high.tolist())), pass_batch_indices=True, **options
    )
    for result in results:
        _process_scipy_result(res=result, options=options)
    X = X0.clone()
    X[:, 0, free] = torch.minimum(torch.maximum(torch.from_numpy(xs).reshape(len(X), len(free)), low), high)
    with torch.no_grad():
        return X, acquisition_function(X)


def _starts(acqf: AcquisitionFunction, bounds: torch.Tensor, settings: Settings, floor: float | None) -> torch.Tensor:
    """``num_restarts x 1 x d`` starting points for L-BFGS-B, chosen among ``raw_samples``
    quasi-random points.

    Without ``floor``: BoTorch's choice, with probability growing as ``exp`` of the standardised
    acquisition value. With ``floor`` (an acquisition's ``start_floor``, as :class:`LogEHVI`'s):
    the best half of the starts are the best raw points (as Optuna's GPSampler starts from its
    best preliminary samples), the rest BoTorch's choice among the others, their values more than
    ``floor`` below the best raw point's counted as that much below. The closed form reaches -1e4
    where an improvement is all but impossible, a handful of such values inflates the standard
    deviation, and every reasonable point then looks alike: BoTorch's choice alone was as good as
    random. VehicleSafety, 12 asks after 20-40 trials: it found a worse optimum than the MC form
    (whose smoothing floors its values near -40) in 5 of 8 asks with the floor alone and in 6 of
    8 with a sharper choice (eta = 2); with the best half, in none of 12.
    """
    if floor is None:
        return gen_batch_initial_conditions(
            acqf, bounds, q=1, num_restarts=settings.num_restarts, raw_samples=settings.raw_samples
        )
    X = draw_sobol_samples(bounds=bounds, n=settings.raw_samples, q=1, seed=int(torch.randint(0, 2**31 - 1, ())))
    with torch.no_grad():
        values = acqf(X)
    order = torch.argsort(values, descending=True, stable=True)
    best, others = order[: settings.num_restarts // 2], order[settings.num_restarts // 2 :]
    n = min(settings.num_restarts - len(best), len(others))  # fewer raw points than restarts: all
    if n < 1:
        return X[best]
    chosen, _ = initialize_q_batch(X[others], values[others].clamp_min(values[order[0]] - floor), n)
    return torch.cat([X[best], chosen])


def _best_new(X: torch.Tensor, values: torch.Tensor, space: SearchSpace, avoid: torch.Tensor | None) -> torch.Tensor:
    """The row of ``X`` (``r x d``, the restarts' optima) with the largest value, among those
    farther than ``_DUPLICATE`` from every row of ``avoid`` when there are any; ``1 x d``."""
    order = torch.argsort(values, descending=True, stable=True)
    if avoid is not None and len(avoid):
        new = space.unit_distance(X.numpy(), avoid.numpy()) > _DUPLICATE
        if new.any():
            order = order[torch.as_tensor(new)[order]]
    return X[order[:1]]


def _snap_to_grids(
    acqf: AcquisitionFunction, X: torch.Tensor, bounds: torch.Tensor, grids: dict[int, list[float]], held: list[int]
) -> torch.Tensor:
    """Move a relaxed optimum ``X`` (``1 x d``) onto the fine grids, by the acquisition.

    For every combination of the grid values just below and above X in each gridded column (at
    most 2^6 combinations; beyond that the nearest values only), the other continuous columns are
    re-optimised with the gridded ones (and ``held`` columns) fixed; the best combination wins.
    Plain rounding can land on a point the model already knows is bad (on the pressure-vessel
    problem it rounded a shell thickness down into the infeasible side 20 times in a row).
    """
    options = []
    for j, values in grids.items():
        grid = torch.tensor(values, dtype=torch.float64)
        below, above = grid[grid <= X[0, j]], grid[grid >= X[0, j]]
        near = {float(below.max()) if len(below) else float(grid.min()), float(above.min()) if len(above) else float(grid.max())}
        options.append(sorted(near))
    if len(grids) > 6:
        options = [[min(o, key=lambda v, j=j: abs(v - float(X[0, j])))] for o, j in zip(options, grids)]
    best, best_value = None, -math.inf
    for combo in itertools.product(*options):
        fixed = {j: v for j, v in zip(grids, combo)} | {j: float(X[0, j]) for j in held}
        start = X.clone()
        for j, v in fixed.items():
            start[0, j] = v
        if len(fixed) == X.shape[-1]:
            with torch.no_grad():
                candidate, value = start, acqf(start.unsqueeze(0))
        else:
            candidate, value = optimize_acqf(
                acqf, bounds=bounds, q=1, num_restarts=1, raw_samples=None,
                batch_initial_conditions=start.unsqueeze(0), fixed_features=fixed, options={"maxiter": 50},
                gen_candidates=_generator(acqf),
            )
        if float(value) > best_value:
            best, best_value = candidate.detach().reshape(1, -1), float(value)
    return best


def column_limits(space: SearchSpace, ranges: Mapping[int, tuple[float, float]] | None) -> dict[int, tuple[float, float]]:
    """Checked ranges of encoded columns, ``{column: (low, high)}`` (``low == high`` holds the
    column at that value), for :func:`suggest`'s ``limits``: each column of ``space``, ``low <=
    high`` within its bounds, a categorical column held at one choice; on a grid, the range
    narrowed to the grid values it contains (at least one). Raises naming the rule otherwise."""
    out = {}
    lo, hi = space.bounds
    grids = space.discrete_dims
    for j, pair in (ranges or {}).items():
        if isinstance(j, bool) or not isinstance(j, numbers.Integral) or not 0 <= j < len(space):
            raise HPOValueError(f"`limits` must map columns 0..{len(space) - 1} to ranges, but got column {j!r}.")
        low, high = (float(v) for v in pair)
        if not lo[j] <= low <= high <= hi[j]:
            raise HPOValueError(f"`limits` column {j} must be low <= high within [{lo[j]}, {hi[j]}], but got ({low}, {high}).")
        if j in space.categorical_dims and low != high:
            raise HPOValueError(f"`limits` can only hold the categorical column {j} at one choice, but got ({low}, {high}).")
        if j in grids:
            inside = [v for v in grids[j] if low - 1e-9 <= v <= high + 1e-9]
            if not inside:
                raise HPOValueError(f"`limits` column {j} must contain a value of its grid, but got ({low}, {high}).")
            low, high = inside[0], inside[-1]
        out[int(j)] = (low, high)
    return out


def clip_to_limits(x: np.ndarray, limits: Mapping[int, tuple[float, float]]) -> np.ndarray:
    """``x`` (a ``d``-dim encoded point, changed in place and returned) with each column of
    ``limits`` (:func:`column_limits`) clipped into its range: for points not chosen within them,
    such as a Sobol design's or the feasibility probe's."""
    for j, (low, high) in limits.items():
        x[j] = min(max(x[j], low), high)
    return x


def _check(space: SearchSpace, X, Y, C, X_pending):
    d = len(space)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != d or len(X) == 0:
        raise HPOValueError(f"X must be a non-empty n x {d} array, but got shape {X.shape}.")
    Y = np.asarray(Y, dtype=np.float64).reshape(len(X), -1)
    if Y.shape[1] == 0:
        raise HPOValueError("Y must have a column per objective, but got 0 columns.")
    if not np.all(np.isfinite(Y)):
        raise HPOValueError("Y must be finite (failed trials are imputed by the caller), but got NaN/inf.")
    if C is not None:
        C = np.asarray(C, dtype=np.float64).reshape(len(X), -1)
        if np.isinf(C).any():
            raise HPOValueError("constraint values must be finite or NaN (unknown), but got inf.")
        if C.shape[1] == 0 or np.isnan(C).any(axis=1).all():
            C = None
        else:
            # A column reaching past _HUGE in magnitude is divided by its largest magnitude, which
            # keeps every sign (hence feasibility) and keeps the GP's standardisation from overflowing.
            peak = np.nanmax(np.abs(C), axis=0)
            C = C / np.where(peak > _HUGE, peak, 1.0)
    P = None
    if X_pending is not None and len(X_pending):
        P = np.asarray(X_pending, dtype=np.float64).reshape(-1, d)
    return X, Y, C, P


def suggest(
    space: SearchSpace,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    C: np.ndarray | None = None,
    X_pending: np.ndarray | None = None,
    settings: Settings = Settings(),
    seed: int = 0,
    cache: SurrogateCache | None = None,
    ref_point: np.ndarray | None = None,
    fidelity: Fidelity | None = None,
    limits: Mapping[int, tuple[float, float]] | None = None,
) -> Suggestion:
    """Fit the surrogates and maximise the acquisition: the next point to evaluate.

    Args:
        space: The search space.
        X: A ``n x d`` array of encoded completed points (``n >= 1``).
        Y: A ``n x m`` array of their objective values, larger is better, all finite.
        C: A ``n x k`` array of constraint values (feasible where ``<= 0``; NaN where unknown,
            e.g. failed trials), or None for an unconstrained problem.
        X_pending: A ``p x d`` array of encoded points still being evaluated, or None.
        settings: Engine settings.
        seed: Seeds the initial conditions and the quasi-MC samples.
        cache: Warm-start state of the surrogates, updated in place.
        ref_point: With several objectives, the ``m``-dim hypervolume reference point (larger
            is better, like Y); None infers it from the feasible observations
            (:func:`acquisitions.pareto.acquisition_reference_point`; with two objectives, half
            the front's range below its nadir).
        fidelity: The fidelity column, for multi-fidelity optimisation (one objective, no
            constraints; the acquisition is "mfkg").
        limits: ``{column: (low, high)}`` of encoded values (:func:`column_limits`): columns kept
            within these ranges while the rest is optimised freely; ``low == high`` holds a
            column at a value, e.g. the fidelity at the full run's (then "mfkg" is the knowledge
            gradient at full fidelity: its cost is the same everywhere). A one-shot knowledge
            gradient keeps its fantasy solutions there too.

    Returns:
        The :class:`Suggestion`.
    """
    X, Y, C, P = _check(space, X, Y, C, X_pending)
    limits = column_limits(space, limits)
    m = Y.shape[1]
    name = settings.acquisition
    if fidelity is not None:
        fidelity.check(space)
        if m > 1 or C is not None:
            raise HPOValueError("multi-fidelity optimisation takes one objective and no constraints.")
        if name not in ("auto", "mfkg"):
            raise HPOValueError(f"with a fidelity parameter, `acquisition` must be 'auto' or 'mfkg', but got {name!r}.")
        name = "mfkg"
    elif name == "mfkg":
        raise HPOValueError("acquisition 'mfkg' needs a fidelity parameter (Tuner(fidelity=...)).")
    if name != "auto" and ACQUISITIONS[name].multi_objective != (m > 1):
        allowed = ["auto", *(k for k, a in ACQUISITIONS.items() if a.multi_objective == (m > 1))]
        raise HPOValueError(f"with {m} objective(s), `acquisition` must be one of {allowed}, but got {name!r}.")
    if C is not None and name != "auto" and not ACQUISITIONS[name].constrained:
        allowed = ["auto", *(k for k, a in ACQUISITIONS.items() if a.constrained and not a.multi_objective)]
        raise HPOValueError(f"the problem has constraints, so `acquisition` must be one of {allowed}, but got {name!r}.")
    if ref_point is not None:
        ref_point = np.asarray(ref_point, dtype=np.float64).reshape(-1)
        if m == 1 or len(ref_point) != m or not np.all(np.isfinite(ref_point)):
            raise HPOValueError(f"`ref_point` must be {m} finite values, one per objective, but got {ref_point!r}.")
    cache = cache if cache is not None else SurrogateCache()
    with _model_step(settings, seed):
        bounds, cat_dims = _tensor(space.bounds), sorted(space.categorical_dims)
        warp = OutputWarp.fit(Y)
        train_X, train_Y = _tensor(X), _tensor(warp(Y))
        labels = ["objective"] if m == 1 else [f"objective {j}" for j in range(m)]
        model = fit_model(train_X, train_Y, bounds=bounds, cat_dims=cat_dims, cache=cache, labels=labels)
        cmodel, k, feasible_X, feasible_Y = None, 0, train_X, train_Y
        if C is not None:
            known = ~np.isnan(C).any(axis=1)
            k = C.shape[1]
            cmodel = fit_model(
                train_X[known], _tensor(C[known]), bounds=bounds, cat_dims=cat_dims, cache=cache,
                labels=[f"constraint {i}" for i in range(k)],
            )
            feasible = known & (np.nan_to_num(C, nan=1.0) <= 0).all(axis=1)
            feasible_X, feasible_Y = train_X[torch.as_tensor(feasible)], train_Y[torch.as_tensor(feasible)]
            if not feasible.any():
                probe = _feasibility_probe(cmodel, space, settings, n=int(known.sum()))
                if probe is not None:
                    clip_to_limits(probe.x, limits)  # the declaration is about the problem; the point obeys
                    return probe
        noisy = noise_ratio(model) > settings.noise_threshold
        if name == "auto":
            if m > MAX_HV_OBJECTIVES:
                name = "parego"
            elif m > 1:
                name = ("nehvi" if m == 2 else "mean-ehvi") if noisy else "ehvi"
            elif C is not None:
                name = AUTO_CONSTRAINED
            else:
                name = "nei" if noisy else "ei"
        step = _Step(
            model=model, constraint_model=cmodel, n_constraints=k, train_X=train_X, train_Y=train_Y,
            feasible_Y=feasible_Y, feasible_X=feasible_X, X_pending=None if P is None else _tensor(P), bounds=bounds,
            settings=settings, seed=seed,
            ref_point=None if m == 1 else _reference(None if ref_point is None else warp(ref_point), train_Y, feasible_Y),
            cost_model=None if fidelity is None else fidelity.cost(space),
            target=None if fidelity is None else fidelity.target(space),
        )
        entry = ACQUISITIONS[name]
        incumbents = _incumbents(feasible_X, feasible_Y)
        acqf = entry.build(step)
        continuous = not space.discrete_dims and not space.categorical_dims
        x = _optimize(
            acqf, space, settings, relax=entry.one_shot, incumbents=incumbents,
            avoid=train_X if continuous and not noisy else None, start_floor=getattr(acqf, "start_floor", None),
            limits=limits, seed=seed,
        )
        x = torch.as_tensor(space.round(x.numpy()), dtype=torch.float64)
        if step.X_pending is not None:
            x = _away_from_pending(None if entry.one_shot else acqf, x, space, step.X_pending, limits=limits, seed=seed)
    return Suggestion(x=x.numpy()[0], acquisition=name)


def rank(
    space: SearchSpace,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    fidelity: Fidelity | None = None,
    settings: Settings = Settings(),
    seed: int = 0,
    cache: SurrogateCache | None = None,
    candidates: np.ndarray | None = None,
) -> np.ndarray:
    """The evaluated configurations by posterior mean, best first, at the full fidelity if one is
    given: a ``k x d`` array of distinct encoded points (``k <= n``); row 0 is the recommendation.
    ``candidates`` (``c x d``) restricts them, e.g. to those not failed (default: ``X``).

    With a fidelity, every evaluated configuration is moved to the full fidelity and judged by the
    model there: the recommendation is made at full fidelity even if that configuration only ran
    short. Without one, the posterior mean smooths noisy observations (the best observed value of
    a noisy problem is biased low). ``X``, ``Y`` as in :func:`suggest` (one objective, larger is
    better).
    """
    X, Y, _, _ = _check(space, X, Y, None, None)
    if Y.shape[1] != 1:
        raise HPOValueError(f"rank() takes one objective, but Y has {Y.shape[1]} columns.")
    cache = cache if cache is not None else SurrogateCache()
    candidates = (X if candidates is None else np.asarray(candidates, dtype=np.float64).reshape(-1, X.shape[1])).copy()
    if fidelity is not None:
        fidelity.check(space)
        for j, v in fidelity.target(space).items():
            candidates[:, j] = v
    candidates = np.unique(candidates, axis=0)
    with _model_step(settings, seed):
        model = fit_model(
            _tensor(X), _tensor(OutputWarp.fit(Y)(Y)), bounds=_tensor(space.bounds),
            cat_dims=sorted(space.categorical_dims), cache=cache, labels=["objective"],
        )
        with torch.no_grad():
            mean = model.posterior(_tensor(candidates)).mean.reshape(-1)
    return candidates[np.argsort(-mean.numpy(), kind="stable")]


def _away_from_pending(
    acqf: AcquisitionFunction | None, x: torch.Tensor, space: SearchSpace, X_pending: torch.Tensor, *,
    limits: Mapping[int, tuple[float, float]], seed: int,
) -> torch.Tensor:
    """``x`` (``1 x d``), unless it lies within ``MIN_DISTANCE`` of a pending point: then the best of
    512 scrambled-Sobol points that do not (by ``acqf``; for a one-shot acquisition such as KG,
    whose inputs carry fantasy points, None: the one farthest from the pending points), within the
    ``limits``.

    Where the acquisition is flat (late in a run, or far from the data) its maximiser can be the
    pending point itself, often a corner of the box; two workers would then train the same
    configuration (seen with 4 workers on Hartmann6, see the scale-out note).
    """
    pending = X_pending.numpy()
    if space.unit_distance(x.numpy(), pending)[0] >= MIN_DISTANCE:
        return x
    sobol = qmc.Sobol(d=len(space), scramble=True, rng=np.random.default_rng([seed, 17]))
    candidates = space.sample_unit(sobol.random(512))
    lo, hi = space.bounds
    for j, (low, high) in limits.items():  # the Sobol points' column mapped into its range
        share = (candidates[:, j] - lo[j]) / (hi[j] - lo[j]) if hi[j] > lo[j] else 0.0
        candidates[:, j] = low + share * (high - low)
    candidates = space.round(candidates)
    gaps = space.unit_distance(candidates, pending)
    candidates, gaps = candidates[gaps >= MIN_DISTANCE], gaps[gaps >= MIN_DISTANCE]
    if not len(candidates):
        return x
    candidates = torch.as_tensor(candidates, dtype=torch.float64)
    if acqf is None:
        values = torch.as_tensor(gaps)
    else:
        with torch.no_grad():
            values = acqf(candidates.unsqueeze(1))
    return candidates[int(torch.argmax(values))].unsqueeze(0)


def _incumbents(X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor | None:
    """The local starts of :func:`_optimize`: the ``_N_INCUMBENTS`` best rows of ``X`` with one
    objective; with several, the best row for each objective (the ends of the observed front, where
    a hypervolume gains most and random starts rarely reach). None without (feasible) rows."""
    if not len(Y):
        return None
    if Y.shape[-1] == 1:
        return X[torch.argsort(Y[:, 0], descending=True)[:_N_INCUMBENTS]]
    return X[torch.unique(Y.argmax(dim=0))]


def _tensor(a) -> torch.Tensor:
    return torch.as_tensor(a, dtype=torch.float64)


@contextlib.contextmanager
def _model_step(settings: Settings, seed: int):
    """The frame of every step that fits models: one step at a time (``_ENGINE_LOCK``), torch's
    threads as set, the global generator seeded inside ``fork_rng`` (restored after), and the
    libraries' numerical warnings silenced (the fallback chain reports what matters)."""
    with _ENGINE_LOCK, _threads(settings.num_threads), torch.random.fork_rng(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"(botorch|gpytorch|linear_operator)\b")
        torch.manual_seed(seed)
        yield


@contextlib.contextmanager
def _threads(n: int | None):
    """torch's intra-op threads and the BLAS threads of numpy and SciPy (OpenBLAS, via
    threadpoolctl) set to ``n`` for the block, then restored.

    The BLAS libraries matter as much as torch: the fit's ``dpotri`` (SciPy's LAPACK) woke a second
    OpenBLAS thread even at 30 points, and with the other core busy (a training run) a 30-point
    ``_factorise`` took 1.1-1.3 ms on average (0.07 ms median) against 0.12 ms on one thread, and a
    Branin ask at 10-30 trials 0.54 s against 0.12 s. One thread also makes the suggestions
    independent of the machine's core count."""
    before = torch.get_num_threads()
    if n is not None and n != before:
        torch.set_num_threads(n)
    try:
        with contextlib.nullcontext() if n is None else _blas_controller().limit(limits=n, user_api="blas"):
            yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


@functools.cache
def _blas_controller() -> ThreadpoolController:
    """The BLAS libraries loaded (numpy's and SciPy's), found once: finding them costs ~7 ms, a
    limit through the controller ~0.01 ms. Called under ``_ENGINE_LOCK``."""
    return ThreadpoolController()


def _reference(ref_point: np.ndarray | None, train_Y: torch.Tensor, feasible_Y: torch.Tensor) -> torch.Tensor:
    if ref_point is not None:
        return torch.as_tensor(ref_point, dtype=torch.float64)
    return acquisition_reference_point(feasible_Y if len(feasible_Y) else train_Y)


def _feasibility_probe(cmodel, space: SearchSpace, settings: Settings, *, n: int) -> Suggestion | None:
    """Before any feasible observation: declare infeasibility, or aim at feasibility, or pass.

    Finds x* = argmin_x max_i LCB_i(x) at the declaration multiplier. If the minimum is above 0
    and there are at least ``Settings.min_infeasible_observations`` constraint observations, the
    problem is declared infeasible and x* (the point most likely to be feasible) is returned.
    If x* is infeasible even by the search's own (smaller) multiplier, the search's optimistic
    set is (almost surely) empty too, and x* is returned as the most useful evaluation: it
    tightens the evidence where the declaration hinges. Otherwise None: the acquisition decides.
    """
    d = len(space)
    beta_t = float(settings.beta(max(1, n), d))
    root = max(settings.infeasible_root_beta, beta_t**0.5)
    x = _optimize(ConstraintLCB(cmodel, beta=root**2), space, settings)
    x = torch.as_tensor(space.round(x.numpy()), dtype=torch.float64)
    with torch.no_grad():
        strict = -float(ConstraintLCB(cmodel, beta=root**2)(x.unsqueeze(0)))
        search = -float(ConstraintLCB(cmodel, beta=beta_t)(x.unsqueeze(0)))
    if strict > 0.0 and n >= settings.min_infeasible_observations:
        evidence = Infeasibility(min_max_lcb=strict, x=x.numpy()[0], root_beta=root, n_observations=n)
        return Suggestion(x=evidence.x, acquisition="feasibility", infeasible=evidence)
    if search > 0.0 or strict > 0.0:
        return Suggestion(x=x.numpy()[0], acquisition="feasibility")
    return None
