"""Tuning with prefixes of resumable runs: Bayesian optimisation on the first part of each run,
then the best runs continued from where they stopped.

When a trial is a training run that can be paused and continued (a checkpoint), its first
``prefix`` steps are a short training proxy that costs nothing extra to finish: a promising run
goes on from its checkpoint and pays only the steps it adds. :func:`tune_with_prefixes` spends a
training budget in two parts:

1. **Search.** ``searched`` configurations, each run for ``prefix`` steps (default a fifth of the
   full run); a :class:`~hpo.Tuner` (its default acquisition, (noisy) expected improvement) on
   the value after ``prefix`` steps chooses the next.
2. **Continuations.** The ``continued`` best prefixes go on to the full run, where ``searched +
   continued = trials`` and ``continued`` is the most the budget pays for, at most half of the
   searched configurations that are not starts (25 trials and a third of their full runs: 20
   searched, 5 continued).

The answer is the best full run. ``trials`` counts runs as full-run tuning does: each
configuration tried is one, and so is each continuation, so the two compare at the same number of
trials. Every part of a run is a trial of one multi-fidelity study (the run's length so far is
its fidelity; a continuation counts the steps it adds), so reports and
:attr:`~hpo.Tuner.total_steps` show the whole search.

Measured on the learning-rate target (``objectives.lr_schedule``: a language model's schedule, the
validation loss after 300 steps; the README has the tables): with 25 trials and a third of their
steps, within 1% of full-run tuning's best on 33 of 48 (task seed, machine) pairs, median gap
+0.08% to +0.86% (+0.66% on 16 fresh seeds); better there than cost-aware multi-fidelity knowledge
gradient over compressed runs (``Tuner(fidelity=...)``: 5 of 16, its short runs favoured what
leaves the loss plateau fastest) and than successive halving over 25 searched configurations. Why
so few continued and no middle rung: among good runs the value midway ranks by how far a schedule
has decayed, and the search's last trials exploit the prefix's own optimum (short-horizon bias: a
prefix favours lower rates than the full run), so finishing 5 of 20 beat promoting 6 of 25 to half
length. Measured and not kept on 16 fresh seeds: 25 searched and 4 continued (9 of 16), the
multi-fidelity study choosing each prefix by the knowledge gradient at the full length with
continuations interleaved (7 of 14); continuing every searched run reaches only 12 of 16, so the
search, not the choice of continuations, limits it. Full-run tuning run again with another seed
lands within 1% of itself on 10 of those 16.

**Resuming.** With a ``storage`` and a ``checkpoints`` folder, every part's end state is pickled
to the folder before its trial is told, so a tuning stopped anywhere (an exception, Ctrl-C, a
killed process) is resumed by calling :func:`tune_with_prefixes` again with the same arguments:
the study's trials are replayed into the search, a part that did not end (found running, or
stopped by an exception other than :class:`~hpo.DivergedError`) is failed as ``"stopped: ..."``,
charged its length, and run again, and continuations go on from their prefixes' files. Up to the
stop the search is the same; after it, its model fit starts cold, so it may choose differently
from a run that was never stopped. One process at a time: a part another process is still
training would be failed as stopped.
"""

from __future__ import annotations

import json
import numbers
import os
import pickle
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpo.errors import DivergedError, HPOTypeError, HPOValueError, StorageError, TrialStateError, check_int
from hpo.space import Int, Param, SearchSpace, as_search_space
from hpo.tuner import Trial, Tuner

__all__ = ["PrefixTuning", "tune_with_prefixes"]

_SETTINGS_KEY = "hpo:prefix_tuning"  # the study's user attribute holding what a resume must match
STOPPED = "stopped: "
"""How the reason of a part that ended without a result about its configuration begins (the
process stopped, ``train`` raised something other than :class:`~hpo.DivergedError` or broke its
contract): a resume runs it again."""

Train = Callable[[dict[str, Any], int, Any], tuple[float, Any]]
"""``train(params, steps, state) -> (value, state)``: train the configuration ``params`` until
``steps`` steps in all, from scratch when ``state`` is None, else continuing the run that
returned ``state``; return the objective after ``steps`` steps (e.g. the validation loss) and the
run's state to continue from (a checkpoint, or a live run object; with ``checkpoints`` it must
pickle, and a snapshot of the weights pickles smaller than an object that holds the data set). A
run that diverges raises :class:`~hpo.DivergedError` (with ``step``, the steps it took in all, if
known)."""


