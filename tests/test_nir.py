"""NIR export of trained networks (``spikingbp export-nir``, ``spikingbp.nirgraph``) and import of NIR graphs as
circuits."""
import nir
import numpy as np
import pytest

from spikingbp.cli import main
from spikingbp.nirgraph import exporters, circuit_from_nir, evaluate_stateless, export_run, write_graph
from spikingbp.training import TrainConfig, load_run, train


@pytest.fixture(scope="module")
def sbp_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("nir") / "sbp"
    train(TrainConfig(out=out, algorithm="sbp", hidden=(24,), epochs=1, device="reference", progress=False))
    return out


def _parameters(node) -> dict:
    return {k: np.asarray(v) for k, v in node.to_dict().items() if k not in ("type", "metadata")}


def test_export_nir_command_writes_a_file_nir_reads(sbp_run, capsys):
    path = sbp_run / "model.nir"
    assert main(["export-nir", str(sbp_run), "--out", str(path)]) == 0
    printed = capsys.readouterr().out
    graph = nir.read(str(path))
    assert set(graph.nodes) == {"input", "W0", "h", "W1", "o", "output", "potential"}
    for name, node in graph.nodes.items():
        assert f"  {name}: {type(node).__name__}" in printed
    for a, b in graph.edges:
        assert f"  {a} -> {b}" in printed
    assert "not expressed in NIR:" in printed and "gating chain" in printed
    assert main(["export-nir", str(sbp_run), "--out", str(sbp_run / "no" / "model.nir")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("algorithm, options", [("sbp", {}), ("erbp", {}), ("ssnnbp", {"Ts": 20})])
def test_round_trip_keeps_every_parameter(algorithm, options, tmp_path):
    from spikingbp.algorithms import create
    from spikingbp.training import load_data

    model = create(algorithm, options)
    data = load_data(model, "digits", limit_train=1, limit_test=1)
    params = model.init_params(data.sizes((12,)), 0)
    export = exporters()[algorithm](params, model)
    back = nir.read(str(write_graph(export.graph, tmp_path / "g.nir")))
    assert set(back.nodes) == set(export.graph.nodes)
    assert sorted(back.edges) == sorted(export.graph.edges)
    for name, node in export.graph.nodes.items():
        assert type(back.nodes[name]) is type(node)
        expected, got = _parameters(node), _parameters(back.nodes[name])
        assert set(expected) == set(got), name
        for key in expected:
            assert np.array_equal(expected[key], got[key]), (name, key)
    weights = [k for k in export.graph.nodes if k.startswith("W")]
    assert len(weights) == 2 and np.array_equal(back.nodes[weights[0]].weight, np.asarray(params[weights[0]]).T)


def test_sbp_predictions_from_the_graph_equal_the_circuits(sbp_run):
    """NIR's definitions of Linear and Threshold, applied to the exported graph, give the circuit's output spikes
    and potentials on 200 test samples (and so its argmax predictions)."""
    from spikingbp.circuits import sbp

    run = load_run(sbp_run)
    data = run.data(limit=200)
    graph = nir.read(str(write_graph(export_run(sbp_run).graph, sbp_run / "check.nir")))
    outputs = evaluate_stateless(graph, data.X_test)
    spikes, potentials = sbp.infer(run.final["W0"], run.final["W1"], data.X_test, device="runtime", target="numpy")
    assert len(data.X_test) == 200
    assert np.array_equal(outputs["output"].astype(bool), spikes)
    assert np.array_equal(outputs["potential"], potentials)
    assert np.array_equal(np.argmax(outputs["potential"], axis=1), np.argmax(potentials, axis=1))
    assert spikes.any() and potentials.std() > 0   # the comparison saw activity


def test_imported_graph_runs_as_nir_defines_it(tmp_path):
    """Input -> Linear -> IF -> Linear -> LIF, written and read back, imported and run on runtime: the IF unit
    (no leak) fires on the 3rd input spike of weight 0.4 V (v > 1 V) and resets; the LIF unit, whose single
    input jump R W / tau = 2 V passes its 1 V threshold at once, fires one step after each IF spike."""
    graph = nir.NIRGraph(nodes={
        "input": nir.Input({"input": np.array([1])}),
        "L1": nir.Linear(np.array([[0.4]])),
        "if": nir.IF(r=np.array([1.0]), v_threshold=np.array([1.0]), v_reset=np.array([0.0])),
        "L2": nir.Linear(np.array([[2e-3]])),
        "lif": nir.LIF(tau=np.array([1e-3]), r=np.array([1.0]), v_leak=np.array([0.0]), v_threshold=np.array([1.0]),
                       v_reset=np.array([0.0])),
        "output": nir.Output({"output": np.array([1])})},
        edges=[("input", "L1"), ("L1", "if"), ("if", "L2"), ("L2", "lif"), ("lif", "output")])
    graph = nir.read(str(write_graph(graph, tmp_path / "small.nir")))
    steps = np.arange(0, 60, 5)                       # an input spike every 5 steps
    circuit = circuit_from_nir(graph, {"input": (np.zeros(len(steps), int), steps)}, dt=1e-4)
    result = circuit.run(70, "runtime", target="numpy")
    if_steps = result.spikes["if"][0]
    # spikes of steps 0, 5, 10 arrive at 1, 6, 11: v = 0.4, 0.8, 1.2 > 1 -> fires at 11, then at 26, 41, 56
    assert list(if_steps) == [11, 26, 41, 56]
    assert list(result.spikes["lif"][0]) == [s + 1 for s in if_steps]
    with pytest.raises(Exception, match="non-zero bias"):
        circuit_from_nir(nir.NIRGraph(nodes={"input": nir.Input({"input": np.array([1])}),
                                             "A": nir.Affine(np.array([[1.0]]), np.array([0.5])),
                                             "if": nir.IF(r=np.array([1.0]), v_threshold=np.array([1.0]))},
                                      edges=[("input", "A"), ("A", "if")]), {"input": ([0], [0])})


def test_an_imported_graph_passes_genn_code_generation(tmp_path):
    """The imported circuit (CubaLIF as LIF, LIF as DeltaLIF) is one brian2genn can generate (GeNN compiles and
    runs it where GENN_PATH is set; CI checks the code generation)."""
    graph = nir.NIRGraph(nodes={
        "input": nir.Input({"input": np.array([3])}),
        "L1": nir.Linear(np.full((2, 3), 0.02)),
        "cuba": nir.CubaLIF(tau_syn=np.full(2, 5e-3), tau_mem=np.full(2, 1e-2), r=np.ones(2), v_leak=np.zeros(2),
                            v_threshold=np.full(2, 0.01), w_in=np.full(2, 5e-3)),
        "L2": nir.Linear(np.full((1, 2), 0.5)),
        "lif": nir.LIF(tau=np.full(1, 1e-2), r=np.ones(1), v_leak=np.zeros(1), v_threshold=np.full(1, 0.01)),
        "output": nir.Output({"output": np.array([1])})},
        edges=[("input", "L1"), ("L1", "cuba"), ("cuba", "L2"), ("L2", "lif"), ("lif", "output")])
    circuit = circuit_from_nir(graph, {"input": ([0, 1, 2], [0, 0, 1])})
    circuit.run(20, "genn", str(tmp_path), compile=False, run=False)
    model = (tmp_path / "magicnetwork_model.cpp").read_text().lower()
    # one NeuronGroup per model (LIF for the CubaLIF node, DeltaLIF for the LIF node) and the plastic-free synapses
    assert "nir_lifneuron" in model and "nir_deltalifneuron" in model and "nir_l2weightupdate" in model


def test_a_graph_imported_as_loihi_compartments_spikes_identically_in_lava():
    """``discrete=True`` steps NIR's equations on dt with LoihiCUBA compartments, which the Lava translator maps:
    Brian2 and Lava spike identically on every unit at every step, and both layers are active."""
    from spikingbp.lava import verify

    rng = np.random.default_rng(0)
    graph = nir.NIRGraph(nodes={
        "input": nir.Input({"input": np.array([8])}),
        "L1": nir.Linear(rng.uniform(0, 0.05, (6, 8))),
        "cuba": nir.CubaLIF(tau_syn=np.full(6, 5e-3), tau_mem=np.full(6, 1e-2), r=np.ones(6), v_leak=np.zeros(6),
                            v_threshold=np.full(6, 0.01), w_in=np.full(6, 5e-3)),
        "L2": nir.Linear(rng.uniform(0, 0.02, (3, 6))),
        "lif": nir.LIF(tau=np.full(3, 1e-2), r=np.ones(3), v_leak=np.zeros(3), v_threshold=np.full(3, 0.01)),
        "output": nir.Output({"output": np.array([3])})},
        edges=[("input", "L1"), ("L1", "cuba"), ("cuba", "L2"), ("L2", "lif"), ("lif", "output")])
    step, unit = np.nonzero(rng.random((300, 8)) < 0.1)
    circuit = circuit_from_nir(graph, {"input": (unit, step)}, dt=1e-3, discrete=True)
    populations = circuit.populations
    assert populations["cuba"].params["decay_u"][0] == pytest.approx(0.2)      # dt / tau_syn
    assert populations["lif"].params["decay_u"][0] == 1.0                      # no current: a spike moves v
    check = verify(circuit, 300)
    for name in ("cuba", "lif"):
        assert check.populations[name].identical and check.populations[name].brian_spikes > 100, name


def test_write_graph_refuses_a_file_as_directory_and_writes_readable_files(tmp_path, sbp_run):
    import os

    from spikingbp.errors import ConfigError

    export = export_run(sbp_run)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="is a file"):
        write_graph(export.graph, tmp_path / "file" / "g.nir")
    path = write_graph(export.graph, tmp_path / "g.nir")
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
