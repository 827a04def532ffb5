"""Point-neuron models: continuous-time LIF and IF, and Loihi's discrete CUBA compartment.

Discrete-time maps x[t] = F(x[t-1], input) are written as Euler-integrated equations whose right-hand
side is (F - x) / dt: one Euler step then applies the map exactly once per time step, and the
result does not depend on where the backend schedules state updates (brian2genn moves synaptic
propagation before the group update; the map form spikes identically under both schedules).
Synapses add their weight to ``a_in``, which holds the input of one step and is consumed by the next.
"""
from brian2 import amp, ms, mV, pF

from spikingbp.models.base import NeuronModel, Parameter

# ---------------------------------------------------------------------------------------------------
# Loihi's current-based compartment (CUBA LIF), as in lava-nc's LIF process.
# u[t] = u[t-1] (1 - decay_u) + a_in[t];  v[t] = v[t-1] (1 - decay_v) + u[t] + bias;  spike iff v > vth.
# A spike emitted at step t arrives in a_in at step t + 1 + delay.
LOIHI_CUBA_EQUATIONS = """
du/dt = (-decay_u * u + a_in) / dt : 1                                       # synaptic current, the map u[t]
dv/dt = (-decay_v * v + u * (1 - decay_u) + a_in + bias) / dt : 1 (unless refractory)  # membrane, the map v[t]
da_in/dt = -a_in / dt : 1                                                    # input of one step, cleared after use
decay_u : 1 (constant)                                                       # current decay per step, 0..1
decay_v : 1 (constant)                                                       # voltage decay per step, 0..1
vth : 1 (constant)                                                           # spike iff v > vth
bias : 1 (constant)                                                          # constant input per step
refractory_steps : 1 (constant)                                              # steps blocked after a spike, + 1
"""

LoihiCUBA = NeuronModel(
    name="LoihiCUBA",
    equations=LOIHI_CUBA_EQUATIONS,
    threshold="v > vth",
    reset="v = 0",
    refractory="refractory_steps * dt",
    method="euler",
    input_variable="a_in",
    parameters={
        "decay_u": Parameter(0.0, "current decay per step (Loihi du/4096), in [0, 1]", 0.0, 1.0),
        "decay_v": Parameter(0.0, "voltage decay per step (Loihi dv/4096), in [0, 1]", 0.0, 1.0),
        "vth": Parameter(1024.0, "threshold in weight units; spike iff v > vth", 0.0, None),
        "bias": Parameter(0.0, "constant input added to v every step, in weight units"),
        "refractory_steps": Parameter(
            0, "refractory period r in steps: a spike blocks the next r - 1 steps (0 or 1: none)", 0, None),
    },
    doc="Loihi CUBA compartment; with decay_u = decay_v = 1 it is the binary unit of sBP.",
)

# ---------------------------------------------------------------------------------------------------
# Current-based leaky integrate-and-fire with an exponential synaptic current; synapses add w (amp).
LIF_EQUATIONS = """
dv/dt = (v_rest - v) / tau_m + (I_syn + I_ext) / C_m : volt (unless refractory)  # membrane potential
dI_syn/dt = -I_syn / tau_syn : amp                                              # synaptic current
I_ext : amp                                                                     # external current
tau_m : second (constant)                                                       # membrane time constant
tau_syn : second (constant)                                                     # synaptic time constant
C_m : farad (constant)                                                          # membrane capacitance
v_rest : volt (constant)                                                        # resting potential
v_th : volt (constant)                                                          # spike threshold
v_reset : volt (constant)                                                       # reset potential
t_ref : second (constant)                                                       # refractory period
"""

# Non-leaky integrate-and-fire: the same without the leak.
IF_EQUATIONS = """
dv/dt = (I_syn + I_ext) / C_m : volt (unless refractory)                        # membrane potential
dI_syn/dt = -I_syn / tau_syn : amp                                              # synaptic current
I_ext : amp                                                                     # external current
tau_syn : second (constant)                                                     # synaptic time constant
C_m : farad (constant)                                                          # membrane capacitance
v_th : volt (constant)                                                          # spike threshold
v_reset : volt (constant)                                                       # reset potential
t_ref : second (constant)                                                       # refractory period
"""

_IF_PARAMETERS = {
    "tau_syn": Parameter(5 * ms, "synaptic time constant, > 0", 1e-9, None),
    "C_m": Parameter(1 * pF, "membrane capacitance, > 0", 1e-18, None),
    "v_th": Parameter(20 * mV, "spike threshold"),
    "v_reset": Parameter(0 * mV, "reset potential"),
    "t_ref": Parameter(0 * ms, "refractory period, >= 0", 0.0, None),
    "I_ext": Parameter(0 * amp, "constant external current"),
}

LIF = NeuronModel(
    name="LIF",
    equations=LIF_EQUATIONS,
    threshold="v > v_th",
    reset="v = v_reset",
    refractory="t_ref",
    method="exact",
    input_variable="I_syn",
    parameters={
        "tau_m": Parameter(10 * ms, "membrane time constant, > 0", 1e-9, None),
        "v_rest": Parameter(0 * mV, "resting potential"),
        **_IF_PARAMETERS,
    },
    doc="Current-based LIF with exponential synapses: a spike adds a current jump w (amp) to I_syn.",
)

IF = NeuronModel(
    name="IF",
    equations=IF_EQUATIONS,
    threshold="v > v_th",
    reset="v = v_reset",
    refractory="t_ref",
    method="exact",
    input_variable="I_syn",
    parameters=dict(_IF_PARAMETERS),
    doc="Non-leaky integrate-and-fire with exponential synapses.",
)

__all__ = ["LoihiCUBA", "LIF", "IF"]