@dataclass(frozen=True)
class PrefixTuning:
    """What :func:`tune_with_prefixes` found and spent.

    Attributes:
        tuner: The multi-fidelity study of every run part (:attr:`~hpo.Tuner.best_trial` is the
            best full run; :attr:`~hpo.Tuner.total_steps` the steps spent).
        params: The answer: the configuration of the best full run.
        value: Its full run's value.
        state: Its full run's end state as ``train`` returned it (e.g. the trained weights).
        steps: Training steps spent in all (parts that were stopped and run again included).
        start_values: The full-run values of ``start``'s configurations (None where one diverged).
        prefix: The search's run length.
        searched: Configurations tried, the starts among them.
        continued: Searched runs continued to the full length.
    """

    tuner: Tuner
    params: dict[str, Any]
    value: float
    state: Any
    steps: int
    start_values: tuple[float | None, ...]
    prefix: int
    searched: int
    continued: int


class _Checkpoints:
    """The runs' states on disk: ``<folder>/<trial number>.pkl``, the state at the end of that
    part, written whole or not at all (a temporary file renamed into place)."""

    def __init__(self, folder: str | os.PathLike) -> None:
        if not isinstance(folder, (str, os.PathLike)):
            raise HPOTypeError(f"`checkpoints` must be a folder's path, but got {folder!r}.")
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise HPOValueError(f"`checkpoints` must be a folder, but {str(self.folder)!r} is a file.")
        self.folder.mkdir(parents=True, exist_ok=True)

    def path(self, number: int) -> Path:
        return self.folder / f"{number}.pkl"

    def numbers(self) -> list[int]:
        """The trial numbers that have a state file."""
        return sorted(int(p.stem) for p in self.folder.glob("*.pkl") if p.stem.isdigit())

    def save(self, number: int, state: Any) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{number}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(state, f, protocol=pickle.HIGHEST_PROTOCOL)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path(number))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def load(self, number: int) -> Any:
        path = self.path(number)
        try:
            with open(path, "rb") as f:
                return pickle.load(f)
        except FileNotFoundError:
            raise StorageError(
                f"the state of trial {number}, which the tuning needs, must be in {str(path)!r}, but the file "
                "is missing (deleted, or `checkpoints` names another folder than before)."
            ) from None
        except Exception as exc:
            raise StorageError(f"the state file {str(path)!r} of trial {number} cannot be read: {exc!r}.") from exc

    def drop(self, number: int | None) -> None:
        if number is not None:
            self.path(number).unlink(missing_ok=True)


