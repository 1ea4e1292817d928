"""The course's recipes: everything that decides how a localizer learns, by name.

A *recipe* is the network, the losses and their weights, the optimiser and the batch
size. ``"improved"`` is the course's default; ``"baseline"`` is the original lab.
Every change of the improved recipe can be switched off for the ablation study
(:func:`ablation_recipes`). :data:`RECIPES` is the one registry of names (the CLI's
``--recipe`` choices come from it), and this module imports no TensorFlow, so that
``python -m helpers --help`` stays fast. Taught in notebooks 02 and 03.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from helpers.constants import INPUT_SHAPE
from helpers.validation import check_choice


@dataclass(frozen=True)
class Recipe:
    """How a model is built and trained. Field names read as the ablation table's rows.

    The defaults are the improved recipe's, the same as :func:`helpers.models.build_model`'s
    (a test checks that they agree); :data:`BASELINE` sets the original lab's.
    Taught in notebook 03.
    """

    name: str
    batch_size: int = 64
    learning_rate: float = 5e-3
    cosine_schedule: bool = True
    box_loss_weight: float = 1.0
    ciou_weight: float = 1.0
    batch_norm: bool = False
    max_pooling: bool = True
    box_decoder: bool = True
    split_heads: bool = True
    baseline_network: bool = False
    strided_stem: bool = False
    box_pool: str = "max"
    channels: tuple[int, ...] = (8, 16, 64)
    class_norm: bool = True
    steps_per_execution: int = 1
    jit_compile: bool = False

    def build(self, input_shape: tuple[int, int, int] = INPUT_SHAPE):
        """The uncompiled network for this recipe, for ``input_shape`` ``(side, side, 1)``
        canvases (75x75 by default): a ``keras.Model``."""
        # Imported here: the CLI reads the recipe names without starting TensorFlow.
        from helpers.models import build_baseline_model, build_model

        if self.baseline_network:
            return build_baseline_model(input_shape)
        return build_model(
            input_shape,
            batch_norm=self.batch_norm,
            max_pooling=self.max_pooling,
            box_decoder=self.box_decoder,
            split_heads=self.split_heads,
            strided_stem=self.strided_stem,
            box_pool=self.box_pool,
            channels=self.channels,
            class_norm=self.class_norm,
        )


IMPROVED = Recipe(name="improved")
#: The original lab: its network, Adam at its default constant rate, cross-entropy plus
#: MSE with equal weights, batch 64.
BASELINE = Recipe(
    name="baseline",
    learning_rate=1e-3,
    cosine_schedule=False,
    ciou_weight=0.0,
    max_pooling=False,
    box_decoder=False,
    split_heads=False,
    baseline_network=True,
    channels=(16, 32, 64),
    class_norm=False,
)
#: The course's recipes by name, the default first: the one registry (the CLI's
#: ``--recipe`` choices come from it).
RECIPES = {recipe.name: recipe for recipe in (IMPROVED, BASELINE)}
#: The recipe's network until it got cheaper: the lab's widths, no class-feature
#: normalisation (2.5x the multiply-adds per canvas); the benchmarks' "before".
EARLIER_NETWORK = {"channels": (16, 32, 64), "class_norm": False}
#: A strided network, less than half the baseline's arithmetic per canvas (about the
#: recipe's), as good on clean canvases but not robust: tried and left out (README).
STRIDED_NETWORK = {"strided_stem": True, "channels": (32, 48), "box_pool": "average"}


def get_recipe(name: str) -> Recipe:
    """The recipe called ``name`` (``"improved"`` or ``"baseline"``)."""
    return RECIPES[check_choice(name, "recipe", tuple(RECIPES))]


def ablation_recipes() -> list[Recipe]:
    """The improved recipe, then one variant per design decision, each undone alone.

    The first variants take one of the recipe's changes away; the last ones add a
    change that was tried and left out (batch norm, a heavier box-loss weight, the
    lab's wider network, a cheaper strided network).
    """
    variants = {
        "constant learning rate 1e-3": {"cosine_schedule": False, "learning_rate": 1e-3},
        "no CIoU term (MSE only)": {"ciou_weight": 0.0},
        "average pooling": {"max_pooling": False},
        "linear box head": {"box_decoder": False},
        "shared dense layer": {"split_heads": False},
        "+ batch norm": {"batch_norm": True},
        "+ box-loss weight 10": {"box_loss_weight": 10.0},
        "no class-feature normalisation": {"class_norm": False},
        "+ wider network (16, 32, 64)": {"channels": (16, 32, 64)},
        "+ strided 4x4 stem (32, 48)": STRIDED_NETWORK,
    }
    return [IMPROVED] + [dataclasses.replace(IMPROVED, name=n, **kw) for n, kw in variants.items()]
