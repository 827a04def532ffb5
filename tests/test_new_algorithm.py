"""examples/new_algorithm.py: a fourth algorithm registered through the public interface runs on every device,
in chunks, resumed after a SIGKILL and as an ensemble, equal to its numpy reference, with no execution code of
its own (issue 24)."""
import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spikingbp.algorithms import REGISTRY
from spikingbp.training import TrainConfig, train, train_ensemble

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "new_algorithm.py"
BASE = dict(algorithm="delta", dataset="digits", hidden=32, limit=90, limit_test=60, epochs=2, chunk=40,
            progress=False)


@pytest.fixture(scope="module")
def delta():
    """The example's module, its algorithm registered for this module's tests only."""
    spec = importlib.util.spec_from_file_location("new_algorithm_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    REGISTRY.pop("delta", None)


def assert_same(params, expected):
    assert set(params) == set(expected)
    for name, value in expected.items():
        np.testing.assert_array_equal(params[name], value)


@pytest.mark.stacks   # the compiled-rerun path, bit for bit, on both stacks
@pytest.mark.slow
def test_the_example_algorithm_learns_and_every_device_equals_its_reference(tmp_path, delta, _program_cache):
    reference = train(TrainConfig(out=tmp_path / "reference", device="reference", **BASE))
    assert reference.metrics["test_accuracy"].iloc[-1] > 0.25   # ten classes, untrained (W1 = 0) says class 0: 0.1
    assert np.abs(reference.params["W1"]).sum() > 100                           # the readout learned
    for device in ("runtime", "cpp_standalone"):                                # in runs of 40 samples: chunked
        result = train(TrainConfig(out=tmp_path / device, device=device, **BASE))
        assert_same(result.params, reference.params)
        np.testing.assert_array_equal(result.metrics["test_accuracy"], reference.metrics["test_accuracy"])
    copies = train_ensemble([TrainConfig(out=tmp_path / f"ensemble{seed}", device="cpp_standalone", seed=seed, **BASE)
                             for seed in (0, 1)])
    alone = train(TrainConfig(out=tmp_path / "seed1", device="reference", seed=1, **BASE))
    assert_same(copies[0].params, reference.params)
    assert_same(copies[1].params, alone.params)
    assert not np.array_equal(alone.params["W1"], reference.params["W1"])


@pytest.mark.slow
def test_the_example_is_the_command_line_and_resumes_after_a_sigkill(tmp_path, delta, _program_cache):
    from test_training import kill_at_first_checkpoint

    out = tmp_path / "killed"
    args = [sys.executable, str(EXAMPLE), "train", "--algorithm", "delta", "--dataset", "digits", "--hidden", "32",
            "--limit", "90", "--limit-test", "60", "--epochs", "2", "--chunk", "40", "--device", "cpp_standalone",
            "--quiet", "--out", str(out)]
    kill_at_first_checkpoint(args, out)
    assert not (out / "weights_final.npz").exists()
    rerun = subprocess.run(args, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    expected = train(TrainConfig(out=tmp_path / "reference", device="reference", **BASE))
    with np.load(out / "weights_final.npz") as final:
        assert_same(dict(final), expected.params)
