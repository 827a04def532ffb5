"""The plasticity rules the Lava translation knows, one entry per rule: ``RULES`` maps a synapse model's
name to its ``RuleTranslation`` (how a projection of that rule is checked, bounded, built and reported).

A rule's process follows one port protocol, so the translator wires every rule the same way: ``s_in``
(pre spikes), ``s_in_bap`` (post spikes of the same step), ``a_out`` (activation to the post units, one
step later) and, for a rule with a third factor, ``mod_in`` (what the post units' reward compartment
receives); its ``weights`` Var holds the learned weights. A new rule is a module here that defines its
process and models (``@implements``, ``@requires``, ``@tag`` as lava's own) and calls ``register_rule``,
plus one import line below.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from spikingbp.errors import ConfigError


@dataclass(frozen=True)
class RuleTranslation:
    """How projections of one plasticity rule become lava processes.

    ``make(n_pre, n_post, pre_index, post_index, weights, params, decay_mod, name)`` builds the process;
    weights and the values in ``params`` arrive in the units of the build (circuit units in floating point,
    activation units, i.e. times ``scale``, in fixed point); ``scaled_params`` names the params that scale."""

    model: str                          #: the SynapseModel's name
    process: type                       #: the lava process class
    make: Callable
    uses_reward: bool                   #: reads the post units' reward compartment through ``mod_in``
    post_models: tuple                  #: names of the neuron models it may target
    scaled_params: tuple                #: params in weight units (scaled with the weights in fixed point)
    weight_limit: Callable              #: params -> the largest |w| the rule can reach
    reason: str                         #: why it is (not) Loihi-deployable, for the report
    deployable: bool = False

    def check(self, projection, post_model) -> None:
        target = projection.target or "a_in"
        if target != "a_in" or projection.delay != 0:
            raise ConfigError(f"projection {projection.name!r}: {self.model} is translated with delay 0 into a_in "
                              f"only (got delay {projection.delay}, target {target!r})")
        if post_model.name not in self.post_models:
            raise ConfigError(f"projection {projection.name!r}: {self.model} needs a post population of "
                              f"{', '.join(self.post_models)}; {projection.post!r} is {post_model.name}")

    def grid_error(self, weights, params: dict, scale: float) -> float:
        """How far the scaled weights and scaled params lie off the integer grid (circuit units)."""
        scaled = np.array([*weights, *(params[p] for p in self.scaled_params)], dtype=float) * scale
        return float(np.abs(scaled - np.round(scaled)).max(initial=0.0)) / scale


RULES: dict = {}


def register_rule(translation: RuleTranslation) -> None:
    """Add ``translation`` to ``RULES``. The first registration of a name stands: lava's model search runs
    this package's files again as loose modules, and their copies must not replace the real classes."""
    RULES.setdefault(translation.model, translation)


def rule_for(projection):
    """The ``RuleTranslation`` of a plastic projection, or a ConfigError naming the supported rules."""
    translation = RULES.get(projection.synapse.name)
    if translation is None:
        raise ConfigError(f"projection {projection.name!r}: synapse model {projection.synapse.name} has no lava "
                          f"translation (supported: Static, {', '.join(RULES)})")
    return translation


from spikingbp.lava.rules import sbp  # noqa: E402,F401  (registers SBPRewardRule)

__all__ = ["RuleTranslation", "RULES", "register_rule", "rule_for"]
