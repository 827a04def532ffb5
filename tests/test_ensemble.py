"""Ensembles (spikingbp.circuits.ensemble): K copies of a circuit as one circuit, each copy computing what it
computes alone, bit for bit."""
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
from spikingbp.training import epoch_order, load_data


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
    copies = [circuit.training_circuit(p["W1"], p["W2"], data.X_train[o], data.T_train[o])
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
        expected = reference.train_epoch(data.X_train, data.T_train, p["W1"], p["W2"], order=order)
        np.testing.assert_array_equal(W1_k, expected[0])
        np.testing.assert_array_equal(W2_k, expected[1])
        assert (W1_k != p["W1"]).sum() > 20                                         # learning happened
        assert copy.spikes["h"][2] == n_hidden and len(copy.spikes["h"][0]) > 0
    # the inputs a compiled program reruns with: the copies' sources and weights side by side
    inputs = [circuit.training_inputs(p["W1"], p["W2"], data.X_train[o], data.T_train[o])
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
def test_four_sbp_copies_train_in_one_compiled_program_each_as_its_single_run(digits, tmp_path):
    """K = 4 copies, each with its own initial weights and presentation order, in chunks of one compiled
    cpp_standalone program: each copy ends with the weights of its own single run (the reference's, which the
    single circuit equals bit for bit: test_sbp_circuit)."""
    algorithm, data = digits
    params = [algorithm.init_params(data.sizes((24,)), seed) for seed in range(4)]
    orders = [epoch_order(seed, 1, 200) for seed in range(4)]
    cache = ProgramCache(tmp_path / "cache")
    seen = []
    ctx = RunContext("cpp_standalone", seed=0, epoch=1, chunk=80, programs=cache, on_samples=seen.append)
    learned = algorithm.train_ensemble_epoch(params, data.X_train, data.T_train, orders, ctx)
    assert cache.compiled == 1 and sum(seen) == 4 * 200                  # one program for all copies and chunks
    for copy, p, order in zip(learned, params, orders):
        expected = reference.train_epoch(data.X_train, data.T_train, p["W1"], p["W2"], order=order)
        np.testing.assert_array_equal(copy["W1"], expected[0])
        np.testing.assert_array_equal(copy["W2"], expected[1])
        assert (copy["W1"] != p["W1"]).sum() > 100
    with pytest.raises(ConfigError, match="as many samples each"):
        algorithm.train_ensemble_epoch(params[:2], data.X_train, data.T_train, [orders[0], orders[1][:5]], ctx)
    with pytest.raises(ConfigError, match="no ensemble training"):
        create("erbp").train_ensemble_epoch(params, data.X_train, data.T_train, orders, ctx)
