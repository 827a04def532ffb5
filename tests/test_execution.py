"""The execution layer (spikingbp.execution): algorithms declare plans, executors run them."""
import re
from pathlib import Path

import numpy as np
import pytest

import spikingbp
from spikingbp.algorithms import REGISTRY, create
from spikingbp.circuits.program import HEADERS, Program, ProgramCache, precompiled_header
from spikingbp.devices import EXACT_FLOAT_FLAGS
from spikingbp.errors import ConfigError
from spikingbp.execution import (BRIAN_DEVICES, DEVICE_FEATURES, EXECUTORS, REFERENCE, RunContext, devices_for,
                                 each_run, fold)
from spikingbp.training import load_data


def test_every_device_has_one_executor_and_algorithms_declare_needs_not_devices():
    assert set(EXECUTORS) == {REFERENCE, *BRIAN_DEVICES} == {REFERENCE, *DEVICE_FEATURES}
    assert devices_for() == (REFERENCE, *BRIAN_DEVICES)
    assert devices_for("ieee_float") == (REFERENCE, "runtime", "cpp_standalone")
    with pytest.raises(ConfigError, match="unknown device features"):
        devices_for("quantum")
    # the adapters decide nothing about where or how a circuit runs (issue 24's check)
    package = Path(spikingbp.__file__).parent / "algorithms"
    for name in REGISTRY:
        source = (package / f"{name}.py").read_text()
        hits = [line for line in source.splitlines()
                if re.search(r"cpp_standalone|runtime|ProgramCache|RERUNNABLE|chunk", line)]
        assert hits == [], f"{name}.py: {hits}"


def test_a_cache_miss_compiles_without_simulating_and_each_chunk_runs_once(tmp_path, monkeypatch):
    """sBP training in runs of 10 samples on cpp_standalone with an empty program cache: the build simulates
    nothing (its results/ stays empty), each of the three runs executes the program once, and the weights are
    the reference's."""
    runs = []
    original = Program.run

    def counted(self, sources, weights):
        runs.append(self.directory)
        return original(self, sources, weights)

    monkeypatch.setattr(Program, "run", counted)
    algorithm = create("sbp")
    data = load_data(algorithm, "digits", None, limit_train=30, limit_test=5)
    params = algorithm.init_params(data.sizes((8,)), 0)
    order = np.arange(30)[::-1]
    cache = ProgramCache(tmp_path / "cache")
    ctx = RunContext("cpp_standalone", seed=0, epoch=1, chunk=10, programs=cache)
    plan = algorithm.plan("train", params, data.X_train, data.T_train, 1)
    learned, = fold(plan, [params], [order], [ctx])
    assert cache.compiled == 1 and len(runs) == 3 and len(set(runs)) == 1
    assert not any((runs[0] / "results").iterdir())          # the build ran nothing
    header, = (tmp_path / "cache" / HEADERS).glob("*/spikingbp_std.h")   # its files start from the headers
    assert f"-include{header}" in (runs[0] / "makefile").read_text().split()     # precompiled in this cache
    expected, = fold(plan, [params], [order], [RunContext(REFERENCE, chunk=30)])
    for name in params:
        np.testing.assert_array_equal(learned[name], expected[name])
    assert (learned["W0"] != params["W0"]).sum() > 10                                  # it learned


def _leftovers(root):
    return sorted(str(path.relative_to(root)) for path in root.rglob("*")) if root.exists() else []


def test_the_precompiled_standard_headers_are_built_once_and_gcc_uses_them(tmp_path, monkeypatch):
    """GCC builds the standard headers once per compiler and flags into the cache and compiles a file with them
    (its -H report marks a usable precompiled header with "!"); the second call compiles nothing."""
    import subprocess

    flag, = precompiled_header(EXACT_FLOAT_FLAGS, tmp_path / "cache")
    assert flag.startswith(f"-include{tmp_path / 'cache' / HEADERS}")
    (tmp_path / "use.cpp").write_text("int main() { std::vector<double> v(3); return int(std::sqrt(v.size())); }\n")
    done = subprocess.run(["g++", "-c", *EXACT_FLOAT_FLAGS, flag, "-H", "use.cpp"], cwd=tmp_path, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    assert f"! {flag[len('-include'):]}.gch" in done.stderr.splitlines()[0]

    def no_compiler(*args, **kwargs):
        raise AssertionError(f"compiled again: {args}")

    with monkeypatch.context() as patched:
        patched.setattr(subprocess, "run", no_compiler)
        assert precompiled_header(EXACT_FLOAT_FLAGS, tmp_path / "cache") == [flag]
    Path(flag[len("-include"):]).unlink()   # a damaged set is built again
    assert precompiled_header(EXACT_FLOAT_FLAGS, tmp_path / "cache") == [flag]
    assert Path(flag[len("-include"):]).is_file() and Path(flag[len("-include"):] + ".gch").is_file()


def test_without_gcc_or_when_the_headers_fail_to_build_files_parse_them_and_nothing_is_left(tmp_path, monkeypatch):
    """A compiler that is not GCC gets no precompiled header; one whose build fails, or is interrupted, leaves
    nothing behind (and the interrupt goes on up)."""
    import subprocess

    from spikingbp.circuits import program

    clang = tmp_path / "clang++"
    clang.write_text("#!/bin/sh\necho '#define __GNUC__ 4'; echo '#define __clang__ 1'\n")
    clang.chmod(0o755)
    monkeypatch.setenv("CXX", str(clang))
    assert precompiled_header(EXACT_FLOAT_FLAGS, tmp_path / "a") == [] and _leftovers(tmp_path / "a") == []

    monkeypatch.setenv("CXX", "g++")
    assert precompiled_header(["-no-such-flag"], tmp_path / "b") == []
    assert _leftovers(tmp_path / "b") == [HEADERS]
    original = subprocess.run

    def interrupted(command, **kwargs):
        if "c++-header" in command:
            raise KeyboardInterrupt
        return original(command, **kwargs)

    monkeypatch.setattr(program.subprocess, "run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        precompiled_header(["-O1"], tmp_path / "c")
    assert _leftovers(tmp_path / "c") == [HEADERS]


def test_evaluation_runs_come_in_sample_order_and_ensembles_need_equal_lengths():
    algorithm = create("sbp")
    data = load_data(algorithm, "digits", None, limit_train=30, limit_test=25)
    params = algorithm.init_params(data.sizes((8,)), 0)
    plan = algorithm.plan("inference", params, data.X_test)
    parts = [part for part, _ in each_run(plan, params, np.arange(25), RunContext(REFERENCE, chunk=10))]
    assert [p.tolist() for p in parts] == [list(range(10)), list(range(10, 20)), list(range(20, 25))]
    with pytest.raises(ConfigError, match="as many samples each"):
        fold(algorithm.plan("train", params, data.X_train, data.T_train), [params, params],
             [np.arange(4), np.arange(3)], [RunContext()] * 2)


def test_every_option_of_every_algorithm_is_bounded_and_says_its_range():
    """A value outside an option's range is refused before anything runs (--option train_ms=1e9 asked eRBP for
    596 GiB); every numeric option has both bounds, and the message states the range in words."""
    for name, cls in REGISTRY.items():
        for key, spec in cls.options.items():
            if spec.kind in (int, float) and not spec.choices:
                assert spec.low is not None and spec.high is not None, f"{name} option {key} is unbounded"
    with pytest.raises(ConfigError, match=r"train_ms=1000000000.0 must be in \[0.2, 10000\]"):
        create("erbp", {"train_ms": 1e9})
