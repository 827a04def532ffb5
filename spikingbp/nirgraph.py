"""Trained networks out to NIR (the Neuromorphic Intermediate Representation, ``nir``), and NIR graphs in as
circuits: ``spikingbp export-nir RUN_DIR``.

Export (``export_run``): the inference network of a finished run as a ``nir.NIRGraph``, one builder per algorithm
(``exporters()``: each algorithm's ``nir_graph``), in NIR's continuous-time conventions. What NIR cannot express (refractoriness, stochastic
units, plasticity, subtractive resets, the sample clock) is listed in ``Export.unexpressed`` and in the graph's
metadata, never dropped silently:

- sBP: binary units that fire iff their summed input exceeds 512 (half the Loihi threshold 1024, the gate
  supplies the other half) are ``Threshold`` nodes: input -> Linear(W1^T) -> Threshold -> Linear(W2^T) ->
  Threshold -> output, and the output potential (its argmax is sBP's headline readout) as a second output.
  The gating chain that sequences the phases is how a Loihi core times the layers, not part of the function.
- eRBP: hidden and output units are ``CubaLIF`` (tau_syn 4 ms, tau_mem 1 ms, threshold 100 mV, reset 0; currents
  in volts across R = 1 GOhm as in ``spikingbp.models.erbp``, so R = 1 and a spike of weight w adds w to I:
  w_in = tau_syn); the data units' stochastic spikes are the input.
- SSNN-BP: the forward compartment is an integrator of its input (``I``, the drive A) relaxing a potential
  (``LI``, tau = Ts/10 steps) that a ``Threshold`` reads; the output's winner-take-all is a recurrent
  ``Linear`` (-w_inh between rivals) from the output threshold back into the output's drive.

Import (``circuit_from_nir``): a feed-forward graph of Input, Linear or Affine and IF, LIF or CubaLIF nodes as a
``Circuit`` of the model library (``spikingbp.models.neurons``: ``DeltaIF``, ``DeltaLIF``, ``LIF``), to run on
Brian2 and translate to Lava; parameters are read in SI units (seconds, volts, ohms, amperes).
"""
from __future__ import annotations

import dataclasses
import os
import tempfile
from pathlib import Path

import numpy as np

from spikingbp.errors import ConfigError


@dataclasses.dataclass
class Export:
    """A NIR graph of a run's inference network and what the graph leaves out."""

    graph: object            #: nir.NIRGraph
    unexpressed: list        #: what NIR cannot express, one line each
    readout: str             #: how a prediction is read from the graph's outputs

    def lines(self) -> list:
        lines = [f"nodes ({len(self.graph.nodes)}):"]
        for name, node in self.graph.nodes.items():
            lines.append(f"  {name}: {type(node).__name__}{_shape(node)}")
        lines.append(f"edges ({len(self.graph.edges)}):")
        lines += [f"  {a} -> {b}" for a, b in self.graph.edges]
        lines.append(f"readout: {self.readout}")
        lines.append("not expressed in NIR:")
        lines += [f"  - {item}" for item in self.unexpressed]
        return lines


def _shape(node) -> str:
    import nir

    if isinstance(node, (nir.Linear, nir.Affine)):
        return f" {node.weight.shape[1]} -> {node.weight.shape[0]}"
    if isinstance(node, nir.Input):
        return f" {node.input_type['input'].tolist()}"
    if isinstance(node, nir.Output):
        return f" {node.output_type['output'].tolist()}"
    for name in ("threshold", "v_threshold", "tau", "r"):
        if hasattr(node, name):
            return f" ({np.size(getattr(node, name))} units)"
    return ""


def _vector(value, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()


def _graph(nodes: dict, edges: list, metadata: dict):
    import nir

    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata)


