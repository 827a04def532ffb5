"""The Circuit object: bad input is refused with a named problem, tables describe it, and what a run
records (spikes, states, weights) comes back aligned and in order, merged or not, on every device."""
import dataclasses

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from spikingbp.circuits.circuit import Circuit
from spikingbp.circuits.sgsc import gating_chain, wire
from spikingbp.devices import find_genn, use_device
from spikingbp.errors import ConfigError
from spikingbp.models.neurons import LoihiCUBA, LoihiCUBAModulated
from spikingbp.models.base import SynapseModel
from spikingbp.models.plasticity import SBPRewardRule


def small():
    circuit = Circuit("small")
    circuit.add_population("a", 3, LoihiCUBA)
    circuit.add_population("b", 4, LoihiCUBA)
    circuit.add_source("s", 3, [0, 2], [1, 1])
    circuit.connect("s", "a", 1.0, pattern="one_to_one", name="w")
    return circuit


def run_numpy(circuit, **kwargs):
    return lambda: circuit.run(3, target="numpy", **kwargs)


BAD_INPUT = {  # what: (the call on small(), a regular expression its message must match)
    "duplicate population": (lambda c: c.add_population("a", 2, LoihiCUBA), "'a' is already used"),
    "population named like a source": (lambda c: c.add_population("s", 2, LoihiCUBA), "'s' is already used"),
    "source named like a population": (lambda c: c.add_source("b", 2), "'b' is already used"),
    "duplicate projection name": (lambda c: c.connect("s", "a", 2.0, pattern="one_to_one", name="w"),
                                  "'w' is already used"),
    "projection named like a population": (lambda c: c.connect("s", "a", 2.0, pattern="one_to_one", name="b"),
                                           "'b' is already used"),
    "name not an identifier": (lambda c: c.add_population("h-1", 2, LoihiCUBA), "identifier"),
    "unknown pre population": (lambda c: c.connect("x", "a", 1.0, pattern="all_to_all"),
                               "no population or source named 'x'"),
    "unknown post population": (lambda c: c.connect("a", "h1", 1.0, pattern="all_to_all"),
                                "no population or source named 'h1'"),
    "projection into a source": (lambda c: c.connect("a", "s", 1.0, pattern="all_to_all"),
                                 "target must be a population"),
    "record an unknown population": (lambda c: run_numpy(c, record_spikes=["h1"])(), "cannot record 'h1'"),
    "record a source": (lambda c: run_numpy(c, record_spikes=["s"])(), "cannot record 's'.*source"),
    "record unknown weights": (lambda c: run_numpy(c, record_weights=["W9"])(), "'W9': no such projection"),
    "record an unknown state": (lambda c: run_numpy(c, record_states={"a": ["vv"]})(), "record_states\\['a'\\]"),
    "unknown post variable": (lambda c: (c.connect("s", "a", 1.0, pattern="one_to_one", target="mod_in"),
                                         run_numpy(c)()), "mod_in"),
    "population size 0": (lambda c: c.add_population("c", 0, LoihiCUBA), "size must be a positive integer"),
    "source size 0": (lambda c: c.add_source("t", 0), "size must be a positive integer"),
    "per-unit parameter of wrong length": (lambda c: c.add_population("c", 3, LoihiCUBA, bias=np.zeros(2)),
                                           "'bias' must be a scalar or have length 3"),
    "unknown neuron parameter": (lambda c: c.add_population("c", 3, LoihiCUBA, threshold=1.0),
                                 "unknown parameter"),
    "one_to_one of unequal sizes": (lambda c: c.connect("a", "b", 1.0, pattern="one_to_one"),
                                    "equal sizes, got 3 and 4"),
    "weights of the wrong size": (lambda c: c.connect("a", "b", np.ones(5), pattern="all_to_all"),
                                  "12 synapses but weight has shape \\(5,\\)"),
    "weight matrix of the wrong shape": (lambda c: c.connect("a", "b", np.ones((4, 3)), pattern="all_to_all"),
                                         "must have shape \\(pre, post\\) = \\(3, 4\\), got \\(4, 3\\)"),
    "NaN weight": (lambda c: c.connect("a", "b", [1.0, np.nan], i=[0, 1], j=[0, 0]), "NaN"),
    "infinite weight": (lambda c: c.connect("a", "b", np.inf, pattern="all_to_all"), "infinity"),
    "negative delay": (lambda c: c.connect("a", "b", 1.0, pattern="all_to_all", delay=-1),
                       "delay must be a non-negative integer"),
    "fractional delay": (lambda c: c.connect("a", "b", 1.0, pattern="all_to_all", delay=1.5),
                         "delay must be a non-negative integer"),
    "pre index out of range": (lambda c: c.connect("a", "b", 1.0, i=[0, 3], j=[0, 0]), "indices out of range"),
    "negative post index": (lambda c: c.connect("a", "b", 1.0, i=[0], j=[-1]), "indices out of range"),
    "i and j of different lengths": (lambda c: c.connect("a", "b", 1.0, i=[0, 1], j=[0]), "equal length"),
    "no pattern and no indices": (lambda c: c.connect("a", "b", 1.0), "give a pattern or both i and j"),
    "unknown pattern": (lambda c: c.connect("a", "b", 1.0, pattern="ring"), "unknown pattern 'ring'"),
    "source index out of range": (lambda c: c.add_source("t", 2, [2], [0]), "indices must lie in \\[0, 2\\)"),
    "negative source step": (lambda c: c.add_source("t", 2, [0], [-1]), "steps be >= 0"),
    "fractional source step": (lambda c: c.add_source("t", 2, [0], [0.5]), "steps must be whole numbers"),
    "source spiking twice in a step": (lambda c: c.add_source("t", 2, [1, 0, 1], [3, 3, 3]),
                                       "at most once per step"),
    "unknown connection type": (lambda c: wire(c, [("s", "a", "1x")]), "unknown connection type '1x'"),
    "relay delay above 6": (lambda c: wire(c, [("s", "a", "1e_d7")]), "'1e_d7': delay must be 0..6"),
    "zero steps": (lambda c: c.run(0), "steps must be a positive integer"),
    "gating chain of one stage": (lambda c: gating_chain(c, 1), "at least 2 stages"),
}


