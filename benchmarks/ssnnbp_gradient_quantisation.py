"""Where SSNN-BP's rate form loses against its ideal rate network: the quantisation of the error by the gradient
units' thresholds, or the timing of their spikes?

    python benchmarks/ssnnbp_gradient_quantisation.py [--samples 10000] [--test 2000] [--variants ...]

One epoch on the first ``--samples`` training images of Fashion-MNIST (or ``--dataset``, ``--data-dir``;
784-1280-10, Ts 100, the paper's dropout; the trains and masks that ``spikingbp train`` draws for seed 0, in its
presentation order), tested on the first ``--test`` test images. The rate form's eta multiplies (count x count), so
its step is about Ts times the stochastic form's at the same eta (``scale_rate_form`` of ``spikingbp alignment``,
docs/methods/ssnnbp.md): ``--eta`` defaults to the Fashion-MNIST eta of the stochastic form over Ts, 0.0007 / 100.
Every variant runs the same spiking forward pass (the numpy reference, which the circuit reproduces bit for bit) and
differs only in the update it then applies, eta/2 x (input counts) x delta:

- ``rate_form``: delta = the gradient units' net spike counts (d+ - d-): the circuit's rate form;
- ``ideal``: delta unquantised, in the same units: output (label count - output count) / theta_N, hidden
  (W_1 delta_out) / theta_b where the unit fired in the sample (the rule's [count > 0] gate);
- ``truncated``: the ideal's deltas each rounded towards zero, layer by layer (the hidden delta from the
  truncated output delta), as integrate-and-fire units with subtractive reset count a drive, without their
  timing: ideal against truncated is what the thresholds' quantisation costs, truncated against rate_form what
  the spikes' timing costs (the kernel's lag, the gate that opens at the first forward spike, drive left below
  threshold at the end of the sample);
- ``stochastic_rounding``: the ideal's deltas rounded down or up with the probability of their fraction
  (unbiased; the hidden delta from the rounded output delta): whether an unbiased quantiser would recover it.

Results: ``benchmarks/results/ssnnbp_gradient_quantisation.json`` (test accuracy per variant, and per variant the
mean over the epoch of the fraction of gated hidden units whose delta is zero while the ideal's is not).
"""
import argparse
import json
import os
import platform
import subprocess
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "fashion-mnist"
VARIANTS = ("rate_form", "ideal", "truncated", "stochastic_rounding")
DEFAULT_OUT = REPO / "benchmarks" / "results" / "ssnnbp_gradient_quantisation.json"


def deltas(variant, weights, counts, labels, record_counts, settings, rng):
    """The output and hidden deltas of one sample under ``variant`` (one hidden layer)."""
    n_p, n_m = record_counts
    if variant == "rate_form":
        return [n_p[0] - n_m[0], n_p[1] - n_m[1]]
    gate = counts[1] > 0
    out = (labels - counts[2]) / settings.theta_output
    if variant == "truncated":
        out = np.trunc(out)
    elif variant == "stochastic_rounding":
        out = np.floor(out + rng.random(out.shape))
    hidden = (weights[1] @ out) / settings.theta_hidden
    if variant == "truncated":
        hidden = np.trunc(hidden)
    elif variant == "stochastic_rounding":
        hidden = np.floor(hidden + rng.random(hidden.shape))
    return [hidden * gate, out]


def train_variant(variant, algorithm, W, X, T, order, seed, progress):
    from spikingbp.reference import ssnnbp as reference

    settings = algorithm.settings(epoch=1).replace(form="rate")
    weights = [w.copy() for w in W]
    rng = np.random.default_rng([seed, 7])
    lost = []
    for done, index in enumerate(order, 1):
        inputs, labels, keep = algorithm.trains(X, T, [index], [seed, 1], [weights[0].shape[1]], train=True)
        changes, record = reference.run_sample(weights, inputs[0], labels[0], [keep[0][0]], settings)
        counts = [inputs[0].sum(axis=0).astype(float)] + [layer.x.sum(axis=0).astype(float) for layer in record]
        spikes = ([layer.d_plus.sum(axis=0).astype(float) for layer in record],
                  [layer.d_minus.sum(axis=0).astype(float) for layer in record])
        label_counts = labels[0].sum(axis=0).astype(float)
        delta = deltas(variant, weights, counts, label_counts, spikes, settings, rng)
        ideal_hidden = delta[0] if variant == "ideal" else deltas("ideal", weights, counts, label_counts, spikes,
                                                                   settings, rng)[0]
        gated = counts[1] > 0
        if gated.any():
            lost.append(float(np.mean((delta[0][gated] == 0) & (ideal_hidden[gated] != 0))))
        for layer in range(2):   # rate_form: the reference's own change, as ``spikingbp train`` applies it
            weights[layer] = weights[layer] + (changes[layer] if variant == "rate_form" else
                                               settings.eta / 2 * np.outer(counts[layer], delta[layer]))
        if progress and done % 1000 == 0:
            print(f"  {variant}: {done} samples", flush=True)
    return weights, float(np.mean(lost))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--data-dir", default=str(DATA), help="the dataset's directory (default: Fashion-MNIST's)")
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--test", type=int, default=2000)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eta", type=float, default=0.0007 / 100, help="the rate form's learning rate")
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args()

    from spikingbp.algorithms import RunContext, Sizes, create
    from spikingbp.config import TrainConfig
    from spikingbp.training import load_data, presentation_order

    algorithm = create("ssnnbp", {"eta": args.eta, "form": "rate"})
    data = load_data(algorithm, args.dataset, args.data_dir, limit_train=args.samples, limit_test=args.test)
    W = algorithm.init_params(Sizes(data.n_in, (1280,), data.n_out), args.seed)
    context = RunContext("reference", None, args.seed)
    order = presentation_order(TrainConfig(out="unused", algorithm="ssnnbp", dataset=args.dataset,
                                           seed=args.seed), 1, np.argmax(data.T_train, axis=1))
    rows = {}
    for variant in args.variants:
        started = time.perf_counter()
        weights, lost = train_variant(variant, algorithm, [W["W0"], W["W1"]], data.X_train, data.T_train, order,
                                      args.seed, progress=True)
        accuracy = algorithm.evaluate({"W0": weights[0], "W1": weights[1]}, data.X_test, data.T_test, context)
        rows[variant] = {"test_accuracy": accuracy["accuracy"], "hidden_delta_lost": round(lost, 4),
                         "seconds": round(time.perf_counter() - started, 1)}
        print(variant, rows[variant], flush=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout
    dataset = "" if args.dataset == "fashion-mnist" and Path(args.data_dir) == DATA else (
        f" --dataset {args.dataset} --data-dir {args.data_dir}")
    summary = {"command": f"python benchmarks/ssnnbp_gradient_quantisation.py{dataset} --samples {args.samples} --test "
                          f"{args.test} --seed {args.seed} --eta {args.eta:g}"
                          + ("" if tuple(args.variants) == VARIANTS else f" --variants {' '.join(args.variants)}")
                          + ("" if Path(args.out) == DEFAULT_OUT else f" --out {args.out}"),
               "machine": f"{platform.machine()}, {os.cpu_count()} cores", "commit": commit.strip(),
               "setting": f"784-1280-10, Ts 100, rate-form eta {args.eta:g}, one epoch, {args.dataset} "
                          f"({Path(args.data_dir).name})",
               "train": len(data.X_train), "test": len(data.X_test), "variants": rows}
    Path(args.out).write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
