"""Sphinx configuration of vqimage's documentation (``make docs``).

Sphinx + sphinx-gallery (docs/examples -> auto_examples) + numpydoc (API pages
from the docstrings, one per function or class) + pydata-sphinx-theme, all
offline: no intersphinx, no remote images. Warnings are errors (the Makefile
runs ``sphinx-build -W --keep-going``).
"""

import os
import sys
import warnings
from pathlib import Path

import vqimage

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

# The examples run offline: the face comes from the project's cache (Makefile's
# FACE_ENV) or the examples fall back to scikit-image's camera; never a download.
os.environ.setdefault("VQIMAGE_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
# Figures and printed output are identical from run to run: no progress bars or
# terminal-dependent widths in the pages.
os.environ["COLUMNS"] = "100"

project = "vqimage"
author = "vqimage developers"
copyright = "vqimage developers, BSD-3-Clause"
release = vqimage.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
    "vqimage_cli",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "examples", "auto_examples/*.ipynb", "auto_examples/*.py", "auto_examples/*.zip",
                    "auto_examples/*.json", "auto_examples/*.md5", "**/*.codeobj.json"]
default_role = "py:obj"
# Unlabelled literal blocks (FORMAT.md's byte table, --help texts) are shown as plain text.
highlight_language = "none"
# FORMAT.md (included as the format page) shows its JSON header with "..." for
# elided digits, which Pygments cannot lex as JSON; it is shown unhighlighted.
suppress_warnings = ["misc.highlighting_failure"]

# API: autosummary writes one page per object listed under :toctree: in api.rst.
autosummary_generate = True
autosummary_imported_members = False
# vqimage.histogram (the function) and vqimage.Histogram (the class) must not
# share a file name on case-insensitive file systems.
autosummary_filename_map = {"vqimage.histogram": "vqimage.histogram_function"}
autodoc_typehints = "none"  # numpydoc's Parameters sections say the types

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = True

myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

# Gallery: docs/examples/*.py run at build time; each page gets its figures,
# printed output and .py / .ipynb downloads.
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 1,
    "capture_repr": ("_repr_html_", "__repr__"),
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "show_api_usage": False,
    "write_computation_times": False,
}
warnings.filterwarnings("ignore", category=UserWarning, message="Matplotlib is currently using agg")

html_theme = "pydata_sphinx_theme"
html_title = f"vqimage {release}"
html_static_path = ["_static"]
html_css_files = ["vqimage.css"]
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
# The examples get the full width (their code and tables are wide); the gallery index lists them.
html_sidebars = {"index": [], "auto_examples/plot_*": []}
html_show_sourcelink = True
html_copy_source = True


def _skip_foreign_members(app, what, name, obj, skip, options):
    """Leave out members that scikit-learn's base classes add to KBinsQuantizer (set_*_request, ...):
    their docstrings are scikit-learn's and refer to its own documentation."""
    if (getattr(obj, "__module__", None) or "").startswith("sklearn."):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_foreign_members)
