"""Synfire-gated parts (spikingbp.circuits.sgsc): each fires exactly when its rule says, on every device.

Every part is a function ``part_*(circuit, rng, prefix)`` that adds its populations to a circuit and
returns (steps it needs, a check of a run's result against numpy). The fast tests run each part alone
on runtime (numpy target); the slow tests put all parts into one circuit and build it once on
cpp_standalone (and on GeNN where installed), so that one build covers every part.
"""
import numpy as np
import pytest
from numpy.testing import assert_array_equal

from spikingbp.circuits.circuit import Circuit
from spikingbp.circuits.sgsc import (CONNECTION_TYPES, DATA_BIAS, MAX_DELAY, THRESHOLD, add_layer, gated_product,
                                     gating_chain, parse_type, push_pull, relay, wire)
from spikingbp.devices import find_genn
from spikingbp.errors import ConfigError
from conftest import assert_genn_matches_circuit


def spike_source(circuit, name, matrix, start=0):
    """A source whose unit k spikes at step start + t wherever ``matrix[t, k]`` (bool, (steps, units))."""
    step, unit = np.nonzero(matrix)
    circuit.add_source(name, matrix.shape[1], unit, step + start)


def shifted(values, start, steps):
    """A (steps, units) bool matrix that is ``values`` at rows start, start + 1, ... and False elsewhere."""
    out = np.zeros((steps, values.shape[1]), bool)
    out[start:start + len(values)] = values
    return out


def with_exact_sums(rng, X, W, targets):
    """Change one weight of unit k (k < 2 len(targets)) so that its input in trial k mod len(X) is exactly
    targets[k mod len(targets)]: this puts sums exactly at the thresholds (strictness checks)."""
    W = W.copy()
    for k in range(min(2 * len(targets), W.shape[1])):
        trial = X[k % len(X)]
        active = np.flatnonzero(trial)
        pick = rng.choice(active)
        W[pick, k] += targets[k % len(targets)] - trial @ W[:, k]
    return W


def random_inputs(rng, trials, n_in, p=0.5):
    """Random input bits (trials, n_in), each trial with at least one active input."""
    X = rng.random((trials, n_in)) < p
    X[np.arange(trials), rng.integers(0, n_in, trials)] = True
    return X


# ------------------------------------------------------------------------------------------------ parts
def part_chains(circuit, rng, prefix="", stages=5, kick=2):
    """A ring of ``stages`` gates and a 3-stage line, kicked at step ``kick`` (the line one step later)."""
    ring = gating_chain(circuit, stages, prefix=f"{prefix}ring", kick_step=kick)
    line = gating_chain(circuit, 3, prefix=f"{prefix}line", ring=False, kick_step=kick + 1)

    def check(result):
        t = np.arange(result.steps)[:, None]
        fired = np.column_stack([result.spike_matrix(name)[:, 0] for name in ring])
        expected = (t >= kick + 1) & ((t - kick - 1) % stages == np.arange(stages))
        assert_array_equal(fired, expected)  # stage k at kick + 1 + k + m * stages: in order, wrapping
        assert (fired[kick + 1:].sum(axis=1) == 1).all() and (fired[:kick + 1].sum() == 0)
        assert expected[:, 0].sum() >= 3, "the ring should go round several times"
        fired = np.column_stack([result.spike_matrix(name)[:, 0] for name in line])
        assert_array_equal(fired, t == kick + 2 + np.arange(3))  # each line stage exactly once, then silence

    return kick + 1 + 3 * stages + 2, check


# (gate rows into the layer, the rule on the layer's input sum a)
THRESHOLD_RULES = {
    "g": (("g",), lambda a: a > 512),
    "gm05": (("g", "gm05"), lambda a: a > 0),
    "gp05": (("gp05",), lambda a: a > 1024),
    "none": ((), lambda a: np.zeros(a.shape, bool)),
    "gi": (("g", "gi"), lambda a: np.zeros(a.shape, bool)),  # would need a > 8640
}
EXACT_SUMS = [0, 512, 1024, 1, -1, 511, 513, 1023, 1025, -512]


