"""``Tuner``: ask()/tell() over an Optuna study and :class:`hpo.OptunaSampler`.

The Tuner is a thin facade: the study (and its storage) holds every trial, the sampler holds the
engine. Persistence is Optuna's: in memory by default, ``sqlite:///file.db`` to survive restarts,
any Optuna RDB URL (e.g. PostgreSQL) to share one study between machines.

Every check in :meth:`Tuner.tell` happens before anything is written, so a rejected call leaves
the stored study exactly as it was.
"""

from __future__ import annotations

import copy
import math
import numbers
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import optuna
import torch
from optuna.exceptions import DuplicatedStudyError, UpdateFinishedTrialError
from optuna.storages._heartbeat import is_heartbeat_enabled
from optuna.storages import BaseStorage, InMemoryStorage, RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from hpo.errors import DivergedError, HPOTypeError, HPOValueError, StorageError, TrialStateError, check_int
from acquisitions.pareto import non_dominated
from hpo.engine import Fidelity, column_limits, rank
from hpo.optuna import (
    _REASON_KEY, INFEASIBLE_KEY, WITHIN_KEY, OptunaSampler, _constraint_order, _signs, _stop_reason,
)
from hpo.space import Categorical, Param, SearchSpace, as_search_space

__all__ = ["Tuner", "Trial"]

_SPACE_KEY = "hpo:space"
_SEED_KEY = "hpo:seed"
_STEPS_KEY = "hpo:steps"
_FIDELITY_KEY = "hpo:fidelity"
_STATES = {"complete": TrialState.COMPLETE, "fail": TrialState.FAIL, "pruned": TrialState.PRUNED}
_OPEN_ATTEMPTS = 5
# Seconds a joining worker waits for the study's creator to store the space. Four workers starting
# together on 2 busy cores took more than 5 s between creating a SQLite study and storing its space.
_CREATION_WAIT = 60.0
_GRACE = 3  # heartbeats a running trial may miss before another process fails it as stale
STALE = "stale: "
"""How the reason of a trial failed as stale begins (its process stopped beating)."""


@dataclass(frozen=True)
class Trial:
    """One trial as the user sees it.

    Attributes:
        number: The trial's number in the study (0, 1, ...).
        params: Parameter values by name.
        state: "running", "complete", "fail", "pruned" or "waiting".
        values: Objective values (one per direction) once complete, else None.
        constraints: Constraint values (feasible where <= 0), or None.
        reason: Why the trial failed (or was stopped early), for failed and pruned trials.
        steps: The training steps it spent: as told (``tell(..., steps=)``), else its last
            :meth:`Tuner.report` step, else its fidelity parameter's value in a multi-fidelity
            study, else None.
    """

    number: int
    params: dict[str, Any]
    state: str = "running"
    values: tuple[float, ...] | None = None
    constraints: tuple[float, ...] | None = None
    reason: str | None = None
    steps: int | None = None

    @property
    def value(self) -> float | None:
        """The single objective value (single-objective studies)."""
        return None if self.values is None else self.values[0]

    @property
    def feasible(self) -> bool:
        return self.constraints is None or all(c <= 0.0 for c in self.constraints)


