"""Reports from a stored study: tables (CSV, Markdown), PNG plots and one self-contained HTML page.

Single-objective studies get the best-so-far curve (and the regret curve when the optimum is
known) and the table of trials sorted best first. Multi-objective studies get the observed
Pareto front (dominated and infeasible trials marked) beside the front the fitted GPs predict,
a pair plot for three or more objectives, the hypervolume after each trial, and the table of
Pareto-optimal configurations. The HTML page embeds its PNGs as data URIs, so
it opens with no network and no other file; every user string (study, parameter and objective
names, values, failure reasons) is HTML-escaped.

matplotlib is imported only when a plot is drawn (extra ``report``).
"""

from __future__ import annotations

import base64
import csv
import html
import io
import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import optuna
import torch
from optuna.trial import FrozenTrial, TrialState

from acquisitions.pareto import hypervolume, infer_reference_point, non_dominated
from hpo.errors import HPOError, HPOValueError
from hpo.optuna import _signs

__all__ = [
    "best_so_far",
    "trial_table",
    "pareto_table",
    "hypervolume_history",
    "predicted_front",
    "write_report",
]


def _feasible(t: FrozenTrial) -> bool:
    return all(v <= 0.0 for v in t.constraints.values())


def best_so_far(study: optuna.Study) -> np.ndarray:
    """Best feasible value after each trial (NaN until the first), a ``n_trials``-dim array."""
    if study._is_multi_objective():
        raise HPOValueError("best_so_far is for single-objective studies.")
    sign, best, out = -_signs(study)[0], math.inf, []
    for t in study.get_trials(deepcopy=False):
        if t.state == TrialState.COMPLETE and _feasible(t) and math.isfinite(t.value):
            best = min(best, sign * t.value)
        out.append(sign * best if math.isfinite(best) else math.nan)
    return np.array(out)


def trial_table(study: optuna.Study) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of the complete trials, best first: number, value(s), feasibility, params."""
    trials = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    names = sorted({k for t in trials for k in t.params})
    n_obj = len(study.directions)
    value_cols = ["value"] if n_obj == 1 else [f"value_{i}" for i in range(n_obj)]
    header = ["trial", *value_cols, "feasible", *names]
    if n_obj == 1:
        sign = -_signs(study)[0]
        trials.sort(key=lambda t: (not _feasible(t), sign * t.value))
    rows = [[t.number, *t.values, _feasible(t), *(t.params.get(k, "") for k in names)] for t in trials]
    return header, rows


def _observations(study: optuna.Study) -> tuple[list[FrozenTrial], np.ndarray, np.ndarray]:
    """Complete trials with finite values, their ``n x m`` values and ``n`` feasibility flags."""
    trials = [
        t for t in study.get_trials(deepcopy=False)
        if t.state == TrialState.COMPLETE and t.values is not None and all(map(math.isfinite, t.values))
    ]
    values = np.array([t.values for t in trials], dtype=np.float64).reshape(len(trials), len(study.directions))
    return trials, values, np.array([_feasible(t) for t in trials], dtype=bool)


def _pareto_mask(values: np.ndarray, signs: np.ndarray) -> np.ndarray:
    """Non-dominated rows of ``n x m`` values, duplicates once; ``signs`` from
    :func:`hpo.optuna._signs` (``signs * values`` is maximised)."""
    return non_dominated(torch.as_tensor(values * signs)).numpy()


def pareto_table(study: optuna.Study) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of the Pareto-optimal feasible trials (sorted by the first objective)."""
    trials, values, feasible = _observations(study)
    trials = [t for t, f in zip(trials, feasible) if f]
    values = values[feasible]
    front = [t for t, keep in zip(trials, _pareto_mask(values, _signs(study))) if keep]
    front.sort(key=lambda t: -_signs(study)[0] * t.values[0])
    names = sorted({k for t in front for k in t.params})
    header = ["trial", *(f"value_{i}" for i in range(len(study.directions))), *names]
    return header, [[t.number, *t.values, *(t.params.get(k, "") for k in names)] for t in front]


