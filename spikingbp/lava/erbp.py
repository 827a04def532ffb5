"""eRBP's units in lava: ``ERBPUnits`` (``ERBPUnit`` without its dendrite) and ``ERBPErrorUnits`` (``ERBPError``),
with floating-point Python models, for the translator's tables (``spikingbp.lava.translate``); the weights
between them are lava's own ``Dense``.

Each computes per step what the Brian2 model's step code, threshold and reset compute
(``spikingbp.models.erbp``), in the same floating-point operations and order::

    ERBPUnits:       rest = [count not a multiple of T]
                     I = rest (I decay_syn + a_in);  V' = V + n_in c;  V = rest (V' + k_mem (I - V')) + n_in rest (1 - c),
                     0 while refractory (c: noise_carry)
                     s = [V > theta]: V = 0, ref = ref_steps
    ERBPErrorUnits:  E = max(rest (E + e_in), 0);  s = [E > theta]: E = E - theta

Why processes of their own: lava 0.10's ``LIF`` has no refractory hold of this kind in fixed point, no sample
clock, and its v integrates u with a decay where this membrane takes a forward-Euler step towards the
current; the error units subtract their threshold and are clipped at 0. Why the dendrite is left out: it is
read only by the learning rule, and the test network (eta = 0) learns nothing, so the translator leaves the
error -> dendrite projections out (and refuses a network that learns). Floating point only.
"""
from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.process.variable import Var
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol


class ERBPUnits(AbstractProcess):
    """eRBP hidden or output units without the dendrite. Ports: ``a_in`` (weights of the step before's
    spikes), ``n_in`` (noise jumps), ``s_out``. Vars: ``I``, ``V``, ``ref``, ``count``."""

    def __init__(self, *, shape: tuple, T: int, theta: float, k_mem: float, decay_syn: float, ref_steps: int,
                 noise_carry: int = 1, name: str | None = None):
        super().__init__(shape=shape, T=int(T), theta=float(theta), k_mem=float(k_mem), decay_syn=float(decay_syn),
                         ref_steps=int(ref_steps), noise_carry=int(noise_carry), name=name)
        self.a_in = InPort(shape=shape)
        self.n_in = InPort(shape=shape)
        self.s_out = OutPort(shape=shape)
        self.I = Var(shape=shape, init=0.0)
        self.V = Var(shape=shape, init=0.0)
        self.ref = Var(shape=shape, init=0.0)
        self.count = Var(shape=(1,), init=0)


@implements(proc=ERBPUnits, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyERBPUnitsFloat(PyLoihiProcessModel):
    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    n_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    I: np.ndarray = LavaPyType(np.ndarray, float)
    V: np.ndarray = LavaPyType(np.ndarray, float)
    ref: np.ndarray = LavaPyType(np.ndarray, float)
    count: np.ndarray = LavaPyType(np.ndarray, np.int64)

    def run_spk(self):
        p = self.proc_params
        rest = float(self.count[0] % p["T"] != 0)
        a_in, n_in = self.a_in.recv(), self.n_in.recv()
        self.I[:] = rest * (self.I * p["decay_syn"] + a_in)
        Vn = self.V + n_in * p["noise_carry"]
        V1 = rest * (Vn + p["k_mem"] * (self.I - Vn))
        V2 = V1 + n_in * rest * (1 - p["noise_carry"])
        blocked = (self.ref > 0.5).astype(float)
        V = V2 * (1 - blocked)
        self.ref[:] = rest * (self.ref - blocked)
        spikes = V > p["theta"]
        V[spikes] = 0.0
        self.ref[spikes] = p["ref_steps"]
        self.V[:] = V
        self.count[0] += 1
        self.s_out.send(spikes.astype(float))


class ERBPErrorUnits(AbstractProcess):
    """eRBP error units. Ports: ``e_in`` (+-0.09 per label and output spike of the step before), ``s_out``.
    Vars: ``E``, ``count``."""

    def __init__(self, *, shape: tuple, T: int, theta: float, name: str | None = None):
        super().__init__(shape=shape, T=int(T), theta=float(theta), name=name)
        self.e_in = InPort(shape=shape)
        self.s_out = OutPort(shape=shape)
        self.E = Var(shape=shape, init=0.0)
        self.count = Var(shape=(1,), init=0)


@implements(proc=ERBPErrorUnits, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyERBPErrorUnitsFloat(PyLoihiProcessModel):
    e_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    E: np.ndarray = LavaPyType(np.ndarray, float)
    count: np.ndarray = LavaPyType(np.ndarray, np.int64)

    def run_spk(self):
        p = self.proc_params
        rest = float(self.count[0] % p["T"] != 0)
        E1 = rest * (self.E + self.e_in.recv())
        E = E1 * (E1 > 0)
        spikes = E > p["theta"]
        E[spikes] -= p["theta"]
        self.E[:] = E
        self.count[0] += 1
        self.s_out.send(spikes.astype(float))


__all__ = ["ERBPUnits", "PyERBPUnitsFloat", "ERBPErrorUnits", "PyERBPErrorUnitsFloat"]


# --------------------------------------------------------------------------------------------- translation
def _make_units(group, plan, fixed_point: bool, name: str):
    v = group.values
    return ERBPUnits(shape=(group.size,), T=int(v["T"]), theta=v["theta"], k_mem=v["k_mem"], decay_syn=v["decay_syn"],
                     ref_steps=int(v["ref_steps"]), noise_carry=int(v["noise_carry"]), name=name)


def _make_error_units(group, plan, fixed_point: bool, name: str):
    return ERBPErrorUnits(shape=(group.size,), T=int(group.values["T"]), theta=group.values["theta"], name=name)


def _register():
    """eRBP's units and its weights (frozen at eta = 0) in the translation's tables."""
    from spikingbp.lava.translate import NeuronTranslation, StaticTranslation, frozen, register_neuron, register_static
    from spikingbp.models.erbp import ERBPError, ERBPUnit, ERBPWeights

    dendrite = "it feeds eRBP's dendrite, which only the learning rule reads, and at eta = 0 nothing"
    common = dict(fixed_point=False, merge_models=False,
                  reason="custom Python process (spikingbp.lava.erbp): eRBP's units as Brian2 computes them "
                         "(forward-Euler membrane, refractory hold, subtractive error units, rest at every sample "
                         "start); lava 0.10's LIF has neither; floating point only")
    register_neuron(NeuronTranslation(ERBPUnit, process="ERBPUnits", make=_make_units, group_prefix="erbp",
                                      inputs=("a_in", "n_in"), left_out={"e_in": dendrite},
                                      shared=("T", "theta", "k_mem", "decay_syn", "ref_steps", "noise_carry"), **common))
    register_neuron(NeuronTranslation(ERBPError, process="ERBPErrorUnits", make=_make_error_units, group_prefix="error",
                                      inputs=("e_in",), shared=("T", "theta"), **common))
    register_static(StaticTranslation(ERBPWeights, refusal=frozen("eta", "eRBP")))


_register()
