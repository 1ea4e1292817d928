"""The command line, end to end, in a subprocess as a user would run it."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from clitools import ROOT, cli, cli_in_process

from helpers.course import REPOSITORY


@pytest.fixture(scope="module")
def small_npz(tmp_path_factory, sample):
    (x_train, y_train), (x_test, y_test) = sample
    path = tmp_path_factory.mktemp("data") / "small.npz"
    np.savez(
        path, x_train=x_train[:320], y_train=y_train[:320], x_test=x_test[:100], y_test=y_test[:100]
    )
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory, small_npz):
    out = tmp_path_factory.mktemp("model") / "m.keras"
    result = cli("train", "--data", str(small_npz), "--epochs", "1", "--out", str(out))
    return result, out


def test_train_one_epoch_saves_a_model_and_prints_one_json_line(trained):
    result, out = trained
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout.strip().splitlines()[-1])
    assert out.is_file()
    for key in ("accuracy", "mean_iou", "share_iou_0.6", "train_seconds", "images_per_second"):
        assert key in metrics
    assert metrics["train_images"] == 320 and metrics["test_images"] == 100
    assert 0 <= metrics["accuracy"] <= 1 and 0 <= metrics["mean_iou"] <= 1


def test_saved_model_meets_the_contract_in_a_separate_script(trained, tmp_path):
    _, out = trained
    script = tmp_path / "check.py"
    script.write_text(
        textwrap.dedent(f"""
        import numpy as np, helpers
        model = helpers.load_model({str(out)!r})
        out = model.predict(np.zeros((2, 75, 75, 1), np.float32), verbose=0)
        assert sorted(out) == ["bounding_box", "classification"], sorted(out)
        assert out["classification"].shape == (2, 10) and out["bounding_box"].shape == (2, 4)
        assert 0 <= out["bounding_box"].min() and out["bounding_box"].max() <= 1
        print("contract ok")
    """)
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert "contract ok" in result.stdout


def test_evaluate_reports_the_same_metrics_as_train(trained, small_npz):
    result, out = trained
    trained_metrics = json.loads(result.stdout.strip().splitlines()[-1])
    evaluated = cli("evaluate", "--model", str(out), "--data", str(small_npz))
    assert evaluated.returncode == 0, evaluated.stderr
    metrics = json.loads(evaluated.stdout.strip().splitlines()[-1])
    assert metrics["accuracy"] == trained_metrics["accuracy"]
    assert metrics["mean_iou"] == trained_metrics["mean_iou"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--data", "missing.npz", "--epochs", "1"], "MNIST file not found"),
        (["train", "--data", "sample", "--epochs", "0"], "must be at least 1"),
        (["train", "--data", "sample", "--recipe", "fancy"], "invalid choice: 'fancy'"),
        (["train", "--data", "nowhere"], "Unknown data source 'nowhere'"),
        (["evaluate", "--model", "missing.keras", "--data", "sample"], "model file not found"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_traceback(args, message):
    result = cli_in_process(*args)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args", [["--help"], ["student", "missing", "--out", "out"], ["fork", "not a repository"]]
)
def test_help_student_and_fork_start_without_tensorflow(args):
    script = (
        "import runpy, sys\n"
        f"sys.argv = ['helpers', *{args!r}]\n"
        "try:\n    runpy.run_module('helpers', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print('heavy:', sorted({'tensorflow', 'keras'} & set(sys.modules)))\n"
    )
    assert _last_line_of_python(script) == "heavy: []"


def test_fork_and_grade_outside_a_checkout_say_so_in_one_line(tmp_path, monkeypatch):
    # as from a wheel: no notebooks/ in the current folder
    monkeypatch.chdir(tmp_path)
    for args in (
        ["fork", "someone/course"],
        ["fork", "someone/course", "--source", str(tmp_path)],
        ["grade", str(tmp_path), "--out", str(tmp_path / "grades")],
    ):
        result = cli_in_process(*args)
        assert result.returncode == 2, args
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith(
            f"error: {args[0]} needs a course checkout (a folder with notebooks/)"
        )
        assert str(tmp_path) in line and "--source PATH" in line


def test_fork_edits_the_checkout_named_by_source(tmp_path, monkeypatch):
    checkout = tmp_path / "course"
    (checkout / "notebooks").mkdir(parents=True)
    (checkout / "README.md").write_text(f"clone https://github.com/{REPOSITORY}\n")
    monkeypatch.chdir(tmp_path)  # not a checkout itself
    result = cli_in_process("fork", "someone/course", "--source", str(checkout))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["changed"] == ["README.md"]
    assert "someone/course" in (checkout / "README.md").read_text()


def _last_line_of_python(script: str) -> str:
    """The last line ``script`` prints in a fresh interpreter (a new process: which modules a
    command imports can only be seen from a clean start)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT
    )
    lines = result.stdout.strip().splitlines()
    assert lines, result.stderr
    return lines[-1]


