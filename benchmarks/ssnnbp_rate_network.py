"""SSNN-BP's expected rate network, trained: the SNN without its spikes, in its own units and at its own eta.

    python benchmarks/ssnnbp_rate_network.py --dataset mnist --data-dir ../shared/data/mnist-10k --epochs 10
    python benchmarks/ssnnbp_rate_network.py ... --inhibition 0      (no winner-take-all)

Where the annealed SNN runs lag the equal-budget ANN (docs/investigations/2026-12.md), this network separates
what the spikes cost from what the rule costs in the units it works in. Each training sample, with the run's
options (``create("ssnnbp", ...)`` defaults, changed by ``--option``) and its initial weights (seed ``--seed``):

- input counts at their expectation, n = Ts x mean_rate x pixel/255, each pixel dropped with dropout_input;
- hidden counts h = clip(W0^T n / theta, 0, Ts - 1), a unit dropped with dropout_hidden counting 0;
- output counts o: the rates at which units driven by W1^T h / theta settle under the lateral inhibition, each
  rival's count taking w_inh / theta of a count away (``--inhibition`` overrides that ratio), at most Ts - 2;
- error, in gradient spikes: output (label count - o) / theta_output with the label count Ts x label_rate for the
  right class, 0 for the others; hidden (W1 delta_out) / theta_hidden where the unit fired (the rule's gate);
- update, the rate form of the rule at the stochastic eta over Ts (its coincidences' expectation): W_l +=
  (eta_e / Ts) / 2 x (presynaptic counts) x delta, eta_e = eta x eta_decay^(e - 1).

The test reads out the class of the largest output drive (``ssnnbp_rate_readout``). No spike is drawn, so the
network has no sampling noise but the order and the dropout masks (from ``--seed``).

Results: ``benchmarks/results/ssnnbp_rate_network_<data dir>[_<options>][_seed<seed>].json``.
"""
import argparse
import json
import os
import platform
import subprocess
import time
from pathlib import Path

import numpy as np
from ann_baseline import mutual_inhibition

REPO = Path(__file__).resolve().parents[1]


#: What of the spikes a run may put back into the network (``--spikes``): each is one of its departures from
#: the SNN's expectation.
SPIKES = {
    "input": "input counts drawn, Binomial(Ts, mean_rate x pixel/255), not at their expectation",
    "label": "the label count drawn, Binomial(Ts, label_rate), not Ts x label_rate",
    "integer": "hidden and output counts rounded down to whole spikes, the errors to whole gradient spikes "
               "(towards zero)",
    "coincidences": "the stochastic form's update: per synapse, the same-step coincidences of its presynaptic and "
                    "gradient spikes, each placed at random among the Ts steps (Hypergeometric(Ts, d, n): mean n d / "
                    "Ts, the rate form's), times +-eta / 2; implies whole counts (input, hidden and gradient counts "
                    "rounded as by integer)",
}


def coincidences(rng, pre, delta, Ts: int):
    """Net same-step coincidences (d+ minus d-) of ``pre`` whole spike counts with the whole gradient spike counts
    ``delta`` (positive: d+, negative: d-), each train placed at random among ``Ts`` steps; (pre units, units with a
    gradient spike) and the latter's indices."""
    columns = np.flatnonzero(delta)
    d = np.minimum(np.abs(delta[columns]), Ts).astype(np.int64)
    drawn = rng.hypergeometric(d[None, :], Ts - d[None, :], pre.astype(np.int64)[:, None])
    return drawn * np.sign(delta[columns])[None, :], columns


