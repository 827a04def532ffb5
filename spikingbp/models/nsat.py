"""The NSAT neuron family (Detorakis et al. 2018, used by eRBP): five discrete-time neuron models and
the blank-out synapse.

Every model is a discrete-time map x[t+1] = F(x[t], input[t]) written, as in ``neurons.py``, as
Euler-integrated equations with right-hand side (F - x) / dt, so that one Euler step applies the map
once per time step. All right-hand sides read the states of step t, which is the general NSAT form
x[t+1] = A x[t] + Xi[t] (W[t] S[t]) + eta[t]. The state is dimensionless (NSAT is integer hardware;
here floats). The sign conventions are those of the eRBP paper, e.g. V[t+1] = -alpha V[t] + ...;
with that sign a stable, monotonically leaky state needs -1 < alpha < 0 (alpha = -1: no leak;
0 < alpha < 1 decays with alternating sign; |alpha| > 1 diverges). NSAT's leak 1 - 2^A with a shift A
is alpha = -(1 - 2^A), e.g. A = -3 gives alpha = -0.875.

Timing: synapses add their weight to the buffer ``a_in``; a presynaptic spike at step t (the term
sum_j w_j s_j[t]) enters the state at step t + 1, and the buffer is cleared by the same update. The
threshold is tested on the new state x[t+1] (``>=``, as in NSAT), and the reset is applied in the
same step, so the state stored after a spiking step is already reset. With Brian2's schedule a
``StateMonitor`` (slot ``start``) at step t records the state after step t - 1.

All models stay inside brian2genn: no refractoriness, custom events, linked variables or
``run_regularly``; the noise eta[t] is ``randn()`` inside the equations (one draw per unit and step).
"""
from spikingbp.models.base import NeuronModel, Parameter, SynapseModel

_ALPHA_DOC = ("leak under V[t+1] = -alpha V[t] + ...; stable leaky for -1 < alpha < 0 "
              "(-1: no leak), in [-1, 1]")

# ---------------------------------------------------------------------------------------------------
# 1. Leaky stochastic integrate-and-fire:
#    V[t+1] = -alpha V[t] + sum_j xi_j w_j s_j[t];  V >= T -> V = V_reset.
#    The blank-out noise xi_j is drawn per synaptic event by BlankOutSynapse.
STOCHASTIC_LIF_EQUATIONS = """
dV/dt = (-alpha * V + a_in - V) / dt : 1       # membrane, the map V[t+1] = -alpha V[t] + input[t]
da_in/dt = -a_in / dt : 1                      # synaptic input of one step, cleared after use
alpha : 1 (constant)                           # leak, V[t+1] = -alpha V[t] + ...
T : 1 (constant)                               # spike iff V >= T
V_reset : 1 (constant)                         # V after a spike
"""

NSATStochasticLIF = NeuronModel(
    name="NSATStochasticLIF",
    equations=STOCHASTIC_LIF_EQUATIONS,
    threshold="V >= T",
    reset="V = V_reset",
    method="euler",
    input_variable="a_in",
    parameters={
        "alpha": Parameter(-0.875, _ALPHA_DOC, -1.0, 1.0),
        "T": Parameter(100.0, "threshold; spike iff V >= T"),
        "V_reset": Parameter(0.0, "membrane value after a spike"),
    },
    doc="NSAT leaky stochastic I&F: V[t+1] = -alpha V[t] + sum_j xi_j w_j s_j[t], V >= T -> V = V_reset. "
        "Stable leaky for -1 < alpha < 0. The blank-out noise xi_j comes from BlankOutSynapse; with "
        "Static synapses the model is deterministic (xi_j = 1).",
)

# ---------------------------------------------------------------------------------------------------
# 2. LIF with a first-order kinetic synapse:
#    V[t+1] = -alpha V[t] + I_syn[t];  I_syn[t+1] = -a1 I_syn[t] + sum_j w_j s_j[t];  V >= T -> V = V_reset.
FIRST_ORDER_EQUATIONS = """
dV/dt = (-alpha * V + I_syn - V) / dt : 1      # membrane, the map V[t+1] = -alpha V[t] + I_syn[t]
dI_syn/dt = (-a1 * I_syn + a_in - I_syn) / dt : 1  # synaptic current, I_syn[t+1] = -a1 I_syn[t] + input[t]
da_in/dt = -a_in / dt : 1                      # synaptic input of one step, cleared after use
alpha : 1 (constant)                           # membrane leak, V[t+1] = -alpha V[t] + ...
a1 : 1 (constant)                              # synaptic leak, I_syn[t+1] = -a1 I_syn[t] + ...
T : 1 (constant)                               # spike iff V >= T
V_reset : 1 (constant)                         # V after a spike
"""

