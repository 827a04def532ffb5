"""The spikingbp command: each command's output and exit codes, and clear errors on bad input."""
import importlib.metadata
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from spikingbp.circuits.program import HEADERS
from spikingbp.cli import main
from spikingbp.data import write_idx

REPO = Path(__file__).resolve().parents[1]
COMMAND = [sys.executable, "-m", "spikingbp.cli"]


def run_command(args, cwd=None, env=None, **kwargs):
    return subprocess.run(COMMAND + args, capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, **kwargs)


def test_info_reports_the_stack_and_devices(capsys):
    from spikingbp.devices import available_devices

    assert main(["info"]) == 0
    out = capsys.readouterr().out
    from spikingbp.cli import BACKEND_PACKAGES
    from spikingbp.compat import missing_backend

    for package in ("brian2", "lava-nc", "brian2genn", "numpy"):
        try:
            assert f"  {package:<13} {importlib.metadata.version(package)}\n" in out
        except importlib.metadata.PackageNotFoundError:   # a back end of the other stack: which extra and Python
            assert f"  {package:<13} not installed ({missing_backend(BACKEND_PACKAGES[package])})\n" in out
    for name, (usable, _) in available_devices().items():
        assert f"  {name:<15} {'yes' if usable else 'no ':<4}" in out
    assert "  sbp " in out and "digits         embedded" in out


