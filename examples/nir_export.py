"""A trained network out to NIR, the format snnTorch, Norse, Sinabs, Rockpool, Lava and SpiNNaker2 read.

    python examples/nir_export.py [OUT]        # OUT: the run directory (default examples_out/nir_export)

Train sBP briefly, export its inference network as a NIR graph, read the file back with ``nir.read`` and
compute the predictions from the graph alone (NIR's definitions of Linear and Threshold), against the circuit's.
"""
import sys
from pathlib import Path

import nir
import numpy as np

from spikingbp.circuits import sbp
from spikingbp.nirgraph import evaluate_stateless, export_run, write_graph
from spikingbp.training import TrainConfig, load_run, train

out = Path(sys.argv[1] if len(sys.argv) > 1 else "examples_out/nir_export")

train(TrainConfig(out=out, algorithm="sbp", hidden=(40,), epochs=1, device="reference", progress=False))
export = export_run(out)
print("\n".join(export.lines()))
graph = nir.read(str(write_graph(export.graph, out / "model.nir")))

run = load_run(out)
data = run.data(limit=100)
from_graph = np.argmax(evaluate_stateless(graph, data.X_test)["potential"], axis=1)
_, potentials = sbp.infer(run.final["W0"], run.final["W1"], data.X_test, device="runtime", target="numpy")
print(f"predictions from the NIR file equal the circuit's on {len(from_graph)} test samples:",
      np.array_equal(from_graph, np.argmax(potentials, axis=1)))
print(f"test accuracy: {np.mean(from_graph == np.argmax(data.T_test, axis=1)):.3f}")
if not np.array_equal(from_graph, np.argmax(potentials, axis=1)):
    raise SystemExit("the NIR graph and the circuit disagree")
