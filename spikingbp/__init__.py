"""spikingbp: on-chip learning in spiking networks, with spikes alone.

Layers of the package:

- ``spikingbp.models``   neuron and plasticity dynamics as Brian2 equation strings, with defaults;
- ``spikingbp.circuits`` builders that assemble models into networks;
- ``spikingbp.analysis`` readers, figures and measurements of finished runs.

Support modules: ``spikingbp.data`` (datasets and spike encoders), ``spikingbp.devices`` (Brian2 device
selection), ``spikingbp.lava`` (lava-nc translation) and ``spikingbp.cli`` (the ``spikingbp`` command).
"""

__version__ = "0.1.0"

from spikingbp.errors import SpikingBPError  # noqa: E402

__all__ = ["__version__", "SpikingBPError"]
