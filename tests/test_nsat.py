"""The NSAT neuron family (spikingbp.models.nsat) against a direct numpy iteration of the eRBP spec's
discrete equations (../shared/spec/erbp.md, "NSAT neuron and synapse models").

Timing convention checked here: x[t] is the state at the end of step t (after the reset), x[-1] the
initial value; a presynaptic spike at step t contributes sum_j w_j s_j[t] to x[t+1]; a unit spikes at
step t when its threshold holds for the new x[t]. Brian2's StateMonitor (slot ``start``) records
x[t - 1] at step t.
"""
import glob
import os

import numpy as np
import pytest
from brian2 import Network, SpikeGeneratorGroup, SpikeMonitor, StateMonitor, defaultclock, ms, seed

from spikingbp.circuits.build import neuron_group, synapses
from spikingbp.devices import use_device
from spikingbp.errors import ConfigError
from spikingbp.models.nsat import (BlankOutSynapse, NSATDualCompartment, NSATFirstOrder,
                                   NSATMihalasNiebur, NSATSecondOrder, NSATStochasticLIF)
from spikingbp.models.synapses import Static

N_IN, N_OUT, STEPS = 20, 4, 200
RTOL = 1e-9


# --------------------------------------------------------------------------------------------------
# The spec's maps, written out independently of the Brian2 strings. Each takes the states x[t] and the
# synaptic input I[t] = sum_j w_j s_j[t] and returns x[t+1] before the threshold test.

def map_stochastic_lif(x, I, p):
    return {"V": -p["alpha"] * x["V"] + I}


def map_first_order(x, I, p):
    return {"V": -p["alpha"] * x["V"] + x["I_syn"],
            "I_syn": -p["a1"] * x["I_syn"] + I}


def map_second_order(x, I, p):
    return {"V": -p["alpha"] * x["V"] + x["I_syn"],
            "I_syn": -p["a1"] * x["I_syn"] + p["c1"] * x["I_s"] + 0.0 + p["b"],  # eta[t] = 0
            "I_s": -p["a2"] * x["I_s"] + I}


def map_dual_compartment(x, I, p):
    return {"V1": -p["alpha"] * x["V1"] + p["alpha21"] * x["V2"],
            "V2": -p["alpha"] * x["V2"] + p["alpha12"] * x["V1"] + x["I_syn"],
            "I_syn": -p["a1"] * x["I_syn"] + I + 0.0 + p["b"]}  # eta[t] = 0


def map_mihalas_niebur(x, I, p):
    return {"V": p["alpha"] * x["V"] + p["I_e"] - p["G"] * p["E_L"] + x["I_1"] + x["I_2"] + I,
            "Theta": (1 - p["b"]) * x["Theta"] + p["a"] * x["V"] - p["a"] * p["E_L"] + p["b"],
            "I_1": -p["alpha_1"] * x["I_1"],
            "I_2": -p["alpha_2"] * x["I_2"]}


def spike_v(x, p):
    return x["V"] >= p["T"]


def spike_v1(x, p):
    return x["V1"] >= p["T"]


def spike_mn(x, p):
    return x["V"] >= x["Theta"]


def reset_v(x, s, p):
    x["V"] = np.where(s, p["V_reset"], x["V"])
    return x


def reset_v1(x, s, p):
    x["V1"] = np.where(s, p["V_reset"], x["V1"])
    return x


def reset_mn(x, s, p):
    x["V"] = np.where(s, p["V_reset"], x["V"])
    for var, tag in (("I_1", "1"), ("I_2", "2"), ("Theta", "Theta")):
        kept, value, jump = p["R_" + tag], p[var + "_reset"], p["A_" + tag]
        x[var] = np.where(s, kept * x[var] + (1 - kept) * value + jump, x[var])
    return x


