"""SSNN-BP (Biswas, Saraswat, Ganguly 2023; docs/methods/ssnnbp.md) as discrete maps: composite neurons and the
synapses between them.

A composite neuron is one Brian2 unit with three compartments: the forward integrate-and-fire unit x and
the two gradient units d+ and d-. Each compartment integrates its input spikes through the spike-response
kernel eps(n) = 1 - exp(-n / tau) (tau = Ts / 10 steps) as two variables: the drive ``A`` (the running sum
of its weighted input, to which eps converges) and the potential ``v``, which relaxes towards the drive by
the factor ``k = 1 - exp(-1 / tau)`` per step, so that an input spike has moved ``v`` by w eps(n + 1) n
steps after it arrived. A compartment fires when ``v`` exceeds its threshold and then subtracts the
threshold from ``v`` and ``A`` (integrate and fire: n spikes for n thresholds of drive). The unit emits one
Brian2 spike event when any compartment fired; the flags ``fx``, ``fp``, ``fm`` say which, and synapses
read them (so these models need a backend that lets synaptic code read presynaptic variables: runtime,
cpp_standalone and cuda, not brian2genn).

Each step (``step_code``, run before thresholds): the first step of every sample (``count`` a multiple of
``Ts``) starts from rest and drops what arrived from the previous sample; then

    forward:   A += a_in;  v += (A - v) k;  fx = [v > theta] (0 while dropped out);  subtract theta on fx
    gradient:  hidden: d+ integrates b_in, d- integrates -b_in; output: d+ integrates (label - x), d- the
               negative, where x is the unit's own forward spike of the step before; each potential
               relaxes towards its drive by ``k_g`` per step (k, the kernel; 1 with ``gradient_kernel`` off:
               no lag) and subtracts its threshold on crossing, but a hidden unit's gradient spikes are
               emitted only once its forward unit has fired in the sample (``on``; the product form
               [sum_t s_x > 0] f(...) of the spec: crossings before that reset silently, or with
               ``hold_gradient`` keep their drive until the gate opens)
    counts:    nx, n_p, n_m (spikes of the sample, for the rate form)

Synapses (``a_in`` forward, ``b_in`` gradient; one weight ``w`` per pair, used in both directions): a
presynaptic forward spike delivers ``w`` forward; a post gradient spike sends ``w (fp - fm)`` back to the
presynaptic unit's ``b_in``; and the weight change ``dW = eta sum_t s_d(t) s_x(t)``, s_d = (d+ - d-) / 2,
is accumulated per synapse as +-eta/2 per coincidence of a forward spike and a gradient spike in the same
step (stochastic form), or as eta/2 (forward spikes)(d+ - d- spikes) of the sample (rate form); either
is applied at the start of the next sample (``sample_update``), so one sample's forward pass sees one set
of weights. A run of K samples therefore lasts K Ts + 1 steps (the last step applies the last change).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from spikingbp.errors import ConfigError
from spikingbp.models.base import NeuronModel, Parameter, SynapseModel

#: The thresholds and the inhibition the paper leaves open: chosen here, see the README for why.
THETA = 5.0        # forward threshold (the paper's)
THETA_HIDDEN = 0.5  # hidden gradient units: W^T e of a few error spikes, |w| ~ 0.05-0.2, crosses it a few times
THETA_OUTPUT = 1.0  # output error units: one spike per unit of filtered (label - output) count
W_INH = 2.5        # lateral inhibition of the output WTA: half a forward threshold per spike of a rival
ETA = 0.01         # learning rate (chosen on digits; Fashion-MNIST: see the README)
#: The weights are stored in single precision (the code computes in double and rounds what it stores): the
#: paper's substrate has fewer bits still, and it halves a 784-1280 network's memory and checkpoint (8 -> 4 MB).
WEIGHT_DTYPE = np.float32


def stored(W) -> np.ndarray:
    """``W`` as SSNN-BP's weights are stored (``WEIGHT_DTYPE``, rounded to nearest): what the circuit keeps, the
    reference computes with and a run's params hold."""
    return np.asarray(W).astype(WEIGHT_DTYPE)


FORMS = ("stochastic", "rate")


