"""Turn model descriptions into Brian2 objects. The only place models meet ``brian2.NeuronGroup``."""
from __future__ import annotations

import numpy as np
from brian2 import Equations, NeuronGroup, Synapses

from spikingbp.errors import ConfigError
from spikingbp.models.base import NeuronModel, SynapseModel


def neuron_group(model: NeuronModel, n: int, name: str, dt=None, **params) -> NeuronGroup:
    """A ``NeuronGroup`` of ``n`` units of ``model``, its parameters set from defaults and ``params``.

    A parameter may be a scalar or an array of length ``n`` (heterogeneous population).
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError(f"population {name!r}: size must be a positive integer, got {n!r}")
    values = model.resolve(**params)
    for key, value in values.items():
        if np.ndim(value) not in (0, 1) or (np.ndim(value) == 1 and len(value) != n):
            raise ConfigError(f"population {name!r}: parameter {key!r} must be a scalar or have length {n}, "
                              f"got shape {np.shape(value)}")
    equations = Equations(model.equations)
    constants = _namespace_constants(name, equations, values)
    group = NeuronGroup(n, equations, threshold=model.threshold, reset=model.reset,
                        refractory=model.refractory if model.refractory else False,
                        method=model.method, name=name, dt=dt, namespace=constants)
    for key, value in values.items():
        if key not in constants:
            setattr(group, key, value)
    return group


def step_map(group, model: NeuronModel, dt):
    """The operation that runs ``model.step_code`` on ``group`` once per step (add it to the Network).

    A ``run_regularly`` in the 'start' slot with order 1: after the synapses' sample updates (order 0),
    before thresholds, so that it consumes the input the synapses of the previous step delivered."""
    if not model.step_code:
        raise ConfigError(f"{model.name} has no step code")
    return group.run_regularly(model.step_code, dt=dt, order=1, name=f"{group.name}_run_regularly_step")


def _namespace_constants(name: str, equations, values: dict) -> dict:
    """Parameters the equations do not declare are compile-time constants (faster, one value for the
    whole group); declared ``(constant)`` parameters are per element and may differ."""
    constants = {key: value for key, value in values.items() if key not in equations.names}
    for key, value in constants.items():
        if np.ndim(value) != 0:
            raise ConfigError(f"{name!r}: parameter {key!r} is one value for the whole group, got shape "
                              f"{np.shape(value)}")
    return constants


def synapses(pre, post, model: SynapseModel, name: str, *, target: str = "a_in", i=None, j=None,
             connect: str | bool | None = None, p: float = 1.0, delay=None, dt=None, **params) -> Synapses:
    """``Synapses`` from ``pre`` to ``post`` with ``model``; ``{target}`` in its strings names the
    post-synaptic variable that receives the weight (``a_in`` for LoihiCUBA, ``I_syn`` for LIF/IF).

    Connect with index arrays ``i``, ``j``, or a condition string / ``True`` (all to all) in ``connect``.
    ``delay`` is one quantity for all synapses (what GeNN supports) or an array, one per synapse.
    """
    needed = tuple(v.format(target=target) for v in model.post_requires)
    missing = [v for v in needed if v not in post.variables]
    if missing:
        raise ConfigError(f"synapses {name!r}: model {model.name} needs post-synaptic variable(s) {missing}, "
                          f"which {post.name!r} lacks; connect it to a model that has them")
    missing = [v for v in model.pre_requires if v not in pre.variables]
    if missing:
        raise ConfigError(f"synapses {name!r}: model {model.name} needs pre-synaptic variable(s) {missing}, "
                          f"which {pre.name!r} lacks")
    values = model.resolve(**params)
    equations = Equations(model.equations.format(target=target))
    constants = _namespace_constants(name, equations, values)
    # A single delay goes to the initializer: GeNN supports one delay per Synapses object, set there.
    uniform_delay = delay if delay is not None and np.ndim(delay) == 0 else None
    syn = Synapses(pre, post, model=equations,
                   on_pre=model.on_pre.format(target=target),
                   on_post=model.on_post.format(target=target) if model.on_post else None,
                   delay=uniform_delay, method=model.method, name=name, dt=dt, namespace=constants,
                   dtype={variable: np.dtype(kind) for variable, kind in model.dtypes} or None)
    if i is not None or j is not None:
        i, j = np.asarray(i), np.asarray(j)
        if i.shape != j.shape or i.ndim != 1:
            raise ConfigError(f"synapses {name!r}: i and j must be 1-d arrays of equal length, "
                              f"got shapes {i.shape} and {j.shape}")
        if len(i) and (i.min() < 0 or i.max() >= len(pre) or j.min() < 0 or j.max() >= len(post)):
            raise ConfigError(f"synapses {name!r}: indices out of range for sizes {len(pre)} -> {len(post)}")
        syn.connect(i=i, j=j)
    elif connect is not None and connect is not False:
        syn.connect(condition=None if connect is True else connect, p=p)
    if delay is not None and uniform_delay is None:
        syn.delay = delay  # heterogeneous delays: runtime and cpp_standalone only, not GeNN
    for key, value in values.items():
        if key not in constants:
            setattr(syn, key, value)
    return syn


def sample_update(syn, model: SynapseModel, t_sample):
    """Run ``model.sample_update`` on ``syn`` at t = 0, t_sample, 2 t_sample, ...; returns the operation
    (add it to the Network).

    A ``run_regularly`` in its default ('start') slot. Under brian2genn it runs before the step's synapse
    update, which still processes the spikes of the previous step, so spikes in the last step of a sample
    are counted in the next sample there (Brian2 counts them in their own sample); keep that step silent
    where the two backends must agree.
    """
    if not model.sample_update:
        raise ConfigError(f"{model.name} has no sample update; models that have one declare sample_update")
    # brian2genn finds run_regularly operations by "_run_regularly" in their name, and drops others
    return syn.run_regularly(model.sample_update, dt=t_sample, name=f"{syn.name}_run_regularly_sample")


__all__ = ["neuron_group", "synapses", "sample_update", "step_map"]