def iterate(step_map, spikes_when, reset, params, init, inputs):
    """x[t+1] = reset(F(x[t], I[t])) for t = -1 .. steps - 2, with x[-1] = init and I[-1] = 0.

    ``inputs[t]`` is I[t] (shape steps x n). Returns what StateMonitor records, trace[var][:, t] = x[t - 1],
    and the set of (unit, step) spikes."""
    steps = inputs.shape[0]
    x = {k: np.array(v, dtype=float) for k, v in init.items()}
    traces = {k: [] for k in x}
    spikes = set()
    for t in range(steps):  # computes x[t] from x[t - 1] and I[t - 1]
        for k in x:
            traces[k].append(x[k].copy())
        arrived = inputs[t - 1] if t > 0 else np.zeros(inputs.shape[1])
        x = step_map(x, arrived, params)
        fired = spikes_when(x, params)
        spikes |= {(int(i), t) for i in np.flatnonzero(fired)}
        x = reset(x, fired, params)
    return {k: np.array(v).T for k, v in traces.items()}, spikes


# --------------------------------------------------------------------------------------------------
# Cases: model, parameters (some per unit), initial state, weight scale, reference pieces.

CASES = {
    "NSATStochasticLIF": dict(
        model=NSATStochasticLIF,
        params=dict(alpha=np.array([-0.9, -0.8, -0.95, -0.85]), T=5.0,
                    V_reset=np.array([0.0, -1.0, 0.5, 0.0])),
        init=dict(V=np.array([0.0, 2.0, -1.0, 4.9])),
        weights=(-0.5, 1.5), reference=(map_stochastic_lif, spike_v, reset_v)),
    "NSATFirstOrder": dict(
        model=NSATFirstOrder,
        params=dict(alpha=np.array([-0.9, -0.85, -0.95, -0.92]), a1=np.array([-0.7, -0.5, -0.8, -0.6]),
                    T=20.0, V_reset=np.array([0.0, -3.0, 1.0, 0.0])),
        init=dict(V=np.array([0.0, 5.0, -2.0, 19.0]), I_syn=np.array([0.0, 1.0, 2.0, -1.0])),
        weights=(-0.5, 1.5), reference=(map_first_order, spike_v, reset_v)),
    "NSATSecondOrder": dict(
        model=NSATSecondOrder,
        params=dict(alpha=np.array([-0.9, -0.85, -0.95, -0.7]), a1=np.array([-0.7, -0.5, -0.8, -0.6]),
                    a2=np.array([-0.7, -0.6, -0.5, -0.8]), c1=np.array([0.5, 1.2, 0.3, 1.0]),
                    b=np.array([0.1, 0.0, -0.05, 0.2]), sigma_eta=0.0, T=30.0, V_reset=-2.0),
        init=dict(V=np.array([0.0, 5.0, -2.0, 29.0]), I_syn=np.array([0.0, 1.0, 2.0, -1.0]),
                  I_s=np.array([0.5, 0.0, -1.0, 1.0])),
        weights=(-0.5, 1.5), reference=(map_second_order, spike_v, reset_v)),
    "NSATDualCompartment": dict(
        model=NSATDualCompartment,
        params=dict(alpha=np.array([-0.9, -0.85, -0.95, -0.8]), alpha12=np.array([0.02, 0.05, 0.0, 0.1]),
                    alpha21=np.array([0.05, 0.1, 0.02, 0.1]), a1=np.array([-0.7, -0.5, -0.8, -0.6]),
                    b=np.array([0.1, 0.0, -0.05, 0.2]), sigma_eta=0.0, T=8.0,
                    V_reset=np.array([0.0, -1.0, 0.5, 0.0])),
        init=dict(V1=np.array([0.0, 5.0, -2.0, 7.9]), V2=np.array([1.0, 0.0, 3.0, -1.0]),
                  I_syn=np.array([0.0, 1.0, 2.0, -1.0])),
        weights=(-0.5, 1.5), reference=(map_dual_compartment, spike_v1, reset_v1)),
    "NSATMihalasNiebur": dict(
        model=NSATMihalasNiebur,
        params=dict(alpha=np.array([0.9, 0.85, 0.95, 0.92]), alpha_1=np.array([-0.8, -0.7, -0.9, -0.5]),
                    alpha_2=np.array([-0.6, -0.5, -0.3, -0.9]), G=0.1, E_L=-0.5, I_e=0.05,
                    a=np.array([0.01, 0.02, 0.0, 0.02]), b=np.array([0.1, 0.2, 0.05, 0.1]),
                    V_reset=np.array([-0.2, 0.0, -0.5, 0.1]), Theta_reset=np.array([1.2, 1.0, 1.5, 1.1]),
                    I_1_reset=0.1, I_2_reset=-0.1, R_1=np.array([0.0, 1.0, 0.5, 0.0]),
                    R_2=np.array([1.0, 0.0, 1.0, 0.3]), R_Theta=np.array([0.0, 1.0, 0.0, 0.5]),
                    A_1=0.05, A_2=-0.03, A_Theta=np.array([0.1, 0.05, 0.0, 0.2])),
        init=dict(V=np.array([0.0, 0.5, -0.5, 1.0]), Theta=np.array([1.2, 1.0, 1.5, 1.1]),
                  I_1=np.array([0.0, 0.1, -0.1, 0.2]), I_2=np.array([0.05, 0.0, 0.1, -0.2])),
        weights=(-0.05, 0.15), reference=(map_mihalas_niebur, spike_mn, reset_mn)),
}


