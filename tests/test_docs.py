"""The documentation's contract: a README of two screens whose links resolve, and numpydoc sections on every
function and class of the public API (the reference pages are generated from them; ``make docs`` builds the
site with warnings as errors)."""
import importlib
import inspect
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: the public API the reference documents (docs/api.md)
PUBLIC = ["spikingbp.config:TrainConfig", "spikingbp.training:train", "spikingbp.training:train_ensemble",
          "spikingbp.rundir:load_run", "spikingbp.algorithms:create", "spikingbp.algorithms:register",
          "spikingbp.algorithms.base:Algorithm", "spikingbp.circuits.circuit:Circuit",
          "spikingbp.models.base:NeuronModel", "spikingbp.models.base:SynapseModel", "spikingbp.models.base:Parameter",
          "spikingbp.devices:use_device", "spikingbp.lava.translate:translate", "spikingbp.lava.verify:verify",
          "spikingbp.lava.verify:verify_algorithm", "spikingbp.nirgraph:export_run", "spikingbp.nirgraph:write_graph",
          "spikingbp.nirgraph:circuit_from_nir", "spikingbp.sweep:run_sweep", "spikingbp.energy:measure",
          "spikingbp.energy:estimate", "spikingbp.reproduce:reproduce", "spikingbp.analysis.evaluation:evaluate_run",
          "spikingbp.analysis.alignment:alignment"]
ALGORITHM_METHODS = ["encode", "init_params", "plan", "evaluate", "circuit", "learned_params"]


def _object(name: str):
    module, attribute = name.split(":")
    return getattr(importlib.import_module(module), attribute)


@pytest.mark.parametrize("name", PUBLIC + [f"spikingbp.algorithms.base:Algorithm.{m}" for m in ALGORITHM_METHODS])
def test_every_public_function_documents_its_parameters(name):
    module, path = name.split(":")
    thing = importlib.import_module(module)
    for part in path.split("."):
        thing = getattr(thing, part)
    doc = inspect.getdoc(thing) or ""
    assert re.search(r"^Parameters\n-{10}$", doc, re.M), f"{name} has no numpydoc Parameters section"
    documented = set(re.findall(r"^(\**\w+(?:, \w+)*)(?: :|$)", doc.split("Parameters\n----------")[1], re.M))
    names = {n.strip("*") for entry in documented for n in entry.split(", ")}
    target = thing.__init__ if inspect.isclass(thing) and "__init__" in vars(thing) else thing
    if inspect.isclass(thing) and hasattr(thing, "__dataclass_fields__"):
        wanted = set(thing.__dataclass_fields__)
    else:
        wanted = {p.name for p in inspect.signature(target).parameters.values() if p.name not in ("self", "cls")}
    assert wanted <= names, f"{name}: parameters without a description: {sorted(wanted - names)}"


def test_the_api_page_lists_every_public_name():
    page = (ROOT / "docs" / "api.md").read_text()
    for name in PUBLIC:
        assert name.replace(":", ".") in page, name


def test_readme_is_two_screens_and_its_links_resolve():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.encode()) < 12 * 1024
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme)
    assert len(links) >= 10
    for link in links:
        assert not link.startswith("http"), link
        assert (ROOT / link).exists(), f"README links to {link}, which does not exist"
