"""The ``hpo`` command.

    hpo bench    samplers side by side on benchmark problems (regret, seconds per trial)
    hpo demo     a short tuning run on the built-in problems, with a report
    hpo report   a report (HTML, PNG, CSV, Markdown) of a stored study
    hpo studies  the studies in a storage, with their best values
    hpo worker   join a study on a storage and run trials of an objective (one of many workers)

Errors are one readable line on stderr and exit status 2, not a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence

from hpo.errors import HPOError

__all__ = ["main"]


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _bench(args: argparse.Namespace) -> int:
    from hpo import bench
    from objectives.synthetic import PARETO, SUITE, get_pareto_problem, get_problem

    def problem(name: str):
        if name == "rag":
            from objectives.rag import RagPipeline, RagProblem

            return RagProblem(RagPipeline(n_questions=100))
        return get_pareto_problem(name) if name in PARETO else get_problem(name)

    if args.suite and args.problems is not None:
        raise HPOError(f"give --suite or --problems, not both, but got --suite {args.suite} --problems {args.problems}.")
    default_problems = "hartmann6" if args.growth else "branin,hartmann6,mixed"
    names = list(SUITE) if args.suite else _csv(args.problems if args.problems is not None else default_problems)
    problems = [problem(n) for n in names]
    samplers = _csv(args.samplers if args.samplers is not None else "hpo,optuna-gp" if args.growth else "hpo,optuna-gp,tpe,random")
    for s in samplers:
        if s not in bench.SAMPLERS:
            raise HPOError(f"--samplers must name samplers among {sorted(bench.SAMPLERS)}, but got {s!r}.")
    if args.growth:  # seconds per ask as the history grows, on one problem
        if len(problems) != 1:
            raise HPOError(f"--growth measures one problem, but got {len(problems)}: {[p.name for p in problems]}.")
        try:
            sizes = [int(n) for n in _csv(args.growth_sizes)]
        except ValueError:
            raise HPOError(f"--growth-sizes must be comma-separated integers, but got {args.growth_sizes!r}.") from None
        rows = []
        for s in samplers:
            rows += bench.growth(
                problems[0], s, sizes, asks=args.growth_asks, seed=args.first_seed, time_limit=args.growth_limit,
                progress=lambda r: print(f"  {r['sampler']:<10} n={r['n']:<5} {r['median']:.3f} s/ask", flush=True),
            )
        text = f"seconds per ask on {problems[0].name} after n completed (random) trials\n\n{bench.format_growth(rows)}"
        print(f"\n{text}")
        if args.out:
            with open(args.out, "w") as f:
                f.write(text + "\n")
            print(f"\nwrote {args.out}")
        return 0
    out = "bench.json" if args.out is None else args.out
    n_seeds = args.seeds if args.seeds is not None else 10 if args.suite else 5
    seeds = list(range(args.first_seed, args.first_seed + n_seeds))
    try:
        budgets = sorted({int(b) for b in _csv(args.budgets or ("25,50,100" if args.suite else ""))})
    except ValueError:
        raise HPOError(f"--budgets must be comma-separated integers, but got {args.budgets!r}.") from None
    if budgets and (args.budget is not None or budgets[0] < 1):
        raise HPOError(f"give --budget or positive --budgets, not both, but got --budget {args.budget} --budgets {args.budgets}.")
    budget = budgets[-1] if budgets else 50 if args.budget is None else args.budget

    done = []
    if args.resume:
        if not out or not os.path.exists(out):
            raise HPOError(f"--resume reads the runs of --out, but got --out {out!r}, which does not exist.")
        done = bench.read_runs(out)
        print(f"resuming: {len(done)} runs read from {out}", flush=True)
    finished = list(done)

    def progress(r: bench.RunResult) -> None:
        print(
            f"  {r.problem:<10} {r.sampler:<10} seed {r.seed}: regret {r.regret[-1]:.4g}, "
            f"{sum(r.seconds) / len(r.seconds):.3f} s/trial",
            flush=True,
        )
        if budgets and out:  # a long benchmark keeps what it has, for --resume
            finished.append(r)
            bench.write_json(out, finished, [], partial=True)

    results = bench.run(problems, samplers, seeds, budget, progress=progress, done=done)
    if budgets:
        summary = bench.broad_summary(results, budgets=budgets)
        rows, text = summary["rows"], bench.format_broad_table(summary)
        extra = {key: summary[key] for key in ("budgets", "samplers", "problems", "geometric_mean", "share")}
        extra["table"] = text
    else:
        rows = bench.summarize(results)
        text, extra = bench.format_table(rows), {}
    print()
    print(text)
    if out:
        bench.write_json(out, results, rows, **extra)
        print(f"\nwrote {out}")
    if args.plot:
        bench.plot_curves(results, args.plot)
        print(f"wrote {args.plot}")
    return 0


def _studies(args: argparse.Namespace) -> int:
    import optuna

    from hpo.tuner import _open_storage

    storage = _open_storage(args.storage)
    summaries = optuna.get_all_study_summaries(storage, include_best_trial=True)
    if not summaries:
        print("no studies")
        return 0
    print(f"{'study':<30} {'trials':>6} {'best value':>14}  best params")
    for s in summaries:
        best = s.best_trial
        value = f"{best.value:.6g}" if best is not None and best.values and len(best.values) == 1 else "-"
        params = best.params if best is not None else {}
        print(f"{s.study_name:<30} {s.n_trials:>6} {value:>14}  {params}")
    return 0


def _report(args: argparse.Namespace) -> int:
    import optuna

    from hpo.report import write_report
    from hpo.tuner import _open_storage

    storage = _open_storage(args.storage)
    names = [s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)]
    if args.study is None:
        if len(names) != 1:
            raise HPOError(f"--study must name one of the storage's studies {names}, but got none.")
        args.study = names[0]
    if args.study not in names:
        raise HPOError(f"--study must name one of the storage's studies {names}, but got {args.study!r}.")
    ref_point = None
    if args.ref_point:
        try:
            ref_point = [float(v) for v in _csv(args.ref_point)]
        except ValueError:
            raise HPOError(f"--ref-point must be comma-separated numbers, but got {args.ref_point!r}.") from None
    study = optuna.load_study(study_name=args.study, storage=storage)
    if ref_point is not None and len(ref_point) != len(study.directions):
        raise HPOError(
            f"--ref-point must have one value per objective ({len(study.directions)}), but got {args.ref_point!r}."
        )
    path = write_report(study, args.out, ref_point=ref_point)
    print(f"report: {os.path.abspath(path)}")
    return 0


DEMO_PARTS = ("branin_currin", "rag", "preference", "lr_schedule")


def _demo(args: argparse.Namespace) -> int:
    """Tune built-in problems and three real targets (the RAG pipeline, DPO/SPO, a learning-rate
    schedule with short training proxies) with hpo, beside random search (or the default
    configuration); write reports."""
    import optuna

    parts = _csv(args.only) if args.only else list(DEMO_PARTS)
    unknown = [p for p in parts if p not in _DEMOS]
    if unknown:
        raise HPOError(f"--only must name parts among {list(_DEMOS)}, but got {unknown}.")
    os.makedirs(args.out, exist_ok=True)
    storage = f"sqlite:///{os.path.abspath(os.path.join(args.out, 'demo.db'))}"
    print(f"hpo demo: {args.trials} trials per problem (at most {args.target_trials} on the real targets), storage {storage}")
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def fresh(name: str) -> str:
        """The demo's study name for ``name``; a previous demo's study of that name is replaced."""
        study_name = f"demo-{name}-seed{args.seed}"
        try:
            optuna.delete_study(study_name=study_name, storage=storage)
        except KeyError:
            pass
        return study_name

    rows, reports = [], []
    for part in parts:
        row, report = _DEMOS[part](args, storage, fresh(part))
        rows.append(row)
        reports.append(report)
    print(f"\n{'problem':<14} {'measure':<8} {'hpo':>10} {'baseline':>10}  best (baseline: random search; "
          "for preference, DPO beta=0.1; for lr_schedule, the default schedule)")
    for name, measure, r_hpo, r_base, params in rows:
        shown = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in params.items()}
        print(f"{name:<14} {measure:<8} {r_hpo:>10.4g} {r_base:>10.4g}  {shown}")
    print()
    for report in reports:
        print(f"report: {os.path.abspath(report)}")
    return 0


def _demo_single(name: str):
    def run(args: argparse.Namespace, storage: str, study_name: str):
        from hpo import bench
        from hpo.report import write_report
        from hpo.tuner import Tuner
        from objectives.synthetic import get_problem  # the CLI may import objectives, lazily

        problem = get_problem(name)
        tuner = Tuner(problem.space, storage=storage, study_name=study_name, seed=args.seed)
        best = tuner.optimize(problem.fn, args.trials, show_progress_bar=sys.stderr.isatty())
        random_run = bench.run_one(problem, "random", args.seed, args.trials)
        report = write_report(tuner.study, os.path.join(args.out, name), optimum=problem.optimum)
        print(f"  {name:<14} best {best.value:.6g} (optimum {problem.optimum:.6g}); report {report}")
        return (name, "regret", best.value - problem.optimum, random_run.regret[-1], best.params), report

    return run


def _demo_pareto(args: argparse.Namespace, storage: str, study_name: str):
    """Two objectives: the report shows the Pareto front, observed and predicted, and hypervolume."""
    import optuna

    from hpo import bench
    from hpo.report import hypervolume_history, write_report
    from hpo.tuner import Tuner
    from objectives.synthetic import get_pareto_problem

    problem = get_pareto_problem("branin_currin")
    tuner = Tuner(
        problem.space, directions=["minimize", "minimize"], storage=storage, study_name=study_name,
        seed=args.seed, ref_point=problem.ref_point,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        tuner.study.set_metric_names(["branin", "currin"])
    front = tuner.optimize(problem.fn, args.trials, show_progress_bar=sys.stderr.isatty())
    gap = bench.run_one(problem, "random", args.seed, args.trials).regret[-1]
    ours = problem.max_hv - hypervolume_history(tuner.study, problem.ref_point)[0][-1]
    report = write_report(tuner.study, os.path.join(args.out, problem.name), ref_point=problem.ref_point)
    print(f"  {problem.name:<14} {len(front)} Pareto-optimal trials; report {report}")
    return (problem.name, "hv-gap", ours, gap, {"pareto trials": len(front)}), report


def _demo_rag(args: argparse.Namespace, storage: str, study_name: str):
    """A real target: the RAG pipeline of objectives.rag, three objectives and a safety constraint."""
    import optuna

    from hpo import bench
    from hpo.report import hypervolume_history, write_report
    from hpo.tuner import Tuner
    from objectives.rag import SMALL_MODULES, RagPipeline, RagProblem, stdlib_corpus

    rag = RagProblem(RagPipeline(stdlib_corpus(SMALL_MODULES), n_questions=20 if args.quick else 60, seed=args.seed))
    ref = [0.0, rag.max_cost, rag.max_latency]
    tuner = Tuner(
        rag.space, directions=["maximize", "minimize", "minimize"], storage=storage, study_name=study_name,
        seed=args.seed, ref_point=ref,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        tuner.study.set_metric_names(["quality (F1)", "cost ($/1k questions)", "latency (ms)"])
    trials = min(args.trials, args.target_trials)
    for i in range(trials):
        trial = tuner.ask()
        r = rag.result(trial.params)
        tuner.tell(trial, [r.quality, r.cost, r.latency], constraints=[r.unsafe - rag.max_unsafe])
        print(f"  rag trial {i + 1:>3}/{trials}: F1 {r.quality:.3f}, ${r.cost:.3f}/1k, {r.latency:.1f} ms, "
              f"unsafe {r.unsafe:.2f}", flush=True)
    ours = rag.max_hv - hypervolume_history(tuner.study, ref)[0][-1]
    gap = bench.run_one(rag, "random", args.seed, trials).regret[-1]
    report = write_report(tuner.study, os.path.join(args.out, "rag"), ref_point=ref)
    front = tuner.pareto_front()
    best = max(front, key=lambda t: t.values[0]).params if front else {}
    print(f"  {'rag':<14} {len(front)} Pareto-optimal feasible configurations; report {report}")
    return ("rag", "hv-gap", ours, gap, {"pareto trials": len(front), **best}), report


def _demo_preference(args: argparse.Namespace, storage: str, study_name: str):
    """A training target: DPO/SPO on a small transformer, reward up, KL within the default's."""
    from hpo.report import write_report
    from hpo.tuner import Tuner
    from objectives.preference import DEFAULT, SPACE, PreferenceTask

    sizes = {"n_pairs": 256, "n_eval": 64, "sft_steps": 30} if args.quick else {}
    task = PreferenceTask(args.seed, **sizes)
    tuner = Tuner(SPACE, directions="maximize", storage=storage, study_name=study_name, seed=args.seed)
    tuner.enqueue(DEFAULT)  # trial 1 is the default: its KL is the budget, and the search starts from it
    first = tuner.ask()
    default = task(first.params)
    tuner.tell(first, default.reward, constraints=[0.0])
    steps = default.steps
    trials = min(args.trials, args.target_trials)
    print(f"  preference trial   1/{trials}: the default, DPO beta=0.1, {default.steps} steps: reward "
          f"{default.reward:.3f}, KL {default.kl:.3f} (the budget)", flush=True)
    for i in range(1, trials):
        trial = tuner.ask()
        r = task(trial.params)
        steps += r.steps
        tuner.tell(trial, r.reward, constraints=[r.kl - default.kl])
        print(f"  preference trial {i + 1:>3}/{trials}: {trial.params['method']} strength "
              f"{trial.params['strength']:.3g}, {r.steps} steps: reward {r.reward:.3f}, KL {r.kl:.3f} "
              f"(budget {default.kl:.3f})", flush=True)
    feasible = [t for t in tuner.trials if t.state == "complete" and t.feasible]
    best = max(feasible, key=lambda t: t.value) if feasible else None
    report = write_report(tuner.study, os.path.join(args.out, "preference"))
    print(f"  {'preference':<14} {steps} training steps spent; report {report}")
    shown = {"KL": best.constraints[0] + default.kl, **best.params} if best else {}
    return ("preference", "reward", best.value if best else float("nan"), default.reward, shown), report