NSATFirstOrder = NeuronModel(
    name="NSATFirstOrder",
    equations=FIRST_ORDER_EQUATIONS,
    threshold="V >= T",
    reset="V = V_reset",
    method="euler",
    input_variable="a_in",
    parameters={
        "alpha": Parameter(-0.875, _ALPHA_DOC, -1.0, 1.0),
        "a1": Parameter(-0.75, "synaptic leak under I_syn[t+1] = -a1 I_syn[t] + ...; stable leaky for "
                        "-1 < a1 < 0, in [-1, 1]", -1.0, 1.0),
        "T": Parameter(100.0, "threshold; spike iff V >= T"),
        "V_reset": Parameter(0.0, "membrane value after a spike"),
    },
    doc="NSAT LIF with first-order kinetic synapse: V[t+1] = -alpha V[t] + I_syn[t], "
        "I_syn[t+1] = -a1 I_syn[t] + sum_j w_j s_j[t], V >= T -> V = V_reset. Stable leaky for "
        "-1 < alpha < 0 and -1 < a1 < 0.",
)

# ---------------------------------------------------------------------------------------------------
# 3. LIF with a second-order kinetic synapse:
#    V[t+1] = -alpha V[t] + I_syn[t];  I_syn[t+1] = -a1 I_syn[t] + c1 I_s[t] + eta[t] + b;
#    I_s[t+1] = -a2 I_s[t] + sum_j w_j s_j[t];  eta[t] ~ N(0, sigma_eta^2);  V >= T -> V = V_reset.
SECOND_ORDER_EQUATIONS = """
dV/dt = (-alpha * V + I_syn - V) / dt : 1      # membrane, the map V[t+1] = -alpha V[t] + I_syn[t]
dI_syn/dt = (-a1 * I_syn + c1 * I_s + sigma_eta * randn() + b - I_syn) / dt : 1  # synaptic current
dI_s/dt = (-a2 * I_s + a_in - I_s) / dt : 1    # first synaptic stage, I_s[t+1] = -a2 I_s[t] + input[t]
da_in/dt = -a_in / dt : 1                      # synaptic input of one step, cleared after use
alpha : 1 (constant)                           # membrane leak, V[t+1] = -alpha V[t] + ...
a1 : 1 (constant)                              # current leak, I_syn[t+1] = -a1 I_syn[t] + ...
a2 : 1 (constant)                              # first-stage leak, I_s[t+1] = -a2 I_s[t] + ...
c1 : 1 (constant)                              # coupling of I_s into I_syn
b : 1 (constant)                               # bias added to I_syn every step
sigma_eta : 1 (constant)                       # standard deviation of the Gaussian noise eta[t]
T : 1 (constant)                               # spike iff V >= T
V_reset : 1 (constant)                         # V after a spike
"""

NSATSecondOrder = NeuronModel(
    name="NSATSecondOrder",
    equations=SECOND_ORDER_EQUATIONS,
    threshold="V >= T",
    reset="V = V_reset",
    method="euler",
    input_variable="a_in",
    parameters={
        "alpha": Parameter(-0.875, _ALPHA_DOC, -1.0, 1.0),
        "a1": Parameter(-0.75, "current leak under I_syn[t+1] = -a1 I_syn[t] + ...; stable leaky for "
                        "-1 < a1 < 0, in [-1, 1]", -1.0, 1.0),
        "a2": Parameter(-0.75, "first-stage leak under I_s[t+1] = -a2 I_s[t] + ...; stable leaky for "
                        "-1 < a2 < 0, in [-1, 1]", -1.0, 1.0),
        "c1": Parameter(0.25, "coupling of I_s[t] into I_syn[t+1]"),
        "b": Parameter(0.0, "bias added to I_syn every step"),
        "sigma_eta": Parameter(0.0, "standard deviation of the Gaussian noise eta[t] on I_syn, >= 0",
                               0.0, None),
        "T": Parameter(100.0, "threshold; spike iff V >= T"),
        "V_reset": Parameter(0.0, "membrane value after a spike"),
    },
    doc="NSAT LIF with second-order kinetic synapse: V[t+1] = -alpha V[t] + I_syn[t], "
        "I_syn[t+1] = -a1 I_syn[t] + c1 I_s[t] + eta[t] + b, I_s[t+1] = -a2 I_s[t] + sum_j w_j s_j[t], "
        "eta[t] ~ N(0, sigma_eta^2), V >= T -> V = V_reset. Stable leaky for -1 < alpha, a1, a2 < 0.",
)

