"""Plasticity rules: small pre -> post networks with hand-picked spike steps, final weights checked
against arithmetic written out here; every rule through brian2genn's code generation; the sBP rule
on cpp_standalone against runtime."""

import math

import numpy as np
import pytest
from brian2 import Network, SpikeGeneratorGroup, StateMonitor, defaultclock, ms, prefs

from spikingbp.circuits.build import neuron_group, sample_update, synapses
from spikingbp.devices import use_device
from spikingbp.errors import ConfigError
from spikingbp.models.neurons import LoihiCUBA, LoihiCUBAModulated
from spikingbp.models.plasticity import SBPRewardRule, ThreeFactorSTDP
from spikingbp.models.synapses import Static

DT = 1 * ms


@pytest.fixture(autouse=True)
def _numpy_runtime():
    """Runtime with the numpy target (no compilation); the previous target is restored afterwards."""
    previous = prefs.codegen.target
    prefs.codegen.target = "numpy"
    defaultclock.dt = DT
    yield
    prefs.codegen.target = previous


def source(name, steps):
    """A one-unit spike source firing at the given steps."""
    steps = np.asarray(steps, dtype=int)
    return SpikeGeneratorGroup(1, np.zeros(len(steps), dtype=int), steps * DT, name=name)


def unit(model, name, fire_steps, objects, **params):
    """A binary Loihi unit (decay 1, threshold 1024) firing exactly at ``fire_steps`` (all >= 1): a source
    spike at step s arrives at step s + 1 with weight 2048 > 1024."""
    drive = source(f"{name}_drive", np.asarray(fire_steps) - 1)
    group = neuron_group(model, 1, name, decay_u=1.0, decay_v=1.0, **params)
    relay = synapses(drive, group, Static, f"{name}_relay", i=[0], j=[0])
    relay.w = 2048
    objects += [drive, group, relay]
    return group


# ---------------------------------------------------------------------------------------------------
# sBP reward-gated coincidence rule
def sbp_network(pre_steps, post_steps, reward_steps, w0):
    """pre -> post with SBPRewardRule. ``reward_steps``: steps at which the reward is present; the source
    fires one step earlier (a reward spike at t - 1 is present at t)."""
    objects = []
    pre = unit(LoihiCUBA, "pre", pre_steps, objects)
    post = unit(LoihiCUBAModulated, "post", post_steps, objects)
    reward = source("reward", np.asarray(reward_steps) - 1)
    reward_in = synapses(reward, post, Static, "reward_in", target="mod_in", i=[0], j=[0])
    reward_in.w = 1
    plastic = synapses(pre, post, SBPRewardRule, "plastic", i=[0], j=[0])
    plastic.w = w0
    net = Network(objects + [reward, reward_in, plastic])
    duration = (max(max(pre_steps), max(post_steps), max(reward_steps)) + 3) * DT
    return net, plastic, post, duration


def run_sbp(pre_steps, post_steps, reward_steps, w0):
    net, plastic, _, duration = sbp_network(pre_steps, post_steps, reward_steps, w0)
    net.run(duration)
    return float(plastic.w[0])


def test_sbp_rewarded_and_unrewarded_coincidences():
    # coincidences at 3 (no reward), 7 and 12 (reward); reward alone at 5; pre alone at 15; post alone at 17
    w = run_sbp(pre_steps=[3, 7, 12, 15], post_steps=[3, 7, 12, 17], reward_steps=[5, 7, 12], w0=10)
    assert w == 10 - 2 + 2 + 2


def test_sbp_pairs_one_step_apart_do_not_learn():
    # pre 3 / post 4 and post 8 / pre 9, reward present throughout: no same-step coincidence
    w = run_sbp(pre_steps=[3, 9], post_steps=[4, 8], reward_steps=[3, 4, 8, 9], w0=10)
    assert w == 10


def test_sbp_clips_at_254_and_minus_254():
    # three rewarded coincidences from 252: 252 + 2 = 254, then clipped at 254 twice
    assert run_sbp(pre_steps=[2, 4, 6], post_steps=[2, 4, 6], reward_steps=[2, 4, 6], w0=252) == 254
    # three unrewarded coincidences from -252: -254, then clipped at -254 twice
    assert run_sbp(pre_steps=[2, 4, 6], post_steps=[2, 4, 6], reward_steps=[20], w0=-252) == -254


def test_sbp_reward_must_lead_by_one_step():
    # reward "present" at 6 (source at 5) is one step too late for the coincidence at 5: -2
    assert run_sbp(pre_steps=[5], post_steps=[5], reward_steps=[6], w0=0) == -2
    # reward present at 5 (source at 4): +2
    assert run_sbp(pre_steps=[5], post_steps=[5], reward_steps=[5], w0=0) == 2


def test_sbp_delivers_the_weight():
    # pre fires at 3, post is silent then: post v at step 4 is the weight (bias 0, decay 1)
    net, plastic, post, duration = sbp_network(pre_steps=[3], post_steps=[9], reward_steps=[9], w0=100)
    mon = StateMonitor(post, "v", record=0, when="end")
    net.add(mon)
    net.run(duration)
    assert mon.v[0][4] == 100
    assert plastic.w[0] == 100  # post alone at 9: no coincidence


def test_sbp_delivers_the_updated_weight():
    # pre and post fire together at 5 with reward: w 100 -> 102, and 102 (not 100) reaches post at step 6
    net, plastic, post, duration = sbp_network(pre_steps=[5], post_steps=[5], reward_steps=[5], w0=100)
    mon = StateMonitor(post, "v", record=0, when="end")
    net.add(mon)
    net.run(duration)
    assert plastic.w[0] == 102
    assert mon.v[0][6] == 102