def _demo_lr_schedule(args: argparse.Namespace, storage: str, study_name: str):
    """A training target with short training proxies: a language model's learning-rate schedule,
    tuned by BO on the first fifth of each run, the best runs continued to full length."""
    import functools

    from hpo.report import write_report
    from objectives.lr_schedule import DEFAULT, LRScheduleTask, tune_with_proxies

    task = LRScheduleTask(args.seed, steps=100 if args.quick else 300)
    # The schedule in use (DEFAULT) runs first, in full: the search starts from it.
    result = tune_with_proxies(
        task, trials=min(args.trials, args.target_trials), seed=args.seed, storage=storage, study_name=study_name,
        log=functools.partial(print, flush=True), start=[DEFAULT],
    )
    default = result.start_values[0]
    report = write_report(result.tuner.study, os.path.join(args.out, "lr_schedule"))
    print(f"  {'lr_schedule':<14} answer's full run: validation loss {result.value:.4f} (default: "
          f"{default:.4f}); {result.steps} training steps spent ({result.steps / task.steps:.1f} full "
          f"runs); report {report}")
    shown = {"steps spent": result.steps, **result.params}
    return ("lr_schedule", "val-loss", result.value, default, shown), report


_DEMOS = {  # DEMO_PARTS run by default; the others with --only
    "branin": _demo_single("branin"),
    "mixed": _demo_single("mixed"),
    "branin_currin": _demo_pareto,
    "rag": _demo_rag,
    "preference": _demo_preference,
    "lr_schedule": _demo_lr_schedule,
}


