"""Circuit builders: assemble models (``spikingbp.models``) into Brian2 networks."""
from spikingbp.circuits.build import neuron_group, synapses

__all__ = ["neuron_group", "synapses"]