# --------------------------------------------------------------------------------------------------- export
def sbp_graph(params: dict, algorithm) -> Export:
    import nir

    from spikingbp.reference.sbp import HALF_THRESHOLD

    W0, W1 = np.asarray(params["W0"], np.float64), np.asarray(params["W1"], np.float64)
    n_in, n_h, n_out = W0.shape[0], W0.shape[1], W1.shape[1]
    nodes = {"input": nir.Input({"input": np.array([n_in])}),
             "W0": nir.Linear(W0.T.copy()), "h": nir.Threshold(_vector(HALF_THRESHOLD, n_h)),
             "W1": nir.Linear(W1.T.copy()), "o": nir.Threshold(_vector(HALF_THRESHOLD, n_out)),
             "output": nir.Output({"output": np.array([n_out])}),
             "potential": nir.Output({"output": np.array([n_out])})}
    edges = [("input", "W0"), ("W0", "h"), ("h", "W1"), ("W1", "o"), ("o", "output"), ("W1", "potential")]
    unexpressed = [f"input encoding: a pixel is 1 iff its uint8 value > {algorithm.values['threshold']} (applied "
                   f"before the Input node)",
                   "the gating chain that sequences the phases on chip (Loihi's timing of the layers, not part of "
                   "the function the network computes)",
                   "learning: the reward-gated coincidence rule of the training circuit (the graph is inference only)"]
    metadata = {"source": "spikingbp", "algorithm": "sbp", "time": "one evaluation per sample (stateless nodes)",
                "weights": "integers in [-254, 254], Loihi weight units"}
    return Export(_graph(nodes, edges, metadata), unexpressed, "argmax of the output 'potential' (or the 'output' "
                  "spikes: all ten bits)")


def erbp_graph(params: dict, algorithm) -> Export:
    import nir

    from spikingbp.models import erbp as model

    weights = [np.asarray(params[f"W{l}"], np.float64) for l in range(len([k for k in params if k.startswith("W")]))]
    tau_syn, tau_mem = model.TAU_SYN_MS * 1e-3, model.TAU_MEM_MS * 1e-3
    nodes = {"input": nir.Input({"input": np.array([weights[0].shape[0]])})}
    edges, previous = [], "input"
    for layer, W in enumerate(weights):
        n = W.shape[1]
        unit = "o" if layer == len(weights) - 1 else f"h{layer + 1}"
        nodes[f"W{layer}"] = nir.Linear(W.T.copy())
        nodes[unit] = nir.CubaLIF(tau_syn=_vector(tau_syn, n), tau_mem=_vector(tau_mem, n), r=_vector(1.0, n),
                                  v_leak=_vector(0.0, n), v_threshold=_vector(model.THETA, n),
                                  v_reset=_vector(0.0, n), w_in=_vector(tau_syn, n))
        edges += [(previous, f"W{layer}"), (f"W{layer}", unit)]
        previous = unit
    nodes["output"] = nir.Output({"output": np.array([weights[-1].shape[1]])})
    edges.append((previous, "output"))
    unexpressed = [f"refractory period of {model.REFRACTORY_MS} ms after each spike of a hidden or output unit",
                   "the data units: stochastic (100 Hz x exp((bg - 100 mV) / 50 mV)), their spikes are the input",
                   f"noise: {algorithm.values['sigma']} nA jumps at {algorithm.values['noise_hz']:g} Hz per unit",
                   "the discrete map on dt = 0.1 ms (forward Euler membrane, the current decayed by exp(-dt/tau_syn))",
                   "learning: error, label and dendrite units, the random feedback G and the boxcar rule"]
    metadata = {"source": "spikingbp", "algorithm": "erbp", "dt": model.DT_MS * 1e-3,
                "units": "seconds; potentials in volts; currents as volts across R = 1 GOhm (1 nA = 1.0)"}
    return Export(_graph(nodes, edges, metadata), unexpressed, "the output unit with the most spikes over 500 ms")