def hypervolume_history(study: optuna.Study, ref_point: Sequence[float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The hypervolume of the feasible observations after each trial, and the reference point.

    Args:
        study: A multi-objective study.
        ref_point: The worst value of each objective that counts (study's units); None infers
            it from all feasible observations (:func:`acquisitions.pareto.infer_reference_point`),
            so the whole curve uses one point.

    Returns:
        A ``n_trials``-dim array (0 before the first feasible observation) and the ``m``-dim
        reference point used.
    """
    signs = _signs(study)
    trials, values, feasible = _observations(study)
    if ref_point is None:
        if not feasible.any():
            return np.zeros(len(study.get_trials(deepcopy=False))), np.full(len(signs), np.nan)
        ref = infer_reference_point(torch.as_tensor(values[feasible] * signs))
    else:
        ref = torch.as_tensor(np.asarray(ref_point, dtype=np.float64) * signs)
    position = {t.number: i for i, t in enumerate(trials)}
    out, seen, current = [], [], 0.0
    for t in study.get_trials(deepcopy=False):
        i = position.get(t.number)
        if i is not None and feasible[i]:
            seen.append(values[i] * signs)
            current = hypervolume(torch.as_tensor(np.array(seen)), ref)  # only when the set grows
        out.append(current)
    return np.array(out), ref.numpy() * signs


def predicted_front(study: optuna.Study, *, n_points: int = 2048, seed: int = 0) -> np.ndarray:
    """The Pareto front of the fitted GPs' mean predictions, in the study's units.

    One GP per objective (and per constraint) is fitted to the complete trials; the means are
    predicted at ``n_points`` scrambled-Sobol points of the search space plus the observed ones,
    points whose predicted constraints are not all ``<= 0`` are dropped, and the non-dominated
    predictions returned (``f x m``, sorted by the first objective).
    """
    from scipy.stats import qmc

    from hpo.space import SearchSpace
    from hpo.surrogate import fit_model

    trials, values, _ = _observations(study)
    if len(trials) < 3:
        return np.zeros((0, len(study.directions)))
    space = SearchSpace.from_optuna(trials[-1].distributions)
    trials = [t for t in trials if set(t.params) == set(space)]
    values = np.array([t.values for t in trials], dtype=np.float64)
    X = np.array([space.encode(t.params) for t in trials])
    names = sorted({k for t in trials for k in t.constraints})
    C = np.array([[t.constraints.get(k, np.nan) for k in names] for t in trials]).reshape(len(trials), -1)
    U = qmc.Sobol(len(space), scramble=True, rng=np.random.default_rng(seed)).random(n_points)
    cand = np.vstack([space.sample_unit(U), X])
    bounds = torch.as_tensor(space.bounds, dtype=torch.float64)
    cat = sorted(space.categorical_dims)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        tX = torch.as_tensor(X, dtype=torch.float64)
        Xc = torch.as_tensor(cand, dtype=torch.float64)
        model = fit_model(tX, torch.as_tensor(values), bounds=bounds, cat_dims=cat)
        with torch.no_grad():
            mean = model.posterior(Xc).mean.numpy().reshape(len(cand), -1)
        ok = np.ones(len(cand), dtype=bool)
        if names:
            known = ~np.isnan(C).any(axis=1)
            if known.sum() >= 3:
                cmodel = fit_model(tX[known], torch.as_tensor(C[known]), bounds=bounds, cat_dims=cat)
                with torch.no_grad():
                    ok = (cmodel.posterior(Xc).mean.numpy().reshape(len(cand), -1) <= 0).all(axis=1)
    mean = mean[ok]
    front = mean[_pareto_mask(mean, _signs(study))] if len(mean) else mean
    return front[np.argsort(front[:, 0])]


def _fmt(v: Any) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def _markdown(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(v: Any) -> str:
        return _fmt(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _figure(**kwargs):
    try:
        from matplotlib.figure import Figure  # no pyplot: no global backend or figure state
    except ImportError as exc:
        raise HPOError("reports need matplotlib: pip install 'hpo[report]'") from exc
    return Figure(**kwargs)


def _png(fig) -> bytes:
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def _plot_best_so_far(study: optuna.Study, optimum: float | None) -> bytes:
    curve = best_so_far(study)
    values = np.array(
        [t.value if t.state == TrialState.COMPLETE else np.nan for t in study.get_trials(deepcopy=False)], float
    )
    fig = _figure(figsize=(10 if optimum is not None else 6, 4))
    axes = np.atleast_1d(fig.subplots(1, 2 if optimum is not None else 1))
    x = np.arange(len(curve))
    axes[0].scatter(x, values, s=10, color="0.6", label="trial value")
    axes[0].step(x, curve, where="post", color="C0", label="best so far")
    axes[0].set_xlabel("trial")
    axes[0].set_ylabel("objective")
    axes[0].set_title("Best so far")
    axes[0].legend()
    if optimum is not None:
        regret = np.abs(curve - optimum)
        axes[1].semilogy(x, np.maximum(regret, 1e-12), color="C1")
        axes[1].set_xlabel("trial")
        axes[1].set_ylabel("regret |best - optimum|")
        axes[1].set_title("Regret")
    return _png(fig)


def _objective_names(study: optuna.Study) -> list[str]:
    names = study.metric_names or [f"objective {i}" for i in range(len(study.directions))]
    return [f"{n} ({d.name.lower()[:3]})" for n, d in zip(names, study.directions)]


def _scatter_front(ax, values, feasible, mask, predicted, i, j, labels, *, show_observed=True) -> None:
    if show_observed:
        dominated = feasible & ~mask
        ax.scatter(values[dominated, i], values[dominated, j], s=12, color="0.65", label="dominated")
        ax.scatter(values[~feasible, i], values[~feasible, j], s=18, marker="x", color="C3", label="infeasible")
        front = values[mask]
        ax.scatter(front[:, i], front[:, j], s=24, color="C0", label="Pareto-optimal", zorder=3)
    else:
        ax.scatter(predicted[:, i], predicted[:, j], s=8, color="C2", label="predicted front")
        front = values[mask]
        ax.scatter(front[:, i], front[:, j], s=24, facecolors="none", edgecolors="C0", label="observed front")
    ax.set_xlabel(labels[i])
    ax.set_ylabel(labels[j])


def _plot_pareto(study: optuna.Study, values, feasible, mask, predicted) -> bytes:
    labels, m = _objective_names(study), len(study.directions)
    if m == 2:
        fig = _figure(figsize=(11, 4.5))
        left, right = fig.subplots(1, 2, sharex=True, sharey=True)
        _scatter_front(left, values, feasible, mask, predicted, 0, 1, labels)
        left.set_title("Observed trials")
        _scatter_front(right, values, feasible, mask, predicted, 0, 1, labels, show_observed=False)
        right.set_title("Front predicted by the GPs")
        left.legend(fontsize=8)
        right.legend(fontsize=8)
        return _png(fig)
    # Three or more: a pair plot, observed below the diagonal and predicted above it.
    fig = _figure(figsize=(3.2 * m, 3.2 * m))
    axes = fig.subplots(m, m, squeeze=False)
    for i in range(m):
        for j in range(m):
            ax = axes[j][i]
            if i == j:
                ax.hist(values[feasible, i], bins=15, color="0.7")
                ax.set_xlabel(labels[i])
                continue
            _scatter_front(ax, values, feasible, mask, predicted, i, j, labels, show_observed=j > i)
    axes[1][0].legend(fontsize=7)
    axes[0][1].legend(fontsize=7)
    fig.suptitle("Pairs of objectives: observed (below the diagonal), predicted front (above)")
    return _png(fig)


def _plot_hypervolume(curve: np.ndarray) -> bytes:
    fig = _figure(figsize=(6, 4))
    ax = fig.subplots()
    ax.step(np.arange(len(curve)), curve, where="post", color="C0")
    ax.set_xlabel("trial")
    ax.set_ylabel("hypervolume of the feasible trials")
    ax.set_title("Hypervolume")
    return _png(fig)


def _write_table(out_dir: str, stem: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    with open(os.path.join(out_dir, f"{stem}.csv"), "w", newline="") as f:
        csv.writer(f).writerows([header, *rows])
    with open(os.path.join(out_dir, f"{stem}.md"), "w") as f:
        f.write(_markdown(header, rows))


def _html_table(header: Sequence[Any], rows: Sequence[Sequence[Any]]) -> str:
    esc = html.escape
    body = "".join("<tr>" + "".join(f"<td>{esc(_fmt(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{''.join(f'<th>{esc(str(h))}</th>' for h in header)}</tr>{body}</table>"


def _img(alt: str, png: bytes) -> str:
    return f'<img alt="{alt}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def write_report(
    study: optuna.Study,
    out_dir: str,
    *,
    optimum: float | None = None,
    ref_point: Sequence[float] | None = None,
) -> str:
    """Write a report of ``study`` to ``out_dir``: ``index.html`` plus PNGs, CSV and Markdown.

    Single objective: ``best_so_far.png``, ``trials.csv``/``.md``. Several objectives:
    ``pareto.png``, ``hypervolume.png``, ``pareto.csv``/``.md`` and ``trials.csv``/``.md``.

    Args:
        study: A study (e.g. ``tuner.study`` or one loaded from a storage).
        out_dir: Directory to write into (created if needed).
        optimum: Single objective: the known optimum, if any, to draw the regret curve.
        ref_point: Several objectives: the hypervolume's reference point (study's units);
            None infers it from the data.

    Returns:
        The path of ``index.html``.
    """
    os.makedirs(out_dir, exist_ok=True)
    header, rows = trial_table(study)
    _write_table(out_dir, "trials", header, rows)
    if study._is_multi_objective():
        body = _pareto_body(study, out_dir, ref_point)
    else:
        png = _plot_best_so_far(study, optimum)
        with open(os.path.join(out_dir, "best_so_far.png"), "wb") as f:
            f.write(png)
        body = f"<h2>Best so far</h2>{_img('best so far', png)}"
    return _write_page(study, out_dir, body, header, rows)


def _pareto_body(study: optuna.Study, out_dir: str, ref_point: Sequence[float] | None) -> str:
    _, values, feasible = _observations(study)
    mask = np.zeros(len(values), dtype=bool)
    if feasible.any():
        mask[np.flatnonzero(feasible)[_pareto_mask(values[feasible], _signs(study))]] = True
    predicted = predicted_front(study)
    pareto_png = _plot_pareto(study, values, feasible, mask, predicted)
    curve, ref = hypervolume_history(study, ref_point)
    hv_png = _plot_hypervolume(curve)
    for name, png in (("pareto.png", pareto_png), ("hypervolume.png", hv_png)):
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(png)
    p_header, p_rows = pareto_table(study)
    _write_table(out_dir, "pareto", p_header, p_rows)
    ref_text = ", ".join(f"{v:.6g}" for v in ref)
    return (
        f"<h2>Pareto front</h2><p>{len(p_rows)} Pareto-optimal feasible trials of {int(feasible.sum())} feasible; "
        f"the GPs predict a front of {len(predicted)} points.</p>{_img('Pareto front', pareto_png)}"
        f"<h2>Hypervolume</h2><p>Reference point ({html.escape(ref_text)}); final hypervolume "
        f"{curve[-1] if len(curve) else 0.0:.6g}.</p>{_img('hypervolume', hv_png)}"
        f"<h2>Pareto-optimal configurations (pareto.csv)</h2>{_html_table(p_header, p_rows)}"
    )


def _write_page(study: optuna.Study, out_dir: str, body: str, header, rows) -> str:
    trials = study.get_trials(deepcopy=False)
    counts = {s.name.lower(): sum(t.state == s for t in trials) for s in TrialState}
    failed = [t for t in trials if t.state == TrialState.FAIL]
    esc = html.escape
    failures = "".join(
        f"<li>trial {t.number}: {esc(str(t.system_attrs.get('hpo:fail_reason', 'failed')))}</li>" for t in failed[:20]
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>hpo report: {esc(study.study_name)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:70em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 6px;font-size:90%}}th{{background:#eee}}</style></head>
<body><h1>Study {esc(study.study_name)}</h1>
<p>Objectives: {esc(", ".join(_objective_names(study)))}. Trials: {len(trials)}
({", ".join(f"{esc(k)} {v}" for k, v in counts.items() if v)}).</p>
{body}
<h2>Trials (first 50; all in trials.csv)</h2>
{_html_table(header, rows[:50])}
{f"<h2>Failures</h2><ul>{failures}</ul>" if failures else ""}
</body></html>
"""
    path = os.path.join(out_dir, "index.html")
    with open(path, "w") as f:
        f.write(page)
    return path