def make_inputs(rng, weights, steps=STEPS, n_in=N_IN, n_out=N_OUT, rate=0.1):
    """A Bernoulli spike raster (steps x n_in), all-to-all weights (n_in x n_out), I[t] = s[t] @ W."""
    raster = rng.random((steps, n_in)) < rate
    W = rng.uniform(*weights, size=(n_in, n_out))
    return raster, W


def simulate(model, params, init, raster, W, *, syn_model=Static, syn_params=None, device="runtime",
             steps=STEPS):
    """Run SpikeGeneratorGroup -> synapses -> NSAT group for ``steps`` steps of 1 ms; return the
    StateMonitor traces of every state variable and the set of (unit, step) spikes."""
    n_in, n_out = W.shape
    options = dict(target="numpy") if device == "runtime" else {}
    with use_device(device, **options):
        defaultclock.dt = 1 * ms
        steps_idx, units = np.nonzero(raster)
        gen = SpikeGeneratorGroup(n_in, units, steps_idx * ms, name="inputs")
        group = neuron_group(model, n_out, "nsat", **params)
        for var, value in init.items():
            setattr(group, var, value)
        pre, post = np.meshgrid(np.arange(n_in), np.arange(n_out), indexing="ij")
        syn = synapses(gen, group, syn_model, "syn", i=pre.ravel(), j=post.ravel(), **(syn_params or {}))
        syn.w = W.ravel()
        variables = sorted(init)
        state = StateMonitor(group, variables, record=True)
        spk = SpikeMonitor(group)
        Network(gen, group, syn, state, spk).run(steps * ms)
        traces = {v: np.array(getattr(state, v)) for v in variables}
        fired = {(int(i), int(step)) for i, step in zip(spk.i[:], np.round(spk.t_[:] / 1e-3))}
    return traces, fired


def assert_same(traces, spikes, ref_traces, ref_spikes, min_spikes=2):
    for var, ref in ref_traces.items():
        scale = max(1.0, np.abs(ref).max())
        np.testing.assert_allclose(traces[var], ref, rtol=RTOL, atol=RTOL * scale, err_msg=var)
    assert spikes == ref_spikes
    per_unit = np.bincount([i for i, _ in ref_spikes], minlength=len(next(iter(ref_traces.values()))))
    assert per_unit.min() >= min_spikes, f"the case should make every unit spike: {per_unit}"


def reference_for(case, raster, W, input_gain=1.0):
    step_map, spikes_when, reset = case["reference"]
    params = dict(NSAT_DEFAULTS[case["model"].name])
    params.update(case["params"])
    inputs = input_gain * (raster.astype(float) @ W)
    return iterate(step_map, spikes_when, reset, params, case["init"], inputs)


NSAT_DEFAULTS = {c["model"].name: c["model"].resolve() for c in CASES.values()}


# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_spec_iteration(name):
    """Static synapses: traces and spike steps equal the spec's discrete map to 1e-9 relative."""
    case = CASES[name]
    rng = np.random.default_rng(sorted(CASES).index(name) + 1)
    raster, W = make_inputs(rng, case["weights"])
    traces, spikes = simulate(case["model"], case["params"], case["init"], raster, W)
    ref_traces, ref_spikes = reference_for(case, raster, W)
    assert_same(traces, spikes, ref_traces, ref_spikes)
    assert len(spikes) < N_OUT * STEPS // 2, "the units should not spike every step"


@pytest.mark.parametrize("p_keep", [1.0, 0.0])
def test_blank_out_deterministic_limits(p_keep):
    """BlankOutSynapse with p_keep = 1 transmits every spike (the Static result), with 0 none."""
    case = CASES["NSATStochasticLIF"]
    rng = np.random.default_rng(11)
    raster, W = make_inputs(rng, case["weights"])
    seed(3)
    traces, spikes = simulate(case["model"], case["params"], case["init"], raster, W,
                              syn_model=BlankOutSynapse, syn_params=dict(p_keep=p_keep))
    ref_traces, ref_spikes = reference_for(case, raster, W, input_gain=p_keep)
    assert_same(traces, spikes, ref_traces, ref_spikes, min_spikes=2 if p_keep else 0)


