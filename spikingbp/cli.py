"""The ``spikingbp`` command line. Exit codes: 0 success, 2 bad arguments or configuration,
3 data missing or corrupt, 4 device unavailable, 1 any other spikingbp error."""
from __future__ import annotations

import argparse
import importlib.metadata
import platform
import sys

from spikingbp import __version__
from spikingbp.errors import SpikingBPError

STACK = ("numpy", "brian2", "cython", "brian2genn", "lava-nc", "brian2cuda", "pandas", "matplotlib",
         "scikit-learn", "tqdm", "dask")


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def cmd_info(args) -> int:
    from spikingbp.data import dataset_names, find_data_dir
    from spikingbp.devices import available_devices

    print(f"spikingbp {__version__} on Python {platform.python_version()} ({platform.machine()})")
    print("\nstack:")
    for package in STACK:
        print(f"  {package:<13} {_version(package)}")
    print("\ndevices:")
    for name, (usable, reason) in available_devices().items():
        print(f"  {name:<15} {'yes' if usable else 'no ':<4} {reason}")
    print("\ndatasets:")
    for name in dataset_names():
        if name == "digits":
            print(f"  {name:<14} embedded (scikit-learn load_digits, 8x8)")
            continue
        path = find_data_dir(name, args.data_dir)
        print(f"  {name:<14} {path if path else 'not found (pass --data-dir or set SPIKINGBP_DATA)'}")
    return 0


def cmd_train(args) -> int:
    from spikingbp.training import TrainConfig, train

    config = TrainConfig(out=args.out, algorithm=args.algorithm, engine=args.device, dataset=args.dataset,
                         data_dir=args.data_dir, epochs=args.epochs, limit=args.limit, limit_test=args.limit_test,
                         hidden=args.hidden, seed=args.seed, progress=not args.quiet)
    result = train(config)
    last = result.metrics.iloc[-1]
    print(f"trained {config.algorithm} on {config.dataset} for {result.epochs_done} epochs "
          f"({'resumed after epoch ' + str(result.resumed_from_epoch) if result.resumed_from_epoch else 'fresh run'})")
    print(f"test accuracy: exact {last['test_exact']:.4f}, argmax of spikes {last['test_argmax_spikes']:.4f}, "
          f"argmax of potential {last['test_argmax_potential']:.4f}")
    print(f"run directory: {result.out}")
    return 0


def cmd_sgsc(args) -> int:
    from spikingbp.experiments.sgsc import main as run_sgsc

    return run_sgsc(args.out, seed=args.seed, quick=args.quick)


def _run_dir(path: str):
    """config.json and the weights of a finished training run directory."""
    import json
    from pathlib import Path

    import numpy as np

    from spikingbp.errors import DataError

    run = Path(path)
    files = {name: run / name for name in ("config.json", "weights_initial.npz", "weights_final.npz")}
    missing = [str(f) for f in files.values() if not f.is_file()]
    if missing:
        raise DataError(f"{run} is not a finished training run: missing {', '.join(missing)}; give the --out "
                        f"directory of a completed 'spikingbp train'")
    try:
        record = json.loads(files["config.json"].read_text())
        weights = {}
        for name in ("weights_initial.npz", "weights_final.npz"):
            with np.load(files[name], allow_pickle=False) as data:
                weights[name] = (data["W1"], data["W2"])
    except (OSError, ValueError, KeyError) as error:
        raise DataError(f"{run}: cannot read the run files ({error}); rerun 'spikingbp train' into a new --out")
    if record["config"]["algorithm"] != "sbp":
        raise DataError(f"{run} holds a {record['config']['algorithm']} run; the Lava export covers sbp runs")
    return record["config"], weights


def _dataset_inputs(dataset, data_dir, limit, crop, threshold, split="test"):
    from spikingbp.data import binarize, load_dataset, one_hot

    data = load_dataset(dataset, data_dir, limit_train=limit, limit_test=limit)
    images, labels = (data.x_test, data.y_test) if split == "test" else (data.x_train, data.y_train)
    return binarize(images, threshold=threshold, crop=crop), one_hot(labels, data.n_classes, dtype=bool)


def cmd_export_lava(args) -> int:
    import json
    from pathlib import Path

    from spikingbp.circuits import sbp
    from spikingbp.io import atomic_open

    config, weights = _run_dir(args.run_dir)
    from spikingbp.lava import translate

    W1, W2 = weights["weights_final.npz"]
    inputs, _ = _dataset_inputs(config["dataset"], args.data_dir or config["data_dir"], args.limit,
                                config["crop"], config["threshold"])
    network = translate(sbp.inference_circuit(W1, W2, inputs), sbp.inference_steps(len(inputs)), refractory="ignore")
    network.build()
    report = network.report(fixed_point=True)
    print(report)
    out = Path(args.run_dir) / "lava_export.json"
    with atomic_open(out, "w") as stream:
        json.dump({"circuit": "sbp-inference", "samples": len(inputs), "report": report.to_dict()}, stream, indent=1)
    print(f"wrote {out}")
    return 0


