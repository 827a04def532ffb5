"""SSNN-BP's forward units in lava: ``SSNNForwardUnits``, the forward compartment of ``SSNNHidden`` and
``SSNNOutput``, with a floating-point Python model, for the translator's tables (``spikingbp.lava.translate``);
the weights between them are lava's own ``Dense``.

``SSNNForwardUnits`` computes per step what the Brian2 models' step code computes for the forward unit
(``spikingbp.models.ssnn``), in the same floating-point operations and order::

    rest = [count not a multiple of Ts]          (the first step of every sample starts from rest)
    A1 = rest (A + a_in) [+ i_in]                (drive; i_in: the output's lateral inhibition)
    v1 = rest v + (A1 - rest v) k                (potential, kernel 1 - exp(-n / tau))
    s = [v1 > theta];  A = A1 - theta s;  v = v1 - theta s

Why a process of its own: lava 0.10's ``LIF`` resets v to 0 where this unit subtracts the threshold (from
drive and potential: n spikes for n thresholds of drive), and it has no sample clock. (The kernel itself is
a current-based pair, u decaying by 1 - k and v integrating k u, but in LIF's operations the floats would
not be Brian2's.)

Why only the forward path: the gradient compartments (d+, d-) change weights and nothing else, and the
inference circuit (eta = 0) learns nothing, so they cannot change a forward spike; the translator leaves them,
the label and the dropout inputs out (and refuses a circuit that learns). The process is floating point only:
the forward drive is a real-valued sum of real weights.
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


class SSNNForwardUnits(AbstractProcess):
    """Forward integrate-and-fire units on the kernel 1 - exp(-n / tau), reset to rest every ``Ts`` steps.

    Ports: ``a_in`` (forward input), ``i_in`` (lateral input, added after ``a_in``; leave it unconnected in a
    hidden layer), ``s_out`` (forward spikes). Vars: ``A`` (drive), ``v`` (potential), ``count`` (steps so
    far)."""

    def __init__(self, *, shape: tuple, Ts: int, k: float, theta: float, name: str | None = None):
        super().__init__(shape=shape, Ts=int(Ts), k=float(k), theta=float(theta), name=name)
        self.a_in = InPort(shape=shape)
        self.i_in = InPort(shape=shape)
        self.s_out = OutPort(shape=shape)
        self.A = Var(shape=shape, init=0.0)
        self.v = Var(shape=shape, init=0.0)
        self.count = Var(shape=(1,), init=0)


@implements(proc=SSNNForwardUnits, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PySSNNForwardUnitsFloat(PyLoihiProcessModel):
    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    i_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    A: np.ndarray = LavaPyType(np.ndarray, float)
    v: np.ndarray = LavaPyType(np.ndarray, float)
    count: np.ndarray = LavaPyType(np.ndarray, np.int64)

    def run_spk(self):
        Ts, k, theta = self.proc_params["Ts"], self.proc_params["k"], self.proc_params["theta"]
        rest = float(self.count[0] % Ts != 0)
        a_in, i_in = self.a_in.recv(), self.i_in.recv()
        A1 = rest * (self.A + a_in + i_in)  # i_in is zero where unconnected: x + 0.0 == x
        rest_v = rest * self.v
        v1 = rest_v + (A1 - rest_v) * k
        spikes = (v1 > theta).astype(float)
        self.A[:] = A1 - theta * spikes
        self.v[:] = v1 - theta * spikes
        self.count[0] += 1
        self.s_out.send(spikes)


__all__ = ["SSNNForwardUnits", "PySSNNForwardUnitsFloat"]


# --------------------------------------------------------------------------------------------- translation
def _make_units(group, plan, fixed_point: bool, name: str):
    return SSNNForwardUnits(shape=(group.size,), Ts=int(group.values["Ts"]), k=group.values["k"],
                            theta=group.values["theta"], name=name)


def _register():
    """SSNN-BP's composite units (their forward compartment) and its weights (frozen at eta = 0) in the
    translation's tables."""
    from spikingbp.lava.translate import NeuronTranslation, StaticTranslation, frozen, register_neuron, register_static
    from spikingbp.models.ssnn import SSNN_FORWARD, SSNN_RULES, SSNNHidden, SSNNLateral, SSNNOutput

    gradient = "it feeds SSNN-BP's gradient compartments only, which change weights and no spike, and at eta = 0 nothing"
    common = dict(process="SSNNForwardUnits", make=_make_units, shared=("Ts", "k", "theta"), spike_variable="fx",
                  fixed_point=False, merge_models=False, group_prefix="ssnn", silent_only=("dropped",),
                  reason="custom Python process (spikingbp.lava.ssnn): SSNN-BP's forward compartment (kernel drive "
                         "and potential, subtractive reset, rest at every sample start); lava 0.10's LIF resets to 0 "
                         "and has no sample clock; floating point only")
    register_neuron(NeuronTranslation(SSNNHidden, **common))
    register_neuron(NeuronTranslation(SSNNOutput, **common, inputs=("a_in", "i_in"), left_out={"l_in": gradient}))
    register_static(StaticTranslation(SSNNLateral))
    for pair in SSNN_RULES.values():
        for model in pair:
            register_static(StaticTranslation(model, refusal=frozen("eta2", "SSNN-BP")))
    for model in SSNN_FORWARD:
        register_static(StaticTranslation(model))


_register()
