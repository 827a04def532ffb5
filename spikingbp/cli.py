"""The ``spikingbp`` command line. Exit codes: 0 success, 2 bad arguments or configuration,
3 data missing or corrupt, 4 device unavailable, 1 any other spikingbp error, 130 interrupted (Ctrl-C),
143 stopped by SIGTERM (a running compiled program is killed with it), 141 output pipe closed early
(``spikingbp export-lava R | head``)."""
from __future__ import annotations

import argparse
from pathlib import Path
import importlib.metadata
import os
import platform
import re
import signal
import sys
import time
import warnings

from spikingbp import __version__
from spikingbp.config import FLAGS
from spikingbp.errors import ConfigError, SpikingBPError

DECAY_UNITY = 4096  # Lava's decay scale (spikingbp.lava.fixed_point.DECAY_UNITY; that module imports Lava)

STACK = ("numpy", "brian2", "cython", "brian2genn", "lava-nc", "brian2cuda", "pandas", "matplotlib",
         "scikit-learn", "tqdm", "dask", "nir")
BACKEND_PACKAGES = {"brian2genn": "genn", "lava-nc": "lava", "brian2cuda": "cuda"}  # package -> its extra


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def cmd_info(args) -> int:
    from spikingbp.algorithms import REGISTRY
    from spikingbp.circuits.program import default_cache
    from spikingbp.data import dataset_names, find_data_dir
    from spikingbp.devices import available_devices
    from spikingbp.execution import EXECUTORS

    print(f"spikingbp {__version__} on Python {platform.python_version()} ({platform.machine()})")
    print("\nstack:")
    from spikingbp.compat import missing_backend

    for package in STACK:
        version = _version(package)
        if version == "not installed" and package in BACKEND_PACKAGES:
            version += f" ({missing_backend(BACKEND_PACKAGES[package])})"
        print(f"  {package:<13} {version}")
    from spikingbp.circuits.program import cache_entries

    programs = cache_entries()
    print(f"\ndevices (chunks: how an epoch runs; compiled programs are kept in {default_cache()}: {len(programs)} "
          f"programs, {sum(p['megabytes'] for p in programs):,.0f} MB, 'spikingbp cache list|prune'):")
    for name, (usable, reason) in available_devices().items():
        print(f"  {name:<15} {'yes' if usable else 'no ':<4} {reason}; {EXECUTORS[name].how}")
    print("\nalgorithms:")
    for name, cls in REGISTRY.items():
        print(f"  {name:<14} {cls.title}; devices: {', '.join(cls.devices)}")
    print("\ndatasets:")
    for name in dataset_names():
        if name == "digits":
            print(f"  {name:<14} embedded (scikit-learn load_digits, 8x8)")
            continue
        path = find_data_dir(name, args.data_dir)
        if path:
            print(f"  {name:<14} {path}")
        elif args.data_dir or os.environ.get("SPIKINGBP_DATA"):
            given = f"--data-dir {args.data_dir}" if args.data_dir else f"SPIKINGBP_DATA={os.environ['SPIKINGBP_DATA']}"
            print(f"  {name:<14} not found under {given} (no {name} IDX files there)")
        else:
            print(f"  {name:<14} not found (pass --data-dir or set SPIKINGBP_DATA)")
    return 0


def _options(pairs) -> dict:
    """``--option KEY=VALUE`` pairs as a dict (values checked by the algorithm)."""
    options = {}
    for pair in pairs or ():
        key, separator, value = pair.partition("=")
        if not separator or not key.strip():
            raise ConfigError(f"--option {pair!r} must be KEY=VALUE, e.g. --option threshold=127")
        if key.strip() in options:
            raise ConfigError(f"--option {key.strip()} is given twice ({options[key.strip()]!r} and {value.strip()!r}); "
                              f"give it once")
        options[key.strip()] = value.strip()
    return options


def _hidden(text: str) -> tuple:
    """``--hidden 400`` or ``--hidden 200,200``: positive whole numbers separated by commas, nothing else."""
    parts = [part.strip() for part in str(text).split(",")]
    if not all(part.isdigit() and int(part) > 0 for part in parts):
        raise ConfigError(f"--hidden {text!r} must be positive layer sizes separated by commas, e.g. --hidden 400 "
                          f"or --hidden 200,200")
    return tuple(int(part) for part in parts)


