"""Models of the synfire-gated synfire chain (docs/methods/sgsc.md): the mean-field population unit, the rate
coupling between mean-field units, and the gate switch that the spiking chain uses.

Mean-field form (population j, synaptic time constant tau, square gate p_j of length T)::

    tau dI_{j+1}/dt = -I_{j+1} + S m_j(t),    m_j = [I_j + I_g p_j(t) - g0]_+

One ``MeanFieldUnit`` is one population: ``I`` its graded synaptic current, ``m`` its rate. Its gate
pulse is an expression of ``t`` (no TimedArray, no ``run_regularly``), so the model passes brian2genn
code generation. ``RateCoupling`` sums ``w * m`` of the previous units into ``m_in`` continuously (a
Brian2 summed variable): ``w`` is the feed-forward strength S (times a weight W_ij in a network).
Brian2 and brian2genn allow one summed-variable ``Synapses`` per target variable of a group, so a
circuit wires all mean-field units of one group with a single ``RateCoupling`` projection.

``GateSwitch`` is the gate of the spiking chain: it adds ``w`` to ``I_gate`` of the post unit (see
``NoisyLIF`` in ``neurons.py``), a current that stays until the next change. One volley of a gating
population with weight +I_g / N switches a gate on; the next gating population's volley with weight
-I_g / N switches it off: a square gate pulse between two volleys.
"""
from brian2 import ms

from spikingbp.models.base import NeuronModel, Parameter, SynapseModel

# ---------------------------------------------------------------------------------------------------
# Mean-field unit: one population of the graded chain, as a current I and a threshold-linear rate m.
# The gate p is on for t_on <= t < t_on + T_gate; builders place t_on half a step before the first
# gated step, so that no floating-point tie between t and t_on decides a step.
MEAN_FIELD_EQUATIONS = """
dI/dt = (-I + m_in) / tau : 1                             # graded synaptic current of the population
m = clip(I + I_g * p - g0, 0, inf) : 1                    # population rate, threshold-linear
p = int(t >= t_on) * int(t < t_on + T_gate) : 1           # square gate pulse of this population
m_in : 1                                                  # summed input S * m of the previous population
tau : second (constant)                                   # synaptic time constant
I_g : 1 (constant)                                        # gate amplitude
g0 : 1 (constant)                                         # offset that the gate cancels when I_g = g0
t_on : second (constant)                                  # start of the gate pulse
T_gate : second (constant)                                # length T of the gate pulse
"""

MeanFieldUnit = NeuronModel(
    name="MeanFieldUnit",
    equations=MEAN_FIELD_EQUATIONS,
    threshold="False",  # a rate unit never spikes; Brian2 wants a threshold for RateCoupling's pathway
    reset="",
    method="exact",
    input_variable="I",
    parameters={
        "tau": Parameter(5 * ms, "synaptic time constant, > 0", 1e-9, None),
        "I_g": Parameter(1.0, "gate amplitude (I_g = g0: the gate cancels the offset exactly), >= 0", 0.0,
                         None),
        "g0": Parameter(1.0, "offset of the rate; amplitudes below g0 stay silent without a gate, >= 0",
                        0.0, None),
        "t_on": Parameter(0 * ms, "start of the gate pulse"),
        "T_gate": Parameter(5 * ms, "length T of the gate pulse, >= 0", 0.0, None),
    },
    doc="Mean-field population of a pulse-gated chain: tau dI/dt = -I + m_in, m = [I + I_g p(t) - g0]_+ "
        "with a square gate p on [t_on, t_on + T_gate). Static synapses (input variable I) set an "
        "amplitude with a spike; RateCoupling feeds m_in.",
)

# Continuous coupling of mean-field units: m_in of the post unit is the sum of w * m over its inputs.
RATE_COUPLING_EQUATIONS = """
w : 1 (constant)                                          # feed-forward strength S (times W_ij)
m_in_post = w * m_pre : 1 (summed)                        # rate input of the post unit
events : 1                                                # presynaptic spikes seen (none: rate units)
"""

RateCoupling = SynapseModel(
    name="RateCoupling",
    equations=RATE_COUPLING_EQUATIONS,
    on_pre="events += 1",  # never runs; Brian2 sets the circuit's delay on this pathway, so it must exist
    parameters={},
    post_requires=("m_in",),
    pre_requires=("m",),
    doc="Rate coupling m_in = sum_i w_i m_i between MeanFieldUnit populations (a summed variable; "
        "spikes play no part). Use one RateCoupling projection per target group.",
)

# ---------------------------------------------------------------------------------------------------
# Gate of the spiking chain: a volley switches the post units' gate current by w per spike.
GateSwitch = SynapseModel(
    name="GateSwitch",
    equations="""
w : amp (constant)                                        # change of the gate current per spike
""",
    on_pre="I_gate_post += w",
    parameters={},
    post_requires=("I_gate",),
    doc="Adds w to the post unit's held gate current I_gate (NoisyLIF): +I_g / N from the volley that "
        "opens a gate, -I_g / N from the volley that closes it.",
)

__all__ = ["MeanFieldUnit", "RateCoupling", "GateSwitch"]