# ---------------------------------------------------------------------------------------------------
# 4. Dual-compartment LIF:
#    V1[t+1] = -alpha V1[t] + alpha21 V2[t];  V2[t+1] = -alpha V2[t] + alpha12 V1[t] + I_syn[t];
#    I_syn[t+1] = -a1 I_syn[t] + sum_j w1_j s_j[t] + eta[t] + b;  V1 >= T -> V1 = V_reset.
DUAL_COMPARTMENT_EQUATIONS = """
dV1/dt = (-alpha * V1 + alpha21 * V2 - V1) / dt : 1  # somatic compartment (map above)
dV2/dt = (-alpha * V2 + alpha12 * V1 + I_syn - V2) / dt : 1  # dendritic compartment
dI_syn/dt = (-a1 * I_syn + a_in + sigma_eta * randn() + b - I_syn) / dt : 1  # synaptic current
da_in/dt = -a_in / dt : 1                      # synaptic input of one step, cleared after use
alpha : 1 (constant)                           # compartment leak, V[t+1] = -alpha V[t] + ...
alpha12 : 1 (constant)                         # coupling of V1 into V2
alpha21 : 1 (constant)                         # coupling of V2 into V1
a1 : 1 (constant)                              # current leak, I_syn[t+1] = -a1 I_syn[t] + ...
b : 1 (constant)                               # bias added to I_syn every step
sigma_eta : 1 (constant)                       # standard deviation of the Gaussian noise eta[t]
T : 1 (constant)                               # spike iff V1 >= T
V_reset : 1 (constant)                         # V1 after a spike
"""

NSATDualCompartment = NeuronModel(
    name="NSATDualCompartment",
    equations=DUAL_COMPARTMENT_EQUATIONS,
    threshold="V1 >= T",
    reset="V1 = V_reset",
    method="euler",
    input_variable="a_in",
    parameters={
        "alpha": Parameter(-0.875, "leak of both compartments under V[t+1] = -alpha V[t] + ...; stable "
                           "leaky for -1 < alpha < 0, in [-1, 1]", -1.0, 1.0),
        "alpha12": Parameter(0.125, "coupling of V1[t] into V2[t+1]"),
        "alpha21": Parameter(0.125, "coupling of V2[t] into V1[t+1]"),
        "a1": Parameter(-0.75, "current leak under I_syn[t+1] = -a1 I_syn[t] + ...; stable leaky for "
                        "-1 < a1 < 0, in [-1, 1]", -1.0, 1.0),
        "b": Parameter(0.0, "bias added to I_syn every step"),
        "sigma_eta": Parameter(0.0, "standard deviation of the Gaussian noise eta[t] on I_syn, >= 0",
                               0.0, None),
        "T": Parameter(100.0, "threshold; spike iff V1 >= T"),
        "V_reset": Parameter(0.0, "somatic value V1 after a spike (V2 is not reset)"),
    },
    doc="NSAT dual-compartment LIF: V1[t+1] = -alpha V1[t] + alpha21 V2[t], "
        "V2[t+1] = -alpha V2[t] + alpha12 V1[t] + I_syn[t], "
        "I_syn[t+1] = -a1 I_syn[t] + sum_j w1_j s_j[t] + eta[t] + b, spike when V1 >= T, then "
        "V1 = V_reset. Stable leaky for -1 < alpha, a1 < 0 and small couplings.",
)