@dataclass(frozen=True)
class SSNNSettings:
    """Everything an SSNN-BP network is run with besides its sizes, weights and trains: steps per sample,
    thresholds, inhibition, learning rate and update form. The circuit (``spikingbp.circuits.ssnnbp``), the
    reference (``spikingbp.reference.ssnnbp``) and the adapter use this one object."""

    Ts: int = 100
    theta: float = THETA
    theta_hidden: float = THETA_HIDDEN
    theta_output: float = THETA_OUTPUT
    w_inh: float = W_INH
    eta: float = ETA
    form: str = "stochastic"
    saturation_steps: int = 0   # hidden gradient units silent after this many forward spikes in a row (0: off)
    hold_gradient: bool = False  # a closed gate holds a hidden gradient unit's drive instead of resetting it
    mirror_reset: bool = False  # d+ and d- as one signed potential: a spike of either resets both
    gradient_kernel: bool = True  # the gradient compartments see their drive through the kernel (False: at once)

    def __post_init__(self):
        if isinstance(self.Ts, bool) or not isinstance(self.Ts, (int, np.integer)) or self.Ts < 1:
            raise ConfigError(f"Ts={self.Ts!r} must be a whole number of steps per sample, at least 1")
        for name in ("theta", "theta_hidden", "theta_output"):
            if not np.isfinite(getattr(self, name)) or getattr(self, name) <= 0:
                raise ConfigError(f"{name}={getattr(self, name)!r} must be a positive threshold")
        if not np.isfinite(self.w_inh) or self.w_inh < 0:
            raise ConfigError(f"w_inh={self.w_inh!r} must be a non-negative inhibition")
        if not np.isfinite(self.eta) or self.eta < 0:
            raise ConfigError(f"eta={self.eta!r} must be a non-negative learning rate")
        if self.form not in FORMS:
            raise ConfigError(f"form={self.form!r}: choose one of {', '.join(FORMS)}")

    def replace(self, **changes) -> "SSNNSettings":
        return dataclasses.replace(self, **changes)


def kernel_factor(Ts: int) -> float:
    """k = 1 - exp(-1 / tau) with tau = Ts / 10: the potential's step towards its drive."""
    return float(1.0 - np.exp(-10.0 / Ts))


_COMPARTMENTS = """
A : 1        # forward drive: weighted input spikes of the sample so far, less theta per forward spike
v : 1        # forward potential: the drive seen through the kernel 1 - exp(-n / tau)
Ap : 1       # d+ drive
vp : 1       # d+ potential
Am : 1       # d- drive
vm : 1       # d- potential
fx : 1       # the forward unit fired in this step
fp : 1       # d+ fired in this step
fm : 1       # d- fired in this step
nx : 1       # forward spikes in this sample
n_p : 1      # d+ spikes in this sample
n_m : 1      # d- spikes in this sample
a_in : 1     # forward input of one step
count : 1    # steps since the start of the run (the sample clock)
"""

SSNN_HIDDEN_EQUATIONS = _COMPARTMENTS + """
b_in : 1     # gradient input of one step (d+ gets b_in, d- gets -b_in)
on : 1       # 1 once the forward unit has fired in this sample: the gradient units may emit
streak : 1   # forward spikes in a row up to this step (the saturation gate reads it)
dropped : 1  # 1: dropped out in this sample (set by the dropout source in the sample's first step)
"""

SSNN_OUTPUT_EQUATIONS = _COMPARTMENTS + """
i_in : 1     # lateral (winner-take-all) input of one step
l_in : 1     # label spikes of one step
"""

_START = """rest = int(count - Ts * floor(count / Ts) > 0.5)
"""

_FORWARD = """A1 = rest * (A + a_in{extra})
v1 = rest * v + (A1 - rest * v) * k
fx = int(v1 > theta){keep}
A = A1 - theta * fx
v = v1 - theta * fx
"""

_GRADIENT = """Ap1 = rest * (Ap + {drive})
vp1 = rest * vp + (Ap1 - rest * vp) * k_g
cross_p = int(vp1 > theta_g)
Am1 = rest * (Am - {drive})
vm1 = rest * vm + (Am1 - rest * vm) * k_g
cross_m = int(vm1 > theta_g)
fp = cross_p{gate}
fm = cross_m{gate}
spent_p = {spent_p}
spent_m = {spent_m}
Ap = Ap1 - theta_g * (spent_p - mirror_reset * spent_m)
vp = vp1 - theta_g * (spent_p - mirror_reset * spent_m)
Am = Am1 - theta_g * (spent_m - mirror_reset * spent_p)
vm = vm1 - theta_g * (spent_m - mirror_reset * spent_p)
"""

_COUNTS = """nx = rest * nx + fx
n_p = rest * n_p + fp
n_m = rest * n_m + fm
a_in = 0
count += 1
"""

