"""The HTML report: one self-contained file with every section, legible figures."""

import re

import numpy as np
import pytest

from vqimage.cli import main
from vqimage.report.html import SWEEP_LEVELS, report_html, write_report


@pytest.fixture(scope="module")
def camera_report(camera):
    return report_html(camera[::2, ::2], "camera", n_levels=8)


def test_report_is_one_self_contained_page(camera_report):
    images = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,', camera_report)
    assert images == ["Side by side", "Histograms with the levels", "Error maps", "Rate and distortion"]
    # Nothing to fetch: no scripts, no external sources or stylesheets.
    assert "<script" not in camera_report and not re.search(r'(src|href)="(?!data:)', camera_report)
    for strategy in ("uniform", "quantile", "kmeans", "optimal"):
        assert f"<td>{strategy}</td><td>" in camera_report  # a table row per strategy
    assert "Where transform codecs win:" in camera_report and ("JPEG" in camera_report and "WebP" in camera_report)
    assert ", ".join(map(str, SWEEP_LEVELS)) in camera_report


def test_report_rows_are_the_measured_numbers(camera, camera_report):
    import vqimage

    image = camera[::2, ::2]
    cb = vqimage.fit(image, 8)
    psnr = vqimage.metrics.psnr(image, vqimage.decode(vqimage.encode(image, cb), cb))
    assert f"<td>optimal</td><td>8</td><td>{vqimage.metrics.mse(image, vqimage.decode(vqimage.encode(image, cb), cb)):.2f}</td>" \
           f"<td>{psnr:.2f}</td>" in camera_report
    score = vqimage.metrics.ssimulacra2(image, vqimage.decode(vqimage.encode(image, cb), cb))  # the perceptual column
    assert "<th>SSIMULACRA2</th>" in camera_report
    assert re.search(rf"<td>optimal</td><td>8</td>.*<td>{score:.1f}</td><td>[0-9.]+</td></tr>", camera_report)


def test_report_cli_writes_one_file_and_refuses_to_overwrite(tmp_path, capsys):
    assert main(["report", "coins", "-k", "4", "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out.strip()
    assert out == str(tmp_path / "coins-report.html") and [p.name for p in tmp_path.iterdir()] == ["coins-report.html"]
    assert main(["report", "coins", "-o", str(tmp_path)]) == 1
    assert "exists; use --force" in capsys.readouterr().err


def test_report_refuses_float_images(tmp_path):
    with pytest.raises(ValueError, match="8- or 16-bit image"):
        write_report(np.zeros((8, 8)), "zeros", tmp_path)
