"""Circuit builders: assemble models (``spikingbp.models``) into a ``Circuit`` (``circuit.py``: populations,
spike sources, projections; run on any Brian2 device) — ``sbp``, ``ssnnbp``, ``erbp``, the synfire-gated parts
``sgsc`` and ``graded`` — plus ``ensemble`` (K copies as one circuit), ``program`` (compiled cpp_standalone
programs rerun with new spikes and weights), ``counts`` (operation counts) and ``spikes`` (results as arrays).

Importing this package imports no Brian2: a compiled program (``spikingbp.circuits.program``) reruns with
numpy and the sBP timing (``spikingbp.circuits.sbp``) alone; ``neuron_group`` and ``synapses`` load
``spikingbp.circuits.build`` (and Brian2) when first used."""

__all__ = ["neuron_group", "synapses"]


def __getattr__(name):
    if name in __all__:
        from spikingbp.circuits import build

        return getattr(build, name)
    raise AttributeError(f"module 'spikingbp.circuits' has no attribute {name!r}")