def ssnn_graph(params: dict, algorithm) -> Export:
    import nir

    from spikingbp.models.ssnn import THETA

    weights = [np.asarray(W, np.float64) for W in algorithm.test_weights(params)]   # as the test network runs
    Ts = algorithm.values["Ts"]
    tau = Ts / 10  # steps; the graph's time unit is one step
    nodes = {"input": nir.Input({"input": np.array([weights[0].shape[0]])})}
    edges, previous = [], "input"
    for layer, W in enumerate(weights):
        n = W.shape[1]
        unit = "o" if layer == len(weights) - 1 else f"h{layer + 1}"
        nodes[f"W{layer}"] = nir.Linear(W.T.copy())
        nodes[f"{unit}_drive"] = nir.I(r=_vector(1.0, n))
        nodes[f"{unit}_potential"] = nir.LI(tau=_vector(tau, n), r=_vector(1.0, n), v_leak=_vector(0.0, n))
        nodes[unit] = nir.Threshold(_vector(THETA, n))
        edges += [(previous, f"W{layer}"), (f"W{layer}", f"{unit}_drive"), (f"{unit}_drive", f"{unit}_potential"),
                  (f"{unit}_potential", unit)]
        previous = unit
    n_out = weights[-1].shape[1]
    nodes["wta"] = nir.Linear(-algorithm.values["w_inh"] * (np.ones((n_out, n_out)) - np.eye(n_out)))
    edges += [("o", "wta"), ("wta", "o_drive")]
    nodes["output"] = nir.Output({"output": np.array([n_out])})
    edges.append((previous, "output"))
    unexpressed = ["the subtractive reset of a forward spike (drive and potential both lose the threshold 5); NIR "
                   "nodes reset to a value", f"the sample clock: every sample of Ts = {Ts} steps starts from rest",
                   "the input trains: front-loaded Bernoulli spikes (the input of the graph)",
                   "the gradient compartments d+ and d-, the label and error units and the coincidence rule (training)",
                   "dropout (training only)"]
    metadata = {"source": "spikingbp", "algorithm": "ssnnbp", "dt": 1.0, "Ts": Ts,
                "units": "time in steps; the integrator I is the forward drive A, LI its potential v (tau = Ts/10)"}
    return Export(_graph(nodes, edges, metadata), unexpressed, "the output unit with the most forward spikes over "
                  "the sample")


def exporters() -> dict:
    """Algorithm name -> the function that builds its NIR graph from (params, algorithm): each registered
    algorithm's ``nir_graph``."""
    from spikingbp.algorithms import REGISTRY
    from spikingbp.algorithms.base import extra

    return {name: extra(cls.nir_graph) for name, cls in REGISTRY.items() if cls.nir_graph}


def export_run(run_dir) -> Export:
    """The NIR graph of a finished run's inference network, with its final weights.

    Parameters
    ----------
    run_dir : str or Path
        A finished run of an algorithm with a ``nir_graph`` extra (sBP, SSNN-BP, eRBP).

    Returns
    -------
    Export
        The graph, what NIR cannot express of the circuit (listed, not dropped silently) and how a
        prediction is read from the graph's outputs.
    """
    from spikingbp.training import load_run

    run = load_run(run_dir)
    graphs = exporters()
    if run.algorithm.name not in graphs:
        raise ConfigError(f"no NIR export for {run.algorithm.name}; exported: {', '.join(graphs)}")
    export = graphs[run.algorithm.name](run.final, run.algorithm)
    export.graph.metadata["not_expressed"] = list(export.unexpressed)
    export.graph.metadata["readout"] = export.readout
    export.graph.metadata["run"] = str(run_dir)
    return export


def write_graph(graph, path) -> Path:
    """Write a NIR graph: into a temporary file beside ``path``, then renamed, so no half-written file is left.

    Parameters
    ----------
    graph : nir.NIRGraph
        The graph.
    path : str or Path
        The ``.nir`` file.

    Returns
    -------
    Path
        The written file.
    """
    import nir

    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"--out {path} is a directory; give a file name, e.g. {path / 'model.nir'}")
    if path.parent.exists() and not path.parent.is_dir():
        raise ConfigError(f"--out {path}: {path.parent} is a file; give a path in a directory")
    if not path.parent.is_dir():
        raise ConfigError(f"--out {path}: the directory {path.parent} does not exist")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as error:
        raise ConfigError(f"--out {path} cannot be written ({error.strerror}); give a writable directory") from None
    os.close(handle)
    try:
        nir.write(temporary, graph)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)   # mkstemp makes it 0600; a graph is for sharing
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


