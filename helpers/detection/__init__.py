"""From one digit to many: multi-digit canvases, a grid detector, NMS and mAP by hand.

The localizer of the first notebooks has exactly one box head, so it can only ever
answer "one digit, here". A *detector* answers "these digits, there", however many
there are. This package holds everything the detection notebook needs, one module
per step (``scenes``, ``grid``, ``model``, ``inference``, ``metrics``, ``plots``);
every public name is re-exported here, so ``helpers.detection.detect`` is the API:

Synthesis (:func:`synthesize_scenes`)
    ``96x96`` canvases with 1 to 5 digits each, placed so that no two *tight* boxes
    overlap by more than a small IoU. Labels are padded arrays: boxes ``(N, 5, 4)``
    (normalised xyxy, the course convention) and classes ``(N, 5)`` with ``-1`` in the
    unused slots; :func:`unpad` turns them into per-image lists.
The grid (:func:`encode_targets`, :func:`decode_grid`)
    The canvas is cut into ``12x12`` cells of 8 pixels. The cell that contains a
    digit's box centre *owns* that digit. Every cell predicts 15 numbers:
    objectness (is a digit centred here?), 10 class probabilities, and a box as
    centre offset inside the cell ``(cx, cy)`` in [0, 1] and size ``(w, h)`` as a
    fraction of the canvas. Targets use the same 15-channel layout, so decoding a
    target gives back the ground truth.
The detector (:func:`build_detector`, :class:`DetectionLoss`, :func:`activate`)
    A small fully convolutional network: three conv + 2x2 max-pool stages bring 96
    pixels down to the 12-cell grid, two more convolutions widen the view to ~54
    pixels (two digits' worth) and three 1x1 heads give objectness, class and box
    logits per cell. The loss reads the logits, as keras-io's RetinaNet does: binary
    cross-entropy from logits on objectness in every cell, and, on the cells that own
    a digit only, cross-entropy from logits on the class and ``1 - CIoU`` plus L1 on
    the box. :func:`activate` (sigmoid, softmax, sigmoid) turns logits into the
    targets' layout.
Decoding and NMS (:func:`detect`, :func:`postprocess`, :func:`non_max_suppression`)
    Score of a cell = objectness x probability of its best class. Cells above a
    score threshold become candidate boxes; NMS (on ``yxyx`` boxes, as ``tf.image``
    wants them) removes duplicates: :func:`non_max_suppression` for one image, as the
    notebook teaches it, and ``tf.image.combined_non_max_suppression`` for a whole
    batch in one graph inside :func:`postprocess`. The default is **class-agnostic** NMS:
    our digits never overlap much (IoU <= 0.1 by construction), so two boxes with
    IoU >= 0.5 are the same digit, even when the neighbouring cell that produced the
    second one read it as another class; per-class NMS would keep that wrong label
    as an extra detection. ``class_agnostic=False`` gives per-class NMS.
mAP by hand (:func:`mean_average_precision`)
    Pascal-VOC-style average precision at IoU 0.5, all-point interpolation, one class
    at a time, then the mean over the classes that have ground truth.

Taught in notebook 05.
"""

from helpers.detection.grid import (
    GridDecoding,
    activate,
    count_collisions,
    decode_grid,
    encode_targets,
    grid_to_boxes,
    logits_from_grid,
    owner_cells,
)
from helpers.detection.inference import (
    Detections,
    check_detector,
    detect,
    non_max_suppression,
    postprocess,
)
from helpers.detection.metrics import (
    ClassCurve,
    MeanAP,
    average_precision,
    count_outcomes,
    evaluate_detector,
    match_class,
    match_image,
    mean_average_precision,
    pairwise_iou,
)
from helpers.detection.model import (
    DetectionLoss,
    build_detector,
    compile_detector,
    detection_dataset,
    train_detector,
)
from helpers.detection.plots import plot_pr_curves, plot_scenes
from helpers.detection.scenes import (
    BOX,
    CANVAS_SIZE,
    CHANNELS,
    CLASSES,
    GRID_SIZE,
    MAX_DIGITS,
    MAX_OVERLAP,
    NUM_CLASSES,
    OBJECTNESS,
    TEST_IMAGES,
    TEST_SEED,
    make_test_scenes,
    synthesize_scenes,
    unpad,
)

__all__ = [
    "BOX",
    "CANVAS_SIZE",
    "CHANNELS",
    "CLASSES",
    "ClassCurve",
    "DetectionLoss",
    "Detections",
    "GRID_SIZE",
    "GridDecoding",
    "MAX_DIGITS",
    "MAX_OVERLAP",
    "MeanAP",
    "NUM_CLASSES",
    "OBJECTNESS",
    "TEST_IMAGES",
    "TEST_SEED",
    "activate",
    "average_precision",
    "build_detector",
    "check_detector",
    "compile_detector",
    "count_collisions",
    "count_outcomes",
    "decode_grid",
    "detect",
    "detection_dataset",
    "encode_targets",
    "evaluate_detector",
    "grid_to_boxes",
    "logits_from_grid",
    "make_test_scenes",
    "match_class",
    "match_image",
    "mean_average_precision",
    "non_max_suppression",
    "owner_cells",
    "pairwise_iou",
    "plot_pr_curves",
    "plot_scenes",
    "postprocess",
    "synthesize_scenes",
    "train_detector",
    "unpad",
]
