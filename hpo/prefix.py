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
from a run that was never stopped. Without ``heartbeat``, one process at a time: a part found
running is taken for one whose process ended.

**Workers.** With ``heartbeat`` (seconds), several processes (on several machines: a PostgreSQL
storage and a shared folder) run one tuning by making the same call. Each part is a trial made
in one step of the storage; each process keeps its own search, which sees the others' running
prefixes as pending; the first parts by trial number win where two processes take the same work
at once (the later is failed as stopped, untrained: the same continuation or start, a searched
prefix beyond the budget, or one of a configuration another process's search asked at the same
moment, as searches with one seed do); a part whose process stops beating for 3 heartbeats is
failed as stale and run again (a prefix: its configuration, by a process whose search had it
pending, so no search keeps a phantom pending point); and each process returns the same answer
once every part has ended (a process with nothing left to run waits for the others' parts).
"""

from __future__ import annotations

import json
import numbers
import os
import pickle
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpo.errors import DivergedError, HPOTypeError, HPOValueError, StorageError, TrialStateError, check_int
from hpo.space import Int, Param, SearchSpace, as_search_space
from hpo.tuner import STALE, Trial, Tuner

__all__ = ["PrefixTuning", "tune_with_prefixes"]

_SETTINGS_KEY = "hpo:prefix_tuning"  # the study's user attribute holding what a resume must match
STOPPED = "stopped: "
"""How the reason of a part that ended without a result about its configuration begins (the
process stopped, ``train`` raised something other than :class:`~hpo.DivergedError` or broke its
contract, another process took the same work first): a resume runs it again. A stale part (its
process stopped beating, ``"stale: ..."``) is run again too."""
_CONTINUES = "hpo:continues"  # a full part's user attribute: the trial number of the prefix it continues
_WAIT = 0.5  # seconds between looks while other processes' parts run

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
    """One configuration's run: its prefix part, and the full part that continues it."""

    def __init__(self, params: Mapping[str, Any], prefix: int, start: bool) -> None:
        self.params = dict(params)
        self.prefix = prefix  # the prefix part's trial number
        self.start = start
        self.prefix_value: float | None = None  # once the prefix ended with a value
        self.prefix_state = "running"  # its trial's state
        self.full: Trial | None = None  # the full part that counts (the first one not stopped)
        self.part: int | None = None  # the trial number of its last part that ended with a value

    @property
    def value(self) -> float | None:
        """The full run's value, once it ended with one."""
        return self.full.value if self.full is not None and self.full.state == "complete" else None

    @property
    def running(self) -> bool:
        return self.prefix_state == "running" or (self.full is not None and self.full.state == "running")


def _stopped(trial: Trial) -> bool:
    return trial.state == "fail" and (trial.reason or "").startswith((STOPPED, STALE))


def _settings(**values: Any) -> dict[str, Any]:
    return json.loads(json.dumps(values))  # as a storage gives them back


class _Tuning:
    """One tuning as this process sees it: the study's parts grouped into runs (read again
    before each piece of work), this process's search, and the work left."""

    def __init__(
        self, study: Tuner, search: Tuner, train: Train, *, fidelity: str, r0: int, T: int, start: list[dict],
        searched: int, continued: int, sign: float, branch: int, disk: _Checkpoints | None,
        callback: Callable[[Trial], None] | None,
    ) -> None:
        self.study, self.search, self.train, self.fidelity = study, search, train, fidelity
        self.r0, self.T, self.start, self.searched, self.continued = r0, T, start, searched, continued
        self.sign, self.branch, self.disk, self.callback = sign, branch, disk, callback
        self.runs: dict[int, _Run] = {}  # by prefix trial number, in order
        self.kept: dict[int, Any] = {}  # end states this process holds, by trial number
        self.asked: dict[int, int] = {}  # prefix trial number -> this process's search trial
        self.told: set[int] = set()  # prefix trial numbers told to the search
        # This process's search trials whose part was stopped (stale, cut) or lost to another
        # process: pending in the search, they are run again, not left as phantoms there.
        self.orphans: dict[int, dict[str, Any]] = {}  # search trial number -> configuration
        self.dropped: set[int] = set()  # trial numbers whose state files are gone

    def config(self, trial: Trial) -> dict[str, Any]:
        return {k: v for k, v in trial.params.items() if k != self.fidelity}

    def parts(self) -> list[tuple[Trial, int | None]]:
        """The study's trials, each with the prefix it continues (None for a prefix), in one read."""
        frozen = self.study.study.get_trials(deepcopy=False)
        return [(self.study._to_trial(f), f.user_attrs.get(_CONTINUES)) for f in frozen]

    # Reading the study
    def sync(self) -> None:
        """Group the study's parts into runs; tell the search every prefix that ended (another
        process's running prefix is asked as pending, so the search keeps away from it; a stopped
        one it had pending is an orphan, run again)."""
        runs: dict[int, _Run] = {}
        fulls: list[tuple[Trial, int | None]] = []
        for t, link in self.parts():
            if t.state == "waiting":
                continue
            if _stopped(t):  # (a state saved just before a stop is never continued)
                self.drop(t.number)
                if t.number in self.asked and t.number not in self.told:
                    self.told.add(t.number)
                    self.orphans[self.asked[t.number]] = self.config(t)
                continue
            if t.params[self.fidelity] != self.r0:
                fulls.append((t, link))
                continue
            config = self.config(t)
            first = config in self.start and not any(r.start and r.params == config for r in runs.values())
            run = runs[t.number] = _Run(config, t.number, first)
            run.prefix_state = t.state
            if t.state == "complete":
                run.prefix_value, run.part = t.value, t.number
            if t.number not in self.asked:
                self.asked[t.number] = self.adopt(config)
            if t.state != "running" and t.number not in self.told:
                self.told.add(t.number)
                if t.state == "complete":
                    self.search.tell(self.asked[t.number], t.value)
                else:
                    self.search.tell(self.asked[t.number], state="fail", reason=t.reason)
        for t, link in fulls:
            run = runs.get(link)
            if run is None or run.prefix_value is None:
                raise StorageError(
                    f"study {self.study.study_name!r}: trial {t.number} continues trial {link!r} to {self.T} steps, "
                    "which is no prefix that ended with a value (the study was changed by something else)."
                )
            if run.full is None:  # the first that was not stopped
                run.full = t
                if t.state == "complete":
                    run.part = t.number
        self.runs = runs

    # What is left
    def alive(self) -> list[_Run]:
        """The searched runs whose prefix ended with a value, best first (ties: the earlier)."""
        searched = [r for r in self.runs.values() if not r.start and r.prefix_value is not None]
        return sorted(searched, key=lambda r: (self.sign * r.prefix_value, r.prefix))

    def next(self) -> tuple[str, Any] | None:
        """The next piece of work: ("full", run), ("start", config), ("retry", an orphan's search
        trial), ("search", None), ("wait", None) while only other processes' running parts can
        tell what comes next, or None when every part has ended."""
        runs = list(self.runs.values())
        for r in runs:  # a start goes on to the full run right after its prefix
            if r.start and r.prefix_value is not None and r.full is None:
                return "full", r
        for config in self.start:
            if not any(r.start and r.params == config for r in runs):
                return "start", config
        if sum(not r.start for r in runs) < self.searched - len(self.start):
            for number, config in self.orphans.items():
                if config not in self.start:
                    return "retry", number
            return "search", None
        if any(r.prefix_state == "running" for r in runs):
            return "wait", None  # another process's prefix: its value may change which runs go on
        alive = self.alive()
        for r in alive[:self.continued]:
            if r.full is None:
                return "full", r
        for r in alive[self.continued + 1:]:  # never continued (the next one is the spare)
            self.drop(r.part)
        if any(r.running for r in runs):
            return "wait", None  # so that every process returns the same answer
        if any(r.value is not None for r in runs):
            return None
        spare = alive[self.continued:self.continued + 1]  # every continued run failed: one more, beyond the budget
        return ("full", spare[0]) if spare and spare[0].full is None else None

    def adopt(self, config: dict[str, Any]) -> int:
        """This process's search trial for a part of ``config`` found in the study or about to be
        claimed: an orphan of that configuration, or a new one asked for it (pending until told)."""
        for number, orphan in self.orphans.items():
            if orphan == config:
                del self.orphans[number]
                return number
        self.search.enqueue(config)
        return self.search.ask().number

    def drop(self, number: int | None) -> None:
        """Forget the state of trial ``number``: it is not continued."""
        self.kept.pop(number, None)
        if self.disk is not None and number is not None and number not in self.dropped:
            self.disk.drop(number)
            self.dropped.add(number)

    def state(self, number: int) -> Any:
        if number in self.kept or self.disk is None:
            return self.kept[number]
        return self.disk.load(number)  # a part of another or an earlier process

    # Doing it
    def claim(self, params: Mapping[str, Any], step: int, continues: int | None) -> Trial | None:
        """A part of ``params`` to ``step`` steps, or None if another process took the same work
        first: the part is failed as stopped, untrained."""
        trial = self.study._ask_exactly(
            {**params, self.fidelity: step}, None if continues is None else {_CONTINUES: continues}
        )
        earlier = [
            (self.config(t), link, t.number) for t, link in self.parts()
            if t.number < trial.number and t.state != "waiting" and not _stopped(t) and t.params[self.fidelity] == step
        ]
        config = dict(params)
        if continues is not None:
            taken = any(link == continues for _, link, _ in earlier)
        elif config in self.start:
            taken = any(c == config for c, _, _ in earlier)
        else:  # as sync counts them: the first part of each start configuration (they differ) is a start
            configs = [c for c, _, _ in earlier]
            taken = len(configs) - sum(c in configs for c in self.start) >= self.searched - len(self.start)
            # Another process's search asked the same point at the same moment (searches with one
            # seed do), after this process last read the study; a part its search knew of is fair
            # (a small discrete space runs out of new points).
            taken = taken or any(c == config and n not in self.asked for c, _, n in earlier)
        if taken:
            self.study.tell(trial, state="fail", steps=0, reason=STOPPED + "another process took the same work first")
            return None
        return trial

    def run_part(self, trial: Trial, step: int, run: _Run | None = None, state: Any = None) -> Trial:
        """Train ``trial``'s configuration to ``step`` steps, continuing ``run`` from its
        ``state`` if given; tell the study."""
        params = self.config(trial)
        before = 0 if run is None else self.r0
        branch = self.branch if step == self.r0 else 0

        def stop(reason: str) -> None:
            self.study.tell(trial, state="fail", reason=STOPPED + reason, steps=step - before)

        try:
            returned = self.train(dict(params), step, state)
        except DivergedError as exc:
            reached = step if exc.step is None else exc.step
            if isinstance(reached, bool) or not isinstance(reached, numbers.Integral) or not before <= reached <= step:
                stop(f"train raised {exc!r} with a step outside the part")
                raise HPOValueError(
                    f"a diverged run's `step` must lie between the steps it started from and was asked "
                    f"for ({before} <= step <= {step}), but got step={exc.step!r} ({exc.reason})."
                ) from exc
            told = self.study.tell(trial, state="fail", reason=exc.reason, steps=int(reached) - before)
        except BaseException as exc:
            stop(f"train raised {exc!r}")
            raise
        else:
            if not (isinstance(returned, tuple) and len(returned) == 2):
                stop("train returned no (value, state) pair")
                raise HPOTypeError(f"`train` must return a (value, state) pair, but returned {returned!r}.")
            value, state = returned
            if self.disk is not None:
                try:
                    self.disk.save(trial.number, state)
                except BaseException as exc:
                    stop(f"its state was not saved: {exc!r}")
                    if isinstance(exc, (pickle.PicklingError, TypeError, AttributeError)):
                        raise HPOTypeError(
                            f"with `checkpoints`, `train`'s state must pickle, but {type(state).__name__} does "
                            f"not: {exc}"
                        ) from exc
                    raise
            try:
                told = self.study.tell(trial, value, steps=step - before + branch)
            except (HPOTypeError, HPOValueError):
                stop(f"train returned the value {value!r}")
                self.drop(trial.number)
                raise
        if told.state == "complete":
            self.kept[trial.number] = state
            if run is not None:
                self.drop(run.part)  # the run has moved on from its prefix
        else:
            self.drop(trial.number)  # (a value that is not finite: a saved state that no part continues)
        if self.callback is not None:
            self.callback(told)
        return told

    def work(self, wait: bool) -> None:
        """Run parts until every part has ended; ``wait``: other processes run parts too."""
        while True:
            self.sync()
            todo = self.next()
            if todo is None:
                return
            job, what = todo
            if job == "wait":
                if not wait:  # (a single process fails the parts it found running before it starts)
                    raise StorageError(f"study {self.study.study_name!r}: a part is running in another process.")
                self.study._fail_stale()
                time.sleep(_WAIT)
            elif job == "full":
                state = self.state(what.part)  # (read first: a file that is missing adds no part)
                trial = self.claim(what.params, self.T, what.prefix)
                if trial is not None:
                    self.run_part(trial, self.T, what, state)
            else:  # a prefix: this process's search trial for it, and its configuration
                if job == "search":
                    asked = self.search.ask()
                    number, config = asked.number, dict(asked.params)
                elif job == "start":
                    number, config = self.adopt(what), what
                else:  # "retry": an orphan run again
                    number, config = what, self.orphans.pop(what)
                trial = self.claim(config, self.r0, None)
                if trial is None:  # the work runs elsewhere; its search trial waits for another turn
                    self.orphans[number] = config
                else:
                    self.asked[trial.number] = number
                    self.run_part(trial, self.r0)


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
    heartbeat: int | None = None,
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
        heartbeat: Seconds between heartbeats of each running part: several processes may run
            the tuning (see the module's docstring). Needs a storage URL and ``checkpoints`` (a
            folder every process reaches).
        fidelity: The name the study gives the run's length; not a parameter of ``space``.
        callback: Called with each run part's :class:`~hpo.Trial` once it is told (e.g. to log);
            with several processes, each calls it for the parts it ran.
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
    twice = [config for i, config in enumerate(start) if config in start[:i]]
    if twice:
        raise HPOValueError(f"`start` configurations must differ, but {twice[0]} is given twice.")
    b = check_int("branch", branch, 0)
    if heartbeat is not None and checkpoints is None:
        raise HPOValueError(
            "`heartbeat` (several processes) needs `checkpoints`, a folder every process reaches, but got "
            "checkpoints=None."
        )

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
        study_name=study_name, heartbeat=heartbeat,
    )
    search = Tuner(space, directions=direction, seed=study.seed)
    settings = _settings(full=T, trials=n, prefix=r0, budget=budget, start=start, branch=b, seed=study.seed)
    stored = study.study.user_attrs.get(_SETTINGS_KEY)
    if study.trials or (stored is not None and heartbeat is not None):
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
        if heartbeat is None:  # one process: a part found running is one whose process ended
            for t in study.trials:
                if t.state == "running":
                    length = r0 if t.params[fidelity] == r0 else T - r0
                    study.tell(t.number, state="fail", steps=length, reason=STOPPED + "found running on resume: its "
                               "process ended before the part did")
    else:
        held = [] if disk is None else disk.numbers()
        if held:
            raise HPOValueError(
                f"`checkpoints` must be a folder of this study's own, but {str(disk.folder)!r} already holds state "
                f"files ({held[:5]}...) and study {study.study_name!r} is new."
            )
        study.study.set_user_attr(_SETTINGS_KEY, settings)
    tuning = _Tuning(
        study, search, train, fidelity=fidelity, r0=r0, T=T, start=start, searched=searched, continued=continued,
        sign=sign, branch=b, disk=disk, callback=callback,
    )
    tuning.work(wait=heartbeat is not None)
    runs = list(tuning.runs.values())
    done = [r for r in runs if r.value is not None]
    if not done:
        raise TrialStateError("no configuration completed a full run: every run failed.")
    best = min(done, key=lambda r: (sign * r.value, r.full.number))
    state = tuning.state(best.part)
    for r in runs:  # the full runs' states are left
        if r not in done:
            tuning.drop(r.part)
    start_values = tuple(next(r.value for r in runs if r.start and r.params == c) for c in start)
    return PrefixTuning(
        tuner=study, params=best.params, value=best.value, state=state, steps=study.total_steps,
        start_values=start_values, prefix=r0, searched=searched, continued=continued,
    )
