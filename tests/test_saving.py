"""``helpers.load_model`` loads every course model in a fresh interpreter that imports
nothing but ``helpers`` (the custom layers must come from ``load_model`` itself)."""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from clitools import ROOT

import helpers
from helpers import detection
from helpers.errors import InputError
from helpers.models import build_baseline_model, build_model
from helpers.training import compile_model, get_recipe, train


@pytest.fixture(scope="module")
def saved_models(tmp_path_factory, digits):
    """The course's four models saved, with the predictions each gave before saving."""
    folder = tmp_path_factory.mktemp("models")
    rng = np.random.default_rng(0)
    canvases = rng.uniform(0, 1, (3, 75, 75, 1)).astype(np.float32)
    scenes = rng.uniform(0, 1, (2, 96, 96, 1)).astype(np.float32)
    x, y = digits
    tight = train("improved", x[:64], y[:64], epochs=1, batch_size=32, box_kind="tight", verbose=0)
    models = {
        "baseline": compile_model(build_baseline_model(), get_recipe("baseline"), 1, 1),
        "improved": compile_model(build_model(), get_recipe("improved"), 1, 1),
        "tight": tight.model,
        "detector": detection.compile_detector(detection.build_detector()),
    }
    expected = {}
    for name, model in models.items():
        model.save(folder / f"{name}.keras")
        out = model.predict(scenes if name == "detector" else canvases, verbose=0)
        out = out if isinstance(out, dict) else {"grid": out}
        expected.update({f"{name}/{key}": value for key, value in out.items()})
    np.savez(folder / "inputs.npz", canvases=canvases, scenes=scenes)
    return folder, expected


def test_load_model_round_trips_every_course_model_in_a_fresh_interpreter(saved_models):
    folder, expected = saved_models
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        import numpy as np
        import helpers
        folder = Path({str(folder)!r})
        inputs = np.load(folder / "inputs.npz")
        out = {{}}
        for name in ("baseline", "improved", "tight", "detector"):
            model = helpers.load_model(str(folder / f"{{name}}.keras"))  # a str path works too
            got = model.predict(inputs["scenes" if name == "detector" else "canvases"], verbose=0)
            got = got if isinstance(got, dict) else {{"grid": got}}
            out.update({{f"{{name}}/{{key}}": value for key, value in got.items()}})
        trainable = helpers.load_model(folder / "improved.keras", compile=True)
        print("loss:", type(trainable.loss["bounding_box"]).__name__)
        np.savez(folder / "loaded.npz", **out)
        print("hooks:", [f for f in sys.meta_path if type(f).__module__.startswith("helpers")])
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=600
    )
    assert result.returncode == 0, result.stderr
    assert "loss: BoxLoss" in result.stdout and "hooks: []" in result.stdout
    loaded = np.load(folder / "loaded.npz")
    assert sorted(loaded.files) == sorted(expected)
    for key, value in expected.items():
        np.testing.assert_array_equal(loaded[key], value, err_msg=key)


def test_load_model_names_a_missing_or_broken_file(tmp_path):
    with pytest.raises(InputError, match="model file not found"):
        helpers.load_model(tmp_path / "missing.keras")
    broken = tmp_path / "broken.keras"
    broken.write_text("not a model")
    with pytest.raises(InputError, match="could not load"):
        helpers.load_model(broken)
    with pytest.raises(InputError, match="expected a str or a path"):
        helpers.load_model(3)


def test_every_submodule_is_an_attribute_and_the_docstring_lists_them_all():
    package = Path(helpers.__file__).parent
    on_disk = {path.stem for path in package.glob("*.py")} | {
        path.parent.name for path in package.glob("*/__init__.py")
    }
    on_disk = {name for name in on_disk if not name.startswith("_")}
    listed = re.findall(r":mod:`helpers\.(\w+)`", helpers.__doc__)
    assert sorted(listed) == sorted(on_disk) and set(on_disk) <= set(dir(helpers))
    for name in on_disk:
        assert getattr(helpers, name).__name__ == f"helpers.{name}"
