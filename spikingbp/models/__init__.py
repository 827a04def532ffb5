"""The model library: neuron and plasticity dynamics as Brian2 equation strings with defaults.

Names are imported from their modules on first use (``spikingbp.models.LIF``), so that a module of plain-number
models (``spikingbp.models.erbp``, ``spikingbp.models.ssnn``, read by the numpy references for their settings)
loads without Brian2.
"""
import importlib

#: name -> the module that defines it
_MODULES = {
    "base": ("NeuronModel", "Parameter", "SynapseModel"),
    "meanfield": ("GateSwitch", "MeanFieldUnit", "RateCoupling"),
    "erbp": ("ERBPError", "ERBPUnit", "ERBPWeights"),
    "neurons": ("IF", "LIF", "DeltaIF", "DeltaLIF", "LoihiCUBA", "LoihiCUBAModulated", "NoisyLIF"),
    "nsat": ("NSAT_NEURONS", "BlankOutSynapse", "NSATDualCompartment", "NSATFirstOrder", "NSATMihalasNiebur",
             "NSATSecondOrder", "NSATStochasticLIF"),
    "plasticity": ("SBPRewardRule", "ThreeFactorSTDP"),
    "ssnn": ("SSNNForwardInputWeights", "SSNNForwardWeights", "SSNNHidden", "SSNNLateral", "SSNNOutput",
             "SSNNRateInputWeights", "SSNNRateWeights",
             "SSNNStochasticInputWeights", "SSNNStochasticWeights"),
    "synapses": ("Static", "StaticCurrent", "StaticVoltage"),
}
_WHERE = {name: module for module, names in _MODULES.items() for name in names}


def __getattr__(name):
    if name not in _WHERE:
        raise AttributeError(f"module 'spikingbp.models' has no attribute {name!r}")
    return getattr(importlib.import_module(f"spikingbp.models.{_WHERE[name]}"), name)


__all__ = sorted(_WHERE)
