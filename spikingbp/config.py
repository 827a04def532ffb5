"""The configuration of a training run: ``TrainConfig``, every field checked when it is made, and how a recorded
configuration (``config.json``) of an older version is read."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from spikingbp.checks import whole
from spikingbp.errors import ConfigError
from spikingbp.devices import DEVICES
from spikingbp.execution import REFERENCE

if TYPE_CHECKING:
    from spikingbp.algorithms import Algorithm

#: TrainConfig fields -> the ``spikingbp train`` flags that give them (``options``: ``--option KEY=VALUE``;
#: ``progress``: ``--quiet``). Library errors name fields (``epochs=0``); the command line speaks these flags.
FLAGS = {name: "--" + name.replace("_", "-") for name in (
    "out", "algorithm", "device", "dataset", "data_dir", "epochs", "limit", "limit_test", "eval_train", "hidden",
    "seed", "crop", "chunk", "resample", "init_from", "cache")}


def command_line(fields: Mapping) -> str:
    """The ``spikingbp train`` arguments that give the TrainConfig ``fields`` (``out`` left to the caller)."""
    words = []
    for key, value in fields.items():
        if key == "options":
            words += [f"--option {k}={v}" for k, v in value.items()]
        elif key == "hidden":
            words.append(f"--hidden {','.join(map(str, value))}")
        elif key == "progress":
            words += [] if value else ["--quiet"]
        elif key in FLAGS:
            words.append(f"{FLAGS[key]} {value}")
        else:
            raise ConfigError(f"{key} is not a field the command line sets; known: {', '.join(FLAGS)}")
    return " ".join(words)


def recorded_command(recorded: Mapping) -> str:
    """The ``spikingbp train`` command of a run from its recorded configuration (``config.json``'s ``config``):
    the algorithm, dataset, device, seed and epochs, and every other field and option that differs from its
    default; ``out`` included."""
    defaults = TrainConfig(out=recorded["out"], algorithm=recorded["algorithm"], dataset=recorded["dataset"])
    always = ("algorithm", "dataset", "data_dir", "epochs", "device", "seed")
    fields = {}
    for key, value in recorded.items():
        if key in ("out", "progress", "cache", "chunk"):
            continue   # where it went, how it showed progress and ran in chunks: not what it computed
        default = getattr(defaults, key)
        if key == "options":
            value = {k: v for k, v in value.items() if default.get(k) != v}
        if key in always or (value != default and value not in (None, {}) and
                             (key != "hidden" or tuple(value) != default)):
            fields[key] = value
    return f"spikingbp train {command_line(fields)} --out {recorded['out']}"


#: Configuration fields that may change between a run and its resumption: ``epochs`` (a resumed run may
#: train longer), and fields that do not change the result (where the data lies, where the run goes,
#: whether a progress bar is shown).
RESUMABLE_CHANGES = ("epochs", "out", "data_dir", "progress", "chunk", "cache")
#: Configuration fields in which the runs of one ensemble (``train_ensemble``) may differ.
ENSEMBLE_PER_RUN = ("out", "seed", "eval_train", "progress")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """One training job: what to train, on which data, on which device, and where its run directory goes.

    The constructor checks every field (a ``ConfigError`` names the field and a valid value) and fills in the
    algorithm's defaults (``hidden``, ``crop`` per dataset, ``options``). The command-line flag of each field is
    in ``FLAGS``.

    Parameters
    ----------
    out : str or Path
        The run directory (created if missing; a rerun with the same configuration resumes it).
    algorithm : str
        A registered algorithm (``spikingbp.algorithms.REGISTRY``): ``sbp``, ``ssnnbp``, ``erbp``.
    device : str
        ``reference`` (the numpy reference) or a Brian2 device the algorithm supports: ``runtime``,
        ``cpp_standalone``, ``genn``, ``cuda``.
    dataset : str
        ``digits`` (embedded), ``mnist`` or ``fashion-mnist``.
    data_dir : str or None
        Where an IDX dataset lies (see :doc:`/guide/data`); None: ``$SPIKINGBP_DATA``.
    epochs : int
        Passes over the training samples.
    limit, limit_test : int or None
        Train (test) on the first N samples only; None: all.
    eval_train : int or None
        Measure ``train_accuracy`` on the first N training samples; None: all.
    hidden : int, tuple of int or None
        Hidden layer sizes; None: the algorithm's default.
    seed : int
        Seeds the initial params and the per-epoch presentation order.
    split_seed : int
        Seeds the train/test split of ``digits``.
    crop : int or None
        Pixels cut from each image side; None: the algorithm's default for the dataset.
    options : dict
        The algorithm's own options (``spikingbp info`` and the methods pages list them).
    progress : bool
        Show a progress bar.
    chunk : int
        Samples per compiled run and per checkpoint.
    resample : int or None
        Train each epoch on N class-balanced draws with replacement (the eRBP authors' protocol); None: every
        training sample once per epoch, in a new order.
    init_from : str or None
        Start from the final params of this finished run (same algorithm and network).
    cache : str or None
        Where compiled programs are kept; None: ``$SPIKINGBP_CACHE`` or ``~/.cache/spikingbp``.

    Raises
    ------
    ConfigError
        A field that is not what it takes, with the value that would be accepted.
    """

    out: Path                       #: run directory (created if missing)
    algorithm: str = "sbp"          #: learning algorithm (``spikingbp.algorithms.REGISTRY``)
    device: str = REFERENCE         #: where it runs: ``reference`` (numpy) or a Brian2 device of the algorithm
    dataset: str = "digits"         #: digits | mnist | fashion-mnist
    data_dir: str | None = None     #: where an IDX dataset lies (see ``spikingbp.data.datasets``)
    epochs: int = 10                #: passes over the training samples
    limit: int | None = None        #: train on the first ``limit`` training samples (None: all)
    limit_test: int | None = None   #: test on the first ``limit_test`` test samples (None: all)
    eval_train: int | None = None   #: measure train_accuracy on the first ``eval_train`` training samples (None: all)
    hidden: tuple | None = None     #: hidden layer sizes (None: the algorithm's default; an int is one layer)
    seed: int = 0                   #: seeds the initial params and the per-epoch presentation order
    split_seed: int = 0             #: seeds the train/test split of ``digits`` (IDX datasets come split)
    crop: int | None = None         #: pixels cut from each image side (None: the algorithm's default)
    options: dict = dataclasses.field(default_factory=dict)  #: the algorithm's own options
    progress: bool = True           #: show a progress bar over samples
    chunk: int = 1000               #: samples per run and per checkpoint (devices that run in chunks)
    resample: int | None = None     #: train each epoch on this many class-balanced draws with replacement
    #:                                 (None: every training sample once, in a new order)
    init_from: str | None = None    #: start from the final params of this finished run (None: drawn from seed)
    cache: str | None = None        #: where compiled programs are kept (None: $SPIKINGBP_CACHE or ~/.cache)

    def __post_init__(self):
        from spikingbp.algorithms import algorithm_class
        from spikingbp.data import dataset_names

        if self.out is None or str(self.out).strip() == "":
            raise ConfigError("out is missing; give the run directory, e.g. out=runs/sbp-digits")
        self._set("out", Path(self.out).expanduser())
        cls = algorithm_class(self.algorithm)
        self._set("algorithm", cls.name)
        known = str(self.device).strip().lower()
        if known in (REFERENCE, *DEVICES) and known not in cls.devices:   # a device, but not one of this algorithm
            raise ConfigError(f"{cls.name} does not run on device={known} (its circuits need what that device "
                              f"lacks); choose one of {', '.join(cls.devices)}")
        self._set("device", _choice(self.device, "device", cls.devices, f"for algorithm={cls.name}"))
        self._set("dataset", _choice(str(self.dataset).replace("_", "-"), "dataset", dataset_names()))
        if self.data_dir is not None:
            self._set("data_dir", str(self.data_dir))
        self._set("epochs", _integer(self.epochs, "epochs", minimum=1, example="10"))
        self._set("seed", _integer(self.seed, "seed", minimum=0, example="0"))
        self._set("split_seed", _integer(self.split_seed, "split_seed", minimum=0, example="0"))
        for name in ("limit", "limit_test", "eval_train", "resample"):
            value = getattr(self, name)
            if value is not None:
                self._set(name, _integer(value, name, minimum=1, example="1000 (or leave it out for all)"))
        hidden = cls.default_hidden if self.hidden is None else self.hidden
        hidden = tuple(hidden) if isinstance(hidden, (list, tuple)) else (hidden,)
        if not hidden:
            raise ConfigError("hidden needs at least one layer size, e.g. hidden=400")
        self._set("hidden", tuple(_integer(n, "hidden", minimum=1, example="400") for n in hidden))
        crop = cls.default_crop(self.dataset) if self.crop is None else self.crop
        self._set("crop", _integer(crop, "crop", minimum=0, example="4"))
        if not isinstance(self.options, Mapping):
            raise ConfigError(f"options must be a mapping of option names to values, got {self.options!r}")
        self._set("options", dict(cls(**dict(self.options)).values))
        if not isinstance(self.progress, bool):
            raise ConfigError(f"progress={self.progress!r} must be True or False")
        self._set("chunk", _integer(self.chunk, "chunk", minimum=1, example="1000"))
        if self.cache is not None:
            from spikingbp.io import check_creatable_dir

            check_creatable_dir(self.cache, "--cache")
            self._set("cache", str(self.cache))
        if self.init_from is not None:
            if str(self.init_from).strip() == "":
                raise ConfigError("init_from is empty; give the out directory of a finished run")
            self._set("init_from", str(self.init_from))

    def _set(self, name: str, value) -> None:
        object.__setattr__(self, name, value)

    def make_algorithm(self) -> Algorithm:
        from spikingbp.algorithms import create

        return create(self.algorithm, self.options)

    def to_dict(self) -> dict:
        """Every field as JSON-ready values (``out`` as a string, ``hidden`` as a list)."""
        values = dataclasses.asdict(self)
        values["out"] = str(self.out)
        values["hidden"] = list(self.hidden)
        return values

    @classmethod
    def from_mapping(cls, values: Mapping) -> "TrainConfig":
        """A config from a mapping of field names (e.g. parsed JSON); unknown names are refused."""
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown config field(s) {', '.join(unknown)}; known fields: {', '.join(sorted(known))}")
        return cls(**dict(values))


def upgraded_config(config: Mapping) -> dict:
    """A recorded ``config`` (config.json's "config") with every option added to its algorithm since then set to
    the value the run had (``Option.before``), and every field added since then to its default."""
    from spikingbp.algorithms import REGISTRY, algorithm_class
    from spikingbp.algorithms.base import recorded_options

    config = dict(config)
    if isinstance(config.get("options"), dict) and config.get("algorithm") in REGISTRY:
        config["options"] = recorded_options(config["options"], algorithm_class(config["algorithm"]).options)
    return config



def _integer(value, name: str, minimum: int, example: str) -> int:
    """``value`` as an int of at least ``minimum`` (``spikingbp.checks.whole``), with an example of a good one."""
    return whole(value, name, minimum, hint=f"; give e.g. {name}={example}")


def _choice(value, name: str, choices, context: str = "") -> str:
    key = str(value).strip().lower()
    if key not in choices:
        raise ConfigError(f"unknown {name}={value!r}{' ' + context if context else ''}; choose one of "
                          f"{', '.join(choices)}")
    return key


__all__ = ["TrainConfig", "FLAGS", "command_line", "upgraded_config", "RESUMABLE_CHANGES", "ENSEMBLE_PER_RUN"]