def cmd_train(args) -> int:
    from spikingbp.training import TrainConfig, train

    config = TrainConfig(out=args.out, progress=not args.quiet, **_train_fields(args))
    result = train(config)
    last = result.metrics.iloc[-1]
    algorithm = result.algorithm
    if result.resumed_from_epoch == result.epochs_done:
        how = "already finished: nothing to train"
    elif result.resumed_from_epoch or result.resumed_from_sample:
        how = f"resumed after epoch {result.resumed_from_epoch}" + (
            f" and {result.resumed_from_sample} samples of the next" if result.resumed_from_sample else "")
    else:
        how = "fresh run"
    print(f"trained {config.algorithm} on {config.dataset} for {result.epochs_done} "
          f"epoch{'s' if result.epochs_done != 1 else ''} ({how})")
    others = [m for m in algorithm.measures if m != algorithm.headline]  # the headline is test_accuracy itself
    measures = "".join(f"; {m} {last['test_' + m]:.4f}" for m in others)
    print(f"test accuracy ({algorithm.headline}): {last['test_accuracy']:.4f}{measures}")
    best = int(result.metrics["test_accuracy"].idxmax())
    from spikingbp.rundir import WEIGHTS_BEST_FILE

    kept = (f"its params in {WEIGHTS_BEST_FILE}" if (result.out / WEIGHTS_BEST_FILE).is_file()
            else "its params not kept: no weights_best.npz, nor its epoch's snapshot in epochs/")
    print(f"best epoch: {result.metrics['epoch'].iloc[best]} (test accuracy {result.metrics['test_accuracy'].iloc[best]:.4f}, "
          f"{kept}; the last epoch's in weights_final.npz)")
    print(f"run directory: {result.out}")
    if config.device == "reference":
        print("device: reference, the plain numpy model (no spiking network ran); give --device cpp_standalone "
              "(or runtime) to train the spiking circuit, which reproduces it bit for bit")
    return 0


#: the measure a sweep's figures show, per job.
SWEEP_MEASURES = {"train": "test_accuracy", "sgsc": "max_deviation"}


def cmd_sweep(args) -> int:
    from spikingbp.analysis.sweep_figures import sweep_figures
    from spikingbp.sweep import Sweep, parse_param, run_sweep

    given = {name: value for name, value in _train_fields(args).items() if name != "options"}
    if args.job == "sgsc":
        wrong = sorted(set(given) - {"seed"}) + (["option"] if args.option else [])
        if wrong:
            raise ConfigError(f"--job sgsc takes --seed and --quick, not {', '.join('--' + w.replace('_', '-') for w in wrong)}"
                              f"; sweep the SGSC chain's parameters with --param (e.g. --param sigma=4,6,8)")
        base = {**given, **({"quick": True} if args.quick else {})}
    else:
        if args.quick:
            raise ConfigError("--quick belongs to --job sgsc; for training give e.g. --epochs 1 --limit 200")
        base = {**given, **({"options": _options(args.option)} if args.option else {})}
    grid = {}
    for name, values in (parse_param(spec) for spec in args.param):
        if name in grid:
            raise ConfigError(f"--param {name} is given twice; give all its values in one --param {name}=...")
        grid[name] = values
    sweep = Sweep(args.job, base=base, grid=grid, random=args.random, random_seed=args.random_seed)
    result = run_sweep(sweep, args.out, workers=args.workers, scheduler=args.scheduler, dask_local=args.dask_local,
                       ensemble=args.ensemble, progress=not args.quiet)
    points = len(result.ran) + len(result.skipped)
    print(f"sweep of {points} point{'s' if points != 1 else ''}: {len(result.ran)} run, {len(result.skipped)} "
          f"found finished; {len(result.frame)} rows in {result.out / 'results.parquet'} (and results.csv)")
    measure = args.measure or SWEEP_MEASURES[args.job]
    files = sweep_figures(result.frame, list(grid), measure, result.out / "figures")
    if files:
        print(f"figures: {', '.join(str(f) for f in files)}")
    return 0


def cmd_cache(args) -> int:
    import datetime

    from spikingbp.circuits.program import cache_entries, default_cache, header_sets, prune_cache

    root = args.cache or default_cache()
    if args.action == "prune":
        removed = prune_cache(root, args.older_than)
        print(f"removed {len(removed)} program{'s' if len(removed) != 1 else ''} of {root} unused for "
              f"{args.older_than:g} days or more")
        return 0
    entries = cache_entries(root)
    print(f"{len(entries)} compiled program{'s' if len(entries) != 1 else ''} in {root}, "
          f"{sum(e['megabytes'] for e in entries):,.1f} MB")
    for entry in entries:
        used = datetime.datetime.fromtimestamp(entry["last_used"]).strftime("%Y-%m-%d %H:%M")
        shapes = "; ".join(f"{s.get('circuit', '?')} {'-'.join(map(str, s.get('sizes', [])))}".strip()
                           for s in entry["shapes"]) or "(shape not indexed)"
        print(f"  {entry['directory'].name}  {entry['megabytes']:8.1f} MB  last used {used}  {shapes}")
    headers = header_sets(root)
    if headers:   # pruned with the programs
        print(f"and the standard headers precompiled for {len(headers)} compiler and flag set"
              f"{'s' if len(headers) != 1 else ''}, {sum(h['megabytes'] for h in headers):,.1f} MB")
    return 0