def part_thresholds(circuit, rng, prefix="", n_in=8, n=48, trials=14, start=1):
    """Random integer-weighted input sums, one new input pattern per step, each arriving with the gate."""
    X = random_inputs(rng, trials, n_in)
    W = with_exact_sums(rng, X, rng.integers(-700, 701, (n_in, n)).astype(float), EXACT_SUMS)
    spike_source(circuit, f"{prefix}thr_x", X, start)
    circuit.add_source(f"{prefix}thr_gate", 1, np.zeros(trials, int), start + np.arange(trials))
    for rule, (gates, _) in THRESHOLD_RULES.items():
        layer = f"{prefix}thr_{rule}"
        add_layer(circuit, layer, n)
        circuit.connect(f"{prefix}thr_x", layer, W, pattern="all_to_all", kind="w")
        wire(circuit, [(f"{prefix}thr_gate", layer, kind) for kind in gates])

    def check(result):
        a = X.astype(float) @ W
        assert set(EXACT_SUMS) <= set(a.ravel()) and a.max() < 8640
        for rule, (_, fires) in THRESHOLD_RULES.items():
            expected = shifted(fires(a), start + 1, result.steps)
            assert_array_equal(result.spike_matrix(f"{prefix}thr_{rule}"), expected, err_msg=rule)
            if rule in ("g", "gm05", "gp05"):
                assert 0 < expected.sum() < a.size, f"{rule}: the random sums should fall on both sides"

    return start + trials + 2, check


def part_relays(circuit, rng, prefix="", n=4, active=10):
    """Relays with delays 0..6 into always-open layers, and 1e/1i sums a + b - c."""
    steps = active + MAX_DELAY + 3
    x = rng.random((active, n)) < 0.35
    spike_source(circuit, f"{prefix}rel_x", x)
    opened = f"{prefix}rel_open"  # a gate in every step: a unit fires in exactly the steps a relay arrives
    circuit.add_source(opened, 1, np.zeros(steps, int), np.arange(steps))
    for delay in range(MAX_DELAY + 1):
        add_layer(circuit, f"{prefix}rel_d{delay}", n)
        relay(circuit, f"{prefix}rel_x", f"{prefix}rel_d{delay}", opened, delay=delay)

    combos = np.array([[(k >> b) & 1 for k in range(8)] for b in range(3)], bool)  # every (a, b, c) once
    bits = [np.vstack([combo, rng.random((4, 8)) < 0.5]) for combo in combos]
    for name, value in zip("abc", bits):
        spike_source(circuit, f"{prefix}rel_{name}", value)
    add_layer(circuit, f"{prefix}rel_sum", 8)  # 520 (a + b - c) > 512: fires iff a + b - c >= 1
    relay(circuit, f"{prefix}rel_a", f"{prefix}rel_sum", opened)
    wire(circuit, [(f"{prefix}rel_b", f"{prefix}rel_sum", "1e"), (f"{prefix}rel_c", f"{prefix}rel_sum", "1i")])
    add_layer(circuit, f"{prefix}rel_andnot", 8)  # a AND NOT c (f' = h< AND NOT h> in sBP)
    relay(circuit, f"{prefix}rel_c", f"{prefix}rel_andnot", opened, sign=-1)
    wire(circuit, [(f"{prefix}rel_a", f"{prefix}rel_andnot", "1e")])

    def check(result):
        for delay in range(MAX_DELAY + 1):
            fired = result.spike_matrix(f"{prefix}rel_d{delay}")
            assert_array_equal(fired, shifted(x, 1 + delay, result.steps), err_msg=f"delay {delay}")
        a, b, c = (v.astype(int) for v in bits)
        assert_array_equal(result.spike_matrix(f"{prefix}rel_sum"), shifted(a + b - c >= 1, 1, result.steps))
        assert_array_equal(result.spike_matrix(f"{prefix}rel_andnot"),
                           shifted((a == 1) & (c == 0), 1, result.steps))

    return steps, check


