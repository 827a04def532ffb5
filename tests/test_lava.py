"""The lava translation (spikingbp.lava) spikes like Brian2, spike for spike, and learns the same weights.

Every lava run starts lava's runtime (about a second); the circuits are kept small."""
import numpy as np
import pytest

from spikingbp.circuits import sbp
from spikingbp.circuits.circuit import Circuit
from spikingbp.data import binarize, load_dataset, one_hot
from spikingbp.compat import has_backend
from spikingbp.errors import ConfigError
from conftest import backend_skip_reason

if not has_backend("lava"):   # the module imports Lava: skipped whole, before its imports
    pytest.skip(backend_skip_reason("lava"), allow_module_level=True)
pytestmark = pytest.mark.lava

from spikingbp.algorithms import Sizes, create  # noqa: E402
from spikingbp.lava import fixed_point as fxp  # noqa: E402
from spikingbp.lava import translate, verify, verify_algorithm, verify_sgsc  # noqa: E402
from spikingbp.models import LIF, LoihiCUBA  # noqa: E402
from spikingbp.models.neurons import LoihiCUBAModulated  # noqa: E402
from spikingbp.models.plasticity import SBPRewardRule  # noqa: E402
from spikingbp.reference import sbp as reference  # noqa: E402


# ------------------------------------------------------------------------------------------------ helpers
def random_circuit(seed, steps=120, grid=False):
    """Sources -> 3 or 4 LoihiCUBA populations, random projections (recurrent too) with delays 0..3.

    ``grid``: values on lava's fixed-point grid (decays 0 or 1, integer weights and thresholds, biases in
    64ths), where the fixed-point models compute exactly what Brian2 does."""
    rng = np.random.default_rng(seed)
    circuit = Circuit(f"random_{seed}")
    n_in = int(rng.integers(4, 10))
    spikes = rng.random((steps, n_in)) < 0.2
    step, unit = np.nonzero(spikes)
    circuit.add_source("input", n_in, unit, step)
    names = []
    for k in range(int(rng.integers(3, 5))):
        n = int(rng.integers(3, 12))
        if grid:
            params = dict(decay_u=1.0, decay_v=float(rng.integers(0, 2)), vth=float(rng.integers(4, 40)),
                          bias=rng.integers(0, 64, n) / 64)
        else:
            params = dict(decay_u=float(rng.uniform(0, 1)), decay_v=float(rng.uniform(0, 1)),
                          vth=float(rng.uniform(2, 20)), bias=rng.uniform(-0.5, 1.5, n))
            if k == 1:  # heterogeneous within a population: split across two lava LIF processes
                params["vth"] = np.where(np.arange(n) % 2, params["vth"], params["vth"] * 1.5)
            if k == 2:
                params["refractory_steps"] = int(rng.integers(2, 4))
        name = f"p{k}"
        circuit.add_population(name, n, LoihiCUBA, **params)
        names.append(name)
    for pre in ["input"] + names:
        for post in names:
            if pre != "input" and rng.random() < 0.4:
                continue
            n_pre, n_post = circuit.size_of(pre), circuit.size_of(post)
            mask = rng.random((n_pre, n_post)) < 0.6
            i, j = np.nonzero(mask)
            weight = rng.integers(-20, 30, len(i)).astype(float) if grid else rng.normal(3, 8, len(i))
            circuit.connect(pre, post, weight, i=i, j=j, delay=int(rng.integers(0, 4)))
    return circuit, steps


def digits(n_samples, hidden, seed=0, train=300):
    """Digits inputs and targets, and weights trained by the reference on ``train`` other samples."""
    data = load_dataset("digits")
    order = np.random.default_rng(seed).permutation(len(data.x_train))
    X = binarize(data.x_train[order])
    T = one_hot(data.y_train[order], 10).astype(bool)
    W1, W2 = reference.init_weights(X.shape[1], hidden, 10, rng=seed)
    W1, W2 = reference.train_epoch(X[n_samples:n_samples + train], T[n_samples:n_samples + train], W1, W2)
    return X[:n_samples], T[:n_samples], W1, W2


# ------------------------------------------------------------------------------------------------ floating point
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_networks_spike_identically(seed):
    circuit, steps = random_circuit(seed)
    result = verify(circuit, steps)
    for name, check in result.populations.items():
        assert check.identical, "\n".join(result.lines())
    assert sum(c.brian_spikes for c in result.populations.values()) > 50, "the random network should spike"
    assert any(not p.loihi_deployable for p in result.report.processes)