def cmd_sgsc(args) -> int:
    from spikingbp.experiments.sgsc import main as run_sgsc

    return run_sgsc(args.out, seed=args.seed, quick=args.quick)


def cmd_figures(args) -> int:
    from spikingbp.algorithms import algorithm_class
    from spikingbp.algorithms.base import extra

    summary = extra(algorithm_class(args.algorithm).figures)(args.out, run_dir=args.run, runs=args.runs or (),
                                                              quick=args.quick, seed=args.seed)
    print(f"wrote {', '.join(summary['files'])} to {args.out}")
    return 0


def cmd_energy(args) -> int:
    import pandas as pd

    from spikingbp import energy

    measured = energy.measure(args.run_dir, samples=args.samples, device=args.device, data_dir=args.data_dir)
    path = energy.write(args.run_dir, measured)
    frame = energy.summary(measured).set_index("phase")
    print(f"{measured['algorithm']} {'-'.join(map(str, measured['sizes']))}: operations per sample, counted in "
          f"{measured['samples']} training and {measured['samples']} test samples on {measured['device']}")
    with pd.option_context("display.float_format", "{:,.4g}".format, "display.width", 160):
        print(frame.T.to_string())
    print("uJ: operation estimates (static power, clocking and host traffic left out; not a measured chip figure); "
          f"sources in {path}")
    for figure in energy.paper_figures():
        if figure["algorithm"] == measured["algorithm"]:
            time = f", {figure['time_ms']} ms" if figure["time_ms"] else ""
            print(f"paper, {figure['phase']}: {figure['energy_uJ']} uJ{time} ({figure['kind']}; {figure['source']})")
    print(f"wrote {path}")
    return 0


def cmd_alignment(args) -> int:
    import pandas as pd

    from spikingbp.analysis.alignment import CSV_FILE, FIGURE_FILE, alignment

    table = alignment(args.run_dir, samples=args.samples, device=args.device, out=args.out, progress=not args.quiet,
                      data_dir=args.data_dir, options=_options(args.option))
    out = args.out or args.run_dir
    shown = ["snapshot", "matrix"] + [c for c in table.columns if c.startswith("cos_") or c in
                                      ("silent", "saturated", "error_scale")]
    with pd.option_context("display.float_format", "{:.3f}".format, "display.width", 200):
        print(table[shown].to_string(index=False))
    print(f"wrote {Path(out) / CSV_FILE} and {Path(out) / FIGURE_FILE}")
    return 0


def cmd_evaluate(args) -> int:
    from spikingbp.analysis.evaluation import CSV_FILE, evaluate_run

    result = evaluate_run(args.run_dir, params=args.params, options=_options(args.option), device=args.device,
                          limit_test=args.limit_test, data_dir=args.data_dir, progress=not args.quiet)
    changed = " ".join(f"{name}={value}" for name, value in result["options"].items()) or "none"
    measures = ", ".join(f"{name} {value:.4f}" for name, value in result.items()
                         if name not in ("run", "params", "epochs_done", "device", "n_test", "options"))
    print(f"{args.run_dir}: {result['params']} params after {result['epochs_done']} epochs, {result['n_test']} test "
          f"samples on {result['device']}, options changed: {changed}: {measures}")
    print(f"appended to {Path(args.run_dir) / CSV_FILE}")
    return 0


def cmd_reproduce(args) -> int:
    from spikingbp.reproduce import reproduce

    started = time.perf_counter()
    index = reproduce(args.out, quick=args.quick, sections=args.section, data_root=args.data_root, reuse=args.reuse)
    print(f"wrote {index} in {time.perf_counter() - started:.0f} s")
    return 0


def cmd_export_nir(args) -> int:
    from pathlib import Path

    from spikingbp.nirgraph import export_run, write_graph

    out = Path(args.out) if args.out else Path(args.run_dir) / "model.nir"
    export = export_run(args.run_dir)
    path = write_graph(export.graph, out)
    print("\n".join(export.lines()))
    print(f"wrote {path} (read it with nir.read)")
    return 0