def test_malformed_model_file_exits_2(tmp_path):
    bad = tmp_path / "bad.keras"
    bad.write_text("not a model")
    result = cli_in_process("evaluate", "--model", str(bad), "--data", "sample")
    assert result.returncode == 2 and "could not load" in result.stderr
    assert "Traceback" not in result.stderr


def test_student_command_stubs_solutions_and_keeps_checks(tmp_path):
    notebook = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["### Exercise 1"]},
            {
                "cell_type": "code",
                "metadata": {"tags": ["solution"]},
                "execution_count": 3,
                "outputs": [{"output_type": "stream", "name": "stdout", "text": ["9\n"]}],
                "source": ["# Compute the answer.\n", "answer = 9\n"],
            },
            {
                "cell_type": "code",
                "metadata": {},
                "execution_count": 4,
                "outputs": [],
                "source": ["course.check(answer == 9, 'try again')"],
            },
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    source = tmp_path / "nbs"
    source.mkdir()
    (source / "a.ipynb").write_text(json.dumps(notebook))
    result = cli("student", str(source), "--out", str(tmp_path / "student"))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["solutions_stubbed"] == {"a.ipynb": 1}
    cells = json.loads((tmp_path / "student" / "a.ipynb").read_text())["cells"]
    assert cells[1]["source"] == ["# Compute the answer.\n", "# YOUR CODE HERE\n"]
    assert cells[1]["outputs"] == []
    assert cells[2]["source"] == notebook["cells"][2]["source"]


def test_student_command_with_missing_folder_exits_2(tmp_path):
    result = cli_in_process("student", str(tmp_path / "none"), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "no such notebook or folder" in result.stderr


def test_fork_rewrites_every_badge_and_setup_cell(tmp_path):
    from helpers import course
    from helpers.notebooks import fork

    (tmp_path / "helpers").mkdir()
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "helpers" / "course.py").write_text(f'REPOSITORY = "{course.REPOSITORY}"\n')
    (tmp_path / "notebooks" / "01.ipynb").write_text(
        json.dumps({"cells": [{"source": f"colab.research.google.com/github/{course.REPOSITORY}"}]})
    )
    (tmp_path / "README.md").write_text(f"badge {course.REPOSITORY}\n")
    changed = fork("teacher/my-course", tmp_path)
    assert sorted(changed) == ["README.md", "helpers/course.py", "notebooks/01.ipynb"]
    for path in changed:
        text = (tmp_path / path).read_text()
        assert "teacher/my-course" in text and course.REPOSITORY not in text
    with pytest.raises(ValueError, match="OWNER/NAME"):
        fork("not a repo", tmp_path)


def test_train_logs_one_plain_line_per_epoch_when_stdout_is_not_a_terminal(trained):
    result, _ = trained
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("epoch 1/1: loss ") and len(lines) == 2  # then the JSON line
    assert "\x1b" not in result.stdout and "\r" not in result.stdout


def test_keras_data_without_network_says_which_url_failed_in_one_line(tmp_path):
    offline = {
        "KERAS_HOME": str(tmp_path),  # no cached mnist.npz
        "HTTPS_PROXY": "http://127.0.0.1:9",  # nothing listens there: the download fails at once
        "https_proxy": "http://127.0.0.1:9",
    }
    result = cli("train", "--data", "keras", "--epochs", "1", "--out", "m.keras", env=offline)
    assert result.returncode == 2, result.stderr
    # TensorFlow may print its own start-up lines (before it reads TF_CPP_MIN_LOG_LEVEL)
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "Traceback" not in result.stderr
    assert line.startswith("error: could not download MNIST from https://")
    assert "--data sample" in line and "--data PATH.npz" in line
