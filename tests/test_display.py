"""Notebook displays: what Jupyter shows for a Codebook and a quantize() result."""

import base64
import re
from html.parser import HTMLParser

import imagecodecs
import numpy as np
import pytest

import vqimage
from vqimage import Codebook

VOID = {"img", "br", "hr", "rect", "line", "input", "meta"}


class _Balance(HTMLParser):
    """Checks that every element is closed in order (the display is embedded in a notebook's page)."""

    def __init__(self):
        super().__init__()
        self.stack, self.errors = [], []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)


def balanced(text: str) -> bool:
    parser = _Balance()
    parser.feed(text)
    parser.close()
    return not parser.errors and not parser.stack


def images(text: str) -> list[np.ndarray]:
    return [imagecodecs.png_decode(base64.b64decode(data)) for data in re.findall(r'data:image/png;base64,([^"]+)', text)]


def test_a_gray_codebook_shows_swatches_and_the_histogram_of_its_bins(camera):
    codebook = vqimage.fit(camera, 8)
    html = codebook._repr_html_()
    assert balanced(html)
    assert html.count('class="vq-swatch"') == 8 and html.count('class="vq-bin"') == 8
    assert html.count('class="vq-level"') == 8
    assert "<b>8 gray levels</b>" in html and "strategy <code>optimal</code>" in html and "262,144 pixels" in html
    # Each bin's tooltip gives its pixels, counted here by numpy (half-open bins, the last one closed).
    for count in np.histogram(camera, bins=codebook.edges)[0]:
        assert f"{int(count):,} pixels</title>" in html
    # The swatch grays are the levels, rounded; the shares printed under them add up to about 100%.
    for level in np.rint(codebook.levels).astype(int):
        assert f"background:rgb({level},{level},{level})" in html
    shares = [int(s) for s in re.findall(r">(\d+)%</div>", html)]
    assert len(shares) == 8 and 96 <= sum(shares) <= 104


def test_counts_are_known_to_gray_fits_and_stay_out_of_the_config(camera):
    codebook = vqimage.fit(camera, 4)
    np.testing.assert_array_equal(codebook.counts, np.bincount(vqimage.encode(camera, codebook).ravel(), minlength=4))
    rebuilt = Codebook.from_config(codebook.to_config())
    assert rebuilt == codebook and rebuilt.counts is None and "counts" not in codebook.to_config()
    within = vqimage.quantize(camera, max_error=4).codebook  # the max-error cover knows its counts too
    np.testing.assert_array_equal(within.counts, np.bincount(vqimage.encode(camera, within).ravel(),
                                                             minlength=within.n_levels))
    with pytest.raises(ValueError, match=r"counts are 2 finite weights >= 0, one per level. Got shape \(3,\)"):
        Codebook([1, 2], [0, 1.5, 3], strategy="edges", reconstruction="centroid", dtype=np.uint8, counts=[1, 2, 3])
    with pytest.raises(ValueError, match="counts are 2 finite weights >= 0"):
        Codebook([1, 2], [0, 1.5, 3], strategy="edges", reconstruction="centroid", dtype=np.uint8, counts=[1, -2])


def test_a_color_codebook_shows_its_colors_and_says_how_many_are_not_shown(astronaut):
    palette = vqimage.fit(astronaut, 16, mode="color")
    html = palette._repr_html_()
    assert balanced(html) and html.count('class="vq-swatch"') == 16 and "vq-histogram" not in html
    for r, g, b in palette.levels.astype(int):
        assert f"background:rgb({r},{g},{b})" in html
    many = vqimage.fit(astronaut, 300, mode="color")._repr_html_()
    assert many.count('class="vq-swatch"') == 256 and "... and 44 more" in many


def test_transparent_colors_show_over_a_checkerboard():
    levels = [[255, 0, 0, 255], [0, 0, 255, 128], [0, 0, 0, 0]]
    html = Codebook(levels, strategy="palette", reconstruction="palette", dtype=np.uint8, mode="color")._repr_html_()
    assert "rgba(0,0,255,0.502)" in html and "rgba(0,0,0,0)" in html and "rgba(255,0,0,1)" in html
    assert html.count("linear-gradient(45deg") == 2 * 2  # the two transparent swatches, two gradients each


def test_block_codewords_are_drawn_pixel_by_pixel(camera):
    blocks = vqimage.fit(camera, 4, mode="block", block=(2, 3))
    html = blocks._repr_html_()
    assert balanced(html) and html.count('class="vq-swatch"') == 4
    assert html.count("<rect ") == 4 * 6 and "<b>4 2x3 blocks</b>" in html


def test_a_result_shows_the_image_and_its_reconstruction_with_the_metrics(camera):
    result = vqimage.quantize(camera, 8)
    html = result._repr_html_()
    assert balanced(html)
    original, quantized = images(html)
    np.testing.assert_array_equal(original, camera)
    np.testing.assert_array_equal(quantized, result.reconstruction)
    mse = np.mean((camera.astype(float) - result.reconstruction) ** 2)
    assert f"<td>{mse:.4g}</td>" in html and f"{10 * np.log10(255**2 / mse):.2f} dB" in html
    assert html.count('class="vq-swatch"') == 8 and "Quantized(512x512 uint8 -&gt; 8 gray levels, optimal)" in html


def test_large_and_16_bit_images_are_shown_small_and_in_8_bits():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 65536, (1100, 700), dtype=np.uint16)
    result = vqimage.quantize(image, 4)
    original, quantized = images(result._repr_html_())
    assert original.shape == (367, 234) and original.dtype == np.uint8  # every 3rd pixel: at most 512 on a side
    np.testing.assert_array_equal(original, np.rint(image[::3, ::3] / 257.0).astype(np.uint8))
    np.testing.assert_array_equal(quantized, np.rint(result.reconstruction[::3, ::3] / 257.0).astype(np.uint8))


def test_color_results_and_notes_are_shown(astronaut):
    rgb16 = astronaut[:40, :50].astype(np.uint16) * 257
    result = vqimage.quantize(rgb16, 8)
    html = result._repr_html_()
    original, _ = images(html)
    np.testing.assert_array_equal(original, astronaut[:40, :50])
    assert "<th style='text-align:left;padding-right:8px'>note</th><td>16-bit color reduced" in html


def test_plain_reprs_stay_short(camera, astronaut):
    assert repr(vqimage.quantize("camera", 8)) == "Quantized(camera: 512x512 uint8 -> 8 gray levels, optimal)"
    assert repr(vqimage.fit(astronaut, 300, mode="color")) == (
        "Codebook(n_levels=300, mode='color', n_components=3, strategy='kmeans', reconstruction='centroid', "
        "dtype=uint8)")
