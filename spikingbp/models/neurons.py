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
    method="rk4",  # Brian2's exact (linear) solver rejects the leak-free system; rk4 is exact to O(dt^4)
    input_variable="I_syn",
    parameters=dict(_IF_PARAMETERS),
    doc="Non-leaky integrate-and-fire with exponential synapses.",
)


# ---------------------------------------------------------------------------------------------------
# Compartments that plasticity rules read (spikingbp.models.plasticity). Brian2genn lets on_pre read
# only post-synaptic variables, and it runs synapses one slot earlier than Brian2 (Brian2: groups,
# thresholds, synapses, resets; GeNN: synapses, groups, thresholds, resets). In both schedules the
# on_pre of a spike emitted at step t sees the post unit's state after its update of step t, so a rule
# reads its third factor and the time of the step from the post unit, never from the code's own `t`
# (which is one step later under GeNN): `tnow` holds the time of the unit's latest update, and
# `lastspike == tnow` says the unit fired in that step.

# Loihi CUBA plus a modulator compartment fed by its own input buffer, and the step clock.
# mod[t] = mod[t-1] (1 - decay_mod) + mod_in[t]: a modulator spike at step t - 1 is present at step t.
LOIHI_CUBA_MODULATED_EQUATIONS = LOIHI_CUBA_EQUATIONS + """
dmod/dt = (-decay_mod * mod + mod_in) / dt : 1                              # modulator (reward), the map mod[t]
dmod_in/dt = -mod_in / dt : 1                                               # modulator input of one step
dtnow/dt = (t - tnow) / dt : second                                         # time of this unit's latest update
decay_mod : 1 (constant)                                                    # modulator decay per step, 0..1
"""

LoihiCUBAModulated = NeuronModel(
    name="LoihiCUBAModulated",
    equations=LOIHI_CUBA_MODULATED_EQUATIONS,
    threshold="v > vth",
    reset="v = 0",
    refractory="refractory_steps * dt",
    method="euler",
    input_variable="a_in",
    parameters={
        **LoihiCUBA.parameters,
        "decay_mod": Parameter(
            1.0, "modulator decay per step, in [0, 1]; 1: a modulator spike counts for exactly one step",
            0.0, 1.0),
    },
    doc="LoihiCUBA with a modulator compartment `mod` (input `mod_in`, buffered like `a_in`) and the step "
        "clock `tnow`; the post unit of SBPRewardRule and ThreeFactorSTDP.",
)

# ---------------------------------------------------------------------------------------------------
# Current-based LIF with white background noise and a held gate current (the spiking populations of the
# synfire-gated synfire chain, docs/methods/sgsc.md). Without input the membrane potential fluctuates around
# v_rest with standard deviation sigma; the noise smooths the f-I curve of a population into a nearly
# threshold-linear one. I_gate is a second input that keeps its value until a synapse changes it
# (GateSwitch in spikingbp.models.meanfield): square gate pulses switched by gating volleys.
NOISY_LIF_EQUATIONS = """
dv/dt = (v_rest - v) / tau_m + (I_syn + I_gate + I_ext) / C_m + sigma * sqrt(2 / tau_m) * xi : volt (unless refractory)  # membrane potential
dI_syn/dt = -I_syn / tau_syn : amp                                              # synaptic current
I_gate : amp                                                                    # gate current, held between volleys
I_ext : amp                                                                     # constant external current (offset)
sigma : volt (constant)                                                         # std of the free membrane noise
tau_m : second (constant)                                                       # membrane time constant
tau_syn : second (constant)                                                     # synaptic time constant
C_m : farad (constant)                                                          # membrane capacitance
v_rest : volt (constant)                                                        # resting potential
v_th : volt (constant)                                                          # spike threshold
v_reset : volt (constant)                                                       # reset potential
t_ref : second (constant)                                                       # refractory period
"""

NoisyLIF = NeuronModel(
    name="NoisyLIF",
    equations=NOISY_LIF_EQUATIONS,
    threshold="v > v_th",
    reset="v = v_reset",
    refractory="t_ref",
    method="euler",
    input_variable="I_syn",
    parameters={
        **LIF.parameters,
        "sigma": Parameter(0 * mV, "std of the membrane potential under the background noise alone, >= 0",
                           0.0, None),
    },
    doc="Current-based LIF with white background noise sigma * sqrt(2 / tau_m) * xi (Euler-Maruyama) and a "
        "held gate current I_gate besides the exponential synaptic current I_syn (the input variable). "
        "With tau_syn = dt (method euler) a spike's current lasts exactly one step.",
)

# ---------------------------------------------------------------------------------------------------
# LIF and IF without a synaptic current: a spike moves v at once (NIR's LIF and IF nodes; synapse
# StaticVoltage adds w volts to v).
DELTA_LIF_EQUATIONS = """
dv/dt = (v_rest - v) / tau_m : volt (unless refractory)                         # membrane potential
tau_m : second (constant)                                                       # membrane time constant
v_rest : volt (constant)                                                        # resting (leak) potential
v_th : volt (constant)                                                          # spike threshold
v_reset : volt (constant)                                                       # reset potential
t_ref : second (constant)                                                       # refractory period
"""

DELTA_IF_EQUATIONS = """
dv/dt = 0 * volt / second : volt (unless refractory)                            # membrane potential, no leak
v_th : volt (constant)                                                          # spike threshold
v_reset : volt (constant)                                                       # reset potential
t_ref : second (constant)                                                       # refractory period
"""

_DELTA_PARAMETERS = {
    "v_th": Parameter(20 * mV, "spike threshold"),
    "v_reset": Parameter(0 * mV, "reset potential"),
    "t_ref": Parameter(0 * ms, "refractory period, >= 0", 0.0, None),
}

DeltaLIF = NeuronModel(
    name="DeltaLIF",
    equations=DELTA_LIF_EQUATIONS,
    threshold="v > v_th",
    reset="v = v_reset",
    refractory="t_ref",
    method="exact",
    input_variable="v",
    parameters={"tau_m": Parameter(10 * ms, "membrane time constant, > 0", 1e-9, None),
                "v_rest": Parameter(0 * mV, "resting (leak) potential"), **_DELTA_PARAMETERS},
    doc="LIF whose input spikes move v at once (w volts each, synapse StaticVoltage): NIR's LIF node.",
)

DeltaIF = NeuronModel(
    name="DeltaIF",
    equations=DELTA_IF_EQUATIONS,
    threshold="v > v_th",
    reset="v = v_reset",
    refractory="t_ref",
    method="euler",
    input_variable="v",
    parameters=dict(_DELTA_PARAMETERS),
    doc="Integrate-and-fire without leak or synaptic current: each input spike adds w volts to v (NIR's IF node).",
)

__all__ = ["LoihiCUBA", "LIF", "IF", "LoihiCUBAModulated", "NoisyLIF", "DeltaLIF", "DeltaIF"]
