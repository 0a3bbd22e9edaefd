"""Benchmark: the fusion classifier on a real dataset next to the baselines (issue 8, item 9):
per-task precision, recall and F1 and label micro/macro F1 on the test split, at threshold 0.5 and
tuned; training time per epoch and in all; peak memory. The dataset and its feature tables are
made beforehand with the CLI (see configs/fusion-tate-level2.toml). Prints Markdown tables and
writes benchmarks/results/classifier_fusion.json.

    .venv/bin/python benchmarks/classifier_fusion.py --config configs/fusion-tate-level2.toml \
        --models-dir /tmp/models [--threads 2] [--datasets-dir data/datasets]
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

from _common import write_results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("--models-dir", required=True, type=Path)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--datasets-dir", type=Path, default=Path("data/datasets"),
                        help="where a dataset named (not a folder) in the config is found")
    args = parser.parse_args()

    import torch

    from heritage_kg.learning.baseline import MajorityBaseline, TfidfLogisticBaseline, evaluate_baseline
    from heritage_kg.learning.datasets import open_dataset
    from heritage_kg.learning.evaluation import comparison_table
    from heritage_kg.learning.run_config import RunConfig
    from heritage_kg.learning.taxonomy import label_space
    from heritage_kg.learning.training import train

    torch.set_num_threads(args.threads)
    config = RunConfig.load(args.config)
    training_set = open_dataset(config.data.dataset, args.datasets_dir)
    space = label_space(training_set)
    started = time.perf_counter()
    run = train(config, models_dir=args.models_dir, datasets_dir=args.datasets_dir)
    fusion_seconds = time.perf_counter() - started
    scored = {"fusion": run.metrics}
    seconds = {"fusion": round(fusion_seconds, 1)}
    # The baseline of the issue (title, medium, artist); the same with the catalogue group and period
    # tokens, to show how much of the fusion model's lead is those facts; the majority predictor.
    for name, estimator, context in (("tf-idf + logistic regression", TfidfLogisticBaseline(), False),
                                     ("tf-idf + lr, with group and period", TfidfLogisticBaseline(), True),
                                     ("majority", MajorityBaseline(), False)):
        started = time.perf_counter()
        scored[name] = evaluate_baseline(estimator, training_set, context)
        seconds[name] = round(time.perf_counter() - started, 1)

    report = {"dataset": training_set.name, "config": str(args.config), "run": str(run.folder),
              "test_rows": run.metrics["tuned"]["test"].rows, "wall_seconds": seconds,
              "training": {k: v for k, v in run.training.items() if k != "history"},
              "history": run.training["history"],
              "peak_memory_mb_process": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
              "load_average_after": [round(x, 2) for x in os.getloadavg()], "tables": {}}
    for policy in ("threshold_0.5", "tuned"):
        table = comparison_table({name: metrics[policy]["test"] for name, metrics in scored.items()}, space)
        report["tables"][policy] = table
        print(f"\n### Test split, {policy.replace('_', ' ')} (task cells: F1 (precision/recall))\n\n{table}")
    report["scores"] = {name: {policy: metrics[policy]["test"].to_dict() for policy in metrics}
                        for name, metrics in scored.items()}
    training = run.training
    print(f"\nfusion: {training['epochs_run']} epochs (best {training['best_epoch']}), "
          f"{training['seconds_per_epoch']:.2f} s/epoch, {training['seconds']:.1f} s of epochs, "
          f"{fusion_seconds:.1f} s in all with feature assembly; peak memory {training['peak_memory_mb']:.0f} MB; "
          f"baselines: {seconds}")
    print(f"-> {write_results('classifier_fusion', report)}")


if __name__ == "__main__":
    main()
