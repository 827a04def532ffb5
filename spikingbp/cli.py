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
