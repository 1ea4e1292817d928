"""TensorFlow starts without its CPU-only start-up lines, and nothing else is hidden."""

import subprocess
import sys
from pathlib import Path

from helpers.tf_startup import START_UP_NOISE

ROOT = Path(__file__).resolve().parents[1]

NOISE = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796613389.505488   19058 cudart_stub.cc:31] Could not find cuda drivers on "
    "your machine, GPU will not be used.",
    "E0000 00:00:1796613398.283162   19058 cuda_platform.cc:52] failed call to cuInit: INTERNAL: "
    "CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)",
]
GENUINE = [
    "E0000 00:00:1796613398.283162   19058 op_kernel.cc:1857] OP_REQUIRES failed: OOM",
    "Traceback (most recent call last):",
    "F0000 cuda_platform.cc:52] Check failed: something the user must see",
]


def test_only_the_known_start_up_lines_count_as_noise():
    assert all(START_UP_NOISE.search(line) for line in NOISE)
    assert not any(START_UP_NOISE.search(line) for line in GENUINE)


def test_a_fresh_start_prints_nothing_but_what_follows_it():
    script = (
        "from helpers.tf_startup import start_tensorflow\n"
        "start_tensorflow()\n"
        "import tensorflow as tf\n"
        "tf.constant(1) + 1\n"
        "import sys; sys.stderr.write('after start\\n')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "after start\n"
