"""spikingbp: on-chip learning in spiking networks, with spikes alone.

Layers of the package:

- ``spikingbp.models``      neuron and plasticity dynamics as Brian2 equation strings, with defaults and settings;
- ``spikingbp.circuits``    builders that assemble models into a ``Circuit`` (the one network description), and
                            compiled programs that rerun it;
- ``spikingbp.reference``   the plain-numpy references every circuit reproduces;
- ``spikingbp.algorithms``  the Algorithm interface and registry (sBP, SSNN-BP, eRBP), each a science adapter;
- ``spikingbp.execution``   where circuits run: an algorithm's plans, one executor per device, ensembles;
- ``spikingbp.training``    the training loop (``spikingbp.config``: its configuration; ``spikingbp.rundir``: the
                            run directory);
- ``spikingbp.analysis``    readers, figures and measurements of finished runs.

Support modules: ``spikingbp.data`` (datasets and spike encoders), ``spikingbp.devices`` (Brian2 device
selection), ``spikingbp.lava`` (lava-nc translation), ``spikingbp.nirgraph`` (NIR), ``spikingbp.energy``,
``spikingbp.sweep``, ``spikingbp.reproduce`` and ``spikingbp.cli`` (the ``spikingbp`` command).

The names most scripts need are importable from here (loaded on first use, so ``import spikingbp`` stays light)::

    from spikingbp import TrainConfig, train, load_run, Circuit, use_device
"""

__version__ = "0.1.0"

from spikingbp.errors import SpikingBPError  # noqa: E402

#: name -> the module that defines it (imported on first use)
_EXPORTS = {
    "TrainConfig": "spikingbp.config", "train": "spikingbp.training", "train_ensemble": "spikingbp.training",
    "load_data": "spikingbp.training", "load_run": "spikingbp.rundir", "RunContext": "spikingbp.execution",
    "Circuit": "spikingbp.circuits.circuit", "use_device": "spikingbp.devices", "create": "spikingbp.algorithms",
    "REGISTRY": "spikingbp.algorithms", "Algorithm": "spikingbp.algorithms",
}


def __getattr__(name):
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'spikingbp' has no attribute {name!r}")


__all__ = ["__version__", "SpikingBPError", *_EXPORTS]