# The gradient units emit once the forward unit has fired in the sample (on0) and, with saturation_steps = S > 0,
# not while it has fired in each of the S steps before (at one spike per step its output can no longer grow).
# A crossing while the gate is closed resets silently (the spec's product form), or with hold_gradient = 1 keeps
# its drive, emitted one spike a step once the gate opens. With mirror_reset = 1 (both layers) a spike of either
# stream takes its threshold off both, so that d+ and d- are one signed integrator: their net count follows the net
# drive, where two independent units also count its excursions (an early surplus of label spikes fires d+, and
# the output overtaking later does not take those spikes back).
SSNN_HIDDEN_STEP = (_START + "dropped = rest * dropped\non0 = rest * on\nstreak0 = rest * streak\n"
                    + "open = 1 - int(saturation_steps > 0.5) * int(streak0 > saturation_steps - 0.5)\n"
                    + _FORWARD.format(extra="", keep=" * (1 - dropped)")
                    + _GRADIENT.format(drive="b_in", gate=" * on0 * open",
                                       spent_p="(cross_p - hold_gradient * (cross_p - fp))",
                                       spent_m="(cross_m - hold_gradient * (cross_m - fm))")
                    + "on = on0 + fx - on0 * fx\nstreak = (streak0 + 1) * fx\nb_in = 0\n" + _COUNTS)

# The error enters as (label spikes delivered now) - (own forward spike of the step before), read before fx
# is overwritten.
SSNN_OUTPUT_STEP = (_START + "error = rest * (l_in - fx)\n"
                    + _FORWARD.format(extra=" + i_in", keep="")
                    + _GRADIENT.format(drive="error", gate="", spent_p="cross_p", spent_m="cross_m")
                    + "i_in = 0\nl_in = 0\n" + _COUNTS)

_PARAMETERS = {
    "Ts": Parameter(100, "steps per sample, >= 1", 1, None),
    "k": Parameter(kernel_factor(100), "kernel step 1 - exp(-10 / Ts) (spikingbp.models.ssnn.kernel_factor)",
                   0.0, 1.0),
    "theta": Parameter(THETA, "forward threshold", 0.0, None),
}

_GRADIENT_KERNEL = Parameter(kernel_factor(100), "the gradient compartments' kernel step: k (the spec: their "
                             "drive seen through the kernel, as the forward unit's) or 1 (no kernel: the potential "
                             "is the drive)", 0.0, 1.0)

_MIRROR_RESET = Parameter(0, "1: a spike of d+ or d- takes its threshold off both (one signed integrator); "
                                 "0: each resets alone", 0, 1)

SSNNHidden = NeuronModel(
    name="SSNNHidden",
    equations=SSNN_HIDDEN_EQUATIONS,
    threshold="fx + fp + fm > 0.5",
    reset="",
    method="euler",
    input_variable="a_in",
    step_code=SSNN_HIDDEN_STEP,
    parameters={**_PARAMETERS,
                "theta_g": Parameter(THETA_HIDDEN, "gradient threshold theta_b (not given by the paper)", 0.0, None),
                "saturation_steps": Parameter(0, "no gradient spikes while the forward unit fired in each of this many "
                                              "steps before (0: never gated)", 0, None),
                "hold_gradient": Parameter(0, "1: a closed gate holds the gradient units' drive (no reset) until "
                                           "it opens; 0: crossings while closed reset silently", 0, 1),
                "mirror_reset": _MIRROR_RESET, "k_g": _GRADIENT_KERNEL},
    doc="SSNN-BP hidden composite neuron: forward IF unit with kernel 1 - exp(-n/tau), gradient units d+ and d- "
        "(input b_in and -b_in) switched on by the forward unit's first spike of the sample, dropout flag.",
)

SSNNOutput = NeuronModel(
    name="SSNNOutput",
    equations=SSNN_OUTPUT_EQUATIONS,
    threshold="fx + fp + fm > 0.5",
    reset="",
    method="euler",
    input_variable="a_in",
    step_code=SSNN_OUTPUT_STEP,
    parameters={**_PARAMETERS,
                "theta_g": Parameter(THETA_OUTPUT, "error threshold theta_N (not given by the paper)", 0.0, None),
                "mirror_reset": _MIRROR_RESET, "k_g": _GRADIENT_KERNEL},
    doc="SSNN-BP output composite neuron: forward IF unit with lateral inhibition (i_in), error units d+ = "
        "f(label - x) and d- = f(x - label) from the label spikes (l_in) and its own forward spikes.",
)

_WEIGHT_EQUATIONS = """
w : 1        # the weight, used forward and backward
dw : 1       # this sample's change so far (stochastic form)
cx : 1       # forward spikes of the presynaptic unit in this sample (rate form)
"""

