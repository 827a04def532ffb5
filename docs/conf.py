"""Sphinx configuration of the spikingbp documentation: ``make docs`` builds it into ``docs/_build/html``."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))

import spikingbp  # noqa: E402

project = "spikingbp"
author = "the spikingbp developers"
release = version = spikingbp.__version__
extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.autosummary", "sphinx.ext.napoleon",
              "sphinx.ext.mathjax", "results_tables"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3
napoleon_google_docstring = False
napoleon_numpy_docstring = True
autodoc_typehints = "none"           # the numpydoc sections say the types
autodoc_member_order = "bysource"
# Lava runs only on the Python 3.10 stack; the reference of spikingbp.lava is built from mocks of it elsewhere
autodoc_mock_imports = ["lava"]
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_theme_options = {"page_width": "1100px", "sidebar_width": "230px"}
html_static_path = []
