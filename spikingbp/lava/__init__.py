"""lava-nc 0.10 translation of spikingbp circuits, verified spike for spike against Brian2.

- ``translate(circuit, steps)`` -> ``LavaNetwork`` (``run(steps, fixed_point=False)``, ``report()``);
- ``spikingbp.lava.fixed_point``: quantisation for lava's fixed-point models, with error bounds;
- ``verify(circuit, steps)``, ``verify_algorithm(algorithm, params, X, T, phase)``, ``verify_sgsc``: Brian2
  and lava side by side, per population and per sample.
"""
import multiprocessing as _multiprocessing

from spikingbp.compat import has_backend as _has_backend, missing_backend as _missing_backend

if not _has_backend("lava"):   # say which environment has it, not only that the module is missing
    from spikingbp.errors import DeviceError as _DeviceError

    raise _DeviceError(_missing_backend("lava"))


def _import_lava_runtime():
    """lava's runtime calls multiprocessing.set_start_method('fork') when imported, which raises if any
    library chose a start method before; lava needs 'fork' either way, so let it set it regardless."""
    set_start_method = _multiprocessing.set_start_method
    _multiprocessing.set_start_method = lambda method, force=False: set_start_method(method, force=True)
    try:
        import lava.magma.runtime.message_infrastructure.multiprocessing  # noqa: F401
    finally:
        _multiprocessing.set_start_method = set_start_method


_import_lava_runtime()

from spikingbp.lava.translate import (REFRACTORY_MODES, LavaNetwork, LavaResult, ProcessReport, SBPPlasticSynapses,
                                      TranslationReport, translate)
from spikingbp.lava.verify import (SampleCheck, SampleVerification, Verification, sgsc_circuit, verify, verify_algorithm,
                                   verify_sgsc)

__all__ = ["translate", "LavaNetwork", "LavaResult", "TranslationReport", "ProcessReport", "SBPPlasticSynapses",
           "REFRACTORY_MODES", "verify", "verify_algorithm", "verify_sgsc", "sgsc_circuit", "Verification",
           "SampleVerification", "SampleCheck"]
