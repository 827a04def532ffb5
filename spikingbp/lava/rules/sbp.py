"""sBP's reward rule (``SBPRewardRule``) in lava: ``SBPPlasticSynapses``, a process with floating- and
fixed-point Python models that apply the rule exactly, and its entry in the translator's rule table.

At step t, every synapse whose pre and post units both fired at t changes by +step if the post unit's
reward compartment (mod[t] = mod[t-1] (1 - decay_mod) + mod_in[t]) exceeds 0.5, else by -step, clipped
to [w_min, w_max]; the pre spike is then delivered with the updated weight at t + 1.

Why not ``LearningDense`` with a product-series rule: lava 0.10 cannot express the rule exactly.
(1) Its learning Dense models compute the activation of step t in ``run_spk`` from the weights before
the learning phase of that step, so a spike is delivered with the old weight; sBP's backward pass
needs the updated one (the phase-5 spikes of o reach hT through the W2^T copies they just changed).
(2) A Loihi2F rule has no third factor besides traces driven by the post spikes themselves; a Loihi3F
rule needs a neuron that sends its reward as y2/y3 every step, and lava 0.10's ``LearningLIF`` models
send neither the back-propagated spike nor the y traces. (3) The fixed-point learning engine clips
mixed-sign weights to [-256, 254] (``clip_weights(..., learning_simulation=True)``), not the symmetric
[-254, 254] that keeps the -W2^T copy exact. The rule itself is a product series (dw = 4 x0 y0 r - 2 x0
y0, which the authors ran on Loihi 1 through NxSDK), so the custom process is CPU-only in lava, marked
not Loihi-deployable, not a limit of the hardware.
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

from spikingbp.lava.rules import RuleTranslation, register_rule


class SBPPlasticSynapses(AbstractProcess):
    """Plastic synapses ``pre_index[k] -> post_index[k]`` with the sBP reward rule (module docstring).

    Ports: ``s_in`` (pre spikes), ``s_in_bap`` (post spikes of the same step), ``mod_in`` (input of the
    post units' reward compartment, as a Dense delivers it), ``a_out`` (activation to the post units,
    one step later, with the updated weights). Vars: ``weights``, ``mod`` and the indices."""

    def __init__(self, *, n_pre: int, n_post: int, pre_index, post_index, weights, step: float,
                 w_min: float, w_max: float, decay_mod, name: str | None = None):
        super().__init__(n_pre=n_pre, n_post=n_post, step=step, w_min=w_min, w_max=w_max, name=name)
        n_syn = len(weights)
        self.s_in = InPort(shape=(n_pre,))
        self.s_in_bap = InPort(shape=(n_post,))
        self.mod_in = InPort(shape=(n_post,))
        self.a_out = OutPort(shape=(n_post,))
        self.weights = Var(shape=(n_syn,), init=np.asarray(weights))
        self.pre_index = Var(shape=(n_syn,), init=np.asarray(pre_index, np.int64))
        self.post_index = Var(shape=(n_syn,), init=np.asarray(post_index, np.int64))
        self.decay_mod = Var(shape=(n_post,), init=np.asarray(decay_mod, float))
        self.mod = Var(shape=(n_post,), init=0)
        self.a_buff = Var(shape=(n_post,), init=0)


class _AbstractSBPPlasticModel(PyLoihiProcessModel):
    def run_spk(self):
        # what arrived at step t - 1 reaches the post units now (as Dense does)
        self.a_out.send(self.a_buff)
        pre = self.s_in.recv().astype(bool)
        post = self.s_in_bap.recv().astype(bool)
        self.mod[:] = self.mod * (1 - self.decay_mod) + self.mod_in.recv()
        active = pre[self.pre_index]
        coincident = active & post[self.post_index]
        if coincident.any():
            rewarded = self.mod[self.post_index[coincident]] > 0.5
            step = self.proc_params["step"]
            updated = self.weights[coincident] + np.where(rewarded, step, -step)
            self.weights[coincident] = np.clip(updated, self.proc_params["w_min"], self.proc_params["w_max"])
        delivered = np.bincount(self.post_index[active], weights=self.weights[active],
                                minlength=self.proc_params["n_post"])
        self.a_buff = delivered.astype(self.a_buff.dtype)


@implements(proc=SBPPlasticSynapses, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PySBPPlasticModelFloat(_AbstractSBPPlasticModel):
    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, bool, precision=1)
    s_in_bap: PyInPort = LavaPyType(PyInPort.VEC_DENSE, bool, precision=1)
    mod_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    a_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    weights: np.ndarray = LavaPyType(np.ndarray, float)
    pre_index: np.ndarray = LavaPyType(np.ndarray, np.int64)
    post_index: np.ndarray = LavaPyType(np.ndarray, np.int64)
    decay_mod: np.ndarray = LavaPyType(np.ndarray, float)
    mod: np.ndarray = LavaPyType(np.ndarray, float)
    a_buff: np.ndarray = LavaPyType(np.ndarray, float)


@implements(proc=SBPPlasticSynapses, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PySBPPlasticModelFixed(_AbstractSBPPlasticModel):
    """Integer weights in activation units (scale * circuit units); the reward compartment stays a float
    (it is the Python stand-in of the third factor, not a Loihi register)."""

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, bool, precision=1)
    s_in_bap: PyInPort = LavaPyType(PyInPort.VEC_DENSE, bool, precision=1)
    mod_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    a_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    weights: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    pre_index: np.ndarray = LavaPyType(np.ndarray, np.int64)
    post_index: np.ndarray = LavaPyType(np.ndarray, np.int64)
    decay_mod: np.ndarray = LavaPyType(np.ndarray, float)
    mod: np.ndarray = LavaPyType(np.ndarray, float)
    a_buff: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)


def _make(n_pre, n_post, pre_index, post_index, weights, params, decay_mod, name):
    return SBPPlasticSynapses(n_pre=n_pre, n_post=n_post, pre_index=pre_index, post_index=post_index,
                              weights=weights, step=params["step"], w_min=params["w_min"], w_max=params["w_max"],
                              decay_mod=decay_mod, name=name)


register_rule(RuleTranslation(
    model="SBPRewardRule", process=SBPPlasticSynapses, make=_make, uses_reward=True,
    post_models=("LoihiCUBAModulated",), scaled_params=("step", "w_min", "w_max"),
    weight_limit=lambda params: max(abs(float(params["w_min"])), abs(float(params["w_max"]))),
    reason=("custom Python process (SBPPlasticSynapses) implementing SBPRewardRule exactly; lava 0.10's "
            "LearningDense delivers the pre-update weight, has no reward factor its LIF models send, and clips "
            "fixed-point weights to [-256, 254] (see spikingbp.lava.rules.sbp)")))

__all__ = ["SBPPlasticSynapses", "PySBPPlasticModelFloat", "PySBPPlasticModelFixed"]
