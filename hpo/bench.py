"""Samplers side by side on the same problems and seeds: regret and seconds per trial.

A *problem* is any object with ``name``, ``space`` (an :class:`hpo.SearchSpace`), ``optimum``
(the known minimum), ``noise_std`` and ``__call__(params, rng) -> float`` (an observation) plus
``fn(params) -> float`` (the noise-free value); ``objectives.synthetic`` provides the standard
ones. Every sampler sees the same problem, seed and budget through Optuna's ask/tell, so the
time per trial is the sampler's own overhead (the objectives cost microseconds).

Regret after t trials is ``f(best observed so far) - optimum`` on the noise-free ``f``, where
"best observed" is judged on the (possibly noisy) observations the sampler saw.

Constrained problems (``problem.constraints(params) -> tuple``, feasible where ``<= 0``) are told
through ``trial.set_constraint``, which Optuna's GPSampler and hpo both read. Their regret counts
feasible trials only (infinite until the first); ``violation`` accumulates ``sum_i max(g_i, 0)``
over trials and ``cumulative_regret`` accumulates ``max(f(x_t) - optimum, 0)`` over all trials,
feasible or not (the two quantities the CONFIG paper bounds); ``declared_infeasible_at`` is the trial after which hpo's sampler had declared the
problem infeasible (None if it never did).

Multi-objective problems (``problem.fn(params) -> tuple`` of minimised values, with
``ref_point`` and ``max_hv``, the true front's hypervolume) are scored by the *hypervolume gap*
``max_hv - HV(observed points)`` above the problem's reference point, in the ``regret`` field
(it too is non-increasing and 0 at the optimum); tables add its log10. With ``constraints`` too,
only feasible points count. Where the true front is unknown (``objectives.rag``), ``max_hv`` is the
hypervolume of the ideal point and the gap, though never 0, still ranks samplers.

A broad benchmark (``hpo bench --suite broad``) runs each sampler once to the largest budget and
reads the best-so-far regret at every smaller budget from the same run (:func:`broad_summary`).
Its *normalised regret* of a sampler on a problem at budget b is

    median over seeds of regret_b(sampler) / median over seeds of regret_b(reference = random)

clipped to ``[1e-3, 1e3]`` (:data:`NORMALISED_RANGE`): 1 is random search, 0.001 means "1000 times
closer to the optimum than random, or better" (so an exact hit on a discrete problem cannot dominate
a geometric mean), and when random's median regret is 0 the ratio is 1 if the sampler's is 0 too,
else 1000. The suite's score is the geometric mean of normalised regret over problems.
:func:`growth` measures seconds per ask as the number of completed trials grows.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import optuna

from hpo.errors import HPOValueError
from hpo.optuna import INFEASIBLE_KEY, OptunaSampler
from hpo.report import hypervolume_history

__all__ = [
    "SAMPLERS",
    "RunResult",
    "run_one",
    "run",
    "summarize",
    "format_table",
    "plot_curves",
    "write_json",
    "read_runs",
    "NORMALISED_RANGE",
    "normalised_regret",
    "broad_summary",
    "format_broad_table",
    "growth",
    "format_growth",
]


def _optuna_gp(seed: int) -> optuna.samplers.BaseSampler:
    return optuna.samplers.GPSampler(seed=seed)


def _botorch(seed: int) -> optuna.samplers.BaseSampler:
    try:
        from optuna_integration import BoTorchSampler
    except ImportError as exc:  # an optional comparison: name the missing extra
        raise HPOValueError(
            "sampler 'botorch' needs the optional package optuna-integration (pip install optuna-integration)."
        ) from exc
    return BoTorchSampler(seed=seed)


SAMPLERS: dict[str, Callable[[int], optuna.samplers.BaseSampler]] = {
    "hpo": lambda seed: OptunaSampler(seed=seed),
    "hpo-config": lambda seed: OptunaSampler(seed=seed, acquisition="config"),
    "hpo-cei": lambda seed: OptunaSampler(seed=seed, acquisition="cei"),
    "hpo-kg": lambda seed: OptunaSampler(seed=seed, acquisition="kg"),
    "optuna-gp": _optuna_gp,
    "tpe": lambda seed: optuna.samplers.TPESampler(seed=seed),
    "nsga2": lambda seed: optuna.samplers.NSGAIISampler(seed=seed),
    "random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
    "botorch": _botorch,
}


@dataclass(frozen=True)
class RunResult:
    """One sampler on one problem with one seed.

    Attributes:
        regret: ``budget`` regrets, best-so-far after each trial (feasible trials only).
        seconds: ``budget`` wall-clock seconds the sampler spent choosing each trial.
        violation: ``budget`` cumulative constraint violations, for constrained problems.
        cumulative_regret: ``budget`` cumulative instantaneous regrets, for constrained problems
            with a known optimum.
        declared_infeasible_at: Trial index at which the problem was first declared infeasible.
    """

    problem: str
    sampler: str
    seed: int
    regret: list[float]
    seconds: list[float]
    violation: list[float] | None = None
    declared_infeasible_at: int | None = None
    cumulative_regret: list[float] | None = None


def run_one(problem: Any, sampler: str, seed: int, budget: int) -> RunResult:
    """Run one sampler for ``budget`` trials on ``problem``."""
    if sampler not in SAMPLERS:
        raise HPOValueError(f"sampler must be one of {sorted(SAMPLERS)}, but got {sampler!r}.")
    if hasattr(problem, "max_hv"):
        return _run_pareto(problem, sampler, seed, budget)
    study = optuna.create_study(sampler=SAMPLERS[sampler](seed), direction="minimize")
    distributions = problem.space.to_optuna()
    rng = np.random.default_rng([seed, 7])
    constraints = getattr(problem, "constraints", None)
    best_obs, best_true, total_violation, declared = np.inf, np.inf, 0.0, None
    regret, seconds, violation, cumulative = [], [], [], []
    for i in range(budget):
        t0 = time.perf_counter()
        trial = study.ask(fixed_distributions=distributions)
        seconds.append(time.perf_counter() - t0)
        observed = problem(trial.params, rng)
        true_value = float(problem.fn(trial.params))
        feasible = True
        if constraints is not None:
            values = constraints(trial.params)
            for j, v in enumerate(values):
                trial.set_constraint(str(j), v)
            total_violation += float(sum(max(v, 0.0) for v in values))
            feasible = all(v <= 0.0 for v in values)
        study.tell(trial, observed)
        if feasible and observed < best_obs:
            best_obs, best_true = observed, true_value
        violation.append(total_violation)
        if problem.optimum is None:
            regret.append(math.nan)
        else:
            regret.append(max(best_true - problem.optimum, 0.0))
            cumulative.append((cumulative[-1] if cumulative else 0.0) + max(true_value - problem.optimum, 0.0))
        if declared is None and study._storage.get_study_system_attrs(study._study_id).get(INFEASIBLE_KEY):
            declared = i
    return RunResult(
        problem.name, sampler, seed, regret, seconds,
        violation=violation if constraints is not None else None,
        declared_infeasible_at=declared,
        cumulative_regret=cumulative if constraints is not None and problem.optimum is not None else None,
    )


def _run_pareto(problem: Any, sampler: str, seed: int, budget: int) -> RunResult:
    m = len(problem.ref_point)
    study = optuna.create_study(sampler=SAMPLERS[sampler](seed), directions=["minimize"] * m)
    distributions = problem.space.to_optuna()
    constraints = getattr(problem, "constraints", None)
    seconds = []
    for _ in range(budget):
        t0 = time.perf_counter()
        trial = study.ask(fixed_distributions=distributions)
        seconds.append(time.perf_counter() - t0)
        values = [float(v) for v in problem.fn(trial.params)]
        if constraints is not None:
            for j, v in enumerate(constraints(trial.params)):
                trial.set_constraint(str(j), float(v))
        study.tell(trial, values)
    curve, _ = hypervolume_history(study, problem.ref_point)
    return RunResult(problem.name, sampler, seed, [max(problem.max_hv - hv, 0.0) for hv in curve], seconds)


def run(
    problems: Sequence[Any],
    samplers: Sequence[str],
    seeds: Sequence[int],
    budget: int,
    *,
    progress: Callable[[RunResult], None] | None = None,
    done: Sequence[RunResult] = (),
) -> list[RunResult]:
    """Every (problem, sampler, seed) combination, in that order.

    A combination found in ``done`` (runs of at least ``budget`` trials, e.g. from
    :func:`read_runs` of an interrupted benchmark) is reused, cut to ``budget``, not run again.
    """
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    previous = {(r.problem, r.sampler, r.seed): r for r in done if len(r.regret) >= budget}
    results = []
    for problem in problems:
        for sampler in samplers:
            for seed in seeds:
                old = previous.get((problem.name, sampler, seed))
                if old is not None:
                    results.append(_cut(old, budget))
                    continue
                result = run_one(problem, sampler, seed, budget)
                results.append(result)
                if progress is not None:
                    progress(result)
    return results


def _cut(r: RunResult, budget: int) -> RunResult:
    def cut(curve: list[float] | None) -> list[float] | None:
        return None if curve is None else curve[:budget]

    return RunResult(
        r.problem, r.sampler, r.seed, r.regret[:budget], r.seconds[:budget],
        violation=cut(r.violation),
        declared_infeasible_at=(
            r.declared_infeasible_at if r.declared_infeasible_at is not None and r.declared_infeasible_at < budget else None
        ),
        cumulative_regret=cut(r.cumulative_regret),
    )


def summarize(results: Sequence[RunResult], *, at: int | None = None) -> list[dict[str, Any]]:
    """Per (problem, sampler): median final regret (after ``at`` trials), IQR, seconds per trial.

    ``sec_per_trial_at_end`` is the mean over seeds of the last 10 trials' times, i.e. the
    overhead at the full history size, which is what grows with the number of trials.
    """
    groups: dict[tuple[str, str], list[RunResult]] = {}
    for r in results:
        groups.setdefault((r.problem, r.sampler), []).append(r)
    rows = []
    for (problem, sampler), runs in groups.items():
        t = (at or len(runs[0].regret)) - 1
        final = np.array([r.regret[t] for r in runs])
        rows.append(
            {
                "problem": problem,
                "sampler": sampler,
                "seeds": len(runs),
                "budget": t + 1,
                "median_regret": float(np.median(final)),
                "q25_regret": float(np.quantile(final, 0.25)),
                "q75_regret": float(np.quantile(final, 0.75)),
                "sec_per_trial": float(np.mean([np.mean(r.seconds[: t + 1]) for r in runs])),
                "sec_per_trial_at_end": float(np.mean([np.mean(r.seconds[max(0, t - 9) : t + 1]) for r in runs])),
                "median_violation": (
                    float(np.median([r.violation[t] for r in runs])) if runs[0].violation is not None else None
                ),
                "median_cumulative_regret": (
                    float(np.median([r.cumulative_regret[t] for r in runs]))
                    if runs[0].cumulative_regret is not None
                    else None
                ),
                "declared_infeasible": sum(
                    r.declared_infeasible_at is not None and r.declared_infeasible_at <= t for r in runs
                ),
                "median_declared_at": (
                    float(np.median([r.declared_infeasible_at + 1 if r.declared_infeasible_at is not None else np.inf for r in runs]))
                ),
            }
        )
    return rows


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """A fixed-width text table of :func:`summarize` rows, grouped by problem."""
    constrained = any(r.get("median_violation") is not None for r in rows)
    header = (
        f"{'problem':<14} {'sampler':<10} {'seeds':>5} {'budget':>6} {'median regret':>14} {'log10':>7} "
        f"{'IQR':>23} {'s/trial':>8} {'s/trial@end':>11}"
    )
    if constrained:
        header += f" {'violation':>10} {'cum regret':>10} {'declared':>8}"
    lines = [header, "-" * len(header)]
    for r in sorted(rows, key=lambda r: (r["problem"], r["median_regret"])):
        iqr = f"[{r['q25_regret']:.3g}, {r['q75_regret']:.3g}]"
        median = r["median_regret"]
        log10 = f"{math.log10(median):.2f}" if median > 0 else ("-inf" if median == 0 else "-")
        line = (
            f"{r['problem']:<14} {r['sampler']:<10} {r['seeds']:>5} {r['budget']:>6} "
            f"{r['median_regret']:>14.4g} {log10:>7} {iqr:>23} {r['sec_per_trial']:>8.3f} {r['sec_per_trial_at_end']:>11.3f}"
        )
        if constrained:
            v, c = r.get("median_violation"), r.get("median_cumulative_regret")
            line += (
                f" {'-' if v is None else format(v, '.3g'):>10} {'-' if c is None else format(c, '.3g'):>10}"
                f" {r['declared_infeasible']:>3}/{r['seeds']:<4}"
            )
        lines.append(line)
    return "\n".join(lines)


def plot_curves(results: Sequence[RunResult], path: str) -> None:
    """Median curves per (problem, sampler), one row of panels per problem, to a PNG.

    Panels: best-so-far regret (or hypervolume gap), and for constrained problems cumulative
    regret and cumulative violation (as in the CONFIG paper's figures). The band is the
    interquartile range over seeds.
    """
    from matplotlib.figure import Figure

    problems = list(dict.fromkeys(r.problem for r in results))
    panels = [("regret", "best-so-far regret / hypervolume gap")]
    if any(r.violation is not None for r in results):
        panels += [("cumulative_regret", "cumulative regret"), ("violation", "cumulative violation")]
    fig = Figure(figsize=(4.5 * len(panels), 3.2 * len(problems)))
    axes = np.array(fig.subplots(len(problems), len(panels), squeeze=False))
    for row, problem in enumerate(problems):
        runs = [r for r in results if r.problem == problem]
        for col, (field, label) in enumerate(panels):
            ax = axes[row, col]
            for k, sampler in enumerate(dict.fromkeys(r.sampler for r in runs)):
                curves = [getattr(r, field) for r in runs if r.sampler == sampler]
                if any(c is None for c in curves):
                    continue
                C = np.array(curves, dtype=float)
                x = np.arange(1, C.shape[1] + 1)
                q25, q50, q75 = np.nanquantile(C, [0.25, 0.5, 0.75], axis=0)
                ax.plot(x, q50, color=f"C{k}", label=sampler)
                ax.fill_between(x, q25, q75, color=f"C{k}", alpha=0.15)
            if field == "regret":
                ax.set_yscale("log")
            ax.set_title(f"{problem}: {label}", fontsize=9)
            ax.set_xlabel("trial")
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def write_json(path: str, results: Sequence[RunResult], rows: Sequence[dict[str, Any]], **extra: Any) -> None:
    """Write the raw per-run curves and the summary rows (and any ``extra`` JSON-able fields)."""
    with open(path, "w") as f:
        json.dump({**extra, "summary": list(rows), "runs": [asdict(r) for r in results]}, f)


def read_runs(path: str) -> list[RunResult]:
    """The runs of a file written by :func:`write_json`."""
    with open(path) as f:
        return [RunResult(**r) for r in json.load(f)["runs"]]


# Broad benchmark: normalised regret against random search, at several budgets of one run.

NORMALISED_RANGE = (1e-3, 1e3)


def normalised_regret(median: float, reference: float) -> float:
    """``median / reference`` clipped to :data:`NORMALISED_RANGE`; with ``reference == 0``, 1 if
    ``median == 0`` too (both solved) and the upper end otherwise."""
    if not (median >= 0.0 and reference >= 0.0):
        raise HPOValueError(f"regrets must be >= 0 (and not NaN), but got median={median!r}, reference={reference!r}.")
    lo, hi = NORMALISED_RANGE
    if reference == 0.0:
        return 1.0 if median == 0.0 else hi
    return float(min(max(median / reference, lo), hi))


def broad_summary(
    results: Sequence[RunResult],
    *,
    budgets: Sequence[int],
    reference: str = "random",
    focus: str = "hpo",
    rival: str = "optuna-gp",
) -> dict[str, Any]:
    """Normalised regret per (problem, sampler, budget), its geometric mean over problems, and
    the share of problems where ``focus`` is at least as good as ``rival``.

    Every budget is read from the same runs: regret and seconds of the first ``b`` trials.

    Returns:
        ``rows``: one dict per (problem, sampler, budget) with ``median_regret``, ``normalised``
        (see :func:`normalised_regret`), ``sec_per_trial`` (mean over seeds and the first b trials)
        and ``sec_per_trial_at_end`` (trials b-9..b); ``geometric_mean``: budget -> sampler ->
        geometric mean of ``normalised`` over problems; ``share``: budget -> the share of problems
        where ``normalised(focus) <= normalised(rival)`` (None without both); plus ``budgets``,
        ``problems``, ``samplers``, ``reference``, ``focus`` and ``rival``.
    """
    budgets = sorted(set(int(b) for b in budgets))
    if not budgets or budgets[0] < 1:
        raise HPOValueError(f"budgets must be positive integers, but got {budgets!r}.")
    groups: dict[tuple[str, str], list[RunResult]] = {}
    for r in results:
        groups.setdefault((r.problem, r.sampler), []).append(r)
    problems = list(dict.fromkeys(r.problem for r in results))
    samplers = list(dict.fromkeys(r.sampler for r in results))
    for problem in problems:
        if (problem, reference) not in groups:
            raise HPOValueError(f"normalising needs the reference sampler {reference!r} on every problem, but {problem!r} has none.")
    shortest = min(len(r.regret) for r in results)
    if budgets[-1] > shortest:
        raise HPOValueError(f"budgets must not exceed the shortest run ({shortest} trials), but got {budgets!r}.")
    rows = []
    for problem in problems:
        for b in budgets:
            ref = float(np.median([r.regret[b - 1] for r in groups[(problem, reference)]]))
            for sampler in samplers:
                runs = groups.get((problem, sampler))
                if not runs:
                    continue
                median = float(np.median([r.regret[b - 1] for r in runs]))
                rows.append(
                    {
                        "problem": problem,
                        "sampler": sampler,
                        "budget": b,
                        "seeds": len(runs),
                        "median_regret": median,
                        "reference_regret": ref,
                        "normalised": normalised_regret(median, ref),
                        "sec_per_trial": float(np.mean([np.mean(r.seconds[:b]) for r in runs])),
                        "sec_per_trial_at_end": float(np.mean([np.mean(r.seconds[max(0, b - 10) : b]) for r in runs])),
                    }
                )
    table = {(r["problem"], r["sampler"], r["budget"]): r for r in rows}
    geometric_mean: dict[int, dict[str, float]] = {}
    share: dict[int, float | None] = {}
    for b in budgets:
        geometric_mean[b] = {}
        for sampler in samplers:
            values = [table[(p, sampler, b)]["normalised"] for p in problems if (p, sampler, b) in table]
            if len(values) == len(problems):  # a mean over some problems would not compare
                geometric_mean[b][sampler] = float(np.exp(np.mean(np.log(values))))
        pairs = [(table.get((p, focus, b)), table.get((p, rival, b))) for p in problems]
        if all(f is not None and r is not None for f, r in pairs):
            share[b] = sum(f["normalised"] <= r["normalised"] for f, r in pairs) / len(pairs)
        else:
            share[b] = None
    return {
        "budgets": budgets,
        "problems": problems,
        "samplers": samplers,
        "reference": reference,
        "focus": focus,
        "rival": rival,
        "rows": rows,
        "geometric_mean": geometric_mean,
        "share": share,
    }


def format_broad_table(summary: dict[str, Any], *, compare: Sequence[str] = ("optuna-gp", "tpe")) -> str:
    """A Markdown table per budget of :func:`broad_summary`: normalised regret per sampler, the
    focus sampler's ratio to each of ``compare``, and seconds per trial; then the geometric means."""
    samplers, focus, rival = summary["samplers"], summary["focus"], summary["rival"]
    compare = [c for c in compare if c in samplers and c != focus] if focus in samplers else []
    table = {(r["problem"], r["sampler"], r["budget"]): r for r in summary["rows"]}

    def num(v: float | None) -> str:
        return "-" if v is None else f"{v:.3g}"

    out = []
    for b in summary["budgets"]:
        head = (
            ["problem"]
            + samplers
            + [f"{focus} / {c}" for c in compare]
            + [f"s/trial {s}" for s in samplers]
            + [f"time {focus} / {c}" for c in compare]
        )
        out += [
            f"### budget {b}: median regret / random's median regret "
            f"(clipped to [{NORMALISED_RANGE[0]:g}, {NORMALISED_RANGE[1]:g}]; lower is better), seconds per trial",
            "",
            "| " + " | ".join(head) + " |",
            "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|",
        ]
        for p in summary["problems"]:
            norm = {s: table[(p, s, b)]["normalised"] if (p, s, b) in table else None for s in samplers}
            sec = {s: table[(p, s, b)]["sec_per_trial"] if (p, s, b) in table else None for s in samplers}
            ratio = [num(norm[focus] / norm[c]) if norm[focus] is not None and norm[c] else "-" for c in compare]
            time_ratio = [num(sec[focus] / sec[c]) if sec[focus] is not None and sec[c] else "-" for c in compare]
            cells = [p] + [num(norm[s]) for s in samplers] + ratio + [num(sec[s]) for s in samplers] + time_ratio
            out.append("| " + " | ".join(cells) + " |")
        gm = summary["geometric_mean"][b]
        gm_ratio = [num(gm[focus] / gm[c]) if focus in gm and gm.get(c) else "-" for c in compare]
        out.append(
            "| **geometric mean** | "
            + " | ".join(num(gm.get(s)) for s in samplers)
            + "".join(f" | {r}" for r in gm_ratio)
            + " |" + " |" * (len(samplers) + len(compare))
        )
        share = summary["share"][b]
        if share is not None:
            n = len(summary["problems"])
            out += ["", f"{focus} <= {rival} (normalised regret) on {round(share * n)} of {n} problems ({share:.0%})."]
        out.append("")
    return "\n".join(out)


# Growth: seconds per ask as the history grows.


def growth(
    problem: Any,
    sampler: str,
    sizes: Sequence[int],
    *,
    asks: int = 3,
    seed: int = 0,
    time_limit: float | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Seconds per ask of ``sampler`` with ``n`` completed trials, for each ``n`` in ``sizes``.

    The history is uniformly random points of ``problem`` (added with their noise-free values
    through ``study.add_trials``, not asked); at each size the sampler answers ``asks`` asks, each
    told its value before the next, so every ask fits to a history it has not seen (as in a run).
    The sizes after one whose median ask took longer than ``time_limit`` seconds are skipped.

    Returns:
        One dict per size measured: ``sampler``, ``n`` (completed trials before the first ask),
        ``median`` / ``min`` / ``max`` seconds per ask.
    """
    sizes = sorted(set(int(n) for n in sizes))
    if not sizes or sizes[0] < 0 or asks < 1:
        raise HPOValueError(f"sizes must be >= 0 and asks >= 1, but got sizes={sizes!r}, asks={asks!r}.")
    if sampler not in SAMPLERS:
        raise HPOValueError(f"sampler must be one of {sorted(SAMPLERS)}, but got {sampler!r}.")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=SAMPLERS[sampler](seed), direction="minimize")
    distributions = problem.space.to_optuna()
    rng = np.random.default_rng([seed, 11])
    rows = []
    for n in sizes:
        missing = n - sum(t.state == optuna.trial.TrialState.COMPLETE for t in study.get_trials(deepcopy=False))
        if missing > 0:
            points = problem.space.decode_many(problem.space.sample_unit(rng.random((missing, len(problem.space)))))
            study.add_trials(
                [optuna.trial.create_trial(params=p, distributions=distributions, value=float(problem.fn(p))) for p in points]
            )
        times = []
        for _ in range(asks):
            t0 = time.perf_counter()
            trial = study.ask(fixed_distributions=distributions)
            times.append(time.perf_counter() - t0)
            study.tell(trial, float(problem.fn(trial.params)))
        row = {"sampler": sampler, "n": n, "median": float(np.median(times)), "min": min(times), "max": max(times)}
        rows.append(row)
        if progress is not None:
            progress(row)
        if time_limit is not None and row["median"] > time_limit:
            break
    return rows


def format_growth(rows: Sequence[dict[str, Any]]) -> str:
    """A Markdown table of :func:`growth` rows: median seconds per ask, one column per sampler."""
    samplers = list(dict.fromkeys(r["sampler"] for r in rows))
    sizes = sorted(set(r["n"] for r in rows))
    cell = {(r["sampler"], r["n"]): r for r in rows}
    lines = [
        "| completed trials | " + " | ".join(f"{s} s/ask (min-max)" for s in samplers) + " |",
        "|---:|" + "---:|" * len(samplers),
    ]
    for n in sizes:
        cells = []
        for s in samplers:
            r = cell.get((s, n))
            cells.append("-" if r is None else f"{r['median']:.3g} ({r['min']:.3g}-{r['max']:.3g})")
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