def test_delays_arrive_after_one_plus_delay_steps():
    """A spike at step t reaches the post unit at t + 1 + delay through Dense (0) and DelayDense (> 0)."""
    circuit = Circuit("delays")
    circuit.add_source("kick", 1, [0], [2])
    delays = (0, 1, 2, 3, 5)
    for d in delays:
        circuit.add_population(f"d{d}", 1, LoihiCUBA, decay_u=1.0, decay_v=1.0, vth=1024.0)
        circuit.connect("kick", f"d{d}", 2000.0, pattern="one_to_one", delay=d)
    for fixed in (False, True):
        result = translate(circuit, 12).run(fixed_point=fixed)
        assert {d: np.flatnonzero(result.spikes[f"d{d}"][:, 0]).tolist() for d in delays} == \
            {d: [3 + d] for d in delays}
    assert verify(circuit, 12).identical


def test_sgsc_circuit_identical():
    result = verify_sgsc(seed=1, trials=8)
    assert result.identical, "\n".join(result.verification.lines())
    v = result.verification
    assert v.populations["y"].brian_spikes and v.populations["p"].brian_spikes and v.populations["q"].brian_spikes
    # refractory_steps = 2 units ran as LIFRefractory
    assert any(p.lava_class == "LIFRefractory" for p in v.report.processes)
    assert result.lines()[-1] == "identical: 8/8"


def verify_sbp_inference(W1, W2, X, **options):
    return verify_algorithm(create("sbp"), {"W0": W1, "W1": W2}, X, phase="inference", **options)


def verify_sbp_training(W1, W2, X, T, **options):
    return verify_algorithm(create("sbp"), {"W0": W1, "W1": W2}, X, T, phase="train", **options)


def test_sbp_inference_identical_on_50_digits():
    X, _, W1, W2 = digits(50, hidden=32)
    result = verify_sbp_inference(W1, W2, X)
    assert result.identical_count == 50, "\n".join(result.lines())
    outputs = np.array([s.output for s in result.samples])
    np.testing.assert_array_equal(outputs, reference.forward(X, W1, W2).o)
    assert outputs.any()
    # sBP's refractoriness never matters: plain LIF units give the same spikes
    assert verify_sbp_inference(W1, W2, X, refractory="ignore").identical


def test_sbp_training_identical_weights_after_20_samples():
    X, T, W1, W2 = digits(20, hidden=16, seed=1, train=100)
    result = verify_sbp_training(W1, W2, X, T)
    assert result.identical, "\n".join(result.lines())
    assert set(result.weights) == set(sbp.PLASTIC_PROJECTIONS)
    assert result.reference == {"W0": True, "W1": True}
    assert not np.array_equal(result.verification.lava.weights["W1_h"], W1.ravel()), "the samples should learn"
    plastic = [p for p in result.verification.report.processes if p.lava_class == "SBPPlasticSynapses"]
    assert len(plastic) == 8 and not any(p.loihi_deployable for p in plastic)


# ------------------------------------------------------------------------------------------------ fixed point
def test_sbp_inference_identical_in_fixed_point():
    X, _, W1, W2 = digits(50, hidden=32)
    result = verify_sbp_inference(W1, W2, X, fixed_point=True)
    assert result.identical_count == 50, "\n".join(result.lines())
    report = result.verification.report
    assert report.fixed_point and report.scale == 1  # chosen by choose_scale: sBP maps at scale 1
    dense = [p for p in report.processes if p.role == "synapses"]
    assert dense and all(p.loihi_deployable and p.reason.startswith("exact") for p in dense)
    # the only obstacle is dv = 4096 (decay_v = 1 exactly); with dv = 4095 the LIF is deployable
    neurons = [p for p in report.processes if p.role == "neurons"]
    assert all("dv = 4096" in p.reason for p in neurons)
    report_4095 = translate(sbp.inference_circuit(W1, W2, X), 10, refractory="ignore", dv_max=4095).report()
    assert all(p.loihi_deployable for p in report_4095.processes if p.role in ("neurons", "synapses"))


def test_sbp_training_identical_in_fixed_point_without_refractoriness():
    X, T, W1, W2 = digits(10, hidden=16, seed=2, train=100)
    result = verify_sbp_training(W1, W2, X, T, fixed_point=True)
    assert result.verification.refractory == "ignore"
    assert result.identical, "\n".join(result.lines())


