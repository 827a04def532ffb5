"""LIF and IF against their closed-form solutions; every neuron model passes GeNN code generation."""
import numpy as np
import pytest
from brian2 import Network, SpikeMonitor, StateMonitor, mV, ms, pA, pF

from spikingbp.circuits import neuron_group
from spikingbp.devices import use_device
from spikingbp.errors import ConfigError
from spikingbp.models import IF, LIF, LoihiCUBA, LoihiCUBAModulated, NoisyLIF
from brian2 import Equations
from conftest import genn_model


def test_lif_charges_towards_rest_plus_input_and_fires_periodically():
    with use_device("runtime", target="numpy"):
        unit = neuron_group(LIF, 2, "unit", tau_m=10 * ms, C_m=1 * pF, v_th=np.array([1e3, 15]) * mV,
                            I_ext=2 * pA, t_ref=2 * ms)
        trace = StateMonitor(unit, "v", record=0)
        spikes = SpikeMonitor(unit)
        Network(unit, trace, spikes).run(30 * ms)
        t = trace.t / ms
        expected = 20 * (1 - np.exp(-t / 10))  # v_inf = I R = I tau / C = 20 mV
        np.testing.assert_allclose(trace.v[0] / mV, expected, atol=1e-6)
        # unit 1 crosses 15 mV after -10 ln(1 - 15/20) = 13.86 ms; a spike is stamped with the start of the
        # step that crossed (13.8 ms); v is held at 0 for the 2 ms refractory period, then charges again
        crossing = -10 * np.log(1 - 15 / 20)
        first = np.floor(crossing / 0.1) * 0.1
        second = np.floor((first + 2 + crossing) / 0.1) * 0.1
        np.testing.assert_allclose(spikes.t[spikes.i == 1][:2] / ms, [first, second], atol=1e-9)


def test_if_integrates_without_leak():
    with use_device("runtime", target="numpy"):
        unit = neuron_group(IF, 1, "unit", C_m=1 * pF, v_th=1e3 * mV, I_ext=2 * pA)
        trace = StateMonitor(unit, "v", record=0)
        Network(unit, trace).run(10 * ms)
        np.testing.assert_allclose(trace.v[0] / mV, 2 * trace.t / ms, atol=1e-6)  # dv/dt = I / C = 2 mV/ms


@pytest.mark.parametrize("model", [LIF, IF, LoihiCUBA, LoihiCUBAModulated, NoisyLIF],
                         ids=lambda m: m.name)
def test_genn_code_generation(model, tmp_path):
    with use_device("genn", directory=str(tmp_path), compile=False, run=False):
        group = neuron_group(model, 3, "unit")
        Network(group, SpikeMonitor(group)).run(1 * ms)
    generated = genn_model(tmp_path)
    assert generated["neurons"] == {"unit": 3}
    declared = {name for name in Equations(model.equations.format(target="a_in")).names}
    assert declared <= generated["variables"]["unit"], declared - generated["variables"]["unit"]


def test_wrong_units_are_named():
    with pytest.raises(ConfigError, match="tau_m"):
        neuron_group(LIF, 2, "unit", tau_m=10 * mV)
