"""``OptunaSampler``: hpo's engine as an ``optuna.samplers.BaseSampler``.

    study = optuna.create_study(sampler=hpo.OptunaSampler(seed=0))

What the sampler reads from the study, per trial:
    COMPLETE trials          observations (values, one per direction; minimised objectives are
                             negated for the engine)
                             and constraints (``trial.set_constraint`` or ``constraints_func``;
                             feasible where <= 0)
    FAIL / PRUNED trials     imputed with the worst completed value (per objective), so the model
                             learns the region is bad (a NaN objective makes Optuna mark it FAIL);
                             a stale trial queued again by Optuna's RetryHeartbeatStaleTrialCallback
                             is left out, its retry pending in its place
    RUNNING trials           pending points: the next candidate is chosen jointly with them, so
                             parallel workers (threads, processes, machines) spread out
Multi-objective studies (several directions) use noisy expected hypervolume improvement, or
ParEGO beyond four objectives (:mod:`acquisitions.pareto`).
Parameters outside the joint search space (conditional parameters) are sampled independently,
at random from a generator seeded by (seed, trial number, name), with one warning per name.

``ForecastPruner`` stops a trial early when its reported learning curve, forecast to the full
run (:func:`hpo.proxy.forecast`), is hopeless against the best complete trial; the reason is
stored with the trial (as ``Tuner.tell(..., reason=)`` stores it).

When the engine declares a constrained problem infeasible, the evidence is stored in the study
(system attribute ``hpo:infeasible``, so a resumed run or another worker sees it), a warning is
issued once, and sampling goes on where feasibility is most likely. A feasible observation
withdraws the declaration.
"""

from __future__ import annotations

import json
import math
import threading
import warnings
import zlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution
from optuna.pruners import BasePruner
from optuna.samplers import BaseSampler
from optuna.samplers._base import _process_constraints_after_trial
from optuna.search_space import IntersectionSearchSpace
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

from hpo.engine import (
    MIN_DISTANCE, Fidelity, Settings, clip_to_limits, column_limits, default_n_startup, initial_design, suggest,
)
from hpo.errors import HPOValueError, HPOWarning, check_int
from hpo.proxy import MIN_POINTS, should_stop
from hpo.space import SearchSpace
from hpo.surrogate import SurrogateCache

__all__ = ["OptunaSampler", "ForecastPruner", "INFEASIBLE_KEY", "WITHIN_KEY"]

# Why a trial failed or was stopped early: a system attribute, as Optuna cannot record a reason.
_REASON_KEY = "hpo:fail_reason"
# Relative params are published on the running trial so other processes see them as pending.
_PENDING_KEY = "hpo:relative_params"
INFEASIBLE_KEY = "hpo:infeasible"
# An enqueued trial's user attribute: {parameter: [low, high]}, ranges its ask keeps within.
WITHIN_KEY = "hpo:within"
_MAX_REDRAWS = 2
# Optuna's RetryHeartbeatStaleTrialCallback records on a retry the stale trials it stands for.
_RETRY_HISTORY = "retry_history"


def _derive_seed(*parts: int) -> int:
    return int(np.random.SeedSequence([int(p) & 0xFFFFFFFF for p in parts]).generate_state(1)[0])


