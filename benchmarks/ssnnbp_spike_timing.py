"""When SSNN-BP's spikes come within a sample, and what that does to the stochastic form's input-weight update.

    python benchmarks/ssnnbp_spike_timing.py --weights reproductions/ssnn-mnist10k-annealed/weights_final.npz

The stochastic form changes W0 by +-eta/2 per same-step coincidence of an input spike and a hidden gradient
spike. The inputs are front-loaded (their spike probability falls linearly from twice its mean to 0 over the
sample, ``spikingbp.data.encoders.front_loaded_rates``), so a gradient spike at step t meets the inputs at
profile(t) = 2 (1 - (t + 0.5) / Ts) times their mean rate: the mean of profile(t) over a hidden unit's gradient
spikes is the factor by which its input weights' expected change differs from the rate form's (eta / Ts) x
(input count) x (net gradient count). On the first ``--samples`` training samples (their epoch-1 trains, seed 0; the
numpy reference, which the circuit reproduces spike for spike), for the initial weights (seed 0) and each
``--weights`` file: the 10th, 50th and 90th percentile of the steps of the input spikes, hidden forward spikes,
output error spikes and hidden gradient spikes, the mean profile at the hidden gradient spikes, and the spread of
that factor over hidden units.

How faithfully the gradient units' spike counts carry their drive (the rate form's update uses the counts).
Per sample: the output's error drive, label minus own forward spikes as delivered (the last step's spikes never
are), against the output's net error counts (d+ - d-); the hidden drive W1 (d+ - d-) of the output's error spikes,
over the hidden units that fired, against their net gradient counts. ``count_cosine``: the cosine of the two (the
mean over the samples with both non-zero); ``lag``: the part of the drive that had not reached the potential by
the sample's end (a drive added at step s has reached it up to 1 - (1 - k)^(Ts - s), ``kernel_step``; with
``--option gradient_kernel=false`` k = 1 and nothing but the last step's spikes lags), its norm
over the whole drive's (summed over the samples). What the lag does not explain is the hidden gate: a hidden
gradient unit emits only once its forward unit has fired, and crossings before that reset silently unless
``--option hold_gradient=true``.

Results: ``benchmarks/results/ssnnbp_spike_timing_<data dir>.json``.
"""
import argparse
import os
import platform
import subprocess
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PERCENTILES = (10, 50, 90)


def timing(algorithm, params, X, T, samples: int) -> dict:
    """The spike steps and the input-weight update factors of ``params`` on the first ``samples`` of X, T."""
    from spikingbp.data import front_loaded_rates
    from spikingbp.reference import ssnnbp as reference

    weights = [params["W0"], params["W1"]]
    Ts = algorithm.values["Ts"]
    profile = front_loaded_rates(np.ones(1), Ts, 0.5)[:, 0] / 0.5   # the inputs' rate at each step over its mean
    inputs, labels, keep = algorithm.trains(X, T, np.arange(samples), [0, 1], [weights[0].shape[1]], train=True)
    steps = {"input": [], "hidden forward": [], "output error": [], "hidden gradient": []}
    factors, losses = [], []
    settings = algorithm.settings(epoch=1)
    k_g = reference.gradient_step(settings)
    for sample in range(samples):
        _, (hidden, output) = reference.run_sample(weights, inputs[sample], labels[sample], [keep[0][sample]],
                                                   settings)
        step, unit = np.nonzero(hidden.d_plus | hidden.d_minus)
        steps["hidden gradient"] += step.tolist()
        factors += [float(profile[step[unit == j]].mean()) for j in np.unique(unit)]
        steps["input"] += np.nonzero(inputs[sample])[0].tolist()
        steps["hidden forward"] += np.nonzero(hidden.x)[0].tolist()
        steps["output error"] += np.nonzero(output.d_plus | output.d_minus)[0].tolist()
        losses.append(drive_losses(weights[1], labels[sample], hidden, output, k_g))
    return {"step_percentiles": {name: np.percentile(values, PERCENTILES).tolist() for name, values in steps.items()},
            "mean_profile_at_hidden_gradient_spikes": round(float(np.mean(profile[steps["hidden gradient"]])), 3),
            "factor_per_hidden_unit_percentiles": np.round(np.percentile(factors, PERCENTILES), 3).tolist(),
            "gradient_drive": gradient_drive_summary(losses)}