@pytest.mark.parametrize("what", list(BAD_INPUT))
def test_bad_input_raises_config_error_naming_it(what):
    call, message = BAD_INPUT[what]
    circuit = small()
    before = (list(circuit.populations), list(circuit.sources), list(circuit.projections))
    with pytest.raises(ConfigError, match=message):
        call(circuit)
    if what != "unknown post variable":  # that one is found when the run builds it
        assert (list(circuit.populations), list(circuit.sources), list(circuit.projections)) == before, \
            "a refused call must leave the circuit as it was"


def test_generated_projection_names_are_numbered():
    circuit = small()
    first = circuit.connect("a", "b", 1.0, pattern="all_to_all", kind="f")
    second = circuit.connect("a", "b", 2.0, pattern="all_to_all", kind="f")
    delayed = circuit.connect("a", "b", 2.0, pattern="all_to_all", kind="f", delay=3)
    assert (first.name, second.name, delayed.name) == ("a__b__f", "a__b__f_2", "a__b__f_d3")


def test_table_lists_populations_and_projections():
    circuit = Circuit("table")
    circuit.add_population("x", 2, LoihiCUBA, bias=-8192.0, vth=1024.0)
    circuit.add_population("y", 3, LoihiCUBAModulated, bias=np.array([0.0, 1.0, 2.0]))
    circuit.add_source("kick", 1, [0], [0])
    circuit.connect("kick", "x", 9280.0, pattern="all_to_all", kind="1ge")
    circuit.connect("x", "x", 520.0, pattern="one_to_one", kind="1e_d2", delay=2)
    circuit.connect("x", "y", np.arange(6.0).reshape(2, 3), pattern="all_to_all", synapse=SBPRewardRule,
                    kind="p", name="W")
    populations, projections = circuit.table()
    rows = populations.to_dict("records")
    assert rows[0] == dict(name="x", size=2, model="LoihiCUBA", bias=-8192.0, vth=1024.0)
    assert {k: rows[1][k] for k in ("name", "size", "model", "bias")} == \
        dict(name="y", size=3, model="LoihiCUBAModulated", bias="per unit")
    assert np.isnan(rows[1]["vth"])  # not set: the model's default applies
    assert projections.to_dict("records") == [
        dict(name="kick__x__1ge", pre="kick", post="x", kind="1ge", synapses=2, delay=0, model="Static",
             plastic=False),
        dict(name="x__x__1e_d2_d2", pre="x", post="x", kind="1e_d2", synapses=2, delay=2, model="Static",
             plastic=False),
        dict(name="W", pre="x", post="y", kind="p", synapses=6, delay=0, model="SBPRewardRule", plastic=True),
    ]
    assert_array_equal(circuit.projections["W"].weight, np.arange(6.0))  # (pre, post) matrix, row-major


