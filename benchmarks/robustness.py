"""Does a cheaper network stay robust? The recipe and the strided network on harder canvases.

Usage::

    python -m benchmarks.robustness [--epochs 10]

Notebook 04 trains the improved recipe on harder canvases (digits resized to 20-40 px,
background noise 0.15, 6 clutter fragments) and scores it on clean and damaged test
canvases. This benchmark does the same for the recipe and for the recipe on the strided
network (:data:`helpers.training.STRIDED_NETWORK`: less than half the arithmetic per
canvas, and as good as the recipe on clean canvases), on the offline sample, seed 0.
Results go to ``benchmarks/results/robustness.json``, with the machine named.
"""

from __future__ import annotations

# First, so that TensorFlow's C++ start-up logs are silenced (see helpers/__init__.py).
import helpers  # noqa: F401

# isort: split

import argparse
import dataclasses

from benchmarks.compare_recipes import machine, write_result
from helpers.data import load_mnist
from helpers.evaluation import evaluate
from helpers.pipeline import make_test_set
from helpers.training import IMPROVED, STRIDED_NETWORK, train

HARD = {"scale": (20, 40), "noise": 0.15, "clutter": 6}  # notebook 04's training canvases
CONDITIONS = {
    "clean": {},
    "like training (scale, noise 0.15, clutter 6)": HARD,
    "scale 20-40 px": {"scale": (20, 40)},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    (x_train, y_train), (x_test, y_test) = load_mnist("sample")
    tests = {name: make_test_set(x_test, y_test, **options) for name, options in CONDITIONS.items()}
    print(f"Machine: {machine()}\nTrained on {HARD}, {args.epochs} epochs, seed 0\n")
    rows = []
    for recipe in (
        IMPROVED,
        dataclasses.replace(IMPROVED, name="strided network", **STRIDED_NETWORK),
    ):
        run = train(recipe, x_train, y_train, epochs=args.epochs, seed=0, verbose=0, **HARD)
        for condition, test in tests.items():
            scores = evaluate(run.model, *test).summary()
            rows.append({"recipe": recipe.name, "test canvases": condition, **scores})
            print(
                f"{recipe.name:16} {condition:46} accuracy {scores['accuracy']:.3f}  "
                f"mean IoU {scores['mean_iou']:.3f}  IoU>=0.6 {scores['share_iou_0.6']:.3f}",
                flush=True,
            )
    write_result(
        "robustness",
        {
            "training_canvases": HARD,
            "epochs": args.epochs,
            "rows": rows,
        },
    )


if __name__ == "__main__":
    main()
