"""Baseline against improved recipe, side by side, in one process; plus data pipelines and ablation.

Usage::

    python -m benchmarks.compare_recipes                 # recipes + pipelines (~3 min, 2 cores)
    python -m benchmarks.compare_recipes --ablation      # + the ablation, 3 seeds (~25 min)

Both recipes train on the same digits, for the same epochs, with the same seed, one
after the other in this process, and are scored on the same held-out canvases. Times
are whole ``train()`` calls (model build, tracing, every epoch), after an untimed
warm-up run of each recipe; the ratios are what to quote, since absolute seconds
depend on the machine, which the output names.

The ablation trains on the training split minus a validation split of 500 digits and
scores on that validation split: it is how the recipe was chosen, so the test split
stays untouched by those decisions. Every variant trains once per seed of
``--ablation-seeds`` (0, 1 and 2): a row holds the means over the seeds and each seed's
own scores, so that a variant can be compared with the recipe seed by seed. Results go
to ``benchmarks/results/*.json``; the ablation's to ``helpers/results/ablation.json``, inside
the package, where notebook 03 reads it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

from helpers.data import load_mnist
from helpers.evaluation import evaluate
from helpers.pipeline import make_test_set, training_dataset
from helpers.training import ablation_recipes, get_recipe, train

RESULTS = Path(__file__).resolve().parent / "results"
#: The ablation table ships inside the package: notebook 03 reads it there on any host.
SHIPPED_RESULTS = Path(__file__).resolve().parents[1] / "helpers" / "results"
VALIDATION_SIZE = 500


def machine() -> str:
    """A one-line description of where the numbers come from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    devices = ", ".join(d.device_type for d in tf.config.list_logical_devices()) or "CPU"
    return f"{cpu}, {os.cpu_count()} cores, {devices}, TensorFlow {tf.__version__}"


def epochs_and_seeds(description: str) -> argparse.Namespace:
    """Command-line ``--epochs`` (10) and ``--seeds`` (0 1 2), for the multi-seed benchmarks."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    return parser.parse_args()


def write_result(name: str, report: dict, folder: Path = RESULTS) -> None:
    """Write ``report`` to ``FOLDER/NAME.json`` (``benchmarks/results/``), the machine first."""
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps({"machine": machine(), **report}, indent=1))


def lab_pipeline(digits: np.ndarray, labels: np.ndarray, batch_size: int) -> tf.data.Dataset:
    """The original lab's input pipeline: one small graph per example, padded into place."""

    def read_image(image, label):
        xmin = tf.random.uniform((), 0, 48, dtype=tf.int32)
        ymin = tf.random.uniform((), 0, 48, dtype=tf.int32)
        image = tf.reshape(image, (28, 28, 1))
        image = tf.image.pad_to_bounding_box(image, ymin, xmin, 75, 75)
        image = tf.cast(image, tf.float32) / 255.0
        xmin, ymin = tf.cast(xmin, tf.float32), tf.cast(ymin, tf.float32)
        box = tf.stack([xmin / 75, ymin / 75, (xmin + 28) / 75, (ymin + 28) / 75])
        return image, {"classification": tf.one_hot(label, 10), "bounding_box": box}

    return (
        tf.data.Dataset.from_tensor_slices((digits, labels.astype(np.int32)))
        .shuffle(len(digits), seed=0)
        .map(read_image, num_parallel_calls=16)
        .repeat()
        .batch(batch_size, drop_remainder=True)
        .prefetch(tf.data.AUTOTUNE)
    )


def images_per_second(dataset: tf.data.Dataset, batches: int, batch_size: int) -> float:
    iterator = iter(dataset)
    next(iterator)  # warm-up: start the threads, fill the buffers
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    rate = batches * batch_size / (time.perf_counter() - start)
    del iterator  # end the pipeline's threads before the next one starts
    return rate


def compare_pipelines(digits: np.ndarray, labels: np.ndarray, batch_size: int = 64) -> dict:
    batches = 3 * len(digits) // batch_size
    lab = images_per_second(lab_pipeline(digits, labels, batch_size), batches, batch_size)
    ours, _ = training_dataset(digits, labels, batch_size=batch_size, seed=0)
    vectorised = images_per_second(ours, batches, batch_size)
    return {"lab_per_example": lab, "vectorised_batches": vectorised, "ratio": vectorised / lab}


def warm_up(digits: np.ndarray, labels: np.ndarray) -> None:
    """Train each recipe briefly, untimed, so neither timed run pays the process's start-up.

    The first training in a process also builds TensorFlow's thread pools and oneDNN's
    kernels; without this, whichever recipe runs first looks about 1.5x slower.
    """
    for name in ("baseline", "improved"):
        train(name, digits[:256], labels[:256], epochs=1, verbose=0)


