"""eRBP (Neftci et al. 2017; docs/methods/erbp.md) as discrete maps: the hidden and output units, the error units and
the event-driven random-backprop weights, on the authors' time step dt = 0.1 ms.

Values are plain numbers in the units of the authors' Auryn code (``HBPNeurorobotics/auryn``: ``SIFGroup``,
``LinGroup``, ``peRBPConnection``): potentials in volts, and currents as the potential they hold across the
membrane resistance R = 1 GOhm (tau_mem = R C = 1 ms with C = 1 pF), so 1 nA is 1.0, the 90 pA error weights
are 0.09, the boxcar edges +-1.15 nA are +-1.15 and the threshold of 100 mV is 0.1.

A unit (``ERBPUnit``) does per step (``step_code``, before thresholds; the first step of every sample, when
``count`` is a multiple of ``T``, starts from rest and drops what arrived from the previous sample)::

    I = I decay_syn + a_in                 synaptic current: a_in is the weights of the step before's spikes
    U = U decay_dend + e_in                dendrite: the error input of the step before
    V = V + k_mem (I - V) + n_in           membrane, forward Euler (k_mem = dt / tau_mem); n_in: noise jumps
                                           (noise_carry = 1, Auryn's order: V' = V + n_in enters the Euler
                                           step, V = V' + k_mem (I - V'), so a jump reaches the next threshold
                                           check scaled by 1 - k_mem; noise_carry = 0 adds it after the step)
    V = 0 while refractory                 (``ref`` counts the blocked steps down)
    learning = [phase > learn_after]       phase: the step's index in its sample

and fires when V > theta, then V = 0 and ``ref_steps`` steps are blocked (Auryn: int(3.9 ms / dt) = 38).
decay_syn = exp(-dt / tau_syn) (Auryn's ``scale_ampa``) and decay_dend = 1 - dt / tau_dend (its Euler step).

An error unit (``ERBPError``, Auryn's ``LinGroup``) integrates its input without leak, fires when E > theta,
subtracts theta, and is clipped at 0 from below.

The weights (``ERBPWeights``): on each presynaptic spike, with the post unit in its learning phase and its
current inside the boxcar (b_min < I < b_max), w += eta U_post; the spike then delivers the updated w (as
``peRBPConnection::propagate_forward`` does: update, then transmit). ``ERBPBlankOutWeights`` (the blank-out
variant) transmits and learns only where the spike's draw for that synapse passes (probability p): each
synapse runs a Lehmer generator (x <- 16807 x mod 2^31 - 1, exact in float64, so Brian2 and numpy draw the
same numbers), restarted in every sample from its fixed key and the sample's seed, which a seed source
delivers to the post units (``seed``) in the sample's first step; the seeds come from outside, per sample.

Where this differs from Auryn, and why: the boxcar reads the current as the step's update left it, not as the
same step's earlier deliveries changed it (this makes one spike's update independent of the order in which
Brian2 and the reference deliver the others, so the two agree to the bit); Auryn's membrane sees the current
decayed once more (exp(-dt / tau_syn) = 0.975); and every sample starts from rest (Auryn runs on), which
keeps samples, and so chunks of samples, independent.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from spikingbp.errors import ConfigError
from spikingbp.models.base import NeuronModel, Parameter, SynapseModel

DT_MS = 0.1               # the time step, ms (Auryn's auryn_timestep = 1e-4 s)
THETA = 0.1               # threshold of hidden, output and error units: 100 mV
TAU_MEM_MS = 1.0          # membrane: R C = 1 GOhm x 1 pF
TAU_SYN_MS = 4.0          # synaptic current (Auryn's tau_ampa)
TAU_DEND_MS = 5.0         # dendritic (error) compartment
REFRACTORY_MS = 3.9       # hidden and output units (data units: 4 ms)
ERROR_WEIGHT = 0.09       # 90 pA: label -> error, output -> error, error -> output dendrite
B_MIN, B_MAX = -1.15, 1.15  # the boxcar on the post unit's current, 1.15 nA
LEARN_AFTER_MS = 50.0     # no learning in the first 50 ms of each sample


ETA = 6e-4                # learning rate (the paper's, with noise)
SIGMA = 0.05              # one noise event's jump of V: 50 pA x R
DATA_REFRACTORY_MS = 4.0  # data and label units


def steps(milliseconds: float, dt_ms: float = DT_MS) -> int:
    """Whole steps in ``milliseconds`` as Auryn counts them: int(t / dt), truncated (3.9 ms -> 38)."""
    return int(milliseconds / dt_ms)


def unit_constants(dt_ms: float = DT_MS, tau_syn_ms: float = TAU_SYN_MS, tau_dend_ms: float = TAU_DEND_MS,
                   tau_mem_ms: float = TAU_MEM_MS) -> dict:
    """decay_syn, decay_dend and k_mem of a time step (Auryn's scale constants)."""
    return dict(decay_syn=float(np.exp(-dt_ms / tau_syn_ms)), decay_dend=float(1.0 - dt_ms / tau_dend_ms),
                k_mem=float(dt_ms / tau_mem_ms))


@dataclass(frozen=True)
class ERBPSettings:
    """Everything an eRBP network is run with besides its sizes, weights and streams: the circuit
    (``spikingbp.circuits.erbp``), the reference (``spikingbp.reference.erbp``) and the adapter use this one
    object. Defaults: the constants above (dt = 0.1 ms)."""

    T: int = 2500                          # steps per sample (250 ms)
    theta: float = THETA
    k_mem: float = unit_constants()["k_mem"]
    decay_syn: float = unit_constants()["decay_syn"]
    decay_dend: float = unit_constants()["decay_dend"]
    ref_steps: int = steps(REFRACTORY_MS)  # 38
    learn_after: int = steps(LEARN_AFTER_MS)  # learning at phases > 500
    eta: float = ETA
    b_min: float = B_MIN
    b_max: float = B_MAX
    sigma: float = SIGMA
    error_weight: float = ERROR_WEIGHT
    p: float = 1.0        # transmission probability of the learned weights (1: no blank-out)
    noise_carry: int = 1  # 1: a noise jump enters the next Euler step (Auryn's order); 0: added after it

    def __post_init__(self):
        if isinstance(self.T, bool) or not isinstance(self.T, (int, np.integer)) or self.T < 2:
            raise ConfigError(f"T={self.T!r} must be a whole number of steps per sample, at least 2")
        if not (np.isfinite(self.b_min) and np.isfinite(self.b_max)) or self.b_min >= self.b_max:
            raise ConfigError(f"b_min={self.b_min!r} must lie below b_max={self.b_max!r} (the boxcar is "
                              f"b_min < I < b_max)")
        if not np.isfinite(self.eta) or self.eta < 0:
            raise ConfigError(f"eta={self.eta!r} must be a non-negative learning rate")
        if not 0.0 <= self.p <= 1.0:
            raise ConfigError(f"p={self.p!r} must be a transmission probability in [0, 1]")
        for name in ("theta", "error_weight"):
            if not np.isfinite(getattr(self, name)) or getattr(self, name) <= 0:
                raise ConfigError(f"{name}={getattr(self, name)!r} must be positive")

    def replace(self, **changes) -> "ERBPSettings":
        return dataclasses.replace(self, **changes)


_START = """rest = int(count - T * floor(count / T) > 0.5)
"""

ERBP_UNIT_EQUATIONS = """
I : 1          # synaptic current (V across R)
U : 1          # dendritic compartment: the filtered error
V : 1          # membrane potential (V)
ref : 1        # refractory steps left
learning : 1   # 1 while the step lies in its sample's learning phase
a_in : 1       # weights of the step before's presynaptic spikes
e_in : 1       # error input of the step before
n_in : 1       # noise jumps of the step before
seed : 1       # the sample's blank-out seed (blank-out weights read it)
seed_in : 1    # a new seed, delivered by the seed source in the sample's first step
count : 1      # steps since the start of the run (the sample clock)
"""

ERBP_UNIT_STEP = _START + """seed = seed + (seed_in - seed) * int(seed_in > 0.5)
seed_in = 0
I = rest * (I * decay_syn + a_in)
U = rest * (U * decay_dend + e_in)
Vn = V + n_in * noise_carry
V1 = rest * (Vn + k_mem * (I - Vn))
V2 = V1 + n_in * rest * (1 - noise_carry)
blocked = int(ref > 0.5)
V = V2 * (1 - blocked)
ref = rest * (ref - blocked)
learning = int(count - T * floor(count / T) > learn_after)
a_in = 0
e_in = 0
n_in = 0
count += 1
"""

ERBP_ERROR_EQUATIONS = """
E : 1          # integrated error (V)
e_in : 1       # label and output spikes of the step before, +-0.09 each
count : 1      # steps since the start of the run (the sample clock)
"""

ERBP_ERROR_STEP = _START + """E1 = rest * (E + e_in)
E = E1 * int(E1 > 0)
e_in = 0
count += 1
"""

_CLOCK = {"T": Parameter(2500, "steps per sample (250 ms training, 500 ms test at dt 0.1 ms), >= 1", 1, None)}

ERBPUnit = NeuronModel(
    name="ERBPUnit",
    equations=ERBP_UNIT_EQUATIONS,
    threshold="V > theta",
    reset="V = 0\nref = ref_steps",
    method="euler",
    input_variable="a_in",
    step_code=ERBP_UNIT_STEP,
    parameters={
        **_CLOCK,
        "theta": Parameter(THETA, "spike threshold (V): 100 mV", 0.0, None),
        "k_mem": Parameter(unit_constants()["k_mem"], "membrane Euler step dt / tau_mem, in (0, 1]", 0.0, 1.0),
        "decay_syn": Parameter(unit_constants()["decay_syn"], "current decay exp(-dt / tau_syn), in [0, 1]", 0.0,
                               1.0),
        "decay_dend": Parameter(unit_constants()["decay_dend"], "dendrite decay 1 - dt / tau_dend, in [0, 1]", 0.0,
                                1.0),
        "ref_steps": Parameter(steps(REFRACTORY_MS), "blocked steps after a spike (3.9 ms: 38)", 0, None),
        "noise_carry": Parameter(1, "1: a noise jump enters the next Euler step (Auryn: the stimulator writes mem "
                                 "after the threshold check); 0: it is added after the step, unscaled", 0, 1),
        "learn_after": Parameter(steps(LEARN_AFTER_MS), "the learning phase starts after this step of a sample "
                                 "(50 ms: 500; Auryn: clock % 2500 > 500)", 0, None),
    },
    doc="eRBP hidden/output unit (Auryn's SIFGroup as a discrete map): current I, dendrite U for the error, "
        "membrane V, refractoriness, the sample clock and its learning phase; inputs a_in, e_in, n_in.",
)

ERBPError = NeuronModel(
    name="ERBPError",
    equations=ERBP_ERROR_EQUATIONS,
    threshold="E > theta",
    reset="E = E - theta",
    method="euler",
    input_variable="e_in",
    step_code=ERBP_ERROR_STEP,
    parameters={**_CLOCK, "theta": Parameter(THETA, "spike threshold (V): 100 mV", 0.0, None)},
    doc="eRBP error unit (Auryn's LinGroup): a non-leaky integrator of +-90 pA label and output spikes that "
        "subtracts its threshold when it fires and is clipped at 0.",
)

_WEIGHT_EQUATIONS = """
w : 1          # the weight (V across R)
"""

_PARAMETERS = {
    "eta": Parameter(6e-4, "learning rate, >= 0 (6e-4 with noise, 1e-3 with blank-out)", 0.0, None),
    "b_min": Parameter(B_MIN, "boxcar lower edge on the post unit's current (nA)"),
    "b_max": Parameter(B_MAX, "boxcar upper edge on the post unit's current (nA)"),
}


ERBPWeights = SynapseModel(
    name="ERBPWeights",
    equations=_WEIGHT_EQUATIONS,
    on_pre="w += eta * U_post * learning_post * int(I_post > b_min) * int(I_post < b_max)\na_in_post += w",
    parameters=dict(_PARAMETERS),
    post_requires=("a_in", "U", "I", "learning"),
    doc="eRBP event-driven random-BP weight: on a presynaptic spike, w += eta U_post while the post unit "
        "learns and b_min < I_post < b_max; the spike then delivers the updated w.",
)

from spikingbp.lehmer import MODULUS as LEHMER_M  # noqa: E402  (the generator: spikingbp.lehmer)
from spikingbp.lehmer import MULTIPLIER, SPLIT  # noqa: E402

ERBPBlankOutWeights = SynapseModel(
    name="ERBPBlankOutWeights",
    equations=_WEIGHT_EQUATIONS + """key : 1 (constant)   # this synapse's generator key, in [1, 2^31 - 2]
x : 1                # its generator state
seen : 1             # the sample seed the state was started from
""",
    on_pre="\n".join([
        "fresh = int(abs(seen - seed_post) > 0.5)",
        f"start = (((key * floor(seed_post / {SPLIT})) % lehmer_m) * {SPLIT} + key * (seed_post % {SPLIT})) % lehmer_m",
        "x = fresh * start + (1 - fresh) * x",
        "seen = seed_post",
        f"x = ({MULTIPLIER} * x) % lehmer_m",
        "passes = int(x < pass_below)",
        "w += eta * U_post * learning_post * int(I_post > b_min) * int(I_post < b_max) * passes",
        "a_in_post += w * passes",
    ]),
    parameters={**_PARAMETERS,
                "key": Parameter(1, "the synapse's generator key, an integer in [1, 2^31 - 2]", 1, LEHMER_M - 1),
                "pass_below": Parameter(LEHMER_M, "a spike passes the synapse iff its draw x < pass_below "
                                        "(p (2^31 - 1) for transmission probability p)", 0, LEHMER_M),
                "lehmer_m": Parameter(LEHMER_M, "the generator's modulus 2^31 - 1", LEHMER_M, LEHMER_M)},
    post_requires=("a_in", "U", "I", "learning", "seed"),
    doc="ERBPWeights with blank-out: each presynaptic spike draws x <- 16807 x mod (2^31 - 1) per synapse (the "
        "state started at the sample's first spike from key x seed mod (2^31 - 1)); the spike is transmitted, "
        "and the weight learns, only if x < p (2^31 - 1): one draw serves both, as in peRBPConnection.",
)

__all__ = ["ERBPSettings", "ERBPUnit", "ERBPError", "ERBPWeights", "ERBPBlankOutWeights", "unit_constants", "steps",
           "DT_MS", "ETA", "SIGMA", "DATA_REFRACTORY_MS",
           "THETA", "ERROR_WEIGHT", "B_MIN", "B_MAX", "REFRACTORY_MS", "LEARN_AFTER_MS", "LEHMER_M"]
