"""Helpers for the course *Object localization and classification with one network*.

Modules, one job each:

* :mod:`helpers.data` - load MNIST (download, ``.npz`` file, or the offline sample)
* :mod:`helpers.canvas` - where a digit goes on a canvas and how its pixels get there
* :mod:`helpers.synthesis` - paste digits on a canvas, with frame or tight boxes
* :mod:`helpers.graph_synthesis` - the same canvases made with TensorFlow ops
* :mod:`helpers.boxes` - the box convention, IoU by hand, format conversions
* :mod:`helpers.pipeline` - ``tf.data`` pipelines that synthesise whole batches
* :mod:`helpers.models` - the baseline and improved two-headed networks
* :mod:`helpers.training` - recipes, distribution strategy and the training loop
* :mod:`helpers.evaluation` - accuracy, IoU and their break-downs
* :mod:`helpers.viz` - matplotlib figures
* :mod:`helpers.fonts` - digits rendered from fonts (an out-of-distribution test)
* :mod:`helpers.detection` - multi-digit scenes, a grid detector, NMS and mAP
* :mod:`helpers.course` - what every notebook needs: quick mode, seeds, data, checks
* :mod:`helpers.notebooks` - student versions of notebooks, re-pointing a fork
* :mod:`helpers.cli` - ``python -m helpers train|evaluate|detect-train|student|fork``

``import helpers`` is light: it imports no TensorFlow, so ``python -m helpers --help``,
``student`` and ``fork`` start in a fraction of a second. Submodules load on first use
(``helpers.models``, ``from helpers import training``). Once Keras is imported (before
or after ``helpers``), the custom layers and losses of the localizer and of the
detector are registered, so saved models load with
``keras.saving.load_model(path, compile=False)``.
"""

import contextlib
import importlib
import importlib.abc
import importlib.util
import logging
import os
import sys
from collections.abc import Callable, Iterator
from types import ModuleType

__all__ = [
    "boxes",
    "canvas",
    "data",
    "detection",
    "evaluation",
    "graph_synthesis",
    "models",
    "pipeline",
    "synthesis",
    "training",
]
__version__ = "0.1.0"
#: Every submodule can be reached as an attribute, ``helpers.viz`` as well as ``helpers.models``.
_SUBMODULES = (*__all__, "cli", "course", "errors", "fonts", "notebooks", "viz")
#: Modules that register custom Keras objects, so that saved models can be loaded.
_KERAS_OBJECTS = ("helpers.models", "helpers.detection.model")


def __getattr__(name: str) -> ModuleType:
    """Import a submodule on first use: ``helpers.models`` works without importing it."""
    if name in _SUBMODULES:
        return importlib.import_module(f"helpers.{name}")
    raise AttributeError(f"module 'helpers' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_SUBMODULES])


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for the duration of the block.

    Since TF 2.20, TensorFlow's C++ start-up messages (oneDNN, CUDA probing on a
    machine without a GPU) go straight to the process's stderr before logging is set
    up, so TF_CPP_MIN_LOG_LEVEL cannot hide them, and Jupyter shows them as red text.
    Python-level warnings and errors raised inside the block still propagate.
    """
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2") in ("0", "1"):
        yield  # the user asked for TensorFlow's logs
        return
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class _NoRetracingWarnings(logging.Filter):
    """Drop TensorFlow's "triggered tf.function retracing" warning.

    Each new Keras model traces its own predict function, so a notebook that compares
    several models triggers it by design; the advice in it does not apply here.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


def _quiet_tensorflow(import_it: Callable[[], None]) -> None:
    """Import TensorFlow with its C++ start-up messages silenced, then filter its logger."""
    with _native_stderr_silenced():
        import_it()
        sys.modules["tensorflow"].config.list_physical_devices()  # device probing, silently
    sys.modules["tensorflow"].get_logger().addFilter(_NoRetracingWarnings())


class _ImportHooks(importlib.abc.MetaPathFinder):
    """Run code around some imports, so that ``import helpers`` can stay light.

    * the first import of ``tensorflow``, by anyone: silenced (:func:`_quiet_tensorflow`);
    * once Keras is imported, by anyone: import :data:`_KERAS_OBJECTS`, which register the
      custom layers and losses. That waits until the outermost of these imports is done:
      the registering modules import Keras and other ``helpers`` modules, which are
      half-initialised until then.
    """

    #: Marks every instance, also those of an earlier run of this file (a failed import
    #: is retried by running it again), so that no two of them call each other.
    is_helpers_import_hook = True

    def __init__(self) -> None:
        self.depth = 0  # hooked modules (helpers, keras, tensorflow) executing now, nested
        self.registered = self.registering = False

    def find_spec(self, fullname, path, target=None):
        quiet = fullname == "tensorflow"
        if not (quiet or fullname == "keras" or fullname.startswith("helpers.")):
            return None
        for finder in sys.meta_path:
            if getattr(finder, "is_helpers_import_hook", False):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None:
            spec.loader = _HookedLoader(spec.loader, self, quiet)
        return spec

    def register_keras_objects(self) -> None:
        if self.depth or self.registered or self.registering or "keras" not in sys.modules:
            return
        self.registering = True
        try:
            for module in _KERAS_OBJECTS:
                importlib.import_module(module)
            self.registered = True
        finally:
            self.registering = False


class _HookedLoader(importlib.abc.Loader):
    """The real loader, with :class:`_ImportHooks`' work before and after executing."""

    def __init__(self, loader: importlib.abc.Loader, hooks: _ImportHooks, quiet: bool):
        self.loader, self.hooks, self.quiet = loader, hooks, quiet

    def __getattr__(self, name: str):
        return getattr(self.loader, name)  # get_code (runpy), get_source, resources...

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        module.__spec__.loader = module.__loader__ = self.loader  # hand the real loader back
        self.hooks.depth += 1
        try:
            if self.quiet:
                _quiet_tensorflow(lambda: self.loader.exec_module(module))
            else:
                self.loader.exec_module(module)
        finally:
            self.hooks.depth -= 1
        self.hooks.register_keras_objects()


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
_hooks = _ImportHooks()
if "tensorflow" in sys.modules:  # imported before helpers
    _quiet_tensorflow(lambda: None)
sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "is_helpers_import_hook", False)]
sys.meta_path.insert(0, _hooks)
_hooks.register_keras_objects()
