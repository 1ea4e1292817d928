"""Do cheaper networks stay robust? The recipe and three alternatives on harder canvases.

Usage::

    python -m benchmarks.robustness [--epochs 10] [--seeds 0 1 2]

Notebook 04 trains the improved recipe on harder canvases (digits resized to 20-40 px,
background noise 0.15, 6 clutter fragments) and scores it on clean and damaged test
canvases. This benchmark does the same, on the offline sample, for three seeds (one
hard-canvas training can land well or badly on box sizes), for the recipe, for the
recipe on its earlier network (the lab's 16, 32 and 64 filters, no normalisation of the
class features: 2.5x the arithmetic per canvas), on the strided network
(:data:`helpers.training.STRIDED_NETWORK`: as good as the recipe on clean canvases, left
out), and for the recipe with average instead of max pooling between its stages (the
ablation's "average pooling" row: slightly tighter boxes on clean training canvases). It
also scores on canvases with the training noise alone, and gives the mean ratio of
predicted to true box area: a network whose boxes shrink on clean canvases and recover
once the noise is back has learnt to lean on the background.
Results go to ``benchmarks/results/robustness.json``, with the machine named.
"""

from __future__ import annotations

import dataclasses
import statistics

import numpy as np

from benchmarks.compare_recipes import epochs_and_seeds, machine, write_result
from helpers.data import load_mnist
from helpers.evaluation import Evaluation, evaluate
from helpers.pipeline import make_test_set
from helpers.training import EARLIER_NETWORK, IMPROVED, STRIDED_NETWORK, train

HARD = {"scale": (20, 40), "noise": 0.15, "clutter": 6}  # notebook 04's training canvases
CONDITIONS = {
    "clean": {},
    "like training (scale, noise 0.15, clutter 6)": HARD,
    "scale 20-40 px": {"scale": (20, 40)},
    "noise 0.15 only": {"noise": 0.15},
}


def box_area_ratio(scores: Evaluation) -> float:
    """Mean of predicted box area / true box area: below 1, the boxes come out too small."""

    def area(boxes):
        return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])

    return float(np.mean(area(scores.boxes) / area(scores.true_boxes)))


def describe(row: dict) -> str:
    """One printed line: recipe, test canvases and the three scores."""
    return (
        f"{row['recipe']:16} {row['test canvases']:46} accuracy {row['accuracy']:.3f}  "
        f"mean IoU {row['mean_iou']:.3f}  IoU>=0.6 {row['share_iou_0.6']:.3f}  "
        f"box area x{row['box_area_ratio']:.2f}"
    )


def mean_rows(rows: list[dict]) -> list[dict]:
    """Per recipe and test condition, the scores' means over the seeds."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["recipe"], row["test canvases"]), []).append(row)
    return [
        {
            "recipe": recipe,
            "test canvases": condition,
            "seeds": len(group),
            **{
                key: statistics.mean(row[key] for row in group)
                for key in ("accuracy", "mean_iou", "share_iou_0.6", "box_area_ratio")
            },
        }
        for (recipe, condition), group in groups.items()
    ]


def main() -> None:
    args = epochs_and_seeds(__doc__.splitlines()[0])
    (x_train, y_train), (x_test, y_test) = load_mnist("sample")
    tests = {name: make_test_set(x_test, y_test, **options) for name, options in CONDITIONS.items()}
    print(f"Machine: {machine()}\nTrained on {HARD}, {args.epochs} epochs, seeds {args.seeds}\n")
    rows = []
    for seed in args.seeds:
        for recipe in (
            IMPROVED,
            dataclasses.replace(IMPROVED, name="earlier network", **EARLIER_NETWORK),
            dataclasses.replace(IMPROVED, name="strided network", **STRIDED_NETWORK),
            dataclasses.replace(IMPROVED, name="average pooling", max_pooling=False),
        ):
            run = train(recipe, x_train, y_train, epochs=args.epochs, seed=seed, verbose=0, **HARD)
            for condition, test in tests.items():
                scores = evaluate(run.model, *test)
                rows.append(
                    {
                        "recipe": recipe.name,
                        "seed": seed,
                        "test canvases": condition,
                        **scores.summary(),
                        "box_area_ratio": box_area_ratio(scores),
                    }
                )
                print(f"seed {seed} {describe(rows[-1])}", flush=True)
    means = mean_rows(rows)
    print("\nMeans over the seeds:")
    for row in means:
        print(describe(row))
    write_result(
        "robustness",
        {
            "training_canvases": HARD,
            "epochs": args.epochs,
            "seeds": args.seeds,
            "means": means,
            "rows": rows,
        },
    )


if __name__ == "__main__":
    main()
