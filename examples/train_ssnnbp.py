"""Train SSNN-BP (Biswas et al. 2023): composite neurons with forward, d+ and d- units, WTA output.

    python examples/train_ssnnbp.py [OUT]     # OUT: the run directory (default examples_out/train_ssnnbp)

The algorithm's own parameters go in ``options`` (``spikingbp train --help`` lists them with their meaning).
"""
import sys

import pandas as pd

from spikingbp.training import TrainConfig, train

out = sys.argv[1] if len(sys.argv) > 1 else "examples_out/train_ssnnbp"

config = TrainConfig(
    out=out,
    algorithm="ssnnbp",
    dataset="digits",
    hidden=(32,),                       # 64-32-10
    epochs=2,
    limit=300,                          # the first 300 training samples
    limit_test=120,
    options={"Ts": 50,                  # steps per sample
             "eta": 0.01,               # learning rate
             "form": "stochastic"},     # weight change per forward/gradient coincidence (or "rate")
    device="runtime",
    seed=0,
    progress=False,
)
result = train(config)
print(pd.read_csv(result.path("metrics.csv"))[["epoch", "train_accuracy", "test_accuracy"]].to_string(index=False))
print(f"wrote {result.out}")