def cmd_export_lava(args) -> int:
    import json
    from pathlib import Path

    from spikingbp.io import atomic_open
    from spikingbp.lava import translate
    from spikingbp.training import load_run

    run = load_run(args.run_dir)
    data = run.data(args.data_dir, limit=args.limit)
    if args.phase == "inference":
        exported = run.algorithm.circuit(run.final, data.X_test, phase="inference")
    else:  # the training circuit from the final weights: what on-chip learning would continue from
        exported = run.algorithm.circuit(run.final, data.X_train, data.T_train, phase="train")
    network = translate(exported.circuit, exported.steps, refractory="ignore", dv_max=args.dv_max)
    if args.dv_max != DECAY_UNITY and not network.has_fixed_point:
        raise ConfigError(f"--dv-max {args.dv_max}: the {run.algorithm.name} translation has no fixed-point form, "
                          f"so Loihi's dv field does not arise; leave --dv-max out")
    network.build()
    report = network.report(fixed_point=network.has_fixed_point)  # judged on Loihi's fixed point where it exists
    print(report)
    record = {"circuit": f"{run.algorithm.name}-{args.phase}", "samples": exported.samples, "dv_max": args.dv_max,
              "report": report.to_dict()}
    if args.dv_max != DECAY_UNITY:  # what Loihi's 12-bit dv costs: Lava's fixed point against Brian2, per sample
        from spikingbp.lava import verify_algorithm

        X, T = (data.X_test, None) if args.phase == "inference" else (data.X_train, data.T_train)
        checked = verify_algorithm(run.algorithm, run.final, X, T, args.phase, fixed_point=True, dv_max=args.dv_max)
        record["dv_max_cost"] = {"samples": checked.n, "identical_to_brian2": checked.identical_count}
        print(f"cost of --dv-max {args.dv_max}: {checked.n - checked.identical_count} of {checked.n} exported samples "
              f"spike differently from Brian2 in Lava's fixed point ({checked.identical_count} identical)")
    out = Path(args.run_dir) / ("lava_export.json" if args.phase == "inference" else f"lava_export_{args.phase}.json")
    with atomic_open(out, "w") as stream:
        json.dump(record, stream, indent=1)
    print(f"wrote {out}")
    return 0


#: verify-lava circuit name -> phase of the algorithm's circuit.
VERIFY_PHASES = {"inference": "inference", "train": "train"}


def _verify_choices() -> tuple:
    """sgsc, and each algorithm's circuits that Lava runs (its ``lava_phases``)."""
    from spikingbp.algorithms import REGISTRY

    return ("sgsc",) + tuple(f"{name}-{label}" for name, cls in REGISTRY.items() for label, phase in VERIFY_PHASES.items()
                             if phase in cls.lava_phases)


def cmd_verify_lava(args) -> int:
    from spikingbp.algorithms import create
    from spikingbp.lava import verify_algorithm, verify_sgsc
    from spikingbp.training import load_data, load_run

    if args.limit < 1:
        raise ConfigError(f"--limit {args.limit} must be at least 1 (samples, or trials for sgsc)")
    if args.circuit == "sgsc":
        print(f"verifying sgsc on {args.limit} trials of a random SGSC circuit (--seed {args.seed})")
        result = verify_sgsc(seed=args.seed, trials=args.limit, fixed_point=args.fixed_point)
    else:
        name, _, label = args.circuit.rpartition("-")
        phase = VERIFY_PHASES[label]
        if args.weights:
            run = load_run(args.weights)
            if run.algorithm.name != name:
                raise ConfigError(f"--weights {args.weights} holds a run of {run.algorithm.name}; give --circuit "
                                  f"{run.algorithm.name}-{label}, or a run of {name}")
            algorithm, dataset, crop = run.algorithm, run.config.dataset, run.config.crop
            data_dir = args.data_dir or run.config.data_dir
            params = run.final if phase == "inference" else run.initial
            if args.dataset is not None and args.dataset != dataset:
                raise ConfigError(f"--dataset {args.dataset}: the run was trained on {dataset}; leave --dataset out")
            source = f"the {'final' if phase == 'inference' else 'initial'} weights of {args.weights}"
        else:
            algorithm = create(name)
            dataset, data_dir = args.dataset or "digits", args.data_dir
            crop = algorithm.default_crop(dataset)
            params = None
            source = f"fresh weights (--seed {args.seed}, --hidden {args.hidden})"
        data = load_data(algorithm, dataset, data_dir, crop=crop if args.crop is None else args.crop,
                         limit_train=args.limit, limit_test=args.limit)
        if params is None:
            params = algorithm.init_params(data.sizes((args.hidden,)), args.seed)
        X, T = (data.X_test, data.T_test) if phase == "inference" else (data.X_train, data.T_train)
        print(f"verifying {args.circuit} on {len(X)} {dataset} samples with {source}")
        result = verify_algorithm(algorithm, params, X, T, phase, args.fixed_point)
    for line in result.lines():
        print(line)
    return 0 if result.identical else 1