def test_random_network_on_the_grid_is_exact_in_fixed_point():
    for seed in (3, 4):
        circuit, steps = random_circuit(seed, grid=True)
        network = translate(circuit, steps, scale=1.0)
        plan = network.plan(True)
        assert all(b.max_error == 0 and not b.floors_sum for b in plan.buckets)
        assert all(all(e == 0 for e, _ in q.errors.values()) for q in plan.neurons.values())
        result = verify(circuit, steps, fixed_point=True, scale=1.0)
        assert result.identical, "\n".join(result.lines())
        assert sum(c.brian_spikes for c in result.populations.values()) > 50


def test_quantisation_error_bounds():
    rng = np.random.default_rng(5)
    clipped = 0
    for _ in range(200):
        scale = 2.0 ** int(rng.integers(-3, 6))
        kind = rng.integers(3)
        w = rng.normal(0, 10 ** rng.uniform(-1, 3), int(rng.integers(1, 40)))
        w = np.abs(w) if kind == 0 else -np.abs(w) if kind == 1 else w
        q = fxp.quantize_weights(w, scale)
        if q.clipped:  # only weights beyond the largest mantissa at the largest exponent may clip
            clipped += 1
            assert np.abs(w * scale).max() > 254 * 2 ** fxp.WEIGHT_EXP_MAX and q.bound == np.inf
        else:
            assert np.all(q.error <= q.bound + 1e-12)
            low, high, grid = fxp.SIGN_MODES[q.sign_mode]
            assert q.mantissa.min() >= low and q.mantissa.max() <= high and np.all(q.mantissa % grid == 0)
            np.testing.assert_allclose(q.values, q.mantissa * 2.0 ** q.exp / scale)
        b = rng.uniform(-9000, 9000, 20) / scale
        qb = fxp.quantize_bias(b, scale)
        fits = np.isfinite(qb.bound)
        assert np.all(qb.error[fits] <= qb.bound[fits] + 1e-12)
        assert np.all((qb.exp >= 0) & (qb.exp <= 7))
        assert np.all((qb.mantissa >= -4096) & (qb.mantissa <= 4095))
        neuron = fxp.quantize_neuron(rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0, 1000), b, scale)
        for name, (error, bound) in neuron.errors.items():
            assert error <= bound + 1e-12, name
        assert 0 <= neuron.du <= 4095 and 0 <= neuron.dv <= 4096
    assert 0 < clipped < 40  # the bound check above ran on most draws
    # on the grid: no error at all (the sBP values)
    for values in ([8704, 9280, 512, 8192], [-8128], [520, -520], [-254, 254, 0, 2, -2]):
        assert fxp.quantize_weights(np.array(values, float)).exact
    sbp_neuron = fxp.quantize_neuron(1.0, 1.0, 1024.0, [-8192.0, 0.0])
    assert (sbp_neuron.du, sbp_neuron.dv, sbp_neuron.vth) == (4095, 4096, 1024)
    assert sbp_neuron.bias.mantissa.tolist() == [-4096, 0] and sbp_neuron.bias.exp.tolist() == [7, 0]
    assert all(e == 0 for e, _ in sbp_neuron.errors.values())
    assert fxp.quantize_decay_v(1.0, dv_max=4095) == (4095, 4095 / 4096)
    assert fxp.choose_scale([1024.0], [np.array([-8192.0])], [8704.0], [30000.0]) == 1.0


def test_random_network_quantisation_within_bounds():
    circuit, steps = random_circuit(0)
    plan = translate(circuit, steps).plan(True)
    assert plan.scale > 1  # small thresholds and weights: the automatic scale gains resolution
    for bucket in plan.buckets:
        assert bucket.max_error <= bucket.bound + 1e-12
    for q in plan.neurons.values():
        for name, (error, bound) in q.errors.items():
            assert error <= bound + 1e-12, name
    # the fixed-point weights of each projection are its float weights within the bound of its Dense
    float_plan = translate(circuit, steps).plan(False)
    total_fixed = sum(b.weights.sum() for b in plan.buckets if b.target == "a_in")
    total_float = sum(b.weights.sum() for b in float_plan.buckets if b.target == "a_in")
    n_synapses = sum(len(p.i) for p in circuit.projections.values())
    assert abs(total_fixed - total_float) <= n_synapses * max(b.bound for b in plan.buckets)