# ------------------------------------------------------------------------------------------------ runs
def recorded_circuit(seed=0):
    """A circuit whose recordings are known in closed form (see ``expected``):

    * ``y``: LoihiCUBAModulated units driven to fire at chosen steps; a plastic SBPRewardRule projection
      ``W`` from source ``x`` (synapses in shuffled order, several per pre unit) learns +2 / -2 on same-step
      x/y coincidences with / without the reward (source ``r``, one step early, into ``mod_in``);
    * ``u``: a LoihiCUBA population with memory (decay_u 1/2, decay_v 1/4), bias and threshold, fed by
      two static projections from ``x`` that merge into one Synapses (``S1`` and ``S2``, shuffled order).
    """
    rng = np.random.default_rng(seed)
    steps, n_x, n_y, n_u = 24, 4, 3, 5
    x = rng.random((steps - 2, n_x)) < 0.5
    drive = rng.random((steps - 2, n_y)) < 0.5
    reward = rng.random(steps - 2) < 0.5
    circuit = Circuit("recorded")
    circuit.add_population("y", n_y, LoihiCUBAModulated, decay_u=1.0, decay_v=1.0, decay_mod=1.0)
    circuit.add_population("u", n_u, LoihiCUBA, decay_u=0.5, decay_v=0.25, vth=300.0,
                           bias=np.array([0.0, 16.0, -8.0, 4.0, 0.0]))
    for name, matrix, start in (("x", x, 1), ("drive", drive, 0)):
        step, unit = np.nonzero(matrix)
        circuit.add_source(name, matrix.shape[1], unit, step + start)
    circuit.add_source("r", 1, np.zeros(reward.sum(), int), np.flatnonzero(reward))  # present one step later
    circuit.connect("drive", "y", 2000.0, pattern="one_to_one", kind="drive")  # y fires at drive step + 1
    circuit.connect("r", "y", 1.0, pattern="all_to_all", target="mod_in", kind="reward")
    i_w, j_w = rng.permutation(np.repeat(np.arange(n_x), n_y)), rng.permutation(np.tile(np.arange(n_y), n_x))
    circuit.connect("x", "y", rng.integers(-10, 11, n_x * n_y) * 2.0, i=i_w, j=j_w, synapse=SBPRewardRule,
                    name="W", kind="p")
    i_s, j_s = rng.integers(0, n_x, 9), rng.integers(0, n_u, 9)
    circuit.connect("x", "u", rng.integers(-60, 120, 9).astype(float), i=i_s, j=j_s, name="S1")
    circuit.connect("x", "u", rng.integers(-60, 120, 7).astype(float), i=i_s[:7][::-1], j=j_s[:7], name="S2")
    return circuit, steps, dict(x=x, drive=drive, reward=reward)


def expected(circuit, steps, inputs):
    """Spikes, states and weights of ``recorded_circuit`` computed in numpy (Loihi's maps, step by step)."""
    x = np.zeros((steps, inputs["x"].shape[1]), bool)
    x[1:1 + len(inputs["x"])] = inputs["x"]
    y = np.zeros((steps, inputs["drive"].shape[1]), bool)
    y[1:1 + len(inputs["drive"])] = inputs["drive"]  # driven one step after the drive spike
    rewarded = np.zeros(steps, bool)
    rewarded[1:1 + len(inputs["reward"])] = inputs["reward"]
    W = circuit.projections["W"]
    w = W.weight.copy()
    for t in range(steps):  # a same-step coincidence of x and y
        hit = x[t, W.i] & y[t, W.j]
        w = np.clip(w + hit * (2.0 if rewarded[t] else -2.0), -254, 254)
    u_pop = circuit.populations["u"]
    du, dv, vth, bias = (u_pop.params[k] for k in ("decay_u", "decay_v", "vth", "bias"))
    n_u = u_pop.size
    a_in = np.zeros((steps, n_u))
    for name in ("S1", "S2"):
        p = circuit.projections[name]
        for t in range(1, steps):  # a spike at t - 1 arrives at t
            np.add.at(a_in[t], p.j, p.weight * x[t - 1, p.i])
    u, v = np.zeros((steps, n_u)), np.zeros((steps, n_u))
    spikes = np.zeros((steps, n_u), bool)
    u_prev, v_prev = np.zeros(n_u), np.zeros(n_u)
    for t in range(steps):
        u_prev = u_prev * (1 - du) + a_in[t]
        v_prev = v_prev * (1 - dv) + u_prev + bias
        spikes[t] = v_prev > vth
        v_prev = np.where(spikes[t], 0.0, v_prev)  # reset; the recorded value is after the step
        u[t], v[t] = u_prev, v_prev
    return dict(y=y, u_spikes=spikes, u=u, v=v, W=w)


