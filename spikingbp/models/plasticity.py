"""Plasticity rules as Brian2 ``Synapses`` strings, written to run unchanged on runtime, cpp_standalone
and brian2genn.

Brian2genn limits what a rule may do: one pre and one post pathway; ``+=`` into one post-synaptic
variable per Synapses; ``on_pre`` may not touch presynaptic variables and ``on_post`` may not touch
post-synaptic ones (not even to read them); no custom events, linked or summed variables, TimedArray,
network_operation; ``run_regularly`` only in its default slot. And GeNN schedules differently: Brian2
runs [groups, thresholds, synapses, resets] in one step, so a spike of step t is processed at step t;
GeNN runs [synapses, groups, thresholds, resets], so the same spike is processed at step t + 1, with the
clock ``t`` one step later. The rules therefore never compare spike times with ``t``. Two mechanisms
are the same under both schedules:

* Post-side state read in ``on_pre``: a presynaptic spike of step t sees the post unit after its update
  of step t (Brian2: same step, after groups and thresholds; GeNN: next step, before groups). The post
  unit provides ``tnow`` (the time of that update) and ``lastspike`` (set by the threshold in Brian2 and
  by the reset in GeNN, to the same value), so ``lastspike_post == tnow_post`` means "the post unit fired
  in the step of this presynaptic spike". Third factors (reward, modulator, error) live in post
  compartments fed through their own buffered input (``mod_in``), so a modulator spike at step t - 1 is
  present at step t under both schedules. Post unit: ``LoihiCUBAModulated`` in ``spikingbp.models.neurons``.
* A time stamp in the synapse, written in ``on_pre`` and compared in ``on_post``: both pathways of one
  step see the same ``t``, and the pre pathway runs first in both (Brian2: pathway order -1 before +1;
  GeNN 4: presynaptic update kernel before postsynaptic learning).

The modulator/reward sources are SpikeGeneratorGroups connected with ``Static`` synapses whose target is
``mod_in``. (eRBP's and SSNN-BP's weights are discrete maps of their own: ``spikingbp.models.erbp``, ``ssnn``.) Plastic pathways must have no delay (the rules pair
events of one step). Code strings carry no ``#`` comments (see ``_code``). Under GeNN the spikes of a
run's last step are never processed (that happens in the step after), so run one step longer than the
last spike that should count.
"""
from __future__ import annotations

from brian2 import ms, second

from spikingbp.models.base import Parameter, SynapseModel


def _code(*lines) -> str:
    """Join (statement, comment) pairs into a Brian2 code string, leaving the comments out: brian2genn
    copies code comments into GeNN's C++, where a comment on the last line swallows a closing brace."""
    return "\n".join(statement for statement, _comment in lines)


# ---------------------------------------------------------------------------------------------------
# sBP (Renner et al. 2024): a same-step pre/post coincidence changes w by +step with reward, -step without.
# step, w_min and w_max are not declared: they are compile-time constants, one per projection, which
# keeps the per-synapse work of the hot W1 pathways to the weight alone.
SBP_REWARD_EQUATIONS = """
w : 1                                 # plastic weight, delivered to the post unit like Static
"""

SBP_REWARD_ON_PRE = _code(
    ("w = clip(w + step * (2 * int(mod_post > 0.5) - 1)"
     " * int(abs(lastspike_post - tnow_post) < 0.5 * dt), w_min, w_max)",
     "+step if rewarded, -step if not; only if the post unit fired in this step"),
    ('{target}_post += w', "deliver the updated weight: sBP's backward pass (phases 6 and 10) reads the "
                           "spikes of phases 5 and 9 through the weights those phases just changed, which "
                           "makes d1 use the updated W2, as the reference does"),
)

SBPRewardRule = SynapseModel(
    name="SBPRewardRule",
    equations=SBP_REWARD_EQUATIONS,
    on_pre=SBP_REWARD_ON_PRE,
    on_post=None,
    parameters={
        "step": Parameter(2.0, "weight change per coincidence, >= 0 (sBP: 2)", 0.0, None),
        "w_min": Parameter(-254.0, "lower weight clip (sBP: -254)"),
        "w_max": Parameter(254.0, "upper weight clip (sBP: 254)"),
    },
    post_requires=("{target}", "mod", "tnow", "lastspike"),
    doc="sBP reward-gated coincidence rule (NxSDK dw = y0*x0*r1*4 - y0*x0*2): when pre and post fire in the "
        "same step t, w += step if the reward is present at step t (mod_post > 0.5, i.e. a reward spike at "
        "t - 1 through a Static synapse into mod_in), else w -= step; clipped to [w_min, w_max]. The weight is also "
        "delivered ({target}_post += w) after the update, so the spike carries the new weight. Post unit: LoihiCUBAModulated (decay_mod = 1).",
)