def cmd_verify_lava(args) -> int:
    from spikingbp.lava import verify_sbp_inference, verify_sbp_training, verify_sgsc
    from spikingbp.reference import sbp as reference

    if args.circuit == "sgsc":
        result = verify_sgsc(seed=args.seed, trials=args.limit)
    else:
        crop, threshold = args.crop, args.threshold
        if args.weights:
            config, weights = _run_dir(args.weights)
            crop = config["crop"] if crop is None else crop
            threshold = config["threshold"] if threshold is None else threshold
        from spikingbp.training import DATASET_DEFAULTS

        defaults = DATASET_DEFAULTS[args.dataset.replace("_", "-")]
        crop = defaults["crop"] if crop is None else crop
        threshold = defaults["threshold"] if threshold is None else threshold
        split = "train" if args.circuit == "sbp-train" else "test"
        inputs, targets = _dataset_inputs(args.dataset, args.data_dir, args.limit, crop, threshold, split)
        inputs, targets = inputs[:args.limit], targets[:args.limit]
        if args.weights:
            W1, W2 = weights["weights_final.npz" if args.circuit == "sbp-inference" else "weights_initial.npz"]
        else:
            W1, W2 = reference.init_weights(inputs.shape[1], args.hidden, targets.shape[1], rng=args.seed)
        if W1.shape[0] != inputs.shape[1]:
            from spikingbp.errors import ConfigError
            raise ConfigError(f"the weights expect {W1.shape[0]} inputs but {args.dataset} gives {inputs.shape[1]}; "
                              f"use the dataset (and crop) of the run")
        if args.circuit == "sbp-inference":
            result = verify_sbp_inference(W1, W2, inputs, args.fixed_point)
        else:
            result = verify_sbp_training(W1, W2, inputs, targets, args.fixed_point)
    for line in result.lines():
        print(line)
    return 0 if result.identical else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spikingbp", description="On-chip learning in spiking networks: backprop with spikes alone.")
    parser.add_argument("--version", action="version", version=f"spikingbp {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    info = commands.add_parser("info", help="versions, devices available, GeNN found or not, datasets found")
    info.add_argument("--data-dir", default=None, help="directory of IDX files (default: $SPIKINGBP_DATA)")
    info.set_defaults(func=cmd_info)

    from spikingbp.training import ALGORITHMS, engines

    train = commands.add_parser("train", help="train a network; writes config, weights, metrics and figures")
    train.add_argument("--algorithm", default="sbp", choices=ALGORITHMS)
    train.add_argument("--dataset", default="digits", help="digits (embedded), mnist or fashion-mnist")
    train.add_argument("--data-dir", default=None, help="directory of IDX files (default: $SPIKINGBP_DATA)")
    train.add_argument("--epochs", type=int, default=10)
    train.add_argument("--limit", type=int, default=None, help="train on the first N training samples")
    train.add_argument("--limit-test", type=int, default=None, help="test on the first N test samples")
    train.add_argument("--hidden", type=int, default=400, help="hidden units")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", default="reference", choices=sorted({e for a in ALGORITHMS for e in engines(a)}),
                       help="what runs it: 'reference' is the plain numpy model")
    train.add_argument("--out", required=True, help="run directory; a rerun with the same config resumes")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(func=cmd_train)

    sgsc = commands.add_parser("sgsc", help="synfire-gated synfire chains: graded transfer, routing, figures")
    sgsc.add_argument("--out", required=True, help="directory for raster.png, amplitude_vs_stage.png, results")
    sgsc.add_argument("--seed", type=int, default=0)
    sgsc.add_argument("--quick", action="store_true", help="smaller populations and fewer stages")
    sgsc.set_defaults(func=cmd_sgsc)

    export = commands.add_parser("export-lava", help="build the Lava (lava-nc) network of a trained sBP run "
                                 "and report which processes are Loihi-deployable")
    export.add_argument("run_dir", help="the --out directory of a finished 'spikingbp train'")
    export.add_argument("--data-dir", default=None, help="directory of IDX files (default: the run's)")
    export.add_argument("--limit", type=int, default=10, help="test samples fed to the exported network")
    export.set_defaults(func=cmd_export_lava)

    verify = commands.add_parser("verify-lava", help="run Brian2 and Lava side by side; per sample, whether "
                                 "spikes (and weights) are identical")
    verify.add_argument("--circuit", required=True, choices=("sgsc", "sbp-inference", "sbp-train"))
    verify.add_argument("--weights", default=None, help="RUN_DIR of a trained sbp run (default: fresh weights)")
    verify.add_argument("--dataset", default="digits")
    verify.add_argument("--data-dir", default=None)
    verify.add_argument("--limit", type=int, default=50, help="samples (sgsc: trials)")
    verify.add_argument("--hidden", type=int, default=100, help="hidden units when no --weights are given")
    verify.add_argument("--crop", type=int, default=None)
    verify.add_argument("--threshold", type=int, default=None)
    verify.add_argument("--seed", type=int, default=0)
    verify.add_argument("--fixed-point", action="store_true", help="Lava's bit-accurate fixed-point models")
    verify.set_defaults(func=cmd_verify_lava)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except SpikingBPError as error:
        print(f"spikingbp {args.command}: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(f"spikingbp {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
