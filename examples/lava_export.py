"""Export a trained network to Lava (lava-nc) and check it spikes as the Brian2 circuit does, sample by sample.

    python examples/lava_export.py [OUT]      # OUT: the run directory trained first (default examples_out/lava_export)

The sBP inference circuit of the trained weights goes through the translator's tables (one Lava process per
population, one Dense per projection); both simulators run the same test samples and every unit's spikes are
compared at every step.
"""
import sys

from spikingbp.lava import verify_algorithm
from spikingbp.training import TrainConfig, load_run, train

out = sys.argv[1] if len(sys.argv) > 1 else "examples_out/lava_export"

train(TrainConfig(out=out, algorithm="sbp", hidden=(20,), epochs=1, device="reference", progress=False))
run = load_run(out)
data = run.data(limit=20)
check = verify_algorithm(run.algorithm, run.final, data.X_test, phase="inference")
print("\n".join(check.lines()))
if not check.identical:
    raise SystemExit("Brian2 and Lava differ")
