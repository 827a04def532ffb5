"""LoihiCUBA: spikes identically to lava-nc's LIF, and identically on every Brian2 device."""

import numpy as np
import pytest
from brian2 import Network, SpikeGeneratorGroup, SpikeMonitor, StateMonitor, defaultclock, ms, run

from spikingbp.circuits import neuron_group, synapses
from spikingbp.devices import find_genn, use_device
from spikingbp.errors import ConfigError
from spikingbp.models import LoihiCUBA, Static
from conftest import genn_model


def random_network(seed):
    """Input spikes -> layer 1 -> layer 2, all parameters random (within Loihi's float model)."""
    rng = np.random.default_rng(seed)
    n_in, n1, n2 = rng.integers(3, 12, size=3)
    steps = 120
    return dict(
        steps=steps,
        spikes=rng.random((n_in, steps)) < 0.25,
        W1=rng.normal(0, 8, (n1, n_in)), W2=rng.normal(0, 8, (n2, n1)),  # (post, pre), as Lava's Dense
        layers=[dict(decay_u=rng.uniform(0, 1), decay_v=rng.uniform(0, 1), vth=rng.uniform(2, 20),
                     bias=rng.uniform(-1, 2, n)) for n in (n1, n2)],
    )


def run_brian(net, delays=(0, 0)):
    """Run ``net`` on the current Brian2 device; spikes as bool (steps, n) and v after each step."""
    defaultclock.dt = 1 * ms
    n_in, steps = net["spikes"].shape
    idx, step = np.nonzero(net["spikes"])
    source = SpikeGeneratorGroup(n_in, idx, step * ms, name="x")
    groups, monitors, pre = [], [], source
    network = Network(source)
    for k, (W, params, delay) in enumerate(zip((net["W1"], net["W2"]), net["layers"], delays)):
        group = neuron_group(LoihiCUBA, W.shape[0], f"layer{k + 1}", **params)
        post_idx, pre_idx = np.nonzero(np.ones_like(W))
        syn = synapses(pre, group, Static, f"w{k + 1}", i=pre_idx, j=post_idx, delay=delay * ms)
        syn.w = W[post_idx, pre_idx]
        monitors.append((SpikeMonitor(group), StateMonitor(group, "v", record=True, when="end")))
        network.add(group, syn, *monitors[-1])
        groups.append(group)
        pre = group
    network.run(steps * ms)
    out = []
    for group, (spike_mon, v_mon) in zip(groups, monitors):
        spikes = np.zeros((steps, len(group)), bool)
        spikes[np.round(spike_mon.t / ms).astype(int), spike_mon.i[:]] = True
        out.append((spikes, np.asarray(v_mon.v).T))
    return out


def run_lava(net):
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.dense.process import Dense
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif.process import LIF
    from lava.proc.monitor.process import Monitor

    steps = net["spikes"].shape[1]
    source = RingBuffer(data=net["spikes"].astype(float))
    out_port, layers, monitors = source.s_out, [], []
    for W, params in zip((net["W1"], net["W2"]), net["layers"]):
        dense = Dense(weights=W)
        lif = LIF(shape=(W.shape[0],), du=params["decay_u"], dv=params["decay_v"], vth=params["vth"],
                  bias_mant=params["bias"])
        out_port.connect(dense.s_in)
        dense.a_out.connect(lif.a_in)
        v_mon, s_mon = Monitor(), Monitor()
        v_mon.probe(lif.v, steps)
        s_mon.probe(lif.s_out, steps)
        layers.append(lif)
        monitors.append((s_mon, v_mon))
        out_port = lif.s_out
    layers[0].run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="floating_pt"))
    try:
        return [(s_mon.get_data()[lif.name]["s_out"].astype(bool), v_mon.get_data()[lif.name]["v"])
                for lif, (s_mon, v_mon) in zip(layers, monitors)]
    finally:
        layers[0].stop()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_spikes_identical_to_lava_lif(seed):
    net = random_network(seed)
    with use_device("runtime", target="numpy"):
        brian = run_brian(net)
    lava = run_lava(net)
    for (b_spikes, b_v), (l_spikes, l_v) in zip(brian, lava):
        assert b_spikes.any(), "the random network should spike"
        np.testing.assert_array_equal(b_spikes, l_spikes)
        np.testing.assert_allclose(b_v, l_v, rtol=1e-9, atol=1e-9)



