"""The Algorithm interface: what a learning algorithm supplies so that one training loop
(``spikingbp.training``), the command line and the Lava translation run it without knowing it.

An algorithm is a class with a name, its input encoding, its measures, the devices it runs on and its own
options (each an ``Option`` with a default, a type, a range and a one-line meaning), and these methods:

- ``encode(images)``: uint8 images (N, H, W), already cropped, -> the circuit's inputs (N, n_in);
- ``init_params(sizes, seed)`` -> ``Params``, a dict of named arrays (layers from 0: ``W0``, ``W1``, ...);
- ``plan(phase, params, X, T)`` -> a ``spikingbp.execution.Plan``: what one run of the phase's circuit is (its
  samples' draws, its circuit, its program's shape, what to read out, the reference's answer); one executor per
  device runs it, so that ``train_epoch`` and ensembles (``train_ensemble_epoch``) need no algorithm code;
- ``evaluate(params, X, T, ctx)`` -> {measure: value}, with ``accuracy`` (the headline measure) among them;
- ``circuit(params, X, T, phase)`` -> a ``CircuitRun``: the Brian2-free ``Circuit`` of that phase
  (``train`` or ``inference``) for those samples, how long to run it and how its steps fall into samples;
- ``learned_params(params, weights)``: the params a training circuit's final plastic weights stand for.

``RunContext`` (``spikingbp.execution``) says where a run executes (``reference`` for the numpy model, or a
Brian2 device), where compiled programs go, the seed and epoch, and how to report progress; the algorithm never
looks at it to decide where or how a circuit runs. Algorithms register themselves in
``spikingbp.algorithms.REGISTRY`` with ``@register``.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Dict

import numpy as np

from spikingbp.errors import ConfigError
from spikingbp.execution import BRIAN_DEVICES, PHASES, REFERENCE, RunContext  # noqa: F401  (re-exported)
from spikingbp.models.base import Parameter, option

if TYPE_CHECKING:
    from spikingbp.execution import Plan

#: An algorithm's parameters: named arrays (weights, fixed feedback matrices, ...).
Params = Dict[str, np.ndarray]


#: An algorithm's option: ``Option(default, kind, doc, minimum, maximum, choices=(), legacy=None)``, a
#: ``spikingbp.models.base.Parameter`` (one parameter-spec class for models and algorithms).
Option = option


def extra(path: str):
    """The function an algorithm's extra names ("module:function")."""
    import importlib

    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def recorded_options(options: dict, known: dict) -> dict:
    """``options`` as recorded by a run, completed with the ``Option.before`` value of every option in
    ``known`` (name -> Option) the record lacks: what that run was trained with."""
    return {**{name: spec.before for name, spec in known.items() if name not in options}, **options}


def epoch_eta(values: dict, epoch: int) -> float:
    """The learning rate of training epoch ``epoch`` (from 1; 0, outside training, counts as 1): ``eta`` times
    ``eta_decay`` per epoch before it."""
    return values["eta"] * values["eta_decay"] ** (max(int(epoch), 1) - 1)


@dataclass(frozen=True)
class Sizes:
    """Layer sizes of a network: inputs, hidden layers (one entry per layer) and outputs."""

    n_in: int
    hidden: tuple
    n_out: int

    @property
    def label(self) -> str:
        return "-".join(str(n) for n in (self.n_in, *self.hidden, self.n_out))


@dataclass
class SampleUpdates:
    """``Algorithm.ideal_updates`` of one sample: ``directions[matrix][reference]``, an array shaped like the
    matrix (its sign: the direction the weights should move); ``units[matrix]``, the statistics of the layer the
    matrix feeds: ``silent`` and ``saturated`` fractions of its units and ``error_scale`` (the rms of the error
    signal that reaches it, in the algorithm's units)."""

    directions: dict
    units: dict


@dataclass
class CircuitRun:
    """One phase's circuit for a batch of samples: run ``steps`` steps; sample c occupies the steps from
    ``first_step + c * steps_per_sample``; ``readout`` = (population, step offset in a sample) of the output."""

    circuit: object
    steps: int
    samples: int
    steps_per_sample: int
    first_step: int
    readout: tuple | None = None


