"""Train eRBP (Neftci et al. 2017): error units, a fixed random feedback matrix, event-driven boxcar updates.

    python examples/train_erbp.py [OUT]       # OUT: the run directory (default examples_out/train_erbp)

Samples last 250 ms (training) and 500 ms (test) at dt = 0.1 ms, as in the paper, so this one runs compiled:
cpp_standalone builds one program per circuit shape and reruns it for every chunk of samples. metrics.csv
also records the SynOps (synaptic events) per test sample and until the first output spike.
"""
import sys

import pandas as pd

from spikingbp.training import TrainConfig, train

out = sys.argv[1] if len(sys.argv) > 1 else "examples_out/train_erbp"

config = TrainConfig(
    out=out,
    algorithm="erbp",
    dataset="digits",
    hidden=(30,),                 # 64-30-10
    epochs=1,
    limit=200, limit_test=60,
    eval_train=60,                # train accuracy on 60 samples: the test program's shape, compiled once
    chunk=200,
    options={"eta": 6e-4,         # the paper's eRBP with noise
             "sigma": 50e-3},     # noise, nA
    device="cpp_standalone",
    seed=0,
    progress=False,
)
result = train(config)
metrics = pd.read_csv(result.path("metrics.csv"))
print(metrics[["epoch", "train_accuracy", "test_accuracy", "test_synops", "test_synops_first_spike"]].to_string(index=False))
print(f"wrote {result.out}")