def scored_run(recipe, digits, labels, test, epochs: int, seed: int, box: str) -> dict:
    recipe = get_recipe(recipe) if isinstance(recipe, str) else recipe
    start = time.perf_counter()
    run = train(recipe, digits, labels, epochs=epochs, seed=seed, box_kind=box, verbose=0)
    wall = time.perf_counter() - start
    scores = evaluate(run.model, *test)
    return {
        "variant": recipe.name,
        "accuracy": scores.accuracy,
        "mean_iou": scores.mean_iou,
        "share_iou_0.6": scores.share_above(0.6),
        "train_seconds": wall,
        "images_per_second": run.images_per_second,
    }


def mean_over_seeds(runs: list[dict], seeds: list[int]) -> dict:
    """One ablation row from a variant's runs (one per seed): the means, and each run."""
    keys = ("accuracy", "mean_iou", "share_iou_0.6", "train_seconds", "images_per_second")
    return {
        "variant": runs[0]["variant"],
        **{key: float(np.mean([run[key] for run in runs])) for key in keys},
        "seeds": seeds,
        "per_seed": [{key: run[key] for key in keys} for run in runs],
    }


def print_table(rows: list[dict], reference: dict | None = None) -> None:
    columns = ("accuracy", "mean IoU", "IoU>=0.6", "train s", "img/s")
    header = f"{'variant':30}" + "".join(f" {name:>9}" for name in columns)
    print(header + ("  time ratio" if reference else ""))
    for row in rows:
        line = (
            f"{row['variant']:30} {row['accuracy']:9.4f} {row['mean_iou']:9.4f} "
            f"{row['share_iou_0.6']:9.4f} {row['train_seconds']:9.1f} "
            f"{row['images_per_second']:9.0f}"
        )
        if reference:
            line += f"  {row['train_seconds'] / reference['train_seconds']:10.2f}"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="sample", help="sample (default), keras or mnist.npz")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--box", choices=("frame", "tight"), default="frame")
    parser.add_argument("--ablation", action="store_true", help="also run the ablation study")
    parser.add_argument(
        "--ablation-seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds of the ablation"
    )
    args = parser.parse_args()

    (x_train, y_train), (x_test, y_test) = load_mnist(args.data)
    load_at_start = os.getloadavg()[0]  # the machine may be shared: say how busy it was
    print(f"Machine: {machine()}")
    print(
        f"Data: {args.data}, {len(x_train)} train / {len(x_test)} test digits, {args.epochs} epochs"
    )

    pipes = compare_pipelines(x_train, y_train)
    print(
        f"\nInput pipelines (images/s, batch 64): original lab per-example map "
        f"{pipes['lab_per_example']:,.0f}, vectorised batches {pipes['vectorised_batches']:,.0f} "
        f"({pipes['ratio']:.1f}x)"
    )

    test = make_test_set(x_test, y_test, box_kind=args.box)
    warm_up(x_train, y_train)
    rows = [
        scored_run(name, x_train, y_train, test, args.epochs, args.seed, args.box)
        for name in ("baseline", "improved")
    ]
    rows[0]["variant"], rows[1]["variant"] = "baseline (original lab)", "improved (default)"
    print(f"\nRecipes, scored on {len(x_test)} held-out test digits ({args.box} boxes):")
    print_table(rows, reference=rows[0])
    write_result(
        f"compare_recipes_{args.box}",
        {
            "data": args.data,
            "epochs": args.epochs,
            "box": args.box,
            "load_average_1min": {"start": load_at_start, "end": os.getloadavg()[0]},
            "pipelines": pipes,
            "rows": rows,
        },
    )

    if args.ablation:
        fit_x, fit_y = x_train[VALIDATION_SIZE:], y_train[VALIDATION_SIZE:]
        validation = make_test_set(x_train[:VALIDATION_SIZE], y_train[:VALIDATION_SIZE], seed=99)
        seeds = args.ablation_seeds
        ablation = [
            mean_over_seeds(
                [
                    scored_run(recipe, fit_x, fit_y, validation, args.epochs, seed, args.box)
                    for seed in seeds
                ],
                seeds,
            )
            for recipe in ablation_recipes()
        ]
        print(
            f"\nAblation, scored on a validation split of {VALIDATION_SIZE} training digits "
            f"(means over seeds {seeds}):"
        )
        print_table(ablation, reference=ablation[0])
        report = {"data": args.data, "epochs": args.epochs, "rows": ablation}
        write_result("ablation", report, SHIPPED_RESULTS)


if __name__ == "__main__":
    main()
