"""Reports from a stored study: tables (CSV, Markdown), PNG plots and one self-contained HTML page.

Single-objective studies get the best-so-far curve (and the regret curve when the optimum is
known) and the table of trials sorted best first. The HTML page embeds its PNGs as data URIs, so
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
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from hpo.errors import HPOError, HPOValueError

__all__ = ["best_so_far", "trial_table", "write_report"]


def _sign(study: optuna.Study) -> float:
    return 1.0 if study.direction == StudyDirection.MINIMIZE else -1.0


def _feasible(t: FrozenTrial) -> bool:
    return all(v <= 0.0 for v in t.constraints.values())


def best_so_far(study: optuna.Study) -> np.ndarray:
    """Best feasible value after each trial (NaN until the first), a ``n_trials``-dim array."""
    if study._is_multi_objective():
        raise HPOValueError("best_so_far is for single-objective studies.")
    sign, best, out = _sign(study), math.inf, []
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
        sign = _sign(study)
        trials.sort(key=lambda t: (not _feasible(t), sign * t.value))
    rows = [[t.number, *t.values, _feasible(t), *(t.params.get(k, "") for k in names)] for t in trials]
    return header, rows


def _fmt(v: Any) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def _markdown(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(v: Any) -> str:
        return _fmt(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _plot_best_so_far(study: optuna.Study, optimum: float | None) -> bytes:
    try:
        from matplotlib.figure import Figure  # no pyplot: no global backend or figure state
    except ImportError as exc:
        raise HPOError("reports need matplotlib: pip install 'hpo[report]'") from exc
    curve = best_so_far(study)
    values = np.array(
        [t.value if t.state == TrialState.COMPLETE else np.nan for t in study.get_trials(deepcopy=False)], float
    )
    fig = Figure(figsize=(10 if optimum is not None else 6, 4))
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
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def write_report(study: optuna.Study, out_dir: str, *, optimum: float | None = None) -> str:
    """Write ``index.html``, ``best_so_far.png``, ``trials.csv`` and ``trials.md`` to ``out_dir``.

    Args:
        study: A single-objective study (e.g. ``tuner.study`` or one loaded from a storage).
        out_dir: Directory to write into (created if needed).
        optimum: The known optimum, if any, to draw the regret curve.

    Returns:
        The path of ``index.html``.
    """
    if study._is_multi_objective():
        raise HPOValueError(
            f"this report covers single-objective studies, but study {study.study_name!r} has "
            f"{len(study.directions)} objectives."
        )
    os.makedirs(out_dir, exist_ok=True)
    header, rows = trial_table(study)
    with open(os.path.join(out_dir, "trials.csv"), "w", newline="") as f:
        csv.writer(f).writerows([header, *rows])
    with open(os.path.join(out_dir, "trials.md"), "w") as f:
        f.write(_markdown(header, rows))
    png = _plot_best_so_far(study, optimum)
    with open(os.path.join(out_dir, "best_so_far.png"), "wb") as f:
        f.write(png)

    trials = study.get_trials(deepcopy=False)
    counts = {s.name.lower(): sum(t.state == s for t in trials) for s in TrialState}
    failed = [t for t in trials if t.state == TrialState.FAIL]
    esc = html.escape
    table = "".join(
        "<tr>" + "".join(f"<td>{esc(_fmt(v))}</td>" for v in row) + "</tr>" for row in rows[:50]
    )
    failures = "".join(
        f"<li>trial {t.number}: {esc(str(t.system_attrs.get('hpo:fail_reason', 'failed')))}</li>" for t in failed[:20]
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>hpo report: {esc(study.study_name)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:70em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 6px;font-size:90%}}th{{background:#eee}}</style></head>
<body><h1>Study {esc(study.study_name)}</h1>
<p>Direction: {esc(study.direction.name.lower())}. Trials: {len(trials)}
({", ".join(f"{esc(k)} {v}" for k, v in counts.items() if v)}).</p>
<h2>Best so far</h2><img alt="best so far" src="data:image/png;base64,{base64.b64encode(png).decode()}">
<h2>Trials, best first (top 50; all in trials.csv)</h2>
<table><tr>{"".join(f"<th>{esc(str(h))}</th>" for h in header)}</tr>{table}</table>
{f"<h2>Failures</h2><ul>{failures}</ul>" if failures else ""}
</body></html>
"""
    path = os.path.join(out_dir, "index.html")
    with open(path, "w") as f:
        f.write(page)
    return path
