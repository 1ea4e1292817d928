"""The detector before and after it learned from logits: mAP and training time, same run.

Usage::

    python -m benchmarks.detector_logits [--seeds 0 1 2] [--epochs 2] [--images-per-epoch 256]

Before (commit ``68e06c5``): the model applied the sigmoid and softmax itself, its loss took
logs of clipped probabilities, and NMS ran image by image in a Python loop. After: the
model outputs logits, the loss is Keras' from-logits cross-entropies, and decoding
suppresses a whole batch in one graph (``tf.image.combined_non_max_suppression``).

For every seed, each version trains the detector in its own fresh Python process (the
before's ``helpers`` unpacked from git into a temporary folder, the after's from this
checkout; before and after alternate which goes first, so that neither always meets a
warmer or busier machine) and scores it on the same held-out scenes: mAP@0.5 and
mAP@[.5:.95] (the mean over IoU thresholds 0.5, 0.55, ..., 0.95), with the same score
threshold (0.05) and NMS IoU (0.5) as notebook 05. The defaults are notebook 05's quick
settings (2 epochs of 256 canvases, 100 test scenes), cheap enough for a shared 2-core
machine. Results go to ``benchmarks/results/detector_logits.json`` (other settings:
``detector_logits_EPOCHSxIMAGES.json``), with the machine named.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "68e06c5"
#: IoU thresholds of mAP@[.5:.95], as COCO counts them.
THRESHOLDS = [round(0.5 + 0.05 * k, 2) for k in range(10)]


#: The batch size and peak learning rate both versions train with. Given explicitly: the
#: library's default batch changed to 16 later (``benchmarks/detector_budget.py``), and the
#: two versions must train alike.
BATCH_SIZE = 32
LEARNING_RATE = 2e-3


def measure(
    seed: int,
    epochs: int,
    images_per_epoch: int,
    scenes: int,
    batch_size: int = BATCH_SIZE,
    learning_rate: float = LEARNING_RATE,
) -> dict:
    """Train and score one detector with whichever ``helpers`` is on the path."""
    import numpy as np

    from helpers import detection
    from helpers.data import load_mnist

    (x_train, y_train), (x_test, y_test) = load_mnist("sample")
    run = detection.train_detector(
        x_train,
        y_train,
        epochs=epochs,
        images_per_epoch=images_per_epoch,
        batch_size=batch_size,
        learning_rate=learning_rate,
        seed=seed,
        verbose=0,
    )
    images, boxes, classes = detection.make_test_scenes(x_test, y_test, scenes)
    truths = detection.unpad(boxes, classes)
    found = detection.detect(run.model, images, score_threshold=0.05, iou_threshold=0.5)
    maps = [detection.mean_average_precision(found, truths, t).map for t in THRESHOLDS]
    return {
        "map_50": round(maps[0], 4),
        "map_50_95": round(float(np.mean(maps)), 4),
        "train_seconds": round(run.seconds, 2),
        "images_per_second": round(run.images_per_second, 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def run_version(path: Path, args: argparse.Namespace, seed: int) -> dict:
    """:func:`measure` in a fresh process whose ``helpers`` comes from ``path``."""
    command = [sys.executable, str(Path(__file__).resolve()), "--measure", "--seeds", str(seed)]
    command += ["--epochs", str(args.epochs), "--images-per-epoch", str(args.images_per_epoch)]
    command += ["--scenes", str(args.scenes)]
    env = {**os.environ, "PYTHONPATH": str(path), "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=path, check=False)
    if result.returncode:
        raise RuntimeError(f"measuring {path} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def unpack_before(folder: Path) -> Path:
    """The ``helpers`` package of commit :data:`BEFORE`, unpacked into ``folder``."""
    archive = folder / "before.tar"
    with archive.open("wb") as file:
        subprocess.run(["git", "archive", BEFORE, "helpers"], cwd=ROOT, stdout=file, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(folder / "before", filter="data")
    return folder / "before"


def mean(rows: list[dict], key: str) -> float:
    return round(sum(row[key] for row in rows) / len(rows), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=2, help="notebook 05's quick mode: 2")
    parser.add_argument("--images-per-epoch", type=int, default=256, help="quick mode: 256")
    parser.add_argument("--scenes", type=int, default=100, help="held-out scenes (quick: 100)")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        result = measure(args.seeds[0], args.epochs, args.images_per_epoch, args.scenes)
        print(json.dumps(result))
        return

    rows = {"before": [], "after": []}
    with tempfile.TemporaryDirectory(prefix="detector-logits-") as tmp:
        paths = {"before": unpack_before(Path(tmp)), "after": ROOT}
        for k, seed in enumerate(args.seeds):
            order = ("before", "after") if k % 2 == 0 else ("after", "before")
            for version in order:
                row = {"seed": seed, **run_version(paths[version], args, seed)}
                rows[version].append(row)
                print(version, json.dumps(row), flush=True)
    summary = {
        version: {key: mean(found, key) for key in ("map_50", "map_50_95", "train_seconds")}
        for version, found in rows.items()
    }
    change = {
        key: round(summary["after"][key] - summary["before"][key], 4)
        for key in ("map_50", "map_50_95")
    }
    change["train_time_ratio"] = round(
        summary["after"]["train_seconds"] / summary["before"]["train_seconds"], 3
    )
    print("means:", json.dumps(summary), "\nafter - before:", json.dumps(change))
    from benchmarks.compare_recipes import write_result  # imports TensorFlow: only now

    quick = (args.epochs, args.images_per_epoch, args.scenes) == (2, 256, 100)
    name = "detector_logits" if quick else f"detector_logits_{args.epochs}x{args.images_per_epoch}"
    write_result(
        name,
        {
            "before": f"commit {BEFORE}: probabilities in the model, clipped logs, NMS per image",
            "after": "logits, from-logits losses, combined NMS over the batch in one graph",
            "settings": {
                "epochs": args.epochs,
                "images_per_epoch": args.images_per_epoch,
                "batch_size": BATCH_SIZE,
                "learning_rate": LEARNING_RATE,
                "held_out_scenes": args.scenes,
                "score_threshold": 0.05,
                "nms_iou": 0.5,
                "map_thresholds": THRESHOLDS,
            },
            "means": summary,
            "after_minus_before": change,
            "runs": rows,
        },
    )


if __name__ == "__main__":
    main()