# ---------------------------------------------------------------------------------------------------
# 5. Mihalas-Niebur neuron (note the + sign of alpha here, as in the paper):
#    V[t+1] = alpha V[t] + I_e - G E_L + I_1[t] + I_2[t] + sum_j w_j s_j[t];
#    Theta[t+1] = (1 - b) Theta[t] + a V[t] - a E_L + b;
#    I_1[t+1] = -alpha_1 I_1[t];  I_2[t+1] = -alpha_2 I_2[t];
#    V >= Theta -> V = V_reset, I_k = R_k I_k + (1 - R_k) I_k_reset + A_k (k = 1, 2),
#                  Theta = R_Theta Theta + (1 - R_Theta) Theta_reset + A_Theta.
# The reset generalises NSAT's per-state choice (XresetOn: set to Xreset, else add XspikeIncrVal) and
# Mihalas-Niebur's I_k <- R_k I_k + A_k: R = 0 resets to the reset value, R = 1 adds the jump A only.
MIHALAS_NIEBUR_EQUATIONS = """
dV/dt = (alpha * V + I_e - G * E_L + I_1 + I_2 + a_in - V) / dt : 1  # membrane (map above)
dTheta/dt = ((1 - b) * Theta + a * V - a * E_L + b - Theta) / dt : 1  # adaptive threshold
dI_1/dt = (-alpha_1 * I_1 - I_1) / dt : 1      # spike-induced current 1, I_1[t+1] = -alpha_1 I_1[t]
dI_2/dt = (-alpha_2 * I_2 - I_2) / dt : 1      # spike-induced current 2, I_2[t+1] = -alpha_2 I_2[t]
da_in/dt = -a_in / dt : 1                      # synaptic input of one step, cleared after use
alpha : 1 (constant)                           # membrane factor, V[t+1] = alpha V[t] + ...
alpha_1 : 1 (constant)                         # decay of I_1, I_1[t+1] = -alpha_1 I_1[t]
alpha_2 : 1 (constant)                         # decay of I_2, I_2[t+1] = -alpha_2 I_2[t]
G : 1 (constant)                               # leak conductance, enters as the constant -G E_L
E_L : 1 (constant)                             # leak reversal potential
I_e : 1 (constant)                             # external current per step
a : 1 (constant)                               # threshold adaptation to V - E_L
b : 1 (constant)                               # threshold relaxation rate, also added each step
V_reset : 1 (constant)                         # V after a spike
Theta_reset : 1 (constant)                     # Theta reset value (weight 1 - R_Theta)
I_1_reset : 1 (constant)                       # I_1 reset value (weight 1 - R_1)
I_2_reset : 1 (constant)                       # I_2 reset value (weight 1 - R_2)
R_Theta : 1 (constant)                         # fraction of Theta kept at a spike
R_1 : 1 (constant)                             # fraction of I_1 kept at a spike
R_2 : 1 (constant)                             # fraction of I_2 kept at a spike
A_Theta : 1 (constant)                         # jump of Theta at a spike
A_1 : 1 (constant)                             # jump of I_1 at a spike
A_2 : 1 (constant)                             # jump of I_2 at a spike
"""

MIHALAS_NIEBUR_RESET = """
V = V_reset
I_1 = R_1 * I_1 + (1 - R_1) * I_1_reset + A_1
I_2 = R_2 * I_2 + (1 - R_2) * I_2_reset + A_2
Theta = R_Theta * Theta + (1 - R_Theta) * Theta_reset + A_Theta
"""