def train(algorithm, data, epochs: int, seed: int, inhibition: float, spikes=(), on_epoch=print) -> list:
    """Test accuracy after every epoch of the rate network of ``algorithm`` (an SSNN-BP adapter) on ``data``, with
    the departures ``spikes`` (keys of ``SPIKES``)."""
    v = algorithm.values
    settings = algorithm.settings()
    Ts, theta = v["Ts"], settings.theta
    params = algorithm.init_params(data.sizes(HIDDEN), seed)
    W0, W1 = (np.asarray(params[name], float) for name in ("W0", "W1"))
    label_count = Ts * v["label_rate"]
    rng = np.random.default_rng([seed, 7])
    X, y = np.asarray(data.X_train, float), np.argmax(data.T_train, axis=1)
    curve = []
    for epoch in range(1, epochs + 1):
        step = v["eta"] * v["eta_decay"] ** (epoch - 1) / Ts / 2
        for index in rng.permutation(len(X)):
            rates = v["mean_rate"] * X[index]
            n = (rng.binomial(Ts, rates) if "input" in spikes else Ts * rates) * (
                rng.random(X.shape[1]) >= v["dropout_input"])
            if "coincidences" in spikes:
                n = np.floor(n)
            active = np.flatnonzero(n)
            h = np.clip(n[active] @ W0[active] / theta, 0.0, Ts - 1) * (rng.random(W0.shape[1]) >= v["dropout_hidden"])
            whole = np.floor if {"integer", "coincidences"} & set(spikes) else (lambda counts: counts)
            h = whole(h)
            o = whole(mutual_inhibition((h @ W1 / theta)[None], inhibition, Ts - 2)[0])
            target = np.zeros_like(o)
            target[y[index]] = rng.binomial(Ts, v["label_rate"]) if "label" in spikes else label_count
            gradient = np.trunc if {"integer", "coincidences"} & set(spikes) else (lambda counts: counts)
            delta_out = gradient((target - o) / settings.theta_output)
            delta_hidden = gradient((W1 @ delta_out) / settings.theta_hidden) * (h > 0)
            fired = np.flatnonzero(h)
            if "coincidences" in spikes:   # +-eta / 2 per coincidence: step x Ts
                for W, rows, pre, delta in ((W1, fired, h[fired], delta_out), (W0, active, n[active], delta_hidden)):
                    net, columns = coincidences(rng, pre, delta, Ts)
                    W[np.ix_(rows, columns)] += step * Ts * net
            else:
                W1[fired] += step * np.outer(h[fired], delta_out)
                W0[active] += step * np.outer(n[active], delta_hidden)
        counts = np.clip(Ts * v["mean_rate"] * np.asarray(data.X_test, float) @ W0 / theta, 0.0, Ts - 1)
        curve.append(round(float(np.mean(np.argmax(counts @ W1, axis=1) == np.argmax(data.T_test, axis=1))), 4))
        on_epoch(f"epoch {epoch}: test accuracy {curve[-1]:.4f}")
    return curve


HIDDEN = (1280,)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--data-dir", default="../shared/data/mnist-10k", help="relative to the repository root")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="an SSNN-BP option (default here: eta=0.0007, eta_decay=0.75, the annealed runs')")
    parser.add_argument("--inhibition", type=float, default=None,
                        help="the lateral inhibition as a fraction of a count per rival count, in [0, 1) "
                             "(default: w_inh / theta, 0.5)")
    parser.add_argument("--spikes", nargs="+", default=[], choices=tuple(SPIKES),
                        help="put back these departures of the SNN from its expectation: " + "; ".join(
                            f"{key}: {what}" for key, what in SPIKES.items()))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    from spikingbp.algorithms import create
    from spikingbp.errors import ConfigError
    from spikingbp.io import write_json
    from spikingbp.training import load_data

    options = {"eta": 0.0007, "eta_decay": 0.75}
    for item in args.option:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--option {item}: give KEY=VALUE, e.g. eta=0.0007")
        options[key] = value
    try:
        algorithm = create("ssnnbp", options)
    except ConfigError as error:
        parser.error(str(error))
    if args.epochs < 1:
        parser.error(f"--epochs {args.epochs}: give a positive number of epochs, e.g. 10")
    settings = algorithm.settings()
    inhibition = settings.w_inh / settings.theta if args.inhibition is None else args.inhibition
    if not 0 <= inhibition < 1:
        parser.error(f"--inhibition {inhibition}: give a value in [0, 1) (the circuit's: w_inh / theta)")
    data = load_data(algorithm, args.dataset, REPO / args.data_dir)
    started = time.perf_counter()
    curve = train(algorithm, data, args.epochs, args.seed, inhibition, tuple(args.spikes),
                  on_epoch=lambda line: print(line, flush=True))
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    summary = {"command": "python benchmarks/ssnnbp_rate_network.py --dataset " + args.dataset
                          + f" --data-dir {args.data_dir} --epochs {args.epochs}"
                          + "".join(f" --option {o}" for o in args.option)
                          + (f" --inhibition {args.inhibition}" if args.inhibition is not None else "")
                          + (f" --spikes {' '.join(args.spikes)}" if args.spikes else "")
                          + f" --seed {args.seed}",
               "machine": f"{platform.machine()}, {os.cpu_count()} cores", "commit": commit,
               "options": algorithm.values, "inhibition": inhibition, "spikes": list(args.spikes), "train": len(data.X_train), "test": len(data.X_test),
               "test_accuracy_per_epoch": curve, "final_test_accuracy": curve[-1],
               "wall_seconds": round(time.perf_counter() - started, 1)}
    suffix = "".join(f"_{o.replace('=', '')}" for o in args.option) + (
        f"_inhibition{args.inhibition:g}" if args.inhibition is not None else "") + "".join(
        f"_{key}" for key in SPIKES if key in args.spikes) + (f"_seed{args.seed}" if args.seed else "")
    out = Path(args.out or REPO / "benchmarks" / "results"
               / f"ssnnbp_rate_network_{Path(args.data_dir).name}{suffix}.json")
    write_json(out, summary, indent=1)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