def test_blank_out_mean():
    """Each event is transmitted with probability p_keep: with w = 1, no leak (alpha = -1) and no
    threshold, V counts the transmitted events; the fraction is within 4 standard errors of p_keep."""
    rng = np.random.default_rng(5)
    n_in, n_out, steps = 100, 40, 40
    raster = rng.random((steps, n_in)) < 0.5
    raster[-2:] = False  # every event arrives before the run ends
    W = np.ones((n_in, n_out))
    p_keep = np.where(np.arange(n_out) < n_out // 2, 0.45, 0.8)  # per post unit
    seed(7)
    traces, spikes = simulate(NSATStochasticLIF, dict(alpha=-1.0, T=1e12), dict(V=np.zeros(n_out)), raster,
                              W, syn_model=BlankOutSynapse,
                              syn_params=dict(p_keep=np.tile(p_keep, n_in)), steps=steps)
    assert not spikes
    final = traces["V"][:, -1]  # x[steps - 2], which holds all events
    np.testing.assert_array_equal(final, np.round(final))
    sent = raster.sum()  # events per post unit
    for p, units in ((0.45, slice(0, n_out // 2)), (0.8, slice(n_out // 2, None))):
        n = sent * (n_out // 2)
        fraction = final[units].sum() / n
        assert abs(fraction - p) < 4 * np.sqrt(p * (1 - p) / n), (p, fraction)
        per_unit = final[units] / sent
        assert np.all(np.abs(per_unit - p) < 5 * np.sqrt(p * (1 - p) / sent)), per_unit


@pytest.mark.parametrize("model", [NSATSecondOrder, NSATDualCompartment], ids=lambda m: m.name)
def test_gaussian_noise_eta(model):
    """With a1 = 0 and no other input, I_syn[t+1] = eta[t] + b: mean b, standard deviation sigma_eta,
    independent across steps."""
    n, steps, sigma, b = 50, 201, 0.7, 0.3
    params = dict(a1=0.0, b=b, sigma_eta=sigma, T=1e12)
    if model is NSATSecondOrder:
        params["c1"] = 0.0
        init = dict(V=np.zeros(n), I_syn=np.zeros(n), I_s=np.zeros(n))
    else:
        init = dict(V1=np.zeros(n), V2=np.zeros(n), I_syn=np.zeros(n))
    seed(13)
    traces, spikes = simulate(model, params, init, np.zeros((steps, 1), bool), np.zeros((1, n)), steps=steps)
    samples = traces["I_syn"][:, 1:]  # I_syn[0 .. steps - 2]
    m = samples.size
    assert abs(samples.mean() - b) < 4 * sigma / np.sqrt(m)
    assert abs(samples.std() / sigma - 1) < 4 / np.sqrt(2 * m)
    centred = samples - b
    lag1 = (centred[:, 1:] * centred[:, :-1]).mean() / sigma ** 2
    assert abs(lag1) < 4 / np.sqrt(m)


def test_mihalas_niebur_reset_and_jumps():
    """One forced spike: V, I_1, I_2 and Theta follow X = R X + (1 - R) X_reset + A exactly."""
    params = dict(alpha=0.5, I_e=1.0, G=0.0, b=0.0, a=0.0, alpha_1=-0.5, alpha_2=-0.5, V_reset=-1.0,
                  I_1_reset=0.25, I_2_reset=-0.25, Theta_reset=3.0, R_1=0.0, R_2=1.0, R_Theta=0.5,
                  A_1=0.5, A_2=0.125, A_Theta=1.0)
    init = dict(V=np.array([2.0]), Theta=np.array([2.0]), I_1=np.array([0.0]), I_2=np.array([1.0]))
    traces, spikes = simulate(NSATMihalasNiebur, params, init, np.zeros((4, 1), bool), np.zeros((1, 1)),
                              steps=4)
    # step 0: V = 0.5 * 2 + 1 + 0 + 1 = 3 >= Theta = 2 -> spike; I_2 = 0.5 before the reset.
    assert (0, 0) in spikes
    assert traces["V"][0, 1] == -1.0
    assert traces["I_1"][0, 1] == 0.25 + 0.5            # reset value + jump (R_1 = 0)
    assert traces["I_2"][0, 1] == 0.5 + 0.125           # kept + jump (R_2 = 1)
    assert traces["Theta"][0, 1] == 0.5 * 2 + 0.5 * 3 + 1.0


@pytest.mark.parametrize("name,bad", [
    ("NSATFirstOrder", dict(alpha=1.5)), ("NSATSecondOrder", dict(sigma_eta=-1)),
    ("NSATMihalasNiebur", dict(R_1=2.0)), ("NSATStochasticLIF", dict(tau=1))])
def test_parameter_checks(name, bad):
    with pytest.raises(ConfigError):
        CASES[name]["model"].resolve(**bad)
    with pytest.raises(ConfigError):
        BlankOutSynapse.resolve(p_keep=1.2)


@pytest.mark.parametrize("name", sorted(CASES))
def test_genn_code_generation(name, tmp_path):
    """Each model (the stochastic I&F with blank-out synapses) passes brian2genn code generation."""
    case = CASES[name]
    syn_model = BlankOutSynapse if name == "NSATStochasticLIF" else Static
    with use_device("genn", directory=str(tmp_path), compile=False, run=False):
        defaultclock.dt = 1 * ms
        gen = SpikeGeneratorGroup(3, [0, 1, 2], [1, 2, 3] * ms, name="inputs")
        group = neuron_group(case["model"], 3, "nsat")
        syn = synapses(gen, group, syn_model, "syn", i=[0, 1, 2], j=[0, 1, 2])
        syn.w = 1.0
        state = StateMonitor(group, sorted(case["init"]), record=True)
        Network(gen, group, syn, state, SpikeMonitor(group)).run(10 * ms)
    models = glob.glob(os.path.join(str(tmp_path), "*_model.cpp"))
    assert models, os.listdir(tmp_path)
    assert "nsat" in open(models[0]).read()


@pytest.mark.slow
def test_cpp_standalone_matches_spec_iteration():
    """The Mihalas-Niebur case on cpp_standalone gives the same traces and spikes."""
    case = CASES["NSATMihalasNiebur"]
    rng = np.random.default_rng(sorted(CASES).index("NSATMihalasNiebur") + 1)
    raster, W = make_inputs(rng, case["weights"])
    traces, spikes = simulate(case["model"], case["params"], case["init"], raster, W, device="cpp_standalone")
    ref_traces, ref_spikes = reference_for(case, raster, W)
    assert_same(traces, spikes, ref_traces, ref_spikes)
