"""The numbers and names every module of the course shares, defined once.

Import them from here; a size or a seed written out in two modules drifts apart.
Taught in notebook 01 (the canvas and its digits) and used by every notebook.
"""

from __future__ import annotations

import os

#: Digit classes 0-9: the width of the classification head.
NUM_CLASSES = 10
#: Side of an MNIST digit's frame, in pixels.
DIGIT_SIZE = 28
#: Side of the localizer's square canvas, in pixels (notebooks 01-04).
CANVAS_SIZE = 75
#: The localizer's input shape: one grey channel on the square canvas.
INPUT_SHAPE = (CANVAS_SIZE, CANVAS_SIZE, 1)
#: Largest canvas side any function accepts, in pixels: 16 times the course's
#: canvases, far beyond what the course needs, well below what exhausts memory.
MAX_CANVAS_SIZE = 1200
#: The seed every function uses when none is given (weights, offsets, shuffles).
DEFAULT_SEED = 0
#: Seed of the held-out localizer test canvases (a different draw from training's).
TEST_SEED = 1234
#: Seed of the detector's held-out scenes (notebook 05).
DETECTION_TEST_SEED = 2024
#: The detector's default training budget, notebook 05's (the command line's defaults
#: too): 5 epochs of 4,000 fresh canvases in batches of 16, so that notebook 05 runs in
#: 3 minutes on 2 cores. Twice the updates of batches of 32 buy a better detector from
#: the same canvases (mAP@0.5 0.941 against 0.902 after 6 x 4,000 canvases, seed 0:
#: ``python -m benchmarks.detector_budget``).
DETECTOR_EPOCHS = 5
DETECTOR_IMAGES_PER_EPOCH = 4000
DETECTOR_BATCH_SIZE = 16
#: ``LOCALIZER_QUICK=1``: small data and few epochs everywhere (the test suite sets it).
QUICK_ENV = "LOCALIZER_QUICK"


def quick_mode() -> bool:
    """True when the environment variable ``LOCALIZER_QUICK`` is 1, true or yes."""
    return os.environ.get(QUICK_ENV, "").strip().lower() in ("1", "true", "yes")