class Algorithm(ABC):
    """Base class of a learning algorithm: the science, and no device code (:doc:`/guide/algorithms`).

    A subclass declares its name, encoding, measures, devices (``devices_for(features)``) and ``options``, and
    implements ``encode``, ``init_params``, ``plan``, ``evaluate``, ``circuit`` and ``learned_params``; ``@register``
    adds it to the registry, after which every command and report takes it.

    Parameters
    ----------
    **values
        The algorithm's options (``options``: name -> ``Parameter``); missing ones take their defaults.

    Raises
    ------
    ConfigError
        An unknown option or a value outside its bounds.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    encoding: ClassVar[str]                   #: how images become inputs, in words
    headline: ClassVar[str]                   #: the measure reported as ``accuracy``
    measures: ClassVar[tuple]                 #: its own measures (``evaluate`` returns each and ``accuracy``)
    devices: ClassVar[tuple]                  #: ``reference`` and the Brian2 devices its circuits run on
    options: ClassVar[Dict[str, Parameter]] = {}
    default_hidden: ClassVar[tuple]
    crop_defaults: ClassVar[Dict[str, int]] = {}  #: dataset -> pixels cut from each side (0 otherwise)
    step_seconds: ClassVar[float | None] = None   #: model time of one circuit step (None: the circuit's dt)
    # Extras the shared modules find through the registry, so that a new algorithm edits none of them: where its
    # figures command and NIR exporter live ("module:function", imported when used) and its paper's numbers.
    figures: ClassVar[str | None] = None      #: ``spikingbp figures``: (out, run_dir, runs, quick, seed) -> summary
    nir_graph: ClassVar[str | None] = None    #: ``spikingbp export-nir``: (final params, algorithm) -> nirgraph.Export
    paper_results: ClassVar[dict] = {}        #: the paper's test results the report puts beside ours (by dataset / size)
    lava_phases: ClassVar[tuple] = ("inference",)  #: phases whose circuit Lava runs (learning needs its rule translated)
    paper_energy: ClassVar[tuple] = ()        #: the paper's per-sample energy and time (phase, energy_uJ, time_ms, kind, source)

    def __init__(self, **values):
        unknown = sorted(set(values) - set(self.options))
        if unknown:
            known = ", ".join(f"{k} (default {o.default})" for k, o in self.options.items()) or "none"
            raise ConfigError(f"{self.name} has no option {', '.join(unknown)}; its options: {known}")
        self.values = {name: spec.convert(name, values.get(name, spec.default)) for name, spec in self.options.items()}

    @classmethod
    def default_crop(cls, dataset: str) -> int:
        return cls.crop_defaults.get(dataset, 0)

    def check_sizes(self, sizes: Sizes) -> None:
        """Refuse layer sizes the algorithm cannot build (ConfigError)."""

    @abstractmethod
    def encode(self, images: np.ndarray) -> np.ndarray:
        """The algorithm's input of each image.

        Parameters
        ----------
        images : ndarray
            uint8 images (N, H, W), cropped.

        Returns
        -------
        ndarray
            (N, n_in) inputs: pixel values, probabilities or bits, as the algorithm reads them.
        """

    @abstractmethod
    def init_params(self, sizes: Sizes, seed: int) -> Params:
        """The initial params of a network.

        Parameters
        ----------
        sizes : Sizes
            The layer sizes.
        seed : int
            Seeds every random draw.

        Returns
        -------
        dict
            Name -> array (``W0``, ``W1``, ... and any fixed matrices such as eRBP's feedback ``G1``).
        """

    @abstractmethod
    def plan(self, phase: str, params: Params, X, T=None, epoch: int = 0) -> "Plan":
        """What one run of a phase is, for the executors of ``spikingbp.execution`` to run on any device.

        Training draws what it draws per sample from the run context's (seed, epoch).

        Parameters
        ----------
        phase : {'train', 'inference'}
            ``train``: the runs' state is the params, and each run returns the params after it;
            ``inference``: each run returns the readout of its samples.
        params : dict
            Params shaped as the runs' will be.
        X, T : ndarray
            The samples (and targets).
        epoch : int
            The training epoch whose settings apply (its learning rate); 0 outside training.

        Returns
        -------
        Plan
        """

    def train_epoch(self, params: Params, X, T, order, ctx: RunContext) -> Params:
        """The params after one pass over ``X[order]`` on ``ctx.device``."""
        from spikingbp.execution import fold

        return fold(self.plan("train", params, X, T, ctx.epoch), [params], [order], [ctx])[0]

    def train_ensemble_epoch(self, params: list, X, T, orders: list, contexts: list) -> list:
        """``train_epoch`` of K copies at once (copy k: ``params[k]`` on the samples ``orders[k]`` of ``X``,
        ``T`` in its context ``contexts[k]``; the orders of equal length, the contexts on one device and program
        cache), run as one ensemble (``spikingbp.execution.fold``); returns each copy's params, equal to those its
        own ``train_epoch`` returns."""
        from spikingbp.execution import fold

        return fold(self.plan("train", params[0], X, T, contexts[0].epoch), params, orders, contexts)

    @abstractmethod
    def evaluate(self, params: Params, X, T, ctx: RunContext) -> dict:
        """The headline measure and the algorithm's own measures of a network on samples.

        Parameters
        ----------
        params : dict
            The network.
        X, T : ndarray
            Samples and one-hot targets.
        ctx : RunContext
            The device, seed and program cache to run on.

        Returns
        -------
        dict
            ``accuracy`` and each of ``measures``.
        """

    @abstractmethod
    def circuit(self, params: Params, X, T=None, phase: str = "inference") -> CircuitRun:
        """The training or inference ``Circuit`` of samples, for Lava export, verification and rasters.

        Parameters
        ----------
        params : dict
            The network.
        X, T : ndarray
            The samples (and targets for training).
        phase : {'inference', 'train'}
            Which circuit.

        Returns
        -------
        CircuitRun
            The circuit, its steps per sample and where its readout lies.
        """

    @abstractmethod
    def learned_params(self, params: Params, weights: dict) -> Params:
        """The params a training circuit's final weights stand for.

        Parameters
        ----------
        params : dict
            The params the circuit started from.
        weights : dict
            Projection name -> the circuit's final weights.

        Returns
        -------
        dict
        """

    @staticmethod
    def upgrade_params(params: Params) -> Params:
        """Params as a run written by an older version stored them, under today's names (default: unchanged)."""
        return params

    def predict(self, params: Params, X, ctx: RunContext) -> np.ndarray:
        """The class each sample of ``X`` is given by the network ``params`` on ``ctx.device`` (-1 where the
        readout decides nothing, e.g. a silent output), read as ``evaluate`` reads it."""
        raise ConfigError(f"{self.name} defines no predictions")

    def ideal_updates(self, params: Params, X, T, index: int, ctx: RunContext) -> "SampleUpdates":
        """What the weight change on training sample ``index`` (drawn as ``train_epoch`` in ``ctx.epoch`` draws it)
        should point along: for each learned matrix, the updates of the algorithm's rate (ANN) equivalent at
        ``params`` (``SampleUpdates.directions``), and per layer the unit statistics (silent, saturated) and the
        error signal's scale. ``spikingbp.analysis.alignment`` compares the circuit's change with each."""
        raise ConfigError(f"{self.name} defines no gradient-alignment references")

    def learning_steps(self, run: CircuitRun):
        """Where the learning rules of a training circuit act: a bool per step of ``run``, or None for every
        step (what ``spikingbp.energy`` counts as plastic-synapse updates)."""
        return None

    def start_figures(self, out: Path, params: Params, X, T) -> None:
        """Figures of a fresh run written before training (e.g. a raster of one training cycle)."""

    def _check_phase(self, phase: str) -> str:
        if phase not in PHASES:
            raise ConfigError(f"unknown phase {phase!r}; {self.name} has the circuits {', '.join(PHASES)}")
        return phase


__all__ = ["extra", "epoch_eta", "Algorithm", "Option", "Params", "Sizes", "RunContext", "CircuitRun", "REFERENCE", "BRIAN_DEVICES",
           "PHASES"]