# ---------------------------------------------------------------------------------------------------
# Three-factor STDP
STDP_PARAMS = dict(tau_plus=10 * ms, tau_minus=10 * ms, tau_e=50 * ms, A_plus=1.0, A_minus=-1.0, eta=2.0)


def stdp_network(pre_steps, post_steps, modulator_steps, w0, decay_mod=0.5):
    objects = []
    pre = unit(LoihiCUBA, "pre", pre_steps, objects)
    post = unit(LoihiCUBAModulated, "post", post_steps, objects, decay_mod=decay_mod)
    modulator = source("modulator", modulator_steps)
    mod_in = synapses(modulator, post, Static, "modulator_in", target="mod_in", i=[0], j=[0])
    mod_in.w = 1
    plastic = synapses(pre, post, ThreeFactorSTDP, "plastic", i=[0], j=[0], **STDP_PARAMS)
    plastic.w = w0
    return Network(objects + [modulator, mod_in, plastic]), plastic


def test_three_factor_stdp_weight_is_eta_mod_times_eligibility():
    # pre 2, post 4: e = A_plus e^-2/10 at step 4. Modulator spike at 9: mod = 1, 0.5, 0.25 at 10, 11, 12.
    # pre 12: e decays to e^-0.2 e^-8/50, gains apost = A_minus e^-8/10; w += eta * 0.25 * e
    net, plastic = stdp_network(pre_steps=[2, 12], post_steps=[4], modulator_steps=[9], w0=5.0)
    net.run(15 * DT)
    e12 = math.exp(-0.2) * math.exp(-8 / 50) - math.exp(-8 / 10)
    assert plastic.w[0] == pytest.approx(5.0 + 2.0 * 0.25 * e12, rel=1e-12)


def test_three_factor_stdp_needs_the_modulator():
    # the same spikes without a modulator (source fires after the end): the weight does not move
    net, plastic = stdp_network(pre_steps=[2, 12], post_steps=[4], modulator_steps=[40], w0=5.0)
    net.run(15 * DT)
    assert plastic.w[0] == 5.0
    assert plastic.elig[0] != 0.0


def test_rule_parameters_are_checked():
    with pytest.raises(ConfigError):
        SBPRewardRule.resolve(step=-2)
    with pytest.raises(ConfigError):
        ThreeFactorSTDP.resolve(tau_plus=5)  # needs units


# ---------------------------------------------------------------------------------------------------
# brian2genn code generation (no GeNN needed) and cpp_standalone
def _sbp():
    net, _, _, duration = sbp_network([3, 7], [3, 8], [7], w0=10)
    return net, duration


def _stdp():
    return stdp_network([2, 6], [4], [3], w0=5.0)[0], 8 * DT


@pytest.mark.parametrize("build", [_sbp, _stdp], ids=["SBPRewardRule", "ThreeFactorSTDP"])
def test_rule_passes_brian2genn_code_generation(build, tmp_path):
    with use_device("genn", directory=str(tmp_path), compile=False, run=False):
        defaultclock.dt = DT
        net, duration = build()
        net.run(duration)
    model = (tmp_path / "magicnetwork_model.cpp").read_text()
    assert "plasticWEIGHTUPDATE" in model


@pytest.mark.slow
def test_sbp_rule_cpp_standalone_matches_runtime(tmp_path):
    pre, post, reward = [3, 7, 12, 15], [3, 7, 12, 17], [5, 7, 12]
    expected = run_sbp(pre, post, reward, w0=10)
    assert expected == 12
    with use_device("cpp_standalone", directory=str(tmp_path)):
        defaultclock.dt = DT
        net, plastic, _, duration = sbp_network(pre, post, reward, w0=10)
        net.run(duration)
        assert float(plastic.w[0]) == expected


@pytest.mark.parametrize("rule", [SBPRewardRule, ThreeFactorSTDP], ids=lambda r: r.name)
def test_code_strings_have_no_comments(rule):
    # brian2genn copies code comments into GeNN's C++, where a trailing comment swallows a closing brace
    for code in (rule.on_pre, rule.on_post or ""):
        assert "#" not in code


def test_modulated_unit_spikes_like_loihi_cuba():
    # the modulator compartment and the clock do not touch u and v: same membrane trace as LoihiCUBA
    objects = []
    plain = unit(LoihiCUBA, "plain", [2, 3, 7], objects)
    modulated = unit(LoihiCUBAModulated, "modulated", [2, 3, 7], objects)
    reward = source("reward", [1, 2, 6])
    reward_in = synapses(reward, modulated, Static, "reward_in", target="mod_in", i=[0], j=[0])
    reward_in.w = 1
    mons = [StateMonitor(g, ["v", "u"], record=0, when="end") for g in (plain, modulated)]
    clock = StateMonitor(modulated, ["tnow", "mod"], record=0, when="end")
    Network(objects + [reward, reward_in, clock] + mons).run(10 * DT)
    assert np.array_equal(mons[0].v[0], mons[1].v[0]) and np.array_equal(mons[0].u[0], mons[1].u[0])
    assert np.allclose(clock.tnow[0] / ms, np.arange(10))  # time of the latest update, step by step
    assert list(clock.mod[0]) == [0, 0, 1, 1, 0, 0, 0, 1, 0, 0]  # reward spikes at 1, 2, 6 -> present at 2, 3, 7