# --------------------------------------------------------------------------------------------------- evaluation
def evaluate_stateless(graph, inputs: np.ndarray) -> dict:
    """Outputs of a graph of stateless nodes (Input, Linear, Affine, Scale, Threshold, Output) for a batch of
    inputs (N, n_in), by NIR's definitions of those nodes: output node name -> (N, n) array."""
    import nir

    functions = {nir.Linear: lambda node, x: x @ node.weight.T,
                 nir.Affine: lambda node, x: x @ node.weight.T + node.bias,
                 nir.Scale: lambda node, x: x * node.scale,
                 nir.Threshold: lambda node, x: (x > node.threshold).astype(np.float64),
                 nir.Output: lambda node, x: x}
    values = {}
    for name in _topological(graph):
        node = graph.nodes[name]
        if isinstance(node, nir.Input):
            values[name] = np.asarray(inputs, np.float64)
            continue
        if type(node) not in functions:
            raise ConfigError(f"node {name!r} ({type(node).__name__}) has a state; evaluate_stateless takes "
                              f"{', '.join(t.__name__ for t in functions)}")
        sources = [a for a, b in graph.edges if b == name]
        values[name] = functions[type(node)](node, sum(values[a] for a in sources))
    return {name: values[name] for name, node in graph.nodes.items() if isinstance(node, nir.Output)}


def _topological(graph) -> list:
    order, done = [], set()
    pending = list(graph.nodes)
    while pending:
        ready = [n for n in pending if all(a in done for a, b in graph.edges if b == n)]
        if not ready:
            raise ConfigError("the NIR graph has a cycle; only feed-forward graphs are evaluated or imported here")
        for name in ready:
            order.append(name)
            done.add(name)
            pending.remove(name)
    return order


# --------------------------------------------------------------------------------------------------- import
def circuit_from_nir(graph, input_spikes: dict, dt: float = 1e-4, name: str = "nir", discrete: bool = False):
    """A circuit of a feed-forward NIR graph, to run on any Brian2 device or translate to Lava.

    Input, Linear or Affine (zero bias) and IF, LIF or CubaLIF nodes, parameters in SI units. Each neuron node
    becomes a population named as the node, each Linear before it a projection named as the Linear.

    Parameters
    ----------
    graph : nir.NIRGraph
        The graph.
    input_spikes : dict
        Input node name -> (unit indices, steps).
    dt : float
        The time step in seconds.
    name : str
        The circuit's name.
    discrete : bool
        Loihi CUBA compartments (``LoihiCUBA``) stepping NIR's equations on ``dt`` (the current decays by
        dt/tau_syn, the potential by dt/tau_mem, v_leak enters as the bias, reset to 0), which the Lava
        translator maps spike for spike; otherwise the continuous-time models.

    Returns
    -------
    Circuit

    Raises
    ------
    ConfigError
        A graph with a cycle, or a node the circuit cannot express, named.
    """
    import nir
    from brian2 import ohm, second, volt

    from spikingbp.circuits.circuit import Circuit
    from spikingbp.models.neurons import LIF, DeltaIF, DeltaLIF
    from spikingbp.models.synapses import Static, StaticCurrent, StaticVoltage

    circuit = Circuit(name, dt * second)
    supported = (nir.Input, nir.Output, nir.Linear, nir.Affine, nir.IF, nir.LIF, nir.CubaLIF)
    for node_name, node in graph.nodes.items():
        if not isinstance(node, supported):
            raise ConfigError(f"node {node_name!r} is a {type(node).__name__}; the import takes "
                              f"{', '.join(t.__name__ for t in supported)}")
        if isinstance(node, nir.Affine) and np.any(node.bias != 0):
            raise ConfigError(f"node {node_name!r}: an Affine with a non-zero bias cannot be imported (a constant "
                              f"input the models have no place for); give a Linear")
    for node_name in _topological(graph):
        node = graph.nodes[node_name]
        if isinstance(node, nir.Input):
            if node_name not in input_spikes:
                raise ConfigError(f"give the spikes of input node {node_name!r}: input_spikes={{{node_name!r}: "
                                  f"(indices, steps)}}")
            indices, steps = input_spikes[node_name]
            circuit.add_source(node_name, int(node.input_type["input"][0]), indices, steps)
        elif isinstance(node, (nir.IF, nir.LIF, nir.CubaLIF)):
            n = int(np.size(node.v_threshold))
            reset = node.v_reset if node.v_reset is not None else np.zeros(n)
            if discrete:
                scale, synapse = _loihi_population(circuit, node_name, node, n, reset, dt), Static
            elif isinstance(node, nir.CubaLIF):
                # tau_mem dv/dt = v_leak - v + R I; LIF: dv/dt = (v_rest - v)/tau_m + I_syn/C_m, so C_m = tau_m / R,
                # and a spike of weight W adds w_in W / tau_syn to I
                circuit.add_population(
                    node_name, n, LIF, tau_m=_vector(node.tau_mem, n) * second,
                    tau_syn=_vector(node.tau_syn, n) * second,
                    C_m=(_vector(node.tau_mem, n) / _vector(node.r, n)) * second / ohm,
                    v_rest=_vector(node.v_leak, n) * volt, v_th=_vector(node.v_threshold, n) * volt,
                    v_reset=_vector(reset, n) * volt)
                scale, synapse = _vector(node.w_in, n) / _vector(node.tau_syn, n), StaticCurrent
            elif isinstance(node, nir.LIF):
                circuit.add_population(
                    node_name, n, DeltaLIF, tau_m=_vector(node.tau, n) * second, v_rest=_vector(node.v_leak, n) * volt,
                    v_th=_vector(node.v_threshold, n) * volt, v_reset=_vector(reset, n) * volt)
                scale, synapse = _vector(node.r, n) / _vector(node.tau, n), StaticVoltage  # v jumps by R W / tau
            else:
                circuit.add_population(node_name, n, DeltaIF, v_th=_vector(node.v_threshold, n) * volt,
                                                    v_reset=_vector(reset, n) * volt)
                scale, synapse = _vector(node.r, n), StaticVoltage                        # v jumps by R W
            for linear in [a for a, b in graph.edges if b == node_name]:
                if not isinstance(graph.nodes[linear], (nir.Linear, nir.Affine)):
                    raise ConfigError(f"{node_name!r} receives from {linear!r}; the import takes a Linear or Affine "
                                      f"before each neuron node")
                pre = [a for a, b in graph.edges if b == linear]
                if len(pre) != 1:
                    raise ConfigError(f"Linear {linear!r} must have one source, has {pre}")
                W = np.asarray(graph.nodes[linear].weight, np.float64) * scale[:, None]   # (post, pre)
                circuit.connect(pre[0], node_name, W.T, pattern="all_to_all", synapse=synapse, name=linear)
    return circuit


