"""The documentation: its sources cover the API and the command line; the built site holds together.

The source checks always run (they are cheap). The site checks run when
docs/_build/html exists -- ``make docs`` builds it and then runs this file with
VQIMAGE_DOCS=1, which makes a missing site a failure rather than a skip:

- every local ``href`` / ``src`` of every page points at a file that exists,
  every ``#fragment`` of a local page at an id on that page, and every image
  decodes;
- the gallery pages have their figures, their printed output and their
  .py / .ipynb downloads;
- with Chromium installed, the front page and the seed example render to
  screenshots that are not blank.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SITE = DOCS / "_build" / "html"
SEED_PAGE = SITE / "auto_examples" / "plot_01_vector_quantization_done_right.html"
EXAMPLES = sorted((DOCS / "examples").glob("plot_*.py"))

needs_site = pytest.mark.skipif(
    not (SITE / "index.html").is_file() and not os.environ.get("VQIMAGE_DOCS"),
    reason="the documentation is not built (make docs)",
)


# --- sources -------------------------------------------------------------------------------------------


def _commands() -> set[str]:
    """The subcommands that `vqimage --help` lists."""
    from vqimage.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["--help"]) == 0
    listing = out.getvalue().split("\nCommands:\n", 1)[1].split("\n\n", 1)[0]
    return set(re.findall(r"^  ([a-z][a-z-]*)\s", listing, flags=re.MULTILINE))


def test_cli_page_shows_every_subcommand():
    documented = set(re.findall(r"^\.\. vqimage-help:: ([a-z-]+)\s*$", (DOCS / "guide" / "cli.rst").read_text(),
                                flags=re.MULTILINE))
    commands = _commands()
    assert len(commands) == 8, commands  # quantize, compress, decompress, info, compare, report, demo, images
    assert documented == commands


def _api_names() -> set[str]:
    text = (DOCS / "api.rst").read_text()
    return {"vqimage." + name for name in re.findall(r"^   ([A-Za-z_][\w.]*)\s*$", text, flags=re.MULTILINE)}


def test_api_reference_lists_the_public_api():
    import vqimage

    listed = _api_names()
    # The top-level API: every name of vqimage.__all__ except the metrics module (its functions are
    # listed one by one) and the BUILTINS tuple (data, named in load_image's page).
    top = {f"vqimage.{name}" for name in vqimage.__all__} - {"vqimage.metrics", "vqimage.BUILTINS"}
    assert top <= listed, sorted(top - listed)
    metrics = {f"vqimage.metrics.{name}" for name in vqimage.metrics.__all__ if name != "SSIM_CHEAP_VALUES"}
    assert metrics <= listed, sorted(metrics - listed)


def test_examples_are_gallery_scripts():
    assert len(EXAMPLES) == 7
    for path in EXAMPLES:
        text = path.read_text()
        # sphinx-gallery: a docstring with an over- and underlined title first, then `# %%` cells.
        assert re.match(r'"""\n(=+)\n[^\n]+\n\1\n', text), path.name
        assert text.count("\n# %%\n") >= 3, path.name


# --- the built site ------------------------------------------------------------------------------------


