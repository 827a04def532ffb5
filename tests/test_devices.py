"""Device selection: names, options, the GeNN look-up, and a clean state after every use."""
import pytest
from brian2 import defaultclock, get_device, ms, prefs
from brian2.devices.device import RuntimeDevice

from spikingbp.devices import DEVICES, available_devices, find_genn, use_device
from spikingbp.errors import DeviceError


def test_unknown_device_names_the_choices():
    with pytest.raises(DeviceError, match="unknown device 'loihi'.*runtime"):
        with use_device("loihi"):
            pass


@pytest.mark.parametrize("kwargs, message", [
    (dict(name="runtime", target="c++"), "code target"),
    (dict(name="cpp_standalone", threads=-1), "threads"),
    (dict(name="genn", compile=False, run=True), "run=True needs compile=True"),
])
def test_bad_options(kwargs, message):
    with pytest.raises(DeviceError, match=message):
        with use_device(**kwargs):
            pass


def test_genn_without_genn_path_says_how_to_fix(monkeypatch):
    monkeypatch.delenv("GENN_PATH", raising=False)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    import brian2genn  # noqa: F401  (registers the preference)
    monkeypatch.setitem(prefs, "devices.genn.path", None)
    assert find_genn() is None
    with pytest.raises(DeviceError, match="GENN_PATH"):
        with use_device("genn"):
            pass
    assert available_devices()["genn"][0] is False


def test_cuda_without_brian2cuda(monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "brian2cuda" else real_find_spec(name, *a))
    with pytest.raises(DeviceError, match=r"spikingbp\[cuda\]"):
        with use_device("cuda"):
            pass


@pytest.mark.genn   # brian2genn's preference changes are what it restores
def test_state_is_restored_after_each_device(tmp_path):
    defaultclock.dt = 1 * ms
    target = prefs.codegen.target
    with use_device("genn", directory=str(tmp_path / "g"), compile=False, run=False):
        assert defaultclock.dt == 1 * ms  # dt carries over into the device
    assert isinstance(get_device(), RuntimeDevice)
    assert prefs.codegen.target == target
    default_schedule = ["start", "groups", "thresholds", "synapses", "resets", "end"]
    assert prefs["core.network.default_schedule"] == default_schedule
    with use_device("runtime"):  # brian2genn's schedule must not come back with a later device switch
        assert prefs["core.network.default_schedule"] == default_schedule
    assert set(available_devices()) == set(DEVICES)