class _Run:
    """One configuration's run, trained in parts: each :meth:`continue_to` goes on from where the
    last stopped and records the part as a trial of the study at the step reached."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = dict(params)
        self.step = 0
        self.state: Any = None  # None before the first part, or while only its file holds it
        self.value: float | None = None  # after the last part; None once the run failed
        self.reason: str | None = None  # why it failed
        self.prefix_value: float | None = None  # the search's value
        self.part: int | None = None  # the trial number of its last part that ended with a value
        self.finished = False  # a part to the full length ended (with a value, or diverged)

    def continue_to(
        self,
        step: int,
        study: Tuner,
        train: Train,
        fidelity: str,
        callback: Callable[[Trial], None] | None,
        checkpoints: _Checkpoints | None,
        branch: int = 0,
    ) -> float | None:
        """Train to ``step``; the value there, or None if the run failed (diverged, or a value
        that is not finite). ``branch``: steps the value cost beyond the run (charged to the
        trial when ``train`` returns one)."""
        if self.state is None and self.part is not None and checkpoints is not None:
            self.state = checkpoints.load(self.part)  # a part of an earlier process
        study.enqueue({**self.params, fidelity: step})
        trial = study.ask()
        before = self.step

        def stop(reason: str) -> None:
            study.tell(trial, state="fail", reason=STOPPED + reason, steps=step - before)

        try:
            returned = train(dict(self.params), step, self.state)
        except DivergedError as exc:
            reached = step if exc.step is None else exc.step
            if isinstance(reached, bool) or not isinstance(reached, numbers.Integral) or not before <= reached <= step:
                stop(f"train raised {exc!r} with a step outside the part")
                raise HPOValueError(
                    f"a diverged run's `step` must lie between the steps it started from and was asked "
                    f"for ({before} <= step <= {step}), but got step={exc.step!r} ({exc.reason})."
                ) from exc
            told = study.tell(trial, state="fail", reason=exc.reason, steps=int(reached) - before)
        except BaseException as exc:
            stop(f"train raised {exc!r}")
            raise
        else:
            if not (isinstance(returned, tuple) and len(returned) == 2):
                stop("train returned no (value, state) pair")
                raise HPOTypeError(f"`train` must return a (value, state) pair, but returned {returned!r}.")
            value, state = returned
            if checkpoints is not None:
                try:
                    checkpoints.save(trial.number, state)
                except BaseException as exc:
                    stop(f"its state was not saved: {exc!r}")
                    if isinstance(exc, (pickle.PicklingError, TypeError, AttributeError)):
                        raise HPOTypeError(
                            f"with `checkpoints`, `train`'s state must pickle, but {type(state).__name__} does "
                            f"not: {exc}"
                        ) from exc
                    raise
            try:
                told = study.tell(trial, value, steps=step - before + branch)
            except (HPOTypeError, HPOValueError):
                stop(f"train returned the value {value!r}")
                if checkpoints is not None:
                    checkpoints.drop(trial.number)
                raise
            if told.state == "complete":
                self.step, self.state = step, state
                if checkpoints is not None:
                    checkpoints.drop(self.part)  # the run has moved on from it
                self.part = trial.number
            elif checkpoints is not None:  # a value that is not finite: a failed run
                checkpoints.drop(trial.number)
        self.value = told.value if told.state == "complete" else None
        self.reason = told.reason
        if callback is not None:
            callback(told)
        return self.value


def _settings(**values: Any) -> dict[str, Any]:
    return json.loads(json.dumps(values))  # as a storage gives them back


def _replay(
    study: Tuner, search: Tuner, fidelity: str, r0: int, T: int, s: int, checkpoints: _Checkpoints
) -> tuple[list[_Run], list[_Run]]:
    """The starts and searched runs of the study's trials: each prefix told to ``search`` again
    (the same trial numbers, so the same choices up to the stop), each full part matched to its
    run. A part still running is failed as stopped (its process ended), so it is run again."""
    for t in study.trials:  # queued by a process that stopped before asking for it
        if t.state == "waiting":
            popped = study.ask()  # the queue's first, the fidelity held: nothing is chosen
            study.tell(popped, state="fail", steps=0, reason=STOPPED + "queued, not run before a stop")
    starts: list[_Run] = []
    runs: list[_Run] = []
    for t in study.trials:
        if t.state == "running":
            length = r0 if t.params[fidelity] == r0 else T - r0
            t = study.tell(t.number, state="fail", steps=length, reason=STOPPED + "found running on resume: its "
                           "process ended before the part did")
        if (t.reason or "").startswith(STOPPED):
            continue
        config = {k: v for k, v in t.params.items() if k != fidelity}
        if t.params[fidelity] == r0:
            search.enqueue(config)
            asked = search.ask()
            run = _Run(config)
            if t.state == "complete":
                search.tell(asked, t.value)
                run.step, run.value, run.prefix_value, run.part = r0, t.value, t.value, t.number
            else:
                search.tell(asked, state="fail", reason=t.reason)
                run.reason = t.reason
            (starts if len(starts) < s else runs).append(run)
            continue
        run = next((r for r in reversed(starts + runs) if r.params == config and r.part is not None
                    and not r.finished), None)
        if run is None:
            raise StorageError(
                f"study {study.study_name!r}: trial {t.number} continues {config} to {T} steps, but no earlier prefix "
                "of that configuration is left to continue (the study was changed by something else)."
            )
        run.finished = True
        if t.state == "complete":
            run.step, run.value, run.part = T, t.value, t.number
        else:
            run.value, run.reason = None, t.reason
    for number in checkpoints.numbers():  # parts superseded or not told before a stop
        if number not in {r.part for r in starts + runs}:
            checkpoints.drop(number)
    return starts, runs


def tune_with_prefixes(
    space: SearchSpace | Mapping[str, Param],
    train: Train,
    *,
    full: int,
    trials: int,
    direction: str = "minimize",
    prefix: int | None = None,
    budget: int | None = None,
    start: Sequence[Mapping[str, Any]] = (),
    seed: int | None = 0,
    storage: str | None = None,
    study_name: str | None = None,
    checkpoints: str | os.PathLike | None = None,
    fidelity: str = "steps",
    callback: Callable[[Trial], None] | None = None,
    branch: int = 0,
) -> PrefixTuning:
    """Tune a resumable training run by its prefixes, continuing the best to the full length (see
    the module's docstring).

    Args:
        space: The configurations' search space.
        train: ``train(params, steps, state) -> (value, state)`` (see :data:`Train`).
        full: The full run's steps, at least 2.
        trials: Runs to spend, counted as full-run tuning counts them: each configuration tried is
            one, and so is each continuation to ``full``.
        direction: "minimize" (a loss) or "maximize".
        prefix: The search's run length, ``1 <= prefix < full``; default ``full // 5`` (at least 1).
        budget: Training steps the tuning may spend. It must pay for the search, the starts and
            one searched configuration continued; default a third of ``trials`` full runs, or
            that least if it is more.
        start: Configurations to try first (e.g. the one in use), each run in full as one trial:
            the search learns their value after ``prefix`` steps, and the answer is at least as
            good as each. ``trials >= len(start) + 2`` unless every trial is a start.
        seed: Seeds the search (same seed, same configurations); None: a resumed study's, or drawn.
        storage, study_name: Where the study of every run part is kept (as :class:`~hpo.Tuner`).
            A study that holds trials is resumed (see the module's docstring), which needs
            ``checkpoints`` and the same ``full``, ``trials``, ``prefix``, ``budget``, ``start``,
            ``branch`` and ``seed`` (None takes the study's).
        checkpoints: A folder of this study's own where each part's end state is pickled, so a
            stopped tuning can be resumed. Files of runs that cannot be continued any more are
            deleted; at the end the full runs' states are left (``<trial number>.pkl``).
        fidelity: The name the study gives the run's length; not a parameter of ``space``.
        callback: Called with each run part's :class:`~hpo.Trial` once it is told (e.g. to log).
        branch: Training steps the value after ``prefix`` steps costs beyond the run itself, if
            ``train`` reads it after a branch that it then throws away (e.g. a cooldown: the
            value the run would end at if its rate fell to 0 now); charged to each prefix that
            returns a value and counted in the budget. ``train`` continues a run from its
            state before the branch.

    Returns:
        A :class:`PrefixTuning`.

    A run that raises :class:`~hpo.DivergedError` is a failed trial with the reason and goes no
    further; the tuning goes on.

    Raises:
        TrialStateError: No configuration completed a full run: every run failed.
        HPOTypeError, HPOValueError: ``train`` broke its contract (no ``(value, state)`` pair, a
            value that is not a number, a diverged ``step`` outside the part, a state that does
            not pickle with ``checkpoints``); its trial is failed with the reason first. Or a
            resume's arguments differ from the study's.
        StorageError: A state file a resume needs is missing or unreadable.
        Exception: Whatever else ``train`` raises, after its trial is failed with it.
    """
    space = as_search_space(space)
    if not callable(train):
        raise HPOTypeError(f"`train` must be callable as train(params, steps, state), but got {train!r}.")
    if direction not in ("minimize", "maximize"):
        raise HPOValueError(f"`direction` must be 'minimize' or 'maximize', but got {direction!r}.")
    if not isinstance(fidelity, str) or fidelity in space:
        raise HPOValueError(f"`fidelity` must be a name that is not a parameter of the space, but got {fidelity!r}.")
    T = check_int("full", full, 2)
    r0 = max(T // 5, 1) if prefix is None else prefix
    if isinstance(r0, bool) or not isinstance(r0, numbers.Integral) or not 1 <= r0 < T:
        raise HPOValueError(f"`1 <= prefix < full` ({T}) must hold, but got prefix={prefix!r}.")
    r0 = int(r0)
    n = check_int("trials", trials, 1)
    start = [space.validate(config) for config in start]
    s = len(start)
    if not (n == s or n >= s + 2):
        raise HPOValueError(
            f"`trials >= len(start) + 2` (a searched configuration and its continuation) must hold unless every "
            f"trial is a start, but got {s} starts for trials={trials}."
        )
    b = check_int("branch", branch, 0)

    def cost(c: int) -> int:  # n - c configurations (s in full), c of the others continued
        return (n - c - s) * (r0 + b) + s * (T + b) + c * (T - r0)

    least = cost(0 if n == s else 1)
    budget = check_int("budget", max(n * T // 3, least) if budget is None else budget, least)
    continued = max((c for c in range(1, (n - s) // 2 + 1) if cost(c) <= budget), default=0)
    searched = n - continued
    sign = 1.0 if direction == "minimize" else -1.0
    disk = None if checkpoints is None else _Checkpoints(checkpoints)
    study = Tuner(
        {**space, fidelity: Int(r0, T)}, directions=direction, fidelity=fidelity, seed=seed, storage=storage,
        study_name=study_name,
    )
    search = Tuner(space, directions=direction, seed=study.seed)
    settings = _settings(full=T, trials=n, prefix=r0, budget=budget, start=start, branch=b, seed=study.seed)
    if study.trials:
        stored = study.study.user_attrs.get(_SETTINGS_KEY)
        if stored is None or disk is None:
            raise HPOValueError(
                f"study {study.study_name!r} already holds {len(study.trials)} trials; tune_with_prefixes resumes a "
                "study it made, given `checkpoints` (the runs' states): "
                + ("this one it did not make, give a new study_name." if stored is None else "give `checkpoints`.")
            )
        for key, value in settings.items():
            if stored.get(key) != value:
                raise HPOValueError(
                    f"a resume must be given the study's `{key}`, {stored.get(key)!r}, but got {key}={value!r}."
                )
        starts, runs = _replay(study, search, fidelity, r0, T, s, disk)
    else:
        if disk is not None and disk.numbers():
            raise HPOValueError(
                f"`checkpoints` must be a folder of this study's own, but {str(disk.folder)!r} already holds state "
                f"files ({disk.numbers()[:5]}...) and study {study.study_name!r} is new."
            )
        study.study.set_user_attr(_SETTINGS_KEY, settings)
        starts, runs = [], []

    def go(run: _Run, step: int) -> float | None:
        value = run.continue_to(step, study, train, fidelity, callback, disk, b if step == r0 else 0)
        if step == r0:
            run.prefix_value = value
        else:
            run.finished = True
        return value

    for r in starts:  # a resume: a start whose full part was stopped
        if r.prefix_value is not None and not r.finished:
            go(r, T)
    for i in range(len(starts) + len(runs), searched):
        if i < s:
            search.enqueue(start[i])
        asked = search.ask()
        run = _Run(asked.params)
        (starts if i < s else runs).append(run)
        value = go(run, r0)
        if value is None:
            search.tell(asked, state="fail", reason=run.reason)
        elif i < s:
            search.tell(asked, value)
            go(run, T)
        else:
            search.tell(asked, value)
    alive = sorted((r for r in runs if r.prefix_value is not None), key=lambda r: sign * r.prefix_value)
    chosen, spare = alive[:continued], alive[continued:continued + 1]  # spare: if every continuation fails
    if disk is not None:
        for r in alive[continued + 1:]:
            disk.drop(r.part)
    for r in chosen:
        if not r.finished:
            go(r, T)
    done = [r for r in starts + runs if r.step == T and r.value is not None]
    if not done:  # every continued run failed: the best prefix left goes on (beyond the budget)
        if not spare or (spare[0].finished and spare[0].value is None) or (
            not spare[0].finished and go(spare[0], T) is None
        ):
            raise TrialStateError("no configuration completed a full run: every run failed.")
        done = spare
    best = min(done, key=lambda r: sign * r.value)
    state = best.state if best.state is not None or disk is None else disk.load(best.part)
    if disk is not None:  # the full runs' states are left
        for r in starts + runs:
            if r not in done:
                disk.drop(r.part)
    return PrefixTuning(
        tuner=study, params=best.params, value=best.value, state=state, steps=study.total_steps,
        start_values=tuple(r.value for r in starts), prefix=r0, searched=searched, continued=continued,
    )