#: device name -> use_device options; runtime with the numpy target is the reference. The cython target is
#: the default of Circuit.run and the reason for the cython pin.
COMPARED_DEVICES = {"cpp_standalone": ("cpp_standalone", {}), "runtime-cython": ("runtime", {"target": "cython"}),
                    "genn": ("genn", {})}


@pytest.mark.slow
@pytest.mark.parametrize("label", list(COMPARED_DEVICES))
def test_identical_to_runtime_numpy(label, tmp_path):
    device, options = COMPARED_DEVICES[label]
    if device == "genn" and find_genn() is None:
        pytest.skip("GeNN 4.x not found (set GENN_PATH to run this comparison on genn)")
    if device != "runtime":
        options = {**options, "directory": str(tmp_path / device)}
    net = random_network(7)
    delays = (2, 0)
    with use_device("runtime", target="numpy"):
        reference = run_brian(net, delays)
    with use_device(device, **options):
        result = run_brian(net, delays)
    assert reference[0][0].any() and reference[1][0].any()
    for (spikes, v), (ref_spikes, ref_v) in zip(result, reference):
        np.testing.assert_array_equal(spikes, ref_spikes, err_msg=label)
        np.testing.assert_allclose(v, ref_v, rtol=1e-9, atol=1e-9, err_msg=label)


def test_delay_arrives_after_one_plus_delay_steps():
    """A spike emitted at step t reaches the post unit at step t + 1 + delay."""
    for delay in (0, 1, 4):
        net = dict(steps=12, spikes=np.zeros((1, 12), bool), W1=np.array([[2000.0]]), W2=np.array([[2000.0]]),
                   layers=[dict(decay_u=1.0, decay_v=1.0, vth=1024.0, bias=np.zeros(1))] * 2)
        net["spikes"][0, 2] = True
        with use_device("runtime", target="numpy"):
            (s1, _), (s2, _) = run_brian(net, delays=(delay, 0))
        assert np.flatnonzero(s1[:, 0]).tolist() == [2 + 1 + delay]
        assert np.flatnonzero(s2[:, 0]).tolist() == [2 + 1 + delay + 1]


def test_refractory_blocks_next_r_minus_1_steps():
    defaultclock.dt = 1 * ms
    with use_device("runtime", target="numpy"):
        unit = neuron_group(LoihiCUBA, 3, "unit", decay_u=1.0, decay_v=1.0, vth=0.5,
                            bias=1.0, refractory_steps=np.array([0, 2, 3]))
        monitor = SpikeMonitor(unit)
        run(9 * ms)
        steps = np.round(monitor.t / ms).astype(int)
        trains = [steps[monitor.i[:] == k].tolist() for k in range(3)]
    assert trains == [list(range(9)), list(range(0, 9, 2)), list(range(0, 9, 3))]


def test_genn_code_generation(tmp_path):
    net = random_network(3)
    with use_device("genn", directory=str(tmp_path / "genn"), compile=False, run=False):
        defaultclock.dt = 1 * ms
        n_in = net["spikes"].shape[0]
        source = SpikeGeneratorGroup(n_in, [0], [1] * ms)
        group = neuron_group(LoihiCUBA, 4, "layer", refractory_steps=2)
        projection = synapses(source, group, Static, "w", connect=True, delay=2 * ms)  # noqa: F841 (run() finds it)
        monitor = SpikeMonitor(group)  # noqa: F841
        run(5 * ms)
    model = genn_model(tmp_path / "genn")
    assert model["neurons"]["layer"] == 4 and {"u", "v", "a_in", "bias"} <= model["variables"]["layer"]
    assert model["synapses"] == ["w"]


@pytest.mark.parametrize("params, message", [
    (dict(decay_u=1.5), "decay_u"),
    (dict(decay_v=float("nan")), "NaN"),
    (dict(vth=-1.0), "vth"),
    (dict(threshold=3.0), "unknown parameter"),
    (dict(bias=np.zeros(5)), "length 4"),
    (dict(vth=3 * ms), "units"),
])
def test_bad_parameters_are_named(params, message):
    with pytest.raises(ConfigError, match=message):
        neuron_group(LoihiCUBA, 4, "layer", **params)


def test_bad_population_size():
    with pytest.raises(ConfigError, match="positive integer"):
        neuron_group(LoihiCUBA, 0, "layer")