def gradient_drive_summary(losses: list) -> dict:
    """Over the samples: the lag's norm summed over the whole drive's norm summed; the mean count cosine over the
    samples where it is defined (a sample without error has no direction)."""
    summary = {}
    for layer in ("output", "hidden"):
        whole = sum(row[f"{layer}_whole"] for row in losses)
        summary[f"{layer}_lag"] = round(sum(row[f"{layer}_lag"] for row in losses) / whole, 3)
        cosines = [row[f"{layer}_count_cosine"] for row in losses if row[f"{layer}_count_cosine"] is not None]
        summary[f"{layer}_count_cosine"] = round(float(np.mean(cosines)), 3)
    return summary


def drive_losses(W1, labels, hidden, output, k) -> dict:
    """One sample's gradient drive against the gradient units' net counts (module docstring)."""
    Ts = len(labels)
    arrived = 1.0 - (1.0 - k) ** (Ts - np.arange(Ts))        # of a drive added at step s, reached by the end
    # drive added at step s: the spikes of step s - 1 (the sample's last step delivers nothing)
    error = np.zeros(labels.shape)
    error[1:] = labels[:-1].astype(float) - output.x[:-1]
    back = np.zeros((Ts, W1.shape[0]))
    back[1:] = (output.d_plus[:-1].astype(float) - output.d_minus[:-1]) @ W1.T
    fired = hidden.x.any(axis=0)
    net = [layer.d_plus.sum(axis=0).astype(float) - layer.d_minus.sum(axis=0) for layer in (output, hidden)]
    row = {}
    for name, drive, counts in (("output", error, net[0]), ("hidden", back[:, fired], net[1][fired])):
        whole = drive.sum(axis=0)
        row[f"{name}_whole"] = float(np.linalg.norm(whole))
        row[f"{name}_lag"] = float(np.linalg.norm(((1.0 - arrived)[:, None] * drive).sum(axis=0)))
        norms = row[f"{name}_whole"] * float(np.linalg.norm(counts))
        row[f"{name}_count_cosine"] = float(counts @ whole) / norms if norms > 0 else None
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--data-dir", default="../shared/data/mnist-10k", help="relative to the repository root")
    parser.add_argument("--weights", nargs="*", default=[], help="weight files (W0, W1) besides the initial weights")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="an SSNN-BP option besides eta=0.0007, eta_decay=0.75 (e.g. hold_gradient=true)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    from spikingbp.algorithms import create
    from spikingbp.cli import _options
    from spikingbp.errors import ConfigError
    from spikingbp.io import write_json
    from spikingbp.training import load_data

    if args.samples < 1:
        parser.error(f"--samples {args.samples}: give a positive number, e.g. 200")
    for name in args.weights:
        if not (REPO / name).is_file():
            parser.error(f"--weights {name}: no such file (give a run's weights_final.npz or an epochs/ file)")
    try:
        algorithm = create("ssnnbp", {"eta": 0.0007, "eta_decay": 0.75, **_options(args.option)})
    except ConfigError as error:
        parser.error(str(error))
    data = load_data(algorithm, args.dataset, REPO / args.data_dir, limit_train=args.samples, limit_test=1)
    rows = {"initial (seed 0)": timing(algorithm, algorithm.init_params(data.sizes((1280,)), 0), data.X_train,
                                       data.T_train, args.samples)}
    for name in args.weights:
        rows[name] = timing(algorithm, dict(np.load(REPO / name)), data.X_train, data.T_train, args.samples)
        print(name, rows[name], flush=True)
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    summary = {"command": f"python benchmarks/ssnnbp_spike_timing.py --dataset {args.dataset} --data-dir {args.data_dir}"
                          + (" --weights " + " ".join(args.weights) if args.weights else "") + f" --samples {args.samples}"
                          + "".join(f" --option {item}" for item in args.option)
                          + (f" --out {args.out}" if args.out else ""),
               "machine": f"{platform.machine()}, {os.cpu_count()} cores", "commit": commit,
               "samples": args.samples, "weights": rows}
    out = Path(args.out or REPO / "benchmarks" / "results" / f"ssnnbp_spike_timing_{Path(args.data_dir).name}.json")
    write_json(out, summary, indent=1)
    print(out)


if __name__ == "__main__":
    main()
