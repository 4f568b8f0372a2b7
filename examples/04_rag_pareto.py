"""Tune a retrieval-augmented QA pipeline for quality, cost and latency, with a safety constraint.

The pipeline (objectives/rag.py) answers questions about Python's standard library from its own
documentation: chunking, BM25 / dense / hybrid retrieval, top-k, optional reranking, a context
budget and a reader. hpo searches its six settings for the Pareto front of answer quality (F1),
cost (dollars per 1000 questions) and latency (ms per question), keeping only configurations whose
contexts draw on flagged passages for at most 25% of the questions. The report (HTML + PNG + CSV)
shows the front and the hypervolume over trials.

    python examples/04_rag_pareto.py --trials 20 --out rag-report

The first trial of each chunking embeds the corpus (seconds); embeddings are cached on disk.
"""

from __future__ import annotations

import argparse
import os
import warnings

import hpo
from hpo.report import write_report
import optuna

from objectives.rag import SMALL_MODULES, RagPipeline, RagProblem, stdlib_corpus


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--questions", type=int, default=60)
    parser.add_argument("--out", default="rag-report")
    args = parser.parse_args(argv)

    pipeline = RagPipeline(stdlib_corpus(SMALL_MODULES), n_questions=args.questions, seed=args.seed)
    problem = RagProblem(pipeline, max_unsafe=0.25)
    os.makedirs(args.out, exist_ok=True)
    tuner = hpo.Tuner(
        pipeline.space,
        directions=["maximize", "minimize", "minimize"],
        storage=f"sqlite:///{os.path.abspath(os.path.join(args.out, 'rag.db'))}",
        study_name=f"rag-seed{args.seed}",
        seed=args.seed,
        ref_point=[0.0, problem.max_cost, problem.max_latency],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        tuner.study.set_metric_names(["quality", "cost", "latency"])
    for _ in range(args.trials - len(tuner.trials)):
        trial = tuner.ask()
        result = pipeline(trial.params)
        tuner.tell(trial, [result.quality, result.cost, result.latency], constraints=[result.unsafe - 0.25])
        print(
            f"trial {trial.number:>3}: F1 {result.quality:.3f} recall {result.recall:.2f} "
            f"cost ${result.cost:.3f}/1k latency {result.latency:.1f} ms unsafe {result.unsafe:.2f}",
            flush=True,
        )
    front = tuner.pareto_front()
    print(f"\n{len(front)} Pareto-optimal configurations (feasible):")
    for t in sorted(front, key=lambda t: -t.values[0]):
        print(f"  F1 {t.values[0]:.3f}  ${t.values[1]:.3f}/1k  {t.values[2]:.1f} ms  {t.params}")
    report = write_report(tuner.study, args.out, ref_point=[0.0, problem.max_cost, problem.max_latency])
    print(f"\nreport: {os.path.abspath(report)}")
    return {"tuner": tuner, "front": front, "report": report}


if __name__ == "__main__":
    main()