def test_train_help_lists_the_registered_algorithms_and_defaults(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["train", "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert "registered algorithms:" in out and "  sbp: sBP" in out
    assert "devices: reference, runtime, cpp_standalone, genn, cuda" in out
    assert "--option threshold=127" in out and "(default: reference)" in out and "crop: mnist 4" in out


def test_train_writes_a_run_and_resumes(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "--dataset", "digits", "--epochs", "1", "--hidden", "20", "--quiet", "--out", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "fresh run" in printed and "test accuracy (argmax_potential): " in printed
    for name in ("config.json", "weights_initial.npz", "weights_final.npz", "order.npy", "metrics.csv",
                 "learning_curves.png", "training_cycle.png"):
        assert (out / name).is_file(), name
    assert main(args[:4] + ["2"] + args[5:]) == 0
    assert "resumed after epoch 1" in capsys.readouterr().out
    assert main(args[:4] + ["2"] + args[5:]) == 0
    assert "for 2 epochs (already finished: nothing to train)" in capsys.readouterr().out


def mnist_like(directory: Path) -> Path:
    """Four IDX files of 8x8 MNIST-like images (19 % of pixels on)."""
    rng = np.random.default_rng(0)
    directory.mkdir(parents=True)
    for stem, n in (("train", 20), ("t10k", 10)):
        write_idx(directory / f"{stem}-images-idx3-ubyte.gz",
                  np.where(rng.random((n, 8, 8)) < 0.19, 255, 0).astype(np.uint8))
        write_idx(directory / f"{stem}-labels-idx1-ubyte.gz", np.arange(n, dtype=np.uint8) % 10)
    return directory


BAD_INPUT = [
    (["train", "--dataset", "cifar", "--out", "X"], 2, "unknown --dataset 'cifar'"),
    (["train", "--epochs", "0", "--out", "X"], 2, "--epochs 0 must be at least 1"),
    (["train", "--dataset", "mnist", "--data-dir", "/nonexistent/idx", "--out", "X"], 3, "SPIKINGBP_DATA"),
    (["train", "--dataset", "digits", "--data-dir", "/nonexistent", "--out", "X"], 2, "digits is embedded"),
    (["train", "--option", "treshold=3", "--out", "X"], 2, "sbp has no option treshold"),
    (["train", "--hidden", "20,20", "--out", "X"], 2, "sbp has exactly one hidden layer"),
    (["train", "--hidden=-3", "--out", "X"], 2, "--hidden '-3' must be positive layer sizes"),
    (["train", "--algorithm", "erbp", "--hidden", "10,-2", "--out", "X"], 2, "must be positive layer sizes"),
    (["train", "--algorithm", "erbp", "--hidden", "10,,2", "--out", "X"], 2, "must be positive layer sizes"),
    (["train", "--option", "threshold=100", "--option", "threshold=120", "--out", "X"], 2, "given twice"),
    (["train", "--algorithm", "erbp", "--device", "genn", "--out", "X"], 2, "erbp does not run on --device genn"),
    (["train", "--out", "README.md/run"], 2, "README.md is a file"),
    (["train", "--out", "/proc/spikingbp/run"], 2, "cannot be created"),
    (["sgsc", "--out", "README.md/sgsc"], 2, "README.md is a file"),
    pytest.param(["export-lava", "/nonexistent/run"], 3, "not a finished training run", marks=pytest.mark.lava),
    pytest.param(["verify-lava", "--circuit", "sbp-inference", "--limit", "0"], 2, "--limit 0 must be at least 1",
                 marks=pytest.mark.lava),
    pytest.param(["verify-lava", "--circuit", "sbp-inference", "--hidden", "0"], 2, "--hidden 0 must be at least 1",
                 marks=pytest.mark.lava),
]


def test_verify_lava_offers_only_the_circuits_lava_runs(capsys):
    """Lava translates no SSNN-BP or eRBP learning rule: their training circuits are not among the choices."""
    with pytest.raises(SystemExit) as stop:
        main(["verify-lava", "--circuit", "ssnnbp-train"])
    assert stop.value.code == 2 and "invalid choice: 'ssnnbp-train'" in capsys.readouterr().err
def test_library_errors_name_the_flags():
    from spikingbp.cli import in_flags

    assert in_flags("limit_train=0 must be at least 1; give a count of samples or None for all") == \
        "--limit 0 must be at least 1; give a count of samples or leave the flag out for all"
    assert in_flags("n_hidden=0 must be at least 1 (a number of units)").startswith("--hidden 0 ")


@pytest.mark.parametrize("args, code, message", BAD_INPUT)
def test_bad_input_gives_a_named_error_exit_code_and_no_files(tmp_path, capsys, monkeypatch, args, code, message):
    (tmp_path / "README.md").write_text("a file")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SPIKINGBP_DATA", raising=False)
    assert main(args) == code
    err = capsys.readouterr().err
    assert err.startswith(f"spikingbp {args[0]}: error: ") and message in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]  # nothing written


def test_unusable_device_writes_nothing_and_the_retry_works(tmp_path, capsys):
    from spikingbp.devices import available_devices

    refused = [name for name, (usable, _) in available_devices().items() if not usable]
    if not refused:
        pytest.skip("every Brian2 device is usable here (GeNN and brian2cuda installed)")
    out = tmp_path / "run"
    assert main(["train", "--device", refused[0], "--epochs", "1", "--hidden", "8", "--quiet", "--out", str(out)]) == 4
    assert f"--device {refused[0]} cannot run here" in capsys.readouterr().err
    assert not out.exists()
    assert main(["train", "--device", "reference", "--epochs", "1", "--hidden", "8", "--quiet", "--out", str(out)]) == 0


def test_data_of_another_dataset_is_named(tmp_path, capsys):
    data = mnist_like(tmp_path / "digits-idx")
    out = tmp_path / "run"
    assert main(["train", "--dataset", "fashion-mnist", "--data-dir", str(data), "--epochs", "1", "--hidden", "8",
                 "--quiet", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "spikingbp: warning: the images in" in err and "look like mnist, not fashion-mnist" in err


def test_circuit_error_uses_the_exit_code(tmp_path, capsys, monkeypatch):
    from spikingbp.algorithms import create
    from spikingbp.errors import CircuitError

    def diverge(*args, **kwargs):
        raise CircuitError("the plastic copy W2Tm_hT diverged from its original; the circuit is not exact")

    monkeypatch.setattr(type(create("sbp")), "train_epoch", diverge)
    assert main(["train", "--epochs", "1", "--hidden", "8", "--quiet", "--out", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("spikingbp train: error: the plastic copy W2Tm_hT diverged") and "Traceback" not in err


def test_unknown_arguments_are_named_with_their_command(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--bogus"])
    assert stop.value.code == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        main(["train", "--out", "x", "--bogus", "1"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "usage: spikingbp train" in err and "unrecognized arguments: --bogus 1" in err


def test_unknown_device_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["train", "--device", "loihi", "--out", "X"])
    assert stop.value.code == 2
    assert "invalid choice: 'loihi'" in capsys.readouterr().err


def test_verify_lava_prints_identical_count(capsys):
    assert main(["verify-lava", "--circuit", "sgsc", "--limit", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "verifying sgsc on 3 trials of a random SGSC circuit (--seed 0)"  # says what it used
    assert lines[-1] == "identical: 3/3"


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    assert main(["train", "--dataset", "digits", "--epochs", "1", "--hidden", "24", "--quiet", "--out", str(out)]) == 0
    return out


def test_verify_and_export_lava_on_a_trained_run(trained_run, capsys):
    out = trained_run
    capsys.readouterr()
    assert main(["verify-lava", "--circuit", "sbp-inference", "--weights", str(out), "--limit", "12"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith(f"verifying sbp-inference on 12 digits samples with the final weights of {out}")
    assert lines[-1] == "identical: 12/12"
    assert main(["export-lava", str(out), "--limit", "4"]) == 0
    printed = capsys.readouterr().out
    exported = json.loads((out / "lava_export.json").read_text())
    assert exported["circuit"] == "sbp-inference" and exported["samples"] == 4
    names = [process["name"] for process in exported["report"]["processes"]]
    assert any(p["lava_class"] == "Dense" for p in exported["report"]["processes"])
    for name in names:
        assert f"] {name} (" in printed
    assert printed.strip().endswith(f"wrote {out / 'lava_export.json'}")


def test_a_run_trained_on_the_current_stack_loads_and_exports_to_lava_on_the_backends_stack(tmp_path, capsys):
    """The run directory is one format on both stacks: a run trained by the core environment (Python 3.11+,
    Brian2 2.9+, numpy 2; ``make test`` names its Python in SPIKINGBP_NEW_STACK_PYTHON) loads here and exports
    to Lava, which runs only on the Python 3.10 stack."""
    python = os.environ.get("SPIKINGBP_NEW_STACK_PYTHON")
    if not python:
        reason = "SPIKINGBP_NEW_STACK_PYTHON is not set (make test sets it to the core environment's Python)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    stack = subprocess.run([python, "-c", "import sys, brian2, numpy; print(sys.version_info[:2] >= (3, 11), "
                            "brian2.__version__, numpy.__version__)"], capture_output=True, text=True, check=True)
    newer, brian2_version, numpy_version = stack.stdout.split()
    assert newer == "True" and numpy_version.startswith("2."), stack.stdout
    out = tmp_path / "run"
    trained = subprocess.run([python, "-m", "spikingbp.cli", "train", "--dataset", "digits", "--epochs", "1",
                              "--hidden", "16", "--limit", "60", "--limit-test", "20", "--quiet", "--out", str(out)],
                             capture_output=True, text=True, timeout=600)
    assert trained.returncode == 0, trained.stderr[-2000:]
    from spikingbp.rundir import load_run

    run = load_run(out)
    assert run.final["W0"].shape == (64, 16)
    assert main(["export-lava", str(out), "--limit", "3"]) == 0
    exported = json.loads((out / "lava_export.json").read_text())
    assert exported["circuit"] == "sbp-inference" and exported["samples"] == 3
    capsys.readouterr()


def test_export_lava_with_loihis_12_bit_dv_reports_deployable_units_and_what_it_costs(trained_run, capsys):
    assert main(["export-lava", str(trained_run), "--limit", "3"]) == 0
    exact = json.loads((trained_run / "lava_export.json").read_text())
    assert main(["export-lava", str(trained_run), "--limit", "3", "--dv-max", "4095"]) == 0
    printed = capsys.readouterr().out
    fitted = json.loads((trained_run / "lava_export.json").read_text())
    neurons = {record["dv_max"]: [p for p in record["report"]["processes"] if p["role"] == "neurons"]
               for record in (exact, fitted)}
    assert not any(p["loihi_deployable"] for p in neurons[4096])
    assert neurons[4095] and all(p["loihi_deployable"] for p in neurons[4095])
    cost = fitted["dv_max_cost"]
    assert cost["samples"] == 3 and 0 <= cost["identical_to_brian2"] <= 3 and "dv_max_cost" not in exact
    assert f"cost of --dv-max 4095: {3 - cost['identical_to_brian2']} of 3 exported samples" in printed
    with pytest.raises(SystemExit) as refused:
        main(["export-lava", str(trained_run), "--dv-max", "4000"])
    assert refused.value.code == 2 and "--dv-max: invalid choice: 4000" in capsys.readouterr().err


def test_export_lava_of_the_training_circuit(trained_run, capsys):
    assert main(["export-lava", str(trained_run), "--phase", "train", "--limit", "2"]) == 0
    exported = json.loads((trained_run / "lava_export_train.json").read_text())
    assert exported["circuit"] == "sbp-train" and exported["samples"] == 2
    plastic = [p for p in exported["report"]["processes"] if p["role"] == "plastic synapses"]
    assert sorted(p["name"] for p in plastic) == sorted(
        ["W1_h", "W1_h_lt", "W1_h_gt", "W2_o", "W2_o_lt", "W2_o_gt", "W2Tp_hT", "W2Tm_hT"])
    assert not any(p["loihi_deployable"] for p in plastic)
    assert "SBPPlasticSynapses" in capsys.readouterr().out


def test_export_lava_into_a_closed_pipe_is_quiet(trained_run):
    # `true` exits long before Python writes its first line, so that write meets a closed pipe whatever the
    # output's length (`| head -3` left it to chance: a report shorter than the pipe buffer is written whole
    # and ends 0)
    shell = f"{' '.join(COMMAND)} export-lava {trained_run} --limit 4 | true; echo \"status ${{PIPESTATUS[0]}}\""
    done = subprocess.run(["bash", "-c", shell], capture_output=True, text=True)
    assert done.stdout.splitlines() == ["status 141"], done.stdout
    assert "Traceback" not in done.stderr and "Brian 2 encountered" not in done.stderr, done.stderr
    assert "BrokenPipe" not in done.stderr, done.stderr


#: a run whose programs are the session's nowhere else (--chunk 20): its cache holds its two programs alone
CACHED_RUN = ["train", "--device", "cpp_standalone", "--epochs", "1", "--limit", "40", "--limit-test", "10",
              "--hidden", "8", "--chunk", "20", "--quiet"]


@pytest.fixture(scope="module")
def interrupted_then_rerun(tmp_path_factory):
    """Ctrl-C to a run while make compiles its first program into an empty cache, then the same command again,
    into that cache: what each printed and left behind (the interrupt test and the cache test read it)."""
    root = tmp_path_factory.mktemp("interrupted")
    out, temp, cache = root / "run", root / "temp", root / "cache"
    temp.mkdir()
    env = {"SPIKINGBP_CACHE": str(cache)}   # empty: the program must compile
    process = subprocess.Popen(COMMAND + CACHED_RUN + ["--out", str(out)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**os.environ, "TMPDIR": str(temp), **env},
                               start_new_session=True)
    deadline = time.monotonic() + 600  # a fresh clone on a loaded 2-core machine, the other test worker compiling too
    compiling = False   # make seen once (after the precompiled headers, which the test of precompiled_header interrupts)
    while not compiling and time.monotonic() < deadline and process.poll() is None:
        compiling = _make_running(process.pid)
        time.sleep(0 if compiling else 0.2)
    if not compiling:
        os.killpg(process.pid, signal.SIGKILL)
        _, err = process.communicate(timeout=60)
        pytest.fail(f"make never started (exit {process.returncode}); stderr: {err[-2000:]}")
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole foreground group
    _, err = process.communicate(timeout=60)
    left = sorted(path.name for path in cache.iterdir()) if cache.exists() else []
    debug_logs = list(temp.glob("brian_debug_*.log"))
    rerun = run_command(CACHED_RUN + ["--out", str(out)], env=env)
    return {"returncode": process.returncode, "err": err, "left_in_cache": left, "debug_logs": debug_logs,
            "rerun": rerun, "out": out, "cache": cache}


@pytest.mark.slow
def test_interrupt_while_compiling_exits_130_and_the_rerun_resumes(interrupted_then_rerun):
    """Ctrl-C while make compiles the cpp_standalone program: one line, exit 130, no Brian2 debug files, no
    half-built program in the cache; the same command again finishes the run."""
    got = interrupted_then_rerun
    assert got["returncode"] == 130, got["err"]
    # make's own "Interrupt" lines may come first (issue: tool output into a log file); the end is ours
    assert got["err"].strip().splitlines()[-1] == "spikingbp train: interrupted; run the same command again to resume"
    assert "Traceback" not in got["err"] and "Brian 2 encountered" not in got["err"]
    assert got["debug_logs"] == []
    assert [name for name in got["left_in_cache"] if name != HEADERS] == []   # the standard headers are whole
    assert got["rerun"].returncode == 0, got["rerun"].stderr
    assert (got["out"] / "weights_final.npz").is_file()


def _make_running(pid: int) -> bool:
    """Whether make runs below process ``pid``."""
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().split()
            name = status.parent.joinpath("comm").read_text().strip()
        except OSError:
            continue
        if name == "make" and _descends_from(int(fields[0]), pid):
            return True
    return False


def _descends_from(child: int, ancestor: int) -> bool:
    while child > 1:
        if child == ancestor:
            return True
        try:
            child = int(Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            return False
    return False


def test_verify_and_export_lava_of_an_ssnnbp_run(tmp_path, capsys):
    """SSNN-BP's inference circuit through the same commands: identical spikes, the forward-unit processes in
    the export, and the training circuit and Loihi's dv option refused with the reason, nothing written."""
    out = tmp_path / "ssnn"
    assert main(["train", "--algorithm", "ssnnbp", "--dataset", "digits", "--epochs", "1", "--limit", "40",
                 "--limit-test", "10", "--hidden", "12", "--option", "Ts=20", "--quiet", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["verify-lava", "--circuit", "ssnnbp-inference", "--weights", str(out), "--limit", "6"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "identical: 6/6"
    assert main(["export-lava", str(out), "--limit", "3"]) == 0
    exported = json.loads((out / "lava_export.json").read_text())
    classes = [p["lava_class"] for p in exported["report"]["processes"]]
    assert exported["circuit"] == "ssnnbp-inference" and classes.count("SSNNForwardUnits") == 2
    assert not exported["report"]["fixed_point"]
    assert main(["export-lava", str(out), "--dv-max", "4095"]) == 2
    assert "no fixed-point form" in capsys.readouterr().err
    assert main(["export-lava", str(out), "--phase", "train", "--limit", "2"]) == 2
    assert "learns (eta2 = 0.005)" in capsys.readouterr().err
    assert not (out / "lava_export_train.json").exists()


def test_the_command_list_is_the_parsers():
    import argparse

    from spikingbp.cli import COMMANDS, build_parser

    commands = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)][0]
    assert tuple(commands.choices) == COMMANDS


def test_help_loads_neither_pandas_nor_brian2():
    import subprocess
    import sys

    code = ("import sys\nfrom spikingbp.cli import main\ntry:\n    main(['train', '--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('pandas', 'brian2', 'matplotlib') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_a_truncated_weights_file_is_a_data_error_for_every_command_that_reads_it(tmp_path, capsys):
    """energy and export-nir read weights_final.npz: cut short, it gives exit 3 and a message naming the run, no
    traceback (a truncated checkpoint already did)."""
    out = tmp_path / "run"
    assert main(["train", "--dataset", "digits", "--epochs", "1", "--hidden", "8", "--limit", "50", "--limit-test",
                 "20", "--quiet", "--out", str(out)]) == 0
    final = out / "weights_final.npz"
    final.write_bytes(final.read_bytes()[:200])
    capsys.readouterr()
    for args in (["energy", str(out), "--samples", "2"], ["export-nir", str(out), "--out", str(tmp_path / "g.nir")]):
        assert main(args) == 3
        err = capsys.readouterr().err
        assert "cannot read the run files (BadZipFile" in err and str(out) in err and "Traceback" not in err


def test_the_package_exports_what_scripts_need_and_importing_it_stays_light():
    import subprocess
    import sys

    code = ("import sys\nimport spikingbp\nlight = 'brian2' not in sys.modules and 'pandas' not in sys.modules\n"
            "from spikingbp import TrainConfig, train, train_ensemble, load_run, load_data, Circuit, use_device, create\n"
            "print(light, TrainConfig.__module__, Circuit.__name__)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "spikingbp.config", "Circuit"]


def test_a_cache_that_cannot_be_made_a_duplicate_param_and_bad_environment_paths_are_named(tmp_path, capsys,
                                                                                           monkeypatch):
    (tmp_path / "file").write_text("x")
    out = tmp_path / "run"
    assert main(["train", "--epochs", "1", "--hidden", "8", "--cache", str(tmp_path / "file" / "c"), "--quiet",
                 "--out", str(out)]) == 2
    assert "--cache" in capsys.readouterr().err and not out.exists()
    assert main(["sweep", "--param", "seed=0,1", "--param", "seed=2", "--epochs", "1", "--out",
                 str(tmp_path / "S")]) == 2
    assert "--param seed is given twice" in capsys.readouterr().err and not (tmp_path / "S").exists()
    monkeypatch.setenv("GENN_PATH", str(tmp_path / "nogenn"))
    monkeypatch.setenv("SPIKINGBP_DATA", str(tmp_path / "nodata"))
    assert main(["info"]) == 0
    printed = capsys.readouterr().out
    from spikingbp.compat import has_backend, missing_backend

    assert (f"GENN_PATH={tmp_path / 'nogenn'} holds no bin/genn-buildmodel.sh" if has_backend("genn")
            else missing_backend("genn")) in printed
    assert f"not found under SPIKINGBP_DATA={tmp_path / 'nodata'}" in printed


@pytest.mark.slow
def test_cache_lists_its_programs_and_prunes_the_unused(tmp_path, capsys, monkeypatch, interrupted_then_rerun):
    """A run's programs (those the rerun after the interrupt compiled) are listed with their size and shape;
    pruning those unused for 30 days removes the one left unused since 1970, and the next run compiles it again
    (the compiler's output stands in for it: the interrupt test compiles) and trains to the same weights; pruning
    those unused for 0 days empties the cache."""
    import os
    import shutil

    from conftest import build_by_copying
    from spikingbp.circuits import program

    cache = tmp_path / "cache"

    def programs():   # the cache's directories less the shape index and the precompiled headers
        return sorted(p for p in cache.iterdir() if p.name not in ("shapes", HEADERS))

    shutil.copytree(interrupted_then_rerun["cache"], cache, symlinks=True)   # the fixture's stays as it was
    assert main(["cache", "list", "--cache", str(cache)]) == 0
    listed = capsys.readouterr().out
    assert listed.startswith(f"2 compiled programs in {cache}") and "sbp.training 64-8-10" in listed
    assert "sbp.inference 64-8-10" in listed
    assert "and the standard headers precompiled for 1 compiler and flag set, " in listed
    old = cache_dirs = programs()
    for directory in cache_dirs[:1]:
        os.utime(directory, (0, 0))   # unused since 1970
    shutil.copytree(old[0], tmp_path / "compiled" / old[0].name, symlinks=True)
    monkeypatch.setattr(program, "_build", build_by_copying(tmp_path / "compiled"))   # the pruned one, no other
    assert main(["cache", "prune", "--older-than", "30", "--cache", str(cache)]) == 0
    assert "removed 1 program of" in capsys.readouterr().out
    assert [p.name for p in programs()] == sorted(p.name for p in old[1:])
    assert list((cache / HEADERS).iterdir())   # the precompiled headers, used within 30 days, are kept
    assert main(CACHED_RUN + ["--cache", str(cache), "--out", str(tmp_path / "b")]) == 0
    assert "compiling" in (tmp_path / "b" / "tools.log").read_text()   # the pruned one, built again
    with np.load(interrupted_then_rerun["out"] / "weights_final.npz") as a, \
            np.load(tmp_path / "b" / "weights_final.npz") as b:
        np.testing.assert_array_equal(a["W0"], b["W0"])
    assert len(programs()) == 2
    assert main(["cache", "prune", "--older-than", "0", "--cache", str(cache)]) == 0
    assert programs() == []
    assert not list((cache / "shapes").iterdir()) and not list((cache / HEADERS).iterdir())


def test_the_data_directory_a_parent_resolves_to_is_recorded(tmp_path, capsys):
    parent = tmp_path / "data"
    mnist_like(parent / "mnist")
    out = tmp_path / "run"
    assert main(["train", "--dataset", "mnist", "--data-dir", str(parent), "--epochs", "1", "--hidden", "8",
                 "--crop", "0", "--quiet", "--out", str(out)]) == 0
    record = json.loads((out / "config.json").read_text())
    assert record["data"]["directory"] == str((parent / "mnist").resolve()) and record["config"]["data_dir"] == str(parent)