def _load(path: str, flag: str):
    """The object named ``module:attribute`` (``--objective``, ``--space``)."""
    import importlib

    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise HPOError(f"{flag} must be 'module:attribute', but got {path!r}.")
    sys.path.insert(0, os.getcwd())  # as `python -m` would: the user's own modules are importable
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise HPOError(f"{flag}: cannot import module {module_name!r}: {exc}") from None
    finally:
        sys.path.pop(0)
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise HPOError(f"{flag}: module {module_name!r} has no attribute {attribute!r}.") from None


def _objective(args: argparse.Namespace):
    """(space, fn) from --objective and --space; an object with ``space`` and ``fn`` (a problem of
    ``objectives/``), or a factory taking no arguments that returns one, needs no --space."""
    import inspect

    obj = _load(args.objective, "--objective")
    if args.space:
        if not callable(obj):
            raise HPOError(f"--objective must name a callable fn(params), but got {type(obj).__name__}.")
        return _load(args.space, "--space"), obj
    if not hasattr(obj, "space") and callable(obj):
        required = [
            p for p in inspect.signature(obj).parameters.values()
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        if not required:
            obj = obj()
    if not hasattr(obj, "space"):
        raise HPOError("--space is needed: the objective has no `space` attribute.")
    fn = getattr(obj, "fn", obj)
    if not callable(fn):
        raise HPOError(f"--objective must name a callable or an object with fn(params), but got {type(obj).__name__}.")
    return obj.space, fn


def _worker(args: argparse.Namespace) -> int:
    """Run ``--trials`` trials of the objective in the shared study, then print the study's state."""
    import optuna

    from hpo.tuner import Tuner, _redact

    space, fn = _objective(args)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    tuner = Tuner(
        space, directions=_csv(args.directions), storage=args.storage, study_name=args.study, seed=args.seed,
        acquisition=args.acquisition, heartbeat=args.heartbeat, retries=args.retries,
    )
    print(f"hpo worker {os.getpid()}: study {tuner.study_name!r} on {_redact(args.storage)}", flush=True)
    for _ in range(args.trials):
        trial = tuner.ask()
        try:
            result = fn(dict(trial.params))
        except Exception as exc:  # noqa: BLE001 - recorded, then reported or skipped by --catch
            reason = f"{type(exc).__name__}: {exc}"
            tuner.tell(trial, state="fail", reason=reason)
            print(f"  trial {trial.number}: fail ({reason})", flush=True)
            if not args.catch:
                raise HPOError(f"the objective raised in trial {trial.number} ({reason}); it is recorded as "
                               "failed. --catch goes on after such errors.") from None
            continue
        told = tuner.tell(trial, result)
        shown = told.values if told.state == "complete" else told.reason
        print(f"  trial {trial.number}: {told.state} {shown}", flush=True)
    finished = sum(t.state == "complete" for t in tuner.trials)
    print(f"hpo worker {os.getpid()}: done; the study has {finished} complete trials", flush=True)
    return 0


def _problems_help() -> str:
    """``--problems``' help, from the registries of objectives.synthetic (a hand-kept list drifts)."""
    from objectives.synthetic import CONSTRAINED, PARETO, PROBLEMS

    return (
        "comma-separated problem names (default branin,hartmann6,mixed; hartmann6 with --growth): the keys of "
        f"objectives.synthetic.PROBLEMS ({', '.join(k for k in PROBLEMS if k not in CONSTRAINED)}; constrained "
        f"{', '.join(CONSTRAINED)}), gp<k> (a GP sample, seed k); multi-objective {', '.join(PARETO)}; rag (the RAG "
        "pipeline of objectives.rag: quality, cost, latency, unsafe share <= 0.25)"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hpo", description="Bayesian-optimisation hyperparameter tuning for expensive training runs."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    b = sub.add_parser("bench", help="compare samplers on benchmark problems (regret, seconds per trial)")
    b.add_argument(
        "--problems",
        default=None,
        help=_problems_help(),
    )
    b.add_argument(
        "--suite", choices=["broad"], default=None,
        help="broad: the single-objective problems of objectives.synthetic.SUITE, scored by median regret "
        "normalised to random search's at each of --budgets (default 25,50,100, read from one run), with "
        "geometric means; default 10 seeds",
    )
    b.add_argument("--samplers", default=None, help="comma-separated sampler names (default hpo,optuna-gp,tpe,random; hpo,optuna-gp with --growth)")
    b.add_argument("--seeds", type=int, default=None, help="number of seeds (default 5; 10 with --suite)")
    b.add_argument("--first-seed", type=int, default=0, help="seeds run from this one up")
    b.add_argument("--budget", type=int, default=None, help="trials per run (default 50)")
    b.add_argument("--budgets", default="", help="comma-separated budgets read from each run, scored as with --suite")
    b.add_argument("--out", default=None, help="JSON file for the results (default bench.json; '' to skip); with --growth, a text file for the table (default none)")
    b.add_argument("--resume", action="store_true", help="with --budgets/--suite: reuse the runs already in --out")
    b.add_argument("--plot", default="", help="PNG file for the median curves ('' to skip)")
    b.add_argument("--growth", action="store_true", help="measure seconds per ask as the number of completed trials grows")
    b.add_argument("--growth-sizes", default="10,50,100,200,500,1000", help="with --growth: completed-trial counts")
    b.add_argument("--growth-asks", type=int, default=3, help="with --growth: asks timed at each size")
    b.add_argument(
        "--growth-limit", type=float, default=60.0,
        help="with --growth: skip a sampler's larger sizes once its median ask took longer than this many seconds",
    )
    b.set_defaults(func=_bench)

    d = sub.add_parser("demo", help="tune the built-in problems and write a report")
    d.add_argument("--out", default="hpo-report", help="report directory (with the SQLite study)")
    d.add_argument("--trials", type=int, default=30, help="trials per problem")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--only", default="", help=f"comma-separated parts to run (default {','.join(DEMO_PARTS)}; also: branin, mixed)")
    d.add_argument("--target-trials", type=int, default=15, help="at most this many trials on each real target")
    d.add_argument("--quick", action="store_true", help="smaller real targets (fewer questions, a smaller preference task, 100-step language-model runs)")
    d.set_defaults(func=_demo)

    r = sub.add_parser("report", help="write a report (HTML, PNG, CSV, Markdown) of a stored study")
    r.add_argument("storage", help="storage URL, e.g. sqlite:///study.db")
    r.add_argument("--study", default=None, help="study name (optional when the storage holds one study)")
    r.add_argument("--out", default="hpo-report", help="report directory")
    r.add_argument("--ref-point", default="", help="hypervolume reference point, comma-separated (several objectives)")
    r.set_defaults(func=_report)

    w = sub.add_parser(
        "worker",
        help="join a study on a storage and run trials of an objective; start one per process or machine",
        description="Join (or create) a study and run trials of an objective. Start as many workers as you like "
        "on one storage (a SQLite file for processes on one machine, PostgreSQL across machines): each "
        "suggestion accounts for the trials still running in the others.",
    )
    w.add_argument("storage", help="storage URL, e.g. sqlite:///study.db or postgresql://user@host/db")
    w.add_argument("--study", required=True, help="study name (created if it does not exist)")
    w.add_argument(
        "--objective", required=True,
        help="module:attribute of fn(params) -> value(s), or of an object with `space` and `fn` "
        "(e.g. objectives.synthetic:hartmann6)",
    )
    w.add_argument("--space", default="", help="module:attribute of the search space (if the objective has none)")
    w.add_argument("--directions", default="minimize", help="comma-separated: minimize or maximize per objective")
    w.add_argument("--trials", type=int, default=10, help="trials this worker runs")
    w.add_argument("--seed", type=int, default=0, help="the study's seed (the same for every worker)")
    w.add_argument("--acquisition", default="auto")
    w.add_argument("--catch", action="store_true", help="record exceptions in the objective as failed trials and go on")
    w.add_argument(
        "--heartbeat", type=int, default=None,
        help="seconds between heartbeats of the running trial; a trial whose worker stops beating for 3 "
        "heartbeats is failed as stale by the next ask of any worker",
    )
    w.add_argument("--retries", type=int, default=0, help="with --heartbeat: times a stale trial's parameters are retried")
    w.set_defaults(func=_worker)

    s = sub.add_parser("studies", help="list the studies in a storage with their best values")
    s.add_argument("storage", help="storage URL, e.g. sqlite:///study.db")
    s.set_defaults(func=_studies)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except HPOError as exc:
        print(f"hpo {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"hpo {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
