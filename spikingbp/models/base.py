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
    """One parameter of a model, or one option of an algorithm (made with ``option``).

    Parameters
    ----------
    default : object
        The default, with Brian2 units where it has them.
    doc : str
        What it means, in a line.
    low, high : float or None
        The allowed range (inclusive; None: unbounded).
    kind : type or None
        For an option: the type a value given as text converts to (int, float, bool or str).
    choices : tuple
        For an option: the values it takes, where it takes a few.
    legacy : object
        The value a run recorded before the option existed had (None: its default), so that an old run
        directory is read, and resumed, as it was trained.
    """

    default: object
    doc: str
    low: float | None = None
    high: float | None = None
    kind: type | None = None
    choices: tuple = ()
    legacy: object = None

    @property
    def before(self):
        """The value of a run whose record lacks this parameter."""
        return self.default if self.legacy is None else self.legacy

    def range_text(self) -> str:
        """The allowed range in words: "in [a, b]", "at least a", "at most b" or ""."""
        if self.low is not None and self.high is not None:
            return f"in [{self.low:g}, {self.high:g}]"
        if self.low is not None:
            return f"at least {self.low:g}"
        return f"at most {self.high:g}" if self.high is not None else ""

    def convert(self, name: str, value):
        """An option's value (as given, or as command-line text) in its ``kind``, checked against its choices and
        range; errors name the option and give an example."""
        example = f"e.g. --option {name}={self.default}"
        if self.choices:
            if str(value) not in self.choices:
                raise ConfigError(f"option {name}={value!r} is not one of {', '.join(self.choices)}; {example}")
            return str(value)
        if self.kind is bool:
            if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
                value = value.lower() in ("true", "1")
            if not isinstance(value, (bool, np.bool_)):
                raise ConfigError(f"option {name}={value!r} must be true or false")
            return bool(value)
        what = "an integer" if self.kind is int else "a number"
        try:
            converted = self.kind(value)
        except (TypeError, ValueError):
            raise ConfigError(f"option {name}={value!r} is not {what}; {example}") from None
        if isinstance(value, bool) or (self.kind is int and float(value) != converted) or not np.isfinite(converted):
            raise ConfigError(f"option {name}={value!r} is not {what}; {example}")
        if (self.low is not None and converted < self.low) or (self.high is not None and converted > self.high):
            raise ConfigError(f"option {name}={value!r} must be {self.range_text()}; {example}")
        return converted

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
    """A neuron model: equations, threshold, reset and refractoriness as Brian2 strings, with its parameters.

    Parameters
    ----------
    name : str
        The model's name.
    equations : str
        Brian2 equations of one unit.
    threshold, reset, refractory : str or None
        Brian2's threshold condition, reset statements and refractory condition.
    parameters : mapping of str to Parameter
        Every constant the strings use, with its default (and units) and allowed range.
    method : str
        Brian2's integration method.
    input_variable : str or None
        The variable synapses add their weight to.
    step_code : str or None
        A discrete map run once per step before thresholds (statements, in order).
    doc : str
        What the model is, in a line.
    """

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
    """A synapse (and its plasticity) as Brian2 ``Synapses`` strings, with its parameters.

    Parameters
    ----------
    name : str
        The model's name.
    equations : str
        Brian2 synaptic equations (``w`` and any traces).
    on_pre, on_post : str or None
        Statements run on a presynaptic (postsynaptic) spike.
    parameters : mapping of str to Parameter
        Every constant the strings use.
    method : str
        Brian2's integration method.
    post_requires, pre_requires : tuple of str
        The neuron variables the strings read or write (``{target}``: the postsynaptic input variable).
    sample_update : str or None
        Code run at the start of every sample (``Circuit(sample_steps=...)``).
    dtypes : tuple of (str, str)
        Variables stored in another type than float64, as (name, numpy dtype name) pairs; the code still
        computes in double precision and rounds what it stores.
    doc : str
        What the model is, in a line.
    """

    name: str
    equations: str
    on_pre: str
    parameters: Mapping[str, Parameter]
    on_post: str | None = None
    method: str = "euler"
    post_requires: tuple = ("{target}",)  # post variables needed; {target} = the input variable
    pre_requires: tuple = ()
    sample_update: str | None = None  # code run at the start of every sample (Circuit(sample_steps=...))
    dtypes: tuple = ()  # (variable, dtype name) pairs stored in another type than float64
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


def option(default, kind: type, doc: str, minimum: float | None = None, maximum: float | None = None,
           choices: tuple = (), legacy=None) -> Parameter:
    """An algorithm's option: a ``Parameter`` with the type its command-line text converts to."""
    return Parameter(default, doc, minimum, maximum, kind, tuple(choices), legacy)


__all__ = ["Parameter", "option", "NeuronModel", "SynapseModel", "resolve_parameters"]