_PARAMETERS_RULE = {"eta2": Parameter(5e-3, "half the learning rate, eta / 2, >= 0", 0.0, None)}

_APPLY = {"stochastic": "w += dw\ndw = 0", "rate": "w += eta2 * cx * (n_p_post - n_m_post)\ncx = 0"}


def _rule(name: str, form: str, forward_flag: str, backward: bool) -> SynapseModel:
    # each form keeps only its own accumulator: a spike's event is the circuit's most frequent operation
    accumulate = {"stochastic": f"dw += eta2{forward_flag} * (fp_post - fm_post)",
                  "rate": f"cx += {forward_flag.lstrip(' *') or '1'}"}[form]
    on_pre = f"a_in_post += w{forward_flag}\n{accumulate}"
    return SynapseModel(
        name=name,
        equations=_WEIGHT_EQUATIONS,
        on_pre=on_pre,
        on_post="b_in_pre += w * (fp_post - fm_post)" if backward else None,
        parameters=dict(_PARAMETERS_RULE),
        post_requires=("a_in", "fp", "fm", "n_p", "n_m"),
        pre_requires=("fx", "b_in") if backward else (),
        sample_update=_APPLY[form],
        dtypes=(("w", np.dtype(WEIGHT_DTYPE).name),),
        doc=f"SSNN-BP weight between composite neurons, {form} form: a presynaptic forward spike delivers w; "
            + ("a post gradient spike sends w (fp - fm) back; " if backward else "")
            + "the change (+-eta/2 per same-step coincidence of forward and gradient spikes, or eta/2 times the "
              "sample's counts) is applied at the next sample start.",
    )


#: Weights from composite neurons (hidden to hidden or output), by update form.
SSNNStochasticWeights = _rule("SSNNStochasticWeights", "stochastic", " * fx_pre", backward=True)
SSNNRateWeights = _rule("SSNNRateWeights", "rate", " * fx_pre", backward=True)
#: Weights from the input spike source (every spike is a forward spike; the input layer has no gradient).
SSNNStochasticInputWeights = _rule("SSNNStochasticInputWeights", "stochastic", "", backward=False)
SSNNRateInputWeights = _rule("SSNNRateInputWeights", "rate", "", backward=False)

#: form -> (input weights, weights between composites).
SSNN_RULES = {"stochastic": (SSNNStochasticInputWeights, SSNNStochasticWeights),
              "rate": (SSNNRateInputWeights, SSNNRateWeights)}


def _forward_rule(name: str, forward_flag: str) -> SynapseModel:
    return SynapseModel(
        name=name,
        equations="w : 1  # the weight, used forward only",
        on_pre=f"a_in_post += w{forward_flag}",
        parameters={},
        post_requires=("a_in",),
        pre_requires=("fx",) if forward_flag else (),
        dtypes=(("w", np.dtype(WEIGHT_DTYPE).name),),
        doc="SSNN-BP weight of a network that does not learn (eta = 0): a presynaptic forward spike delivers w; "
            "the gradient path, which would change weights and no forward spike, is left out.",
    )


#: The weights of the inference circuit (eta = 0), input and between composites: the learning rules' forward
#: half. At eta = 0 the rules change no weight, and the gradient compartments change nothing but weights, so the
#: forward spikes are those of either rule; an inference skips the gradient spikes' backward events and the
#: per-event accumulator.
SSNN_FORWARD = (_forward_rule("SSNNForwardInputWeights", ""), _forward_rule("SSNNForwardWeights", " * fx_pre"))
SSNNForwardInputWeights, SSNNForwardWeights = SSNN_FORWARD

SSNNLateral = SynapseModel(
    name="SSNNLateral",
    equations="w : 1  # the (negative) inhibition of a rival's forward spike",
    on_pre="i_in_post += w * fx_pre",
    parameters={},
    post_requires=("i_in",),
    pre_requires=("fx",),
    doc="SSNN-BP winner-take-all: a forward spike of an output unit adds w (< 0) to every other output unit.",
)

__all__ = ["SSNNSettings", "FORMS", "ETA", "WEIGHT_DTYPE", "stored", "SSNNHidden", "SSNNOutput", "SSNNStochasticWeights", "SSNNRateWeights", "SSNNStochasticInputWeights",
           "SSNNRateInputWeights", "SSNN_RULES", "SSNNForwardInputWeights", "SSNNForwardWeights", "SSNN_FORWARD", "SSNNLateral", "kernel_factor", "THETA", "THETA_HIDDEN",
           "THETA_OUTPUT", "W_INH"]