# ------------------------------------------------------------------------------------------------ refusals
def test_unsupported_parts_are_refused_clearly():
    circuit = Circuit("other")
    circuit.add_population("a", 3, LIF)
    with pytest.raises(ConfigError, match="supports"):
        translate(circuit, 5)
    circuit = Circuit("refractory")
    circuit.add_source("s", 1, [0], [0])
    circuit.add_population("a", 2, LoihiCUBA, refractory_steps=3)
    circuit.connect("s", "a", 2000.0, pattern="all_to_all")
    network = translate(circuit, 5)
    with pytest.raises(ConfigError, match="refractory='ignore'"):
        network.run(fixed_point=True)
    assert not translate(circuit, 5).report().processes[0].loihi_deployable
    with pytest.raises(ConfigError, match="refractory must be"):
        translate(circuit, 5, refractory="drop")
    circuit = Circuit("plastic_delay")
    circuit.add_population("a", 2, LoihiCUBA)
    circuit.add_population("b", 2, LoihiCUBAModulated)
    circuit.connect("a", "b", 2.0, pattern="all_to_all", synapse=SBPRewardRule, delay=1)
    with pytest.raises(ConfigError, match="delay 0"):
        translate(circuit, 5)


def test_disconnected_populations_run_in_one_lava_network():
    """Lava compiles the processes connected to the one it runs; unconnected parts are joined by
    zero-weight Dense processes and still spike as in Brian2."""
    circuit = Circuit("apart")
    circuit.add_population("a", 3, LoihiCUBA, decay_u=0.5, decay_v=0.2, vth=3.0, bias=np.array([0.5, 0.9, 1.3]))
    circuit.add_population("b", 2, LoihiCUBA, decay_u=1.0, decay_v=0.0, vth=5.0, bias=np.array([0.7, 1.1]),
                           refractory_steps=3)
    result = verify(circuit, 30)
    assert result.identical, "\n".join(result.lines())
    assert all(c.brian_spikes > 3 for c in result.populations.values())
    assert any(name.startswith("link_") for name in translate(circuit, 30).build().processes)


def test_rules_are_table_entries():
    """A plastic projection is translated by its rule's entry; a rule without one is refused with the list."""
    from spikingbp.lava.rules import RULES
    from spikingbp.models.plasticity import ThreeFactorSTDP

    assert list(RULES) == ["SBPRewardRule"] and RULES["SBPRewardRule"].process.__name__ == "SBPPlasticSynapses"
    circuit = Circuit("stdp")
    circuit.add_population("a", 2, LoihiCUBA)
    circuit.add_population("b", 2, LoihiCUBAModulated)
    circuit.connect("a", "b", 2.0, pattern="all_to_all", synapse=ThreeFactorSTDP, name="learned")
    with pytest.raises(ConfigError, match=r"'learned': synapse model ThreeFactorSTDP has no lava translation "
                                          r"\(supported: Static, SBPRewardRule\)"):
        translate(circuit, 5)


# ------------------------------------------------------------------------------------------------ SSNN-BP
def ssnn_digits(n, hidden=32, Ts=50):
    """SSNN-BP with fresh He weights and the first ``n`` digits test images (intensities in [0, 1])."""
    algorithm = create("ssnnbp", {"Ts": Ts})
    data = load_dataset("digits", limit_test=n)
    X = algorithm.encode(data.x_test)
    params = algorithm.init_params(Sizes(X.shape[1], (hidden,), 10), 0)
    return algorithm, params, X


def test_ssnnbp_inference_identical_on_50_digits():
    """The forward units of every layer, WTA included, spike at the same steps in Brian2 and lava, and lava's
    counts are the numpy reference's."""
    from spikingbp.reference import ssnnbp as ssnn_reference

    algorithm, params, X = ssnn_digits(50)
    result = verify_algorithm(algorithm, params, X, phase="inference")
    assert result.identical_count == 50, "\n".join(result.lines())
    checks = result.verification.populations
    assert checks["h1"].brian_spikes > 50 * 32 and checks["o"].brian_spikes > 50 * 5, "the network should be active"
    o = result.verification.lava.spike_matrix("o")[:50 * 50].reshape(50, 50, 10).sum(axis=1)
    np.testing.assert_array_equal(o, ssnn_reference.output_counts(
        [params["W0"], params["W1"]], algorithm.trains(X, np.zeros((50, 10)), np.arange(50), [0, 0], [32],
                                                       train=False)[0], algorithm.settings(eta=0.0)))
    assert (np.sort(o, axis=1)[:, -2] > 0).any(), "rival output units should fire too: the WTA is exercised"
    processes = {p.name: p for p in result.verification.report.processes}
    assert processes["ssnn0"].lava_class == "SSNNForwardUnits"
    assert {p.lava_class for p in processes.values() if p.role == "synapses"} == {"Dense"}
    notes = " ".join(result.verification.report.notes)
    assert "'labels'" in notes and "'dropout1'" in notes


