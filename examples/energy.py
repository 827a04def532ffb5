"""What a trained network costs per sample: operations counted in the simulation, energy on chip estimated.

    python examples/energy.py [OUT]           # OUT: the run directory (default examples_out/energy)

``spikingbp.energy.measure`` runs the training and inference circuits of a finished run on a few samples and
counts spikes, synaptic events, plastic-synapse updates and neuron updates; ``summary`` prices them per sample
on Loihi 1 (Davies et al. 2018), at 20 pJ per SynOp, and as the dense network's MACs on a CPU and a GPU. These
are operation estimates: static power and host traffic are left out, so they are not measured chip figures.
"""
import sys

import pandas as pd

from spikingbp import energy
from spikingbp.training import TrainConfig, train

out = sys.argv[1] if len(sys.argv) > 1 else "examples_out/energy"

train(TrainConfig(out=out, algorithm="sbp", hidden=(40,), epochs=1, device="reference", progress=False))
measured = energy.measure(out, samples=5, device="runtime")
energy.write(out, measured)                                     # energy.csv and energy.json in the run directory
with pd.option_context("display.float_format", "{:,.4g}".format):
    print(energy.summary(measured).set_index("phase").T.to_string())
for figure in energy.paper_figures():
    if figure["algorithm"] == "sbp":
        print(f"Renner et al. on Loihi, {figure['phase']}: {figure['energy_uJ']} uJ in {figure['time_ms']} ms per sample")
