"""Train sBP (Renner et al. 2024) on the embedded digits: the spiking circuit, a run directory, a learning curve.

    python examples/train_sbp.py [OUT]        # OUT: the run directory (default examples_out/train_sbp)

``spikingbp.training.train`` is the loop every algorithm shares: it writes config.json, weights, metrics.csv and
learning_curves.png into the run directory, checkpoints every chunk, and resumes when run again.
"""
import sys

import pandas as pd

from spikingbp.training import TrainConfig, train

out = sys.argv[1] if len(sys.argv) > 1 else "examples_out/train_sbp"

config = TrainConfig(
    out=out,
    algorithm="sbp",         # synfire-gated, binary, exact backprop
    dataset="digits",        # scikit-learn's 8x8 digits, embedded
    hidden=(40,),            # 64-40-10
    epochs=2,
    device="runtime",        # the Brian2 circuit (cpp_standalone compiles it once, then reruns it)
    seed=0,
    progress=False,
)
result = train(config)
print(pd.read_csv(result.path("metrics.csv"))[["epoch", "train_accuracy", "test_accuracy"]].to_string(index=False))
print(f"wrote {result.out}")