class _Parser(argparse.ArgumentParser):
    """argparse that names the unknown argument and shows the usage of the command it belongs to."""

    def parse_args(self, args=None, namespace=None):
        namespace, extras = self.parse_known_args(args, namespace)
        if extras:
            command = getattr(namespace, "parser", self)
            command.error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace


def _train_flags() -> list:
    """The train flags, one per TrainConfig field (``spikingbp.config.FLAGS``) and ``--option``: (field, default,
    help, add_argument keywords). ``spikingbp sweep`` takes the same flags without defaults: its fixed part."""
    from spikingbp.algorithms import REGISTRY, all_devices

    return [
        ("algorithm", "sbp", "", dict(choices=tuple(REGISTRY))),
        ("dataset", "digits", "digits (embedded), mnist or fashion-mnist", {}),
        ("data_dir", None, "directory of IDX files (default: $SPIKINGBP_DATA)", {}),
        ("epochs", 10, "", dict(type=int)),
        ("limit", None, "train on the first N training samples (default: all)", dict(type=int, metavar="N")),
        ("limit_test", None, "test on the first N test samples (default: all)", dict(type=int, metavar="N")),
        ("eval_train", None, "measure train_accuracy on the first N training samples after each epoch (default: all; "
         "evaluating all 60,000 Fashion-MNIST training images takes longer than the epoch's training)",
         dict(type=int, metavar="N")),
        ("resample", None, "train each epoch on N class-balanced draws with replacement from the training samples, "
         "seeded by (--seed, epoch), as the eRBP authors did (50000 of MNIST's 60,000); default: every training "
         "sample once per epoch", dict(type=int, metavar="N")),
        ("init_from", None, "start from the final params of this finished run of the same algorithm and network "
         "(recorded in config.json); default: drawn from --seed", dict(metavar="RUN_DIR")),
        ("hidden", None, "hidden layer sizes, e.g. 400 or 200,200 (default: the algorithm's)", {}),
        ("crop", None, "pixels cut from each image side (default: the algorithm's)", dict(type=int)),
        ("option", None, "an option of the algorithm (train --help lists them)",
         dict(action="append", metavar="KEY=VALUE")),
        ("seed", 0, "seeds the initial params and the presentation order", dict(type=int)),
        ("device", "reference", "where it runs: 'reference' is the plain numpy model", dict(choices=all_devices())),
        ("chunk", 1000, "samples per run and per checkpoint on the devices that run in chunks", dict(type=int)),
        ("cache", None, "where compiled programs are kept, one per network shape (default: $SPIKINGBP_CACHE or "
         "~/.cache/spikingbp)", {}),
    ]


def _add_train_flags(group, defaults: bool) -> None:
    for field, default, text, keywords in _train_flags():
        shown = f" (default: {default})" if defaults and default is not None and "default:" not in text else ""
        if not defaults and "(default:" in text:
            text = text[:text.index("(default:")].rstrip()
        flag = FLAGS.get(field, "--" + field)
        group.add_argument(flag, default=default if defaults else None, help=(text + shown).strip() or None,
                           **keywords)


def _train_fields(args) -> dict:
    """The TrainConfig fields the train flags of ``args`` give (None: not given), ``hidden`` and ``options``
    parsed."""
    fields = {field: getattr(args, field) for field in FLAGS if field != "out" and getattr(args, field) is not None}
    if "hidden" in fields:
        fields["hidden"] = _hidden(fields["hidden"])
    if args.option:
        fields["options"] = _options(args.option)
    return fields