def check_recorded(circuit, steps, result, want):
    assert_array_equal(result.spike_matrix("y"), want["y"])
    assert_array_equal(result.spike_matrix("u"), want["u_spikes"])
    assert want["u_spikes"].any() and not want["u_spikes"].all()
    assert result.states["u"]["v"].shape == (steps, 5) and result.states["u"]["u"].shape == (steps, 5)
    assert_allclose(result.states["u"]["u"], want["u"], rtol=1e-12, atol=1e-9)  # row t: after step t
    assert_allclose(result.states["u"]["v"], want["v"], rtol=1e-12, atol=1e-9)
    assert list(result.weights) == ["W", "S2", "S1"]
    assert_array_equal(result.weights["W"], want["W"])  # in the projection's synapse order
    assert not np.array_equal(want["W"], circuit.projections["W"].weight), "the weights should have learned"
    for name in ("S1", "S2"):
        assert_array_equal(result.weights[name], circuit.projections[name].weight)


RECORD = dict(record_states={"u": ["u", "v"]}, record_weights=["W", "S2", "S1"])


def test_records_states_after_each_step_and_weights_in_projection_order():
    circuit, steps, inputs = recorded_circuit()
    result = circuit.run(steps, target="numpy", **RECORD)
    check_recorded(circuit, steps, result, expected(circuit, steps, inputs))


def test_record_spikes_of_some_populations():
    circuit, steps, _ = recorded_circuit()
    result = circuit.run(steps, target="numpy", record_spikes=["u"])
    assert list(result.spikes) == ["u"]
    assert circuit.run(steps, target="numpy", record_spikes=False).spikes == {}


def merged_circuit(separate: bool, seed=1):
    """Populations of one model and static projections that share pre group, post group and delay.
    With ``separate`` every population gets its own copy of the model, so nothing is merged."""
    rng = np.random.default_rng(seed)
    circuit = Circuit("merged" if not separate else "separate")
    for name, size in (("a", 5), ("b", 4), ("c", 3)):
        model = dataclasses.replace(LoihiCUBA, name=f"LoihiCUBA_{name}") if separate else LoihiCUBA
        circuit.add_population(name, size, model, decay_u=0.5, decay_v=0.5, vth=100.0,
                               bias=rng.integers(-20, 20, size).astype(float))
    step, unit = np.nonzero(rng.random((30, 6)) < 0.3)
    circuit.add_source("s", 6, unit, step)
    for pre, post, delay in (("s", "a", 0), ("s", "b", 0), ("s", "c", 2), ("a", "b", 0), ("a", "c", 0),
                             ("b", "c", 0), ("c", "a", 1), ("b", "b", 1)):
        n_pre, n_post = circuit.size_of(pre), circuit.size_of(post)
        circuit.connect(pre, post, rng.integers(-80, 160, (n_pre, n_post)).astype(float),
                        pattern="all_to_all", delay=delay)
    return circuit


def test_merged_projections_behave_like_separate_ones():
    with use_device("runtime", target="numpy"):
        n_merged = len(merged_circuit(False).build().synapses)
        n_separate = len(merged_circuit(True).build().synapses)
    assert (n_merged, n_separate) == (4, 8)  # source -> group at delays 0 and 2, group -> group at 0 and 1
    runs = [merged_circuit(separate).run(34, target="numpy", record_states={"c": ["v"]})
            for separate in (False, True)]
    for name in "abc":
        assert runs[0].spike_matrix(name).any()
        assert_array_equal(runs[0].spike_matrix(name), runs[1].spike_matrix(name), err_msg=name)
    assert_array_equal(runs[0].states["c"]["v"], runs[1].states["c"]["v"])


