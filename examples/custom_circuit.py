"""A circuit of your own from the model library, with plain Brian2 monitors added to it.

    python examples/custom_circuit.py [OUT]        # OUT: where the figure goes (default examples_out/custom_circuit)

Forty Poisson-like inputs drive 20 current-based LIF units (``spikingbp.models.neurons.LIF``) through fixed
current jumps; ``Circuit.build()`` hands back the Brian2 network, to which we add the monitors Brian2 users
know (a StateMonitor of the membrane, a PopulationRateMonitor), then run it and plot.
"""
import sys
from pathlib import Path

import matplotlib
import numpy as np
from brian2 import Hz, PopulationRateMonitor, StateMonitor, defaultclock, ms, mV, pA

from spikingbp.circuits.circuit import Circuit
from spikingbp.devices import use_device
from spikingbp.models.neurons import LIF
from spikingbp.models.synapses import StaticCurrent

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

out = Path(sys.argv[1] if len(sys.argv) > 1 else "examples_out/custom_circuit")
out.mkdir(parents=True, exist_ok=True)

# ----------------------------------------------------------------------------- parameters
n_inputs = 40          # input spike sources
n_units = 20           # LIF units
rate = 40.0            # input rate, Hz
steps = 3000           # 300 ms at dt = 0.1 ms
w_in = 0.6 * pA         # current jump per input spike (3 mV of charge on the 1 pF membrane)
p_connect = 0.3        # connection probability input -> unit
rng = np.random.default_rng(1)

# ----------------------------------------------------------------------------- circuit
circuit = Circuit("custom", dt=0.1 * ms)
spikes = rng.random((steps, n_inputs)) < rate * 0.1e-3          # Bernoulli per step: Poisson in the limit
step, unit = np.nonzero(spikes)
circuit.add_source("inputs", n_inputs, indices=unit, steps=step)
circuit.add_population("lif", n_units, LIF, tau_m=10 * ms, v_th=15 * mV, t_ref=2 * ms)
i, j = np.nonzero(rng.random((n_inputs, n_units)) < p_connect)
circuit.connect("inputs", "lif", float(w_in), i=i, j=j, synapse=StaticCurrent, name="input_weights")
print(circuit.table()[1].to_string(index=False))

# ----------------------------------------------------------------------------- Brian2: build, monitor, run
with use_device("runtime", target="numpy"):
    defaultclock.dt = circuit.dt
    built = circuit.build(record_spikes=["lif"])
    group = built.groups["LIF"]                                # the NeuronGroup holding the population
    membrane = StateMonitor(group, "v", record=[0, 1, 2])      # plain Brian2 monitors, added to its network
    rate_monitor = PopulationRateMonitor(group)
    built.network.add(membrane, rate_monitor)
    built.network.run(steps * circuit.dt)
    result = built.result(steps)
    t_ms, v_mV = membrane.t / ms, membrane.v / mV
    rate_hz = rate_monitor.smooth_rate(width=10 * ms) / Hz

counts = result.spike_counts("lif")
print(f"{counts.sum()} spikes of {n_units} LIF units in {steps * 0.1:.0f} ms: "
      f"mean rate {counts.mean() / (steps * 1e-4):.1f} Hz")

# ----------------------------------------------------------------------------- plot
figure, axes = plt.subplots(3, 1, figsize=(7, 6), sharex=True)
s, u, _ = result.spikes["lif"]
axes[0].plot(s * 0.1, u, "|k", markersize=4)
axes[0].set_ylabel("LIF unit")
axes[1].plot(t_ms, v_mV.T)
axes[1].axhline(15, color="gray", linestyle="--", linewidth=0.8)
axes[1].set_ylabel("v (mV)")
axes[2].plot(t_ms, rate_hz)
axes[2].set_ylabel("rate (Hz)")
axes[2].set_xlabel("time (ms)")
figure.tight_layout()
figure.savefig(out / "custom_circuit.png", dpi=100)
print(f"wrote {out / 'custom_circuit.png'}")