def test_ssnnbp_translation_refuses_what_it_cannot_express():
    algorithm, params, X = ssnn_digits(2, hidden=8)
    T = np.eye(10)[[0, 1]]
    training = algorithm.circuit(params, X, T, phase="train")
    with pytest.raises(ConfigError, match=r"'W0' \(SSNNStochasticInputWeights\) learns \(eta2 = 0.005\); lava "
                                          r"translates the SSNN-BP inference circuit"):
        translate(training.circuit, training.steps)
    inference = algorithm.circuit(params, X, phase="inference")
    with pytest.raises(ConfigError, match="floating-point model only"):
        translate(inference.circuit, inference.steps).run(fixed_point=True)
    dropped = algorithm.circuit(params, X, phase="inference").circuit
    dropped.sources["drop1"] = type(dropped.sources["drop1"])("drop1", 8, np.array([3]), np.array([0]))
    with pytest.raises(ConfigError, match="'dropout1' sets 'dropped' of 'h1'.*only while its source sends nothing"):
        translate(dropped, inference.steps)


def test_ssnnbp_weights_add_in_brian2s_order():
    """Brian2 adds a step's weights in presynaptic order, and so must lava's float Dense: with the threshold
    between the first-to-last sum and a row-wise (SIMD / pairwise) sum of one unit's weights, the unit fires in
    one order only, and Brian2 and lava still agree."""
    from spikingbp.circuits.ssnnbp import SSNNSettings, run_steps, ssnn_circuit
    from spikingbp.models.ssnn import kernel_factor

    k = kernel_factor(4)
    for seed in range(100):  # weights whose two sums differ after the kernel step for some unit
        W0 = np.random.default_rng(seed).normal(size=(40, 10))
        in_order = np.cumsum(W0, axis=0)[-1] * k
        row_wise = np.add.reduce(np.ascontiguousarray(W0.T), axis=1) * k
        differ = np.flatnonzero((in_order != row_wise) & (in_order > 0))
        if len(differ):
            break
    unit = differ[0]
    theta = (in_order[unit] + row_wise[unit]) / 2
    inputs = np.zeros((1, 4, 40), bool)
    inputs[0, 0] = True                 # every input at the sample's step 0, integrated at step 1
    circuit = ssnn_circuit([W0, np.ones((10, 2))], inputs, np.zeros((1, 4, 2), bool), [np.ones((1, 10), bool)],
                           SSNNSettings(Ts=4, theta=theta, eta=0.0))
    result = verify(circuit, run_steps(1, 4))
    assert result.identical, "\n".join(result.lines())
    assert result.brian_spikes["h1"][1, unit] == (in_order[unit] > theta)


# ------------------------------------------------------------------------------------------------ eRBP
def test_erbp_test_network_identical_and_its_training_circuit_refused():
    """eRBP's test network (hidden, output and error units, noise) spikes at the same steps in Brian2 and lava;
    the error -> dendrite projections are left out with a note; a circuit that learns is refused."""
    algorithm = create("erbp", {"test_ms": 20.0, "train_ms": 20.0, "learn_after_ms": 5.0})
    data = load_dataset("digits", limit_train=3, limit_test=20)
    X, T = algorithm.encode(data.x_test), np.eye(10)[data.y_test]
    params = algorithm.init_params(Sizes(X.shape[1], (12,), 10), 0)
    result = verify_algorithm(algorithm, params, X, phase="inference")
    assert result.identical_count == 20, "\n".join(result.lines())
    checks = result.verification.populations
    assert checks["h1"].brian_spikes > 200 and checks["o"].brian_spikes > 100 and checks["e"].brian_spikes > 30
    classes = {p.lava_class for p in result.verification.report.processes}
    assert {"ERBPUnits", "ERBPErrorUnits", "Dense"} <= classes
    notes = " ".join(result.verification.report.notes)
    assert "'error_output'" in notes and "'feedback1'" in notes
    training = algorithm.circuit(params, X[:2], T[:2], phase="train")
    with pytest.raises(ConfigError, match=r"'W0' \(ERBPWeights\) learns \(eta = 0.0006\); lava translates the eRBP "
                                          r"inference circuit"):
        translate(training.circuit, training.steps)