def _redact(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown without anything after '@'
        return url.split("@")[-1] if "@" in url else url


def _open_storage(storage: str | BaseStorage | None, heartbeat: int | None = None) -> BaseStorage:
    if heartbeat is not None:
        if isinstance(heartbeat, bool) or not isinstance(heartbeat, numbers.Integral) or heartbeat < 1:
            raise HPOValueError(f"`heartbeat` must be a whole number of seconds >= 1, but got {heartbeat!r}.")
        if not isinstance(storage, str):
            raise HPOValueError(
                "`heartbeat` needs a storage URL (sqlite:///... or postgresql://...), whose trials other "
                f"processes can find stale, but got storage={storage!r}."
            )
    if storage is None:
        return InMemoryStorage()
    if isinstance(storage, BaseStorage):
        return storage
    if not isinstance(storage, str):
        raise HPOTypeError(f"`storage` must be None, a URL string or an Optuna storage, but got {storage!r}.")
    kwargs = {} if heartbeat is None else {"heartbeat_interval": int(heartbeat), "grace_period": _GRACE * int(heartbeat)}
    for attempt in range(_OPEN_ATTEMPTS):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return RDBStorage(storage, **kwargs)
        except Exception as exc:  # noqa: BLE001 - SQLAlchemy/Optuna raise many types for a bad file
            # Workers starting together on a new database race to create its tables; the losers
            # see a unique-key violation or a lock, and find the tables made when they try again.
            transient = type(exc).__name__ in ("IntegrityError", "OperationalError", "ProgrammingError") and any(
                m in str(exc) for m in ("UNIQUE", "duplicate key", "already exists", "locked")
            )
            if transient and attempt + 1 < _OPEN_ATTEMPTS:
                time.sleep(0.2 * (attempt + 1))
                continue
            raise StorageError(
                f"cannot open storage {_redact(storage)!r}: {type(exc).__name__}: {str(exc).splitlines()[0]}"
            ) from None


def _directions(directions: str | Sequence[str]) -> list[str]:
    items = [directions] if isinstance(directions, str) else list(directions)
    if not items:
        raise HPOValueError("`directions` must name at least one direction, but got [].")
    for d in items:
        if d not in ("minimize", "maximize"):
            raise HPOValueError(f"each direction must be 'minimize' or 'maximize', but got {d!r}.")
    return items


def _check_numbers(name: str, values: Any, count: int | None) -> tuple[float, ...]:
    items = [values] if isinstance(values, numbers.Real) else values
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Sequence):
        raise HPOTypeError(f"`{name}` must be a number or a sequence of numbers, but got {values!r}.")
    out = []
    for v in items:
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise HPOTypeError(f"`{name}` must hold real numbers, but got {v!r} ({type(v).__name__}).")
        out.append(float(v))
    if count is not None and len(out) != count:
        raise HPOValueError(f"`{name}` must have {count} value(s), one per direction, but got {len(out)}: {values!r}.")
    return tuple(out)