class _Page(HTMLParser):
    """The local references (href, src, srcset) and the ids of one HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[str, str]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key) and (key == "id" or tag == "a"):
                self.ids.add(attrs[key])
        for key in ("href", "src"):
            if attrs.get(key):
                self.refs.append((tag, attrs[key]))
        for candidate in (attrs.get("srcset") or "").split(","):
            if candidate.strip():
                self.refs.append((tag, candidate.split()[0]))


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


@pytest.fixture(scope="module")
def site():
    if not (SITE / "index.html").is_file():
        pytest.fail(f"VQIMAGE_DOCS is set but {SITE} has no index.html: run make docs")
    # _static/ holds the theme's assets, among them an HTML template (webpack-macros.html) that is no page.
    return {path: _parse(path) for path in sorted(SITE.rglob("*.html")) if "_static" not in path.parts}


def _local(ref: str) -> tuple[str, str] | None:
    """(path, fragment) of a reference inside the site, None for external ones."""
    parts = urlsplit(ref)
    if parts.scheme or parts.netloc or ref.startswith(("mailto:", "javascript:", "data:")):
        return None
    return unquote(parts.path), unquote(parts.fragment)


@needs_site
def test_every_local_link_and_image_exists(site):
    broken, fragments = [], []
    for page_path, page in site.items():
        for tag, ref in page.refs:
            local = _local(ref)
            if local is None:
                continue
            path, fragment = local
            target = (page_path.parent / path).resolve() if path else page_path
            if path.endswith("/") or target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{page_path.relative_to(SITE)}: <{tag}> {ref}")
            elif fragment and target.suffix == ".html" and target in site and fragment not in site[target].ids:
                fragments.append(f"{page_path.relative_to(SITE)}: <{tag}> {ref}")
    assert not broken, f"{len(broken)} broken local references:\n" + "\n".join(broken[:40])
    assert not fragments, f"{len(fragments)} links to missing anchors:\n" + "\n".join(fragments[:40])


@needs_site
def test_every_image_decodes(site):
    from PIL import Image

    images = {
        (page_path.parent / _local(ref)[0]).resolve()
        for page_path, page in site.items()
        for tag, ref in page.refs
        if tag == "img" and _local(ref) and _local(ref)[0].lower().endswith((".png", ".jpg", ".jpeg"))
    }
    assert len(images) >= 20  # the gallery's figures and thumbnails
    for path in images:
        with Image.open(path) as image:
            image.verify()


@needs_site
def test_pages_exist_for_everything(site):
    pages = {path.relative_to(SITE).as_posix() for path in site}
    for name in ("index.html", "api.html", "guide/install.html", "guide/pipeline.html", "guide/cli.html",
                 "guide/format.html", "auto_examples/index.html"):
        assert name in pages
    generated = {p.removeprefix("generated/").removesuffix(".html") for p in pages if p.startswith("generated/")}
    listed = {name if name != "vqimage.histogram" else "vqimage.histogram_function" for name in _api_names()}
    assert generated == listed  # one page per function or class, and no other


@needs_site
def test_gallery_pages_have_figures_output_and_downloads(site):
    for example in EXAMPLES:
        html = SITE / "auto_examples" / f"{example.stem}.html"
        assert html in site, html
        text = html.read_text(encoding="utf-8")
        figures = [ref for tag, ref in site[html].refs if tag == "img" and "/sphx_glr_" in ref]
        assert figures, f"{example.name}: no figure"
        assert "sphx-glr-script-out" in text, f"{example.name}: no printed output"
        assert "Traceback (most recent call last)" not in text, f"{example.name}: an error in its output"
        downloads = {Path(_local(ref)[0]).suffix for tag, ref in site[html].refs
                     if tag == "a" and _local(ref) and f"{example.stem}." in ref}
        assert {".py", ".ipynb"} <= downloads, f"{example.name}: downloads {downloads}"


def _chromium() -> str | None:
    return next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(name)), None)


@needs_site
@pytest.mark.skipif(_chromium() is None, reason="Chromium is not installed")
@pytest.mark.parametrize("page", [SITE / "index.html", SEED_PAGE], ids=["index", "seed-example"])
def test_page_renders_in_chromium(page, tmp_path):
    from PIL import Image

    shot = tmp_path / "page.png"
    command = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,2400",
               "--virtual-time-budget=5000", f"--screenshot={shot}", page.as_uri()]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    with Image.open(shot) as image:
        pixels = np.asarray(image.convert("L"))
    assert pixels.shape == (2400, 1280)
    # A rendered page: text and figures, not a blank (or all-dark) canvas.
    assert pixels.std() > 15
    assert (pixels < 128).mean() > 0.01
    if page == SEED_PAGE:
        # The first figure (the gray face and its histogram) shows in the first screen: many gray shades.
        assert len(np.unique(pixels)) > 100
