"""A sweep: one function, a dict of parameter sets, one results frame and its figures (as Brunel_2000.py does it).

    python examples/sweep_hidden.py [OUT]     # OUT: the sweep directory (default examples_out/sweep_hidden)

Each point is its own resumable run directory under OUT/points; OUT/results.parquet holds one row per point and
epoch with every parameter a column. Add ``dask_local=2`` (or ``scheduler="tcp://..."``) to run_sweep to spread
the points over Dask workers.
"""
import sys

from spikingbp.analysis.sweep_figures import sweep_figures
from spikingbp.sweep import Sweep, run_sweep

out = sys.argv[1] if len(sys.argv) > 1 else "examples_out/sweep_hidden"

fixed = {"algorithm": "sbp", "dataset": "digits", "epochs": 1, "device": "reference"}
grid = {"hidden": [10, 40], "seed": [0, 1]}      # 2 x 2 points

result = run_sweep(Sweep(job="train", base=fixed, grid=grid), out, progress=False)
table = result.frame.groupby("hidden")["test_accuracy"].agg(["mean", "std", "count"])
print(table.to_string())
files = sweep_figures(result.frame, list(grid), "test_accuracy", f"{out}/figures")
print(f"ran {len(result.ran)}, found {len(result.skipped)} finished; wrote {out}/results.parquet and "
      f"{', '.join(str(f) for f in files)}")