# ---------------------------------------------------------------------------------------------------
# SSNN-BP (Biswas et al. 2023): its composite neurons and their weights are in spikingbp.models.ssnn.

# ---------------------------------------------------------------------------------------------------
# eRBP (Neftci et al. 2017): its units and weights are in spikingbp.models.erbp.

# ---------------------------------------------------------------------------------------------------
# Three-factor STDP: pair-based traces feed an eligibility trace elig; the weight moves by eta * mod * elig,
# applied on presynaptic spikes (NSAT: event driven, presynaptic lookup), mod read from the post unit.
THREE_FACTOR_EQUATIONS = """
w : 1                                 # plastic weight, delivered to the post unit
dapre/dt = -apre / tau_plus : 1 (event-driven)     # presynaptic trace
dapost/dt = -apost / tau_minus : 1 (event-driven)  # post-synaptic trace
delig/dt = -elig / tau_e : 1 (event-driven)        # eligibility trace (e)
tau_plus : second (constant)          # presynaptic trace time constant
tau_minus : second (constant)         # post-synaptic trace time constant
tau_e : second (constant)             # eligibility time constant
A_plus : 1 (constant)                 # apre increment per presynaptic spike (pre-before-post term)
A_minus : 1 (constant)                # apost increment per post spike (post-before-pre term, < 0: depression)
eta : 1 (constant)                    # learning rate
w_min : 1 (constant)                  # lower clip
w_max : 1 (constant)                  # upper clip
"""

THREE_FACTOR_ON_PRE = _code(
    ('{target}_post += w', "deliver the weight held before this spike's update"),
    ('elig += apost', 'post-before-pre pairings'),
    ('apre += A_plus', 'this spike, for later post spikes'),
    ('w += eta * mod_post * elig', 'third factor times eligibility'),
    ('w = w * int(w >= w_min and w <= w_max) + w_min * int(w < w_min) + w_max * int(w > w_max)',
     "exact clip (brian2genn's clip rounds to float)"),
)

THREE_FACTOR_ON_POST = _code(
    ('elig += apre', 'pre-before-post pairings'),
    ('apost += A_minus', 'this spike, for later presynaptic spikes'),
)

ThreeFactorSTDP = SynapseModel(
    name="ThreeFactorSTDP",
    equations=THREE_FACTOR_EQUATIONS,
    on_pre=THREE_FACTOR_ON_PRE,
    on_post=THREE_FACTOR_ON_POST,
    method="exact",
    parameters={
        "tau_plus": Parameter(20 * ms, "presynaptic trace time constant, > 0", 1e-9, None),
        "tau_minus": Parameter(20 * ms, "post-synaptic trace time constant, > 0", 1e-9, None),
        "tau_e": Parameter(1 * second, "eligibility time constant, > 0", 1e-9, None),
        "A_plus": Parameter(1.0, "presynaptic trace increment (potentiation amplitude)"),
        "A_minus": Parameter(-1.0, "post-synaptic trace increment (negative: depression)"),
        "eta": Parameter(1.0, "learning rate, >= 0", 0.0, None),
        "w_min": Parameter(-254.0, "lower weight clip"),
        "w_max": Parameter(254.0, "upper weight clip"),
    },
    post_requires=("{target}", "mod"),
    doc="Reward-modulated pair STDP: elig collects A_plus exp(-dt_pre/tau_plus) at post spikes and A_minus "
        "exp(-dt_post/tau_minus) at presynaptic spikes and decays with tau_e; on each presynaptic spike the "
        "weight is delivered, then w += eta * mod_post * elig (clipped). Post unit: LoihiCUBAModulated with "
        "the modulator source through a Static synapse into mod_in (decay_mod sets how long it lasts).",
)


__all__ = ["SBPRewardRule", "ThreeFactorSTDP"]