class Tuner:
    """Bayesian optimisation with an ask/tell interface.

    Args:
        space: An :class:`hpo.SearchSpace` or a dict of ``hpo.Float``/``hpo.Int``/``hpo.Categorical``.
        directions: "minimize", "maximize", or a list of them (one per objective).
        acquisition: "auto", "ei", "nei", "kg", "config" or "cei"; "ehvi", "nehvi", "mean-ehvi" or "parego" with
            several objectives (see :mod:`hpo.engine`).
        storage: None (in memory), an Optuna storage URL such as ``sqlite:///study.db`` or
            ``postgresql://...``, or an Optuna storage object.
        study_name: The study's name; giving the name of an existing study resumes it (its search
            space and directions must match).
        seed: Seed of every random choice. None reuses a resumed study's seed, or draws one.
        n_startup: Trials from the Sobol design before the model is used (None: by dimension).
        ref_point: With several objectives, the worst value of each that still counts (the
            hypervolume's reference point), in the objectives' units; None infers it from the
            data (:func:`acquisitions.pareto.infer_reference_point`).
        heartbeat: Seconds between heartbeats of each running trial (needs a storage URL). A
            trial whose process stops beating for 3 heartbeats (killed, machine lost) is failed
            as stale by the next ``ask()`` of any process on the study, with that reason.
        retries: With ``heartbeat``, how many times a stale trial's parameters are queued again;
            the next ``ask()`` returns them before asking the model. The model takes a stale
            trial without a retry for a failure (a configuration can kill its process, e.g. out
            of memory) and one with a retry for pending until the retry is told.
        fidelity: For tuning with short training proxies: the name of the ``Int``/``Float``
            parameter that sets a trial's resources (training steps, epochs, data fraction);
            its upper bound is the full run. The tuner then chooses the configuration and the
            fidelity together by cost-aware multi-fidelity knowledge gradient, ``best_trial``
            counts only full-fidelity trials, and :meth:`recommend` names the configuration
            the model expects to be best at full fidelity (see :mod:`hpo.engine`).
        fidelity_overhead: A trial's fixed cost besides its fidelity, in full runs (0.05: a
            trial's set-up and evaluation cost 5% of a full run).

    Example:
        >>> tuner = Tuner({"x": Float(-1.0, 1.0)}, seed=0)
        >>> trial = tuner.ask()
        >>> tuner.tell(trial, trial.params["x"] ** 2).state
        'complete'
    """

    def __init__(
        self,
        space: SearchSpace | Mapping[str, Param],
        *,
        directions: str | Sequence[str] = "minimize",
        acquisition: str = "auto",
        storage: str | BaseStorage | None = None,
        study_name: str | None = None,
        seed: int | None = None,
        n_startup: int | None = None,
        ref_point: Sequence[float] | None = None,
        heartbeat: int | None = None,
        retries: int = 0,
        fidelity: str | None = None,
        fidelity_overhead: float = 0.05,
    ) -> None:
        self._space = as_search_space(space)
        if fidelity is not None:
            Fidelity.of(self._space, fidelity, fidelity_overhead)  # checked before any study is touched
        self._retries = check_int("retries", retries, 0)
        self._beats: dict[int, threading.Event] = {}
        dirs = _directions(directions)
        if ref_point is not None:
            ref_point = _check_numbers("ref_point", ref_point, len(dirs))
            if len(dirs) == 1 or not all(map(math.isfinite, ref_point)):
                raise HPOValueError(
                    f"`ref_point` must be finite values, one per objective of a multi-objective study, "
                    f"but got ref_point={list(ref_point)} for directions={dirs}."
                )
        if study_name is not None and not isinstance(study_name, str):
            raise HPOTypeError(f"`study_name` must be a string or None, but got {study_name!r}.")
        self._storage = _open_storage(storage, heartbeat)
        existing, created_id = self._existing_study(study_name), None
        if existing is None:
            try:
                created_id = self._storage.create_new_study(
                    [StudyDirection.MINIMIZE if d == "minimize" else StudyDirection.MAXIMIZE for d in dirs], study_name
                )
            except DuplicatedStudyError:  # another worker created it since we looked
                existing = optuna.load_study(study_name=study_name, storage=self._storage)
        if existing is not None:
            self._check_resume(existing, dirs, fidelity)
            if seed is None:
                seed = self._storage.get_study_system_attrs(existing._study_id).get(_SEED_KEY)
        self._fidelity = fidelity
        self._sampler = OptunaSampler(
            seed=seed, acquisition=acquisition, n_startup=n_startup, search_space=self._space, ref_point=ref_point,
            fidelity=fidelity, fidelity_overhead=fidelity_overhead,
        )
        if created_id is not None:
            # The seed first: a joining worker waits for the space (see _check_resume), then reads the seed.
            self._storage.set_study_system_attr(created_id, _SEED_KEY, self._sampler.seed)
            self._storage.set_study_system_attr(created_id, _FIDELITY_KEY, fidelity)
            self._storage.set_study_system_attr(created_id, _SPACE_KEY, self._space.to_json())
        study_id = existing._study_id if existing is not None else created_id
        self._study = optuna.load_study(
            study_name=self._storage.get_study_name_from_id(study_id), storage=self._storage, sampler=self._sampler
        )
        self._trials: dict[int, optuna.Trial] = {}

    def _existing_study(self, study_name: str | None) -> optuna.Study | None:
        if study_name is None:
            return None
        try:
            return optuna.load_study(study_name=study_name, storage=self._storage)
        except KeyError:
            return None

    def _check_resume(self, study: optuna.Study, dirs: list[str], fidelity: str | None) -> None:
        attrs = self._storage.get_study_system_attrs(study._study_id)
        # Another worker may have just created the study and not yet stored its space (Optuna creates a
        # study and its attributes in separate transactions): wait for it while the study is empty.
        start = time.monotonic()
        while (
            _SPACE_KEY not in attrs
            and time.monotonic() < start + _CREATION_WAIT
            and not study.get_trials(deepcopy=False)
        ):
            time.sleep(0.2)
            attrs = self._storage.get_study_system_attrs(study._study_id)
        waited = time.monotonic() - start
        stored = attrs.get(_SPACE_KEY)
        if stored is None:
            raise StorageError(
                f"study {study.study_name!r} exists but was not created by hpo.Tuner (no stored search "
                f"space after waiting {waited:.0f} s for a creator); use hpo.OptunaSampler with "
                "optuna.load_study for it."
            )
        if SearchSpace.from_json(stored) != self._space:
            raise StorageError(
                f"study {study.study_name!r} was created with a different search space: stored "
                f"{SearchSpace.from_json(stored)!r}, given {self._space!r}."
            )
        stored_dirs = ["minimize" if d == StudyDirection.MINIMIZE else "maximize" for d in study.directions]
        if stored_dirs != dirs:
            raise StorageError(f"study {study.study_name!r} has directions {stored_dirs}, but got {dirs}.")
        stored_fidelity = attrs.get(_FIDELITY_KEY)
        if stored_fidelity != fidelity:
            raise StorageError(
                f"study {study.study_name!r} was created with fidelity={stored_fidelity!r}, but got fidelity={fidelity!r}."
            )

    # Properties
    @property
    def study(self) -> optuna.Study:
        """The underlying Optuna study (for Optuna's tools: visualisation, dataframes)."""
        return self._study

    @property
    def space(self) -> SearchSpace:
        return self._space

    @property
    def study_name(self) -> str:
        return self._study.study_name

    @property
    def seed(self) -> int:
        """The seed of every random choice: as given, a resumed study's, or the one drawn."""
        return self._sampler.seed

    @property
    def trials(self) -> list[Trial]:
        """Every trial of the study, in order."""
        return [self._to_trial(t) for t in self._study.get_trials(deepcopy=False)]

    @property
    def infeasible(self) -> dict[str, Any] | None:
        """The evidence if the problem has been declared infeasible (see :mod:`hpo.engine`), else None.

        Keys: ``trial`` (when declared), ``min_max_lcb``, ``root_beta``, ``n_observations``,
        ``most_likely_feasible`` (params). Stored in the study, so a resumed run sees it.
        """
        attrs = self._study._storage.get_study_system_attrs(self._study._study_id)
        return attrs.get(INFEASIBLE_KEY)

    @property
    def directions(self) -> list[str]:
        return ["minimize" if d == StudyDirection.MINIMIZE else "maximize" for d in self._study.directions]

    def pareto_front(self) -> list[Trial]:
        """The complete, feasible trials no other such trial dominates (at least as good in every
        objective and better in one), in trial order; of trials with equal values, the first."""
        candidates = [
            t for t in (self._to_trial(f) for f in self._study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
            if t.feasible
        ]
        if not candidates:
            return []
        values = torch.tensor([t.values for t in candidates], dtype=torch.float64) * torch.as_tensor(_signs(self._study))
        return [t for t, keep in zip(candidates, non_dominated(values).tolist()) if keep]

    @property
    def best_trial(self) -> Trial:
        """The best complete (and feasible) trial; raises :class:`TrialStateError` if there is none.

        In a multi-fidelity study, only full-fidelity trials count (see :meth:`recommend`).

        Multi-objective studies have no single best trial: see :meth:`pareto_front`.
        """
        if len(self._study.directions) > 1:
            raise TrialStateError(
                f"study {self.study_name!r} has {len(self._study.directions)} objectives and no single best "
                "trial; use pareto_front()."
            )
        best = None
        sign = 1.0 if self._study.direction == StudyDirection.MINIMIZE else -1.0
        full = None if self._fidelity is None else self._space[self._fidelity].high
        for t in self._study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            trial = self._to_trial(t)
            if full is not None and trial.params[self._fidelity] != full:
                continue  # a short run's value is not comparable with a full run's
            if trial.feasible and (best is None or sign * trial.value < sign * best.value):
                best = trial
        if best is None:
            raise TrialStateError("there is no best trial yet: no trial is complete and feasible.")
        return best

    # Ask / tell
    def ask(self, n: int | None = None) -> Trial | list[Trial]:
        """The next trial to evaluate; ``ask(n)`` returns ``n`` distinct trials for parallel workers.

        Each trial is chosen conditioned on every trial still running, so the ``n`` trials (and
        trials asked by other processes sharing the storage) spread out.
        """
        if n is None:
            return self._ask_one()
        return [self._ask_one() for _ in range(check_int("n", n, 1))]

    def enqueue(
        self, params: Mapping[str, Any] | None = None, *, within: Mapping[str, tuple[Any, Any]] | None = None
    ) -> None:
        """Have a coming ``ask()`` return ``params`` (e.g. a known default, to start from it).

        Queued configurations are handed out first, in order, to whichever process asks next
        (the queue is stored in the study, as Optuna's ``enqueue_trial``); the model then sees
        their results like any other. ``params`` names parameters of the space with values in
        their domains; if some are left out, the ask chooses them with the given ones held (e.g.
        ``enqueue({"steps": 300})`` in a multi-fidelity study: the best configuration to run in
        full, by the knowledge gradient at full fidelity). ``within`` gives ``(low, high)``
        ranges of numeric parameters the ask keeps to (e.g. ``within={"steps": (30, 120)}``: no
        run longer than the budget left); a range on a grid keeps the grid values inside it.
        """
        values = self._space.validate(params if params is not None else {}, partial=True)
        ranges = {}
        for name, pair in (within or {}).items():
            if name not in self._space:
                raise HPOValueError(f"`within` must name parameters of the space {list(self._space)}, but got {name!r}.")
            if isinstance(self._space[name], Categorical):
                raise HPOValueError(f"`within` takes numeric parameters; hold the categorical {name!r} in `params`.")
            if name in values:
                raise HPOValueError(f"{name!r} is both held in `params` and ranged in `within`; give one.")
            if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
                raise HPOTypeError(f"`within[{name!r}]` must be a (low, high) pair, but got {pair!r}.")
            low, high = (self._space.validate({name: v}, partial=True)[name] for v in pair)
            if low > high:
                raise HPOValueError(f"`within[{name!r}]` must have low <= high, but got ({low}, {high}).")
            try:
                column_limits(self._space, self._space.encode_ranges({name: (low, high)}))  # e.g. between grid values
            except HPOValueError as exc:
                raise HPOValueError(f"`within[{name!r}]` = ({low}, {high}): {exc}") from None
            ranges[name] = [low, high]
        if not values and not ranges:
            raise HPOValueError(f"enqueue() needs at least one parameter of the space {list(self._space)}, but got none.")
        self._study.enqueue_trial(values, user_attrs={WITHIN_KEY: ranges} if ranges else None)

    def _ask_one(self) -> Trial:
        self._fail_stale()
        with warnings.catch_warnings():
            # Optuna warns that heartbeats are meant for Study.optimize; the Tuner beats itself.
            warnings.filterwarnings("ignore", message="Heartbeat of storage", category=UserWarning)
            trial = self._study.ask(fixed_distributions=self._space.to_optuna())
        self._trials[trial.number] = trial
        self._start_heartbeat(trial._trial_id, trial.number)
        return Trial(number=trial.number, params=dict(trial.params))

    def _ask_exactly(self, params: Mapping[str, Any], user_attrs: Mapping[str, Any] | None = None) -> Trial:
        """A running trial of exactly ``params`` (every parameter), made in one step of the storage:
        unlike ``enqueue`` then ``ask``, another process cannot take it (the queue is shared)."""
        self._fail_stale()
        values = self._space.validate(params)
        template = optuna.trial.create_trial(
            state=TrialState.RUNNING, params=values, distributions=self._space.to_optuna(), user_attrs=dict(user_attrs or {})
        )
        storage = self._study._storage
        trial_id = storage.create_new_trial(self._study._study_id, template_trial=template)
        number = storage.get_trial_number_from_id(trial_id)
        self._start_heartbeat(trial_id, number)
        return Trial(number=number, params=values)

    def _start_heartbeat(self, trial_id: int, number: int) -> None:
        storage = self._study._storage  # Optuna's cache in front of self._storage; it forwards heartbeats
        interval = storage.get_heartbeat_interval() if is_heartbeat_enabled(storage) else None
        if interval is None:
            return
        stop = threading.Event()
        # The first beat before the trial is handed out: a trial that never beat is never stale
        # (Optuna's rule), so a process that dies right after asking would leave it running for good.
        storage.record_heartbeat(trial_id)

        def beat() -> None:
            while not stop.wait(interval):
                try:
                    storage.record_heartbeat(trial_id)
                except Exception:  # noqa: BLE001 - a missed beat is retried; staleness is judged by others
                    pass

        threading.Thread(target=beat, name=f"hpo-heartbeat-{number}", daemon=True).start()
        self._beats[number] = stop

    def _fail_stale(self) -> None:
        """Fail every running trial of the study whose heartbeat stopped, giving the reason, and
        queue its parameters again if ``retries`` allows (as Optuna's ``fail_stale_trials``, which
        cannot record a reason: a finished trial's attributes are read-only)."""
        storage = self._study._storage
        if not is_heartbeat_enabled(storage):
            return
        grace = getattr(self._storage, "grace_period", None) or 2 * storage.get_heartbeat_interval()  # Optuna's default
        for trial_id in storage._get_stale_trial_ids(self._study._study_id):
            try:
                storage.set_trial_system_attr(
                    trial_id, _REASON_KEY, STALE + f"no heartbeat for over {grace} s (its process died or hung)"
                )
                if not storage.set_trial_state_values(trial_id, state=TrialState.FAIL):
                    continue
            except UpdateFinishedTrialError:
                continue  # another process failed it first
            if self._retries:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    retry = RetryHeartbeatStaleTrialCallback(max_retry=self._retries)
                stale = copy.deepcopy(storage.get_trial(trial_id))
                stale.system_attrs.pop(_REASON_KEY)  # (the retry copies the system attributes, not the reason)
                retry(self._study, stale)

    def tell(
        self,
        trial: Trial | int,
        values: float | Sequence[float] | None = None,
        *,
        constraints: Sequence[float] | None = None,
        state: str = "complete",
        reason: str | None = None,
        steps: int | None = None,
    ) -> Trial:
        """Report a trial's result.

        Args:
            trial: The :class:`Trial` from :meth:`ask`, or its number (also one asked by another
                process on the same storage).
            values: The objective value(s), one per direction. A NaN or infinite value records
                the trial as failed with that reason (failures are data, not crashes).
            constraints: Constraint values, feasible where ``<= 0``; finite numbers.
            state: "complete" (default), "fail", or "pruned" (stopped early, e.g. on
                :meth:`should_stop`'s advice; its last reported value is kept as Optuna does).
            reason: Why the trial failed or was stopped (stored with it); defaults to a description.
            steps: The training steps the trial spent, if known (e.g. a run that diverged
                before its last report, or one that reported nothing); stored as its
                :attr:`Trial.steps`.

        Returns:
            The trial as stored.

        Raises:
            TrialStateError: The trial is unknown or already finished (telling twice).
            HPOValueError / HPOTypeError: Values or constraints break a rule; nothing is stored.
        """
        number = self._number(trial)
        frozen = self._frozen(number)
        if state not in _STATES:
            raise HPOValueError(f"`state` must be one of {list(_STATES)}, but got {state!r}.")
        if reason is not None and not isinstance(reason, str):
            raise HPOTypeError(f"`reason` must be a string or None, but got {reason!r}.")
        if steps is not None:
            check_int("steps", steps, 0)
        cons = None
        if constraints is not None:
            cons = _check_numbers("constraints", constraints, None)
            bad = [c for c in cons if not math.isfinite(c)]
            if bad:
                raise HPOValueError(f"constraint values must be finite, but got constraints={list(cons)}.")
        vals = None
        if state == "complete":
            if values is None:
                raise HPOValueError("`values` must be given for a complete trial, but got None.")
            vals = _check_numbers("values", values, len(self._study.directions))
            nonfinite = [v for v in vals if not math.isfinite(v)]
            if nonfinite:
                state, reason = "fail", reason or f"objective value is not finite: values={list(vals)}"
        elif state == "pruned" and values is not None:
            raise HPOValueError("a pruned trial takes no `values` (its last reported value is kept), but got values.")
        elif values is not None:
            vals = _check_numbers("values", values, len(self._study.directions))
        storage, trial_id = self._study._storage, frozen._trial_id
        if steps is not None:
            storage.set_trial_system_attr(trial_id, _STEPS_KEY, int(steps))
        if cons is not None:
            live = optuna.Trial(self._study, trial_id)
            for i, c in enumerate(cons):
                live.set_constraint(str(i), c)
        if state in ("fail", "pruned"):
            storage.set_trial_system_attr(trial_id, _REASON_KEY, reason or f"told as {state}")
            self._study.tell(number, state=_STATES[state])
        else:
            self._study.tell(number, list(vals))
        self._trials.pop(number, None)
        beat = self._beats.pop(number, None)
        if beat is not None:
            beat.set()
        return self._to_trial(self._study._storage.get_trial(trial_id))

    def _number(self, trial: Trial | int) -> int:
        if isinstance(trial, Trial):
            return trial.number
        if isinstance(trial, bool) or not isinstance(trial, numbers.Integral):
            raise HPOTypeError(f"`trial` must be an hpo.Trial or a trial number, but got {trial!r}.")
        if not 0 <= trial < 2**63:  # beyond any storage's integers
            raise TrialStateError(f"trial {trial} is not a trial of study {self.study_name!r}.")
        return int(trial)

    def _frozen(self, number: int) -> FrozenTrial:
        storage = self._study._storage
        try:
            trial_id = storage.get_trial_id_from_study_id_trial_number(self._study._study_id, number)
        except KeyError:
            raise TrialStateError(f"trial {number} is not a trial of study {self.study_name!r}.") from None
        frozen = storage.get_trial(trial_id)
        if frozen.state.is_finished():
            raise TrialStateError(
                f"trial {number} is already finished (state {frozen.state.name.lower()}); a trial is told once."
            )
        return frozen

    def _to_trial(self, t: FrozenTrial) -> Trial:
        cons = t.constraints
        return Trial(
            number=t.number,
            params=dict(t.params),
            state=t.state.name.lower(),
            values=tuple(t.values) if t.values is not None else None,
            constraints=tuple(cons[k] for k in sorted(cons, key=_constraint_order)) if cons else None,
            reason=t.system_attrs.get(_REASON_KEY),
            steps=self._steps(t),
        )

    def _steps(self, t: FrozenTrial) -> int | None:
        if _STEPS_KEY in t.system_attrs:
            return int(t.system_attrs[_STEPS_KEY])
        if t.intermediate_values:
            return int(max(t.intermediate_values))
        if self._fidelity is not None and self._fidelity in t.params:
            return int(round(t.params[self._fidelity]))
        return None

    @property
    def total_steps(self) -> int:
        """The training steps spent by every trial of the study (see :attr:`Trial.steps`)."""
        return sum(t.steps or 0 for t in self.trials)

    # Short training proxies
    def report(self, trial: Trial | int, value: float, step: int) -> None:
        """Record an intermediate value of a running trial at ``step``: the objective as measured
        so far (e.g. the validation loss after ``step`` steps), as in Optuna's ``trial.report``.

        The reports feed :meth:`should_stop`'s forecast (compared with the best *objective*),
        set :attr:`Trial.steps`, and, in a multi-fidelity study, a trial stopped early is an
        observation at its last step; so a quantity on another scale (a training loss, when the
        objective is a validation loss) misleads both.
        """
        number = self._number(trial)
        frozen = self._frozen(number)
        check_int("step", step, 0)
        (v,) = _check_numbers("value", value, 1)
        self._study._storage.set_trial_intermediate_value(frozen._trial_id, int(step), v)

    def should_stop(self, trial: Trial | int, *, horizon: int | None = None, z: float = 2.0) -> str:
        """Whether a running trial is hopeless, from a forecast of its reported curve.

        The reported values (a loss, or its negative for a maximised objective) are extrapolated to
        ``horizon`` (default in a multi-fidelity study: the full run, the fidelity's upper bound) with
        :func:`hpo.proxy.forecast`; the trial is hopeless if the forecast is worse than the best
        complete (full-fidelity) trial by more than ``z`` standard deviations, or its curve
        diverged. Returns the reason to stop, or ``""`` to go on; stop with
        ``tell(trial, state="pruned", reason=reason)``. Needs a best trial, and 5 reports to stop
        a diverged curve, 10 to stop on a forecast (:func:`hpo.proxy.should_stop`).
        """
        number = self._number(trial)
        frozen = self._frozen(number)
        if len(self._study.directions) > 1:
            raise HPOValueError("should_stop() needs a single-objective study.")
        if horizon is None:
            if self._fidelity is None:
                raise HPOValueError("should_stop() needs `horizon` (the full run's steps) without a fidelity parameter.")
            horizon = self._space[self._fidelity].high

        def best() -> float | None:
            try:
                return self.best_trial.value
            except TrialStateError:
                return None

        return _stop_reason(frozen, self._study.direction, best, horizon, z)

    def recommend(self) -> dict[str, Any]:
        """The configuration the model expects to be best: among the evaluated configurations, the
        one with the best posterior mean (at full fidelity in a multi-fidelity study; its fidelity
        parameter set to the full run). Smooths noise that the best observed value (``best_trial``)
        would take at face value. Single-objective studies without constraints."""
        return self.ranking()[0]

    def ranking(self) -> list[dict[str, Any]]:
        """The evaluated configurations (each once; failed ones left out, though the model learns
        from them) by posterior mean, best first, as :meth:`recommend` judges them; e.g. to run the
        runners-up of a multi-fidelity study in full. Single-objective studies without constraints."""
        if len(self._study.directions) > 1:
            raise HPOValueError("recommend() and ranking() need a single-objective study; see pareto_front().")
        trials = self._study.get_trials(deepcopy=False)
        X, Y, C, _ = self._sampler._history(self._study, self._space, trials)
        if not len(X):
            raise TrialStateError("there is nothing to recommend yet: no trial is complete.")
        if C is not None:
            raise HPOValueError("recommend() and ranking() do not handle constraints; use best_trial.")
        observed, _, _, _ = self._sampler._history(self._study, self._space, trials, failures=False)
        fidelity = self._sampler._fidelity_of(self._space)
        ranked = rank(
            self._space, X, Y, candidates=observed, fidelity=fidelity, settings=self._sampler.settings,
            seed=self._sampler.seed,
        )
        return [self._space.decode(x) for x in ranked]

    # Loop
    def optimize(
        self,
        fn: Callable[[dict[str, Any]], float | Sequence[float]],
        n_trials: int,
        *,
        show_progress_bar: bool = True,
        catch: tuple[type[BaseException], ...] = (),
    ) -> Trial | list[Trial]:
        """Run ``n_trials`` trials of ``fn(params) -> value(s)``; return the best trial (with several
        objectives, the Pareto front).

        An exception in ``fn`` records the trial as failed with the exception as its reason; it is
        re-raised unless its type is in ``catch`` or it is an :class:`hpo.DivergedError` (a
        training run that diverged is a failed trial, not a crash).
        """
        check_int("n_trials", n_trials, 1)
        from tqdm.auto import tqdm

        bar = tqdm(total=int(n_trials), disable=not show_progress_bar, desc=self.study_name)
        multi = len(self._study.directions) > 1
        try:
            for _ in range(int(n_trials)):
                trial = self._ask_one()
                try:
                    result = fn(dict(trial.params))
                except (DivergedError, *catch) as exc:
                    self.tell(trial, state="fail", reason=f"{type(exc).__name__}: {exc}")
                    bar.update(1)
                    continue
                except BaseException as exc:
                    self.tell(trial, state="fail", reason=f"{type(exc).__name__}: {exc}")
                    raise
                self.tell(trial, result)
                bar.update(1)
                if multi:
                    bar.set_postfix(pareto=len(self.pareto_front()))
                    continue
                try:
                    bar.set_postfix(best=f"{self.best_trial.value:.6g}")
                except TrialStateError:
                    pass
        finally:
            bar.close()
        return self.pareto_front() if multi else self.best_trial