NSATMihalasNiebur = NeuronModel(
    name="NSATMihalasNiebur",
    equations=MIHALAS_NIEBUR_EQUATIONS,
    threshold="V >= Theta",
    reset=MIHALAS_NIEBUR_RESET,
    method="euler",
    input_variable="a_in",
    parameters={
        "alpha": Parameter(0.875, "membrane factor under V[t+1] = +alpha V[t] + ...; stable leaky for "
                           "0 < alpha < 1 (1: no leak), in [-1, 1]", -1.0, 1.0),
        "alpha_1": Parameter(-0.75, "decay of I_1 under I_1[t+1] = -alpha_1 I_1[t]; stable leaky for "
                             "-1 < alpha_1 < 0, in [-1, 1]", -1.0, 1.0),
        "alpha_2": Parameter(-0.5, "decay of I_2 under I_2[t+1] = -alpha_2 I_2[t]; stable leaky for "
                             "-1 < alpha_2 < 0, in [-1, 1]", -1.0, 1.0),
        "G": Parameter(0.125, "leak conductance; the constant -G E_L is added to V every step"),
        "E_L": Parameter(0.0, "leak reversal potential"),
        "I_e": Parameter(0.0, "external current added to V every step"),
        "a": Parameter(0.0, "adaptation of Theta to V - E_L per step"),
        "b": Parameter(0.125, "threshold relaxation, Theta[t+1] = (1 - b) Theta[t] + ... + b; stable "
                       "for 0 < b < 2, in [0, 2]", 0.0, 2.0),
        "V_reset": Parameter(0.0, "membrane value after a spike"),
        "Theta_reset": Parameter(1.0, "threshold after a spike (when R_Theta = 0); with a = 0 Theta relaxes "
                                 "to 1, the spec's + b term"),
        "I_1_reset": Parameter(0.0, "I_1 after a spike (when R_1 = 0)"),
        "I_2_reset": Parameter(0.0, "I_2 after a spike (when R_2 = 0)"),
        "R_Theta": Parameter(0.0, "fraction of Theta kept at a spike: 0 resets, 1 only adds A_Theta; "
                             "in [0, 1]", 0.0, 1.0),
        "R_1": Parameter(0.0, "fraction of I_1 kept at a spike: 0 resets, 1 only adds A_1; in [0, 1]",
                         0.0, 1.0),
        "R_2": Parameter(0.0, "fraction of I_2 kept at a spike: 0 resets, 1 only adds A_2; in [0, 1]",
                         0.0, 1.0),
        "A_Theta": Parameter(0.0, "jump added to Theta at a spike (NSAT XspikeIncrVal)"),
        "A_1": Parameter(0.0, "jump added to I_1 at a spike (NSAT XspikeIncrVal, Mihalas-Niebur A_1)"),
        "A_2": Parameter(0.0, "jump added to I_2 at a spike (NSAT XspikeIncrVal, Mihalas-Niebur A_2)"),
    },
    doc="NSAT Mihalas-Niebur neuron: V[t+1] = alpha V[t] + I_e - G E_L + I_1[t] + I_2[t] + "
        "sum_j w_j s_j[t], Theta[t+1] = (1 - b) Theta[t] + a V[t] - a E_L + b, "
        "I_k[t+1] = -alpha_k I_k[t]; V >= Theta -> V = V_reset, X = R_X X + (1 - R_X) X_reset + A_X "
        "for X in I_1, I_2, Theta. Here alpha has a + sign: stable leaky for 0 < alpha < 1; the "
        "currents decay for -1 < alpha_k < 0. Initialise Theta (e.g. to Theta_reset) before running.",
)

# ---------------------------------------------------------------------------------------------------
# Blank-out synapse: each synaptic event is transmitted with probability p_keep (xi_j ~ Bernoulli).
BlankOutSynapse = SynapseModel(
    name="BlankOutSynapse",
    equations="""
w : 1 (constant)                      # weight in the post unit's input units
p_keep : 1 (constant)                 # probability that a spike is transmitted, 0..1
""",
    on_pre="{target}_post += w * (rand() < p_keep)",
    parameters={
        "p_keep": Parameter(1.0, "probability that a presynaptic spike is transmitted, in [0, 1]",
                            0.0, 1.0),
    },
    post_requires=("{target}",),
    doc="Static weight with blank-out noise: a spike adds w with probability p_keep, else nothing "
        "(NSAT's synaptic sampling, the xi_j of the stochastic I&F). Brian2 warns that this on_pre 'may "
        "not be well-defined' because rand() is stateful; each synapse draws its own number, so only the "
        "draws, not the sum's distribution, depend on the order.",
)

NSAT_NEURONS = (NSATStochasticLIF, NSATFirstOrder, NSATSecondOrder, NSATDualCompartment,
                NSATMihalasNiebur)

__all__ = ["NSATStochasticLIF", "NSATFirstOrder", "NSATSecondOrder", "NSATDualCompartment",
           "NSATMihalasNiebur", "BlankOutSynapse", "NSAT_NEURONS"]
