"""Synfire-gated synfire chains: graded amplitudes passed stage to stage, and routed by gating.

    python examples/sgsc_graded_transfer.py [OUT]   # OUT: where results and figures go (default examples_out/sgsc)

``run_sgsc`` calibrates the mean-field gain, runs the spiking chain at the calibrated synaptic strength S and
writes the raster, the amplitude against stage for several input amplitudes, and the routing experiment.
"""
import sys

from spikingbp.experiments.sgsc import run_sgsc

out = sys.argv[1] if len(sys.argv) > 1 else "examples_out/sgsc"

summary = run_sgsc(out, seed=0, quick=True)       # quick: smaller populations, fewer stages
print("wrote", ", ".join(sorted(path.rsplit("/", 1)[-1] for path in summary["files"].values())))
