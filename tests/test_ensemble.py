"""Ensembles (spikingbp.circuits.ensemble): K copies of a circuit as one circuit, each copy computing what it
computes alone, bit for bit."""
import dataclasses
import json

import numpy as np
import pytest

from spikingbp.algorithms import RunContext, create
from spikingbp.circuits import sbp as circuit
from spikingbp.circuits.circuit import Circuit
from spikingbp.circuits.ensemble import ensemble_circuit, ensemble_sources, ensemble_weights, split_result
from spikingbp.circuits.program import ProgramCache
from spikingbp.errors import ConfigError
from spikingbp.models.erbp import ERBPUnit
from spikingbp.models.neurons import LoihiCUBA
from spikingbp.reference import sbp as reference
from spikingbp.training import TrainConfig, epoch_order, load_data, train, train_ensemble


@pytest.fixture(scope="module")
def digits():
    algorithm = create("sbp")
    return algorithm, load_data(algorithm, "digits", None, limit_train=200, limit_test=10)


def test_an_ensemble_is_block_diagonal_and_each_copy_learns_as_alone(digits):
    """Three sBP training circuits (own weights, own samples) as one circuit on runtime: the populations are
    three times as large, no synapse crosses copies, and each copy ends with the reference's weights."""
    algorithm, data = digits
    params = [algorithm.init_params(data.sizes((16,)), seed) for seed in range(3)]
    orders = [epoch_order(seed, 1, 200)[:10] for seed in range(3)]
    copies = [circuit.training_circuit(p["W0"], p["W1"], data.X_train[o], data.T_train[o])
              for p, o in zip(params, orders)]
    merged = ensemble_circuit(copies)
    assert merged.populations["h"].size == 3 * copies[0].populations["h"].size
    W1 = merged.projections["W1_h"]
    n_in, n_hidden = copies[0].size_of("x"), copies[0].size_of("h")
    assert np.array_equal(W1.i // n_in, W1.j // n_hidden)                        # block-diagonal
    result = merged.run(circuit.training_steps(10), "runtime", record_spikes=("h",),
                        record_weights=circuit.PLASTIC_PROJECTIONS, target="numpy")
    for k, (copy, p, order) in enumerate(zip(split_result(result, 3), params, orders)):
        W1_k, W2_k = circuit.learned_weights(copy, n_in, n_hidden, data.n_out)
        expected = reference.train_epoch(data.X_train, data.T_train, p["W0"], p["W1"], order=order)
        np.testing.assert_array_equal(W1_k, expected[0])
        np.testing.assert_array_equal(W2_k, expected[1])
        assert (W1_k != p["W0"]).sum() > 20                                         # learning happened
        assert copy.spikes["h"][2] == n_hidden and len(copy.spikes["h"][0]) > 0
    # the inputs a compiled program reruns with: the copies' sources and weights side by side
    inputs = [circuit.training_inputs(p["W0"], p["W1"], data.X_train[o], data.T_train[o])
              for p, o in zip(params, orders)]
    sources = ensemble_sources([s for s, _ in inputs])
    assert {name: s.size for name, s in sources.items()} == {name: s.size for name, s in merged.sources.items()}
    for name, source in merged.sources.items():
        np.testing.assert_array_equal(np.sort(sources[name].indices * 10**6 + sources[name].steps),
                                      np.sort(source.indices * 10**6 + source.steps))
    np.testing.assert_array_equal(ensemble_weights([w for _, w in inputs])["W1_h"], W1.weight)


def test_per_copy_values_of_variables_and_refusals():
    """A declared parameter may differ per copy (per-unit values); a compile-time constant may not, nor may
    the structure."""
    def one(size, model=LoihiCUBA, **params):
        c = Circuit("c")
        c.add_population("a", size, model, **params)
        return c

    np.testing.assert_array_equal(ensemble_circuit([one(2, vth=10), one(2, vth=20)]).populations["a"].params["vth"],
                                  [10, 10, 20, 20])
    assert ensemble_circuit([one(3, vth=10), one(3, vth=10)]).populations["a"].params == {"vth": 10}
    with pytest.raises(ConfigError, match="differ in structure"):
        ensemble_circuit([one(3, vth=10), one(4, vth=10)])
    with pytest.raises(ConfigError, match="the copies differ in 'theta'"):   # ERBPUnit's theta: a constant
        ensemble_circuit([one(3, ERBPUnit, theta=0.1), one(3, ERBPUnit, theta=0.2)])


@pytest.mark.slow
def test_four_sbp_runs_train_as_one_compiled_ensemble_each_as_its_single_run(tmp_path, _program_cache,
                                                                             sbp_ensemble_base):
    """train_ensemble: K = 4 runs (own seeds: initial weights and presentation orders) in chunks of one compiled
    cpp_standalone program; each run directory ends with the weights and metrics of its own single run (the
    reference's, which the single circuit equals bit for bit: test_sbp_circuit), and the ensemble resumes."""
    base = dict(sbp_ensemble_base, progress=False)
    configs = [TrainConfig(out=tmp_path / f"seed{seed}", seed=seed, epochs=1, **base) for seed in range(4)]
    results = train_ensemble(configs)
    for epochs in (1, 2):
        if epochs == 2:   # the ensemble resumes for a second epoch
            results = train_ensemble([dataclasses.replace(c, epochs=2) for c in configs])
            assert all(r.resumed_from_epoch == 1 for r in results)
        for seed, result in enumerate(results):
            alone = train(TrainConfig(out=tmp_path / f"alone{seed}", seed=seed, epochs=epochs,
                                      **dict(base, device="reference")))
            for name, value in alone.params.items():
                np.testing.assert_array_equal(result.params[name], value)
            with np.load(result.out / "weights_final.npz") as stored:
                np.testing.assert_array_equal(stored["W0"], alone.params["W0"])
            np.testing.assert_array_equal(result.metrics["test_accuracy"], alone.metrics["test_accuracy"])
            assert (result.params["W0"] != result_initial(result)).sum() > 20
    shapes = [json.loads(index.read_text())["shape"] for index in (_program_cache / "shapes").iterdir()]
    assert [s for s in shapes if s.get("copies") == 4] == [{"circuit": "sbp.training", "sizes": [64, 8, 10],
                                                           "copies": 4}]   # one program for the whole ensemble


def result_initial(result):
    with np.load(result.out / "weights_initial.npz") as initial:
        return initial["W0"]


def test_runs_that_cannot_train_as_one_ensemble_are_refused(tmp_path, digits):
    algorithm, data = digits
    base = dict(algorithm="sbp", dataset="digits", device="cpp_standalone", limit=200, epochs=1, progress=False)
    with pytest.raises(ConfigError, match="differs from .* in hidden"):
        train_ensemble([TrainConfig(out=tmp_path / "a", hidden=16, **base),
                        TrainConfig(out=tmp_path / "b", hidden=32, **base)])
    with pytest.raises(ConfigError, match="the same --out"):
        train_ensemble([TrainConfig(out=tmp_path / "a", **base), TrainConfig(out=tmp_path / "a", seed=1, **base)])
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    ctx = RunContext("cpp_standalone", seed=0, epoch=1, chunk=80, programs=ProgramCache(tmp_path / "cache"))
    params = [algorithm.init_params(data.sizes((8,)), seed) for seed in range(2)]
    with pytest.raises(ConfigError, match="as many samples each"):
        algorithm.train_ensemble_epoch(params, data.X_train, data.T_train, [np.arange(10), np.arange(5)], [ctx] * 2)


def test_ssnnbp_runs_train_as_one_ensemble_each_as_its_single_run(tmp_path):
    """SSNN-BP: each copy draws its own trains (inputs, labels, dropout) from its own seed, as alone; two runs
    as one ensemble circuit on runtime end with the weights and metrics of their single (reference) runs."""
    base = dict(algorithm="ssnnbp", dataset="digits", device="runtime", hidden=12, limit=12, limit_test=6, epochs=1,
                chunk=6, options={"Ts": 20, "eta": 0.05}, progress=False)
    results = train_ensemble([TrainConfig(out=tmp_path / f"seed{seed}", seed=seed, **base) for seed in (0, 1)])
    for seed, result in enumerate(results):
        alone = train(TrainConfig(out=tmp_path / f"alone{seed}", seed=seed, **dict(base, device="reference")))
        for name, value in alone.params.items():
            np.testing.assert_array_equal(result.params[name], value)
        np.testing.assert_array_equal(result.metrics["test_accuracy"], alone.metrics["test_accuracy"])
        with np.load(result.out / "weights_initial.npz") as initial:
            assert (result.params["W0"] != initial["W0"]).sum() > 20