def _records_identical_on(device, tmp_path):
    """One build of the recorded circuit and the merged circuit together on ``device`` (on GeNN,
    brian2genn reads synapses back sorted by presynaptic unit)."""
    circuit, steps, inputs = recorded_circuit()
    want = expected(circuit, steps, inputs)
    merged = merged_circuit(False)
    for name in ("a", "b", "c"):  # copy the merged circuit into the same network
        population = merged.populations[name]
        circuit.add_population(f"m_{name}", population.size, population.model, **population.params)
    source = merged.sources["s"]
    circuit.add_source("m_s", source.size, source.indices, source.steps)
    for p in merged.projections.values():
        circuit.connect(f"m_{p.pre}", f"m_{p.post}", p.weight, i=p.i, j=p.j, delay=p.delay)
    reference = merged.run(steps, target="numpy")
    result = circuit.run(steps, device=device, directory=str(tmp_path / device), **RECORD)
    check_recorded(circuit, steps, result, want)
    for name in "abc":
        assert_array_equal(result.spike_matrix(f"m_{name}"), reference.spike_matrix(name), err_msg=device)


@pytest.mark.slow
def test_records_identical_on_cpp_standalone(tmp_path):
    _records_identical_on("cpp_standalone", tmp_path)


@pytest.mark.slow
def test_records_identical_on_genn(tmp_path):
    if find_genn() is None:
        pytest.skip("GeNN 4.x not found (set GENN_PATH to run this comparison on genn)")
    _records_identical_on("genn", tmp_path)


#: A synapse model whose sample update squares the presynaptic spikes of the sample into w.
COUNTING = SynapseModel(name="CountingRule", equations="w : 1\ncount : 1", on_pre="count += 1", parameters={},
                        post_requires=(), sample_update="w += count * count\ncount = 0")


def sample_update_circuit(sample_steps=10):
    """x (a source) -> d through COUNTING: spikes at steps 1 and 3 (sample 0) and 11 (sample 1)."""
    circuit = Circuit("rate", sample_steps=sample_steps)
    circuit.add_source("x", 1, [0, 0, 0], [1, 3, 11])
    circuit.add_population("d", 1, LoihiCUBA, decay_u=1.0, decay_v=1.0, vth=1024.0)
    circuit.connect("x", "d", 0.0, pattern="one_to_one", synapse=COUNTING, name="rate")
    return circuit


def test_sample_update_is_part_of_the_synapse_model():
    """The sample update runs at every sample start (Circuit(sample_steps=10): steps 0, 10, 20), so w gains
    the square of each sample's count, 2 * 2 + 1 * 1 = 5; in one long sample it has not run yet."""
    result = sample_update_circuit().run(21, target="numpy", record_weights=["rate"])
    np.testing.assert_array_equal(result.weights["rate"], [5.0])
    without_reset = sample_update_circuit(sample_steps=1000).run(21, target="numpy", record_weights=["rate"])
    np.testing.assert_array_equal(without_reset.weights["rate"], [0.0])
    circuit = Circuit("no_length")
    circuit.add_source("x", 1, [0], [1])
    circuit.add_population("d", 1, LoihiCUBA)
    with pytest.raises(ConfigError, match=r"CountingRule updates at every sample start.*sample_steps=N"):
        circuit.connect("x", "d", 0.0, pattern="one_to_one", synapse=COUNTING)


def test_seed_on_genn_is_refused():
    from spikingbp.errors import DeviceError

    with pytest.raises(DeviceError, match="brian2genn cannot seed"):
        sample_update_circuit().run(20, device="genn", seed=1, compile=False, run=False)


@pytest.mark.slow
def test_seed_reaches_cpp_standalone(tmp_path):
    """The same seed gives the same noisy run on cpp_standalone, another seed another run."""
    from spikingbp.circuits.graded import SpikingConfig, run_graded, spiking_sgsc

    circuit = spiking_sgsc(1, 2.95, [20e-12], config=SpikingConfig(n=20))
    runs = [run_graded(circuit, seed=seed, device="cpp_standalone", directory=str(tmp_path / "build"))
            for seed in (7, 7, 8)]
    names = list(circuit.populations)
    assert sum(runs[0].spike_counts(name).sum() for name in names) > 0
    assert all(np.array_equal(runs[0].spike_matrix(name), runs[1].spike_matrix(name)) for name in names)
    assert not all(np.array_equal(runs[0].spike_matrix(name), runs[2].spike_matrix(name)) for name in names)