class OptunaSampler(BaseSampler):
    """Gaussian-process Bayesian optimisation for Optuna studies.

    Args:
        seed: Seed of every random choice; the suggestion for trial n is a function of
            (seed, n, study history). None draws a seed from the OS.
        acquisition: "auto" or a key of :data:`hpo.engine.ACQUISITIONS` ("ei", "nei", "kg",
            "config", "cei"; "ehvi", "nehvi", "mean-ehvi", "parego" for several objectives).
        n_startup: Completed trials from the Sobol design before the model is used;
            None -> ``min(10, max(5, 2 * dim))``.
        search_space: A fixed joint search space (an :class:`hpo.SearchSpace`, a dict of hpo
            parameters, or Optuna distributions). None infers the intersection of the completed
            trials' spaces, as Optuna's own samplers do.
        settings: Full engine settings; use instead of ``acquisition``/``n_startup`` for the rest.
        constraints_func: Optuna's ``constraints_func(frozen_trial) -> sequence of floats``
            (feasible where <= 0), evaluated after each trial; ``trial.set_constraint`` values
            are read as well.
        ref_point: For multi-objective studies, the worst value of each objective that still
            counts (the hypervolume's reference point), in the objectives' own units and
            directions. None infers it from the data (:func:`acquisitions.pareto.infer_reference_point`).
        fidelity: The name of a numeric parameter that sets a trial's resources (e.g. training
            steps; its upper bound is the full run) for multi-fidelity optimisation: the sampler
            picks the configuration and the fidelity by cost-aware multi-fidelity knowledge
            gradient (:mod:`hpo.engine`). The Sobol design runs at the lowest fidelity, with
            every fourth trial at the full one so the model sees how the two relate: the first
            a Sobol point, the later ones the best short run so far (:func:`_promotion`).
        fidelity_overhead: A trial's fixed cost besides its fidelity, in full runs.

    A trial enqueued with some of the parameters (``study.enqueue_trial({"steps": 300})``,
    :meth:`hpo.Tuner.enqueue`) has the others chosen with those held at their values; one
    enqueued with ranges (:meth:`hpo.Tuner.enqueue`'s ``within``, stored in the trial's user
    attribute ``WITHIN_KEY``) has those parameters chosen within them.
    """

    def __init__(
        self,
        *,
        seed: int | None = None,
        acquisition: str = "auto",
        n_startup: int | None = None,
        search_space: SearchSpace | dict | None = None,
        settings: Settings | None = None,
        constraints_func: Callable[[FrozenTrial], Sequence[float]] | None = None,
        ref_point: Sequence[float] | None = None,
        fidelity: str | None = None,
        fidelity_overhead: float = 0.05,
    ) -> None:
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise HPOValueError(f"`seed` must be an int or None, but got {seed!r}.")
        if settings is None:
            settings = Settings(acquisition=acquisition, n_startup=n_startup)
        elif acquisition != "auto" or n_startup is not None:
            raise HPOValueError("give either `settings` or `acquisition`/`n_startup`, not both.")
        self._settings = settings
        if constraints_func is not None and not callable(constraints_func):
            raise HPOValueError(f"`constraints_func` must be callable, but got {constraints_func!r}.")
        self._constraints_func = constraints_func
        if ref_point is not None:
            try:
                ref_point = [float(v) for v in ref_point]
            except (TypeError, ValueError):
                raise HPOValueError(f"`ref_point` must be a sequence of numbers, but got {ref_point!r}.") from None
            if not all(math.isfinite(v) for v in ref_point) or len(ref_point) < 2:
                raise HPOValueError(f"`ref_point` must hold >= 2 finite numbers, one per objective, but got {ref_point!r}.")
        self._ref_point = ref_point
        if fidelity is not None and not isinstance(fidelity, str):
            raise HPOValueError(f"`fidelity` must be a parameter name or None, but got {fidelity!r}.")
        self._fidelity, self._fidelity_overhead = fidelity, fidelity_overhead
        self._seed = int(seed) if seed is not None else int(np.random.SeedSequence().generate_state(1)[0])
        self._space = SearchSpace(search_space) if search_space is not None else None
        if fidelity is not None and self._space is not None:
            self._fidelity_of(self._space)  # a bad fidelity fails here, not at the first trial
        self._intersection = IntersectionSearchSpace()
        self._caches: dict[tuple, SurrogateCache] = {}
        self._warned: set[str] = set()
        self._lock = threading.RLock()
        self.last_acquisition: str | None = None

    def __getstate__(self) -> dict[str, Any]:
        # Picklable (Ray Tune checkpoints its searcher, joblib ships samplers): the lock is
        # recreated, and the warm-start caches, only an optimisation, start empty.
        state = self.__dict__.copy()
        state["_lock"], state["_caches"] = None, {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    @property
    def seed(self) -> int:
        return self._seed

    @property
    def settings(self) -> Settings:
        return self._settings

    def reseed_rng(self) -> None:
        # Suggestions are already distinct per trial number (the seed is derived from it), so
        # Optuna's reseeding for n_jobs > 1 is not needed and would break reproducibility.
        pass

    # Search space
    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        if self._space is not None:
            return self._space.to_optuna()
        space = self._intersection.calculate(study)
        return {k: d for k, d in sorted(space.items()) if not d.single()}

    # Sampling
    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        # An enqueued trial (Tuner.enqueue, study.enqueue_trial) takes its queued values: no model
        # fit. A partly enqueued one has the rest chosen with the queued values held.
        queued = trial.system_attrs.get("fixed_params", {})
        if not search_space or set(search_space) <= set(queued):
            return {}
        signs = _signs(study)
        ref_point = None
        if self._ref_point is not None:
            if len(self._ref_point) != len(signs):
                raise HPOValueError(
                    f"`ref_point` must have one value per direction ({len(signs)}), but got {self._ref_point!r}."
                )
            ref_point = signs * np.array(self._ref_point)
        space = SearchSpace.from_optuna(search_space)
        limits = _queued_limits(space, queued, trial.user_attrs.get(WITHIN_KEY) or {})
        # Reading the history, choosing and publishing happen under one lock, so a thread (n_jobs)
        # always sees the point another thread just chose as pending.
        # Processes sharing a storage have no common lock: two that read the history at the same
        # moment choose the same point. So each publishes its choice, then looks again; if another
        # running trial has published (nearly) the same point meanwhile, it chooses again with that
        # one pending (at most _MAX_REDRAWS times). 4 workers on one study without this: three
        # trials within 4e-7 of each other right after the Sobol phase (see the scale-out note).
        with self._lock:
            for attempt in range(_MAX_REDRAWS + 1):
                trials = study._get_trials(deepcopy=False, use_cache=False)
                X, Y, C, X_pending = self._history(study, space, trials, skip=trial.number)
                n_startup = self._settings.n_startup or default_n_startup(len(space))
                fidelity = self._fidelity_of(space)
                if len(X) < n_startup:
                    x = initial_design(space, seed=self._seed, index=trial.number)  # distinct per number
                    self.last_acquisition = "sobol"
                    if fidelity is not None:
                        j = fidelity.column
                        x[j] = space.bounds[1 if trial.number % 4 == 3 else 0, j]
                        # (A promotion is a full run: not where the queue limits the fidelity.)
                        if trial.number % 4 == 3 and trial.number > 3 and j not in limits:
                            promoted = _promotion(X, Y, X_pending, space, fidelity)
                            if promoted is not None:
                                x, self.last_acquisition = promoted, "promotion"
                    clip_to_limits(x, limits)  # the design's point, within the queue's limits
                else:
                    cache = self._caches.setdefault((study._study_id, tuple(search_space.items())), SurrogateCache())
                    result = suggest(
                        space, X, Y, C=C, X_pending=X_pending, settings=self._settings,
                        seed=_derive_seed(self._seed, trial.number, *([attempt] if attempt else [])), cache=cache,
                        ref_point=ref_point, fidelity=fidelity, limits=limits,
                    )
                    x, self.last_acquisition = result.x, result.acquisition
                    self._record_infeasibility(study, trial, space, result.infeasible, C)
                params = space.decode(x)
                study._storage.set_trial_system_attr(trial._trial_id, _PENDING_KEY, json.dumps(params))
                if self.last_acquisition == "sobol" or not self._clashes(study, trial, space, x):
                    break
        return params

    def _fidelity_of(self, space: SearchSpace) -> Fidelity | None:
        return None if self._fidelity is None else Fidelity.of(space, self._fidelity, self._fidelity_overhead)

    def _clashes(self, study: Study, trial: FrozenTrial, space: SearchSpace, x: np.ndarray) -> bool:
        """Whether another running trial has published a point within ``MIN_DISTANCE`` of ``x``."""
        running = study._get_trials(deepcopy=False, use_cache=False, states=(TrialState.RUNNING,))
        others = [e for t in running if t.number != trial.number and (e := _encoded(t, space)) is not None]
        return bool(others) and space.unit_distance(x[None, :], np.array(others))[0] < MIN_DISTANCE

    def _record_infeasibility(self, study: Study, trial: FrozenTrial, space: SearchSpace, evidence, C) -> None:
        storage, key = study._storage, INFEASIBLE_KEY
        stored = storage.get_study_system_attrs(study._study_id).get(key)
        if evidence is None:
            if stored is not None and C is not None and (np.nan_to_num(C, nan=1.0) <= 0).all(axis=1).any():
                storage.set_study_system_attr(study._study_id, key, None)  # a feasible point was found
            return
        record = {
            "trial": trial.number,
            "min_max_lcb": evidence.min_max_lcb,
            "root_beta": evidence.root_beta,
            "n_observations": evidence.n_observations,
            "most_likely_feasible": space.decode(evidence.x),
        }
        storage.set_study_system_attr(study._study_id, key, record)
        warn_key = f"infeasible-{study._study_id}"
        if warn_key not in self._warned and stored is None:
            self._warned.add(warn_key)
            warnings.warn(
                f"study {study.study_name!r} is declared infeasible after {evidence.n_observations} "
                f"constraint observations: even optimistically (lower bound at {evidence.root_beta:.2g} "
                f"standard deviations) some constraint is violated everywhere, by at least "
                f"{evidence.min_max_lcb:.4g}. Sampling continues where feasibility is most likely.",
                HPOWarning,
                stacklevel=2,
            )

    def _history(
        self, study: Study, space: SearchSpace, trials: Sequence[FrozenTrial], *, skip: int | None = None,
        failures: bool = True,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
        """Encoded completed points ``n x d``, objectives ``n x m`` (larger is better), constraints
        ``n x k`` (NaN where unknown) or None, pending points ``p x d``; trial number ``skip`` (the
        one being sampled) left out. Failed trials are rows at the worst value seen, last, unless
        ``failures`` is False; a stale trial queued again (Optuna's retry of a trial whose process
        stopped beating) is left out: its retry stands for it, pending until told."""
        signs, fidelity = _signs(study), self._fidelity_of(space)
        retried = {n for t in trials for n in t.system_attrs.get(_RETRY_HISTORY, ())}
        done, bad, pending = [], [], []
        for t in trials:
            if t.number == skip or t.number in retried or (x := _encoded(t, space)) is None:
                continue
            if t.state == TrialState.COMPLETE and t.values is not None and all(map(math.isfinite, t.values)):
                done.append((x, signs * np.array(t.values), t.constraints))
            elif t.state == TrialState.PRUNED and (early := _stopped_early(t, x, space, fidelity)) is not None:
                done.append((early, signs * np.array([t.intermediate_values[max(t.intermediate_values)]]), {}))
            elif t.state in (TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED):
                bad.append(x)
            elif t.state in (TrialState.RUNNING, TrialState.WAITING):
                pending.append(x)
        d = len(space)
        X = np.array([x for x, _, _ in done]).reshape(-1, d)
        Y = np.array([y for _, y, _ in done]).reshape(-1, len(signs))
        names = sorted({k for _, _, c in done for k in c}, key=_constraint_order)
        C = None
        if names:
            C = np.array([[c.get(k, np.nan) for k in names] for _, _, c in done], dtype=np.float64).reshape(-1, len(names))
        if len(done) and bad and failures:
            # Failures are data: the worst value seen marks the region as bad without
            # stretching the output scale the way a large penalty would. Their constraints
            # are unknown (NaN), so the constraint models skip them.
            X = np.vstack([X, np.array(bad)])
            Y = np.vstack([Y, np.tile(Y.min(axis=0), (len(bad), 1))])
            if C is not None:
                C = np.vstack([C, np.full((len(bad), C.shape[1]), np.nan)])
        return X, Y, C, np.array(pending).reshape(-1, d)

    def after_trial(
        self, study: Study, trial: FrozenTrial, state: TrialState, values: Sequence[float] | None
    ) -> None:
        if self._constraints_func is not None:
            _process_constraints_after_trial(self._constraints_func, study, trial, state)

    def sample_independent(
        self, study: Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        if param_name not in self._warned and any(
            t.state == TrialState.COMPLETE for t in study._get_trials(deepcopy=False, use_cache=True)
        ):
            self._warned.add(param_name)
            warnings.warn(
                f"parameter {param_name!r} is outside the joint search space (conditional or dynamic); "
                f"OptunaSampler samples it independently at random (trial {trial.number}).",
                HPOWarning,
                stacklevel=2,
            )
        space = SearchSpace.from_optuna({param_name: param_distribution})
        rng = np.random.default_rng([self._seed, trial.number, zlib.crc32(param_name.encode())])
        return space.decode(space.sample_unit(rng.random((1, 1)))[0])[param_name]


def _signs(study: Study) -> np.ndarray:
    """+1 for maximised and -1 for minimised objectives: the engine maximises ``signs * values``."""
    return np.array([-1.0 if d == StudyDirection.MINIMIZE else 1.0 for d in study.directions])


def _constraint_order(key: str) -> tuple[int, str]:
    """Constraints named "0", "1", ... (positional) sort numerically, before named ones."""
    return (int(key), "") if key.isdigit() else (1 << 30, key)


def _encoded(trial: FrozenTrial, space: SearchSpace) -> np.ndarray | None:
    """The trial's point in ``space``'s encoding, or None if it lacks a parameter of the space or
    has a value outside it (e.g. a narrowed space)."""
    params = _params_of(trial)
    if not all(k in params for k in space):
        return None
    try:
        return space.encode({k: params[k] for k in space})
    except HPOValueError:
        return None


def _queued_limits(space: SearchSpace, queued: Mapping[str, Any], within: Mapping[str, Sequence]) -> dict:
    """:func:`hpo.engine.column_limits` of a trial's queued values (held) and ranges (``within``,
    ``{name: [low, high]}``), parameters outside ``space`` left out."""
    ranges = space.encode_ranges({k: pair for k, pair in within.items() if k in space and k not in queued})
    held = space.encode_columns({k: v for k, v in queued.items() if k in space})
    return column_limits(space, ranges | {j: (v, v) for j, v in held.items()})


def _promotion(
    X: np.ndarray, Y: np.ndarray, X_pending: np.ndarray, space: SearchSpace, fidelity: Fidelity
) -> np.ndarray | None:
    """The best observed configuration (one objective) with neither an observation nor a pending
    trial at the full fidelity, moved to the full fidelity; None if there is none.

    The multi-fidelity design runs every fourth trial at the full fidelity: the first a Sobol
    point (the full runs' landscape), the later ones this configuration, as Hyperband promotes its
    best short runs. Short runs of a training task can favour other settings than full ones
    (larger learning rates: short-horizon bias), and a random configuration's full run mostly
    shows that a bad configuration stays bad; a good one's shows how the fidelities relate where
    it matters. Learning-rate schedules, 25 trials, 8 task seeds: median gap to full-run tuning
    0.22% against 0.91% with random full runs only (see the short-proxies issue's note). On a
    one-dimensional toy whose short runs favour another optimum (``tests/test_proxy.py``'s), the
    recommendation erred more when the design's only full run was a promotion (median distance
    to the optimum 0.13 against 0.02 after 14 trials, 10 seeds), hence the Sobol point first;
    with it first and a promotion second (10 design trials, 20 in all) 0.036 against 0.025.
    """
    j = fidelity.column
    top = space.bounds[1, j]
    rest = [i for i in range(len(space)) if i != j]
    full = np.vstack([X[X[:, j] == top], X_pending[X_pending[:, j] == top]])[:, rest]
    for i in np.argsort(-Y[:, 0], kind="stable"):
        if X[i, j] < top and not (full == X[i, rest]).all(axis=1).any():
            x = X[i].copy()
            x[j] = top
            return x
    return None


def _stopped_early(
    trial: FrozenTrial, x: np.ndarray, space: SearchSpace, fidelity: Fidelity | None
) -> np.ndarray | None:
    """A pruned trial of a multi-fidelity study is an observation at the fidelity it reached: its
    point with the fidelity column set to its last reported step, whose value is the observation.
    None when that does not apply (no fidelity, no finite report, a step outside the fidelity range)."""
    if fidelity is None or not trial.intermediate_values:
        return None
    step = max(trial.intermediate_values)
    if not math.isfinite(trial.intermediate_values[step]) or step <= 0:
        return None
    j = fidelity.column
    v = space[space.names[j]]._encode(step)
    lo, hi = space.bounds[:, j]
    if not lo <= v <= hi:
        return None
    out = x.copy()
    out[j] = v
    return out


def _params_of(trial: FrozenTrial) -> dict[str, Any]:
    """The trial's parameters; for a running trial also those chosen but not yet suggested."""
    if trial.state.is_finished():
        return trial.params
    published = trial.system_attrs.get(_PENDING_KEY)
    params = json.loads(published) if published else {}
    params.update(trial.params)
    return params


class ForecastPruner(BasePruner):
    """Optuna's pruner by learning-curve forecast: ``trial.should_prune()`` is True when the values
    the trial reported (``trial.report(value, step)``), forecast to step ``horizon`` by
    :func:`hpo.proxy.forecast`, are worse than the best complete trial by more than ``z``
    standard deviations, or the curve diverged (NaN, or far above where it started). The reason
    is stored with the trial (system attribute ``hpo:fail_reason``, ``Trial.reason`` in a
    :class:`~hpo.Tuner` on the study). It needs 5 reports to prune a diverged curve, 10 to prune
    on a forecast (:func:`hpo.proxy.should_stop`).

        study = optuna.create_study(sampler=hpo.OptunaSampler(seed=0), pruner=hpo.ForecastPruner(horizon=300))

    Unlike Optuna's median or successive-halving pruners, which compare trials at the same step,
    it compares where a run is heading with the best finished run: a run that learns slowly but
    is headed below the best goes on, and before a trial is complete nothing is pruned.

    Args:
        horizon: The full run's last step (in the units of ``report``'s ``step``).
        z: Standard deviations of the forecast by which it must be worse to prune.
    """

    def __init__(self, horizon: int, *, z: float = 2.0) -> None:
        self.horizon = check_int("horizon", horizon, 1)
        if isinstance(z, bool) or not isinstance(z, (int, float)) or not z >= 0 or not math.isfinite(z):
            raise HPOValueError(f"`z >= 0` (finite) must hold, but got z={z!r}.")
        self.z = float(z)

    def prune(self, study: Study, trial: FrozenTrial) -> bool:
        def best() -> float | None:  # (Optuna refuses reports in multi-objective studies: one direction)
            values = [
                t.value for t in study._get_trials(deepcopy=False, states=(TrialState.COMPLETE,), use_cache=True)
                if t.value is not None and math.isfinite(t.value)
            ]
            return None if not values else max(values) if study.direction == StudyDirection.MAXIMIZE else min(values)

        reason = _stop_reason(trial, study.direction, best, self.horizon, self.z)
        if reason:
            study._storage.set_trial_system_attr(trial._trial_id, _REASON_KEY, reason)
        return bool(reason)


def _stop_reason(
    trial: FrozenTrial, direction: StudyDirection, best: Callable[[], float | None], horizon: float, z: float
) -> str:
    """Why ``trial`` should stop (:func:`hpo.proxy.should_stop` on its reports against ``best()``,
    the best objective in the study's ``direction``), or "" to go on: also with fewer than
    ``MIN_POINTS`` reports (``best`` is not called then: this runs at every report) or no best
    yet. The one rule of ``Tuner.should_stop`` and :class:`ForecastPruner`."""
    steps = sorted(trial.intermediate_values)
    if len(steps) < MIN_POINTS:
        return ""
    value = best()
    if value is None:
        return ""
    sign = -1.0 if direction == StudyDirection.MAXIMIZE else 1.0
    losses = [sign * trial.intermediate_values[k] for k in steps]
    stop, reason = should_stop(losses, horizon, sign * value, steps=steps, z=z)
    return reason if stop else ""
