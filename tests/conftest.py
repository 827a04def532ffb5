"""Shared fixtures. Datasets in ../shared/data are used where present; under CI (CI=true) their
absence is a failure, elsewhere (a user's own clone) the tests that need them skip with the reason."""
import os
from pathlib import Path

import pytest

from spikingbp.compat import has_backend, missing_backend

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SPIKINGBP_TEST_DATA", REPO.parent / "shared" / "data"))


def _dataset_dir(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.is_dir():
        reason = f"dataset directory {path} not found (the shared copy of {name})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; under CI the shared datasets must be present")
        pytest.skip(reason)
    return path


#: markers of tests that need an optional back end of the same name (the Python 3.10 part of ``make test``)
BACKEND_MARKERS = ("lava", "genn")


def backend_skip_reason(backend: str) -> str:
    """Why a test of a back end that is not installed here skips, and where it runs."""
    return f"{missing_backend(backend)}; `make test` runs these tests in its Python 3.10 environment"


def pytest_collection_modifyitems(config, items):
    """Tests of Lava or brian2genn (marked, or named after them: a device parametrised as ``genn``, a test of
    ``export-lava``) run where their back end is installed; elsewhere they skip, saying which environment runs
    them. Under CI a missing back end is a failure only where the run asks for it (``-m lava or genn``)."""
    asked = config.getoption("-m") or ""
    for item in items:
        words = item.nodeid.lower()
        for backend in BACKEND_MARKERS:
            if backend in words or item.get_closest_marker(backend):
                item.add_marker(getattr(pytest.mark, backend))
                if not has_backend(backend):
                    if os.environ.get("CI", "").lower() == "true" and backend in asked:
                        raise pytest.UsageError(f"{missing_backend(backend)}: the tests selected by -m {asked!r} "
                                                f"need it")
                    item.add_marker(pytest.mark.skip(reason=backend_skip_reason(backend)))


@pytest.fixture
def mnist_dir() -> Path:
    """../shared/data/mnist-10k: 8,004 train and 1,996 test MNIST digits as gzip IDX files."""
    return _dataset_dir("mnist-10k")


@pytest.fixture
def fashion_dir() -> Path:
    """../shared/data/fashion-mnist: 60,000 train and 10,000 test images as gzip IDX files."""
    return _dataset_dir("fashion-mnist")


@pytest.fixture(scope="session", autouse=True)
def _program_cache(tmp_path_factory):
    """Compiled programs of the whole session in one temporary cache (also for the CLI subprocesses), shared by
    the pytest-xdist workers: a program one compiles, the others find (a cache is safe for concurrent use)."""
    previous = os.environ.get("SPIKINGBP_CACHE")
    session = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):   # each worker's base is popen-gw<n> in the session's base
        session = session.parent
    cache = session / "program-cache"
    cache.mkdir(exist_ok=True)
    os.environ["SPIKINGBP_CACHE"] = str(cache)
    yield Path(os.environ["SPIKINGBP_CACHE"])
    if previous is None:
        os.environ.pop("SPIKINGBP_CACHE", None)
    else:
        os.environ["SPIKINGBP_CACHE"] = previous


@pytest.fixture(autouse=True)
def _fresh_brian_device():
    """Every test starts in a fresh Brian2 scope with default dt, and ends on the runtime device."""
    from brian2 import defaultclock, get_device, ms, start_scope
    from brian2.devices.device import RuntimeDevice

    from spikingbp.devices import use_device

    start_scope()
    defaultclock.dt = 0.1 * ms
    yield
    if not isinstance(get_device(), RuntimeDevice):
        with use_device("runtime"):
            pass


def genn_model(directory) -> dict:
    """What brian2genn generated in ``directory``: neuron populations (name -> size), the state variables
    of each neuron model class, and the synapse populations' names, read from magicnetwork_model.cpp."""
    import re

    text = (Path(directory) / "magicnetwork_model.cpp").read_text()
    neurons = {name: int(size) for name, size in re.findall(r'addNeuronPopulation<[^>]*>\("(\w+)", (\d+)', text)}
    classes = re.findall(r"class (\w+)NEURON : public NeuronModels::Base(.*?)IMPLEMENT_MODEL", text, re.S)
    variables = {name: set(re.findall(r'\{"(\w+)", "\w+"\}', body.split("SET_VARS", 1)[-1].split("});", 1)[0]))
                 for name, body in classes}
    synapses = re.findall(r"addSynapsePopulation<(\w+?)WEIGHTUPDATE", text)
    return {"neurons": neurons, "variables": variables, "synapses": synapses}


def assert_genn_matches_circuit(directory, circuit) -> dict:
    """The generated GeNN model holds the circuit's merged groups with their sizes, a spike source of all
    its sources, and a synapse population for every plastic projection."""
    model = genn_model(directory)
    expected = {f"{circuit.name}_{name.lower()}": size for name, (_, _, size) in circuit._layout().items()}
    if circuit.sources:
        expected[f"{circuit.name}_sources"] = sum(source.size for source in circuit.sources.values())
    assert model["neurons"] == expected
    from spikingbp.devices import use_device

    with use_device("runtime", target="numpy"):  # the Synapses objects the circuit merges its projections into
        built = circuit.build(record_spikes=())
        merged = sorted(syn.name for syn in built.synapses.values())
    assert sorted(model["synapses"]) == merged
    return model


def build_by_copying(programs, wait: float = 0.0):
    """A stand-in for the compiler (``spikingbp.circuits.program._build``, for ``monkeypatch.setattr``): after
    ``wait`` seconds it copies the program of the same key from the cache ``programs``, where a real build left
    it; a program that is not there fails the test."""
    import json
    import shutil
    import time

    from spikingbp.circuits.program import MANIFEST, ProgramCache

    built = ProgramCache(programs)

    def build(circuit, steps, capacity, directory, key, *args):
        time.sleep(wait)
        shutil.copytree(built.directory(key), directory, symlinks=True)
        return json.loads((Path(directory) / MANIFEST).read_text())

    return build


@pytest.fixture
def sbp_ensemble_base() -> dict:
    """Small digits runs of sBP on cpp_standalone that train as one ensemble; test_ensemble and test_sweep use
    the same shapes, so that the session compiles their programs once (and the inference program is that of
    test_training's TINY runs in chunks of 10)."""
    return dict(algorithm="sbp", dataset="digits", device="cpp_standalone", limit=60, limit_test=12, hidden=8,
                chunk=10)
