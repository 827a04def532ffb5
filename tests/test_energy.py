"""Operation counts of a circuit run (``spikingbp.circuits.counts``) on a circuit small enough to count by hand,
and ``spikingbp energy RUN_DIR`` (``spikingbp.energy``) on an sBP run."""
import numpy as np
import pandas as pd
import pytest
from brian2 import ms

from spikingbp import energy
from spikingbp.circuits.circuit import Circuit
from spikingbp.circuits.counts import count_operations
from spikingbp.cli import main
from spikingbp.models.neurons import LoihiCUBA, LoihiCUBAModulated
from spikingbp.models.plasticity import SBPRewardRule, ThreeFactorSTDP

BINARY = dict(decay_u=1.0, decay_v=1.0, vth=0.5)  # fires in the step its input arrives, forgets it after


def hand_countable():
    """s (2 source units) -> a (3) -> b (2), a -> c (1, never fires), a -> d (1, fires on any input).

    s fires unit 0 at steps 0 and 3, unit 1 at step 1; a spike of step t arrives at step t + 1, so all of a fires
    at steps 1, 2 and 4 (9 spikes); b0 (from a0) and b1 (from a0, a1) fire at 2, 3 and 5 (6 spikes); d at 2, 3, 5."""
    c = Circuit("count", 1 * ms)
    c.add_source("s", 2, indices=[0, 1, 0], steps=[0, 1, 3])
    c.add_population("a", 3, LoihiCUBA, **BINARY)
    c.add_population("b", 2, LoihiCUBA, **BINARY)
    c.add_population("c", 1, LoihiCUBAModulated, decay_u=1.0, decay_v=1.0, vth=100.0)
    c.add_population("d", 1, LoihiCUBAModulated, **BINARY)
    c.connect("s", "a", 1.0, pattern="all_to_all", name="sa")
    c.connect("a", "b", 1.0, i=[0, 0, 1], j=[0, 1, 1], name="ab")       # fan-out 2, 1, 0
    c.connect("a", "c", 1.0, pattern="all_to_all", synapse=SBPRewardRule, name="ac")
    c.connect("a", "d", 1.0, pattern="all_to_all", synapse=ThreeFactorSTDP, name="ad", eta=0.0)
    return c


def test_counts_of_a_circuit_counted_by_hand():
    circuit = hand_countable()
    result = circuit.run(8, "runtime", target="numpy")
    assert {name: list(result.spikes[name][0]) for name in "abcd"} == {
        "a": [1, 1, 1, 2, 2, 2, 4, 4, 4], "b": [2, 2, 3, 3, 5, 5], "c": [], "d": [2, 3, 5]}
    learning = np.arange(8) < 3  # the rules act in steps 0, 1, 2
    counts = count_operations(circuit, result, samples=2, learning=learning)
    assert counts.spikes == {"s": 3, "a": 9, "b": 6, "c": 0, "d": 3}
    # spikes x fan-out: s 3 x 3; a 3 x (2 + 1 + 0); a 9 x 1 into c and into d; d's spikes run ThreeFactorSTDP's
    # on_post, which sends nothing back to a: no synaptic event, but a rule execution
    assert counts.synaptic_events == {"sa": 9, "ab": 9, "ac": 9, "ad": 9}
    # a's spikes of steps 1 and 2 (6 of them) reach one plastic synapse each, into c and into d; d's spike of
    # step 2 runs on_post on its 3 synapses
    assert counts.plastic_updates == {"ac": 6, "ad": 6 + 3}
    assert counts.neuron_updates == {"a": 24, "b": 16, "c": 8, "d": 8}
    # active: a at 1, 2, 4 (3 units); b at 2, 3, 5 (2 units); c and d receive at 2, 3, 5
    assert counts.active_updates == {"a": 9, "b": 6, "c": 3, "d": 3}
    assert counts.per_sample("synaptic_events") == 36 / 2
    everything = count_operations(circuit, result, samples=1)  # learning at every step
    assert everything.plastic_updates == {"ac": 9, "ad": 9 + 3 * 3}


def test_counting_needs_every_population_recorded():
    circuit = hand_countable()
    result = circuit.run(8, "runtime", target="numpy", record_spikes=["a", "b"])
    with pytest.raises(Exception, match=r"did not record \['c', 'd'\]"):
        count_operations(circuit, result, samples=1)


def test_energy_command_on_an_sbp_run(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--algorithm", "sbp", "--dataset", "digits", "--epochs", "1", "--hidden", "12", "--limit",
                 "40", "--limit-test", "20", "--out", str(run), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["energy", str(run), "--samples", "3"]) == 0
    printed = capsys.readouterr().out
    for line in ("synaptic_events", "spikes", "plastic_updates", "uJ_loihi1", "paper, train: 590.0 uJ, 1.5 ms"):
        assert line in printed
    frame = pd.read_csv(run / energy.ENERGY_FILE)
    counts = frame[frame.section == "counts"]
    per_kind = counts.groupby(["phase", "kind"])["per_sample"].sum()
    assert per_kind["train", "plastic_updates"] > 0 and "plastic_updates" not in per_kind["inference"].index
    assert per_kind["train", "spikes"] > per_kind["inference", "spikes"] > 0
    # sBP steps: 12 per training sample (+3 to start), 4 per inference (+2); the digits network has 64 + 12 + 10
    # units and its circuit more (copies, gates): every unit updates in every step
    # (per-sample means read back from CSV: whole to within its rounding)
    assert round(per_kind["inference", "neuron_updates"] * 3, 6) % (4 * 3 + 2) == 0
    # the Loihi estimate is the counts priced by Davies et al.'s table
    pj = energy.PLATFORMS["loihi1"].pj
    train = per_kind["train"]
    expected = (pj["synaptic_events"] * train["synaptic_events"] + pj["plastic_updates"] * train["plastic_updates"]
                + pj["active_updates"] * train["active_updates"] + pj["spikes"] * train["spikes"]
                + pj["inactive_updates"] * (train["neuron_updates"] - train["active_updates"])) * 1e-6
    estimates = frame[frame.section == "estimate"].set_index(["phase", "platform"])
    assert estimates.loc[("train", "loihi1"), "energy_uJ"] == pytest.approx(expected, rel=1e-12)
    assert estimates.loc[("train", "loihi1"), "delay_ms"] == pytest.approx(1.5)  # 12 steps of 125 us
    macs = 64 * 12 + 12 * 10
    assert estimates.loc[("inference", "gpu"), "energy_uJ"] == pytest.approx(macs * energy.DENSE["gpu"].pj_per_mac * 1e-6)
    assert (run / energy.ENERGY_RECORD).is_file()


def test_energy_command_refuses_bad_input(tmp_path, capsys):
    assert main(["energy", str(tmp_path), "--samples", "3"]) == 3
    assert "not a finished training run" in capsys.readouterr().err
    run = tmp_path / "run"
    assert main(["train", "--algorithm", "sbp", "--epochs", "1", "--hidden", "8", "--limit", "10", "--limit-test", "10",
                 "--out", str(run), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["energy", str(run), "--samples", "0"]) == 2
    assert "--samples 0 must be at least 1" in capsys.readouterr().err
    assert not (run / energy.ENERGY_FILE).exists()