def _loihi_population(circuit, name: str, node, n: int, reset, dt: float) -> np.ndarray:
    """Add ``node`` as a LoihiCUBA population stepping its equations on ``dt``: u is the potential the current
    adds per step (R I dt / tau_mem), v the potential; returns the factor from a NIR weight to the step's input."""
    import nir

    from spikingbp.models.neurons import LoihiCUBA

    if np.any(np.asarray(reset) != 0):
        raise ConfigError(f"node {name!r}: discrete import resets to 0 (Loihi); its v_reset is {reset}")
    r = _vector(node.r, n)
    if isinstance(node, nir.CubaLIF):
        tau_syn, tau_mem = _vector(node.tau_syn, n), _vector(node.tau_mem, n)
        decay_u, decay_v, bias = dt / tau_syn, dt / tau_mem, _vector(node.v_leak, n) * dt / tau_mem
        scale = r * dt * _vector(node.w_in, n) / (tau_mem * tau_syn)
    elif isinstance(node, nir.LIF):
        tau = _vector(node.tau, n)
        decay_u, decay_v, bias, scale = np.ones(n), dt / tau, _vector(node.v_leak, n) * dt / tau, r / tau
    else:
        decay_u, decay_v, bias, scale = np.ones(n), np.zeros(n), np.zeros(n), r
    if np.any(decay_u > 1) or np.any(decay_v > 1):
        raise ConfigError(f"node {name!r}: a time constant below dt = {dt} s cannot be stepped on dt; give a smaller dt")
    circuit.add_population(name, n, LoihiCUBA, decay_u=decay_u, decay_v=decay_v, bias=bias,
                           vth=_vector(node.v_threshold, n))
    return scale


__all__ = ["Export", "export_run", "write_graph", "evaluate_stateless", "circuit_from_nir", "exporters",
           "sbp_graph", "erbp_graph", "ssnn_graph"]
