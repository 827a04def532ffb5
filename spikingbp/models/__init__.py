"""The model library: neuron and plasticity dynamics as Brian2 equation strings with defaults."""
from spikingbp.models.base import NeuronModel, Parameter, SynapseModel
from spikingbp.models.meanfield import GateSwitch, MeanFieldUnit, RateCoupling
from spikingbp.models.erbp import ERBPError, ERBPUnit, ERBPWeights
from spikingbp.models.neurons import IF, LIF, DeltaIF, DeltaLIF, LoihiCUBA, LoihiCUBAModulated, NoisyLIF
from spikingbp.models.nsat import (NSAT_NEURONS, BlankOutSynapse, NSATDualCompartment, NSATFirstOrder,
                                   NSATMihalasNiebur, NSATSecondOrder, NSATStochasticLIF)
from spikingbp.models.plasticity import SBPRewardRule, ThreeFactorSTDP
from spikingbp.models.ssnn import (SSNNHidden, SSNNLateral, SSNNOutput, SSNNRateInputWeights, SSNNRateWeights,
                                   SSNNStochasticInputWeights, SSNNStochasticWeights)
from spikingbp.models.synapses import Static, StaticCurrent, StaticVoltage

__all__ = ["NeuronModel", "SynapseModel", "Parameter", "LoihiCUBA", "LIF", "IF", "Static", "StaticCurrent",
           "NSAT_NEURONS", "NSATStochasticLIF", "NSATFirstOrder", "NSATSecondOrder", "NSATDualCompartment",
           "NSATMihalasNiebur", "BlankOutSynapse", "LoihiCUBAModulated", "ERBPUnit", "ERBPError",
           "ERBPWeights", "SBPRewardRule", "ThreeFactorSTDP", "SSNNHidden", "SSNNOutput", "SSNNLateral",
           "SSNNStochasticInputWeights", "SSNNStochasticWeights", "SSNNRateInputWeights", "SSNNRateWeights",
           "NoisyLIF", "MeanFieldUnit", "RateCoupling", "GateSwitch", "DeltaLIF", "DeltaIF", "StaticVoltage"]