def build_parser() -> argparse.ArgumentParser:
    from spikingbp.algorithms import BRIAN_DEVICES, REGISTRY

    parser = _Parser(prog="spikingbp", description="On-chip learning in spiking networks: backprop with spikes alone.")
    parser.add_argument("--version", action="version", version=f"spikingbp {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=argparse.ArgumentParser)
    defaults = argparse.ArgumentDefaultsHelpFormatter

    def command(name, formatter_class=defaults, **kwargs):
        sub = commands.add_parser(name, formatter_class=formatter_class, **kwargs)
        sub.set_defaults(parser=sub)
        return sub

    info = command("info", help="versions, devices available, GeNN found or not, algorithms, datasets found")
    info.add_argument("--data-dir", default=None, help="directory of IDX files (default: $SPIKINGBP_DATA)")
    info.set_defaults(func=cmd_info)

    cache = command("cache", help="the compiled programs kept between runs: list them, or prune those unused")
    cache.add_argument("action", choices=("list", "prune"), help="list: each program, its size and last use; "
                       "prune: remove those unused for --older-than days (compiled again when needed)")
    cache.add_argument("--older-than", type=float, default=30.0, metavar="DAYS", help="prune: programs unused "
                       "for this many days (0: all; default: 30)")
    cache.add_argument("--cache", default=None, help="the cache directory (default: $SPIKINGBP_CACHE or "
                       "~/.cache/spikingbp)")
    cache.set_defaults(func=cmd_cache)

    listing = "\n".join(
        f"  {name}: {cls.title}\n    devices: {', '.join(cls.devices)}; headline measure: {cls.headline}; default "
        f"--hidden {','.join(map(str, cls.default_hidden))}; crop: "
        + (", ".join(f"{d} {c}" for d, c in cls.crop_defaults.items()) or "none") + " (others 0)"
        + "".join(f"\n    --option {key}={o.default}: {o.doc}" for key, o in cls.options.items())
        for name, cls in REGISTRY.items())
    train = command("train", help="train a network; writes config, weights, metrics and figures",
                    epilog=f"registered algorithms:\n{listing}",
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_train_flags(train, defaults=True)
    train.add_argument("--out", required=True, help="run directory; a rerun with the same config resumes")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(func=cmd_train)

    sgsc = command("sgsc", help="synfire-gated synfire chains: graded transfer, routing, figures")
    sgsc.add_argument("--out", required=True, help="directory for raster.png, amplitude_vs_stage.png, results")
    sgsc.add_argument("--seed", type=int, default=0)
    sgsc.add_argument("--quick", action="store_true", help="smaller populations and fewer stages")
    sgsc.set_defaults(func=cmd_sgsc)

    sweep = command("sweep", help="a job (train, or the SGSC experiment) at many parameter points; resumable; "
                    "one results frame (Parquet, CSV) and its figures",
                    epilog="examples:\n"
                    "  spikingbp sweep --algorithm sbp --dataset digits --epochs 1 --param hidden=16,32 "
                    "--param seed=0:2 --dask-local 2 --out runs/sweep-hidden\n"
                    "  spikingbp sweep --algorithm ssnnbp --epochs 1 --random 8 --param eta=log:1e-3:1e-1 "
                    "--param seed=0:2 --workers 2 --out runs/sweep-eta\n"
                    "  spikingbp sweep --job sgsc --quick --param sigma=4,6,8 --out runs/sweep-sgsc\n"
                    "a --param is any train flag's field (hidden, seed, epochs, limit, device, ...) or an option of "
                    "the algorithm (eta, Ts, ...); for --job sgsc: seed, quick or a field of the spiking chain "
                    "(sigma, tau, g0, ...) in ms, mV, pA or pF",
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    sweep.add_argument("--out", required=True, help="sweep directory; a rerun with the same arguments continues it")
    sweep.add_argument("--param", action="append", required=True, metavar="NAME=VALUES",
                       help="values of one swept parameter: a,b,c or START:STOP[:STEP] (integers, STOP left out); "
                       "with --random also uniform:LOW:HIGH or log:LOW:HIGH")
    sweep.add_argument("--job", default="train", choices=("train", "sgsc"), help="what each point runs (default: train)")
    sweep.add_argument("--random", type=int, default=None, metavar="N",
                       help="draw N points from the --param values and ranges instead of the full grid")
    sweep.add_argument("--random-seed", type=int, default=0, help="seeds the --random draw (default: 0)")
    where = sweep.add_argument_group("where the points run (one of these; default: one after the other)")
    where.add_argument("--workers", type=int, default=1, help="a local pool of N processes (default: 1)")
    where.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT", help="an existing Dask cluster; its "
                       "workers need spikingbp and this --out directory (a shared filesystem)")
    where.add_argument("--dask-local", type=int, default=None, metavar="N", help="start a Dask LocalCluster of N "
                       "worker processes on 127.0.0.1 (a worker that dies has its point resumed on another)")
    where.add_argument("--ensemble", type=int, default=1, metavar="K", help="train up to K points that differ only "
                       "in --seed as one ensemble (one compiled program on cpp_standalone; default: 1, none)")
    fixed = sweep.add_argument_group("fixed for every point (train; default: train's own)")
    _add_train_flags(fixed, defaults=False)
    fixed.add_argument("--quick", action="store_true", help="(sgsc only) smaller populations and fewer stages")
    sweep.add_argument("--measure", default=None, help="what the figures show (default: test_accuracy; sgsc: "
                       "max_deviation)")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.set_defaults(func=cmd_sweep)

    figures = command("figures", help="the paper figures of an algorithm, from real runs")
    figures.add_argument("algorithm", choices=tuple(name for name, cls in REGISTRY.items() if cls.figures))
    figures.add_argument("--out", required=True, help="directory for the figures and their tables")
    figures.add_argument("--run", default=None, help="a finished run: ssnnbp, its test-set output distributions; "
                         "erbp, its test error against SynOps")
    figures.add_argument("--runs", nargs="+", default=None, help="finished runs: accuracy per epoch (ssnnbp: at "
                         "several Ts; erbp: of several architectures)")
    figures.add_argument("--seed", type=int, default=0)
    figures.add_argument("--quick", action="store_true", help="fewer repeats and test samples")
    figures.set_defaults(func=cmd_figures)

    energy = command("energy", help="operations per training and inference sample of a trained run, counted in "
                     "the simulation, and the energy they cost on chip (estimates beside the papers' figures)")
    energy.add_argument("run_dir", help="the --out directory of a finished 'spikingbp train'; energy.csv goes there")
    energy.add_argument("--samples", type=int, default=10, help="training and test samples run and counted")
    energy.add_argument("--device", default=None, choices=BRIAN_DEVICES, help="Brian2 device (default: the run's, "
                        "runtime for a reference run)")
    energy.add_argument("--data-dir", default=None, help="directory of IDX files (default: the run's)")
    energy.set_defaults(func=cmd_energy)

    align = command("alignment", formatter_class=argparse.HelpFormatter, help="per layer, the cosine between the weight change the circuit makes on real "
                    "samples and the update of the algorithm's rate equivalent (sBP: the exact binary update; eRBP: "
                    "random feedback and true backprop; SSNN-BP: rate form, ideal, gradient), silent and saturated "
                    "units, the error signal's scale; at every weight snapshot of the run")
    align.add_argument("run_dir", help="the --out directory of a 'spikingbp train' (finished or under way)")
    align.add_argument("--samples", type=int, default=50, help="training samples, the first N of the run's data "
                       "(default: 50)")
    align.add_argument("--device", default=None, help="where the change is made: reference (default; the circuits "
                       "reproduce it bit for bit) or a Brian2 device of the algorithm")
    align.add_argument("--data-dir", default=None, help="directory of IDX files (default: the run's)")
    align.add_argument("--out", default=None, help="where alignment.csv and alignment.png go (default: the run "
                       "directory)")
    align.add_argument("--option", action="append", metavar="KEY=VALUE", help="measure with this option of the "
                       "algorithm changed (the same weights: what the option would change)")
    align.add_argument("--quiet", action="store_true", help="no progress bar")
    align.set_defaults(func=cmd_alignment)

    evaluate = command("evaluate", help="test a trained run again, its final, best or initial params, with test-time "
                       "options changed (e.g. ssnnbp's test_scale) or on another device; nothing is retrained, and "
                       "the result is appended to the run's evaluations.csv")
    evaluate.add_argument("run_dir", help="the --out directory of a 'spikingbp train' (finished, or under way: its "
                          "checkpoint's params)")
    evaluate.add_argument("--params", default="final", choices=("final", "best", "initial"),
                          help="which params: the last epoch's, the best test epoch's or the initial ones")
    evaluate.add_argument("--option", action="append", metavar="KEY=VALUE", help="test with this option of the "
                          "algorithm changed (the same weights)")
    evaluate.add_argument("--device", default=None, help="where the test runs (default: the run's device)")
    evaluate.add_argument("--limit-test", type=int, default=None, metavar="N", help="test on the first N test samples "
                          "(default: as many as the run tested)")
    evaluate.add_argument("--data-dir", default=None, help="directory of IDX files (default: the run's)")
    evaluate.add_argument("--quiet", action="store_true", help="no progress bar")
    evaluate.set_defaults(func=cmd_evaluate)

    from spikingbp.reproduce import SECTIONS

    reproduce = command("reproduce", help="every figure and table of the source papers, regenerated into one HTML "
                        "report beside the papers' numbers; resumable (reuses finished runs and sections)")
    reproduce.add_argument("--out", required=True, help="report directory: index.html, one folder per section, runs/")
    reproduce.add_argument("--quick", action="store_true", help="small networks on few digits samples (minutes); "
                           "without it the papers' networks on mnist-10k and Fashion-MNIST (about 45 min on 2 cores "
                           "with the finished runs of --reuse; hours more without them)")
    reproduce.add_argument("--data-root", default=None, help="directory holding mnist-10k/ and fashion-mnist/ "
                           "(default: $SPIKINGBP_DATA, else ../shared/data beside the package's checkout)")
    reproduce.add_argument("--reuse", default=None, help="directory of finished run directories the report reuses "
                           "(default: the checkout's reproductions/)")
    reproduce.add_argument("--section", action="append", choices=tuple(SECTIONS), help="a section to build (repeat "
                           "for more; None: every section)")
    reproduce.set_defaults(func=cmd_reproduce)

    export_nir = command("export-nir", help="the inference network of a trained run as a NIR graph (snnTorch, Norse, "
                         "Sinabs, Rockpool, Lava, SpiNNaker2 read it); lists its nodes, edges and what NIR cannot express")
    export_nir.add_argument("run_dir", help="the --out directory of a finished 'spikingbp train'")
    export_nir.add_argument("--out", default=None, help="the .nir file (default: RUN_DIR/model.nir)")
    export_nir.set_defaults(func=cmd_export_nir)

    export = command("export-lava", help="build the Lava (lava-nc) network of a trained run's inference (or "
                     "training) circuit and report which processes are Loihi-deployable")
    export.add_argument("run_dir", help="the --out directory of a finished 'spikingbp train'")
    export.add_argument("--data-dir", default=None, help="directory of IDX files (default: the run's)")
    export.add_argument("--limit", type=int, default=10, help="samples fed to the exported network")
    export.add_argument("--phase", default="inference", choices=("inference", "train"),
                        help="which circuit: inference (test samples) or train (training samples, final weights)")
    export.add_argument("--dv-max", type=int, default=DECAY_UNITY, choices=(DECAY_UNITY - 1, DECAY_UNITY),
                        help="largest voltage decay dv: 4096 maps decay_v = 1 exactly (one more than Loihi's 12 "
                        "bits), 4095 fits Loihi and reports how many exported samples then spike differently")
    export.set_defaults(func=cmd_export_lava)

    verify = command("verify-lava", help="run Brian2 and Lava side by side; per sample, whether spikes (and "
                     "weights) are identical")
    verify.add_argument("--circuit", required=True, choices=_verify_choices())
    verify.add_argument("--weights", default=None, help="RUN_DIR of a trained run (default: fresh weights)")
    verify.add_argument("--dataset", default=None, help="(default: the run's, or digits without --weights)")
    verify.add_argument("--data-dir", default=None)
    verify.add_argument("--limit", type=int, default=50, help="samples (sgsc: trials)")
    verify.add_argument("--hidden", type=int, default=100, help="hidden units when no --weights are given")
    verify.add_argument("--crop", type=int, default=None, help="(default: the run's or the algorithm's)")
    verify.add_argument("--seed", type=int, default=0)
    verify.add_argument("--fixed-point", action="store_true", help="Lava's bit-accurate fixed-point models")
    verify.set_defaults(func=cmd_verify_lava)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"spikingbp: warning: {message}", file=sys.stderr)


#: every parameter the command line names as a flag: TrainConfig's fields and the other commands' own
_CLI_FLAGS = {**FLAGS, **{name: "--" + name.replace("_", "-") for name in ("random", "ensemble", "workers", "dask_local",
                                                                          "samples")},
              "limit_train": "--limit", "n_hidden": "--hidden"}
_FIELD = re.compile(r"(?<![\w.'-])(" + "|".join(_CLI_FLAGS) + r")=")   # not inside a quoted point name 'hidden=0'



def in_flags(message: str) -> str:
    """A library error's ``field=value`` as the command line's ``--flag value`` (and None as a left-out flag)."""
    return _FIELD.sub(lambda match: _CLI_FLAGS[match.group(1)] + " ", message).replace(
        " or None for all", " or leave the flag out for all")


#: The commands, in the order ``--help`` lists them.
COMMANDS = ("info", "cache", "train", "sgsc", "sweep", "figures", "energy", "alignment", "evaluate", "reproduce",
            "export-nir", "export-lava", "verify-lava")


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.error(f"give a COMMAND: {', '.join(COMMANDS[:-1])} or {COMMANDS[-1]}")
    warnings.showwarning = _show_warning
    interrupted = []

    def on_interrupt(signum, frame):
        interrupted.append(signum)
        raise KeyboardInterrupt

    # SIGTERM (kill, a batch scheduler) stops a run like Ctrl-C does: the exception reaches the running
    # compiled program's subprocess.run, which kills the program instead of leaving it running alone
    previous = {number: signal.signal(number, on_interrupt) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        return args.func(args)
    except SpikingBPError as error:
        print(f"spikingbp {args.command}: error: {in_flags(str(error))}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        stopped_by, code = ("stopped by SIGTERM", 143) if signal.SIGTERM in interrupted else ("interrupted", 130)
        print(f"spikingbp {args.command}: {stopped_by}; run the same command again to resume", file=sys.stderr)
        return code
    except BrokenPipeError:
        # the reader went away (| head): send the rest nowhere, quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


if __name__ == "__main__":
    sys.exit(main())