def part_product(circuit, rng, prefix="", n=16, trials=10, start=1):
    """out = value AND factor (gated_product, and sBP's g1 conditional gate alone), per step."""
    value, factor = rng.random((trials, n)) < 0.5, rng.random((trials, n)) < 0.5
    value[0], factor[0] = [True, True, False, False] * (n // 4), [True, False, True, False] * (n // 4)
    gate_on = np.ones(trials, bool)
    gate_on[[3, 7]] = False  # no phase gate: nothing may fire
    spike_source(circuit, f"{prefix}prod_value", value, start)
    spike_source(circuit, f"{prefix}prod_factor", factor, start)
    circuit.add_source(f"{prefix}prod_gate", 1, np.zeros(gate_on.sum(), int), start + np.flatnonzero(gate_on))
    add_layer(circuit, f"{prefix}prod_out", n)
    gated_product(circuit, f"{prefix}prod_value", f"{prefix}prod_factor", f"{prefix}prod_out", f"{prefix}prod_gate")
    add_layer(circuit, f"{prefix}prod_g1", n)
    wire(circuit, [(f"{prefix}prod_value", f"{prefix}prod_g1", "1e"), (f"{prefix}prod_factor", f"{prefix}prod_g1", "g1")])

    def check(result):
        product = value & factor
        assert 0 < product[gate_on].sum() < product[gate_on].size
        assert_array_equal(result.spike_matrix(f"{prefix}prod_out"),
                           shifted(product & gate_on[:, None], start + 1, result.steps))
        assert_array_equal(result.spike_matrix(f"{prefix}prod_g1"), shifted(product, start + 1, result.steps))

    return start + trials + 2, check


def part_push_pull(circuit, rng, prefix="", n_in=6, n=24, m=16, trials=10):
    """sBP's error pathway in push-pull form. A 2-stage gate ring times it: with gate 0, a signed input
    s = W^T x is thresholded into s_plus (s > 0) and s_minus (s < 0), a ternary d = s_plus - s_minus like
    d+ and d-; with gate 1, d goes back through +V (from s_plus) and -V (from s_minus), like W2Tp and
    W2Tm, and is thresholded again into q_plus (V^T d > 0) and q_minus (V^T d < 0), both halves of the
    backward pass at once. Input pattern tau arrives at step 1 + 2 tau, d at 2 + 2 tau, q at 3 + 2 tau."""
    gates = gating_chain(circuit, 2, prefix=f"{prefix}ppg")
    X = random_inputs(rng, trials, n_in)
    W = with_exact_sums(rng, X, rng.integers(-600, 601, (n_in, n)).astype(float), [0, 1, -1])
    V = rng.integers(-2, 3, (n, m)).astype(float)
    x = np.zeros((2 * trials, n_in), bool)
    x[::2] = X
    spike_source(circuit, f"{prefix}pp_x", x, start=1)
    s_plus, s_minus = push_pull(circuit, f"{prefix}pp_s", n, pre=f"{prefix}pp_x", weight=W, gate=gates[0])
    q_plus, q_minus = push_pull(circuit, f"{prefix}pp_q", m, pre=(s_plus, s_minus), weight=V, gate=gates[1])

    def check(result):
        s = X.astype(float) @ W
        d = np.sign(s).astype(int)
        q = np.sign(d @ V).astype(int)
        assert {-1, 0, 1} <= set(d.ravel()) and {-1, 0, 1} <= set(q.ravel())
        for (plus, minus), value, first in (((s_plus, s_minus), d, 2), ((q_plus, q_minus), q, 3)):
            every_other = np.zeros((2 * trials, value.shape[1]), int)
            every_other[::2] = value
            assert_array_equal(result.spike_matrix(plus), shifted(every_other > 0, first, result.steps))
            assert_array_equal(result.spike_matrix(minus), shifted(every_other < 0, first, result.steps))
            decoded = result.spike_matrix(plus).astype(int) - result.spike_matrix(minus)
            assert_array_equal(decoded[first:first + 2 * trials:2], value)  # plus - minus = sign

    return 2 * trials + 4, check


PARTS = {"chains": part_chains, "thresholds": part_thresholds, "relays": part_relays,
         "product": part_product, "push_pull": part_push_pull}


def bundle(seed=0):
    """Every part in one circuit (one NeuronGroup, one SpikeGeneratorGroup): one build checks them all."""
    rng = np.random.default_rng(seed)
    circuit = Circuit("sgsc_bundle")
    built = [PARTS[name](circuit, rng, prefix=f"{name}_") for name in PARTS]
    return circuit, max(steps for steps, _ in built), [check for _, check in built]


# ------------------------------------------------------------------------------------------------ tests
def test_connection_types_follow_the_spec():
    # a unit fires iff input + gates + bias > 1024
    assert CONNECTION_TYPES["g"].weight + DATA_BIAS == 512  # g: input > 512
    assert CONNECTION_TYPES["g"].weight + CONNECTION_TYPES["gm05"].weight + DATA_BIAS == 1024  # g + gm05: > 0
    assert CONNECTION_TYPES["gp05"].weight + DATA_BIAS == 0  # gp05: input > 1024
    assert CONNECTION_TYPES["1e"].weight + 512 > THRESHOLD >= 512  # a relay alone crosses, the gate alone not
    assert CONNECTION_TYPES["1ge"].weight > THRESHOLD  # a gating unit (bias 0) follows its predecessor
    for delay in range(MAX_DELAY + 1):
        assert parse_type(f"1e_d{delay}") == (CONNECTION_TYPES["1e"], delay)
    assert parse_type("1i") == (CONNECTION_TYPES["1i"], 0)
    for kind in ("1e_d7", "1e_d-1", "1e_dx", "x", "g_d"):
        with pytest.raises(ConfigError, match="connection type"):
            parse_type(kind)


@pytest.mark.parametrize("stages", [2, 5, 12])
def test_ring_fires_one_stage_per_step_and_wraps(stages):
    circuit = Circuit("chains")
    steps, check = part_chains(circuit, np.random.default_rng(0), stages=stages, kick=1)
    check(circuit.run(steps, target="numpy"))


def test_gating_chain_rejects_one_stage():
    with pytest.raises(ConfigError, match="at least 2 stages"):
        gating_chain(Circuit("c"), 1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gated_layer_thresholds(seed):
    """g: fires iff input > 512; g + gm05: > 0; gp05: > 1024; no gate or gi: never (exact sums included)."""
    circuit = Circuit("thresholds")
    steps, check = part_thresholds(circuit, np.random.default_rng(seed))
    check(circuit.run(steps, target="numpy"))


def test_relays_arrive_after_one_plus_delay_steps_and_1i_subtracts():
    circuit = Circuit("relays")
    steps, check = part_relays(circuit, np.random.default_rng(3))
    check(circuit.run(steps, target="numpy"))


@pytest.mark.parametrize("seed", [0, 1])
def test_gated_product_is_elementwise_and(seed):
    circuit = Circuit("product")
    steps, check = part_product(circuit, np.random.default_rng(seed))
    check(circuit.run(steps, target="numpy"))


@pytest.mark.parametrize("seed", [0, 1])
def test_push_pull_carries_the_sign_through_plus_and_minus(seed):
    circuit = Circuit("push_pull")
    steps, check = part_push_pull(circuit, np.random.default_rng(seed))
    check(circuit.run(steps, target="numpy"))


def test_push_pull_without_input_only_makes_the_layers():
    circuit = Circuit("pp")
    assert push_pull(circuit, "d", 3) == ("d_plus", "d_minus")
    assert list(circuit.populations) == ["d_plus", "d_minus"] and not circuit.projections
    with pytest.raises(ConfigError, match="pair"):
        push_pull(circuit, "e", 3, pre=("d_plus",), weight=1.0)
    assert list(circuit.populations) == ["d_plus", "d_minus"], "a refused call adds nothing"


def test_bundle_matches_the_parts():
    """The merged circuit (all parts share groups and Synapses) behaves like the parts alone."""
    circuit, steps, checks = bundle()
    result = circuit.run(steps, target="numpy")
    for check in checks:
        check(result)


@pytest.mark.slow
def test_bundle_identical_on_cpp_standalone(tmp_path):
    circuit, steps, checks = bundle()
    reference = circuit.run(steps, target="numpy")
    result = circuit.run(steps, device="cpp_standalone", directory=str(tmp_path / "cpp"))
    for check in checks:
        check(result)
    for name in circuit.populations:
        assert_array_equal(result.spike_matrix(name), reference.spike_matrix(name), err_msg=name)


@pytest.mark.parametrize("part", list(PARTS))
def test_every_part_passes_genn_code_generation(part, tmp_path):
    circuit = Circuit(part)
    steps, _ = PARTS[part](circuit, np.random.default_rng(0))
    out = circuit.run(steps, device="genn", directory=str(tmp_path / "genn"), compile=False, run=False)
    assert out is None
    assert_genn_matches_circuit(tmp_path / "genn", circuit)


@pytest.mark.slow
def test_bundle_identical_on_genn(tmp_path):
    if find_genn() is None:
        pytest.skip("GeNN 4.x not found (set GENN_PATH to compile and run the genn device); "
                    "code generation is checked by test_every_part_passes_genn_code_generation")
    circuit, steps, checks = bundle()
    reference = circuit.run(steps, target="numpy")
    result = circuit.run(steps, device="genn", directory=str(tmp_path / "genn"))
    for check in checks:
        check(result)
    for name in circuit.populations:
        assert_array_equal(result.spike_matrix(name), reference.spike_matrix(name), err_msg=name)
