"""Interruptions and failures at any moment: one line, the documented exit code, nothing left behind."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

import vqimage
from vqimage.cli import main
from vqimage.pipeline import Quantized

ENV = os.environ | {"PYTHONWARNINGS": "ignore"}


def launch(code: str, *args, cwd):
    """Run the console entry point (src/_vqimage_launcher.py) after ``code``, in a fresh interpreter."""
    return subprocess.run([sys.executable, "-c", f"{code}\nimport _vqimage_launcher; _vqimage_launcher.run()", *args],
                          capture_output=True, text=True, env=ENV, cwd=cwd, timeout=120)


def test_ctrl_c_while_the_package_imports_is_one_line(tmp_path):
    """The entry point lives outside the package, so an interrupt during ``import vqimage.cli`` is caught."""
    interrupt = ("import sys\nclass Stop:\n    def find_spec(self, name, path=None, target=None):\n"
                 "        if name == 'vqimage.cli': raise KeyboardInterrupt\nsys.meta_path.insert(0, Stop())")
    done = launch(interrupt, "quantize", "camera", "-k", "4", "-o", "out.png", cwd=tmp_path)
    assert (done.returncode, done.stderr, done.stdout) == (130, "vqimage: interrupted\n", "")
    assert list(tmp_path.iterdir()) == []


def test_sigterm_while_the_package_imports_is_one_line(tmp_path):
    terminate = ("import os, signal, sys, time\nclass Stop:\n    def find_spec(self, name, path=None, target=None):\n"
                 "        if name == 'vqimage.cli': os.kill(os.getpid(), signal.SIGTERM); time.sleep(30)\n"
                 "sys.meta_path.insert(0, Stop())")
    done = launch(terminate, "quantize", "camera", "-k", "4", "-o", "out.png", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (143, "vqimage: terminated\n")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("delay", [0.2, 0.6, 1.2])
def test_ctrl_c_at_any_later_moment_exits_130_or_finishes(tmp_path, delay):
    """Whenever the interrupt lands -- imports, fitting, dithering, writing -- the outcome is one of two."""
    process = subprocess.Popen([sys.executable, "-c", "import _vqimage_launcher; _vqimage_launcher.run()",
                                "quantize", "astronaut", "-k", "64", "-o", "out.png"], cwd=tmp_path, env=ENV,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    left = sorted(p.name for p in tmp_path.iterdir())
    if process.returncode == 130:
        assert err == "vqimage: interrupted\n" and left == []  # no output, no temporary file
    else:  # it had finished (a slow machine is not a failure)
        assert process.returncode in (0, -signal.SIGINT) and left == ["out.png"], (process.returncode, err)
        assert "wrote out.png" in err


def test_a_metric_that_fails_leaves_no_output(tmp_path, monkeypatch, capsys):
    """Everything that can fail runs before the rename: SSIM running out of memory writes nothing."""

    def no_memory(self):
        raise MemoryError("Unable to allocate 2.98 GiB for an array with shape (20000, 20000)")

    monkeypatch.setattr(Quantized, "metrics", property(no_memory))
    assert main(["quantize", "camera", "-k", "4", "-o", str(tmp_path / "out.png")]) == 1
    assert "vqimage: error: Unable to allocate 2.98 GiB" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    # A batch finishes the others; the failing file has its reason and no output.
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "a.png")
    assert main(["quantize", str(tmp_path / "a.png"), "camera", "-k", "4", "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.count("failed: ") == 2 and "Unable to allocate" in err
    assert list((tmp_path / "out").iterdir()) == []


def test_quiet_runs_measure_nothing_and_still_write(tmp_path, monkeypatch, camera):
    def unmeasured(self):
        raise AssertionError("-q computes no metrics")

    monkeypatch.setattr(Quantized, "metrics", property(unmeasured))
    assert main(["quantize", "camera", "-k", "4", "-q", "-o", str(tmp_path / "out.png")]) == 0
    expected = vqimage.quantize(camera, 4)
    with Image.open(tmp_path / "out.png") as written:
        np.testing.assert_array_equal(np.asarray(written.convert("L")), expected.reconstruction)
    assert len(np.unique(expected.reconstruction)) == 4


def test_a_closed_stdout_is_exit_1_without_a_traceback(tmp_path):
    process = subprocess.Popen([sys.executable, "-c", "import _vqimage_launcher; _vqimage_launcher.run()", "quantize",
                                "camera", "-k", "4", "--format", "png", "-o", "-"], cwd=tmp_path, env=ENV,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # as `vqimage ... -o - | head -c 0` would
    _, err = process.communicate(timeout=120)
    assert process.returncode == 1 and b"Traceback" not in err


def test_vqimage_debug_shows_the_traceback(monkeypatch):
    monkeypatch.setenv("VQIMAGE_DEBUG", "1")
    with pytest.raises(FileNotFoundError, match="no-such-file.png: no such file"):
        main(["quantize", "no-such-file.png", "-k", "4", "-o", "x.png"])


def test_library_warnings_stay_off_stderr_unless_verbose(tmp_path, monkeypatch, capsys):
    import warnings

    summary = Quantized.summary

    def noisy(self):
        warnings.warn("noisy library", RuntimeWarning)
        return summary(self)

    monkeypatch.setattr(Quantized, "summary", noisy)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning that got through would fail the run
        assert main(["quantize", "camera", "-k", "4", "-o", str(tmp_path / "a.png")]) == 0
        assert "noisy" not in capsys.readouterr().err
        assert main(["quantize", "camera", "-k", "4", "-v", "-o", str(tmp_path / "b.png")]) == 1
        assert "vqimage: error: noisy library" in capsys.readouterr().err
