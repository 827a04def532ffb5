"""Containers for models: Brian2 equation strings plus documented parameter defaults.

A model is data, not behaviour (importing one needs no Brian2): the strings go unchanged into ``brian2.NeuronGroup`` or
``brian2.Synapses`` (see ``spikingbp.circuits.build``), and the same description is what the Lava
translation and the analysis read. Parameters are declared in the equations as per-unit
``(constant)`` variables, so one population can hold heterogeneous values.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
from spikingbp.errors import ConfigError


@dataclass(frozen=True)
class Parameter:
    """One model parameter: its default (with units), meaning and allowed range (inclusive)."""

    default: object
    doc: str
    low: float | None = None
    high: float | None = None

    def check(self, name: str, value, model: str):
        """Return ``value`` as given if it has the right units, no NaN and lies in range."""
        from brian2 import Quantity, get_dimensions, have_same_dimensions  # here: a model is data without Brian2

        if isinstance(self.default, Quantity) and not have_same_dimensions(value, self.default):
            raise ConfigError(
                f"{model}: parameter {name!r} has units {get_dimensions(value)!r}, expected "
                f"{get_dimensions(self.default)!r}; give it like the default, e.g. {name}={self.default!r}")
        if not isinstance(self.default, Quantity) and isinstance(value, Quantity) and \
                not have_same_dimensions(value, 1):
            raise ConfigError(f"{model}: parameter {name!r} has units {get_dimensions(value)!r}, expected a "
                              f"dimensionless number, e.g. {name}={self.default!r}")
        magnitude = np.asarray(value / _unit_of(self.default), dtype=float)
        if np.any(np.isnan(magnitude)):
            raise ConfigError(f"{model}: parameter {name!r} contains NaN; give a finite value")
        low = self.low if self.low is not None else -np.inf
        high = self.high if self.high is not None else np.inf
        if np.any(magnitude < low) or np.any(magnitude > high):
            raise ConfigError(
                f"{model}: parameter {name!r} = {value!r} is out of range [{low}, {high}] "
                f"(in units of {_unit_of(self.default)!r}); {self.doc}")
        return value


def _unit_of(default):
    """The base unit of a default value: 1 for plain numbers, the SI unit of a quantity."""
    from brian2 import Quantity

    if isinstance(default, Quantity):
        return Quantity(1, dim=default.dim)
    return 1


@dataclass(frozen=True)
class NeuronModel:
    """A neuron model: equations, threshold, reset and refractoriness as Brian2 strings."""

    name: str
    equations: str
    threshold: str | None
    reset: str | None
    parameters: Mapping[str, Parameter]
    refractory: str | None = None
    method: str = "euler"
    input_variable: str | None = "a_in"  # what synapses add their weight to
    step_code: str | None = None  # a discrete map run once per step before thresholds (statements, in order)
    doc: str = ""

    def resolve(self, **overrides) -> dict:
        """Defaults updated by ``overrides``; unknown names, wrong units, NaN or out-of-range raise."""
        return resolve_parameters(self.name, self.parameters, overrides)


@dataclass(frozen=True)
class SynapseModel:
    """A synapse (and its plasticity) as Brian2 ``Synapses`` strings."""

    name: str
    equations: str
    on_pre: str
    parameters: Mapping[str, Parameter]
    on_post: str | None = None
    method: str = "euler"
    post_requires: tuple = ("{target}",)  # post variables needed; {target} = the input variable
    pre_requires: tuple = ()
    sample_update: str | None = None  # code run at the start of every sample (Circuit(sample_steps=...))
    doc: str = ""

    def resolve(self, **overrides) -> dict:
        """Defaults updated by ``overrides``; unknown names, wrong units, NaN or out-of-range raise."""
        return resolve_parameters(self.name, self.parameters, overrides)


def resolve_parameters(model: str, parameters: Mapping[str, Parameter], overrides: dict) -> dict:
    unknown = sorted(set(overrides) - set(parameters))
    if unknown:
        raise ConfigError(f"{model}: unknown parameter(s) {unknown}; known: {sorted(parameters)}")
    values = {name: p.default for name, p in parameters.items()}
    for name, value in overrides.items():
        values[name] = parameters[name].check(name, value, model)
    return values


__all__ = ["Parameter", "NeuronModel", "SynapseModel", "resolve_parameters"]
